//! The hart: registers, privilege, CSRs, memory, the decode cache and the resumable
//! interpreter loop.
//!
//! Instructions are decoded once per address into [`Op`]s kept in a `Vec` that covers the
//! program's executable segments; a store into that range clears the slot it hits, so
//! self-modifying code always sees its new instructions (`fence.i` has nothing left to
//! do). Code outside the range (e.g. copied to data memory) is decoded at each fetch.

use crate::csr::{Csrs, Privilege};
use crate::decode::{decode, CsrOp, Op};
use crate::elf::{self, ElfError, Program};
use crate::memory::{MemFault, Memory};
use crate::trap::{Trap, TrapCause};

/// Where the riscv-tests `p` environment (and our `link.ld`) puts RAM.
pub const DEFAULT_MEM_BASE: u32 = 0x8000_0000;
/// Enough for every riscv-tests program and small contracts.
pub const DEFAULT_MEM_SIZE: u32 = 4 << 20;
/// `tohost` when the ELF has no symbol table: the page after `.text.init`, where the
/// upstream and our `link.ld` place the `.tohost` section.
pub const DEFAULT_TOHOST: u32 = 0x8000_1000;

/// Machine configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub mem_base: u32,
    pub mem_size: u32,
    /// `ecall` returns [`Exit::Ecall`] to the embedder (host ABI) instead of trapping to
    /// `mtvec` (the riscv-tests environment).
    pub ecall_yields: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { mem_base: DEFAULT_MEM_BASE, mem_size: DEFAULT_MEM_SIZE, ecall_yields: false }
    }
}

/// Why [`Machine::run`] returned. The machine can be resumed after every exit but
/// `Halted`, which is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// An `ecall` with [`Config::ecall_yields`]: the PC is past the `ecall`; the embedder
    /// reads the arguments from the registers, does the work (possibly much later), sets
    /// the results, and calls `run` again.
    Ecall,
    /// The program wrote this non-zero word to `tohost`.
    Halted(u32),
    /// The step bound ran out; `run` again to continue.
    StepLimit,
    /// A trap with no handler to take it (no `mtvec` written, or `mtvec` outside memory).
    /// The PC still points at the faulting instruction.
    Trap(Trap),
}

/// One RV32IM hart with M and U modes and its memory.
#[derive(Clone, Debug)]
pub struct Machine {
    /// x0..x31, then the sink (32) that absorbs writes to x0; 64 entries so that an index
    /// masked with 63 needs no bounds check.
    regs: [u32; 64],
    pc: u32,
    privilege: Privilege,
    csrs: Csrs,
    mem: Memory,
    /// Decoded ops for `[code_base, code_base + 4 * cache.len())`.
    cache: Vec<Op>,
    code_base: u32,
    tohost: Option<u32>,
    halted: Option<u32>,
    ecall_yields: bool,
    instret: u64,
    last_trap: Option<Trap>,
}

#[inline(always)]
fn load_cause(f: MemFault) -> TrapCause {
    match f {
        MemFault::Misaligned => TrapCause::LoadAddressMisaligned,
        MemFault::OutOfRange => TrapCause::LoadAccessFault,
    }
}

#[inline(always)]
fn store_cause(f: MemFault) -> TrapCause {
    match f {
        MemFault::Misaligned => TrapCause::StoreAddressMisaligned,
        MemFault::OutOfRange => TrapCause::StoreAccessFault,
    }
}

impl Machine {
    /// A machine with zeroed memory, the PC at the memory base, in M-mode, no `tohost`.
    pub fn new(config: Config) -> Self {
        Machine {
            regs: [0; 64],
            pc: config.mem_base,
            privilege: Privilege::Machine,
            csrs: Csrs::default(),
            mem: Memory::new(config.mem_base, config.mem_size),
            cache: Vec::new(),
            code_base: 0,
            tohost: None,
            halted: None,
            ecall_yields: config.ecall_yields,
            instret: 0,
            last_trap: None,
        }
    }

    /// Parses `elf` and loads it (see [`Machine::load`]).
    pub fn from_elf(elf: &[u8], config: Config) -> Result<Self, ElfError> {
        Self::load(&elf::parse(elf)?, config)
    }

