//! Native RISC-V contracts: ELF programs that reach the world through `ecall`
//! (`ABI.md`, "Contract mode"). The services, their prices and static-call rules are
//! `ee_api::contract`'s, shared with the WASM EE; this file maps registers and guest
//! memory onto them. A call or deployment ends the machine's run at the `ecall`
//! ([`Exit::Ecall`]); the frame yields it to the bootloader and resumes the same
//! machine with the status in `a0`.

use std::sync::Arc;

use ee_api::contract::{ContractEnv, GuestMemory, Served, Service};
use ee_api::{
    Bytes, CallInput, CallModifier, CallResult, DeploymentResult, ExitStatus, FrameOutcome, HaltReason, Host,
    LaunchParams, Preemption,
};

use crate::{Config, Exit, Machine, Program};

/// Mode byte of contract code (deployed, or init code without constructor input).
pub const MODE_CONTRACT: u8 = 0x02;
/// Mode byte of init code that carries constructor input.
pub const MODE_CONTRACT_INIT: u8 = 0x03;

/// Where a contract's memory starts (link contracts here) and how large it is; the
/// stack pointer starts at its top.
pub const CONTRACT_MEM_BASE: u32 = 0x8000_0000;
pub const CONTRACT_MEM_SIZE: u32 = 1 << 20;

/// Instructions run between two polls of the case's time bound.
const SLICE: u64 = 1 << 20;

/// A `call` service's gas argument meaning "as much as the rules allow".
const ALL_GAS: u64 = 0xFFFF_FFFF;

/// Contract code: the EE marker, the mode, the ELF image.
pub fn contract_code(elf: &[u8]) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x02, MODE_CONTRACT];
    code.extend_from_slice(elf);
    code
}

/// Init code whose constructor reads `input` as its calldata; deploys `contract_code(elf)`.
pub fn contract_init_code(elf: &[u8], input: &[u8]) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x02, MODE_CONTRACT_INIT];
    code.extend_from_slice(&(elf.len() as u32).to_le_bytes());
    code.extend_from_slice(elf);
    code.extend_from_slice(input);
    code
}

/// A parsed contract: the program, the code a deployment stores, the constructor's input.
#[derive(Debug)]
pub struct ContractProgram {
    pub program: Program,
    pub deployed: Bytes,
    pub input: Bytes,
}

/// Parses the image after the mode byte of contract (`MODE_CONTRACT`) or init code.
pub(crate) fn parse(code: &[u8]) -> Result<ContractProgram, String> {
    let elf = |image: &[u8]| crate::elf::parse(image).map_err(|e| e.to_string());
    match code {
        [0xEF, 0xEE, 0x02, MODE_CONTRACT, image @ ..] => {
            Ok(ContractProgram { program: elf(image)?, deployed: Arc::from(code), input: Arc::from(&[][..]) })
        }
        [0xEF, 0xEE, 0x02, MODE_CONTRACT_INIT, rest @ ..] if rest.len() >= 4 => {
            let n = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            let (image, input) =
                rest[4..].split_at_checked(n).ok_or_else(|| format!("ELF length {n} runs past the init code"))?;
            Ok(ContractProgram {
                program: elf(image)?,
                deployed: Arc::from(contract_code(image)),
                input: Arc::from(input),
            })
        }
        _ => Err("not RISC-V contract code".to_string()),
    }
}

/// The machine's memory, as the services see it (writes keep the decode cache coherent).
struct MachineMemory<'a>(&'a mut Machine);

impl GuestMemory for MachineMemory<'_> {
    /// An empty range is valid at any address (`return(0, 0)`), as in WASM.
    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], HaltReason> {
        if len == 0 {
            return Ok(&[]);
        }
        self.0.memory().slice(ptr, len).ok_or(HaltReason::Trap)
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), HaltReason> {
        if bytes.is_empty() || self.0.write_memory(ptr, bytes) {
            Ok(())
        } else {
            Err(HaltReason::Trap)
        }
    }
}

/// One activation of a contract.
pub(crate) struct ContractFrame {
    program: Arc<ContractProgram>,
    env: ContractEnv,
    constructor: bool,
    gas: u64,
    machine: Option<Machine>,
}

impl ContractFrame {
    pub(crate) fn new(program: Arc<ContractProgram>, params: LaunchParams) -> ContractFrame {
        let constructor = params.modifier == CallModifier::Constructor;
        let mut env = ContractEnv::new(&params);
        if constructor {
            env.input = CallInput::from(program.input.as_ref());
        }
        ContractFrame { program, env, constructor, gas: params.gas, machine: None }
    }

    fn finished(&self, status: ExitStatus, gas_left: u64, output: Bytes) -> Preemption {
        Preemption::completed(self.constructor, FrameOutcome { status, gas_left, output })
    }

