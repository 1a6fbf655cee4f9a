//! Reading an `expect` section's `result` into [`ExpectedAccount`]s, with
//! retesteth's rules for the loosely written values of fillers.

use ee_api::{Address, U256};

use super::tree::Node;
use super::ExpectedAccount;
use crate::suites::state::model::{decode_hex, parse_u256};

/// A storage value as a filler writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Num(U256),
    /// `ANY`: the slot may hold any value (retesteth skips its check).
    Any,
}

/// Reads a number the way retesteth converts filler values to hex:
/// `0x`-prefixed is hex (`0x` alone is zero, a `0x:bigint ` marker is
/// dropped); otherwise `_` separators are removed and the text is decimal if
/// it is all digits, else hex if it is all hex digits (`60A7`, or a bare
/// address used as a value). The empty string is zero. `<eoa:0x..>` and
/// `<contract:0x..>` tags read as the address they name.
pub fn parse_number(s: &str) -> Result<U256, String> {
    let t = s.trim();
    if t.starts_with('<') && t.ends_with('>') {
        return parse_address(t).map(|a| a.to_word());
    }
    let t = t.strip_prefix("0x:bigint ").unwrap_or(t).trim();
    if t.starts_with("0x") || t.starts_with("0X") {
        return parse_u256(t).map_err(|e| e.to_string());
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    if digits.chars().all(|c| c.is_ascii_digit()) {
        parse_u256(&digits).map_err(|e| e.to_string())
    } else if digits.chars().all(|c| c.is_ascii_hexdigit()) {
        parse_u256(&format!("0x{digits}")).map_err(|e| e.to_string())
    } else {
        Err(format!("not a number: {s:?}"))
    }
}

/// A storage value: a number or `ANY`.
pub fn parse_value(s: &str) -> Result<Value, String> {
    if s.trim() == "ANY" {
        Ok(Value::Any)
    } else {
        parse_number(s).map(Value::Num)
    }
}

/// An address: 40 hex digits with or without `0x`, possibly tagged
/// (`<contract:0x..>`, `<eoa:0x..>`, `<eoa:name:0x..>`).
pub fn parse_address(s: &str) -> Result<Address, String> {
    let mut t = s.trim();
    if let Some(inner) = t.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        t = inner.rsplit(':').next().unwrap_or(inner).trim();
    }
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("not an address: {s:?}"));
    }
    let bytes = decode_hex(hex)?;
    let mut a = [0u8; 20];
    a.copy_from_slice(&bytes);
    Ok(Address(a))
}

/// An expected `code` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Bytes(Vec<u8>),
    /// Source code (LLL, Yul, Solidity, or `:source-removed` in the reduced
    /// fillers): it cannot be compared without a compiler.
    Source(&'static str),
}

/// Reads a `code` field: hex (`0x..`, empty for no code), `:raw 0x..`, or
/// source, which is reported as such.
pub fn parse_code(s: &str) -> Result<Code, String> {
    let t = s.trim();
    let t = t.strip_prefix(":raw").map(str::trim).unwrap_or(t);
    if t.is_empty() {
        return Ok(Code::Bytes(Vec::new()));
    }
    if t.starts_with("0x") || t.starts_with("0X") {
        return decode_hex(t).map(Code::Bytes);
    }
    let kind = if t.starts_with(":source-removed") {
        "source removed from the reduced filler"
    } else if t.starts_with(":yul") {
        "Yul"
    } else if t.starts_with(":solidity") {
        "Solidity"
    } else if t.starts_with(":abi") {
        "ABI call data"
    } else if t.starts_with('{') || t.starts_with('(') || t.starts_with(":lll") {
        "LLL"
    } else {
        "unrecognised source"
    };
    Ok(Code::Source(kind))
}