    /// Loads `program` into a new machine: segments copied, PC at the entry, `tohost` at
    /// the symbol or else [`DEFAULT_TOHOST`] when that lies in memory.
    pub fn load(program: &Program, config: Config) -> Result<Self, ElfError> {
        let mut m = Machine::new(config);
        let (mut code_lo, mut code_hi) = (u64::MAX, 0u64);
        let size = m.mem.size();
        for seg in &program.segments {
            let out_of_memory =
                || ElfError::SegmentOutOfMemory { vaddr: seg.vaddr, memsz: seg.memsz, base: config.mem_base, size };
            let start = u64::from(seg.vaddr);
            let end = start + u64::from(seg.memsz);
            let base = u64::from(config.mem_base);
            if start < base || end > base + size {
                return Err(out_of_memory());
            }
            if !m.mem.write_bytes(seg.vaddr, &seg.data) {
                return Err(out_of_memory());
            }
            if seg.executable {
                code_lo = code_lo.min(start & !3);
                code_hi = code_hi.max(end);
            }
        }
        if code_lo < code_hi {
            m.code_base = code_lo as u32;
            m.cache = vec![Op::Undecoded; (code_hi - code_lo).div_ceil(4) as usize];
        }
        m.tohost = match program.tohost_symbol {
            Some(t) if t & 3 != 0 || !m.mem.contains(t, 4) => return Err(ElfError::BadTohost(t)),
            Some(t) => Some(t),
            None => m.mem.contains(DEFAULT_TOHOST, 4).then_some(DEFAULT_TOHOST),
        };
        m.pc = program.entry;
        Ok(m)
    }

    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Moves the PC; a misaligned PC traps at the next [`Machine::run`].
    pub fn set_pc(&mut self, pc: u32) {
        self.pc = pc;
    }

    /// Register `x{i}`; 0 for x0 and for `i >= 32`.
    pub fn reg(&self, i: usize) -> u32 {
        if i < 32 {
            self.regs[i]
        } else {
            0
        }
    }

    /// Sets `x{i}`; writes to x0 and `i >= 32` are ignored.
    pub fn set_reg(&mut self, i: usize, value: u32) {
        if (1..32).contains(&i) {
            self.regs[i] = value;
        }
    }

    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// Copies `data` into guest memory (host-call results); false when it does not fit.
    /// Keeps the decode cache coherent.
    pub fn write_memory(&mut self, addr: u32, data: &[u8]) -> bool {
        if !self.mem.write_bytes(addr, data) {
            return false;
        }
        let (lo, hi) = (u64::from(addr), u64::from(addr) + data.len() as u64);
        let code_lo = u64::from(self.code_base);
        let code_hi = code_lo + 4 * self.cache.len() as u64;
        if hi > code_lo && lo < code_hi {
            let first = ((lo.max(code_lo) - code_lo) / 4) as usize;
            let last = (hi.min(code_hi) - code_lo).div_ceil(4) as usize;
            self.cache[first..last].fill(Op::Undecoded);
        }
        true
    }

    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    pub fn csrs(&self) -> &Csrs {
        &self.csrs
    }

    /// Instructions executed so far, including ones that trapped.
    pub fn instret(&self) -> u64 {
        self.instret
    }

    /// The most recent trap, taken by a handler or not: the explanation for a failure.
    pub fn last_trap(&self) -> Option<Trap> {
        self.last_trap
    }

    pub fn tohost(&self) -> Option<u32> {
        self.tohost
    }

    /// Sets or clears the word whose non-zero writes halt the machine.
    pub fn set_tohost(&mut self, tohost: Option<u32>) {
        self.tohost = tohost;
    }

    /// The `tohost` value the machine halted with.
    pub fn halted(&self) -> Option<u32> {
        self.halted
    }

    /// Runs at most `max_steps` instructions (a trapping instruction counts as one).
    pub fn run(&mut self, max_steps: u64) -> Exit {
        if let Some(value) = self.halted {
            return Exit::Halted(value);
        }
        let (exit, steps) = self.run_inner(max_steps);
        self.instret += steps;
        exit
    }

    /// Takes a trap: to the handler at `mtvec` (returns its address), or out to the
    /// embedder when there is none.
    #[cold]
    fn raise(&mut self, cause: TrapCause, pc: u32, tval: u32) -> Result<u32, Exit> {
        let trap = Trap { cause, pc, tval };
        self.last_trap = Some(trap);
        match self.csrs.mtvec {
            Some(handler) if self.mem.contains(handler, 4) => {
                let c = &mut self.csrs;
                c.mepc = pc;
                c.mcause = cause.code();
                c.mtval = tval;
                c.mpie = c.mie_bit;
                c.mie_bit = false;
                c.mpp = self.privilege;
                self.privilege = Privilege::Machine;
                Ok(handler)
            }
            _ => Err(Exit::Trap(trap)),
        }
    }

