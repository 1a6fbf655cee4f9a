//! # eravm-oracle
//!
//! Runs EraVM programs and multi-contract worlds on Matter Labs' own implementation,
//! [`zksync_vm2`] 0.5.0, and reports everything a differential test needs: status, return
//! data, ergs, storage changes, events, L2→L1 logs, transient storage and, on request, a
//! per-instruction trace.
//!
//! This crate is an **oracle for tests** (and the harness's differential mode): a second
//! opinion to compare the project's own EraVM execution environment against. It is never a
//! verdict source for official suites, and the project's EraVM EE must never depend on it.
//! vm2 0.5.0 has known divergences from the EraVM specification (see README.md); where it
//! differs from the spec, the spec wins and the differential allow-lists the difference.
//!
//! The API speaks plain types ([`ee_api::Address`], [`ee_api::U256`], [`ee_api::B256`], byte
//! vectors); no vm2 type crosses it.
//!
//! ```no_run
//! use eravm_oracle::{abi, artifacts, Tx, World};
//! use ee_api::{Address, U256};
//!
//! let dir = artifacts::data_dir().expect("shared/eravm");
//! let mut world = World::with_system_contracts(&artifacts::load_system_contracts(&dir).unwrap());
//! let fib = artifacts::load_user_contract(&dir, "Fib").unwrap();
//! let at = Address([0x11; 20]);
//! world.install(at, &fib.bytecode);
//! let calldata = abi::call("fib(uint256)", &[abi::Token::Uint(U256::from(10))]);
//! let out = eravm_oracle::run(&world, &Tx::call(Address([0x22; 20]), at, calldata, 1 << 24));
//! assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(89)));
//! ```

/// The reader of `shared/eravm` (`ee_eravm::artifacts`), re-exported.
pub use ee_eravm::artifacts;
/// The ABI helpers (`ee_eravm::artifacts::abi`), re-exported.
pub use ee_eravm::artifacts::abi;
mod convert;
mod run;
mod world;

pub use run::{run, Event, L2ToL1Log, Outcome, Status, Step, StorageWrite, Tx};
pub use world::{addresses, bytecode_hash, create2_address, create_address, BytecodeError, World};
