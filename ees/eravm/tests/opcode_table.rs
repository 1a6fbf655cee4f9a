//! Our opcode table, entry by entry, against the reference's (`zkevm_opcode_defs`
//! 0.153.12, ISA v2): operation, source and destination addressing, each variant flag,
//! the kernel-mode and static-context rules, and the field extraction of
//! `EncodingModeProduction` on words with every field populated.

use ee_eravm::{Cond, Dst, Instruction, Modifiers, Op, Raw, Src, VARIANTS};
use zkevm_opcode_defs as defs;
use zkevm_opcode_defs::decoding::{EncodingModeProduction, VmEncodingMode};
use zkevm_opcode_defs::{ImmMemHandlerFlags as M, Opcode, Operand, RegOrImmFlags};

fn op_of(opcode: Opcode) -> Op {
    use defs::*;
    match opcode {
        Opcode::Invalid(_) => Op::Invalid,
        Opcode::Nop(_) => Op::Nop,
        Opcode::Add(_) => Op::Add,
        Opcode::Sub(_) => Op::Sub,
        Opcode::Mul(_) => Op::Mul,
        Opcode::Div(_) => Op::Div,
        Opcode::Jump(_) => Op::Jump,
        Opcode::Binop(BinopOpcode::Xor) => Op::Xor,
        Opcode::Binop(BinopOpcode::And) => Op::And,
        Opcode::Binop(BinopOpcode::Or) => Op::Or,
        Opcode::Shift(ShiftOpcode::Shl) => Op::Shl,
        Opcode::Shift(ShiftOpcode::Shr) => Op::Shr,
        Opcode::Shift(ShiftOpcode::Rol) => Op::Rol,
        Opcode::Shift(ShiftOpcode::Ror) => Op::Ror,
        Opcode::Ptr(PtrOpcode::Add) => Op::PtrAdd,
        Opcode::Ptr(PtrOpcode::Sub) => Op::PtrSub,
        Opcode::Ptr(PtrOpcode::Pack) => Op::PtrPack,
        Opcode::Ptr(PtrOpcode::Shrink) => Op::PtrShrink,
        Opcode::NearCall(_) => Op::NearCall,
        Opcode::Context(ContextOpcode::This) => Op::This,
        Opcode::Context(ContextOpcode::Caller) => Op::Caller,
        Opcode::Context(ContextOpcode::CodeAddress) => Op::CodeAddress,
        Opcode::Context(ContextOpcode::Meta) => Op::Meta,
        Opcode::Context(ContextOpcode::ErgsLeft) => Op::ErgsLeft,
        Opcode::Context(ContextOpcode::Sp) => Op::Sp,
        Opcode::Context(ContextOpcode::GetContextU128) => Op::GetContextU128,
        Opcode::Context(ContextOpcode::SetContextU128) => Op::SetContextU128,
        Opcode::Context(ContextOpcode::AuxMutating0) => Op::AuxMutating0,
        Opcode::Context(ContextOpcode::IncrementTxNumber) => Op::IncrementTxNumber,
        Opcode::Log(LogOpcode::StorageRead) => Op::StorageRead,
        Opcode::Log(LogOpcode::StorageWrite) => Op::StorageWrite,
        Opcode::Log(LogOpcode::ToL1Message) => Op::ToL1Message,
        Opcode::Log(LogOpcode::Event) => Op::Event,
        Opcode::Log(LogOpcode::PrecompileCall) => Op::PrecompileCall,
        Opcode::Log(LogOpcode::Decommit) => Op::Decommit,
        Opcode::Log(LogOpcode::TransientStorageRead) => Op::TransientStorageRead,
        Opcode::Log(LogOpcode::TransientStorageWrite) => Op::TransientStorageWrite,
        Opcode::FarCall(FarCallOpcode::Normal) => Op::FarCall,
        Opcode::FarCall(FarCallOpcode::Delegate) => Op::FarCallDelegate,
        Opcode::FarCall(FarCallOpcode::Mimic) => Op::FarCallMimic,
        Opcode::Ret(RetOpcode::Ok) => Op::Ret,
        Opcode::Ret(RetOpcode::Revert) => Op::Revert,
        Opcode::Ret(RetOpcode::Panic) => Op::Panic,
        Opcode::UMA(UMAOpcode::HeapRead) => Op::HeapRead,
        Opcode::UMA(UMAOpcode::HeapWrite) => Op::HeapWrite,
        Opcode::UMA(UMAOpcode::AuxHeapRead) => Op::AuxHeapRead,
        Opcode::UMA(UMAOpcode::AuxHeapWrite) => Op::AuxHeapWrite,
        Opcode::UMA(UMAOpcode::FatPointerRead) => Op::FatPointerRead,
        Opcode::UMA(UMAOpcode::StaticMemoryRead) => Op::StaticMemoryRead,
        Opcode::UMA(UMAOpcode::StaticMemoryWrite) => Op::StaticMemoryWrite,
    }
}

