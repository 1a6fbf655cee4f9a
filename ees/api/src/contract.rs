//! Host services for contracts of the non-EVM EEs (WASM imports, RISC-V ecalls).
//!
//! One place defines what each service does, what it costs and when it is
//! refused, so a WASM and a RISC-V contract see the same world at the same
//! price and the same static-call rules. An EE only moves bytes between its
//! own memory and a [`ContractEnv`]; calls and deployments come back as
//! requests the EE's frame yields to the bootloader.
//!
//! Costs follow the EVM's (Berlin and later) where a counterpart exists, so a
//! cross-EE transaction is priced on one scale: see [`cost`].

use std::sync::Arc;

use crate::{
    Address, Bytes, CallInput, CallModifier, CallRequest, CallResult, CreateScheme, DeploymentRequest,
    DeploymentResult, ExitStatus, HaltReason, Host, LaunchParams, Log, Preemption, B256, U256,
};

/// The services. The discriminant is the RISC-V ecall number (in `a7`); [`Service::name`]
/// is the WASM import name (module `env`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Service {
    CalldataSize = 1,
    CalldataCopy = 2,
    Return = 3,
    Revert = 4,
    StorageRead = 5,
    StorageWrite = 6,
    Caller = 7,
    Address = 8,
    Value = 9,
    GasLeft = 10,
    Log = 11,
    Call = 12,
    ReturnDataSize = 13,
    ReturnDataCopy = 14,
    Create = 15,
    Create2 = 16,
    Balance = 17,
}

impl Service {
    pub const ALL: [Service; 17] = [
        Service::CalldataSize,
        Service::CalldataCopy,
        Service::Return,
        Service::Revert,
        Service::StorageRead,
        Service::StorageWrite,
        Service::Caller,
        Service::Address,
        Service::Value,
        Service::GasLeft,
        Service::Log,
        Service::Call,
        Service::ReturnDataSize,
        Service::ReturnDataCopy,
        Service::Create,
        Service::Create2,
        Service::Balance,
    ];

    /// The WASM import name.
    pub fn name(self) -> &'static str {
        match self {
            Service::CalldataSize => "calldata_size",
            Service::CalldataCopy => "calldata_copy",
            Service::Return => "return",
            Service::Revert => "revert",
            Service::StorageRead => "storage_read",
            Service::StorageWrite => "storage_write",
            Service::Caller => "caller",
            Service::Address => "address",
            Service::Value => "value",
            Service::GasLeft => "gas_left",
            Service::Log => "log",
            Service::Call => "call",
            Service::ReturnDataSize => "returndata_size",
            Service::ReturnDataCopy => "returndata_copy",
            Service::Create => "create",
            Service::Create2 => "create2",
            Service::Balance => "balance",
        }
    }

    /// The ecall number (RISC-V `a7`).
    pub fn number(self) -> u32 {
        self as u32
    }

    pub fn from_number(n: u32) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.number() == n)
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Gas costs of the services (EVM values of the same operations, Berlin and later).
pub mod cost {
    /// Reading a storage slot or account first touched in the transaction (EIP-2929).
    pub const COLD_SLOAD: u64 = 2_100;
    pub const COLD_ACCOUNT: u64 = 2_600;
    /// Any later access.
    pub const WARM_ACCESS: u64 = 100;
    /// A storage write from zero to non-zero, where the slot was zero at transaction start.
    pub const STORAGE_SET: u64 = 20_000;
    /// Any other first change of a slot in the transaction.
    pub const STORAGE_RESET: u64 = 2_900;
    pub const LOG: u64 = 375;
    pub const LOG_TOPIC: u64 = 375;
    pub const LOG_BYTE: u64 = 8;
    /// A call that moves value.
    pub const CALL_VALUE: u64 = 9_000;
    /// A call that moves value into an empty account.
    pub const NEW_ACCOUNT: u64 = 25_000;
    pub const CREATE: u64 = 32_000;
    /// Per 32-byte word hashed for a `create2` address.
    pub const HASH_WORD: u64 = 6;
    /// Per 32-byte word copied between the host and the contract's memory.
    pub const COPY_WORD: u64 = 3;
    /// Every other service.
    pub const BASE: u64 = 2;

    /// The cost of copying `len` bytes.
    pub fn copy(len: u64) -> u64 {
        len.div_ceil(32).saturating_mul(COPY_WORD)
    }
}

/// Deployment rules of the non-EVM EEs' contracts: a module or ELF is larger than EVM
/// code for the same job, so the limits are wider; the deposit is the EVM's price.
pub mod deployment {
    use crate::{Bytecode, Bytes, HaltReason};

