//! Shared helpers for the oracle's tests: finding `shared/eravm`, a v29 world, deploying
//! user contracts through the real ContractDeployer.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use ee_api::{Address, B256, U256};
use eravm_oracle::abi::{self, Token};
use eravm_oracle::artifacts::{self, Artifact};
use eravm_oracle::{addresses, Outcome, Status, Tx, World};

/// `shared/eravm`, or `None` (with a printed note) when it is absent. With
/// `REQUIRE_ERAVM_CONTRACTS` set, absence fails the test instead.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = artifacts::data_dir() {
        return Some(dir);
    }
    let msg = "shared/eravm (system-contracts-v29.tar.gz and contracts/*.json) not found beside the \
               repository: it is the project's shared data folder (../shared/eravm from the repo root; \
               see its README for where the artifacts come from)";
    assert!(std::env::var_os(artifacts::REQUIRE_ENV).is_none(), "{msg} ({} is set)", artifacts::REQUIRE_ENV);
    eprintln!("note: {msg}; skipping");
    None
}

/// The v29 system contracts, read once per test binary.
pub fn system_contracts() -> &'static [Artifact] {
    static CELL: OnceLock<Vec<Artifact>> = OnceLock::new();
    CELL.get_or_init(|| artifacts::load_system_contracts(&data_dir().expect("data dir")).expect("system contracts"))
}

/// A plain world with the v29 system contracts installed.
pub fn v29_world() -> World {
    World::with_system_contracts(system_contracts())
}

pub fn user(name: &str) -> Artifact {
    artifacts::load_user_contract(&data_dir().expect("data dir"), name).expect("user contract")
}

/// Ergs given to every transaction in these tests (the bootloader's usual cap is far above
/// what these contracts need).
pub const ERGS: u32 = 80_000_000;

pub const DEPLOYER_EOA: Address = Address([0xde; 20]);

/// Deploys `artifact` with constructor `args` from `from` through ContractDeployer's
/// `create` (system call), marking its hash known first as the bootloader does for factory
/// deps. Returns the new address and the deployment outcome.
pub fn deploy(world: &mut World, from: Address, artifact: &Artifact, args: &[Token]) -> (Address, Outcome) {
    let hash = world.add_factory_dep(&artifact.bytecode);
    let calldata = abi::call(
        "create(bytes32,bytes32,bytes)",
        &[Token::Bytes32(B256::ZERO), Token::Bytes32(hash), Token::Bytes(abi::encode(args))],
    );
    let out = world.execute(&Tx::call(from, addresses::CONTRACT_DEPLOYER, calldata, ERGS).system());
    assert_eq!(
        out.status,
        Status::Success,
        "deploying {}: {:?} {}",
        artifact.name,
        out.status,
        hex::encode(&out.return_data)
    );
    let at = abi::decode_address(&out.return_data, 0).expect("create returns the address");
    assert_eq!(world.code_hash_at(at), Some(hash), "{} constructed at {at}", artifact.name);
    (at, out)
}

pub fn uint(x: u64) -> Token {
    Token::Uint(U256::from(x))
}
