//! Vectors: a case saved as JSON, replayable by a test or `conformance differential eravm
//! --replay FILE`.
//!
//! ```json
//! {
//!   "format": "eravm-differential/1",
//!   "seed": 1234,                      // the program seed it came from (informative)
//!   "what": "step 12 (Add in ...)",    // the divergence it reproduced when saved (informative)
//!   "caller": "0x2222…",               // always compare::CALLER (informative)
//!   "ergs": 100000, "value": "0x0", "calldata": "0x0909", "step_limit": 5000,
//!   "contracts": [                     // the first is the entry frame's
//!     {"address": "0x1111…", "code": "0x…", "text": 40, "listing": ["add r0, r0, r2", …]}
//!   ],
//!   "storage": [{"address": "0x…", "key": "0x2", "value": "0x77"}]
//! }
//! ```
//!
//! `code` is the bytecode as installed (32-byte words, an odd count); `text` how many of its
//! 8-byte instruction slots are program text (the rest are constant words), which
//! minimization uses and replay ignores; `listing` the disassembly of the text, for reading.

use ee_api::{Address, U256};
use ee_eravm::Program;
use serde_json::{json, Value};

use crate::compare::{Case, Contract, CALLER};

pub const FORMAT: &str = "eravm-differential/1";

fn address(a: &Address) -> String {
    format!("0x{}", hex::encode(a.0))
}

fn parse_address(v: &Value) -> Result<Address, String> {
    let s = v.as_str().ok_or("an address must be a string")?;
    let b = hex::decode(s.trim_start_matches("0x")).map_err(|e| format!("address {s}: {e}"))?;
    let a: [u8; 20] = b.try_into().map_err(|_| format!("address {s}: not 20 bytes"))?;
    Ok(Address(a))
}

fn parse_u256(v: &Value) -> Result<U256, String> {
    let s = v.as_str().ok_or("a word must be a hex string")?;
    U256::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("word {s}: {e}"))
}

fn parse_bytes(v: &Value) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or("bytes must be a hex string")?;
    hex::decode(s.trim_start_matches("0x")).map_err(|e| format!("bytes: {e}"))
}

/// The vector of `case`, with the seed and divergence it came from.
pub fn to_json(case: &Case, seed: u64, what: &str) -> Value {
    let contracts: Vec<Value> = case
        .contracts
        .iter()
        .map(|c| {
            let listing: Vec<String> = match Program::new(&c.code) {
                Ok(p) => (0..c.text.min(p.instructions().len())).map(|pc| p.instruction(pc as u16).to_string()).collect(),
                Err(_) => Vec::new(),
            };
            json!({"address": address(&c.address), "code": format!("0x{}", hex::encode(&c.code)), "text": c.text, "listing": listing})
        })
        .collect();
    let storage: Vec<Value> = case
        .storage
        .iter()
        .map(|(a, k, v)| json!({"address": address(a), "key": format!("{k:#x}"), "value": format!("{v:#x}")}))
        .collect();
    json!({
        "format": FORMAT,
        "seed": seed,
        "what": what,
        "caller": address(&CALLER),
        "ergs": case.ergs,
        "value": format!("{:#x}", case.value),
        "calldata": format!("0x{}", hex::encode(&case.calldata)),
        "step_limit": case.step_limit,
        "contracts": contracts,
        "storage": storage,
    })
}

/// The case a vector holds.
pub fn from_json(v: &Value) -> Result<Case, String> {
    if v["format"] != FORMAT {
        return Err(format!("not an {FORMAT} vector (format {})", v["format"]));
    }
    let contracts = v["contracts"]
        .as_array()
        .ok_or("contracts: an array")?
        .iter()
        .map(|c| {
            Ok(Contract {
                address: parse_address(&c["address"])?,
                code: parse_bytes(&c["code"])?,
                text: c["text"].as_u64().unwrap_or(0) as usize,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if contracts.is_empty() {
        return Err("contracts: at least the entry".into());
    }
    let storage = match v["storage"].as_array() {
        Some(s) => s
            .iter()
            .map(|e| Ok((parse_address(&e["address"])?, parse_u256(&e["key"])?, parse_u256(&e["value"])?)))
            .collect::<Result<Vec<_>, String>>()?,
        None => Vec::new(),
    };
    let value = parse_u256(&v["value"])?;
    Ok(Case {
        contracts,
        storage,
        ergs: v["ergs"].as_u64().ok_or("ergs: a number")? as u32,
        calldata: parse_bytes(&v["calldata"])?,
        value: value.to::<u128>(),
        step_limit: v["step_limit"].as_u64().ok_or("step_limit: a number")?,
    })
}

/// Reads a vector file.
pub fn load(path: &std::path::Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    from_json(&v).map_err(|e| format!("{}: {e}", path.display()))
}