    pub const MAX_CODE_SIZE: usize = 256 * 1024;
    pub const MAX_INIT_CODE_SIZE: usize = 2 * MAX_CODE_SIZE;
    /// Gas per byte of deployed code.
    pub const CODE_DEPOSIT_GAS: u64 = 200;

    pub fn check_init_code(init_code: &[u8]) -> Result<(), HaltReason> {
        if init_code.len() > MAX_INIT_CODE_SIZE {
            return Err(HaltReason::InitCodeSizeLimit);
        }
        Ok(())
    }

    /// The code to store and the gas left after its deposit.
    pub fn finish(output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        if output.len() > MAX_CODE_SIZE {
            return Err(HaltReason::CodeSizeLimit);
        }
        let gas_left = gas_left.checked_sub(CODE_DEPOSIT_GAS * output.len() as u64).ok_or(HaltReason::OutOfGas)?;
        Ok((Bytecode::new(output.clone()), gas_left))
    }
}

/// Which call a contract asks for (the `kind` argument of [`Service::Call`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Runs the target's code on its own account, moving value.
    Call = 0,
    /// As `Call`, without value, and the callee may not change state.
    Static = 1,
    /// Runs the target's code on the caller's account, with the caller's sender and value.
    Delegate = 2,
}

impl CallKind {
    pub fn from_number(n: u32) -> Option<CallKind> {
        match n {
            0 => Some(CallKind::Call),
            1 => Some(CallKind::Static),
            2 => Some(CallKind::Delegate),
            _ => None,
        }
    }
}

/// How a sub-call or deployment ended, as a contract sees it (the service's return value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CallStatus {
    Success = 0,
    /// The callee reverted: its return data is the revert data, its unused gas came back.
    Revert = 1,
    /// The callee halted (trap, out of gas, ...) or the call could not start.
    Failure = 2,
}

impl From<ExitStatus> for CallStatus {
    fn from(s: ExitStatus) -> Self {
        match s {
            ExitStatus::Success => CallStatus::Success,
            ExitStatus::Revert => CallStatus::Revert,
            ExitStatus::Halt(_) => CallStatus::Failure,
        }
    }
}

/// A contract's memory as the services see it: byte ranges at 32-bit addresses. A range
/// outside the memory halts the frame with [`HaltReason::Trap`].
pub trait GuestMemory {
    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], HaltReason>;
    /// Writes through the EE, which keeps whatever it derives from memory (decoded code) coherent.
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), HaltReason>;

    fn read_b256(&self, ptr: u32) -> Result<B256, HaltReason> {
        Ok(B256(self.read(ptr, 32)?.try_into().expect("32 bytes")))
    }

    fn read_word(&self, ptr: u32) -> Result<U256, HaltReason> {
        Ok(self.read_b256(ptr)?.to_word())
    }

    fn read_address(&self, ptr: u32) -> Result<Address, HaltReason> {
        Ok(Address(self.read(ptr, 20)?.try_into().expect("20 bytes")))
    }
}

/// What serving a service led to.
#[derive(Debug)]
pub enum Served {
    /// Run on; the service's result value, if it has one (`u64` for `gas_left`, else a `u32`).
    Resume(Option<u64>),
    /// Yield this request to the bootloader, and resume with [`ContractEnv::call_returned`]
    /// or [`ContractEnv::deployment_returned`] when it answers.
    Yield(Preemption),
    /// The contract ended itself (`return`, `revert`).
    End(ExitStatus, Bytes),
}

/// Takes `amount` from `gas`, or halts the frame with out-of-gas.
pub fn charge(gas: &mut u64, amount: u64) -> Result<(), HaltReason> {
    *gas = gas.checked_sub(amount).ok_or(HaltReason::OutOfGas)?;
    Ok(())
}

/// The frame's view of its call and the services' shared state. Gas lives in
/// the EE (it is the EE's fuel or step budget); every service takes it by
/// `&mut u64` and charges before it acts.
#[derive(Clone, Debug)]
pub struct ContractEnv {
    pub address: Address,
    pub caller: Address,
    pub value: U256,
    pub is_static: bool,
    pub input: CallInput,
    /// The last sub-call's or failed deployment's output.
    pub return_data: Bytes,
    /// Where a pending deployment's address goes.
    pending_address_ptr: Option<u32>,
}

