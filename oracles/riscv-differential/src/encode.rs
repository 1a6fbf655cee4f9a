//! RV32IM instruction encodings (the base formats), independent of `ee_riscv::asm`.

/// R-type: `funct7 rs2 rs1 funct3 rd opcode`.
pub fn r(f7: u32, rs2: u8, rs1: u8, f3: u32, rd: u8, opcode: u32) -> u32 {
    (f7 << 25) | (u32::from(rs2) << 20) | (u32::from(rs1) << 15) | (f3 << 12) | (u32::from(rd) << 7) | opcode
}

/// I-type with a 12-bit signed immediate.
pub fn i(imm: i32, rs1: u8, f3: u32, rd: u8, opcode: u32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (u32::from(rs1) << 15) | (f3 << 12) | (u32::from(rd) << 7) | opcode
}

/// S-type (stores).
pub fn s(imm: i32, rs2: u8, rs1: u8, f3: u32) -> u32 {
    let imm = imm as u32 & 0xfff;
    ((imm >> 5) << 25) | (u32::from(rs2) << 20) | (u32::from(rs1) << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23
}

/// B-type (branches); `off` is even, in ±4 KiB.
pub fn b(off: i32, rs2: u8, rs1: u8, f3: u32) -> u32 {
    let o = off as u32;
    (((o >> 12) & 1) << 31)
        | (((o >> 5) & 0x3f) << 25)
        | (u32::from(rs2) << 20)
        | (u32::from(rs1) << 15)
        | (f3 << 12)
        | (((o >> 1) & 0xf) << 8)
        | (((o >> 11) & 1) << 7)
        | 0x63
}

/// `jal rd, off`; `off` is even, in ±1 MiB.
pub fn jal(off: i32, rd: u8) -> u32 {
    let o = off as u32;
    (((o >> 20) & 1) << 31)
        | (((o >> 1) & 0x3ff) << 21)
        | (((o >> 11) & 1) << 20)
        | (((o >> 12) & 0xff) << 12)
        | (u32::from(rd) << 7)
        | 0x6f
}

pub fn jalr(rd: u8, rs1: u8, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x67)
}

pub fn lui(rd: u8, upper: u32) -> u32 {
    (upper & 0xffff_f000) | (u32::from(rd) << 7) | 0x37
}

pub fn auipc(rd: u8, upper: u32) -> u32 {
    (upper & 0xffff_f000) | (u32::from(rd) << 7) | 0x17
}

pub fn addi(rd: u8, rs1: u8, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}

/// `lui` + `addi`: `rd = value` in exactly two instructions.
pub fn li(rd: u8, value: u32) -> [u32; 2] {
    let lo = ((value & 0xfff) as i32) << 20 >> 20;
    let hi = value.wrapping_sub(lo as u32);
    [lui(rd, hi), addi(rd, rd, lo)]
}

pub const ECALL: u32 = 0x0000_0073;
pub const EBREAK: u32 = 0x0010_0073;
pub const FENCE: u32 = 0x0ff0_000f;
pub const FENCE_I: u32 = 0x0000_100f;

/// Loads: funct3 of lb, lh, lw, lbu, lhu, and their widths.
pub const LOADS: [(u32, u32, &str); 5] = [(0, 1, "lb"), (1, 2, "lh"), (2, 4, "lw"), (4, 1, "lbu"), (5, 2, "lhu")];
/// Stores: funct3 of sb, sh, sw, and their widths.
pub const STORES: [(u32, u32, &str); 3] = [(0, 1, "sb"), (1, 2, "sh"), (2, 4, "sw")];
/// Register-register ops (funct7, funct3), RV32I and M.
pub const REG_OPS: [(u32, u32, &str); 18] = [
    (0x00, 0, "add"),
    (0x20, 0, "sub"),
    (0x00, 1, "sll"),
    (0x00, 2, "slt"),
    (0x00, 3, "sltu"),
    (0x00, 4, "xor"),
    (0x00, 5, "srl"),
    (0x20, 5, "sra"),
    (0x00, 6, "or"),
    (0x00, 7, "and"),
    (0x01, 0, "mul"),
    (0x01, 1, "mulh"),
    (0x01, 2, "mulhsu"),
    (0x01, 3, "mulhu"),
    (0x01, 4, "div"),
    (0x01, 5, "divu"),
    (0x01, 6, "rem"),
    (0x01, 7, "remu"),
];
/// Immediate ALU ops by funct3 (shifts separately).
pub const IMM_OPS: [(u32, &str); 6] = [(0, "addi"), (2, "slti"), (3, "sltiu"), (4, "xori"), (6, "ori"), (7, "andi")];
/// Branch funct3.
pub const BRANCHES: [(u32, &str); 6] = [(0, "beq"), (1, "bne"), (4, "blt"), (5, "bge"), (6, "bltu"), (7, "bgeu")];

#[cfg(test)]
mod tests {
    use super::*;
    use ee_riscv::decode::{decode, Op};

    #[test]
    fn encodings_decode_back() {
        const PC: u32 = 0x8000_0100;
        assert_eq!(decode(jal(-8, 1), PC), Op::Jal { rd: 1, target: PC - 8 });
        assert_eq!(decode(jal(0xffffc, 5), PC), Op::Jal { rd: 5, target: PC + 0xffffc });
        assert_eq!(decode(b(-4096, 2, 1, 7), PC), Op::Bgeu { rs1: 1, rs2: 2, target: PC - 4096 });
        assert_eq!(decode(b(4092, 2, 1, 0), PC), Op::Beq { rs1: 1, rs2: 2, target: PC + 4092 });
        assert_eq!(decode(s(-2048, 3, 4, 2), PC), Op::Sw { rs1: 4, rs2: 3, imm: -2048 });
        assert_eq!(decode(s(2047, 3, 4, 0), PC), Op::Sb { rs1: 4, rs2: 3, imm: 2047 });
        assert_eq!(decode(jalr(1, 2, -1), PC), Op::Jalr { rd: 1, rs1: 2, imm: -1 });
        for v in [0, 1, 0x7ff, 0x800, 0xfff, 0x8000_0000, 0x7fff_ffff, 0xffff_ffff, 0x1234_5678] {
            let [hi, lo] = li(7, v);
            let Op::Li { value, .. } = decode(hi, PC) else { panic!("lui") };
            let Op::Addi { imm, .. } = decode(lo, PC) else { panic!("addi") };
            assert_eq!(value.wrapping_add(imm as u32), v);
        }
    }
}
