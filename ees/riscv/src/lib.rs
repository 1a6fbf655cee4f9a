//! The RISC-V execution environment: an RV32IM hart with the little machine mode that the
//! riscv-tests `p` environment needs (Zicsr, traps to `mtvec`, `mret`, M and U modes), an
//! ELF32 loader, and a resumable interpreter over pre-decoded instructions.
//!
//! ```no_run
//! use ee_riscv::{Config, Exit, Machine};
//! let elf = std::fs::read("target/riscv-tests/elf/rv32ui-p-add").unwrap();
//! let mut m = Machine::from_elf(&elf, Config::default()).unwrap();
//! assert_eq!(m.run(1_000_000), Exit::Halted(1));
//! ```

#![forbid(unsafe_code)]

pub mod asm;
mod contract;
pub mod csr;
pub mod decode;
pub mod ee;
pub mod elf;
pub mod exec;
mod fast;
pub mod memory;
pub mod trap;

use std::fmt;

pub use contract::{ContractProgram, CONTRACT_MEM_BASE, CONTRACT_MEM_SIZE};
pub use csr::Privilege;
pub use ee::{
    code_error, contract_code, contract_init_code, machine_program_code, tohost_of, RiscvEe, MODE_CONTRACT,
    MODE_CONTRACT_INIT, MODE_MACHINE,
};
pub use elf::{ElfError, Program};
pub use exec::{Config, Exit, Machine, DEFAULT_MEM_BASE, DEFAULT_MEM_SIZE, DEFAULT_TOHOST};
pub use memory::Memory;
pub use trap::{Trap, TrapCause};

/// Steps after which a riscv-tests program counts as hung (the largest needs ~10k).
pub const DEFAULT_TEST_STEPS: u64 = 10_000_000;

/// The verdict of one riscv-tests program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestOutcome {
    /// `tohost` = 1.
    Pass,
    /// `tohost` = `(test << 1) | 1`. An unexpected trap in the env reports `test | 668`
    /// (`TESTNUM | 1337`), and [`TestRun::last_trap`] says which.
    Fail { test: u32 },
    /// An even `tohost` value: a device command this EE does not serve.
    UnknownTohost(u32),
    /// Did not finish within the step bound.
    StepLimit,
    /// A trap with no handler installed.
    Trap(Trap),
    /// An `ecall` reached the embedder (only with [`Config::ecall_yields`]).
    Ecall,
}

/// A finished riscv-tests run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRun {
    pub outcome: TestOutcome,
    pub steps: u64,
    pub last_trap: Option<Trap>,
}

impl TestOutcome {
    /// Reads a `tohost` word by the riscv-tests protocol.
    pub fn from_tohost(value: u32) -> Self {
        match value {
            1 => TestOutcome::Pass,
            v if v & 1 == 1 => TestOutcome::Fail { test: v >> 1 },
            v => TestOutcome::UnknownTohost(v),
        }
    }
}

impl fmt::Display for TestOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestOutcome::Pass => f.write_str("pass"),
            TestOutcome::Fail { test } => write!(f, "test {test} failed (tohost 0x{:x})", (test << 1) | 1),
            TestOutcome::UnknownTohost(v) => write!(f, "unknown tohost value 0x{v:x}"),
            TestOutcome::StepLimit => f.write_str("step limit reached (program never ended)"),
            TestOutcome::Trap(t) => write!(f, "unhandled trap: {t}"),
            TestOutcome::Ecall => f.write_str("ecall reached the embedder"),
        }
    }
}

impl fmt::Display for TestRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} after {} steps", self.outcome, self.steps)?;
        match (self.outcome, self.last_trap) {
            // The env reports through an ecall; only other traps explain anything.
            (TestOutcome::Fail { .. } | TestOutcome::StepLimit | TestOutcome::UnknownTohost(_), Some(t))
                if !matches!(t.cause, TrapCause::EcallFromU | TrapCause::EcallFromM) =>
            {
                write!(f, "; last trap: {t}")
            }
            _ => Ok(()),
        }
    }
}

/// Loads a riscv-tests ELF on the hart the bootloader runs machine-mode programs on
/// ([`Config::riscv_tests`]) and runs it to a verdict.
pub fn run_test(elf: &[u8], max_steps: u64) -> Result<TestRun, ElfError> {
    let mut m = Machine::from_elf(elf, Config::riscv_tests())?;
    let outcome = match m.run(max_steps) {
        Exit::Halted(v) => TestOutcome::from_tohost(v),
        Exit::StepLimit => TestOutcome::StepLimit,
        Exit::Trap(t) => TestOutcome::Trap(t),
        Exit::Ecall => TestOutcome::Ecall,
    };
    Ok(TestRun { outcome, steps: m.instret(), last_trap: m.last_trap() })
}
