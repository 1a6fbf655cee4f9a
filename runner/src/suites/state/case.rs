//! Expanding a state test into cases and running one case.
//!
//! A case is one `post[fork][i]` entry: the transaction template indexed by
//! `indexes {data, gas, value}`, run under one fork, against the test's
//! pre-state. Its id is `path::test::fork::dD:gG:vV`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bootloader::{execute_transaction_traced, logs_hash, state_root, ExecutionLimits, TxError, WorldState};
use ee_api::{ExitStatus, Fork, HaltReason, Tracer, B256};

use super::exceptions::{self, Check, Reason};
use super::filler::{self, ExpectedAccount, ExpectedPost};
// The case's inputs (pre-state, block, transaction) live in inputs.rs; re-exported for the suite's other users.
pub use super::inputs::{block_env, build_transaction, touch_coinbase, BuildError, Prepared};
use super::model::{Addr, Format, Indexes, NumError, PostEntry, PreAccount, StateTest};
use crate::panics;
use crate::report::{CaseRecord, Verdict};
use crate::suites::RunOptions;

/// The id of one case. Baselines and tools key on this exact shape.
pub fn case_id(file: &str, test: &str, fork: &str, idx: &Indexes) -> String {
    format!("{file}::{test}::{fork}::d{}:g{}:v{}", idx.data, idx.gas, idx.value)
}

/// One case to run, borrowing its expectations from the parsed test.
#[derive(Debug)]
pub struct CaseSpec<'t> {
    pub id: String,
    /// As written in the vector (ids and reports use this spelling).
    pub fork_name: &'t str,
    /// `None` when this build does not know the fork: the case is skipped.
    pub fork: Option<Fork>,
    pub entry: &'t PostEntry,
}

/// The test's cases under the selected forks (all forks when none is
/// selected; unknown forks only then, as skips).
pub fn expand<'t>(file: &str, name: &str, test: &'t StateTest, forks: &[Fork]) -> Vec<CaseSpec<'t>> {
    let mut out = Vec::new();
    for (fork_name, entries) in &test.post {
        let fork = Fork::from_name(fork_name);
        let selected = match fork {
            Some(f) => forks.is_empty() || forks.contains(&f),
            None => forks.is_empty(),
        };
        if !selected {
            continue;
        }
        for entry in entries {
            out.push(CaseSpec { id: case_id(file, name, fork_name, &entry.indexes), fork_name, fork, entry });
        }
    }
    out
}

/// How the transaction fared.
enum Inclusion {
    Included {
        gas_used: u64,
        interrupted: bool,
    },
    /// `why` is `None` only for a time-out.
    Rejected {
        why: Option<Reason>,
        message: String,
        interrupted: bool,
    },
}

impl Inclusion {
    /// Whether the case's time bound stopped the transaction.
    fn interrupted(&self) -> bool {
        match self {
            Inclusion::Included { interrupted, .. } | Inclusion::Rejected { interrupted, .. } => *interrupted,
        }
    }
}

struct Executed {
    inclusion: Inclusion,
    root: B256,
    logs: B256,
    /// The post-state, kept to explain a failure.
    state: WorldState,
    /// The time bound the transaction ran under ([`time_bound`]).
    time_bound: Duration,
}

/// Time allowed per unit of gas the case declares: about five times the slowest rate known
/// (CALLBlake2f_MaxRounds: 10^10 gas of blake2f rounds in ~50 s with AVX2, ~90 s scalar,
/// i.e. 5-9 ns per gas), so a slow or loaded machine does not turn a pass into a time-out.
pub const TIME_PER_GAS: Duration = Duration::from_nanos(50);
/// A declared gas limit (up to 2^63 in some vectors) raises the bound to at most this many
/// times `--case-timeout`, so that a hung case still ends.
pub const MAX_TIME_BOUND_FACTOR: u32 = 20;