impl ContractEnv {
    pub fn new(params: &LaunchParams) -> ContractEnv {
        ContractEnv {
            address: params.address,
            caller: params.caller,
            value: params.value,
            is_static: params.is_static,
            input: params.input.clone(),
            return_data: Arc::from(&[][..]),
            pending_address_ptr: None,
        }
    }

    /// Serves `service` with its arguments (as the ABI orders them, each widened to
    /// `u64`; a pointer or length is the low 32 bits) on the contract's `memory`.
    pub fn serve(
        &mut self,
        host: &mut dyn Host,
        gas: &mut u64,
        service: Service,
        args: &[u64],
        memory: &mut dyn GuestMemory,
    ) -> Result<Served, HaltReason> {
        let arg = |i: usize| args.get(i).copied().ok_or(HaltReason::Trap);
        let ptr = |i: usize| arg(i).map(|v| v as u32);
        let done = Ok(Served::Resume(None));
        match service {
            Service::CalldataSize => {
                charge(gas, cost::BASE)?;
                Ok(Served::Resume(Some(self.input.len() as u64)))
            }
            Service::ReturnDataSize => {
                charge(gas, cost::BASE)?;
                Ok(Served::Resume(Some(self.return_data.len() as u64)))
            }
            Service::GasLeft => {
                charge(gas, cost::BASE)?;
                Ok(Served::Resume(Some(*gas)))
            }
            Service::CalldataCopy => {
                let bytes = self.calldata_copy(gas, u64::from(ptr(1)?), ptr(2)?)?;
                memory.write(ptr(0)?, &bytes)?;
                done
            }
            Service::ReturnDataCopy => {
                let bytes = self.returndata_copy(gas, u64::from(ptr(1)?), ptr(2)?)?;
                memory.write(ptr(0)?, &bytes)?;
                done
            }
            Service::Return | Service::Revert => {
                let data = Arc::from(memory.read(ptr(0)?, ptr(1)?)?);
                let status = if service == Service::Return { ExitStatus::Success } else { ExitStatus::Revert };
                Ok(Served::End(status, data))
            }
            Service::StorageRead => {
                let value = self.storage_read(host, gas, memory.read_word(ptr(0)?)?)?;
                memory.write(ptr(1)?, &value.to_be_bytes::<32>())?;
                done
            }
            Service::StorageWrite => {
                let (key, value) = (memory.read_word(ptr(0)?)?, memory.read_word(ptr(1)?)?);
                self.storage_write(host, gas, key, value)?;
                done
            }
            Service::Caller | Service::Address | Service::Value => {
                charge(gas, cost::BASE)?;
                match service {
                    Service::Caller => memory.write(ptr(0)?, &self.caller.0),
                    Service::Address => memory.write(ptr(0)?, &self.address.0),
                    _ => memory.write(ptr(0)?, &self.value.to_be_bytes::<32>()),
                }?;
                done
            }
            Service::Balance => {
                let balance = self.balance(host, gas, memory.read_address(ptr(0)?)?)?;
                memory.write(ptr(1)?, &balance.to_be_bytes::<32>())?;
                done
            }
            Service::Log => {
                let n = ptr(1)?;
                if n > 4 {
                    return Err(HaltReason::Trap);
                }
                let topics =
                    memory.read(ptr(0)?, 32 * n)?.chunks(32).map(|c| B256(c.try_into().expect("32 bytes"))).collect();
                let data = memory.read(ptr(2)?, ptr(3)?)?.to_vec();
                self.log(host, gas, topics, &data)?;
                done
            }
            Service::Call => {
                let kind = CallKind::from_number(ptr(0)?).ok_or(HaltReason::Trap)?;
                let target = memory.read_address(ptr(2)?)?;
                let value = if kind == CallKind::Call { memory.read_word(ptr(3)?)? } else { U256::ZERO };
                let input = memory.read(ptr(4)?, ptr(5)?)?.to_vec();
                let req = self.call(host, gas, kind, target, value, input, arg(1)?)?;
                Ok(Served::Yield(Preemption::Call(req)))
            }
            Service::Create | Service::Create2 => {
                let value = memory.read_word(ptr(0)?)?;
                let code = memory.read(ptr(1)?, ptr(2)?)?.to_vec();
                let (salt, address_ptr) = match service {
                    Service::Create2 => (Some(memory.read_b256(ptr(3)?)?), ptr(4)?),
                    _ => (None, ptr(3)?),
                };
                // The address slot is checked now, so a deployment never runs for a frame that would trap after it.
                memory.read(address_ptr, 20)?;
                let req = self.create(gas, value, code, salt)?;
                self.pending_address_ptr = Some(address_ptr);
                Ok(Served::Yield(Preemption::Deploy(req)))
            }
        }
    }

