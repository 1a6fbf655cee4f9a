//! The hot loop: pre-decoded instructions in a compact form, and an interpreter for the
//! common case that never traps.
//!
//! Every cached instruction is an [`Insn`]: a one-byte [`Kind`], three register bytes and a
//! 32-bit immediate, 8 bytes in all, so the fields need no unpacking. The loop keeps the PC
//! as a cache index (`(pc - code_base) / 4`, jump and branch targets are stored that way
//! too), so a fetch is one bounds-checked slice index.
//!
//! [`run`] executes instructions from the cache until something needs the full machine:
//! an instruction it does not handle (CSRs, `ecall`, `mret`, faults, an empty cache slot,
//! a PC outside the cache), a load or store that is misaligned or outside memory, a store
//! into the watched range (the decode cache and `tohost`), a `jalr` to a misaligned
//! target, or the end of the step budget. It stops *before* such an instruction, having
//! counted and done nothing for it, so the caller executes it on the general (exact) path.
//! Nothing here can trap, so every trap is raised by the same code as before, and the step
//! count is exact by construction: one budget decrement per instruction retired here.

use crate::decode::Op;

/// Size of the register file as the loop indexes it: x0..x31, the sink (32) that absorbs
/// writes to x0, and padding up to 256 so that any `u8` index needs no bounds check.
pub const REGS: usize = 256;

/// What a cached instruction does. [`Kind::Undecoded`] is an empty slot; [`Kind::Slow`]
/// is an instruction the fast loop leaves to the general path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Undecoded,
    Slow,
    /// `lui`, and `auipc` with the PC added: `rd = imm`.
    Li,
    /// `imm` is the target's cache index.
    Jal,
    Jalr,
    /// Branches: `imm` is the target's cache index.
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Lbu,
    Lhu,
    Sb,
    Sh,
    Sw,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    /// Immediate shifts: `imm` is the shift amount.
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    /// `fence`, `fence.i` (the cache is always coherent) and `wfi`.
    Nop,
}

/// One cached instruction (8 bytes). Unused fields are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub kind: Kind,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub imm: u32,
}

impl Insn {
    pub const UNDECODED: Insn = Insn::new(Kind::Undecoded, 0, 0, 0, 0);
    pub const SLOW: Insn = Insn::new(Kind::Slow, 0, 0, 0, 0);

    const fn new(kind: Kind, rd: u8, rs1: u8, rs2: u8, imm: u32) -> Self {
        Insn { kind, rd, rs1, rs2, imm }
    }
}

