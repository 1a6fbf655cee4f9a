//! The execution-environment (EE) interface.
//!
//! An EE is a VM that owns a bytecode format, an interpreter and its resource
//! accounting. The bootloader launches EE *frames* and drives them: a frame
//! runs until a [`Preemption`] point and hands control back. Calls and
//! deployments are therefore never native recursion inside an EE; the
//! bootloader keeps an explicit stack of suspended frames.
//!
//! State access that does not need a new frame (storage, balances, logs, ...)
//! goes through the [`Host`] trait, which the bootloader implements over its
//! journaled world state.

pub mod contract;
mod fork;
mod frame;
mod host;
mod input;
pub mod tracer;
mod types;

pub use fork::Fork;
pub use frame::{
    CallModifier, CallRequest, CallResult, CreateScheme, DeploymentRequest, DeploymentResult, ExecutionEnvironment,
    ExitStatus, Frame, FrameOutcome, HaltReason, LaunchParams, Preemption,
};
pub use host::{BlobSchedule, BlockEnv, Host, Log, SstoreSlot, TxEnv};
pub use input::CallInput;
pub use tracer::{Step, Tracer, TxEnd};
pub use types::{
    delegation_designator, delegation_target, keccak_empty, Address, Bytecode, Bytes, EeKind, B256, DELEGATION_PREFIX,
    U256,
};

/// The deepest call stack a transaction may build (EVM rule, applied to every EE).
pub const MAX_CALL_DEPTH: usize = 1024;
