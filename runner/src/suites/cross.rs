//! The `cross` suite: the project's own cross-EE vectors (`wasm-vectors/*.json`), where
//! one transaction passes through frames of several EEs (EVM, WASM, RISC-V, EraVM).
//!
//! A vector gives a pre-state, one transaction and what must follow: the outcome, the
//! return data, the gas used, the logs and the post-state of the accounts it names.
//! Code is written as hex, as EVM assembly (`{"evm": "PUSH1 1 ..."}`, see
//! `ee_evm::asm`), as WAT (`{"wat": "(module ...)"}`, a WASM contract) or as RISC-V
//! assembly (`{"riscv": "li a7, 3 ..."}`, see `ee_riscv::asm`) or EraVM assembly
//! (`{"eravm": "add 1, r2, r2 ..."}`, see `ee_eravm::text`), inline or from a file;
//! with `constructorInput`, init code whose constructor reads it. The format is described
//! in `wasm-vectors/README.md`. A failing vector lists every difference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bootloader::{execute_transaction, Account, ExecutionLimits, Map, Transaction, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, Log, B256, U256};
use serde::Deserialize;

use crate::panics;
use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;

/// Where the vectors are, under the repository root.
pub const DEFAULT_DIR: &str = "wasm-vectors";

pub fn default_dir() -> anyhow::Result<PathBuf> {
    let dir = crate::vectors::repo_root().join(DEFAULT_DIR);
    anyhow::ensure!(dir.is_dir(), "no cross-EE vectors at {}", dir.display());
    Ok(dir)
}

/// One vector file: named vectors.
type VectorFile = BTreeMap<String, Vector>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Vector {
    /// What the vector shows and why the expectations hold.
    #[allow(dead_code)]
    description: String,
    /// Default: Cancun.
    #[serde(default)]
    fork: Option<String>,
    pre: BTreeMap<String, PreAccount>,
    transaction: Tx,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreAccount {
    #[serde(default)]
    balance: Num,
    #[serde(default)]
    nonce: Num,
    #[serde(default)]
    code: Option<CodeSpec>,
    #[serde(default)]
    storage: BTreeMap<String, Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Tx {
    sender: String,
    /// Absent: a creation.
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    value: Num,
    #[serde(default)]
    data: Option<CodeSpec>,
    gas_limit: Num,
    #[serde(default)]
    gas_price: Num,
}

/// The outermost frame's expected ending. Parsed, not prefix-matched, so an empty or
/// misspelt status is a broken vector rather than a match for anything.
#[derive(Debug, PartialEq)]
enum ExpectedStatus {
    Success,
    Revert,
    /// A halt; `Some(reason)` must match the reason's name exactly.
    Halt(Option<String>),
}

impl ExpectedStatus {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(Self::Success),
            "revert" => Ok(Self::Revert),
            "halt" => Ok(Self::Halt(None)),
            _ => match s.strip_prefix("halt (").and_then(|r| r.strip_suffix(')')) {
                Some(reason) if !reason.is_empty() => Ok(Self::Halt(Some(reason.to_string()))),
                _ => Err(format!(
                    "unknown status {s:?}: expected \"success\", \"revert\", \"halt\" or \"halt (<reason>)\""
                )),
            },
        }
    }

    fn matches(&self, got: &ExitStatus) -> bool {
        match (self, got) {
            (Self::Success, ExitStatus::Success) | (Self::Revert, ExitStatus::Revert) => true,
            (Self::Halt(None), ExitStatus::Halt(_)) => true,
            (Self::Halt(Some(reason)), ExitStatus::Halt(r)) => *reason == r.to_string(),
            _ => false,
        }
    }
}