    fn halt(&self, reason: HaltReason) -> Preemption {
        self.finished(ExitStatus::Halt(reason), 0, Arc::from(&[][..]))
    }

    fn end(&self, status: ExitStatus, output: Bytes) -> Preemption {
        let output = if self.constructor && status.is_success() { self.program.deployed.clone() } else { output };
        self.finished(status, self.gas, output)
    }

    /// Runs the machine until it yields a request, ends, or fails.
    fn drive(&mut self, host: &mut dyn Host) -> Preemption {
        loop {
            let machine = self.machine.as_mut().expect("started");
            let before = machine.instret();
            let exit = machine.run(self.gas.min(SLICE));
            self.gas -= (machine.instret() - before).min(self.gas);
            match exit {
                Exit::StepLimit if self.gas == 0 => return self.halt(HaltReason::OutOfGas),
                Exit::StepLimit if host.interrupted() => return self.halt(HaltReason::Interrupted),
                Exit::StepLimit => continue,
                Exit::Halted(_) | Exit::Trap(_) => return self.halt(HaltReason::Trap),
                Exit::Ecall => {}
            }
            let Some(service) = Service::from_number(machine.reg(17)) else { return self.halt(HaltReason::Trap) };
            let mut args: Vec<u64> = (10..16).map(|r| u64::from(machine.reg(r))).collect();
            if service == Service::Call && args[1] == ALL_GAS {
                args[1] = u64::MAX;
            }
            match self.env.serve(host, &mut self.gas, service, &args, &mut MachineMemory(machine)) {
                Ok(Served::Resume(Some(v))) => {
                    machine.set_reg(10, v as u32);
                    machine.set_reg(11, (v >> 32) as u32);
                }
                Ok(Served::Resume(None)) => {}
                Ok(Served::Yield(p)) => return p,
                Ok(Served::End(status, output)) => return self.end(status, output),
                Err(reason) => return self.halt(reason),
            }
        }
    }

    pub(crate) fn start(&mut self, host: &mut dyn Host) -> Preemption {
        let config = Config {
            mem_base: CONTRACT_MEM_BASE,
            mem_size: CONTRACT_MEM_SIZE,
            ecall_yields: true,
            ..Config::default()
        };
        let mut machine = match Machine::load(&self.program.program, config) {
            Ok(m) => m,
            Err(_) => return self.halt(HaltReason::InvalidProgram),
        };
        // No tohost protocol in contracts: they end through `return` and `revert`.
        machine.set_tohost(None);
        machine.set_reg(2, CONTRACT_MEM_BASE.wrapping_add(CONTRACT_MEM_SIZE) & !15);
        machine.set_reg(10, u32::from(self.constructor));
        self.machine = Some(machine);
        self.drive(host)
    }

    pub(crate) fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption {
        let status = self.env.call_returned(&mut self.gas, result);
        self.machine.as_mut().expect("suspended in a call").set_reg(10, status as u32);
        self.drive(host)
    }

    pub(crate) fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption {
        let machine = self.machine.as_mut().expect("suspended in a deployment");
        match self.env.deployment_returned(&mut self.gas, result, &mut MachineMemory(machine)) {
            Ok(status) => {
                machine.set_reg(10, status as u32);
                self.drive(host)
            }
            Err(reason) => self.halt(reason),
        }
    }

    pub(crate) fn is_static(&self) -> bool {
        self.env.is_static
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::{assemble, elf_image};

    fn elf() -> Vec<u8> {
        elf_image(&assemble("li a7, 3\necall", CONTRACT_MEM_BASE).unwrap(), CONTRACT_MEM_BASE)
    }

    #[test]
    fn contract_and_init_code_parse() {
        let deployed = contract_code(&elf());
        let parsed = parse(&deployed).unwrap();
        assert_eq!(&*parsed.deployed, &deployed[..]);
        assert!(parsed.input.is_empty());
        let init = parse(&contract_init_code(&elf(), b"input")).unwrap();
        assert_eq!(&*init.deployed, &deployed[..]);
        assert_eq!(&*init.input, b"input");
        assert_eq!(init.program.entry, CONTRACT_MEM_BASE);
    }

    #[test]
    fn bad_contract_code_says_why() {
        let mut init = contract_init_code(&elf(), b"");
        init.truncate(init.len() - 1);
        assert!(parse(&init).unwrap_err().contains("runs past the init code"));
        assert!(crate::code_error(&contract_code(b"\x7fELF")).is_some());
        assert!(crate::code_error(&[0xEF, 0xEE, 0x02, 0x7f]).unwrap().contains("unknown RISC-V code mode 0x7f"));
        assert_eq!(crate::code_error(&contract_code(&elf())), None);
    }
}
