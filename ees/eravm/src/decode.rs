//! One 64-bit instruction word into the decoded form the interpreter runs.
//!
//! Decoding never fails: an undefined table entry becomes [`Op::Invalid`], which the
//! machine turns into a panic (all ergs burnt) when, and only when, it is executed — the
//! bytes after the code (constants, the compiler's metadata, padding) are decoded too and
//! must not stop a valid contract from running.

use crate::encoding::Raw;
use crate::table::{Dst, Family, Modifiers, Op, Src, VARIANTS};

/// The execution condition of an instruction (bits 13–15), tested against the three
/// arithmetic flags. An instruction whose condition does not hold is a `nop` (no operand
/// is read, no stack pointer moves) that still costs its ergs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cond {
    Always = 0,
    Gt = 1,
    Lt = 2,
    Eq = 3,
    Ge = 4,
    Le = 5,
    Ne = 6,
    GtOrLt = 7,
}

impl Cond {
    pub const ALL: [Cond; 8] = [Cond::Always, Cond::Gt, Cond::Lt, Cond::Eq, Cond::Ge, Cond::Le, Cond::Ne, Cond::GtOrLt];

    /// The condition with encoding `bits` (only the low three bits are used).
    pub const fn from_bits(bits: u8) -> Cond {
        Cond::ALL[(bits & 0b111) as usize]
    }

    /// The condition's truth table over the eight flag states: bit `s` is set when the
    /// condition holds in state `s = lt | eq << 1 | gt << 2` (see [`flag_state`]). The
    /// interpreter can keep the flags as that 3-bit state and test a condition with one
    /// shift and mask, no branch on the condition kind.
    pub const fn truth_table(self) -> u8 {
        let mut table = 0u8;
        let mut state = 0u8;
        while state < 8 {
            let (lt, eq, gt) = (state & 1 != 0, state & 2 != 0, state & 4 != 0);
            // zk_evm `read_and_decode`, "resolve condition once".
            let holds = match self {
                Cond::Always => true,
                Cond::Gt => gt,
                Cond::Lt => lt,
                Cond::Eq => eq,
                Cond::Ge => gt || eq,
                Cond::Le => lt || eq,
                Cond::Ne => !eq,
                Cond::GtOrLt => gt || lt,
            };
            if holds {
                table |= 1 << state;
            }
            state += 1;
        }
        table
    }

    /// Whether the condition holds for the flags `lt` (less-than or overflow), `eq`, `gt`.
    pub const fn holds(self, lt: bool, eq: bool, gt: bool) -> bool {
        (self.truth_table() >> flag_state(lt, eq, gt)) & 1 != 0
    }

    /// The listing's suffix (`.gt`, …); empty for `Always`. `GtOrLt` has no spelling in
    /// the compiler's condition codes; `.gtlt` is ours.
    pub const fn suffix(self) -> &'static str {
        match self {
            Cond::Always => "",
            Cond::Gt => ".gt",
            Cond::Lt => ".lt",
            Cond::Eq => ".eq",
            Cond::Ge => ".ge",
            Cond::Le => ".le",
            Cond::Ne => ".ne",
            Cond::GtOrLt => ".gtlt",
        }
    }
}

/// The flags as one 3-bit state, the index into [`Cond::truth_table`].
pub const fn flag_state(lt: bool, eq: bool, gt: bool) -> u8 {
    (lt as u8) | ((eq as u8) << 1) | ((gt as u8) << 2)
}

/// A decoded instruction: 16 bytes, every field at a fixed place, nothing left to look up.
///
/// `op`, `src`, `dst` and `modifiers` are the table entry of `variant`; an interpreter can
/// `match` on `op` (50 values) and test the modes, or keep its own 2,048-entry array of
/// handlers specialised per addressing mode and index it with `variant`. Register fields
/// are 0–15, `r0` being the constant zero (a write to it is dropped); the machine may map
/// a destination `r0` to a sink slot as the RISC-V EE does, the decoder keeps the number the
/// listing shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Instruction {
    pub op: Op,
    pub src: Src,
    pub dst: Dst,
    pub modifiers: Modifiers,
    pub cond: Cond,
    pub src0: u8,
    pub src1: u8,
    pub dst0: u8,
    pub dst1: u8,
    /// Source immediate, or the address part of a memory source; jump, near-call and
    /// far-call-handler targets; the label of `retl`/`revl`/`pncl`.
    pub imm0: u16,
    /// Destination address part; the near call's exception handler.
    pub imm1: u16,
    /// The table index the instruction came from (bits 0–10).
    pub variant: u16,
}

impl Instruction {
    /// What an out-of-range program counter reads: zk_evm reads zero past the code, and
    /// the all-zero word is table entry 0, the invalid opcode.
    pub const INVALID: Instruction = Instruction::decode(Raw(0));

    /// Decodes one instruction word. Total: every `u64` decodes to something.
    pub const fn decode(raw: Raw) -> Instruction {
        let variant = raw.variant();
        let v = VARIANTS[variant as usize];
        Instruction {
            op: v.op,
            src: v.src,
            dst: v.dst,
            modifiers: v.modifiers,
            cond: Cond::from_bits(raw.cond()),
            src0: raw.src0(),
            src1: raw.src1(),
            dst0: raw.dst0(),
            dst1: raw.dst1(),
            imm0: raw.imm0(),
            imm1: raw.imm1(),
            variant,
        }
    }