impl std::fmt::Display for ExpectedStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Success => f.write_str("success"),
            Self::Revert => f.write_str("revert"),
            Self::Halt(None) => f.write_str("halt"),
            Self::Halt(Some(reason)) => write!(f, "halt ({reason})"),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectedStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    /// `success`, `revert`, `halt` (any reason) or `halt (<reason>)`.
    status: ExpectedStatus,
    #[serde(default)]
    return_data: Option<String>,
    #[serde(default)]
    gas_used: Option<Num>,
    /// The transaction's logs, all of them, in order.
    #[serde(default)]
    logs: Option<Vec<LogSpec>>,
    /// For a creation: the new contract's address.
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    post: BTreeMap<String, PostAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSpec {
    address: String,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostAccount {
    #[serde(default)]
    balance: Option<Num>,
    #[serde(default)]
    nonce: Option<Num>,
    #[serde(default)]
    code: Option<CodeSpec>,
    /// Every non-zero slot of the account (listing a slot as 0 says it must be empty).
    #[serde(default)]
    storage: Option<BTreeMap<String, Num>>,
    /// `false`: the account must not exist.
    #[serde(default)]
    exists: Option<bool>,
}

/// A number as JSON writes it, or a string in decimal or `0x` hex.
#[derive(Deserialize, Default, Clone)]
#[serde(untagged)]
enum Num {
    #[default]
    Zero,
    Int(u64),
    Text(String),
}

impl Num {
    fn value(&self) -> Result<U256, String> {
        match self {
            Num::Zero => Ok(U256::ZERO),
            Num::Int(n) => Ok(U256::from(*n)),
            Num::Text(s) => match s.strip_prefix("0x") {
                Some("") => Ok(U256::ZERO),
                Some(hex) => U256::from_str_radix(hex, 16),
                None => U256::from_str_radix(s, 10),
            }
            .map_err(|e| format!("number {s:?}: {e}")),
        }
    }

    fn u64(&self) -> Result<u64, String> {
        let v = self.value()?;
        u64::try_from(v).map_err(|_| format!("{v} does not fit in 64 bits"))
    }
}

/// Code or calldata, as bytes or in a source form the harness assembles.
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum CodeSpec {
    Hex(String),
    Evm {
        evm: String,
    },
    Wat {
        wat: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
    /// WAT in a file, relative to the vector file.
    WatFile {
        #[serde(rename = "watFile")]
        wat_file: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
    /// RISC-V assembly (`ee_riscv::asm`), a contract linked at the contract memory's base.
    Riscv {
        riscv: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
    /// RISC-V assembly in a file, relative to the vector file.
    RiscvFile {
        #[serde(rename = "riscvFile")]
        riscv_file: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
    /// EraVM assembly (`ee_eravm::text`), stored behind the EraVM marker; with
    /// `constructorInput`, init code (`ee_eravm::deploy::init_code`).
    Eravm {
        eravm: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
    /// EraVM assembly in a file, relative to the vector file.
    EravmFile {
        #[serde(rename = "eravmFile")]
        eravm_file: String,
        #[serde(default, rename = "constructorInput")]
        constructor_input: Option<String>,
    },
}

impl CodeSpec {
    /// The bytes; files are found relative to `dir`, the vector file's directory.
    fn bytes(&self, dir: &Path) -> Result<Vec<u8>, String> {
        let wasm = |text: &str, input: &Option<String>| -> Result<Vec<u8>, String> {
            let module = wat_to_module(text)?;
            Ok(match input {
                Some(input) => ee_wasm::contract_init_code(&module, &hex_bytes(input)?),
                None => ee_wasm::contract_code(&module),
            })
        };
        let riscv = |text: &str, input: &Option<String>| -> Result<Vec<u8>, String> {
            let base = ee_riscv::CONTRACT_MEM_BASE;
            let code = ee_riscv::asm::assemble(text, base).map_err(|e| format!("RISC-V assembly: {e}"))?;
            let elf = ee_riscv::asm::elf_image(&code, base);
            Ok(match input {
                Some(input) => ee_riscv::contract_init_code(&elf, &hex_bytes(input)?),
                None => ee_riscv::contract_code(&elf),
            })
        };
        let eravm = |text: &str, input: &Option<String>| -> Result<Vec<u8>, String> {
            let code = ee_eravm::text::assemble_text(text).map_err(|e| format!("EraVM assembly: {e}"))?;
            Ok(match input {
                Some(input) => ee_eravm::deploy::init_code(&code, &hex_bytes(input)?),
                None => ee_eravm::stored_code(&code),
            })
        };
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        match self {
            CodeSpec::Hex(h) => hex_bytes(h),
            CodeSpec::Evm { evm } => ee_evm::asm::assemble(evm).map_err(|e| format!("EVM assembly: {e}")),
            CodeSpec::Wat { wat, constructor_input } => wasm(wat, constructor_input),
            CodeSpec::WatFile { wat_file, constructor_input } => {
                wasm(&read(wat_file)?, constructor_input).map_err(|e| format!("{wat_file}: {e}"))
            }
            CodeSpec::Riscv { riscv: text, constructor_input } => riscv(text, constructor_input),
            CodeSpec::RiscvFile { riscv_file, constructor_input } => {
                riscv(&read(riscv_file)?, constructor_input).map_err(|e| format!("{riscv_file}: {e}"))
            }
            CodeSpec::Eravm { eravm: text, constructor_input } => eravm(text, constructor_input),
            CodeSpec::EravmFile { eravm_file, constructor_input } => {
                eravm(&read(eravm_file)?, constructor_input).map_err(|e| format!("{eravm_file}: {e}"))
            }
        }
    }
}

fn wat_to_module(text: &str) -> Result<Vec<u8>, String> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| format!("WAT: {e}"))?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).map_err(|mut e| {
        e.set_text(text);
        format!("WAT: {e}")
    })?;
    wat.encode().map_err(|e| format!("WAT: {e}"))
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| format!("hex {s:?}: {e}"))
}

fn address(s: &str) -> Result<Address, String> {
    let b = hex_bytes(s)?;
    Ok(Address(b.try_into().map_err(|_| format!("address {s:?} is not 20 bytes"))?))
}

fn word_hex(v: U256) -> String {
    format!("0x{v:x}")
}

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let files = super::json_files::vector_files(paths).map_err(|e| anyhow::anyhow!(e))?;
    opts.progress.begin("cross", files.len());
    let cases: Vec<CaseRecord> = crate::schedule::longest_first(
        &files,
        |(rel, path)| crate::schedule::Expected::file(&opts.durations, rel, path),
        |(rel, path)| {
            let records = run_file(rel, path, opts);
            opts.progress.file_done();
            records
        },
    );
    opts.progress.finish();
    Ok(SuiteReport::new("cross", cases, start.elapsed()).with_group_label("file"))
}

fn run_file(rel: &str, path: &Path, opts: &RunOptions) -> Vec<CaseRecord> {
    let vectors: VectorFile = match super::read_vector_file(rel, path, opts) {
        Ok(v) => v,
        Err(records) => return records,
    };
    let mut records = Vec::new();
    for (name, vector) in &vectors {
        let id = format!("{rel}::{name}");
        if !opts.selects(&id) || !opts.selects_case(&id) {
            continue;
        }
        let token = opts.progress.case_started(&id);
        let started = Instant::now();
        let mut rec = CaseRecord::new(id, Some(rel.to_string()), Verdict::Fail, None);
        let dir = path.parent().unwrap_or(Path::new("."));
        match panics::catch(|| check(vector, dir, opts)) {
            Err(panic) => {
                rec.verdict = Verdict::Crash;
                rec.error = Some(panic);
            }
            Ok(Err(setup)) => rec.error = Some(setup),
            Ok(Ok((gas_used, differences))) => {
                rec.gas_used = gas_used;
                if differences.is_empty() {
                    rec.verdict = Verdict::Pass;
                } else {
                    rec.error = Some(format!("{} difference(s) from the expectation", differences.len()));
                    rec.diff = Some(differences.join("\n"));
                }
            }
        }
        rec.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        opts.progress.case_finished(token);
        records.push(rec);
    }
    records
}

/// Runs a vector; `Ok((gas used, differences))`, or `Err` when the vector itself is wrong.
fn check(v: &Vector, dir: &Path, opts: &RunOptions) -> Result<(Option<u64>, Vec<String>), String> {
    let fork = match &v.fork {
        Some(name) => Fork::from_name(name).ok_or_else(|| format!("unknown fork {name:?}"))?,
        None => Fork::Cancun,
    };
    let mut state = WorldState::new();
    for (a, acc) in &v.pre {
        let code = match &acc.code {
            Some(c) => Arc::new(Bytecode::new(Arc::from(c.bytes(dir).map_err(|e| format!("pre {a} code: {e}"))?))),
            None => Arc::new(Bytecode::empty()),
        };
        let mut storage = Map::default();
        for (k, val) in &acc.storage {
            storage.insert(Num::Text(k.clone()).value()?, val.value()?);
        }
        let account = Account { balance: acc.balance.value()?, nonce: acc.nonce.u64()?, code, storage };
        state.insert_account(address(a)?, account);
    }
    let sender = address(&v.transaction.sender)?;
    let data = match &v.transaction.data {
        Some(d) => d.bytes(dir).map_err(|e| format!("transaction data: {e}"))?,
        None => Vec::new(),
    };
    let gas_limit = v.transaction.gas_limit.value()?;
    let tx = Transaction {
        sender,
        to: v.transaction.to.as_deref().map(address).transpose()?,
        nonce: U256::from(state.get(&sender).map_or(0, |a| a.nonce)),
        gas_limit,
        gas_price: Some(v.transaction.gas_price.value()?),
        value: v.transaction.value.value()?,
        data: Arc::from(data),
        ..Transaction::default()
    };
    let block = BlockEnv {
        number: U256::from(1),
        coinbase: Address([0xcb; 20]),
        timestamp: U256::from(1000),
        gas_limit: gas_limit.max(U256::from(30_000_000)),
        chain_id: U256::from(1),
        prevrandao: Some(B256::ZERO),
        ..BlockEnv::default()
    };
    let deadline = (!opts.case_timeout.is_zero()).then(|| Instant::now() + opts.case_timeout);
    let out = match execute_transaction(&mut state, &block, &tx, fork, ExecutionLimits { deadline }) {
        Ok(out) => out,
        Err(e) => return Ok((None, vec![format!("transaction rejected: {e}")])),
    };

    let mut diffs = Vec::new();
    let status = match out.status {
        ExitStatus::Success => "success".to_string(),
        ExitStatus::Revert => "revert".to_string(),
        ExitStatus::Halt(reason) => format!("halt ({reason})"),
    };
    if !v.expect.status.matches(&out.status) {
        diffs.push(format!("status: expected {}, got {status}", v.expect.status));
    }
    if let Some(expected) = &v.expect.return_data {
        let expected = hex_bytes(expected)?;
        if expected != *out.output {
            diffs.push(format!(
                "return data: expected 0x{}, got 0x{}",
                hex::encode(expected),
                hex::encode(&out.output)
            ));
        }
    }
    if let Some(expected) = &v.expect.gas_used {
        let expected = expected.u64()?;
        if expected != out.gas_used {
            let delta = out.gas_used as i128 - expected as i128;
            diffs.push(format!("gas used: expected {expected}, got {} ({delta:+})", out.gas_used));
        }
    }
    if let Some(expected) = &v.expect.created {
        let expected = address(expected)?;
        if out.created != Some(expected) {
            diffs.push(format!("created: expected {expected:?}, got {:?}", out.created));
        }
    }
    if let Some(expected) = &v.expect.logs {
        diffs.extend(diff_logs(expected, &out.logs)?);
    }
    for (a, post) in &v.expect.post {
        diffs.extend(diff_account(dir, a, post, state.get(&address(a)?))?);
    }
    Ok((Some(out.gas_used), diffs))
}

fn diff_logs(expected: &[LogSpec], actual: &[Log]) -> Result<Vec<String>, String> {
    let mut diffs = Vec::new();
    if expected.len() != actual.len() {
        diffs.push(format!("logs: expected {}, got {}", expected.len(), actual.len()));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        let topics = e
            .topics
            .iter()
            .map(|t| Ok(B256::from_word(Num::Text(t.clone()).value()?)))
            .collect::<Result<Vec<_>, String>>()?;
        let data = hex_bytes(&e.data)?;
        if address(&e.address)? != a.address || topics != a.topics || data != *a.data {
            diffs.push(format!(
                "log {i}: expected {} topics {:?} data 0x{}, got {:?} topics {:?} data 0x{}",
                e.address,
                e.topics,
                hex::encode(&data),
                a.address,
                a.topics,
                hex::encode(&a.data)
            ));
        }
    }
    Ok(diffs)
}

fn diff_account(dir: &Path, name: &str, post: &PostAccount, acc: Option<&Account>) -> Result<Vec<String>, String> {
    let mut diffs = Vec::new();
    let exists = acc.is_some();
    if let Some(expected) = post.exists {
        if expected != exists {
            diffs.push(format!(
                "{name}: expected the account {}, but it {}",
                if expected { "to exist" } else { "absent" },
                if exists { "exists" } else { "does not" }
            ));
        }
    }
    let empty = Account::default();
    let acc = acc.unwrap_or(&empty);
    if let Some(b) = &post.balance {
        if b.value()? != acc.balance {
            diffs.push(format!("{name} balance: expected {}, got {}", b.value()?, acc.balance));
        }
    }
    if let Some(n) = &post.nonce {
        if n.u64()? != acc.nonce {
            diffs.push(format!("{name} nonce: expected {}, got {}", n.u64()?, acc.nonce));
        }
    }
    if let Some(code) = &post.code {
        let expected = code.bytes(dir).map_err(|e| format!("post {name} code: {e}"))?;
        if expected != *acc.code.bytes {
            let show =
                |b: &[u8]| if b.len() > 48 { format!("{} bytes", b.len()) } else { format!("0x{}", hex::encode(b)) };
            diffs.push(format!("{name} code: expected {}, got {}", show(&expected), show(&acc.code.bytes)));
        }
    }
    if let Some(storage) = &post.storage {
        let mut expected = BTreeMap::new();
        for (k, v) in storage {
            expected.insert(Num::Text(k.clone()).value()?, v.value()?);
        }
        let mut keys: Vec<U256> = expected.keys().copied().chain(acc.storage.keys().copied()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let e = expected.get(&k).copied().unwrap_or_default();
            let got = acc.storage.get(&k).copied().unwrap_or_default();
            if e != got {
                diffs.push(format!("{name} storage[{}]: expected {}, got {}", word_hex(k), word_hex(e), word_hex(got)));
            }
        }
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee_api::HaltReason;

    #[test]
    fn a_status_is_parsed_not_prefix_matched() {
        for bad in ["", "succ", "halted", "halt ()", "Success", "revert "] {
            assert!(ExpectedStatus::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        let oog = ExitStatus::Halt(HaltReason::OutOfGas);
        let success = ExpectedStatus::parse("success").unwrap();
        assert!(success.matches(&ExitStatus::Success));
        assert!(!success.matches(&ExitStatus::Revert) && !success.matches(&oog));
        assert!(ExpectedStatus::parse("revert").unwrap().matches(&ExitStatus::Revert));
        assert!(ExpectedStatus::parse("halt").unwrap().matches(&oog));
        let named = ExpectedStatus::parse(&format!("halt ({})", HaltReason::OutOfGas)).unwrap();
        assert!(named.matches(&oog));
        assert!(!named.matches(&ExitStatus::Halt(HaltReason::InvalidJump)));
        assert_eq!(named.to_string(), format!("halt ({})", HaltReason::OutOfGas));
    }
}
