//! What an EE may ask of the world while it runs, without a new frame.

use std::sync::Arc;

use crate::{Address, Bytecode, Bytes, Fork, Tracer, B256, U256};

/// Block-level context of the transaction being run.
#[derive(Clone, Debug, Default)]
pub struct BlockEnv {
    pub number: U256,
    pub coinbase: Address,
    pub timestamp: U256,
    pub gas_limit: U256,
    pub base_fee: U256,
    /// DIFFICULTY before Paris; PREVRANDAO from Paris on.
    pub difficulty: U256,
    pub prevrandao: Option<B256>,
    /// EIP-4844 blob base fee, derived from the excess blob gas.
    pub blob_base_fee: U256,
    pub chain_id: U256,
    /// The blob parameters in force (EIP-7840); `None`: the fork's defaults
    /// ([`BlobSchedule::of`]).
    pub blob_schedule: Option<BlobSchedule>,
}

impl BlockEnv {
    /// The blob parameters in force under `fork`, if the fork has blobs.
    pub fn blob_schedule(&self, fork: Fork) -> Option<BlobSchedule> {
        self.blob_schedule.or_else(|| BlobSchedule::of(fork))
    }
}

/// Per-block blob parameters: EIP-4844 set them, EIP-7691 raised them, and
/// EIP-7840 moved them into the chain configuration (`config.blobSchedule`
/// of an EEST fixture), so a vector may carry its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobSchedule {
    /// Target blobs per block.
    pub target: u64,
    /// Maximum blobs per block.
    pub max: u64,
    /// The denominator of the blob base fee's exponential.
    pub base_fee_update_fraction: u64,
}

impl BlobSchedule {
    /// The mainnet parameters of `fork`; `None` before Cancun.
    pub fn of(fork: Fork) -> Option<BlobSchedule> {
        match fork {
            // EIP-4844: TARGET_BLOB_GAS_PER_BLOCK 393216 (3 blobs), MAX 786432 (6),
            // BLOB_BASE_FEE_UPDATE_FRACTION 3338477.
            Fork::Cancun => Some(BlobSchedule { target: 3, max: 6, base_fee_update_fraction: 3_338_477 }),
            // EIP-7691: target 6, max 9, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE 5007716; Osaka keeps them.
            Fork::Prague | Fork::Osaka => Some(BlobSchedule { target: 6, max: 9, base_fee_update_fraction: 5_007_716 }),
            _ => None,
        }
    }
}

/// Transaction-level context visible to every frame.
#[derive(Clone, Debug, Default)]
pub struct TxEnv {
    pub origin: Address,
    /// Effective gas price (after EIP-1559).
    pub gas_price: U256,
    pub blob_hashes: Vec<B256>,
    /// Code published with the transaction (EraVM's factory deps): an EraVM deployment names
    /// its code by versioned hash and finds it here.
    pub factory_deps: Vec<Bytes>,
}

/// A log record emitted by a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
}

/// A storage slot's values around an SSTORE, for EIP-2200/3529 pricing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SstoreSlot {
    /// Value at the start of the transaction.
    pub original: U256,
    /// Value just before this write.
    pub present: U256,
}

/// The bootloader's services to a running frame. Every write is journaled by
/// the bootloader, so an EE never has to undo anything itself.
pub trait Host {
    fn fork(&self) -> Fork;
    fn block(&self) -> &BlockEnv;
    fn tx(&self) -> &TxEnv;
    /// Hash of a recent block, or zero when out of the 256-block window.
    fn block_hash(&mut self, number: U256) -> B256;

    /// Marks an account warm (EIP-2929); returns true when it was cold.
    fn warm_account(&mut self, address: Address) -> bool;
    /// Marks a storage slot warm (EIP-2929); returns true when it was cold.
    fn warm_slot(&mut self, address: Address, key: U256) -> bool;

    /// The account is present in the state (possibly empty).
    fn account_exists(&mut self, address: Address) -> bool;
    /// The account is absent or empty (EIP-161: no code, zero nonce and balance).
    fn is_empty_account(&mut self, address: Address) -> bool;
    fn balance(&mut self, address: Address) -> U256;
    fn code(&mut self, address: Address) -> Arc<Bytecode>;

    fn sload(&mut self, address: Address, key: U256) -> U256;
    /// EIP-2929's SLOAD in one call: marks the slot warm and reads it; returns the value and
    /// whether the slot was cold. The same as [`Host::warm_slot`] then [`Host::sload`]; the
    /// EVM's most frequent host call, so a host can do both in one pass.
    fn sload_warming(&mut self, address: Address, key: U256) -> (U256, bool) {
        let cold = self.warm_slot(address, key);
        (self.sload(address, key), cold)
    }
    /// Writes a slot; returns its original and present value before the write.
    fn sstore(&mut self, address: Address, key: U256, value: U256) -> SstoreSlot;
    fn tload(&mut self, address: Address, key: U256) -> U256;
    fn tstore(&mut self, address: Address, key: U256, value: U256);

    fn log(&mut self, log: Log);
    /// Removes the transaction's most recent log. EraVM rolls back a failed near call's
    /// events itself (the bootloader only sees far frames); no other EE needs it.
    fn remove_last_log(&mut self);
    /// Adds to (or, negative, takes from) the transaction's gas refund counter.
    fn add_refund(&mut self, delta: i64);

    /// Destroys `address` (subject to EIP-6780) and moves its balance to
    /// `beneficiary`. Returns true when `address` was already destroyed in
    /// this transaction.
    fn selfdestruct(&mut self, address: Address, beneficiary: Address) -> bool;

    /// True when the case's time bound has passed: the frame should halt with
    /// [`crate::HaltReason::Interrupted`]. EEs poll it every few thousand steps.
    fn interrupted(&self) -> bool {
        false
    }

    /// The transaction's tracer, when tracing is on. EEs ask once per frame
    /// entry and run an untraced path when there is none (see [`crate::tracer`]).
    fn tracer(&mut self) -> Option<&mut dyn Tracer> {
        None
    }

    /// The transaction's refund counter so far, for trace steps.
    fn refund_counter(&self) -> i64 {
        0
    }
}
