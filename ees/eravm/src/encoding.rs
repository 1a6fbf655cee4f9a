//! The bit fields of one 64-bit EraVM instruction word, before any table lookup.
//!
//! Layout (`zkevm_opcode_defs` 0.153.12, `decoding/encoding_mode_production.rs` and the
//! `*_SHIFT` constants in `lib.rs`; the same in the compiler's `EraVMInstrFormats.td`):
//!
//! ```text
//!  63      48 47      32 31  28 27  24 23  20 19  16 15  13 12 11 10        0
//! +----------+----------+------+------+------+------+------+-----+-----------+
//! |   imm1   |   imm0   | dst1 | dst0 | src1 | src0 | cond | 0 0 |  variant  |
//! +----------+----------+------+------+------+------+------+-----+-----------+
//! ```
//!
//! Within each register byte the *low* nibble is the first register (`split_as_u4`): bits
//! 16–19 are src0, 20–23 src1, 24–27 dst0, 28–31 dst1.
//!
//! A code word holds four instructions, big-endian, the first in the most significant
//! bytes (`integer_representaiton_from_u256`: sub-PC 0 is limb 3 of the word).

/// Width of the variant index: the opcode table has `1 << 11` entries.
pub const VARIANT_BITS: u32 = 11;
/// Mask of the variant index (bits 0–10).
pub const VARIANT_MASK: u64 = (1 << VARIANT_BITS) - 1;
/// Bits 11–12: unused by ISA v2. `is_canonical_encoding` in the reference crate wants them
/// zero, but no executor looks at them (see [`Raw::reserved_bits`]).
pub const RESERVED_SHIFT: u32 = 11;
/// Mask of the reserved bits in place.
pub const RESERVED_MASK: u64 = 0b11 << RESERVED_SHIFT;
/// Bits 13–15: the execution condition.
pub const COND_SHIFT: u32 = 13;
/// Bits 16–23: src0 (low nibble) and src1 (high nibble).
pub const SRC_REGS_SHIFT: u32 = 16;
/// Bits 24–31: dst0 (low nibble) and dst1 (high nibble).
pub const DST_REGS_SHIFT: u32 = 24;
/// Bits 32–47: the first immediate (source operand, jump and call targets).
pub const IMM0_SHIFT: u32 = 32;
/// Bits 48–63: the second immediate (destination operand, exception handler).
pub const IMM1_SHIFT: u32 = 48;

/// Bytes per instruction and instructions per 32-byte code word.
pub const INSTRUCTION_BYTES: usize = 8;
pub const INSTRUCTIONS_PER_WORD: usize = 4;

/// One undecoded instruction word, with accessors for its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Raw(pub u64);

impl Raw {
    /// The instruction at `bytes[0..8]`, big-endian (the on-chain byte order).
    pub fn from_be_bytes(bytes: [u8; 8]) -> Raw {
        Raw(u64::from_be_bytes(bytes))
    }

    /// Index into the 2,048-entry opcode table.
    pub const fn variant(self) -> u16 {
        (self.0 & VARIANT_MASK) as u16
    }

    /// The two bits between the variant and the condition. Every executor of record ignores
    /// them: zk_evm's `read_and_decode` masks the variant with the low 11 bits and reads the
    /// condition from bits 13–15, the circuit decomposes the two bits as free booleans that
    /// nothing constrains, and vm2 decodes through the same masks. So a non-zero value does
    /// not make an instruction invalid; it is exposed for tools that want to flag it.
    pub const fn reserved_bits(self) -> u8 {
        ((self.0 & RESERVED_MASK) >> RESERVED_SHIFT) as u8
    }

    /// Whether the reserved bits are zero (`EncodingModeProduction::is_canonical_encoding`).
    pub const fn is_canonical(self) -> bool {
        self.reserved_bits() == 0
    }

    /// The 3-bit condition code (0 = always).
    pub const fn cond(self) -> u8 {
        ((self.0 >> COND_SHIFT) & 0b111) as u8
    }

    pub const fn src0(self) -> u8 {
        ((self.0 >> SRC_REGS_SHIFT) & 0xf) as u8
    }

