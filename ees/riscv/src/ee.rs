//! The RISC-V EE behind the bootloader's interface (`ee_api`).
//!
//! Stored code is `0xEF 0xEE 0x02 <mode> <ELF32 image>` (see `ABI.md`). One
//! mode exists so far, [`MODE_MACHINE`]: a bare-metal program in the
//! riscv-tests `p` style, whose `ecall`s trap to its own `mtvec` and whose
//! result is the first non-zero word it writes to `tohost`. A call runs the
//! program from its entry with one gas per instruction; `tohost` = 1 is
//! success, any other value a revert, and the word comes back as the call's
//! output (4 bytes, little-endian) so a failing test's number is known.
//! Contracts with an `ecall` host ABI (a second mode) are the next step; code
//! in an unknown mode halts with [`HaltReason::InvalidProgram`].

use std::sync::Arc;

use ee_api::{
    Address, Bytecode, Bytes, CallModifier, CallResult, DeploymentResult, EeKind, ExecutionEnvironment, ExitStatus,
    Frame, FrameOutcome, HaltReason, Host, LaunchParams, Preemption,
};

use crate::{elf, Config, ElfError, Exit, Machine, Program};

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
type Parsed = Result<Program, String>;

fn parse(code: &[u8]) -> Parsed {
    match code {
        [0xEF, 0xEE, 0x02, MODE_MACHINE, image @ ..] => elf::parse(image).map_err(|e: ElfError| e.to_string()),
        [0xEF, 0xEE, 0x02, mode, ..] => Err(format!("unknown RISC-V code mode 0x{mode:02x}")),
        _ => Err("not RISC-V code (no 0xEF 0xEE 0x02 marker)".to_string()),
    }
}

impl ExecutionEnvironment for RiscvEe {
    fn kind(&self) -> EeKind {
        EeKind::RiscV
    }

    fn supports_modifier(&self, modifier: CallModifier) -> bool {
        // A machine-mode program touches no account state, so every call flavour runs it the same.
        modifier != CallModifier::Constructor
    }

    fn callee_resources(&self, available: u64, requested: u64) -> u64 {
        requested.min(available)
    }

    fn check_init_code(&self, _init_code: &[u8]) -> Result<(), HaltReason> {
        // Deployments of RISC-V code come with the contract mode.
        Err(HaltReason::InvalidProgram)
    }

    /// Never asked: without constructor support the bootloader refuses RISC-V deployments first.
    fn deployment_address(
        &self,
        _creator: Address,
        _nonce: u64,
        _scheme: ee_api::CreateScheme,
        _init_code: &[u8],
    ) -> Address {
        Address::ZERO
    }

    fn finish_deployment(&self, _output: &Bytes, _gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        Err(HaltReason::InvalidProgram)
    }

    fn launch(&self, params: LaunchParams) -> Box<dyn Frame> {
        let program = params.code.analysis(parse);
        Box::new(RiscvFrame { program, gas: params.gas, machine: None })
    }
}

/// One run of a program.
struct RiscvFrame {
    program: Arc<Parsed>,
    gas: u64,
    machine: Option<Machine>,
}

impl RiscvFrame {
    fn end(&self, status: ExitStatus, gas_left: u64, output: Bytes) -> Preemption {
        Preemption::CallCompleted(FrameOutcome { status, gas_left, output })
    }

    fn halt(&self, reason: HaltReason) -> Preemption {
        self.end(ExitStatus::Halt(reason), 0, Arc::from(&[][..]))
    }
}

impl Frame for RiscvFrame {
    fn start(&mut self, _host: &mut dyn Host) -> Preemption {
        let program = match self.program.as_ref() {
            Ok(p) => p,
            Err(_) => return self.halt(HaltReason::InvalidProgram),
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
