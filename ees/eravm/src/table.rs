//! The opcode-variant table: what each of the 2,048 values of an instruction's low 11 bits
//! means under ISA v2.
//!
//! The table is ours, built at compile time from the layout below, and
//! `tests/opcode_table.rs` checks it entry by entry against `zkevm_opcode_defs::OPCODES_TABLE`
//! (pinned `=0.153.12`). We do not use that crate at run time: its table is a lazily built
//! array of nested enums meant for the circuit, it pulls in elliptic-curve and pairing
//! libraries, and an interpreter wants one flat byte per field instead.
//!
//! How the reference builds the table (`synthesize_opcode_decoding_tables`): entry 0 is the
//! invalid opcode; then, per ISA version in order, the variants new in that version are
//! appended, opcode by opcode in the order of `all_opcodes()`. Within a variant, addressing
//! modes vary slowest (source mode outermost, then destination mode) and the
//! "non-exclusive flags" fastest (flag 0 outer, flag 1 inner). Version 1 turned the heap
//! reads/writes' source from register-only into register-or-immediate: the v0 entries kept
//! their indices (now meaning "register") and the immediate forms were appended. Everything
//! from 1,104 on is invalid.

/// The operation, one flat byte: opcode and sub-variant together (`Add`, `HeapWrite`,
/// `FarCallDelegate`, …) so an interpreter dispatches with a single `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Op {
    /// An undefined table entry (index 0 and 1,104–2,047). Executing it burns all ergs
    /// and panics, whatever its condition (zk_evm masks it into a panic before the
    /// condition is looked at).
    Invalid,
    /// `nop`, whose only effect is the stack pointer moves of its push/pop addressing.
    Nop,
    Add,
    Sub,
    Mul,
    Div,
    Jump,
    Xor,
    And,
    Or,
    Shl,
    Shr,
    Rol,
    Ror,
    PtrAdd,
    PtrSub,
    PtrPack,
    PtrShrink,
    NearCall,
    This,
    Caller,
    CodeAddress,
    Meta,
    ErgsLeft,
    Sp,
    GetContextU128,
    SetContextU128,
    /// Formerly "set ergs per pubdata"; kernel-only.
    AuxMutating0,
    IncrementTxNumber,
    StorageRead,
    StorageWrite,
    ToL1Message,
    Event,
    PrecompileCall,
    FarCall,
    FarCallDelegate,
    FarCallMimic,
    Ret,
    Revert,
    Panic,
    HeapRead,
    HeapWrite,
    AuxHeapRead,
    AuxHeapWrite,
    FatPointerRead,
    Decommit,
    TransientStorageRead,
    TransientStorageWrite,
    /// Kernel-only static memory page (ISA v2); vm2 does not implement it either.
    StaticMemoryRead,
    StaticMemoryWrite,
}

/// The sixteen opcodes of the reference (`zkevm_opcode_defs::Opcode`), for grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Invalid,
    Nop,
    Add,
    Sub,
    Mul,
    Div,
    Jump,
    Context,
    Shift,
    Binop,
    Ptr,
    NearCall,
    Log,
    FarCall,
    Ret,
    Uma,
}

impl Op {
    pub const fn family(self) -> Family {
        use Op::*;
        match self {
            Invalid => Family::Invalid,
            Nop => Family::Nop,
            Add => Family::Add,
            Sub => Family::Sub,
            Mul => Family::Mul,
            Div => Family::Div,
            Jump => Family::Jump,
            Xor | And | Or => Family::Binop,
            Shl | Shr | Rol | Ror => Family::Shift,
            PtrAdd | PtrSub | PtrPack | PtrShrink => Family::Ptr,
            NearCall => Family::NearCall,
            This | Caller | CodeAddress | Meta | ErgsLeft | Sp | GetContextU128 | SetContextU128 | AuxMutating0
            | IncrementTxNumber => Family::Context,
            StorageRead
            | StorageWrite
            | ToL1Message
            | Event
            | PrecompileCall
            | Decommit
            | TransientStorageRead
            | TransientStorageWrite => Family::Log,
            FarCall | FarCallDelegate | FarCallMimic => Family::FarCall,
            Ret | Revert | Panic => Family::Ret,
            HeapRead | HeapWrite | AuxHeapRead | AuxHeapWrite | FatPointerRead | StaticMemoryRead
            | StaticMemoryWrite => Family::Uma,
        }
    }