    /// Instruction bits at `pc` for `mtval` of an illegal instruction found late.
    #[cold]
    fn raw_at(&self, pc: u32) -> u32 {
        self.mem.load_u32(pc).unwrap_or(0)
    }

    /// The op at `pc` (4-byte aligned): the cached slot, which may still be
    /// [`Op::Undecoded`], or for code outside the cache a fresh decode; `None` if
    /// unfetchable. The loop decodes empty slots in their own (cold) match arm, so the
    /// common path has no extra test.
    #[inline(always)]
    fn fetch(&self, pc: u32) -> Option<Op> {
        match self.cache.get((pc.wrapping_sub(self.code_base) >> 2) as usize) {
            Some(&op) => Some(op),
            None => Some(decode(self.mem.load_u32(pc).ok()?, pc)),
        }
    }

    /// Fills the cache slot for `pc`; false if the word cannot be fetched.
    #[cold]
    fn fill(&mut self, pc: u32) -> bool {
        let Ok(raw) = self.mem.load_u32(pc) else { return false };
        if let Some(slot) = self.cache.get_mut((pc.wrapping_sub(self.code_base) >> 2) as usize) {
            *slot = decode(raw, pc);
        }
        true
    }

    /// After a store to `addr`: drops a stale decoded op, and reports a halt when the
    /// store made `tohost` non-zero.
    #[inline(always)]
    fn after_store(&mut self, addr: u32) -> Option<u32> {
        let idx = (addr.wrapping_sub(self.code_base) >> 2) as usize;
        if let Some(slot) = self.cache.get_mut(idx) {
            *slot = Op::Undecoded;
        }
        let tohost = self.tohost?;
        if addr & !3 != tohost {
            return None;
        }
        let value = self.mem.load_u32(tohost).ok().filter(|&v| v != 0)?;
        self.halted = Some(value);
        Some(value)
    }

    #[inline(always)]
    fn x(&self, r: u8) -> u32 {
        self.regs[usize::from(r & 63)]
    }

    #[inline(always)]
    fn set(&mut self, r: u8, value: u32) {
        self.regs[usize::from(r & 63)] = value;
    }

