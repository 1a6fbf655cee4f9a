//! Precompiled contracts 0x01–0x0a.
use ee_api::{Address, Fork};

/// A precompile's successful result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecompileOutput {
    pub gas_used: u64,
    pub output: Vec<u8>,
}

/// A precompile failure: either way the call consumes all the gas given to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecompileError {
    OutOfGas,
    /// Malformed input (bad point, wrong length, ...).
    Failure,
}

/// True when `address` is a precompile active in `fork`.
pub fn is_precompile(address: &Address, fork: Fork) -> bool {
    let _ = (address, fork);
    unimplemented!()
}

/// The addresses of the precompiles active in `fork` (warm from the start of every tx since Berlin).
pub fn addresses(fork: Fork) -> Vec<Address> {
    let _ = fork;
    unimplemented!()
}

/// Runs the precompile at `address` with `gas_limit`.
pub fn run(address: &Address, input: &[u8], gas_limit: u64, fork: Fork) -> Result<PrecompileOutput, PrecompileError> {
    let _ = (address, input, gas_limit, fork);
    unimplemented!()
}