/// The time bound of a case whose transaction may use `gas` (its gas limit, capped by the
/// block's): `base` (`--case-timeout`), raised to `gas` x [`TIME_PER_GAS`] for a case that
/// declares more work, up to [`MAX_TIME_BOUND_FACTOR`] x `base`. Zero (no bound) stays zero.
pub fn time_bound(base: Duration, gas: u64) -> Duration {
    if base.is_zero() {
        return Duration::ZERO;
    }
    let scaled = Duration::from_nanos(gas.saturating_mul(TIME_PER_GAS.as_nanos() as u64));
    scaled.clamp(base, base.saturating_mul(MAX_TIME_BOUND_FACTOR))
}

/// Where to find the filler that explains a failing case of one test.
pub struct Explain<'a> {
    /// The ethereum/tests checkout that holds `GeneralStateTests/` and `src/`.
    pub ethereum_tests_root: &'a Path,
    /// The test's key in its file.
    pub test_name: &'a str,
}

/// The failing case's post-state against its filler's `expect` section.
fn explain(test: &StateTest, entry: &PostEntry, fork_name: &str, state: &WorldState, how: &Explain<'_>) -> String {
    let Some(source) = test.info.source.as_deref() else {
        return "no filler diff: the test names no filler (_info.source)".to_string();
    };
    let labels: BTreeMap<usize, String> =
        test.info.labels.iter().filter_map(|(i, l)| Some((i.parse().ok()?, l.clone()))).collect();
    let ix = (entry.indexes.data, entry.indexes.gas, entry.indexes.value);
    match filler::load_expect(how.ethereum_tests_root, source, how.test_name, fork_name, ix, &labels) {
        Err(e) => format!("no filler diff: {e}"),
        Ok(None) => format!("no filler diff: no expect section of {source} applies to this case"),
        Ok(Some(expected)) => {
            let diff = filler::diff_post(&expected, state);
            let mut out = expected.notes.join("\n");
            if diff.is_empty() {
                for note in &diff.notes {
                    out.push_str(&format!("\nnote: {note}"));
                }
                out.push_str("\nthe post-state matches every value the filler expects (the difference is elsewhere)");
            } else {
                out.push('\n');
                out.push_str(&diff.to_string());
            }
            out
        }
    }
}

/// Builds and executes the case's transaction; `Err` is a broken vector.
fn execute(
    test: &StateTest,
    prep: &Prepared,
    entry: &PostEntry,
    fork: Fork,
    timeout: Duration,
    tracer: Option<&mut dyn Tracer>,
) -> Result<Executed, String> {
    let pre = prep.pre.as_ref().map_err(Clone::clone)?;
    let sender = prep.sender.clone()?;
    let block = block_env(&test.env, test.config.as_ref(), fork)?;
    let mut state = WorldState::clone(pre);
    let mut bound = time_bound(timeout, 0);
    let inclusion = match build_transaction(&test.transaction, &entry.indexes, sender) {
        Err(BuildError::BadVector(e)) => return Err(e),
        Err(BuildError::Unencodable(field, message)) => {
            Inclusion::Rejected { why: Some(Reason::Unencodable(field)), message, interrupted: false }
        }
        Ok(tx) => {
            bound = time_bound(timeout, tx.gas_limit.min(block.gas_limit).saturating_to());
            let deadline = (!bound.is_zero()).then(|| Instant::now() + bound);
            let limits = ExecutionLimits { deadline };
            match execute_transaction_traced(&mut state, &block, &tx, fork, limits, tracer) {
                Ok(out) => {
                    touch_coinbase(&mut state, block.coinbase, fork);
                    let root = state_root(&state);
                    let logs = logs_hash(&out.logs);
                    let interrupted = out.status == ExitStatus::Halt(HaltReason::Interrupted);
                    let inclusion = Inclusion::Included { gas_used: out.gas_used, interrupted };
                    return Ok(Executed { inclusion, root, logs, state, time_bound: bound });
                }
                Err(e) => Inclusion::Rejected {
                    why: Reason::of(&e),
                    message: e.to_string(),
                    interrupted: e == TxError::Interrupted,
                },
            }
        }
    };
    // After a rejected transaction, ethereum/tests v13.3 still expects the block's coinbase
    // touch; EEST fixtures expect exactly the pre-state (their post `state` is `pre`).
    if prep.format == Format::EthereumTests {
        touch_coinbase(&mut state, block.coinbase, fork);
    }
    Ok(Executed { inclusion, root: state_root(&state), logs: logs_hash(&[]), state, time_bound: bound })
}

