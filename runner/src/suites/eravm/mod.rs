//! The `eravm` suite: real zksolc contracts (and small text-assembly ones) on the EraVM EE
//! under the bootloader, against what Matter Labs' vm2 does with the same world.
//!
//! A vector (`eravm-vectors/*.json`, format in its README.md) gives contracts by address, a
//! user contract of `shared/eravm/contracts` by name or `{"eravm": "<assembly>"}`, storage,
//! and a sequence of calls, each with the expectation recorded from vm2 (the recorder test
//! `runner/tests/eravm_vectors.rs` writes them and proves in CI that they still are vm2's).
//! The world: the v29 system contracts laid out as the oracle's
//! `World::with_system_contracts` does (`ee_eravm::artifacts::Genesis::v29`: code,
//! AccountCodeStorage entry, KnownCodesStorage mark), DefaultAccount's code at 0x8000 (the
//! EE's convention for the code of accounts without code), the vector's contracts installed
//! the same way without a constructor. Each call is a transaction from a funded EOA with
//! gas price 0 and gas limit ergs + intrinsic gas, so the entry frame gets the call's ergs;
//! the calls apply in sequence, and each is a case (`file::vector::callN`).

pub mod model;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bootloader::{execute_transaction, Account, ExecutionLimits, Map, Transaction, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, B256, U256};
use ee_eravm::ee::{event_tag, DEFAULT_ACCOUNT_HOLDER, EVENT_WRITER};
use rayon::prelude::*;

use crate::panics;
use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;
use model::{address_text, word, Expect, Shared, Vector, VectorFile};

/// Where the vectors are, under the repository root.
pub const DEFAULT_DIR: &str = "eravm-vectors";

/// The suite's name.
const SUITE: &str = "eravm";

/// The fork the calls run under (any fork runs EraVM the same; it sets the intrinsic gas).
const FORK: Fork = Fork::Cancun;

/// The vectors, when both they and `shared/eravm` are there (the suite needs the zksolc
/// contracts and the system contracts).
pub fn default_dir() -> anyhow::Result<PathBuf> {
    let dir = crate::vectors::repo_root().join(DEFAULT_DIR);
    anyhow::ensure!(dir.is_dir(), "no EraVM vectors at {}", dir.display());
    anyhow::ensure!(ee_eravm::artifacts::data_dir().is_some(), "{}", model::shared_hint());
    Ok(dir)
}

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let files = super::json_files::vector_files(paths).map_err(|e| anyhow::anyhow!(e))?;
    let shared = model::Shared::load().map_err(|e| anyhow::anyhow!("{e}"))?;
    opts.progress.begin(SUITE, files.len());
    let cases: Vec<CaseRecord> = crate::schedule::longest_first(
        &files,
        |(rel, path)| crate::schedule::Expected::file(&opts.durations, rel, path),
        |(rel, path)| {
            let records = run_file(rel, path, shared.as_ref(), opts);
            opts.progress.file_done();
            records
        },
    );
    opts.progress.finish();
    Ok(SuiteReport::new(SUITE, cases, start.elapsed()).with_group_label("file"))
}

fn run_file(rel: &str, path: &std::path::Path, shared: Option<&Shared>, opts: &RunOptions) -> Vec<CaseRecord> {
    let vectors: VectorFile = match super::read_vector_file(rel, path, opts) {
        Ok(v) => v,
        Err(records) => return records,
    };
    let selected: Vec<(&String, &Vector)> =
        vectors.iter().filter(|(name, _)| opts.selects(&format!("{rel}::{name}"))).collect();
    selected.par_iter().flat_map_iter(|(name, v)| run_vector(&format!("{rel}::{name}"), rel, v, shared, opts)).collect()
}

