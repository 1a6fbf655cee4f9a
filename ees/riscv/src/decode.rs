//! Instruction decoding: one 32-bit word at a known address into a compact [`Op`].
//!
//! Decoding happens once per instruction address (the interpreter caches the result in
//! the compact form of `fast.rs`), so everything that can be settled here is: immediates
//! are sign-extended, PC-relative targets (`auipc`, `jal`, branches) become absolute
//! addresses, a destination `x0` becomes the write-only sink register [`SINK`], and every
//! reserved encoding becomes [`Op::Illegal`].

use crate::trap::TrapCause;

/// Register index that absorbs writes to `x0`, so execution never tests `rd == 0`.
pub const SINK: u8 = 32;

/// Zicsr operation kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrOp {
    Rw,
    Rs,
    Rc,
    Rwi,
    Rsi,
    Rci,
}

/// Branch conditions, for the rare [`Op::BranchMisaligned`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    Lt,
    Ge,
    Ltu,
    Geu,
}

impl Cond {
    #[inline(always)]
    pub fn holds(self, a: u32, b: u32) -> bool {
        match self {
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::Lt => (a as i32) < (b as i32),
            Cond::Ge => (a as i32) >= (b as i32),
            Cond::Ltu => a < b,
            Cond::Geu => a >= b,
        }
    }
}