    pub const fn src1(self) -> u8 {
        ((self.0 >> (SRC_REGS_SHIFT + 4)) & 0xf) as u8
    }

    pub const fn dst0(self) -> u8 {
        ((self.0 >> DST_REGS_SHIFT) & 0xf) as u8
    }

    pub const fn dst1(self) -> u8 {
        ((self.0 >> (DST_REGS_SHIFT + 4)) & 0xf) as u8
    }

    pub const fn imm0(self) -> u16 {
        (self.0 >> IMM0_SHIFT) as u16
    }

    pub const fn imm1(self) -> u16 {
        (self.0 >> IMM1_SHIFT) as u16
    }

    /// Assembles a word from its fields (the inverse of the accessors; unit tests and
    /// hand-written programs use it). Register numbers and `cond` are masked to their width.
    #[allow(clippy::too_many_arguments)]
    pub const fn encode(variant: u16, cond: u8, src0: u8, src1: u8, dst0: u8, dst1: u8, imm0: u16, imm1: u16) -> Raw {
        Raw((variant as u64 & VARIANT_MASK)
            | ((cond as u64 & 0b111) << COND_SHIFT)
            | ((src0 as u64 & 0xf) << SRC_REGS_SHIFT)
            | ((src1 as u64 & 0xf) << (SRC_REGS_SHIFT + 4))
            | ((dst0 as u64 & 0xf) << DST_REGS_SHIFT)
            | ((dst1 as u64 & 0xf) << (DST_REGS_SHIFT + 4))
            | ((imm0 as u64) << IMM0_SHIFT)
            | ((imm1 as u64) << IMM1_SHIFT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field round-trips, and each lands on the bits the layout diagram says.
    #[test]
    fn fields_sit_where_the_layout_says() {
        let raw = Raw::encode(0x7ff, 0b101, 0x1, 0x2, 0x3, 0x4, 0xBEEF, 0xCAFE);
        assert_eq!(raw.0, 0xCAFE_BEEF_4321_A7FF);
        assert_eq!(raw.variant(), 0x7ff);
        assert_eq!(raw.cond(), 0b101);
        assert_eq!((raw.src0(), raw.src1(), raw.dst0(), raw.dst1()), (1, 2, 3, 4));
        assert_eq!((raw.imm0(), raw.imm1()), (0xBEEF, 0xCAFE));
        assert!(raw.is_canonical());

        // One field at a time, so a swapped pair of fields cannot cancel out.
        assert_eq!(Raw::encode(0, 0, 0xf, 0, 0, 0, 0, 0).0, 0xf << 16);
        assert_eq!(Raw::encode(0, 0, 0, 0xf, 0, 0, 0, 0).0, 0xf << 20);
        assert_eq!(Raw::encode(0, 0, 0, 0, 0xf, 0, 0, 0).0, 0xf << 24);
        assert_eq!(Raw::encode(0, 0, 0, 0, 0, 0xf, 0, 0).0, 0xf << 28);
        assert_eq!(Raw::encode(0, 7, 0, 0, 0, 0, 0, 0).0, 0b111 << 13);
        assert_eq!(Raw::encode(0, 0, 0, 0, 0, 0, 1, 0).0, 1 << 32);
        assert_eq!(Raw::encode(0, 0, 0, 0, 0, 0, 0, 1).0, 1 << 48);
    }

    #[test]
    fn reserved_bits_are_bits_11_and_12() {
        assert_eq!(Raw(1 << 11).reserved_bits(), 0b01);
        assert_eq!(Raw(1 << 12).reserved_bits(), 0b10);
        assert!(!Raw(1 << 12).is_canonical());
        // They belong neither to the variant nor to the condition.
        assert_eq!(Raw(0b11 << 11).variant(), 0);
        assert_eq!(Raw(0b11 << 11).cond(), 0);
    }

    /// `incsp 2` as zksolc emits it (EmptyContract-style prologue): big-endian bytes.
    #[test]
    fn bytes_are_big_endian() {
        let raw = Raw::from_be_bytes([0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02]);
        assert_eq!(raw.variant(), 2);
        assert_eq!(raw.imm1(), 2);
        assert_eq!(raw.imm0(), 0);
    }
}