    /// Whether the operation panics outside kernel mode (`requires_kernel_mode`).
    pub const fn requires_kernel(self) -> bool {
        use Op::*;
        matches!(
            self,
            SetContextU128
                | AuxMutating0
                | IncrementTxNumber
                | ToL1Message
                | Event
                | PrecompileCall
                | Decommit
                | FarCallMimic
                | StaticMemoryRead
                | StaticMemoryWrite
        )
    }

    /// Whether the operation panics in a static call (`!can_be_used_in_static_context`).
    pub const fn forbidden_in_static(self) -> bool {
        use Op::*;
        matches!(
            self,
            SetContextU128
                | AuxMutating0
                | IncrementTxNumber
                | StorageWrite
                | ToL1Message
                | Event
                | TransientStorageWrite
        )
    }
}

/// How the first source operand (`src0`) is found. The numbering is the reference's
/// `ImmMemHandlerFlags`, which is also the table's iteration order.
///
/// The memory modes compute an address `reg + imm` from register src0 and immediate imm0
/// (the low 16 bits of the register, the sum modulo 2^16; zk_evm `MemOpsProcessor`):
/// - `StackPop` lowers `sp` by the address and reads the stack at the new `sp`;
/// - `StackRel` reads the stack at `sp - address`;
/// - `StackAbs` reads the stack at `address`;
/// - `Code` reads word `address` of the code page (where the compiler puts constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Src {
    Reg = 0,
    StackPop = 1,
    StackRel = 2,
    StackAbs = 3,
    Imm = 4,
    Code = 5,
}

impl Src {
    pub const ALL: [Src; 6] = [Src::Reg, Src::StackPop, Src::StackRel, Src::StackAbs, Src::Imm, Src::Code];

    /// Whether the operand is read from memory (stack or code page).
    pub const fn is_memory(self) -> bool {
        matches!(self, Src::StackPop | Src::StackRel | Src::StackAbs | Src::Code)
    }
}

/// Where the first result (`dst0`) goes: the four of the six modes that can be written.
/// The memory modes take their address from register dst0 and immediate imm1. `StackPush`
/// raises `sp` by the address; which slot it writes differs between the implementations
/// we read (zk_evm's `MemOpsProcessor` writes at the new `sp`, vm2's `AdvanceStackPointer`
/// at the old one); the machine follows vm2, the executor in use, and the vm2 differential
/// checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Dst {
    Reg = 0,
    StackPush = 1,
    StackRel = 2,
    StackAbs = 3,
}

impl Dst {
    pub const ALL: [Dst; 4] = [Dst::Reg, Dst::StackPush, Dst::StackRel, Dst::StackAbs];

    pub const fn is_memory(self) -> bool {
        !matches!(self, Dst::Reg)
    }
}

/// The variant flags, one bit each. A table entry only ever sets the bits its operation
/// has (`SET_FLAGS` on arithmetic, `SWAP` on the non-commutative ones and pointer ops, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Modifiers(pub u8);

impl Modifiers {
    pub const NONE: Modifiers = Modifiers(0);
    /// `!`: the arithmetic operation updates the lt/eq/gt flags (else they are kept).
    pub const SET_FLAGS: Modifiers = Modifiers(1 << 0);
    /// `.s`: src0 and src1 are exchanged before the operation (sub, div, shifts, ptr ops).
    pub const SWAP: Modifiers = Modifiers(1 << 1);
    /// `.i`: the first event or L1 message of a series (the "initial" flag of log ops).
    pub const FIRST: Modifiers = Modifiers(1 << 2);
    /// `i` in `ldmi`/`stmi`/`ldpi`: the memory op also writes the address advanced by 32.
    pub const INCREMENT: Modifiers = Modifiers(1 << 3);
    /// `l` in `retl`/`revl`/`pncl`: return to the label in imm0 instead of the caller's
    /// next instruction (near frames) — the far-return trampolines use it.
    pub const TO_LABEL: Modifiers = Modifiers(1 << 4);
    /// `.st`: static far call.
    pub const STATIC: Modifiers = Modifiers(1 << 5);
    /// `.sh`: far call with the shard flag (shard id taken from the ABI).
    pub const SHARD: Modifiers = Modifiers(1 << 6);