/// Runs a vector's calls in sequence; one record per selected call.
fn run_vector(id: &str, rel: &str, v: &Vector, shared: Option<&Shared>, opts: &RunOptions) -> Vec<CaseRecord> {
    let ids: Vec<String> = (0..v.calls.len()).map(|i| format!("{id}::call{i}")).collect();
    let record =
        |i: usize, verdict, error: String| CaseRecord::new(ids[i].clone(), Some(rel.into()), verdict, Some(error));
    let all = |verdict: Verdict, error: String| -> Vec<CaseRecord> {
        (0..ids.len()).filter(|&i| opts.selects_case(&ids[i])).map(|i| record(i, verdict, error.clone())).collect()
    };
    if shared.is_none() && v.needs_shared() {
        let verdict = if opts.require_all { Verdict::Fail } else { Verdict::Skip };
        return all(verdict, format!("needs shared/eravm: {}", model::shared_hint()));
    }
    let setup = v.genesis(shared).and_then(|g| Ok((g, v.resolved_calls()?)));
    let (genesis, calls) = match setup {
        Ok(s) => s,
        Err(e) => return all(Verdict::Fail, format!("vector: {e}")),
    };
    let mut state = world_state(&genesis, &calls);
    let mut records = Vec::new();
    // The calls after the last selected one need not run.
    let Some(last) = (0..ids.len()).rev().find(|&i| opts.selects_case(&ids[i])) else { return records };
    for (i, call) in calls.iter().enumerate().take(last + 1) {
        let selected = opts.selects_case(&ids[i]);
        let token = selected.then(|| opts.progress.case_started(&ids[i]));
        let started = Instant::now();
        let mut rec = CaseRecord::new(ids[i].clone(), Some(rel.into()), Verdict::Fail, None);
        match panics::catch(|| {
            let before = state.clone();
            execute(&mut state, call, opts).map(|out| (diff(v.calls[i].expect.as_ref(), &out, &before, &state), out))
        }) {
            Err(panic) => {
                rec.verdict = Verdict::Crash;
                rec.error = Some(panic);
            }
            Ok(Err(e)) => rec.error = Some(e),
            Ok(Ok((result, out))) => {
                rec.gas_used = Some(out.ergs_used);
                match result {
                    Err(e) => rec.error = Some(e),
                    Ok(d) if d.is_empty() => rec.verdict = Verdict::Pass,
                    Ok(d) => {
                        rec.error = Some(format!("{} difference(s) from vm2", d.len()));
                        rec.diff = Some(d.join("\n"));
                    }
                }
            }
        }
        rec.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Some(token) = token {
            opts.progress.case_finished(token);
            records.push(rec);
        }
    }
    records
}

/// The bootloader's world for a genesis: each code as EraVM stored code, storage by account,
/// DefaultAccount's code at [`DEFAULT_ACCOUNT_HOLDER`], and every caller funded.
fn world_state(genesis: &ee_eravm::artifacts::Genesis, calls: &[model::Resolved]) -> WorldState {
    let mut state = WorldState::new();
    let put_code = |state: &mut WorldState, at: Address, code: &[u8]| {
        let code = Arc::new(Bytecode::new(Arc::from(ee_eravm::stored_code(code))));
        state.accounts.entry(at).or_default().code = code;
    };
    for (at, code) in &genesis.code {
        put_code(&mut state, *at, code);
    }
    if let Some(code) = &genesis.default_account {
        put_code(&mut state, DEFAULT_ACCOUNT_HOLDER, code);
    }
    for (&(at, key), &value) in &genesis.storage {
        state.accounts.entry(at).or_default().storage.insert(key, value);
    }
    for c in calls {
        let acc = state.accounts.entry(c.from).or_default();
        if acc.balance.is_zero() {
            acc.balance = U256::from(10u64).pow(U256::from(18));
        }
    }
    state
}

/// What one call did on our side.
struct Outcome {
    status: String,
    return_data: Vec<u8>,
    ergs_used: u64,
    events: Vec<(U256, U256, bool)>,
}

fn execute(state: &mut WorldState, call: &model::Resolved, opts: &RunOptions) -> Result<Outcome, String> {
    let mut tx = Transaction {
        sender: call.from,
        to: Some(call.to),
        nonce: U256::from(state.get(&call.from).map_or(0, |a| a.nonce)),
        gas_price: Some(U256::ZERO),
        data: Arc::from(call.calldata.clone()),
        ..Transaction::default()
    };
    // The entry frame gets exactly the call's ergs: the limit covers the intrinsic cost too.
    let intrinsic = bootloader::intrinsic_gas(&tx, FORK);
    tx.gas_limit = U256::from(call.ergs as u64 + intrinsic);
    let block = BlockEnv {
        number: U256::from(1),
        coinbase: Address([0xcb; 20]),
        timestamp: U256::from(1000),
        gas_limit: tx.gas_limit.max(U256::from(30_000_000)),
        chain_id: U256::from(1),
        prevrandao: Some(B256::ZERO),
        ..BlockEnv::default()
    };
    let deadline = (!opts.case_timeout.is_zero()).then(|| Instant::now() + opts.case_timeout);
    let out = execute_transaction(state, &block, &tx, FORK, ExecutionLimits { deadline })
        .map_err(|e| format!("transaction rejected: {e}"))?;
    let status = match out.status {
        ExitStatus::Success => "success".to_string(),
        ExitStatus::Revert => "revert".to_string(),
        ExitStatus::Halt(reason) => format!("panic (halt: {reason})"),
    };
    let tag = event_tag();
    let events = out
        .logs
        .iter()
        .filter(|l| l.address == EVENT_WRITER && l.topics.len() == 3 && l.topics[0] == tag)
        .map(|l| (l.topics[1].to_word(), l.topics[2].to_word(), l.data.first() == Some(&1)))
        .collect();
    Ok(Outcome { status, return_data: out.output.to_vec(), ergs_used: out.gas_used.saturating_sub(intrinsic), events })
}