/// Runs one case, traced when `tracer` is set. Never panics: a panic below becomes a `crash` verdict.
pub fn run(
    test: &StateTest,
    prep: &Prepared,
    spec: &CaseSpec<'_>,
    opts: &RunOptions,
    tracer: Option<&mut dyn Tracer>,
    explain_with: Option<&Explain<'_>>,
) -> CaseRecord {
    let start = Instant::now();
    let entry = spec.entry;
    let mut rec = CaseRecord::new(spec.id.clone(), Some(spec.fork_name.to_string()), Verdict::Skip, None);
    rec.expected_root = Some(entry.hash.0.to_string());
    rec.expected_logs = Some(entry.logs.0.to_string());
    let Some(fork) = spec.fork else {
        rec.error = Some(format!("unknown fork {:?}", spec.fork_name));
        if opts.require_all {
            rec.verdict = Verdict::Fail;
            rec.error = Some(format!(
                "unknown fork {:?}: this build cannot run it (--require-all makes that a failure, not a skip)",
                spec.fork_name
            ));
        }
        return rec;
    };
    match panics::catch(|| execute(test, prep, entry, fork, opts.case_timeout, tracer)) {
        Err(panic) => {
            rec.verdict = Verdict::Crash;
            rec.error = Some(panic);
        }
        Ok(Err(broken)) => {
            rec.verdict = Verdict::Fail;
            rec.error = Some(format!("bad vector: {broken}"));
        }
        Ok(Ok(ex)) => {
            rec.actual_root = Some(ex.root.to_string());
            rec.actual_logs = Some(ex.logs.to_string());
            let failure = judge(&ex, entry, prep.format, ex.time_bound);
            if let Inclusion::Included { gas_used, .. } = ex.inclusion {
                rec.gas_used = Some(gas_used);
            }
            if failure.is_some() && ex.root != entry.hash.0 {
                rec.diff = match (&entry.state, explain_with) {
                    (Some(expected), _) => Some(vector_diff(expected, &ex.state)),
                    (None, Some(how)) => Some(explain(test, entry, spec.fork_name, &ex.state, how)),
                    (None, None) => None,
                };
            }
            (rec.verdict, rec.error) = match failure {
                None => (Verdict::Pass, None),
                Some((verdict, why)) => (verdict, Some(why)),
            };
            #[cfg(feature = "reference-revm")]
            if !ex.inclusion.interrupted() {
                super::reference::attach(&mut rec, test, prep, entry, fork, opts);
            }
        }
    }
    rec.duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    rec
}