impl Insn {
    /// The cached form of `op`, for a cache that starts at `code_base`. Jump and branch
    /// targets become cache indices, `(target - code_base) / 4` (wrapping: a target outside
    /// the cache is an index past its end, from which the fast loop recovers the address).
    pub fn new_at(op: Op, code_base: u32) -> Insn {
        let index = |target: u32| target.wrapping_sub(code_base) >> 2;
        let r = |kind, rd, rs1, rs2| Insn::new(kind, rd, rs1, rs2, 0);
        let i = |kind, rd, rs1, imm: i32| Insn::new(kind, rd, rs1, 0, imm as u32);
        let b = |kind, rs1, rs2, target| Insn::new(kind, 0, rs1, rs2, index(target));
        let s = |kind, rs1, rs2, imm: i32| Insn::new(kind, 0, rs1, rs2, imm as u32);
        let sh = |kind, rd, rs1, shamt: u8| Insn::new(kind, rd, rs1, 0, u32::from(shamt & 31));
        match op {
            Op::Li { rd, value } => Insn::new(Kind::Li, rd, 0, 0, value),
            Op::Jal { rd, target } => Insn::new(Kind::Jal, rd, 0, 0, index(target)),
            Op::Jalr { rd, rs1, imm } => i(Kind::Jalr, rd, rs1, imm),
            Op::Beq { rs1, rs2, target } => b(Kind::Beq, rs1, rs2, target),
            Op::Bne { rs1, rs2, target } => b(Kind::Bne, rs1, rs2, target),
            Op::Blt { rs1, rs2, target } => b(Kind::Blt, rs1, rs2, target),
            Op::Bge { rs1, rs2, target } => b(Kind::Bge, rs1, rs2, target),
            Op::Bltu { rs1, rs2, target } => b(Kind::Bltu, rs1, rs2, target),
            Op::Bgeu { rs1, rs2, target } => b(Kind::Bgeu, rs1, rs2, target),
            Op::Lb { rd, rs1, imm } => i(Kind::Lb, rd, rs1, imm),
            Op::Lh { rd, rs1, imm } => i(Kind::Lh, rd, rs1, imm),
            Op::Lw { rd, rs1, imm } => i(Kind::Lw, rd, rs1, imm),
            Op::Lbu { rd, rs1, imm } => i(Kind::Lbu, rd, rs1, imm),
            Op::Lhu { rd, rs1, imm } => i(Kind::Lhu, rd, rs1, imm),
            Op::Sb { rs1, rs2, imm } => s(Kind::Sb, rs1, rs2, imm),
            Op::Sh { rs1, rs2, imm } => s(Kind::Sh, rs1, rs2, imm),
            Op::Sw { rs1, rs2, imm } => s(Kind::Sw, rs1, rs2, imm),
            Op::Addi { rd, rs1, imm } => i(Kind::Addi, rd, rs1, imm),
            Op::Slti { rd, rs1, imm } => i(Kind::Slti, rd, rs1, imm),
            Op::Sltiu { rd, rs1, imm } => i(Kind::Sltiu, rd, rs1, imm),
            Op::Xori { rd, rs1, imm } => i(Kind::Xori, rd, rs1, imm),
            Op::Ori { rd, rs1, imm } => i(Kind::Ori, rd, rs1, imm),
            Op::Andi { rd, rs1, imm } => i(Kind::Andi, rd, rs1, imm),
            Op::Slli { rd, rs1, shamt } => sh(Kind::Slli, rd, rs1, shamt),
            Op::Srli { rd, rs1, shamt } => sh(Kind::Srli, rd, rs1, shamt),
            Op::Srai { rd, rs1, shamt } => sh(Kind::Srai, rd, rs1, shamt),
            Op::Add { rd, rs1, rs2 } => r(Kind::Add, rd, rs1, rs2),
            Op::Sub { rd, rs1, rs2 } => r(Kind::Sub, rd, rs1, rs2),
            Op::Sll { rd, rs1, rs2 } => r(Kind::Sll, rd, rs1, rs2),
            Op::Slt { rd, rs1, rs2 } => r(Kind::Slt, rd, rs1, rs2),
            Op::Sltu { rd, rs1, rs2 } => r(Kind::Sltu, rd, rs1, rs2),
            Op::Xor { rd, rs1, rs2 } => r(Kind::Xor, rd, rs1, rs2),
            Op::Srl { rd, rs1, rs2 } => r(Kind::Srl, rd, rs1, rs2),
            Op::Sra { rd, rs1, rs2 } => r(Kind::Sra, rd, rs1, rs2),
            Op::Or { rd, rs1, rs2 } => r(Kind::Or, rd, rs1, rs2),
            Op::And { rd, rs1, rs2 } => r(Kind::And, rd, rs1, rs2),
            Op::Mul { rd, rs1, rs2 } => r(Kind::Mul, rd, rs1, rs2),
            Op::Mulh { rd, rs1, rs2 } => r(Kind::Mulh, rd, rs1, rs2),
            Op::Mulhsu { rd, rs1, rs2 } => r(Kind::Mulhsu, rd, rs1, rs2),
            Op::Mulhu { rd, rs1, rs2 } => r(Kind::Mulhu, rd, rs1, rs2),
            Op::Div { rd, rs1, rs2 } => r(Kind::Div, rd, rs1, rs2),
            Op::Divu { rd, rs1, rs2 } => r(Kind::Divu, rd, rs1, rs2),
            Op::Rem { rd, rs1, rs2 } => r(Kind::Rem, rd, rs1, rs2),
            Op::Remu { rd, rs1, rs2 } => r(Kind::Remu, rd, rs1, rs2),
            Op::Fence | Op::FenceI | Op::Wfi => Insn::new(Kind::Nop, 0, 0, 0, 0),
            // Traps, privilege, CSRs, and the rare misaligned-target branch.
            Op::BranchMisaligned { .. }
            | Op::Ecall
            | Op::Ebreak
            | Op::Mret
            | Op::Csr { .. }
            | Op::Fault { .. }
            | Op::Illegal { .. } => Insn::SLOW,
        }
    }
}

