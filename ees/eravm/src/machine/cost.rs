//! Static ergs prices, charged before the condition is tested (an instruction whose
//! condition fails still pays). Figures from `zkevm_opcode_defs` 0.153.12's `ergs_price`
//! (`circuit_prices.rs`: a VM cycle costs 4, a RAM permutation 1), as vm2 0.5.0 charges them.

use crate::table::Op;

/// One cycle and one RAM permutation: context ops and returns.
pub const AVERAGE: u32 = 4 + 1;
/// One cycle and two permutations: the ops whose operands may live on the stack.
pub const RICH_ADDRESSING: u32 = 4 + 2;
/// A near call: an average op plus the call-like surcharge (20).
pub const NEAR_CALL: u32 = AVERAGE + 20;
/// Heap reads: one cycle, three permutations (the unaligned read is two aligned ones).
pub const HEAP_READ: u32 = 4 + 3;
/// Heap writes: two cycles, five permutations.
pub const HEAP_WRITE: u32 = 2 * 4 + 5;
/// vm2's synthetic panic (a heap address out of range, a failed growth) costs a return.
pub const SPONTANEOUS_PANIC: u32 = AVERAGE;
/// A far call: two cycles, one permutation, a storage read's IO price (150), the call-like
/// surcharge (20), the storage and decommit sorters (2 + 1) and the log demuxer (1).
pub const FAR_CALL: u32 = 2 * 4 + 1 + 150 + 20 + 2 + 1 + 1;
/// Decommitting code costs 4 ergs per 32-byte word, once per code hash and transaction.
pub const DECOMMIT_PER_WORD: u32 = 4;
/// What a system call to MsgValueSimulator always passes on top of 63/64: 14,500 plus the
/// decommit of a 100,000-byte callee (`MSG_VALUE_SIMULATOR_ADDITIVE_COST`).
pub const MSG_VALUE_SIMULATOR_MANDATED: u32 = 14_500 + DECOMMIT_PER_WORD * 100_000 / 32;
/// Memory growth: one erg per byte of new heap bound.
pub const GROWTH_PER_BYTE: u32 = 1;
/// `sload`: cycle, permutation, log demuxer (1), storage sorter (2), a cold read (2,000).
pub const SLOAD: u32 = 4 + 1 + 1 + 2 + 2_000;
/// `sstore`: cycle, permutation, two demuxer and two sorter passes, a cold write (5,500).
pub const SSTORE: u32 = 4 + 1 + 2 + 2 * 2 + 5_500;
/// `tload`: priced as a warm read (30), with the transient-store checker (2).
pub const TLOAD: u32 = 4 + 1 + 1 + 2 + 30;
/// `tstore`: priced as a warm write (60), two demuxer and two checker passes.
pub const TSTORE: u32 = 4 + 1 + 2 + 2 * 2 + 60;
/// `event`: its IO price (25), cycle, permutation, two demuxer and two sorter passes.
pub const EVENT: u32 = 25 + 4 + 1 + 2 + 2;
/// `to_l1`: its IO price (100) and the same passes as an event. 0.153.12's `ergs_price`
/// gives 109; vm2's reserved `L1_MESSAGE_COST` (156,250) is the minimal single-instance
/// circuit price, which `ergs_price` no longer charges.
pub const L2_TO_L1: u32 = 100 + 4 + 1 + 2 + 2;
/// `precompile_call`: cycle, permutation, demuxer; the precompile's own price is the extra
/// ergs the caller names.
pub const PRECOMPILE_CALL: u32 = 4 + 1 + 1;
/// `decommit`: cycle, permutation, decommitment sorter; plus the extra ergs named.
pub const DECOMMIT: u32 = 4 + 1 + 1;
/// Refunds (`world_diff.rs`): a warm read costs 30 of the 2,000 paid, a warm write 60 of the
/// 5,500, and a first write to a slot read before gets the read's price back.
pub const WARM_READ_REFUND: u32 = 2_000 - 30;
pub const WARM_WRITE_REFUND: u32 = 5_500 - 60;
pub const COLD_WRITE_AFTER_WARM_READ_REFUND: u32 = 2_000;

/// The static price of `op`, for the operations this machine executes. `None` for those it
/// stops on as unsupported (static memory) and for `Invalid`, which burns everything.
pub const fn static_cost(op: Op) -> Option<u32> {
    use Op::*;
    Some(match op {
        Nop | Add | Sub | Mul | Div | Jump | Xor | And | Or | Shl | Shr | Rol | Ror | PtrAdd | PtrSub | PtrPack
        | PtrShrink => RICH_ADDRESSING,
        NearCall => NEAR_CALL,
        FarCall | FarCallDelegate | FarCallMimic => FAR_CALL,
        Ret | Revert | Panic => AVERAGE,
        This | Caller | CodeAddress | Meta | ErgsLeft | Sp | GetContextU128 | SetContextU128 | AuxMutating0
        | IncrementTxNumber => AVERAGE,
        HeapRead | AuxHeapRead | FatPointerRead => HEAP_READ,
        HeapWrite | AuxHeapWrite => HEAP_WRITE,
        StorageRead => SLOAD,
        StorageWrite => SSTORE,
        TransientStorageRead => TLOAD,
        TransientStorageWrite => TSTORE,
        Event => EVENT,
        ToL1Message => L2_TO_L1,
        PrecompileCall => PRECOMPILE_CALL,
        Decommit => DECOMMIT,
        _ => return None,
    })
}
