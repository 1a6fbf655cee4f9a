//! Reading the EraVM contracts in `shared/eravm/` (see its README): the v29 system-contract
//! tarball and the user contracts with ABIs, read in place, never copied; the kernel
//! addresses of the system contracts and the genesis layout both the vm2 oracle and the
//! `eravm` conformance suite build their worlds from; and a small Solidity ABI ([`abi`]).
//!
//! Behind the cargo feature `artifacts` (serde_json, flate2, tar, hex): the EE itself never
//! reads files.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use ee_api::{Address, B256, U256};
use flate2::read::GzDecoder;
use serde_json::Value;

pub mod abi;

/// The environment variable that turns a missing `shared/eravm` into a test failure.
pub const REQUIRE_ENV: &str = "REQUIRE_ERAVM_CONTRACTS";

/// One compiled contract: its name (file stem), bytecode, ABI and, where the artifact gives
/// one, its versioned hash as recorded by the compiler.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: String,
    pub bytecode: Vec<u8>,
    pub abi: Value,
    pub hash: Option<B256>,
    /// The whole JSON document (for fields such as `entries` of the user contracts).
    pub json: Value,
}

/// The environment variable naming another directory laid out as `shared/eravm`
/// (`system-contracts-v29.tar.gz` and `contracts/*.json`).
pub const DIR_ENV: &str = "ERAVM_DATA_DIR";

/// Where the data is expected: `$ERAVM_DATA_DIR` when set, else `shared/eravm` beside the
/// repository (`ees/eravm/../../../shared/eravm`, i.e. `../shared/eravm` from the
/// repository root).
pub fn expected_dir() -> PathBuf {
    match std::env::var_os(DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eravm"),
    }
}

/// [`expected_dir`] when it holds the system-contract tarball.
pub fn data_dir() -> Option<PathBuf> {
    let dir = expected_dir();
    dir.join("system-contracts-v29.tar.gz").is_file().then_some(dir)
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    hex::decode(s.trim_start_matches("0x")).map_err(|e| format!("bad hex: {e}"))
}

fn parse(name: &str, json: Value) -> Result<Artifact, String> {
    let code = match &json["bytecode"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("object").and_then(Value::as_str).ok_or("bytecode.object missing")?.to_string(),
        _ => return Err(format!("{name}: no bytecode")),
    };
    let bytecode = hex_bytes(&code).map_err(|e| format!("{name}: {e}"))?;
    let hash = match json.get("hash").and_then(Value::as_str) {
        Some(h) => {
            let b = hex_bytes(h).map_err(|e| format!("{name}: hash: {e}"))?;
            Some(B256(b.try_into().map_err(|_| format!("{name}: hash is not 32 bytes"))?))
        }
        None => None,
    };
    Ok(Artifact { name: name.to_string(), bytecode, abi: json["abi"].clone(), hash, json })
}

/// The system contracts of `system-contracts-v29.tar.gz` in `dir` (49 zkout artifacts),
/// named by file stem (`ContractDeployer`, `DefaultAccount`, …), read from the tarball
/// without unpacking it.
pub fn load_system_contracts(dir: &Path) -> Result<Vec<Artifact>, String> {
    let path = dir.join("system-contracts-v29.tar.gz");
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(|e| format!("{}: {e}", path.display()))? {
        let mut entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let member = entry.path().map_err(|e| e.to_string())?.into_owned();
        if member.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = member.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).map_err(|e| format!("{}: {e}", member.display()))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", member.display()))?;
        out.push(parse(&name, json)?);
    }
    Ok(out)
}

/// A user contract from `dir/contracts/<name>.json` (Fib, Greeter, MyERC20, Primary,
/// Secondary, ERC20FixedPaymaster, T_Counter).
pub fn load_user_contract(dir: &Path, name: &str) -> Result<Artifact, String> {
    let path = dir.join("contracts").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(name, json)
}

