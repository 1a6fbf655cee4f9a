//! # eravm-differential
//!
//! The project's EraVM execution environment (`ee-eravm`) against Matter Labs' `zksync_vm2`
//! 0.5.0 (through `eravm-oracle`): program builders ([`builders`]), seeded program and world
//! generators ([`generate`]), the comparison of one world on both machines, instruction by
//! instruction and at the end ([`compare`]), minimization of a divergence ([`minimize`]),
//! vectors that replay one ([`vector`]), and seeded campaigns with their report
//! ([`campaign`], what `conformance differential eravm` runs). See README.md.

pub mod builders;
pub mod campaign;
pub mod compare;
pub mod generate;
pub mod minimize;
pub mod vector;

pub use compare::{compare, compare_caught, compare_tampered, Case, Compared, Contract, Divergence, Kind};