/// One decoded instruction (8 bytes). Register fields index a 64-entry file where 32 is the
/// sink; source registers are always 0..=31.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `lui`, and `auipc` with the PC already added: `rd = value`.
    Li {
        rd: u8,
        value: u32,
    },
    Jal {
        rd: u8,
        target: u32,
    },
    Jalr {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Beq {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Bne {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Blt {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Bge {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Bltu {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Bgeu {
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    /// A branch whose target is not 4-byte aligned: traps only when taken.
    BranchMisaligned {
        cond: Cond,
        rs1: u8,
        rs2: u8,
        target: u32,
    },
    Lb {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Lh {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Lw {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Lbu {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Lhu {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Sb {
        rs1: u8,
        rs2: u8,
        imm: i32,
    },
    Sh {
        rs1: u8,
        rs2: u8,
        imm: i32,
    },
    Sw {
        rs1: u8,
        rs2: u8,
        imm: i32,
    },
    Addi {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Slti {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Sltiu {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Xori {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Ori {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Andi {
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    Slli {
        rd: u8,
        rs1: u8,
        shamt: u8,
    },
    Srli {
        rd: u8,
        rs1: u8,
        shamt: u8,
    },
    Srai {
        rd: u8,
        rs1: u8,
        shamt: u8,
    },
    Add {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Sub {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Sll {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Slt {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Sltu {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Xor {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Srl {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Sra {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Or {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    And {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Mul {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Mulh {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Mulhsu {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Mulhu {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Div {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Divu {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Rem {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    Remu {
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    /// `fence` (and `nop`-like hints): a single hart sees its own accesses in order.
    Fence,
    /// `fence.i`: the decode cache is kept coherent on every store, so nothing is left to do.
    FenceI,
    Ecall,
    Ebreak,
    Mret,
    Wfi,
    /// `src` is `rs1` for the register forms and the 5-bit immediate for the `*i` forms.
    Csr {
        op: CsrOp,
        rd: u8,
        src: u8,
        csr: u16,
    },
    /// An instruction that always traps at this address (e.g. `jal` to a misaligned target).
    Fault {
        cause: TrapCause,
        tval: u32,
    },
    Illegal {
        raw: u32,
    },
}

#[inline]
fn rd(raw: u32) -> u8 {
    match ((raw >> 7) & 31) as u8 {
        0 => SINK,
        r => r,
    }
}

#[inline]
fn rs1(raw: u32) -> u8 {
    ((raw >> 15) & 31) as u8
}

#[inline]
fn rs2(raw: u32) -> u8 {
    ((raw >> 20) & 31) as u8
}

#[inline]
fn funct3(raw: u32) -> u32 {
    (raw >> 12) & 7
}

#[inline]
fn funct7(raw: u32) -> u32 {
    raw >> 25
}

fn imm_i(raw: u32) -> i32 {
    (raw as i32) >> 20
}

fn imm_s(raw: u32) -> i32 {
    (((raw & 0xfe00_0000) as i32) >> 20) | ((raw >> 7) & 0x1f) as i32
}

fn imm_b(raw: u32) -> i32 {
    let sign = ((raw & 0x8000_0000) as i32) >> 19; // bit 12 and up
    let b11 = ((raw >> 7) & 1) << 11;
    let b10_5 = ((raw >> 25) & 0x3f) << 5;
    let b4_1 = ((raw >> 8) & 0xf) << 1;
    sign | (b11 | b10_5 | b4_1) as i32
}

fn imm_u(raw: u32) -> u32 {
    raw & 0xffff_f000
}

fn imm_j(raw: u32) -> i32 {
    let sign = ((raw & 0x8000_0000) as i32) >> 11; // bit 20 and up
    let b19_12 = raw & 0x000f_f000;
    let b11 = ((raw >> 20) & 1) << 11;
    let b10_1 = ((raw >> 21) & 0x3ff) << 1;
    sign | (b19_12 | b11 | b10_1) as i32
}

/// Decodes `raw`, fetched from `pc`, for RV32IM + Zicsr + Zifencei + machine-mode system
/// instructions. Never panics; anything else is [`Op::Illegal`].
pub fn decode(raw: u32, pc: u32) -> Op {
    let illegal = Op::Illegal { raw };
    if raw & 3 != 3 {
        // 16-bit (compressed) encodings: no C extension here.
        return illegal;
    }
    let (rd, rs1, rs2, f3, f7) = (rd(raw), rs1(raw), rs2(raw), funct3(raw), funct7(raw));
    match (raw >> 2) & 0x1f {
        0x0d => Op::Li { rd, value: imm_u(raw) },
        0x05 => Op::Li { rd, value: pc.wrapping_add(imm_u(raw)) },
        0x1b => {
            let target = pc.wrapping_add(imm_j(raw) as u32);
            if target & 3 != 0 {
                Op::Fault { cause: TrapCause::InstructionAddressMisaligned, tval: target }
            } else {
                Op::Jal { rd, target }
            }
        }
        0x19 if f3 == 0 => Op::Jalr { rd, rs1, imm: imm_i(raw) },
        0x18 => {
            let target = pc.wrapping_add(imm_b(raw) as u32);
            let cond = match f3 {
                0 => Cond::Eq,
                1 => Cond::Ne,
                4 => Cond::Lt,
                5 => Cond::Ge,
                6 => Cond::Ltu,
                7 => Cond::Geu,
                _ => return illegal,
            };
            if target & 3 != 0 {
                return Op::BranchMisaligned { cond, rs1, rs2, target };
            }
            match cond {
                Cond::Eq => Op::Beq { rs1, rs2, target },
                Cond::Ne => Op::Bne { rs1, rs2, target },
                Cond::Lt => Op::Blt { rs1, rs2, target },
                Cond::Ge => Op::Bge { rs1, rs2, target },
                Cond::Ltu => Op::Bltu { rs1, rs2, target },
                Cond::Geu => Op::Bgeu { rs1, rs2, target },
            }
        }
        0x00 => {
            let imm = imm_i(raw);
            match f3 {
                0 => Op::Lb { rd, rs1, imm },
                1 => Op::Lh { rd, rs1, imm },
                2 => Op::Lw { rd, rs1, imm },
                4 => Op::Lbu { rd, rs1, imm },
                5 => Op::Lhu { rd, rs1, imm },
                _ => illegal,
            }
        }
        0x08 => {
            let imm = imm_s(raw);
            match f3 {
                0 => Op::Sb { rs1, rs2, imm },
                1 => Op::Sh { rs1, rs2, imm },
                2 => Op::Sw { rs1, rs2, imm },
                _ => illegal,
            }
        }
        0x04 => {
            let imm = imm_i(raw);
            let shamt = rs2;
            match (f3, f7) {
                (0, _) => Op::Addi { rd, rs1, imm },
                (2, _) => Op::Slti { rd, rs1, imm },
                (3, _) => Op::Sltiu { rd, rs1, imm },
                (4, _) => Op::Xori { rd, rs1, imm },
                (6, _) => Op::Ori { rd, rs1, imm },
                (7, _) => Op::Andi { rd, rs1, imm },
                (1, 0x00) => Op::Slli { rd, rs1, shamt },
                (5, 0x00) => Op::Srli { rd, rs1, shamt },
                (5, 0x20) => Op::Srai { rd, rs1, shamt },
                _ => illegal,
            }
        }
        0x0c => match (f7, f3) {
            (0x00, 0) => Op::Add { rd, rs1, rs2 },
            (0x20, 0) => Op::Sub { rd, rs1, rs2 },
            (0x00, 1) => Op::Sll { rd, rs1, rs2 },
            (0x00, 2) => Op::Slt { rd, rs1, rs2 },
            (0x00, 3) => Op::Sltu { rd, rs1, rs2 },
            (0x00, 4) => Op::Xor { rd, rs1, rs2 },
            (0x00, 5) => Op::Srl { rd, rs1, rs2 },
            (0x20, 5) => Op::Sra { rd, rs1, rs2 },
            (0x00, 6) => Op::Or { rd, rs1, rs2 },
            (0x00, 7) => Op::And { rd, rs1, rs2 },
            (0x01, 0) => Op::Mul { rd, rs1, rs2 },
            (0x01, 1) => Op::Mulh { rd, rs1, rs2 },
            (0x01, 2) => Op::Mulhsu { rd, rs1, rs2 },
            (0x01, 3) => Op::Mulhu { rd, rs1, rs2 },
            (0x01, 4) => Op::Div { rd, rs1, rs2 },
            (0x01, 5) => Op::Divu { rd, rs1, rs2 },
            (0x01, 6) => Op::Rem { rd, rs1, rs2 },
            (0x01, 7) => Op::Remu { rd, rs1, rs2 },
            _ => illegal,
        },
        // MISC-MEM: unused fence fields are reserved for hints and must be ignored.
        0x03 => match f3 {
            0 => Op::Fence,
            1 => Op::FenceI,
            _ => illegal,
        },
        0x1c => {
            let csr = (raw >> 20) as u16;
            let op = match f3 {
                0 => {
                    return match raw {
                        0x0000_0073 => Op::Ecall,
                        0x0010_0073 => Op::Ebreak,
                        0x3020_0073 => Op::Mret,
                        0x1050_0073 => Op::Wfi,
                        _ => illegal,
                    }
                }
                1 => CsrOp::Rw,
                2 => CsrOp::Rs,
                3 => CsrOp::Rc,
                5 => CsrOp::Rwi,
                6 => CsrOp::Rsi,
                7 => CsrOp::Rci,
                _ => return illegal,
            };
            Op::Csr { op, rd, src: rs1, csr }
        }
        _ => illegal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PC: u32 = 0x8000_0100;

    #[test]
    fn op_is_eight_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 8);
    }

    #[test]
    fn u_type() {
        // lui a0, 0x12345 / auipc t0, 0xfffff
        assert_eq!(decode(0x1234_5537, PC), Op::Li { rd: 10, value: 0x1234_5000 });
        assert_eq!(decode(0xffff_f297, PC), Op::Li { rd: 5, value: PC.wrapping_sub(0x1000) });
        // lui x0, 1: the write goes to the sink
        assert_eq!(decode(0x0000_1037, PC), Op::Li { rd: SINK, value: 0x1000 });
    }

    #[test]
    fn j_type_and_jalr() {
        // jal ra, +0x10 / jal x0, -4 / jal to pc+2 (misaligned, only via raw bits)
        assert_eq!(decode(0x0100_00ef, PC), Op::Jal { rd: 1, target: PC + 0x10 });
        assert_eq!(decode(0xffdf_f06f, PC), Op::Jal { rd: SINK, target: PC - 4 });
        assert_eq!(decode(0x0020_006f, PC), Op::Fault { cause: TrapCause::InstructionAddressMisaligned, tval: PC + 2 });
        // jal far: imm = 0x7fffe (all bits set but sign) -> +0xffffe
        assert_eq!(
            decode(0x7fff_f06f, PC),
            Op::Fault { cause: TrapCause::InstructionAddressMisaligned, tval: PC + 0xffffe }
        );
        assert_eq!(decode(0x7fdf_f06f, PC), Op::Jal { rd: SINK, target: PC + 0xffffc });
        // jalr s3, 8(sp) / jalr with funct3 != 0 is reserved
        assert_eq!(decode(0x0081_09e7, PC), Op::Jalr { rd: 19, rs1: 2, imm: 8 });
        assert_eq!(decode(0x0081_19e7, PC), Op::Illegal { raw: 0x0081_19e7 });
    }

    #[test]
    fn b_type() {
        // beq a0, a1, +8 / bne t0, t1, -8 / bgeu with max negative offset
        assert_eq!(decode(0x00b5_0463, PC), Op::Beq { rs1: 10, rs2: 11, target: PC + 8 });
        assert_eq!(decode(0xfe62_9ce3, PC), Op::Bne { rs1: 5, rs2: 6, target: PC - 8 });
        assert_eq!(decode(0x8000_7063, PC), Op::Bgeu { rs1: 0, rs2: 0, target: PC - 0x1000 });
        assert_eq!(decode(0x0000_4163, PC), Op::BranchMisaligned { cond: Cond::Lt, rs1: 0, rs2: 0, target: PC + 2 });
        assert_eq!(decode(0x0000_2063, PC), Op::Illegal { raw: 0x0000_2063 });
    }

    #[test]
    fn loads_and_stores() {
        // lw a0, -4(sp) / lbu t0, 2047(a1) / sw a1, -2048(a0) / sh t0, 6(sp)
        assert_eq!(decode(0xffc1_2503, PC), Op::Lw { rd: 10, rs1: 2, imm: -4 });
        assert_eq!(decode(0x7ff5_c283, PC), Op::Lbu { rd: 5, rs1: 11, imm: 2047 });
        assert_eq!(decode(0x80b5_2023, PC), Op::Sw { rs1: 10, rs2: 11, imm: -2048 });
        assert_eq!(decode(0x0051_1323, PC), Op::Sh { rs1: 2, rs2: 5, imm: 6 });
        // ld / lwu / sd are RV64 only
        for raw in [0x0001_3503, 0x0001_6503, 0x00a1_3023] {
            assert_eq!(decode(raw, PC), Op::Illegal { raw });
        }
    }

    #[test]
    fn i_type_alu_and_shifts() {
        assert_eq!(decode(0x8005_0513, PC), Op::Addi { rd: 10, rs1: 10, imm: -2048 });
        assert_eq!(decode(0xfff5_b513, PC), Op::Sltiu { rd: 10, rs1: 11, imm: -1 });
        assert_eq!(decode(0x01f5_1513, PC), Op::Slli { rd: 10, rs1: 10, shamt: 31 });
        assert_eq!(decode(0x4015_5513, PC), Op::Srai { rd: 10, rs1: 10, shamt: 1 });
        assert_eq!(decode(0x0015_5513, PC), Op::Srli { rd: 10, rs1: 10, shamt: 1 });
        // shamt[5] set is reserved on RV32; srli with funct7 0x20 in slli position too
        for raw in [0x0205_1513, 0x4015_1513, 0x2015_5513] {
            assert_eq!(decode(raw, PC), Op::Illegal { raw });
        }
        // nop
        assert_eq!(decode(0x0000_0013, PC), Op::Addi { rd: SINK, rs1: 0, imm: 0 });
    }

    #[test]
    fn r_type_and_m_extension() {
        assert_eq!(decode(0x00b5_0533, PC), Op::Add { rd: 10, rs1: 10, rs2: 11 });
        assert_eq!(decode(0x40b5_0533, PC), Op::Sub { rd: 10, rs1: 10, rs2: 11 });
        assert_eq!(decode(0x40b5_5533, PC), Op::Sra { rd: 10, rs1: 10, rs2: 11 });
        assert_eq!(decode(0x02b5_0533, PC), Op::Mul { rd: 10, rs1: 10, rs2: 11 });
        assert_eq!(decode(0x02b5_2533, PC), Op::Mulhsu { rd: 10, rs1: 10, rs2: 11 });
        assert_eq!(decode(0x02b5_7533, PC), Op::Remu { rd: 10, rs1: 10, rs2: 11 });
        for raw in [0x40b5_1533, 0x04b5_0533, 0x02b5_053b] {
            assert_eq!(decode(raw, PC), Op::Illegal { raw });
        }
    }

    #[test]
    fn system_and_fences() {
        assert_eq!(decode(0x0000_0073, PC), Op::Ecall);
        assert_eq!(decode(0x0010_0073, PC), Op::Ebreak);
        assert_eq!(decode(0x3020_0073, PC), Op::Mret);
        assert_eq!(decode(0x1050_0073, PC), Op::Wfi);
        assert_eq!(decode(0x0ff0_000f, PC), Op::Fence);
        assert_eq!(decode(0x0000_100f, PC), Op::FenceI);
        // csrr a0, mhartid / csrwi mstatus, 0 / csrrs x0, mscratch, t0
        assert_eq!(decode(0xf140_2573, PC), Op::Csr { op: CsrOp::Rs, rd: 10, src: 0, csr: 0xf14 });
        assert_eq!(decode(0x3000_5073, PC), Op::Csr { op: CsrOp::Rwi, rd: SINK, src: 0, csr: 0x300 });
        assert_eq!(decode(0x3402_a073, PC), Op::Csr { op: CsrOp::Rs, rd: SINK, src: 5, csr: 0x340 });
        // sret, uret, sfence.vma, ecall with a non-zero field, funct3 4
        for raw in [0x1020_0073, 0x0020_0073, 0x1200_0073, 0x0000_00f3, 0x0000_4073] {
            assert_eq!(decode(raw, PC), Op::Illegal { raw });
        }
    }

    #[test]
    fn reserved_words_are_illegal() {
        for raw in [0, 0xffff_ffff, 0x0000_0001, 0x0000_0053, 0x0000_002f, 0x0000_0007, 0x0000_201b] {
            assert_eq!(decode(raw, PC), Op::Illegal { raw });
        }
    }
}