fn src_of(operand: Operand) -> Src {
    match operand {
        Operand::RegOnly | Operand::RegOrImm(RegOrImmFlags::UseRegOnly) | Operand::Full(M::UseRegOnly) => Src::Reg,
        Operand::RegOrImm(RegOrImmFlags::UseImm16Only) | Operand::Full(M::UseImm16Only) => Src::Imm,
        Operand::Full(M::UseStackWithPushPop) => Src::StackPop,
        Operand::Full(M::UseStackWithOffset) => Src::StackRel,
        Operand::Full(M::UseAbsoluteOnStack) => Src::StackAbs,
        Operand::Full(M::UseCodePage) => Src::Code,
    }
}

fn dst_of(operand: Operand) -> Dst {
    match operand {
        Operand::RegOnly | Operand::RegOrImm(RegOrImmFlags::UseRegOnly) | Operand::Full(M::UseRegOnly) => Dst::Reg,
        Operand::Full(M::UseStackWithPushPop) => Dst::StackPush,
        Operand::Full(M::UseStackWithOffset) => Dst::StackRel,
        Operand::Full(M::UseAbsoluteOnStack) => Dst::StackAbs,
        other => panic!("not a destination: {other:?}"),
    }
}

/// The reference's two anonymous flags, named by what each opcode uses them for (the
/// `*_FLAG_IDX` constants of the reference and vm2's decoder).
fn modifiers_of(variant: &defs::OpcodeVariant) -> Modifiers {
    let [f0, f1] = variant.flags;
    let pick = |on: bool, m: Modifiers| if on { m } else { Modifiers::NONE };
    match variant.opcode {
        Opcode::Add(_) | Opcode::Mul(_) | Opcode::Binop(_) => pick(f0, Modifiers::SET_FLAGS),
        Opcode::Sub(_) | Opcode::Div(_) | Opcode::Shift(_) => {
            assert_eq!(defs::SET_FLAGS_FLAG_IDX, 0);
            assert_eq!(defs::SWAP_OPERANDS_FLAG_IDX_FOR_ARITH_OPCODES, 1);
            pick(f0, Modifiers::SET_FLAGS).union(pick(f1, Modifiers::SWAP))
        }
        Opcode::Ptr(_) => pick(f0, Modifiers::SWAP),
        Opcode::Log(_) => pick(f0, Modifiers::FIRST),
        Opcode::FarCall(_) => {
            assert_eq!((defs::FAR_CALL_STATIC_FLAG_IDX, defs::FAR_CALL_SHARD_FLAG_IDX), (0, 1));
            pick(f0, Modifiers::STATIC).union(pick(f1, Modifiers::SHARD))
        }
        Opcode::Ret(_) => pick(f0, Modifiers::TO_LABEL),
        Opcode::UMA(_) => pick(f0, Modifiers::INCREMENT),
        _ => {
            assert!(!f0 && !f1, "{variant:?} has no flags");
            Modifiers::NONE
        }
    }
}

