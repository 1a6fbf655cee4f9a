//! A generated program: initial registers, the data region, and a list of items (short
//! instruction groups) between a fixed prologue and epilogue; its encoding as an ELF.
//!
//! Memory layout (the same in both machines), for a program in slot 0:
//! - text at [`TEXT_BASE`]: the prologue (`li` of x1..x31), the items, the epilogue;
//! - data at [`DATA_BASE`], [`DATA_LEN`] bytes of initial data (loads and stores go here),
//!   then the register dump at [`DUMP`] (x0..x31, one word each).
//!
//! A program in slot `k` (of [`SLOTS`]) has its text [`TEXT_STRIDE`]` * k` and its data
//! [`DATA_STRIDE`]` * k` higher ([`place`]), so that up to [`SLOTS`] programs can share one
//! qemu process ([`Program::batch_elf`]: each program's epilogue jumps to the next one after
//! its `write`); our machine always runs the program alone, at the same addresses.
//!
//! The epilogue, reached by every path that does not fault, stores x1..x31 at [`DUMP`]
//! through the program's *reserved* register (the one register the items never write; its
//! final value is [`DUMP`]), then `write(1, DATA_BASE, OUT_LEN)` and `exit(0)`. Our machine
//! stops at the first `ecall` (machine mode, no `mtvec`: an unhandled environment call);
//! qemu-user performs the system calls.

use crate::encode::{self, addi, auipc, b, jal, jalr, li, s, ECALL};
use ee_riscv::elf::writer::{Image, Section};

pub const TEXT_BASE: u32 = 0x8000_0000;
pub const DATA_BASE: u32 = 0x8010_0000;
/// Initial data that loads and stores address.
pub const DATA_LEN: u32 = 0x800;
/// Where the epilogue stores x0..x31.
pub const DUMP: u32 = DATA_BASE + DATA_LEN;
/// Bytes qemu writes to stdout and we read from our memory: the data region and the dump.
pub const OUT_LEN: u32 = DATA_LEN + 128;
/// The data segment (page-sized, so that qemu maps exactly it).
pub const DATA_SEGMENT: u32 = 0x1000;
/// Programs per qemu process, and the slots they occupy.
pub const SLOTS: u32 = 64;
pub const TEXT_STRIDE: u32 = 0x2000;
pub const DATA_STRIDE: u32 = 0x1000;

/// `addr` (an address of a slot-0 program) as the program in `slot` sees it: text and data
/// addresses move with the slot, others (unmapped memory) stay.
pub fn place(addr: u32, slot: u32) -> u32 {
    if addr.wrapping_sub(TEXT_BASE) < TEXT_STRIDE {
        addr + slot * TEXT_STRIDE
    } else if addr.wrapping_sub(DATA_BASE) < DATA_STRIDE {
        addr + slot * DATA_STRIDE
    } else {
        addr
    }
}

/// Registers the epilogue sets for the `write` call before our machine stops at the
/// `ecall`: a0, a1, a2, a7 (their program values are compared through the dump).
pub const SYSCALL_REGS: [usize; 4] = [10, 11, 12, 17];

