//! # riscv-differential
//!
//! The project's RISC-V execution environment (`ee-riscv`) against Debian's `qemu-riscv32`
//! (qemu-user): seeded RV32IM programs ([`generate`], [`program`]) written as static ELF
//! files (our own encoder [`encode`], `ee_riscv::elf::write`), run on both machines and compared
//! ([`compare`]: registers and memory after the run, or the fault class), divergences
//! minimized ([`minimize`]) and saved as replayable vectors, campaigns with their report
//! ([`campaign`], what `conformance differential riscv` runs). See README.md.

pub mod campaign;
pub mod compare;
pub mod encode;
pub mod generate;
pub mod minimize;
pub mod program;
pub mod qemu;

pub use compare::{run_both, Class, Divergence, Outcome};
pub use program::{Item, Program};