/// A failing EEST case's post-state against the vector's own expected `state`: missing and extra
/// accounts, then balance, nonce, code and every storage slot of each account.
fn vector_diff(expected: &BTreeMap<Addr, PreAccount>, actual: &WorldState) -> String {
    let mut notes = Vec::new();
    let mut accounts = Vec::new();
    for (addr, acc) in expected {
        let mut e = ExpectedAccount::new(addr.0);
        let mut unreadable = |what: &str, err: NumError| notes.push(format!("{}: {what} not compared: {err}", addr.0));
        match acc.balance.to_u256() {
            Ok(b) => e.balance = Some(b),
            Err(err) => unreadable("balance", err),
        }
        match acc.nonce.to_u64() {
            Ok(n) => e.nonce = Some(n),
            Err(err) => unreadable("nonce", err),
        }
        e.code = Some(acc.code.0.clone());
        for (k, v) in &acc.storage {
            match (k.to_u256(), v.to_u256()) {
                (Ok(k), Ok(v)) => e.storage.push((k, v)),
                (Err(err), _) | (_, Err(err)) => unreadable("a storage slot", err),
            }
        }
        e.storage.sort();
        e.storage_complete = true;
        accounts.push(e);
    }
    let extra = actual.accounts.keys().filter(|a| !expected.contains_key(&Addr(**a)));
    accounts.extend(extra.map(|a| ExpectedAccount { should_not_exist: true, ..ExpectedAccount::new(*a) }));
    accounts.sort_by_key(|e| e.address);
    let expected = ExpectedPost {
        accounts,
        notes: Vec::new(),
        section: 0,
        expect_exception: None,
        tx_addresses: Vec::new(),
        origin: "vector",
    };
    let diff = filler::diff_post(&expected, actual);
    let mut out: String = notes.iter().map(|n| format!("note: {n}\n")).collect();
    if diff.is_empty() {
        out.push_str("the post-state matches the vector's `state` in every account, field and slot");
    } else {
        out.push_str(&diff.to_string());
    }
    out
}

/// `None` when the case passes, else its verdict (fail or wrong exception) and why.
fn judge(ex: &Executed, entry: &PostEntry, format: Format, timeout: Duration) -> Option<(Verdict, String)> {
    if ex.inclusion.interrupted() {
        return Some((Verdict::Fail, format!("timed out after {} s", timeout.as_secs_f64())));
    }
    let root_ok = ex.root == entry.hash.0;
    let logs_ok = ex.logs == entry.logs.0;
    let mismatch = match (root_ok, logs_ok) {
        (true, true) => None,
        (false, true) => Some("state root mismatch"),
        (true, false) => Some("logs hash mismatch"),
        (false, false) => Some("state root and logs hash mismatch"),
    };
    let fail = |why: String| Some((Verdict::Fail, why));
    match (&ex.inclusion, &entry.expect_exception) {
        (Inclusion::Included { .. }, Some(exc)) => fail(format!("expected exception {exc}, tx was included")),
        (Inclusion::Rejected { message, .. }, None) => fail(format!("transaction rejected: {message}")),
        (Inclusion::Rejected { why: None, message, .. }, Some(exc)) => {
            fail(format!("transaction rejected without a reason ({message}; expected {exc})"))
        }
        (Inclusion::Rejected { why: Some(why), message, .. }, Some(exc)) => {
            let and_state = mismatch.map_or(String::new(), |m| format!("; also {m}"));
            match exceptions::check(format, exc, *why) {
                Check::Matches => mismatch
                    .and_then(|m| fail(format!("{m} after rejecting the transaction ({message}; expected {exc})"))),
                Check::Wrong => Some((
                    Verdict::WrongException,
                    format!("wrong exception: expected {exc}, rejected with {} ({message}){and_state}", why.name()),
                )),
                Check::Unmapped(names) => fail(format!(
                    "unmapped exception name {}: the harness maps no rejection reason to it \
                     (suites/state/exceptions.rs); rejected with {} ({message}){and_state}",
                    names.join(", "),
                    why.name()
                )),
            }
        }
        (Inclusion::Included { gas_used, .. }, None) => {
            mismatch.and_then(|m| fail(format!("{m} (gas used {gas_used})")))
        }
    }
}

#[cfg(test)]
mod tests {
    use bootloader::{blob_base_fee, Account};
    use ee_api::{Address, BlobSchedule, U256};

    use super::super::exceptions::Field;
    use super::super::inputs::{build_pre_state, sender_of, tx_type};
    use super::super::model::StateFile;
    use super::*;

