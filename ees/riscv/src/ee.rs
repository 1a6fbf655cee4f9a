//! The RISC-V EE behind the bootloader's interface (`ee_api`).
//!
//! Stored code is `0xEF 0xEE 0x02 <mode> <ELF32 image>` (see `ABI.md`):
//! - [`MODE_MACHINE`]: a bare-metal program in the riscv-tests `p` style, whose
//!   `ecall`s trap to its own `mtvec` and whose result is the first non-zero word
//!   it writes to `tohost`. A call runs the program from its entry with one gas
//!   per instruction; `tohost` = 1 is success, any other value a revert, and the
//!   word comes back as the call's output (4 bytes, little-endian) so a failing
//!   test's number is known.
//! - [`MODE_CONTRACT`] (and [`MODE_CONTRACT_INIT`] init code): a contract whose
//!   `ecall`s are host services, calls and deployments (`contract.rs`).
//!
//! Code in an unknown mode halts with [`HaltReason::InvalidProgram`].

use std::sync::Arc;

use ee_api::{
    Address, Bytecode, Bytes, CallModifier, CallResult, DeploymentResult, EeKind, ExecutionEnvironment, ExitStatus,
    Frame, FrameOutcome, HaltReason, Host, LaunchParams, Preemption,
};

use crate::contract::{self, ContractFrame, ContractProgram};
use crate::{elf, Config, ElfError, Exit, Machine, Program};
use ee_api::contract::deployment;

pub use crate::contract::{contract_code, contract_init_code, MODE_CONTRACT, MODE_CONTRACT_INIT};

/// Mode byte of a bare-metal machine-mode program (riscv-tests protocol).
pub const MODE_MACHINE: u8 = 0x01;

/// The code of a machine-mode program: the EE marker, the mode, the ELF image.
pub fn machine_program_code(elf: &[u8]) -> Vec<u8> {
    let mut code = Vec::with_capacity(elf.len() + 4);
    code.extend_from_slice(&[0xEF, 0xEE, 0x02, MODE_MACHINE]);
    code.extend_from_slice(elf);
    code
}

/// The RISC-V execution environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct RiscvEe;

/// What a code object holds, parsed once per code (the bytecode's analysis cache).
enum Parsed {
    Machine(Program),
    Contract(Arc<ContractProgram>),
    Invalid(String),
}

fn parse(code: &[u8]) -> Parsed {
    let parsed = match code {
        [0xEF, 0xEE, 0x02, MODE_MACHINE, image @ ..] => {
            elf::parse(image).map(Parsed::Machine).map_err(|e: ElfError| e.to_string())
        }
        [0xEF, 0xEE, 0x02, MODE_CONTRACT | MODE_CONTRACT_INIT, ..] => {
            contract::parse(code).map(|c| Parsed::Contract(Arc::new(c)))
        }
        [0xEF, 0xEE, 0x02, mode, ..] => Err(format!("unknown RISC-V code mode 0x{mode:02x}")),
        _ => Err("not RISC-V code (no 0xEF 0xEE 0x02 marker)".to_string()),
    };
    parsed.unwrap_or_else(Parsed::Invalid)
}

/// Why `code` cannot run as RISC-V code, or `None` when it can.
pub fn code_error(code: &[u8]) -> Option<String> {
    match parse(code) {
        Parsed::Invalid(why) => Some(why),
        _ => None,
    }
}

impl ExecutionEnvironment for RiscvEe {
    fn kind(&self) -> EeKind {
        EeKind::RiscV
    }

    /// Every call flavour runs RISC-V code (a machine-mode program touches no account
    /// state, so all run it the same); deployments are of contract init code.
    fn supports_modifier(&self, _modifier: CallModifier) -> bool {
        true
    }

    fn callee_resources(&self, available: u64, requested: u64) -> u64 {
        requested.min(available - available / 64)
    }

    fn check_init_code(&self, init_code: &[u8]) -> Result<(), HaltReason> {
        deployment::check_init_code(init_code)
    }