/// Where the fast loop runs: the pieces of the machine it reads and writes.
pub struct Core<'a> {
    pub regs: &'a mut [u32; REGS],
    /// The decode cache, for `[code_base, code_base + 4 * code.len())`.
    pub code: &'a [Insn],
    pub code_base: u32,
    pub mem: &'a mut [u8],
    pub mem_base: u32,
    /// Stores into `[watch_base, watch_base + watch_len)` (the decode cache and `tohost`)
    /// are left to the general path, which keeps the cache coherent and halts on `tohost`.
    pub watch_base: u32,
    pub watch_len: u32,
}

#[inline(always)]
fn load<const N: usize>(mem: &[u8], mem_base: u32, addr: u32) -> Option<[u8; N]> {
    // `N` is 1, 2 or 4, so `N - 1` masks the misaligned bits.
    if addr as usize & (N - 1) != 0 {
        return None;
    }
    let off = addr.wrapping_sub(mem_base) as usize;
    mem.get(off..off.checked_add(N)?).and_then(|b| b.try_into().ok())
}

/// Stores `value` unless the access is misaligned, outside memory or watched (then `false`,
/// and nothing is written).
#[inline(always)]
fn store<const N: usize>(mem: &mut [u8], mem_base: u32, watch: (u32, u32), addr: u32, value: [u8; N]) -> bool {
    if addr as usize & (N - 1) != 0 || addr.wrapping_sub(watch.0) < watch.1 {
        return false;
    }
    let off = addr.wrapping_sub(mem_base) as usize;
    let Some(end) = off.checked_add(N) else { return false };
    match mem.get_mut(off..end) {
        Some(bytes) => {
            bytes.copy_from_slice(&value);
            true
        }
        None => false,
    }
}

