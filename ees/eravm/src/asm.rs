//! The inverse of the decoder: an [`Instruction`] back to its 64-bit word, and a tiny
//! assembler that turns a list of instructions into valid bytecode. Tests and the vm2
//! differential use it to write programs; nothing at run time needs it.

use crate::decode::{Cond, Instruction};
use crate::encoding::{Raw, INSTRUCTIONS_PER_WORD, INSTRUCTION_BYTES};
use crate::program::WORD_BYTES;
use crate::table::{Dst, Modifiers, Op, Src, Variant, DEFINED_VARIANTS, VARIANTS};

/// The table index of a variant, if ISA v2 defines it (`Op::Invalid` maps to entry 0).
/// A linear scan over the 1,104 defined entries: only assemblers call it.
pub fn variant_index(v: Variant) -> Option<u16> {
    if v.op == Op::Invalid {
        return Some(0);
    }
    VARIANTS[..DEFINED_VARIANTS].iter().position(|e| *e == v).map(|i| i as u16)
}

impl Instruction {
    /// The 64-bit word this instruction decodes from: the variant index it carries, the
    /// condition, the registers and both immediates. `Instruction::decode(i.encode()) == i`
    /// for every decoded instruction.
    pub const fn encode(&self) -> Raw {
        Raw::encode(self.variant, self.cond as u8, self.src0, self.src1, self.dst0, self.dst1, self.imm0, self.imm1)
    }

    /// An instruction of the given operation, addressing modes and modifiers, with every
    /// register and immediate zero and condition `Always`; `None` when the table has no such
    /// variant (e.g. `add` with the swap modifier, a jump with a stack destination).
    pub fn new(op: Op, src: Src, dst: Dst, modifiers: Modifiers) -> Option<Instruction> {
        let variant = variant_index(Variant { op, src, dst, modifiers })?;
        Some(Instruction::decode(Raw::encode(variant, 0, 0, 0, 0, 0, 0, 0)))
    }

    /// Builder: the condition.
    pub const fn when(mut self, cond: Cond) -> Instruction {
        self.cond = cond;
        self
    }

    /// Builder: the four register fields (src0, src1, dst0, dst1), each 0–15.
    pub const fn regs(mut self, src0: u8, src1: u8, dst0: u8, dst1: u8) -> Instruction {
        self.src0 = src0 & 0xf;
        self.src1 = src1 & 0xf;
        self.dst0 = dst0 & 0xf;
        self.dst1 = dst1 & 0xf;
        self
    }

    /// Builder: the two immediates.
    pub const fn imms(mut self, imm0: u16, imm1: u16) -> Instruction {
        self.imm0 = imm0;
        self.imm1 = imm1;
        self
    }
}

/// Bytecode for `instructions` (four per word, big-endian), followed by the 32-byte
/// `constants` words (what `Src::Code` reads, at word index `ceil(n/4) + k`), padded with
/// zero words to an odd word count as the format requires. Unused instruction slots are
/// zero, the invalid opcode.
pub fn assemble(instructions: &[Instruction], constants: &[[u8; 32]]) -> Vec<u8> {
    let text_words = instructions.len().div_ceil(INSTRUCTIONS_PER_WORD);
    let mut words = text_words + constants.len();
    if words.is_multiple_of(2) {
        words += 1;
    }
    let mut code = vec![0u8; words * WORD_BYTES];
    for (i, ins) in instructions.iter().enumerate() {
        code[i * INSTRUCTION_BYTES..(i + 1) * INSTRUCTION_BYTES].copy_from_slice(&ins.encode().0.to_be_bytes());
    }
    for (k, c) in constants.iter().enumerate() {
        let at = (text_words + k) * WORD_BYTES;
        code[at..at + WORD_BYTES].copy_from_slice(c);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Program;
    use crate::table::TABLE_SIZE;

    /// Every one of the 2,048 table entries, with all fields set, decodes and re-encodes
    /// to the same word; every defined variant is found again by `variant_index`.
    #[test]
    fn every_variant_round_trips() {
        for v in 0..TABLE_SIZE as u16 {
            let raw = Raw::encode(v, (v % 8) as u8, 1, 2, 3, 4, v.wrapping_mul(7), 0xffff - v);
            let ins = Instruction::decode(raw);
            assert_eq!(ins.encode(), raw, "variant {v}");
            assert_eq!(Instruction::decode(ins.encode()), ins);
            if (v as usize) < DEFINED_VARIANTS {
                assert_eq!(variant_index(VARIANTS[v as usize]), Some(v));
                let built = Instruction::new(ins.op, ins.src, ins.dst, ins.modifiers).unwrap();
                assert_eq!(built.variant, v);
            }
        }
    }

    #[test]
    fn undefined_combinations_are_refused() {
        assert!(Instruction::new(Op::Add, Src::Reg, Dst::Reg, Modifiers::SWAP).is_none());
        assert!(Instruction::new(Op::Jump, Src::Reg, Dst::StackPush, Modifiers::NONE).is_none());
    }

    #[test]
    fn assembled_code_is_valid_and_decodes_back() {
        let add = Instruction::new(Op::Add, Src::Imm, Dst::Reg, Modifiers::NONE).unwrap().regs(0, 0, 1, 0).imms(128, 0);
        let ret = Instruction::new(Op::Ret, Src::Reg, Dst::Reg, Modifiers::NONE).unwrap().regs(1, 0, 0, 0);
        let code = assemble(&[add, ret, add, ret, add], &[[0xab; 32]]);
        // 5 instructions → 2 words, 1 constant → 3 words (odd already).
        assert_eq!(code.len(), 3 * 32);
        let p = Program::new(&code).unwrap();
        assert_eq!(*p.instruction(0), add);
        assert_eq!(*p.instruction(1), ret);
        assert_eq!(*p.instruction(4), add);
        assert!(p.instruction(5).is_invalid());
        assert_eq!(p.code_word(2).to_be_bytes::<32>(), [0xab; 32]);
        // Two words of text and no constants pad to three.
        assert_eq!(assemble(&[add; 8], &[]).len(), 3 * 32);
    }
}