    fn run_inner(&mut self, max_steps: u64) -> (Exit, u64) {
        let mut pc = self.pc;
        let mut steps: u64 = 0;

        // Traps to the handler and continues there, or leaves the loop with the exit.
        macro_rules! trap {
            ($cause:expr, $tval:expr) => {{
                match self.raise($cause, pc, $tval) {
                    Ok(handler) => {
                        pc = handler;
                        continue;
                    }
                    Err(exit) => break exit,
                }
            }};
        }
        macro_rules! alu {
            ($rd:expr, $value:expr) => {{
                let v = $value;
                self.set($rd, v);
                pc = pc.wrapping_add(4);
            }};
        }
        macro_rules! branch {
            ($cond:expr, $target:expr) => {{
                pc = if $cond { $target } else { pc.wrapping_add(4) };
            }};
        }
        macro_rules! load {
            ($rd:expr, $rs1:expr, $imm:expr, $method:ident, $conv:expr) => {{
                let addr = self.x($rs1).wrapping_add($imm as u32);
                match self.mem.$method(addr) {
                    Ok(v) => self.set($rd, $conv(v)),
                    Err(f) => trap!(load_cause(f), addr),
                }
                pc = pc.wrapping_add(4);
            }};
        }
        macro_rules! store {
            ($rs1:expr, $rs2:expr, $imm:expr, $method:ident, $ty:ty) => {{
                let addr = self.x($rs1).wrapping_add($imm as u32);
                if let Err(f) = self.mem.$method(addr, self.x($rs2) as $ty) {
                    trap!(store_cause(f), addr);
                }
                pc = pc.wrapping_add(4);
                if let Some(value) = self.after_store(addr) {
                    break Exit::Halted(value);
                }
            }};
        }

        // Only `set_pc` can misalign the PC: every jump checks its target, and traps and
        // `mret` go to aligned addresses, so the loop itself never needs the test.
        if pc & 3 != 0 && max_steps > 0 {
            steps = 1;
            match self.raise(TrapCause::InstructionAddressMisaligned, pc, pc) {
                Ok(handler) => pc = handler,
                Err(exit) => return (exit, steps),
            }
        }

        let exit = loop {
            if steps == max_steps {
                break Exit::StepLimit;
            }
            steps += 1;
            let Some(op) = self.fetch(pc) else {
                trap!(TrapCause::InstructionAccessFault, pc);
            };
            match op {
                Op::Addi { rd, rs1, imm } => alu!(rd, self.x(rs1).wrapping_add(imm as u32)),
                Op::Li { rd, value } => alu!(rd, value),
                Op::Add { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_add(self.x(rs2))),
                Op::Sub { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_sub(self.x(rs2))),
                Op::Beq { rs1, rs2, target } => branch!(self.x(rs1) == self.x(rs2), target),
                Op::Bne { rs1, rs2, target } => branch!(self.x(rs1) != self.x(rs2), target),
                Op::Blt { rs1, rs2, target } => branch!((self.x(rs1) as i32) < (self.x(rs2) as i32), target),
                Op::Bge { rs1, rs2, target } => branch!((self.x(rs1) as i32) >= (self.x(rs2) as i32), target),
                Op::Bltu { rs1, rs2, target } => branch!(self.x(rs1) < self.x(rs2), target),
                Op::Bgeu { rs1, rs2, target } => branch!(self.x(rs1) >= self.x(rs2), target),
                Op::Lw { rd, rs1, imm } => load!(rd, rs1, imm, load_u32, |v: u32| v),
                Op::Sw { rs1, rs2, imm } => store!(rs1, rs2, imm, store_u32, u32),
                Op::Jal { rd, target } => {
                    self.set(rd, pc.wrapping_add(4));
                    pc = target;
                }
                Op::Jalr { rd, rs1, imm } => {
                    let target = self.x(rs1).wrapping_add(imm as u32) & !1;
                    if target & 3 != 0 {
                        trap!(TrapCause::InstructionAddressMisaligned, target);
                    }
                    self.set(rd, pc.wrapping_add(4));
                    pc = target;
                }
                Op::Slti { rd, rs1, imm } => alu!(rd, u32::from((self.x(rs1) as i32) < imm)),
                Op::Sltiu { rd, rs1, imm } => alu!(rd, u32::from(self.x(rs1) < imm as u32)),
                Op::Xori { rd, rs1, imm } => alu!(rd, self.x(rs1) ^ imm as u32),
                Op::Ori { rd, rs1, imm } => alu!(rd, self.x(rs1) | imm as u32),
                Op::Andi { rd, rs1, imm } => alu!(rd, self.x(rs1) & imm as u32),
                Op::Slli { rd, rs1, shamt } => alu!(rd, self.x(rs1) << (shamt & 31)),
                Op::Srli { rd, rs1, shamt } => alu!(rd, self.x(rs1) >> (shamt & 31)),
                Op::Srai { rd, rs1, shamt } => alu!(rd, ((self.x(rs1) as i32) >> (shamt & 31)) as u32),
                Op::Sll { rd, rs1, rs2 } => alu!(rd, self.x(rs1) << (self.x(rs2) & 31)),
                Op::Slt { rd, rs1, rs2 } => alu!(rd, u32::from((self.x(rs1) as i32) < (self.x(rs2) as i32))),
                Op::Sltu { rd, rs1, rs2 } => alu!(rd, u32::from(self.x(rs1) < self.x(rs2))),
                Op::Xor { rd, rs1, rs2 } => alu!(rd, self.x(rs1) ^ self.x(rs2)),
                Op::Srl { rd, rs1, rs2 } => alu!(rd, self.x(rs1) >> (self.x(rs2) & 31)),
                Op::Sra { rd, rs1, rs2 } => alu!(rd, ((self.x(rs1) as i32) >> (self.x(rs2) & 31)) as u32),
                Op::Or { rd, rs1, rs2 } => alu!(rd, self.x(rs1) | self.x(rs2)),
                Op::And { rd, rs1, rs2 } => alu!(rd, self.x(rs1) & self.x(rs2)),
                Op::Mul { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_mul(self.x(rs2))),
                Op::Mulh { rd, rs1, rs2 } => alu!(rd, mulh(self.x(rs1), self.x(rs2))),
                Op::Mulhsu { rd, rs1, rs2 } => alu!(rd, mulhsu(self.x(rs1), self.x(rs2))),
                Op::Mulhu { rd, rs1, rs2 } => alu!(rd, mulhu(self.x(rs1), self.x(rs2))),
                Op::Div { rd, rs1, rs2 } => alu!(rd, div(self.x(rs1), self.x(rs2))),
                Op::Divu { rd, rs1, rs2 } => alu!(rd, divu(self.x(rs1), self.x(rs2))),
                Op::Rem { rd, rs1, rs2 } => alu!(rd, rem(self.x(rs1), self.x(rs2))),
                Op::Remu { rd, rs1, rs2 } => alu!(rd, remu(self.x(rs1), self.x(rs2))),
                Op::Lb { rd, rs1, imm } => load!(rd, rs1, imm, load_u8, |v: u8| v as i8 as u32),
                Op::Lh { rd, rs1, imm } => load!(rd, rs1, imm, load_u16, |v: u16| v as i16 as u32),
                Op::Lbu { rd, rs1, imm } => load!(rd, rs1, imm, load_u8, u32::from),
                Op::Lhu { rd, rs1, imm } => load!(rd, rs1, imm, load_u16, u32::from),
                Op::Sb { rs1, rs2, imm } => store!(rs1, rs2, imm, store_u8, u8),
                Op::Sh { rs1, rs2, imm } => store!(rs1, rs2, imm, store_u16, u16),
                Op::BranchMisaligned { cond, rs1, rs2, target } => {
                    if cond.holds(self.x(rs1), self.x(rs2)) {
                        trap!(TrapCause::InstructionAddressMisaligned, target);
                    }
                    pc = pc.wrapping_add(4);
                }
                Op::Fence | Op::FenceI | Op::Wfi => pc = pc.wrapping_add(4),
                Op::Ecall => {
                    if self.ecall_yields {
                        pc = pc.wrapping_add(4);
                        break Exit::Ecall;
                    }
                    let cause = match self.privilege {
                        Privilege::User => TrapCause::EcallFromU,
                        Privilege::Machine => TrapCause::EcallFromM,
                    };
                    trap!(cause, 0);
                }
                Op::Ebreak => trap!(TrapCause::Breakpoint, pc),
                Op::Mret => {
                    if self.privilege != Privilege::Machine {
                        trap!(TrapCause::IllegalInstruction, self.raw_at(pc));
                    }
                    let c = &mut self.csrs;
                    self.privilege = c.mpp;
                    c.mie_bit = c.mpie;
                    c.mpie = true;
                    c.mpp = Privilege::User;
                    pc = c.mepc;
                }
                Op::Csr { op, rd, src, csr } => {
                    let Some(old) = self.csrs.read(csr, self.privilege, self.instret + steps) else {
                        trap!(TrapCause::IllegalInstruction, self.raw_at(pc));
                    };
                    let (writes, new) = match op {
                        CsrOp::Rw => (true, self.x(src)),
                        CsrOp::Rs => (src != 0, old | self.x(src)),
                        CsrOp::Rc => (src != 0, old & !self.x(src)),
                        CsrOp::Rwi => (true, u32::from(src)),
                        CsrOp::Rsi => (src != 0, old | u32::from(src)),
                        CsrOp::Rci => (src != 0, old & !u32::from(src)),
                    };
                    if writes && self.csrs.write(csr, new).is_none() {
                        trap!(TrapCause::IllegalInstruction, self.raw_at(pc));
                    }
                    self.set(rd, old);
                    pc = pc.wrapping_add(4);
                }
                Op::Fault { cause, tval } => trap!(cause, tval),
                Op::Illegal { raw } => trap!(TrapCause::IllegalInstruction, raw),
                Op::Undecoded => {
                    // First visit: decode into the cache and dispatch again, uncounted.
                    if !self.fill(pc) {
                        trap!(TrapCause::InstructionAccessFault, pc);
                    }
                    steps -= 1;
                }
            }
        };
        self.pc = pc;
        (exit, steps)
    }
}

fn mulh(a: u32, b: u32) -> u32 {
    ((i64::from(a as i32) * i64::from(b as i32)) >> 32) as u32
}

fn mulhsu(a: u32, b: u32) -> u32 {
    ((i64::from(a as i32) * i64::from(b)) >> 32) as u32
}

fn mulhu(a: u32, b: u32) -> u32 {
    ((u64::from(a) * u64::from(b)) >> 32) as u32
}

/// Division by zero gives all ones; `i32::MIN / -1` overflows to `i32::MIN`.
fn div(a: u32, b: u32) -> u32 {
    if b == 0 {
        u32::MAX
    } else {
        (a as i32).wrapping_div(b as i32) as u32
    }
}

fn divu(a: u32, b: u32) -> u32 {
    a.checked_div(b).unwrap_or(u32::MAX)
}

/// Remainder by zero gives the dividend; `i32::MIN % -1` is 0.
fn rem(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        (a as i32).wrapping_rem(b as i32) as u32
    }
}

fn remu(a: u32, b: u32) -> u32 {
    a.checked_rem(b).unwrap_or(a)
}

#[cfg(test)]
mod tests;
