//! The bootloader: owns the world state and the call stack, processes
//! transactions, and drives execution-environment frames from one
//! preemption point to the next.
//!
//! Module map:
//! - [`state`]: accounts, storage and the journal that rolls back a frame's writes.
//! - [`tx`]: transaction validation, intrinsic gas, fees and refunds.
//! - [`set_code`]: EIP-7702 authorizations (delegation designators).
//! - [`exec`]: the runner loop over an explicit stack of suspended EE frames.
//! - [`trie`]: Merkle-Patricia state root and logs hash.

pub mod exec;
/// The precompiled contracts live in their own crate (`ees/precompiles`).
pub use precompiles;
pub mod rlp;
pub mod set_code;
pub mod state;
mod transient;
pub mod trie;
pub mod tx;

pub use state::{Account, Map, Set, WorldState};
pub use trie::{logs_hash, state_root};
pub use tx::{
    blob_base_fee, execute_transaction, execute_transaction_traced, execute_transaction_with, intrinsic_gas,
    Authorization, ExecutionLimits, Transaction, TxError, TxOutcome, WasmEe,
};