    const TEST: &str = r#"{"t": {
        "env": {"currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba", "currentNumber": "0x01",
                "currentTimestamp": "0x03e8", "currentGasLimit": "0xff112233445566", "currentDifficulty": "0x020000",
                "currentRandom": "0x0000000000000000000000000000000000000000000000000000000000020000",
                "currentBaseFee": "10", "currentExcessBlobGas": "0x00"},
        "pre": {"0x095e7baea6a6c7c4c2dfeb977efac326af552d87": {"balance": "0x0de0b6b3a7640000", "code": "0x6001",
                "nonce": "0x00", "storage": {"0x01": "0x02", "0x03": "0x00"}}},
        "transaction": {"data": ["0x", "0x01"], "gasLimit": ["0x061a80"], "gasPrice": "0x0a", "nonce": "0x00",
                "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8",
                "to": "", "value": ["0x00", "0x:bigint 0x10000000000000000000000000000000000000000000000000000000000000001"],
                "accessLists": [null, [{"address": "0x095e7baea6a6c7c4c2dfeb977efac326af552d87", "storageKeys": ["0x01"]}]]},
        "post": {
            "Cancun": [{"hash": "0x01", "logs": "0x02", "indexes": {"data": 1, "gas": 0, "value": 0}},
                       {"hash": "0x01", "logs": "0x02", "indexes": {"data": 0, "gas": 0, "value": 1}, "expectException": "TR_RLP_WRONGVALUE"}],
            "Berlin": [{"hash": "0x01", "logs": "0x02", "indexes": {"data": 0, "gas": 0, "value": 0}}],
            "Amsterdam": [{"hash": "0x01", "logs": "0x02", "indexes": {"data": 0, "gas": 0, "value": 0}}]
        }
    }}"#;

    fn test() -> StateTest {
        let mut f: StateFile = serde_json::from_str(TEST).unwrap();
        f.remove("t").unwrap()
    }

    #[test]
    fn case_id_shape() {
        let id = case_id("stExample/add11.json", "add11", "Cancun", &Indexes { data: 1, gas: 2, value: 3 });
        assert_eq!(id, "stExample/add11.json::add11::Cancun::d1:g2:v3");
    }

    #[test]
    fn expansion_per_fork_and_entry_with_unknown_forks_kept() {
        let t = test();
        let all = expand("x.json", "t", &t, &[]);
        let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "x.json::t::Amsterdam::d0:g0:v0",
                "x.json::t::Berlin::d0:g0:v0",
                "x.json::t::Cancun::d1:g0:v0",
                "x.json::t::Cancun::d0:g0:v1"
            ]
        );
        assert_eq!(all[0].fork, None);
        let cancun = expand("x.json", "t", &t, &[Fork::Cancun]);
        assert_eq!(cancun.len(), 2, "a fork filter drops other forks, unknown ones included");
    }

    #[test]
    fn tx_type_detection() {
        let mut t = test().transaction;
        assert_eq!(tx_type(&t, 0), 0, "null access list entry");
        assert_eq!(tx_type(&t, 1), 1);
        assert_eq!(tx_type(&t, 5), 0, "no entry for that index");
        t.max_fee_per_gas = Some(super::super::model::Num("0x10".into()));
        assert_eq!(tx_type(&t, 0), 2);
        t.blob_versioned_hashes = Some(vec![]);
        assert_eq!(tx_type(&t, 0), 3);
    }

    #[test]
    fn transaction_building() {
        let t = test();
        let sender = sender_of(&t.transaction).unwrap();
        assert_eq!(sender.to_string(), "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b", "derived from secretKey");
        let tx = build_transaction(&t.transaction, &Indexes { data: 1, gas: 0, value: 0 }, sender).unwrap();
        assert_eq!(tx.tx_type, 1);
        assert_eq!(tx.to, None, "empty `to` creates");
        assert_eq!(tx.gas_limit, U256::from(400_000));
        assert_eq!(tx.gas_price, Some(U256::from(10)));
        assert_eq!(tx.data.as_ref(), &[1]);
        assert_eq!(tx.access_list.len(), 1);
        assert_eq!(tx.access_list[0].1, vec![B256::from_word(U256::from(1))]);
        let overflow = build_transaction(&t.transaction, &Indexes { data: 0, gas: 0, value: 1 }, sender);
        assert!(matches!(overflow, Err(BuildError::Unencodable(Field::Value, _))), "{overflow:?}");
        let out_of_range = build_transaction(&t.transaction, &Indexes { data: 0, gas: 1, value: 0 }, sender);
        assert!(matches!(out_of_range, Err(BuildError::BadVector(_))), "{out_of_range:?}");
    }

    #[test]
    fn pre_state_and_block() {
        let t = test();
        let pre = build_pre_state(&t).unwrap();
        let acc = pre.accounts.values().next().unwrap();
        assert_eq!(acc.storage.len(), 1, "zero slots are not stored");
        assert_eq!(acc.code.bytes.as_ref(), &[0x60, 0x01]);
        let berlin = block_env(&t.env, None, Fork::Berlin).unwrap();
        assert_eq!(berlin.prevrandao, None);
        assert_eq!(berlin.base_fee, U256::from(10), "decimal numbers are accepted");
        let cancun = block_env(&t.env, None, Fork::Cancun).unwrap();
        assert_eq!(cancun.prevrandao, Some(B256::from_word(U256::from(0x020000))));
        assert_eq!(cancun.blob_base_fee, U256::from(1));
        assert_eq!(cancun.chain_id, U256::from(1));
    }

    #[test]
    fn coinbase_touch_depends_on_eip158() {
        let cb = Address([7; 20]);
        let mut s = WorldState::new();
        touch_coinbase(&mut s, cb, Fork::Homestead);
        assert!(s.get(&cb).is_some(), "created before EIP-158");
        touch_coinbase(&mut s, cb, Fork::SpuriousDragon);
        assert!(s.get(&cb).is_none(), "empty and touched: removed from EIP-158 on");
        s.insert_account(cb, Account { balance: U256::from(1), ..Account::default() });
        touch_coinbase(&mut s, cb, Fork::Cancun);
        assert_eq!(s.get(&cb).map(|a| a.balance), Some(U256::from(1)));
    }

    fn executed(inclusion: Inclusion, root: u64, logs: u64) -> Executed {
        Executed {
            inclusion,
            root: B256::from_word(U256::from(root)),
            logs: B256::from_word(U256::from(logs)),
            state: WorldState::new(),
            time_bound: Duration::ZERO,
        }
    }

    #[test]
    fn time_bound_scales_with_declared_gas() {
        let base = Duration::from_secs(180);
        // Ordinary cases keep the base bound.
        assert_eq!(time_bound(base, 0), base);
        assert_eq!(time_bound(base, 30_000_000), base);
        // CALLBlake2f_MaxRounds declares 10^10 gas: 500 s, room for its ~90 s scalar run.
        assert_eq!(time_bound(base, 10_000_000_000), Duration::from_secs(500));
        // A gas limit of 2^63 is capped, so a hung case still ends.
        assert_eq!(time_bound(base, i64::MAX as u64), base * MAX_TIME_BOUND_FACTOR);
        // No bound stays no bound.
        assert_eq!(time_bound(Duration::ZERO, 10_000_000_000), Duration::ZERO);
    }

    #[test]
    fn judging() {
        let t = test();
        let ok = &t.post["Cancun"][0];
        let exc = &t.post["Cancun"][1];
        let inc = || Inclusion::Included { gas_used: 21000, interrupted: false };
        let rej = |why: Reason| Inclusion::Rejected { why: Some(why), message: "msg".into(), interrupted: false };
        let unencodable = || rej(Reason::Unencodable(Field::Value));
        let s = Duration::from_secs(60);
        let v13 = Format::EthereumTests;
        let fail = |why: &str| Some((Verdict::Fail, why.to_string()));
        assert_eq!(judge(&executed(inc(), 1, 2), ok, v13, s), None);
        assert!(judge(&executed(inc(), 9, 2), ok, v13, s).unwrap().1.starts_with("state root mismatch"));
        assert!(judge(&executed(inc(), 1, 9), ok, v13, s).unwrap().1.starts_with("logs hash mismatch"));
        assert_eq!(judge(&executed(rej(Reason::NonceMax), 1, 2), ok, v13, s), fail("transaction rejected: msg"));
        // TR_RLP_WRONGVALUE: the unencodable value is the expected reason, another one is not.
        assert_eq!(judge(&executed(unencodable(), 1, 2), exc, v13, s), None);
        let (verdict, why) = judge(&executed(rej(Reason::InsufficientFunds), 1, 2), exc, v13, s).unwrap();
        assert_eq!(verdict, Verdict::WrongException);
        assert_eq!(
            why,
            "wrong exception: expected TR_RLP_WRONGVALUE, rejected with TransactionException.INSUFFICIENT_ACCOUNT_FUNDS (msg)"
        );
        let (verdict, why) = judge(&executed(rej(Reason::InsufficientFunds), 9, 2), exc, v13, s).unwrap();
        assert_eq!(verdict, Verdict::WrongException);
        assert!(why.ends_with("; also state root mismatch"), "{why}");
        // The same name is unknown to the EEST table: an explicit failure, never a pass.
        let (verdict, why) = judge(&executed(unencodable(), 1, 2), exc, Format::Eest, s).unwrap();
        assert_eq!(verdict, Verdict::Fail);
        assert!(why.starts_with("unmapped exception name TR_RLP_WRONGVALUE"), "{why}");
        assert_eq!(
            judge(&executed(inc(), 1, 2), exc, v13, s),
            fail("expected exception TR_RLP_WRONGVALUE, tx was included")
        );
        let timed_out = Inclusion::Rejected { why: None, message: "x".into(), interrupted: true };
        assert_eq!(judge(&executed(timed_out, 1, 2), ok, v13, s), fail("timed out after 60 s"));
    }

    /// An EEST test: `config`, a type-4 transaction, a post entry with its whole `state`.
    const EEST: &str = r#"{"t": {
        "env": {"currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba", "currentNumber": "0x01",
                "currentTimestamp": "0x03e8", "currentGasLimit": "0x055d4a80", "currentDifficulty": "0x00",
                "currentRandom": "0x0000000000000000000000000000000000000000000000000000000000000000",
                "currentBaseFee": "0x07", "currentExcessBlobGas": "0x0e0000"},
        "pre": {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {"balance": "0x3635c9adc5dea00000", "code": "0x",
                "nonce": "0x00", "storage": {}}},
        "transaction": {"data": ["0x"], "gasLimit": ["0x0186a0"], "maxFeePerGas": "0x07", "maxPriorityFeePerGas": "0x00",
                "nonce": "0x00", "sender": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
                "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8",
                "to": "0x095e7baea6a6c7c4c2dfeb977efac326af552d87", "value": ["0x00"],
                "authorizationList": [
                    {"chainId": "0x00", "address": "0x0000000000000000000000000000000000001000", "nonce": "0x01",
                     "v": "0x01", "r": "0x02", "s": "0x03", "yParity": "0x00",
                     "signer": "0x8a0a19589531694250d570040a0c4b74576919b8"},
                    {"chainId": "0x:bigint 0x10000000000000000000000000000000000000000000000000000000000000000",
                     "address": "0x0000000000000000000000000000000000001000", "nonce": "0xffffffffffffffffff",
                     "v": "0x1b", "r": "0x02", "s": "0x03"}
                ]},
        "post": {"Prague": [{"hash": "0x01", "logs": "0x02", "txbytes": "0x04",
                 "indexes": {"data": 0, "gas": 0, "value": 0},
                 "expectException": "TransactionException.TYPE_4_TX_PRE_FORK|TransactionException.INTRINSIC_GAS_TOO_LOW",
                 "state": {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {"balance": "0x3635c9adc5dea00000",
                           "code": "0x", "nonce": "0x00", "storage": {"0x01": "0x02"}}}}]},
        "config": {"chainid": "0x0a", "blobSchedule": {
            "Cancun": {"target": "0x03", "max": "0x06", "baseFeeUpdateFraction": "0x32f0ed"},
            "Prague": {"target": "0x04", "max": "0x05", "baseFeeUpdateFraction": "0x0100"}}}
    }}"#;

    #[test]
    fn eest_format_parses_into_config_authorizations_and_post_state() {
        let mut f: StateFile = serde_json::from_str(EEST).unwrap();
        let t = f.remove("t").unwrap();
        assert_eq!(t.format(), Format::Eest);
        assert_eq!(test().format(), Format::EthereumTests);
        let entry = &t.post["Prague"][0];
        let state = entry.state.as_ref().unwrap();
        assert_eq!(state.values().next().unwrap().storage.len(), 1);
        // Type 4; yParity wins over v; huge numbers survive parsing and make the transaction
        // unencodable (rejected), never the file unreadable.
        assert_eq!(tx_type(&t.transaction, 0), 4);
        let sender = sender_of(&t.transaction).unwrap();
        let built = build_transaction(&t.transaction, &entry.indexes, sender);
        assert!(matches!(built, Err(BuildError::Unencodable(Field::AuthorizationList, _))), "{built:?}");
        let mut tx = t.transaction;
        tx.authorization_list.as_mut().unwrap().pop();
        let built = build_transaction(&tx, &entry.indexes, sender).unwrap();
        assert_eq!(built.tx_type, 4);
        assert_eq!(built.authorization_list.len(), 1);
        let a = &built.authorization_list[0];
        assert_eq!((a.y_parity, a.nonce, a.r, a.s), (U256::ZERO, U256::from(1), U256::from(2), U256::from(3)));
        assert_eq!(a.address, Address::from_word(U256::from(0x1000)));
        // An empty list is still a set-code transaction.
        tx.authorization_list = Some(Vec::new());
        assert_eq!(build_transaction(&tx, &entry.indexes, sender).unwrap().tx_type, 4);
        // Chain id and the fork's blob schedule come from `config`; other forks keep their defaults.
        let prague = block_env(&t.env, t.config.as_ref(), Fork::Prague).unwrap();
        assert_eq!(prague.chain_id, U256::from(10));
        assert_eq!(prague.blob_schedule, Some(BlobSchedule { target: 4, max: 5, base_fee_update_fraction: 256 }));
        assert_eq!(prague.blob_base_fee, blob_base_fee(0x0e0000, 256));
        let osaka = block_env(&t.env, t.config.as_ref(), Fork::Osaka).unwrap();
        assert_eq!(osaka.blob_schedule, None, "not in the vector's schedule: the fork's defaults");
        assert_eq!(osaka.blob_base_fee, blob_base_fee(0x0e0000, 5_007_716));
    }

    #[test]
    fn vector_diff_names_every_difference() {
        let mut f: StateFile = serde_json::from_str(EEST).unwrap();
        let t = f.remove("t").unwrap();
        let expected = t.post["Prague"][0].state.as_ref().unwrap();
        let mut actual = build_pre_state(&t).unwrap();
        let diff = vector_diff(expected, &actual);
        assert!(diff.contains("storage[0x01] expected 0x02, got 0x00"), "{diff}");
        actual.insert_account(Address([9; 20]), Account { nonce: 1, ..Account::default() });
        let diff = vector_diff(expected, &actual);
        assert!(diff.contains("0x0909090909090909090909090909090909090909: should not exist but does"), "{diff}");
        assert!(diff.contains("--- expected (vector)"), "{diff}");
    }
}