    pub const fn contains(self, other: Modifiers) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Modifiers) -> Modifiers {
        Modifiers(self.0 | other.0)
    }
}

/// One table entry: everything the 11-bit variant index says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    pub op: Op,
    pub src: Src,
    pub dst: Dst,
    pub modifiers: Modifiers,
}

impl Variant {
    pub const INVALID: Variant = Variant { op: Op::Invalid, src: Src::Reg, dst: Dst::Reg, modifiers: Modifiers::NONE };
}

/// Number of table entries and of defined ones (index 0, the invalid opcode, included).
pub const TABLE_SIZE: usize = 1 << crate::encoding::VARIANT_BITS;
pub const DEFINED_VARIANTS: usize = 1_104;

/// The addressing a block of entries iterates over.
#[derive(Clone, Copy)]
enum Shape {
    /// Full source × full destination (6 × 4).
    Full,
    /// Full source only (jump: 6).
    SrcOnly,
    /// No addressing choice; the operand kinds are fixed (register operands).
    Fixed,
    /// Source register then immediate (the v2 static-memory ops: 2).
    RegOrImm,
    /// Immediate source only (the v1 additions to the heap ops, whose register forms
    /// kept their v0 indices).
    ImmOnly,
}

/// A run of consecutive table entries: one operation, its addressing shape, and the
/// flags it varies over (reference flag 0 first, flag 1 second).
#[derive(Clone, Copy)]
struct Block(Op, Shape, &'static [Modifiers]);

const SF: Modifiers = Modifiers::SET_FLAGS;
const SW: Modifiers = Modifiers::SWAP;
const INC: Modifiers = Modifiers::INCREMENT;

/// The table, in index order. ISA v0 up to `FatPointerRead`, then the v1 and v2 additions.
const LAYOUT: &[Block] = &[
    Block(Op::Nop, Shape::Full, &[]),
    Block(Op::Add, Shape::Full, &[SF]),
    Block(Op::Sub, Shape::Full, &[SF, SW]),
    Block(Op::Mul, Shape::Full, &[SF]),
    Block(Op::Div, Shape::Full, &[SF, SW]),
    Block(Op::Jump, Shape::SrcOnly, &[]),
    Block(Op::Xor, Shape::Full, &[SF]),
    Block(Op::And, Shape::Full, &[SF]),
    Block(Op::Or, Shape::Full, &[SF]),
    Block(Op::Shl, Shape::Full, &[SF, SW]),
    Block(Op::Shr, Shape::Full, &[SF, SW]),
    Block(Op::Rol, Shape::Full, &[SF, SW]),
    Block(Op::Ror, Shape::Full, &[SF, SW]),
    Block(Op::PtrAdd, Shape::Full, &[SW]),
    Block(Op::PtrSub, Shape::Full, &[SW]),
    Block(Op::PtrPack, Shape::Full, &[SW]),
    Block(Op::PtrShrink, Shape::Full, &[SW]),
    Block(Op::NearCall, Shape::Fixed, &[]),
    Block(Op::This, Shape::Fixed, &[]),
    Block(Op::Caller, Shape::Fixed, &[]),
    Block(Op::CodeAddress, Shape::Fixed, &[]),
    Block(Op::Meta, Shape::Fixed, &[]),
    Block(Op::ErgsLeft, Shape::Fixed, &[]),
    Block(Op::Sp, Shape::Fixed, &[]),
    Block(Op::GetContextU128, Shape::Fixed, &[]),
    Block(Op::SetContextU128, Shape::Fixed, &[]),
    Block(Op::AuxMutating0, Shape::Fixed, &[]),
    Block(Op::IncrementTxNumber, Shape::Fixed, &[]),
    Block(Op::StorageRead, Shape::Fixed, &[]),
    Block(Op::StorageWrite, Shape::Fixed, &[]),
    Block(Op::ToL1Message, Shape::Fixed, &[Modifiers::FIRST]),
    Block(Op::Event, Shape::Fixed, &[Modifiers::FIRST]),
    Block(Op::PrecompileCall, Shape::Fixed, &[]),
    Block(Op::FarCall, Shape::Fixed, &[Modifiers::STATIC, Modifiers::SHARD]),
    Block(Op::FarCallDelegate, Shape::Fixed, &[Modifiers::STATIC, Modifiers::SHARD]),
    Block(Op::FarCallMimic, Shape::Fixed, &[Modifiers::STATIC, Modifiers::SHARD]),
    Block(Op::Ret, Shape::Fixed, &[Modifiers::TO_LABEL]),
    Block(Op::Revert, Shape::Fixed, &[Modifiers::TO_LABEL]),
    Block(Op::Panic, Shape::Fixed, &[Modifiers::TO_LABEL]),
    Block(Op::HeapRead, Shape::Fixed, &[INC]),
    Block(Op::HeapWrite, Shape::Fixed, &[INC]),
    Block(Op::AuxHeapRead, Shape::Fixed, &[INC]),
    Block(Op::AuxHeapWrite, Shape::Fixed, &[INC]),
    Block(Op::FatPointerRead, Shape::Fixed, &[INC]),
    // ISA v1: immediate addresses for the heap ops.
    Block(Op::HeapRead, Shape::ImmOnly, &[INC]),
    Block(Op::HeapWrite, Shape::ImmOnly, &[INC]),
    Block(Op::AuxHeapRead, Shape::ImmOnly, &[INC]),
    Block(Op::AuxHeapWrite, Shape::ImmOnly, &[INC]),
    // ISA v2.
    Block(Op::Decommit, Shape::Fixed, &[]),
    Block(Op::TransientStorageRead, Shape::Fixed, &[]),
    Block(Op::TransientStorageWrite, Shape::Fixed, &[]),
    Block(Op::StaticMemoryRead, Shape::RegOrImm, &[INC]),
    Block(Op::StaticMemoryWrite, Shape::RegOrImm, &[INC]),
];

/// Appends the entries of `op` with fixed addressing, varying `flags` (first flag outer).
const fn push_flags(
    mut table: [Variant; TABLE_SIZE],
    mut next: usize,
    op: Op,
    src: Src,
    dst: Dst,
    flags: &[Modifiers],
) -> ([Variant; TABLE_SIZE], usize) {
    let combinations = 1usize << flags.len();
    let mut c = 0;
    while c < combinations {
        let mut modifiers = Modifiers::NONE;
        let mut f = 0;
        while f < flags.len() {
            // Flag 0 is the most significant bit of the combination counter.
            if c & (1 << (flags.len() - 1 - f)) != 0 {
                modifiers = modifiers.union(flags[f]);
            }
            f += 1;
        }
        table[next] = Variant { op, src, dst, modifiers };
        next += 1;
        c += 1;
    }
    (table, next)
}

const fn build() -> [Variant; TABLE_SIZE] {
    let mut table = [Variant::INVALID; TABLE_SIZE];
    let mut next = 1;
    let mut b = 0;
    while b < LAYOUT.len() {
        let Block(op, shape, flags) = LAYOUT[b];
        match shape {
            Shape::Full => {
                let mut s = 0;
                while s < Src::ALL.len() {
                    let mut d = 0;
                    while d < Dst::ALL.len() {
                        (table, next) = push_flags(table, next, op, Src::ALL[s], Dst::ALL[d], flags);
                        d += 1;
                    }
                    s += 1;
                }
            }
            Shape::SrcOnly => {
                let mut s = 0;
                while s < Src::ALL.len() {
                    (table, next) = push_flags(table, next, op, Src::ALL[s], Dst::Reg, flags);
                    s += 1;
                }
            }
            Shape::Fixed => (table, next) = push_flags(table, next, op, Src::Reg, Dst::Reg, flags),
            Shape::ImmOnly => (table, next) = push_flags(table, next, op, Src::Imm, Dst::Reg, flags),
            Shape::RegOrImm => {
                (table, next) = push_flags(table, next, op, Src::Reg, Dst::Reg, flags);
                (table, next) = push_flags(table, next, op, Src::Imm, Dst::Reg, flags);
            }
        }
        b += 1;
    }
    assert!(next == DEFINED_VARIANTS, "the layout must define exactly the ISA v2 entries");
    table
}

/// The opcode-variant table of ISA v2, indexed by an instruction's low 11 bits.
pub static VARIANTS: [Variant; TABLE_SIZE] = build();

#[cfg(test)]
mod tests {
    use super::*;

    /// Anchors from the compiler's opcode list (`EraVMOpcodes.td`: base opcode per
    /// mnemonic and the encoders' formulas), independent of the reference crate.
    #[test]
    fn base_indices_match_the_compiler() {
        let first = |op: Op| VARIANTS.iter().position(|v| v.op == op).unwrap();
        let bases = [
            (Op::Nop, 1),
            (Op::Add, 25),
            (Op::Sub, 73),
            (Op::Mul, 169),
            (Op::Div, 217),
            (Op::Jump, 313),
            (Op::Xor, 319),
            (Op::And, 367),
            (Op::Or, 415),
            (Op::Shl, 463),
            (Op::Shr, 559),
            (Op::Rol, 655),
            (Op::Ror, 751),
            (Op::PtrAdd, 847),
            (Op::PtrSub, 895),
            (Op::PtrPack, 943),
            (Op::PtrShrink, 991),
            (Op::NearCall, 1039),
            (Op::This, 1040),
            (Op::IncrementTxNumber, 1049),
            (Op::StorageRead, 1050),
            (Op::ToL1Message, 1052),
            (Op::Event, 1054),
            (Op::PrecompileCall, 1056),
            (Op::FarCall, 1057),
            (Op::FarCallDelegate, 1061),
            (Op::FarCallMimic, 1065),
            (Op::Ret, 1069),
            (Op::Revert, 1071),
            (Op::Panic, 1073),
            (Op::HeapRead, 1075),
            (Op::HeapWrite, 1077),
            (Op::AuxHeapRead, 1079),
            (Op::AuxHeapWrite, 1081),
            (Op::FatPointerRead, 1083),
            (Op::Decommit, 1093),
            (Op::TransientStorageRead, 1094),
            (Op::TransientStorageWrite, 1095),
            (Op::StaticMemoryRead, 1096),
            (Op::StaticMemoryWrite, 1100),
        ];
        for (op, base) in bases {
            assert_eq!(first(op), base, "{op:?}");
        }
        // Non-commutative arithmetic: base + 16·src + 4·dst + 2·set_flags + swap.
        let sub = VARIANTS[73 + 16 * 4 + 4 * 2 + 2 + 1];
        assert_eq!(sub, Variant { op: Op::Sub, src: Src::Imm, dst: Dst::StackRel, modifiers: SF.union(SW) });
        // Commutative: base + 8·src + 2·dst + set_flags.
        let add = VARIANTS[25 + 8 * 5 + 2 * 3 + 1];
        assert_eq!(add, Variant { op: Op::Add, src: Src::Code, dst: Dst::StackAbs, modifiers: SF });
        // Pointer ops: base + 8·src + 2·dst + swap.
        let ptr = VARIANTS[847 + 8 * 3 + 2 + 1];
        assert_eq!(ptr, Variant { op: Op::PtrAdd, src: Src::StackAbs, dst: Dst::StackPush, modifiers: SW });
        // Nop: base + 4·src + dst.
        assert_eq!(
            VARIANTS[1 + 4 * 2 + 3],
            Variant { op: Op::Nop, src: Src::StackRel, dst: Dst::StackAbs, ..Variant::INVALID }
        );
        // Jump: base + src.
        assert_eq!(VARIANTS[313 + 5].src, Src::Code);
        // Far call: base + 2·static + shard.
        assert_eq!(VARIANTS[1061 + 2].modifiers, Modifiers::STATIC);
        assert_eq!(VARIANTS[1061 + 1].modifiers, Modifiers::SHARD);
        // Heap ops: base + 10·(src is imm) + increment.
        assert_eq!(
            VARIANTS[1077 + 10 + 1],
            Variant { op: Op::HeapWrite, src: Src::Imm, dst: Dst::Reg, modifiers: INC }
        );
    }

    #[test]
    fn undefined_entries_are_invalid() {
        assert_eq!(VARIANTS[0], Variant::INVALID);
        assert!(VARIANTS[DEFINED_VARIANTS..].iter().all(|v| *v == Variant::INVALID));
        assert!(VARIANTS[1..DEFINED_VARIANTS].iter().all(|v| v.op != Op::Invalid));
        assert_eq!(std::mem::size_of::<Variant>(), 4);
    }

    /// No two indices mean the same thing: the table is a bijection onto its variants.
    #[test]
    fn defined_entries_are_distinct() {
        let set: std::collections::HashSet<Variant> = VARIANTS[..DEFINED_VARIANTS].iter().copied().collect();
        assert_eq!(set.len(), DEFINED_VARIANTS);
    }
}
