//! The `eravm` vectors' format (`eravm-vectors/README.md`) and the world a vector describes,
//! in plain terms (an [`ee_eravm::artifacts::Genesis`] and resolved calls).
//!
//! Shared, through `#[path]`, by the suite and by the recorder test
//! (`runner/tests/eravm_vectors.rs`) that runs the same worlds on vm2, so both read a vector
//! the same way. It depends on nothing of the runner.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ee_api::{Address, U256};
use ee_eravm::artifacts::{self, abi, Artifact, Genesis};
use serde::{Deserialize, Serialize};

/// One vector file: named vectors.
pub type VectorFile = BTreeMap<String, Vector>;

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vector {
    /// What the vector shows.
    pub description: String,
    /// Address → a user contract of `shared/eravm/contracts` by name, or text assembly.
    pub contracts: BTreeMap<String, ContractSpec>,
    /// Storage set before the first call (what a constructor would have written): address →
    /// key → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, BTreeMap<String, String>>,
    /// Transactions, applied in sequence.
    pub calls: Vec<Call>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum ContractSpec {
    /// A user contract of `shared/eravm/contracts/<name>.json`.
    Named(String),
    /// Text assembly (`ee_eravm::text::assemble_text`), one string or a list of lines.
    Eravm { eravm: Source },
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum Source {
    Text(String),
    Lines(Vec<String>),
}

impl Source {
    pub fn text(&self) -> String {
        match self {
            Source::Text(t) => t.clone(),
            Source::Lines(lines) => lines.join("\n"),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Call {
    pub from: String,
    pub to: String,
    /// A canonical signature (`"fib(uint256)"`); with `args`, ABI-encoded calldata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Arguments: JSON numbers, booleans or strings (see `abi::token`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<serde_json::Value>,
    /// Raw calldata instead of `function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calldata: Option<String>,
    /// Ergs the entry frame gets.
    pub ergs: u32,
    /// What vm2 does (recorded, see the README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    /// `success`, `revert` or `panic`.
    pub status: String,
    pub return_data: String,
    pub ergs_used: u32,
    /// Every slot the call changed: [address, key, value after], by address then key.
    pub storage_changes: Vec<[String; 3]>,
    /// Every event packet, in order.
    pub events: Vec<EventSpec>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventSpec {
    pub key: String,
    pub value: String,
    pub is_first: bool,
}

/// A call with its addresses and calldata resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub from: Address,
    pub to: Address,
    pub calldata: Vec<u8>,
    pub ergs: u32,
}

/// `shared/eravm`, read once: the directory and the v29 system contracts.
pub struct Shared {
    pub dir: PathBuf,
    pub system: Vec<Artifact>,
}

impl Shared {
    /// `shared/eravm` (or `$ERAVM_DATA_DIR`) when present; `Err` when present but unreadable.
    pub fn load() -> Result<Option<Shared>, String> {
        let Some(dir) = artifacts::data_dir() else { return Ok(None) };
        let system = artifacts::load_system_contracts(&dir)?;
        Ok(Some(Shared { dir, system }))
    }
}

/// Where the suite looks for `shared/eravm`, for messages.
pub fn shared_hint() -> String {
    format!(
        "the EraVM contracts (system-contracts-v29.tar.gz and contracts/*.json) are not at {} \
         (../shared/eravm beside the repository, or the directory ${} names)",
        artifacts::expected_dir().display(),
        artifacts::DIR_ENV
    )
}

impl Vector {
    /// Whether the vector names a user contract (and so needs `shared/eravm`).
    pub fn needs_shared(&self) -> bool {
        self.contracts.values().any(|c| matches!(c, ContractSpec::Named(_)))
    }

    /// The world before the first call: the v29 system contracts when `shared` is given
    /// (a vector of assembly only runs without them), the vector's contracts installed as
    /// constructed code (no constructor), and its storage.
    pub fn genesis(&self, shared: Option<&Shared>) -> Result<Genesis, String> {
        let mut g = match shared {
            Some(s) => Genesis::v29(&s.system)?,
            None if self.needs_shared() => return Err(shared_hint()),
            None => Genesis::default(),
        };
        for (at, spec) in &self.contracts {
            g.install(address(at)?, &self.bytecode(spec, shared)?).map_err(|e| format!("contract {at}: {e}"))?;
        }
        for (at, slots) in &self.storage {
            let a = address(at)?;
            for (k, v) in slots {
                g.storage.insert((a, number(k)?), number(v)?);
            }
        }
        Ok(g)
    }

    fn bytecode(&self, spec: &ContractSpec, shared: Option<&Shared>) -> Result<Vec<u8>, String> {
        match spec {
            ContractSpec::Eravm { eravm } => {
                ee_eravm::text::assemble_text(&eravm.text()).map_err(|e| format!("EraVM assembly: {e}"))
            }
            ContractSpec::Named(name) => {
                let dir = &shared.ok_or_else(shared_hint)?.dir;
                Ok(artifacts::load_user_contract(dir, name)?.bytecode)
            }
        }
    }

    /// The calls with addresses and calldata resolved.
    pub fn resolved_calls(&self) -> Result<Vec<Resolved>, String> {
        self.calls.iter().enumerate().map(|(i, c)| c.resolve().map_err(|e| format!("call {i}: {e}"))).collect()
    }
}

impl Call {
    pub fn resolve(&self) -> Result<Resolved, String> {
        let calldata = match (&self.function, &self.calldata) {
            (Some(f), None) => {
                let args = self
                    .args
                    .iter()
                    .map(|a| match a {
                        serde_json::Value::String(s) => Ok(s.clone()),
                        serde_json::Value::Number(n) => Ok(n.to_string()),
                        serde_json::Value::Bool(b) => Ok(b.to_string()),
                        other => Err(format!("argument {other} is not a number, boolean or string")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                abi::call_text(f, &args)?
            }
            (None, Some(data)) if self.args.is_empty() => hex_bytes(data)?,
            _ => return Err("give either `function` (with `args`) or `calldata`".into()),
        };
        Ok(Resolved { from: address(&self.from)?, to: address(&self.to)?, calldata, ergs: self.ergs })
    }
}

pub fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| format!("hex {s:?}: {e}"))
}

pub fn address(s: &str) -> Result<Address, String> {
    let b = hex_bytes(s)?;
    Ok(Address(b.try_into().map_err(|_| format!("address {s:?} is not 20 bytes"))?))
}

/// A number in decimal or `0x` hex.
pub fn number(s: &str) -> Result<U256, String> {
    match s.strip_prefix("0x") {
        Some("") => Ok(U256::ZERO),
        Some(h) => U256::from_str_radix(h, 16),
        None => U256::from_str_radix(s, 10),
    }
    .map_err(|e| format!("number {s:?}: {e}"))
}

/// A word as the vectors write it: `0x` and its hex digits without leading zeros.
pub fn word(v: U256) -> String {
    format!("0x{v:x}")
}

/// An address as the vectors write it (`0x` and 40 hex digits).
pub fn address_text(a: Address) -> String {
    format!("0x{}", hex::encode(a.0))
}