/// Kernel addresses of the Era system contracts (v29 layout) and precompiles.
pub mod addresses {
    use ee_api::Address;

    const fn low(x: u32) -> Address {
        let mut a = [0u8; 20];
        let b = x.to_be_bytes();
        a[16] = b[0];
        a[17] = b[1];
        a[18] = b[2];
        a[19] = b[3];
        Address(a)
    }

    pub const ECRECOVER: Address = low(0x01);
    pub const SHA256: Address = low(0x02);
    pub const IDENTITY: Address = low(0x04);
    pub const MODEXP: Address = low(0x05);
    pub const EC_ADD: Address = low(0x06);
    pub const EC_MUL: Address = low(0x07);
    pub const EC_PAIRING: Address = low(0x08);
    pub const P256_VERIFY: Address = low(0x100);
    pub const BOOTLOADER: Address = low(0x8001);
    pub const ACCOUNT_CODE_STORAGE: Address = low(0x8002);
    pub const NONCE_HOLDER: Address = low(0x8003);
    pub const KNOWN_CODES_STORAGE: Address = low(0x8004);
    pub const IMMUTABLE_SIMULATOR: Address = low(0x8005);
    pub const CONTRACT_DEPLOYER: Address = low(0x8006);
    /// Not a contract: the caller Era uses for forced deployments.
    pub const FORCE_DEPLOYER: Address = low(0x8007);
    pub const L1_MESSENGER: Address = low(0x8008);
    pub const MSG_VALUE_SIMULATOR: Address = low(0x8009);
    pub const L2_BASE_TOKEN: Address = low(0x800a);
    pub const SYSTEM_CONTEXT: Address = low(0x800b);
    pub const BOOTLOADER_UTILITIES: Address = low(0x800c);
    pub const EVENT_WRITER: Address = low(0x800d);
    pub const COMPRESSOR: Address = low(0x800e);
    pub const COMPLEX_UPGRADER: Address = low(0x800f);
    pub const KECCAK256: Address = low(0x8010);
    pub const PUBDATA_CHUNK_PUBLISHER: Address = low(0x8011);
    pub const CODE_ORACLE: Address = low(0x8012);
    pub const EVM_GAS_MANAGER: Address = low(0x8013);
    pub const EVM_PREDEPLOYS_MANAGER: Address = low(0x8014);
    pub const EVM_HASHES_STORAGE: Address = low(0x8015);
    /// First user-space built-in (0x10000).
    pub const CREATE2_FACTORY: Address = low(0x10000);

    /// Where Era installs the system contract built from `name` (the artifact's file stem).
    /// `EmptyContract` goes to 0x0 and the bootloader address 0x8001 (see
    /// [`Genesis::v29`], as the oracle's `World::with_system_contracts`); `DefaultAccount` and `EvmEmulator` have no
    /// address (they are the code of accounts without code and of EVM contracts).
    pub fn of_system_contract(name: &str) -> Option<Address> {
        Some(match name {
            "Ecrecover" => ECRECOVER,
            "SHA256" => SHA256,
            "Identity" => IDENTITY,
            "Modexp" => MODEXP,
            "EcAdd" => EC_ADD,
            "EcMul" => EC_MUL,
            "EcPairing" => EC_PAIRING,
            "P256Verify" => P256_VERIFY,
            "AccountCodeStorage" => ACCOUNT_CODE_STORAGE,
            "NonceHolder" => NONCE_HOLDER,
            "KnownCodesStorage" => KNOWN_CODES_STORAGE,
            "ImmutableSimulator" => IMMUTABLE_SIMULATOR,
            "ContractDeployer" => CONTRACT_DEPLOYER,
            "L1Messenger" => L1_MESSENGER,
            "MsgValueSimulator" => MSG_VALUE_SIMULATOR,
            "L2BaseToken" => L2_BASE_TOKEN,
            "SystemContext" => SYSTEM_CONTEXT,
            "BootloaderUtilities" => BOOTLOADER_UTILITIES,
            "EventWriter" => EVENT_WRITER,
            "Compressor" => COMPRESSOR,
            "ComplexUpgrader" => COMPLEX_UPGRADER,
            "Keccak256" => KECCAK256,
            "PubdataChunkPublisher" => PUBDATA_CHUNK_PUBLISHER,
            "CodeOracle" => CODE_ORACLE,
            "EvmGasManager" => EVM_GAS_MANAGER,
            "EvmPredeploysManager" => EVM_PREDEPLOYS_MANAGER,
            "EvmHashesStorage" => EVM_HASHES_STORAGE,
            "Create2Factory" => CREATE2_FACTORY,
            _ => return None,
        })
    }
}

