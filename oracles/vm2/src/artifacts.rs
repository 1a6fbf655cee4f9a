//! Reading the EraVM contracts in `shared/eravm/` (see its README): the v29 system-contract
//! tarball and the user contracts with ABIs. They are read in place, never copied.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ee_api::B256;
use flate2::read::GzDecoder;
use serde_json::Value;

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

/// `shared/eravm` as seen from this crate (`oracles/vm2/../../../shared/eravm`, i.e.
/// `../shared/eravm` from the repository root), when it exists.
pub fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eravm");
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