    fn deployment_address(
        &self,
        creator: Address,
        nonce: u64,
        scheme: ee_api::CreateScheme,
        init_code: &[u8],
    ) -> Address {
        scheme.address(creator, nonce, init_code)
    }

    fn finish_deployment(&self, output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        deployment::finish(output, gas_left)
    }

    fn launch(&self, params: LaunchParams) -> Box<dyn Frame> {
        let parsed = params.code.analysis(parse);
        let constructor = params.modifier == CallModifier::Constructor;
        match parsed.as_ref() {
            Parsed::Contract(program) => Box::new(ContractFrameAdapter(ContractFrame::new(program.clone(), params))),
            // A machine-mode program is not init code: it cannot say what to deploy.
            Parsed::Machine(_) if constructor => {
                Box::new(RiscvFrame { program: None, gas: 0, machine: None, constructor })
            }
            Parsed::Machine(_) => {
                Box::new(RiscvFrame { program: Some(parsed.clone()), gas: params.gas, machine: None, constructor })
            }
            Parsed::Invalid(_) => Box::new(RiscvFrame { program: None, gas: 0, machine: None, constructor }),
        }
    }
}

/// [`ContractFrame`] as a bootloader frame.
struct ContractFrameAdapter(ContractFrame);

impl Frame for ContractFrameAdapter {
    fn start(&mut self, host: &mut dyn Host) -> Preemption {
        self.0.start(host)
    }

    fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption {
        self.0.continue_after_call(host, result)
    }

    fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption {
        self.0.continue_after_deployment(host, result)
    }

    fn is_static(&self) -> bool {
        self.0.is_static()
    }
}

/// One run of a machine-mode program; `program` is `None` when the code cannot run.
struct RiscvFrame {
    program: Option<Arc<Parsed>>,
    gas: u64,
    machine: Option<Machine>,
    constructor: bool,
}

impl RiscvFrame {
    fn end(&self, status: ExitStatus, gas_left: u64, output: Bytes) -> Preemption {
        Preemption::completed(self.constructor, FrameOutcome { status, gas_left, output })
    }

    fn halt(&self, reason: HaltReason) -> Preemption {
        self.end(ExitStatus::Halt(reason), 0, Arc::from(&[][..]))
    }
}

impl Frame for RiscvFrame {
    fn start(&mut self, _host: &mut dyn Host) -> Preemption {
        let Some(Parsed::Machine(program)) = self.program.as_deref() else {
            return self.halt(HaltReason::InvalidProgram);
        };
        let config = Config { ecall_yields: false, ..Config::riscv_tests() };
        let mut machine = match Machine::load(program, config) {
            Ok(m) => m,
            Err(_) => return self.halt(HaltReason::InvalidProgram),
        };
        let exit = machine.run(self.gas);
        let gas_left = self.gas.saturating_sub(machine.instret());
        self.machine = Some(machine);
        match exit {
            Exit::Halted(tohost) => {
                let status = if tohost == 1 { ExitStatus::Success } else { ExitStatus::Revert };
                self.end(status, gas_left, Arc::from(&tohost.to_le_bytes()[..]))
            }
            Exit::StepLimit => self.halt(HaltReason::OutOfGas),
            Exit::Trap(_) | Exit::Ecall => self.halt(HaltReason::Trap),
        }
    }

    fn continue_after_call(&mut self, _host: &mut dyn Host, _result: CallResult) -> Preemption {
        // A machine-mode program never calls out, so the bootloader never answers one.
        self.halt(HaltReason::Trap)
    }

    fn continue_after_deployment(&mut self, _host: &mut dyn Host, _result: DeploymentResult) -> Preemption {
        self.halt(HaltReason::Trap)
    }

    fn is_static(&self) -> bool {
        false
    }
}

/// The `tohost` word of a machine-mode program's call output.
pub fn tohost_of(output: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(output.try_into().ok()?))
}