fn slots<'a>(s: &'a WorldState, a: &Address, empty: &'a Map<U256, U256>) -> &'a Map<U256, U256> {
    s.get(a).map_or(empty, |acc: &Account| &acc.storage)
}

/// Every slot whose value differs between `before` and `after`, by address then key.
fn storage_changes(before: &WorldState, after: &WorldState) -> Vec<(Address, U256, U256)> {
    let empty = Map::default();
    let mut out = Vec::new();
    let mut addresses: Vec<&Address> = before.accounts.keys().chain(after.accounts.keys()).collect();
    addresses.sort();
    addresses.dedup();
    for a in addresses {
        let (b, n) = (slots(before, a, &empty), slots(after, a, &empty));
        let mut keys: Vec<&U256> = b.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let old = b.get(k).copied().unwrap_or_default();
            let new = n.get(k).copied().unwrap_or_default();
            if old != new {
                out.push((*a, *k, new));
            }
        }
    }
    out
}

/// Every difference from the expectation (`Err` when the vector has none or it is malformed).
fn diff(
    expect: Option<&Expect>,
    out: &Outcome,
    before: &WorldState,
    after: &WorldState,
) -> Result<Vec<String>, String> {
    let e = expect
        .ok_or("no expectation recorded (RECORD_ERAVM_VECTORS=1 cargo test -p conformance --test eravm_vectors)")?;
    let mut d = Vec::new();
    if out.status.split(' ').next() != Some(e.status.as_str()) {
        d.push(format!("status: expected {}, got {}", e.status, out.status));
    }
    let expected = model::hex_bytes(&e.return_data)?;
    if expected != out.return_data {
        d.push(format!("return data: expected 0x{}, got 0x{}", hex::encode(&expected), hex::encode(&out.return_data)));
    }
    if e.ergs_used as u64 != out.ergs_used {
        let delta = out.ergs_used as i128 - e.ergs_used as i128;
        d.push(format!("ergs used: expected {}, got {} ({delta:+})", e.ergs_used, out.ergs_used));
    }
    let mut expected = Vec::new();
    for [a, k, v] in &e.storage_changes {
        expected.push((model::address(a)?, model::number(k)?, model::number(v)?));
    }
    let actual = storage_changes(before, after);
    for x in &expected {
        match actual.iter().find(|y| (y.0, y.1) == (x.0, x.1)) {
            None => {
                d.push(format!("storage {}[{}]: expected {}, not changed", address_text(x.0), word(x.1), word(x.2)))
            }
            Some(y) if y.2 != x.2 => d.push(format!(
                "storage {}[{}]: expected {}, got {}",
                address_text(x.0),
                word(x.1),
                word(x.2),
                word(y.2)
            )),
            Some(_) => {}
        }
    }
    for y in actual.iter().filter(|y| !expected.iter().any(|x| (x.0, x.1) == (y.0, y.1))) {
        d.push(format!("storage {}[{}]: not expected to change, got {}", address_text(y.0), word(y.1), word(y.2)));
    }
    let mut events = Vec::new();
    for ev in &e.events {
        events.push((model::number(&ev.key)?, model::number(&ev.value)?, ev.is_first));
    }
    if events.len() != out.events.len() {
        d.push(format!("events: expected {}, got {}", events.len(), out.events.len()));
    }
    let show = |(k, v, first): &(U256, U256, bool)| format!("key {} value {} is_first {first}", word(*k), word(*v));
    for i in 0..events.len().max(out.events.len()) {
        match (events.get(i), out.events.get(i)) {
            (Some(x), Some(y)) if x != y => d.push(format!("event {i}: expected {}, got {}", show(x), show(y))),
            (Some(x), None) => d.push(format!("event {i}: expected {}, missing", show(x))),
            (None, Some(y)) => d.push(format!("event {i}: not expected, got {}", show(y))),
            _ => {}
        }
    }
    Ok(d)
}