/// One group of instructions. Jumps and branches skip a number of following *items* (a
/// target past the last item is the epilogue), so every target is the start of an item
/// and removing items (minimization) keeps programs well-formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// One instruction that does not transfer control (ALU, `lui`, `auipc`, fences), or a
    /// deliberately illegal or `ebreak` word.
    Insn(u32),
    /// `rd = value` (`lui` + `addi`).
    Li { rd: u8, value: u32 },
    /// `li base, addr - imm` then the load `f3` of `rd` from `imm(base)`.
    Load { f3: u32, rd: u8, base: u8, addr: u32, imm: i32 },
    /// `li base, addr - imm` then the store `f3` of `rs2` to `imm(base)`.
    Store { f3: u32, rs2: u8, base: u8, addr: u32, imm: i32 },
    /// A forward branch over `skip` items; `misalign` adds 2 to the offset (a taken branch
    /// then faults: instruction address misaligned).
    Branch { f3: u32, rs1: u8, rs2: u8, skip: u32, misalign: bool },
    /// `jal rd` over `skip` items (`misalign`: offset + 2, a fault).
    Jal { rd: u8, skip: u32, misalign: bool },
    /// `auipc rt, 0; jalr rd, low + offset(rt)` over `skip` items: `low` 1 is cleared by
    /// `jalr`, 2 and 3 make the target misaligned (a fault).
    Jalr { rd: u8, rt: u8, skip: u32, low: i32 },
    /// `li rt, addr; jalr rd, 0(rt)`: a jump out of the program (to unmapped memory: a fault).
    JumpAbs { rd: u8, rt: u8, addr: u32 },
    /// A counted loop: `addi counter, x0, count; body; addi counter, counter, -1;
    /// bne counter, x0, body`. The body never writes the counter.
    Loop { counter: u8, count: u32, body: Vec<u32> },
}

impl Item {
    /// Instructions the item encodes to.
    pub fn len(&self) -> u32 {
        match self {
            Item::Insn(_) | Item::Branch { .. } | Item::Jal { .. } => 1,
            Item::Li { .. } | Item::Jalr { .. } => 2,
            Item::Load { .. } | Item::Store { .. } | Item::JumpAbs { .. } => 3,
            Item::Loop { body, .. } => body.len() as u32 + 3,
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    fn encode(&self, pc: u32, target: u32, slot: u32, out: &mut Vec<u32>) {
        let rel = |from: u32| target.wrapping_sub(from) as i32;
        match *self {
            Item::Insn(w) => out.push(w),
            Item::Li { rd, value } => out.extend(li(rd, value)),
            Item::Load { f3, rd, base, addr, imm } => {
                out.extend(li(base, place(addr, slot).wrapping_sub(imm as u32)));
                out.push(encode::i(imm, base, f3, rd, 0x03));
            }
            Item::Store { f3, rs2, base, addr, imm } => {
                out.extend(li(base, place(addr, slot).wrapping_sub(imm as u32)));
                out.push(s(imm, rs2, base, f3));
            }
            Item::Branch { f3, rs1, rs2, misalign, .. } => out.push(b(rel(pc) + 2 * i32::from(misalign), rs2, rs1, f3)),
            Item::Jal { rd, misalign, .. } => out.push(jal(rel(pc) + 2 * i32::from(misalign), rd)),
            Item::Jalr { rd, rt, low, .. } => {
                out.push(auipc(rt, 0));
                out.push(jalr(rd, rt, rel(pc) + low));
            }
            Item::JumpAbs { rd, rt, addr } => {
                out.extend(li(rt, addr));
                out.push(jalr(rd, rt, 0));
            }
            Item::Loop { counter, count, ref body } => {
                out.push(addi(counter, 0, count as i32));
                out.extend(body);
                out.push(addi(counter, counter, -1));
                out.push(b(-4 * (body.len() as i32 + 1), 0, counter, 1));
            }
        }
    }

    /// The number of items a jump or branch skips.
    fn skip(&self) -> u32 {
        match *self {
            Item::Branch { skip, .. } | Item::Jal { skip, .. } | Item::Jalr { skip, .. } => skip,
            _ => 0,
        }
    }
}

/// A whole generated program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Values the prologue gives x1..x31 (`init[0]` is unused).
    pub init: [u32; 32],
    /// The register the items never write; the epilogue's base register.
    pub reserved: u8,
    /// The initial data region ([`DATA_LEN`] bytes).
    pub data: Vec<u8>,
    pub items: Vec<Item>,
    /// Where the program lives ([`place`]): `0..SLOTS`.
    pub slot: u32,
    /// Whether the generator put a faulting item in (such programs run alone on qemu).
    pub faulting: bool,
    /// Whether our machine supports misaligned data accesses (the bootloader's
    /// configuration, `Config::riscv_tests`) or traps on them (`Config::default`).
    pub misaligned_access: bool,
}

impl Program {
    pub fn text_base(&self) -> u32 {
        TEXT_BASE + self.slot * TEXT_STRIDE
    }