    /// `len` bytes of calldata from `offset`; bytes past its end read as zero.
    pub fn calldata_copy(&self, gas: &mut u64, offset: u64, len: u32) -> Result<Vec<u8>, HaltReason> {
        charge(gas, cost::BASE + cost::copy(u64::from(len)))?;
        let mut out = vec![0; len as usize];
        copy_padded(&self.input.to_cow(), offset, &mut out);
        Ok(out)
    }

    /// `len` bytes of the last return data from `offset`; reading past its end halts.
    pub fn returndata_copy(&self, gas: &mut u64, offset: u64, len: u32) -> Result<Vec<u8>, HaltReason> {
        charge(gas, cost::BASE + cost::copy(u64::from(len)))?;
        let end = offset.checked_add(u64::from(len)).ok_or(HaltReason::ReturnDataOutOfBounds)?;
        if end > self.return_data.len() as u64 {
            return Err(HaltReason::ReturnDataOutOfBounds);
        }
        Ok(self.return_data[offset as usize..end as usize].to_vec())
    }

    pub fn storage_read(&self, host: &mut dyn Host, gas: &mut u64, key: U256) -> Result<U256, HaltReason> {
        let cold = host.warm_slot(self.address, key);
        charge(gas, if cold { cost::COLD_SLOAD } else { cost::WARM_ACCESS })?;
        Ok(host.sload(self.address, key))
    }

    /// Writes a slot, priced as EIP-2200/2929 without refunds: the first change of a
    /// slot in the transaction pays [`cost::STORAGE_SET`] or [`cost::STORAGE_RESET`],
    /// every other write [`cost::WARM_ACCESS`], plus [`cost::COLD_SLOAD`] when cold.
    pub fn storage_write(&self, host: &mut dyn Host, gas: &mut u64, key: U256, value: U256) -> Result<(), HaltReason> {
        if self.is_static {
            return Err(HaltReason::StaticStateChange);
        }
        let cold = host.warm_slot(self.address, key);
        charge(gas, if cold { cost::COLD_SLOAD } else { 0 })?;
        // Written before it is priced: if the price is out of reach the frame halts,
        // and the bootloader rolls the write back with the rest of the frame.
        let slot = host.sstore(self.address, key, value);
        let write = if slot.present == value || slot.original != slot.present {
            cost::WARM_ACCESS
        } else if slot.original.is_zero() {
            cost::STORAGE_SET
        } else {
            cost::STORAGE_RESET
        };
        charge(gas, write)
    }

    pub fn log(&self, host: &mut dyn Host, gas: &mut u64, topics: Vec<B256>, data: &[u8]) -> Result<(), HaltReason> {
        if self.is_static {
            return Err(HaltReason::StaticStateChange);
        }
        if topics.len() > 4 {
            return Err(HaltReason::Trap);
        }
        let price =
            cost::LOG + cost::LOG_TOPIC * topics.len() as u64 + cost::LOG_BYTE.saturating_mul(data.len() as u64);
        charge(gas, price)?;
        host.log(Log { address: self.address, topics, data: Arc::from(data) });
        Ok(())
    }

    pub fn balance(&self, host: &mut dyn Host, gas: &mut u64, account: Address) -> Result<U256, HaltReason> {
        let cold = host.warm_account(account);
        charge(gas, if cold { cost::COLD_ACCOUNT } else { cost::WARM_ACCESS })?;
        Ok(host.balance(account))
    }