/// A world's initial contents as Era's genesis has them, in plain terms: code by address and
/// storage slots. Era keeps everything about code in system-contract storage, so installing
/// code is three facts: the bytes at the address, the versioned hash in AccountCodeStorage
/// (0x8002, key = the address as a word) and the hash marked known in KnownCodesStorage
/// (0x8004, key = the hash, value = 1).
///
/// The vm2 oracle's `World::with_system_contracts` lays out the same world (its tests
/// compare the two), and the `eravm` conformance suite builds the bootloader's world from
/// this one.
#[derive(Debug, Clone, Default)]
pub struct Genesis {
    /// Raw EraVM bytecode by address.
    pub code: BTreeMap<Address, Vec<u8>>,
    /// Storage slots (address, key) → value.
    pub storage: BTreeMap<(Address, U256), U256>,
    /// The code of accounts without code (`DefaultAccount`), which is at no address.
    pub default_account: Option<Vec<u8>>,
}

impl Genesis {
    /// The v29 system contracts `artifacts` (see [`load_system_contracts`]) laid out as vm2's
    /// oracle world does: each at its kernel address ([`addresses::of_system_contract`]),
    /// `EmptyContract` at 0x0 and at the bootloader address 0x8001, `DefaultAccount` as
    /// [`Genesis::default_account`], every artifact's hash marked known (the bootloaders and
    /// other contracts without an Era address only that). No constructor runs.
    pub fn v29(artifacts: &[Artifact]) -> Result<Genesis, String> {
        let mut g = Genesis::default();
        for a in artifacts {
            g.mark_known(&a.bytecode).map_err(|e| format!("{}: {e}", a.name))?;
            match a.name.as_str() {
                "DefaultAccount" => g.default_account = Some(a.bytecode.clone()),
                "EmptyContract" => {
                    g.install(Address::ZERO, &a.bytecode)?;
                    g.install(addresses::BOOTLOADER, &a.bytecode)?;
                }
                name => {
                    if let Some(at) = addresses::of_system_contract(name) {
                        g.install(at, &a.bytecode).map_err(|e| format!("{name}: {e}"))?;
                    }
                }
            }
        }
        Ok(g)
    }

    /// Marks `bytecode`'s versioned hash known in KnownCodesStorage; returns the hash.
    pub fn mark_known(&mut self, bytecode: &[u8]) -> Result<B256, String> {
        let hash = B256(crate::versioned_hash(bytecode).map_err(|e| format!("not EraVM bytecode: {e}"))?);
        self.storage.insert((addresses::KNOWN_CODES_STORAGE, hash.to_word()), U256::from(1));
        Ok(hash)
    }

    /// Puts `bytecode` at `address` as constructed code, without a constructor: the bytes,
    /// the AccountCodeStorage entry and the KnownCodesStorage mark. Returns the hash.
    pub fn install(&mut self, address: Address, bytecode: &[u8]) -> Result<B256, String> {
        let hash = self.mark_known(bytecode)?;
        self.storage.insert((addresses::ACCOUNT_CODE_STORAGE, address.to_word()), hash.to_word());
        self.code.insert(address, bytecode.to_vec());
        Ok(hash)
    }
}