    pub fn data_base(&self) -> u32 {
        DATA_BASE + self.slot * DATA_STRIDE
    }

    /// The text: prologue, items, epilogue; after its `write` the epilogue exits, or with
    /// `next` jumps there.
    pub fn text(&self, next: Option<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        for r in 1..32u8 {
            out.extend(li(r, self.init[r as usize]));
        }
        // Item start addresses, and the epilogue's after the last.
        let mut starts = Vec::with_capacity(self.items.len() + 1);
        let mut pc = self.text_base() + 4 * out.len() as u32;
        for item in &self.items {
            starts.push(pc);
            pc += 4 * item.len();
        }
        starts.push(pc);
        for (k, item) in self.items.iter().enumerate() {
            let to = (k + 1 + item.skip() as usize).min(self.items.len());
            item.encode(starts[k], starts[to], self.slot, &mut out);
        }
        out.extend(epilogue(self.reserved, self.slot, next));
        assert!(4 * out.len() as u32 <= TEXT_STRIDE, "a program's text outgrew its slot");
        out
    }

    /// The ELF of this program alone (what our machine runs, and qemu for a faulting one).
    pub fn elf(&self) -> Vec<u8> {
        let text: Vec<u8> = self.text(None).iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut data = self.data.clone();
        data.resize(DATA_SEGMENT as usize, 0);
        write_elf(self.text_base(), text, self.data_base(), data)
    }

    /// One ELF running `programs` (in distinct, increasing slots) one after the other: each
    /// writes its data and dump, then the next starts; the last exits.
    pub fn batch_elf(programs: &[&Program]) -> Vec<u8> {
        let first = programs[0];
        let mut text = Vec::new();
        let mut data = Vec::new();
        for (k, p) in programs.iter().enumerate() {
            let next = programs.get(k + 1).map(|n| n.text_base());
            text.resize(((p.text_base() - first.text_base()) / 4) as usize, 0u32);
            text.extend(p.text(next));
            data.resize((p.data_base() - first.data_base()) as usize, 0u8);
            data.extend(&p.data);
            data.resize((p.data_base() - first.data_base() + DATA_SEGMENT) as usize, 0);
        }
        let text: Vec<u8> = text.iter().flat_map(|w| w.to_le_bytes()).collect();
        write_elf(first.text_base(), text, first.data_base(), data)
    }

    /// Instructions in the items (the part minimization shrinks).
    pub fn item_instructions(&self) -> u32 {
        self.items.iter().map(Item::len).sum()
    }
}

/// Dump x1..x31 through `base`, then `write(1, data, OUT_LEN)` and `exit(0)` (or a jump to
/// `next`).
fn epilogue(base: u8, slot: u32, next: Option<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    out.extend(li(base, place(DUMP, slot)));
    for r in 1..32u8 {
        out.push(s(4 * i32::from(r), r, base, 2));
    }
    out.extend(li(17, 64));
    out.extend(li(10, 1));
    out.extend(li(11, place(DATA_BASE, slot)));
    out.extend(li(12, OUT_LEN));
    out.push(ECALL);
    match next {
        None => {
            out.extend(li(17, 93));
            out.extend(li(10, 0));
            out.push(ECALL);
        }
        Some(next) => {
            out.extend(li(5, next));
            out.push(jalr(0, 5, 0));
        }
    }
    out
}

/// A static executable as qemu-user and `ee_riscv::elf` load it: `text` (R+X) at
/// `text_addr`, entered there, and `data` (R+W) at `data_addr`.
fn write_elf(text_addr: u32, text: Vec<u8>, data_addr: u32, data: Vec<u8>) -> Vec<u8> {
    ee_riscv::elf::write(&Image {
        entry: text_addr,
        sections: vec![
            Section::progbits(".text", text_addr, text, true, false),
            Section::progbits(".data", data_addr, data, false, true),
        ],
        symbols: Vec::new(),
    })
}