#[test]
fn every_table_entry_matches_the_reference() {
    assert_eq!(defs::OPCODES_TABLE.len(), VARIANTS.len());
    let mut defined = 0;
    for (index, (theirs, ours)) in defs::OPCODES_TABLE.iter().zip(VARIANTS.iter()).enumerate() {
        let op = op_of(theirs.opcode);
        assert_eq!(ours.op, op, "entry {index}: {theirs:?}");
        if op == Op::Invalid {
            continue;
        }
        defined += 1;
        assert_eq!(ours.src, src_of(theirs.src0_operand_type), "entry {index} source: {theirs:?}");
        assert_eq!(ours.dst, dst_of(theirs.dst0_operand_type), "entry {index} destination: {theirs:?}");
        assert_eq!(ours.modifiers, modifiers_of(theirs), "entry {index} flags: {theirs:?}");
        assert_eq!(ours.modifiers.contains(Modifiers::SWAP), theirs.swap_operands(), "entry {index} swap");
        assert_eq!(op.requires_kernel(), theirs.requires_kernel_mode(), "entry {index} kernel mode");
        assert_eq!(op.forbidden_in_static(), !theirs.can_be_used_in_static_context(), "entry {index} static context");
    }
    // 1,104 entries including index 0, which is the invalid opcode.
    assert_eq!(defined, ee_eravm::table::DEFINED_VARIANTS - 1);
    assert!(defs::OPCODES_TABLE[ee_eravm::table::DEFINED_VARIANTS..].iter().all(|v| v.is_explicit_panic()));
}

/// Field extraction against `EncodingModeProduction` on words whose fields all differ,
/// over every condition and a spread of variants, reserved bits set or not.
#[test]
fn field_extraction_matches_the_reference() {
    let mut checked = 0;
    for variant in (0..2048u64).step_by(7).chain([0, 1, 1103, 1104, 2047]) {
        for cond in 0..8u64 {
            for reserved in [0u64, 0b01, 0b10, 0b11] {
                let word = 0x9abc_5678_f1e2_0000
                    | variant
                    | (reserved << 11)
                    | (cond << 13)
                    | (variant.wrapping_mul(0x9e37) << 48);
                let (theirs, index) = EncodingModeProduction::parse_preliminary_variant_and_absolute_number(word);
                let ours = Instruction::decode(Raw(word));
                assert_eq!(ours.variant as usize, index.0);
                assert_eq!(ours.cond, Cond::from_bits(theirs.condition.variant_index() as u8));
                assert_eq!(ours.cond as usize, theirs.condition.variant_index());
                assert_eq!(
                    (ours.src0, ours.src1, ours.dst0, ours.dst1),
                    (theirs.src0_reg_idx, theirs.src1_reg_idx, theirs.dst0_reg_idx, theirs.dst1_reg_idx)
                );
                assert_eq!((ours.imm0, ours.imm1), (theirs.imm_0, theirs.imm_1));
                assert_eq!(ours.op, op_of(theirs.variant.opcode));
                assert_eq!(Raw(word).is_canonical(), EncodingModeProduction::is_canonical_encoding(word));
                checked += 1;
            }
        }
    }
    assert!(checked > 9_000);
}

/// Our versioned hash against the reference's `bytecode_to_code_hash` on a few sizes.
#[test]
fn versioned_hash_matches_the_reference() {
    for words in [1usize, 3, 5, 257, 4097] {
        let code: Vec<u8> = (0..words * 32).map(|i| (i * 131 % 251) as u8).collect();
        let as_words: Vec<[u8; 32]> = code.chunks_exact(32).map(|w| w.try_into().unwrap()).collect();
        let theirs = defs::bytecode_to_code_hash(&as_words).unwrap();
        assert_eq!(ee_eravm::versioned_hash(&code).unwrap(), theirs, "{words} words");
    }
    // Both refuse an even word count.
    assert!(defs::bytecode_to_code_hash(&[[0u8; 32]; 2]).is_err());
    assert!(ee_eravm::versioned_hash(&[0u8; 64]).is_err());
}
