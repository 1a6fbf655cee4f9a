//! Generated EVM state tests for `conformance differential evm`: the generator ([`generate`]:
//! a seed gives one state test in the ethereum/tests GeneralStateTests / EEST JSON shape, with
//! one post entry) and the minimizer ([`minimize`]: smaller variants of a case, kept while a
//! caller's predicate still holds). The comparison with revm lives in the runner
//! (`runner/src/suites/state/reference.rs`), which parses these cases with the state suite.

pub mod code;
pub mod crypto;
pub mod generate;
pub mod minimize;
pub mod rng;

pub use generate::{case, case_seed, FORKS};