/// Reads a `result` map: address → expected fields. Comment keys (`//...`)
/// are skipped; so are code fields written as source, with a note.
pub fn resolve_result(result: &Node, notes: &mut Vec<String>) -> Result<Vec<ExpectedAccount>, String> {
    let mut out = Vec::new();
    for (key, fields) in result.entries("result")? {
        if key.trim_start().starts_with("//") {
            continue;
        }
        let address = parse_address(key).map_err(|e| format!("result: {e}"))?;
        let ctx = |e: String| format!("result {key}: {e}");
        let mut acc = ExpectedAccount::new(address);
        for (field, value) in fields.entries("an account").map_err(ctx)? {
            let text =
                || value.as_str().ok_or_else(|| ctx(format!("{field} must be a scalar, found {}", value.describe())));
            match field.as_str() {
                "balance" => acc.balance = Some(parse_number(text()?).map_err(ctx)?),
                "nonce" => {
                    let n = parse_number(text()?).map_err(ctx)?;
                    acc.nonce = Some(u64::try_from(n).map_err(|_| ctx(format!("nonce {n} does not fit in 64 bits")))?);
                }
                "code" => match parse_code(text()?).map_err(ctx)? {
                    Code::Bytes(b) => acc.code = Some(b),
                    Code::Source(kind) => {
                        notes.push(format!("{}: expected code is written as source ({kind}): not checked", acc.address))
                    }
                },
                "storage" => {
                    acc.storage_complete = true;
                    for (k, v) in value.entries("storage").map_err(ctx)? {
                        if k.trim_start().starts_with("//") {
                            continue;
                        }
                        let slot = parse_number(k).map_err(|e| ctx(format!("storage key: {e}")))?;
                        let v = v.as_str().ok_or_else(|| ctx(format!("storage[{k}] is {}", v.describe())))?;
                        match parse_value(v).map_err(|e| ctx(format!("storage[{k}]: {e}")))? {
                            Value::Num(n) => acc.storage.push((slot, n)),
                            Value::Any => acc.storage_any.push(slot),
                        }
                    }
                }
                "shouldnotexist" => {
                    acc.should_not_exist = !matches!(value.as_str().map(str::trim), Some("0" | "false"))
                }
                f if f.trim_start().starts_with("//") => {}
                other => notes.push(format!("{}: unknown expect field {other:?} ignored", acc.address)),
            }
        }
        // A slot repeated (say as `0x01` and `1`) keeps its last value, as a map would.
        let mut seen = std::collections::HashSet::new();
        let mut dedup: Vec<(U256, U256)> = acc.storage.iter().rev().filter(|(k, _)| seen.insert(*k)).copied().collect();
        dedup.sort();
        acc.storage = dedup;
        acc.storage_any.sort();
        acc.storage_any.dedup();
        out.push(acc);
    }
    out.sort_by_key(|a| a.address);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> U256 {
        parse_number(s).unwrap()
    }

    #[test]
    fn numbers_the_retesteth_way() {
        assert_eq!(n("0x10"), U256::from(16));
        assert_eq!(n("10"), U256::from(10), "all digits: decimal");
        assert_eq!(n("60A7"), U256::from(0x60a7), "bare hex");
        assert_eq!(n("ef"), U256::from(0xef));
        assert_eq!(n("1_000_001"), U256::from(1_000_001));
        assert_eq!(n("0x"), U256::ZERO);
        assert_eq!(n(""), U256::ZERO);
        assert_eq!(n("0x:bigint 0x0100"), U256::from(256));
        assert_eq!(n("<contract:0x00000000000000000000000000000000000000ff>"), U256::from(255));
        assert_eq!(
            n("77dd5d2a2b742ca01ee2cfff306445e3741ef744"),
            parse_address("77dd5d2a2b742ca01ee2cfff306445e3741ef744").unwrap().to_word()
        );
        assert!(parse_number("xyz").is_err());
        assert_eq!(parse_value(" ANY "), Ok(Value::Any));
    }

    #[test]
    fn addresses_and_code() {
        let a = parse_address("095e7baea6a6c7c4c2dfeb977efac326af552d87").unwrap();
        assert_eq!(parse_address("0x095E7BAEA6A6C7C4C2DFEB977EFAC326AF552D87").unwrap(), a);
        assert_eq!(parse_address("<contract:0x095e7baea6a6c7c4c2dfeb977efac326af552d87>").unwrap(), a);
        assert_eq!(parse_address("<eoa:sender:0x095e7baea6a6c7c4c2dfeb977efac326af552d87>").unwrap(), a);
        assert!(parse_address("0x095e").is_err());
        assert_eq!(parse_code("0x6001"), Ok(Code::Bytes(vec![0x60, 1])));
        assert_eq!(parse_code(""), Ok(Code::Bytes(vec![])));
        assert_eq!(parse_code(":raw 0xef"), Ok(Code::Bytes(vec![0xef])));
        assert!(matches!(parse_code(":source-removed"), Ok(Code::Source(_))));
        assert!(matches!(parse_code("{ [[0]] 1 }"), Ok(Code::Source("LLL"))));
        assert!(matches!(parse_code(":yul { }"), Ok(Code::Source("Yul"))));
    }

    #[test]
    fn result_section() {
        let y = "a94f5374fce5edbc8e2a8697c15331677e6ebf0b:\n  nonce: '1'\n  code: ':source-removed'\n  storage:\n    0x01: 2\n    1: 3\n    0x05: ANY\n    0: 0\n0x0000000000000000000000000000000000001000:\n  shouldnotexist: 1\n'//comment': x\n";
        let node = super::super::tree::parse_yaml(y).unwrap();
        let mut notes = Vec::new();
        let accs = resolve_result(&node, &mut notes).unwrap();
        assert_eq!(accs.len(), 2);
        let a = accs.iter().find(|a| !a.should_not_exist).unwrap();
        assert_eq!(a.nonce, Some(1));
        assert_eq!(a.code, None);
        assert!(a.storage_complete);
        assert_eq!(a.storage, vec![(U256::ZERO, U256::ZERO), (U256::from(1), U256::from(3))], "last duplicate wins");
        assert_eq!(a.storage_any, vec![U256::from(5)]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("source"));
        assert!(accs.iter().any(|a| a.should_not_exist));
    }
}