    /// Prices a call and builds its request. The callee's gas (at most `requested`, and
    /// at most all but one 64th of what remains) is taken from `gas` here and what it
    /// leaves comes back in [`ContractEnv::call_returned`].
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &self,
        host: &mut dyn Host,
        gas: &mut u64,
        kind: CallKind,
        target: Address,
        value: U256,
        input: Vec<u8>,
        requested: u64,
    ) -> Result<CallRequest, HaltReason> {
        let moves_value = kind == CallKind::Call && !value.is_zero();
        if moves_value && self.is_static {
            return Err(HaltReason::StaticStateChange);
        }
        let cold = host.warm_account(target);
        let mut price = if cold { cost::COLD_ACCOUNT } else { cost::WARM_ACCESS };
        // EIP-7702, as the EVM prices it: loading a delegated account's target is an
        // account access of its own (the bootloader follows the designator).
        if host.fork() >= crate::Fork::Prague {
            if let Some(delegate) = host.code(target).delegation_target() {
                let cold = host.warm_account(delegate);
                price += if cold { cost::COLD_ACCOUNT } else { cost::WARM_ACCESS };
            }
        }
        if moves_value {
            price += cost::CALL_VALUE;
            if host.is_empty_account(target) {
                price += cost::NEW_ACCOUNT;
            }
        }
        charge(gas, price)?;
        let callee_gas = requested.min(*gas - *gas / 64);
        *gas -= callee_gas;
        let input = CallInput::from_vec(input);
        Ok(match kind {
            CallKind::Call | CallKind::Static => CallRequest {
                modifier: if kind == CallKind::Static { CallModifier::Static } else { CallModifier::Call },
                caller: self.address,
                address: target,
                code_address: target,
                value: if kind == CallKind::Static { U256::ZERO } else { value },
                input,
                gas: callee_gas,
                is_static: self.is_static || kind == CallKind::Static,
            },
            CallKind::Delegate => CallRequest {
                modifier: CallModifier::Delegate,
                caller: self.caller,
                address: self.address,
                code_address: target,
                value: self.value,
                input,
                gas: callee_gas,
                is_static: self.is_static,
            },
        })
    }

    /// Prices a deployment and builds its request; the constructor gets all but one
    /// 64th of the remaining gas, taken from `gas` until [`ContractEnv::deployment_returned`].
    pub fn create(
        &self,
        gas: &mut u64,
        value: U256,
        init_code: Vec<u8>,
        salt: Option<B256>,
    ) -> Result<DeploymentRequest, HaltReason> {
        if self.is_static {
            return Err(HaltReason::StaticStateChange);
        }
        let hashing =
            if salt.is_some() { cost::HASH_WORD.saturating_mul((init_code.len() as u64).div_ceil(32)) } else { 0 };
        charge(gas, cost::CREATE.saturating_add(hashing))?;
        let constructor_gas = *gas - *gas / 64;
        *gas -= constructor_gas;
        let scheme = match salt {
            Some(salt) => CreateScheme::Create2 { salt },
            None => CreateScheme::Create,
        };
        Ok(DeploymentRequest {
            deployer: self.address,
            value,
            init_code: Arc::from(init_code),
            scheme,
            gas: constructor_gas,
        })
    }

    /// Takes back a callee's unused gas and output; returns the status the contract sees.
    pub fn call_returned(&mut self, gas: &mut u64, result: CallResult) -> CallStatus {
        *gas += result.gas_left;
        self.return_data = result.output;
        result.status.into()
    }

    /// Takes back a constructor's unused gas and writes the new address (zero when the
    /// deployment failed) where the `create` service asked; returns the status.
    pub fn deployment_returned(
        &mut self,
        gas: &mut u64,
        result: DeploymentResult,
        memory: &mut dyn GuestMemory,
    ) -> Result<CallStatus, HaltReason> {
        *gas += result.gas_left;
        self.return_data = result.output;
        let address_ptr = self.pending_address_ptr.take().ok_or(HaltReason::Trap)?;
        memory.write(address_ptr, &result.address.unwrap_or_default().0)?;
        Ok(result.status.into())
    }
}

/// Copies `src[offset..]` into `dst`, zero-filling what lies past `src`'s end.
pub fn copy_padded(src: &[u8], offset: u64, dst: &mut [u8]) {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(src.len());
    let n = (src.len() - start).min(dst.len());
    dst[..n].copy_from_slice(&src[start..start + n]);
    dst[n..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_and_numbers_round_trip() {
        for s in Service::ALL {
            assert_eq!(Service::from_name(s.name()), Some(s));
            assert_eq!(Service::from_number(s.number()), Some(s));
        }
        assert_eq!(Service::from_number(0), None);
        assert_eq!(Service::from_name("selfdestruct"), None);
    }

    #[test]
    fn padded_copy_zero_fills() {
        let mut dst = [9u8; 4];
        copy_padded(&[1, 2, 3], 1, &mut dst);
        assert_eq!(dst, [2, 3, 0, 0]);
        copy_padded(&[1, 2, 3], u64::MAX, &mut dst);
        assert_eq!(dst, [0; 4]);
    }

    #[test]
    fn charge_refuses_overdraft() {
        let mut gas = 10;
        assert_eq!(charge(&mut gas, 11), Err(HaltReason::OutOfGas));
        assert_eq!(charge(&mut gas, 10), Ok(()));
        assert_eq!(gas, 0);
    }
}