    pub const fn family(&self) -> Family {
        self.op.family()
    }

    pub const fn is_invalid(&self) -> bool {
        matches!(self.op, Op::Invalid)
    }

    pub const fn has(&self, modifier: Modifiers) -> bool {
        self.modifiers.contains(modifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(variant: u16, cond: u8) -> Raw {
        Raw::encode(variant, cond, 1, 2, 3, 4, 0x1234, 0x5678)
    }

    #[test]
    fn decoded_form_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Instruction>(), 16);
    }

    /// The condition code sits in bits 13–15 in the reference's order.
    #[test]
    fn conditions_decode_in_order() {
        for (bits, cond) in Cond::ALL.iter().enumerate() {
            assert_eq!(Instruction::decode(word(25, bits as u8)).cond, *cond);
        }
    }

    /// Every condition against every flag state, written out from zk_evm's rules.
    #[test]
    fn condition_truth_tables() {
        // States: lt = bit 0, eq = bit 1, gt = bit 2.
        assert_eq!(Cond::Always.truth_table(), 0xff);
        assert_eq!(Cond::Gt.truth_table(), 0b1111_0000);
        assert_eq!(Cond::Lt.truth_table(), 0b1010_1010);
        assert_eq!(Cond::Eq.truth_table(), 0b1100_1100);
        assert_eq!(Cond::Ge.truth_table(), 0b1111_1100);
        assert_eq!(Cond::Le.truth_table(), 0b1110_1110);
        assert_eq!(Cond::Ne.truth_table(), 0b0011_0011);
        assert_eq!(Cond::GtOrLt.truth_table(), 0b1111_1010);
        // The usual outcomes of `sub!`: a < b sets lt only, a == b eq only, a > b gt only.
        assert!(Cond::Lt.holds(true, false, false) && !Cond::Lt.holds(false, true, false));
        assert!(Cond::Le.holds(false, true, false) && !Cond::Le.holds(false, false, true));
        assert!(Cond::Ne.holds(false, false, true) && !Cond::Ne.holds(false, true, false));
        assert!(Cond::GtOrLt.holds(true, false, false) && !Cond::GtOrLt.holds(false, true, false));
    }

    #[test]
    fn registers_and_immediates_are_carried() {
        let i = Instruction::decode(word(25, 0));
        assert_eq!((i.src0, i.src1, i.dst0, i.dst1), (1, 2, 3, 4));
        assert_eq!((i.imm0, i.imm1), (0x1234, 0x5678));
        assert_eq!(i.variant, 25);
    }

    /// Each of the six source modes, through `add` (base 25: 25 + 8·src + 2·dst + set_flags).
    #[test]
    fn each_source_mode() {
        for (k, mode) in Src::ALL.iter().enumerate() {
            let i = Instruction::decode(word(25 + 8 * k as u16, 0));
            assert_eq!((i.op, i.src, i.dst), (Op::Add, *mode, Dst::Reg));
        }
    }

    /// Each of the four destination modes, through `sub.s!` (73 + 16·src + 4·dst + 2 + 1).
    #[test]
    fn each_destination_mode() {
        for (k, mode) in Dst::ALL.iter().enumerate() {
            let i = Instruction::decode(word(73 + 4 * k as u16 + 3, 0));
            assert_eq!((i.op, i.src, i.dst), (Op::Sub, Src::Reg, *mode));
            assert!(i.has(Modifiers::SET_FLAGS) && i.has(Modifiers::SWAP));
        }
    }

    #[test]
    fn register_or_immediate_sources_of_heap_ops() {
        assert_eq!(Instruction::decode(word(1075, 0)).src, Src::Reg);
        let imm = Instruction::decode(word(1085, 0));
        assert_eq!((imm.op, imm.src), (Op::HeapRead, Src::Imm));
        let inc = Instruction::decode(word(1092, 0));
        assert_eq!((inc.op, inc.src, inc.modifiers), (Op::AuxHeapWrite, Src::Imm, Modifiers::INCREMENT));
    }

    #[test]
    fn invalid_opcodes() {
        for variant in [0, 1104, 1500, 2047] {
            let i = Instruction::decode(word(variant, 3));
            assert!(i.is_invalid(), "{variant}");
            // The fields are still carried, for diagnostics; the machine ignores them.
            assert_eq!((i.variant, i.cond), (variant, Cond::Eq));
        }
        assert!(Instruction::decode(Raw(0)).is_invalid());
        assert!(Instruction::INVALID.is_invalid());
        assert!(!Instruction::decode(word(1103, 0)).is_invalid());
        // Bits 11–12 do not widen the index: 2047 | (1 << 11) is still entry 2047.
        assert!(Instruction::decode(Raw(2047 | (1 << 11))).is_invalid());
    }

    /// Reserved bits are ignored, as by zk_evm, vm2 and the circuit: same decoding.
    #[test]
    fn reserved_bits_do_not_change_the_decoding() {
        let plain = word(57, 2);
        let with_reserved = Raw(plain.0 | (0b11 << 11));
        assert!(!with_reserved.is_canonical());
        assert_eq!(Instruction::decode(with_reserved), Instruction::decode(plain));
    }
}
