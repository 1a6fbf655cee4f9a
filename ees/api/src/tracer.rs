//! Execution tracing (EIP-3155 style): an optional observer of every
//! instruction an EE runs.
//!
//! The bootloader hands a [`Tracer`] to the EEs through [`crate::Host::tracer`].
//! An EE asks once per frame entry (start or resume) whether a tracer is set
//! and only then runs its traced path, so the untraced interpreter loop stays
//! exactly as fast as before.
//!
//! Conventions every EE follows:
//! - one [`Tracer::step`] per instruction, *after* it ran, carrying the state
//!   from *before* it ran (pc, gas, stack, memory size, refund) and what it
//!   cost;
//! - `gas_cost` of an instruction that starts a call includes the gas handed to
//!   the callee (not a stipend the callee gets on top), as go-ethereum reports
//!   it; the step is delivered before the callee's steps. A deployment's cost
//!   excludes the gas handed to the constructor (go-ethereum's convention too);
//! - an instruction that fails carries `error`; the frame ends there;
//! - `depth` is 1 for the transaction's first frame.

use crate::{ExitStatus, U256};

/// One executed instruction.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// Offset of the instruction in the code.
    pub pc: u64,
    /// The opcode byte.
    pub op: u8,
    /// Mnemonic (e.g. `PUSH1`); `None` for an opcode the EE does not define.
    pub op_name: Option<&'static str>,
    /// Gas left before the instruction.
    pub gas: u64,
    /// Gas the instruction cost (see the module conventions for calls).
    pub gas_cost: u64,
    /// Memory size in bytes before the instruction.
    pub mem_size: u64,
    /// The stack before the instruction, bottom first.
    pub stack: &'a [U256],
    /// Return data of the last call made by this frame, before the instruction.
    pub return_data: &'a [u8],
    /// 1 for the transaction's first frame.
    pub depth: u64,
    /// The transaction's refund counter before the instruction.
    pub refund: u64,
    /// Why the instruction failed (e.g. "out of gas"), or "execution reverted" for REVERT.
    pub error: Option<&'a str>,
}

/// How the transaction's outermost frame ended.
#[derive(Clone, Copy, Debug)]
pub struct TxEnd<'a> {
    /// Return data (or revert data) of the outermost frame.
    pub output: &'a [u8],
    /// Gas the outermost frame used: the gas it was given (gas limit minus
    /// intrinsic gas) minus what it had left, before the refund.
    pub gas_used: u64,
    pub status: ExitStatus,
}

/// Receives trace events of one transaction. Not `Send`: a tracer belongs to
/// the thread running the transaction.
pub trait Tracer {
    /// An instruction ran (see the module conventions).
    fn step(&mut self, step: &Step<'_>);
    /// The outermost frame ended (after any code deposit of a creation).
    fn tx_end(&mut self, _end: &TxEnd<'_>) {}
}
