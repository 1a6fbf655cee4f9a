//! The EVM execution environment (Frontier through Osaka).
//!
//! [`Evm`] answers the bootloader's per-EE questions (address derivation,
//! code deposit, 63/64 rule) and launches [`EvmFrame`]s: interpreters that
//! yield at every CALL-family and CREATE-family instruction instead of
//! recursing, so the bootloader owns the call stack.

pub mod asm;
mod exp;
mod frame;
mod gas;
mod memory;
mod modular;
mod tables;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

use ee_api::{
    Address, Bytecode, Bytes, CallModifier, CreateScheme, EeKind, ExecutionEnvironment, Fork, Frame, HaltReason,
    LaunchParams,
};

pub use frame::EvmFrame;
pub use gas::{memory_cost, sstore_cost};

/// EIP-170 limit on deployed code.
pub const MAX_CODE_SIZE: usize = 24576;
/// EIP-3860 limit on init code.
pub const MAX_INITCODE_SIZE: usize = 2 * MAX_CODE_SIZE;
/// Gas per byte of deployed code.
pub const CODE_DEPOSIT_GAS: u64 = 200;

/// The EVM under one fork; cheap to create (the opcode table is shared per fork).
pub struct Evm {
    fork: Fork,
    table: &'static tables::OpTable,
}

impl Evm {
    pub fn new(fork: Fork) -> Evm {
        Evm { fork, table: tables::table(fork) }
    }

    pub fn fork(&self) -> Fork {
        self.fork
    }
}

impl ExecutionEnvironment for Evm {
    fn kind(&self) -> EeKind {
        EeKind::Evm
    }

    fn supports_modifier(&self, modifier: CallModifier) -> bool {
        match modifier {
            CallModifier::Delegate => self.fork >= Fork::Homestead,
            CallModifier::Static => self.fork >= Fork::Byzantium,
            _ => true,
        }
    }

    fn callee_resources(&self, available: u64, requested: u64) -> u64 {
        if self.fork >= Fork::Tangerine {
            requested.min(available - available / 64)
        } else {
            requested
        }
    }

    fn check_init_code(&self, init_code: &[u8]) -> Result<(), HaltReason> {
        if self.fork >= Fork::Shanghai && init_code.len() > MAX_INITCODE_SIZE {
            return Err(HaltReason::InitCodeSizeLimit);
        }
        Ok(())
    }

    fn deployment_address(
        &self,
        deployer: Address,
        deployer_nonce: u64,
        scheme: CreateScheme,
        init_code: &[u8],
    ) -> Address {
        scheme.address(deployer, deployer_nonce, init_code)
    }

    fn finish_deployment(&self, output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        if self.fork >= Fork::SpuriousDragon && output.len() > MAX_CODE_SIZE {
            return Err(HaltReason::CodeSizeLimit);
        }
        if self.fork >= Fork::London && output.first() == Some(&0xEF) {
            return Err(HaltReason::InvalidCodePrefix);
        }
        let cost = CODE_DEPOSIT_GAS * output.len() as u64;
        if gas_left < cost {
            // Frontier keeps the account but stores no code when the deposit is unaffordable.
            return if self.fork >= Fork::Homestead {
                Err(HaltReason::OutOfGas)
            } else {
                Ok((Bytecode::empty(), gas_left))
            };
        }
        Ok((Bytecode::new(output.clone()), gas_left - cost))
    }

    fn launch(&self, params: LaunchParams) -> Box<dyn Frame> {
        Box::new(EvmFrame::new(self.fork, self.table, params))
    }
}