/// Runs from `pc` (4-byte aligned) for at most `budget` instructions; returns the PC of
/// the first instruction not executed and the number executed. The caller runs the
/// instruction at the returned PC on the general path unless the budget is spent.
pub fn run(core: Core<'_>, pc: u32, budget: u64) -> (u32, u64) {
    let Core { regs, code, code_base, mem, mem_base, watch_base, watch_len } = core;
    let watch = (watch_base, watch_len);
    // The PC as a cache index; `code_base + 4 * at` gives it back exactly (wrapping).
    let mut at = pc.wrapping_sub(code_base) >> 2;
    let address = |index: u32| code_base.wrapping_add(index << 2);
    let mut left = budget;
    macro_rules! x {
        ($r:expr) => {
            regs[usize::from($r)]
        };
    }
    while left != 0 {
        let Some(&insn) = code.get(at as usize) else { break };
        let Insn { kind, rd, rs1, rs2, imm } = insn;
        let next = at.wrapping_add(1);
        macro_rules! alu {
            ($value:expr) => {{
                x!(rd) = $value;
                next
            }};
        }
        macro_rules! branch {
            ($cond:expr) => {{
                if $cond {
                    imm
                } else {
                    next
                }
            }};
        }
        macro_rules! load {
            ($n:literal, $conv:expr) => {{
                let addr = x!(rs1).wrapping_add(imm);
                match load::<$n>(mem, mem_base, addr) {
                    Some(bytes) => alu!($conv(bytes)),
                    None => break,
                }
            }};
        }
        macro_rules! store {
            ($n:literal, $value:expr) => {{
                let addr = x!(rs1).wrapping_add(imm);
                let value = $value;
                if !store::<$n>(mem, mem_base, watch, addr, value) {
                    break;
                }
                next
            }};
        }
        at = match kind {
            Kind::Addi => alu!(x!(rs1).wrapping_add(imm)),
            Kind::Li => alu!(imm),
            Kind::Add => alu!(x!(rs1).wrapping_add(x!(rs2))),
            Kind::Sub => alu!(x!(rs1).wrapping_sub(x!(rs2))),
            Kind::Beq => branch!(x!(rs1) == x!(rs2)),
            Kind::Bne => branch!(x!(rs1) != x!(rs2)),
            Kind::Blt => branch!((x!(rs1) as i32) < (x!(rs2) as i32)),
            Kind::Bge => branch!((x!(rs1) as i32) >= (x!(rs2) as i32)),
            Kind::Bltu => branch!(x!(rs1) < x!(rs2)),
            Kind::Bgeu => branch!(x!(rs1) >= x!(rs2)),
            Kind::Lw => load!(4, u32::from_le_bytes),
            Kind::Sw => store!(4, x!(rs2).to_le_bytes()),
            Kind::Jal => {
                x!(rd) = address(next);
                imm
            }
            Kind::Jalr => {
                let target = x!(rs1).wrapping_add(imm) & !1;
                if target & 3 != 0 {
                    break; // the general path raises the misaligned-target trap
                }
                x!(rd) = address(next);
                target.wrapping_sub(code_base) >> 2
            }
            Kind::Slti => alu!(u32::from((x!(rs1) as i32) < imm as i32)),
            Kind::Sltiu => alu!(u32::from(x!(rs1) < imm)),
            Kind::Xori => alu!(x!(rs1) ^ imm),
            Kind::Ori => alu!(x!(rs1) | imm),
            Kind::Andi => alu!(x!(rs1) & imm),
            Kind::Slli => alu!(x!(rs1) << (imm & 31)),
            Kind::Srli => alu!(x!(rs1) >> (imm & 31)),
            Kind::Srai => alu!(((x!(rs1) as i32) >> (imm & 31)) as u32),
            Kind::Sll => alu!(x!(rs1) << (x!(rs2) & 31)),
            Kind::Slt => alu!(u32::from((x!(rs1) as i32) < (x!(rs2) as i32))),
            Kind::Sltu => alu!(u32::from(x!(rs1) < x!(rs2))),
            Kind::Xor => alu!(x!(rs1) ^ x!(rs2)),
            Kind::Srl => alu!(x!(rs1) >> (x!(rs2) & 31)),
            Kind::Sra => alu!(((x!(rs1) as i32) >> (x!(rs2) & 31)) as u32),
            Kind::Or => alu!(x!(rs1) | x!(rs2)),
            Kind::And => alu!(x!(rs1) & x!(rs2)),
            Kind::Mul => alu!(x!(rs1).wrapping_mul(x!(rs2))),
            Kind::Mulh => alu!(mulh(x!(rs1), x!(rs2))),
            Kind::Mulhsu => alu!(mulhsu(x!(rs1), x!(rs2))),
            Kind::Mulhu => alu!(mulhu(x!(rs1), x!(rs2))),
            Kind::Div => alu!(div(x!(rs1), x!(rs2))),
            Kind::Divu => alu!(divu(x!(rs1), x!(rs2))),
            Kind::Rem => alu!(rem(x!(rs1), x!(rs2))),
            Kind::Remu => alu!(remu(x!(rs1), x!(rs2))),
            Kind::Lb => load!(1, |b: [u8; 1]| b[0] as i8 as u32),
            Kind::Lh => load!(2, |b| i16::from_le_bytes(b) as u32),
            Kind::Lbu => load!(1, |b: [u8; 1]| u32::from(b[0])),
            Kind::Lhu => load!(2, |b| u32::from(u16::from_le_bytes(b))),
            Kind::Sb => store!(1, [x!(rs2) as u8]),
            Kind::Sh => store!(2, (x!(rs2) as u16).to_le_bytes()),
            Kind::Nop => next,
            Kind::Undecoded | Kind::Slow => break,
        };
        left -= 1;
    }
    (address(at), budget - left)
}

#[inline(always)]
pub fn mulh(a: u32, b: u32) -> u32 {
    ((i64::from(a as i32) * i64::from(b as i32)) >> 32) as u32
}

#[inline(always)]
pub fn mulhsu(a: u32, b: u32) -> u32 {
    ((i64::from(a as i32) * i64::from(b)) >> 32) as u32
}

#[inline(always)]
pub fn mulhu(a: u32, b: u32) -> u32 {
    ((u64::from(a) * u64::from(b)) >> 32) as u32
}

/// Division by zero gives all ones; `i32::MIN / -1` overflows to `i32::MIN`.
#[inline(always)]
pub fn div(a: u32, b: u32) -> u32 {
    if b == 0 {
        u32::MAX
    } else {
        (a as i32).wrapping_div(b as i32) as u32
    }
}

#[inline(always)]
pub fn divu(a: u32, b: u32) -> u32 {
    a.checked_div(b).unwrap_or(u32::MAX)
}

/// Remainder by zero gives the dividend; `i32::MIN % -1` is 0.
#[inline(always)]
pub fn rem(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        (a as i32).wrapping_rem(b as i32) as u32
    }
}

#[inline(always)]
pub fn remu(a: u32, b: u32) -> u32 {
    a.checked_rem(b).unwrap_or(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_is_eight_bytes() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
    }
}
