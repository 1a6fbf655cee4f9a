//! Expanding a state test into cases and running one case.
//!
//! A case is one `post[fork][i]` entry: the transaction template indexed by
//! `indexes {data, gas, value}`, run under one fork, against the test's
//! pre-state. Its id is `path::test::fork::dD:gG:vV`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bootloader::{
    blob_base_fee, execute_transaction_traced, logs_hash, state_root, Account, ExecutionLimits, Transaction, TxError,
    WorldState,
};
use ee_api::{Address, BlobSchedule, BlockEnv, Bytecode, ExitStatus, Fork, HaltReason, Tracer, B256, U256};

use super::exceptions::{self, Check, Field, Reason};
use super::filler::{self, ExpectedAccount, ExpectedPost};
use super::model::{Addr, Config, Env, Format, Indexes, NumError, PostEntry, PreAccount, StateTest, TxTemplate};
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

/// What the test provides to all its cases, built once and shared read-only.
pub struct Prepared {
    pub pre: Result<Arc<WorldState>, String>,
    pub sender: Result<Address, String>,
    /// ethereum/tests v13.3 or EEST conventions ([`StateTest::format`]).
    pub format: Format,
}

impl Prepared {
    pub fn new(test: &StateTest) -> Prepared {
        Prepared {
            pre: build_pre_state(test).map(Arc::new),
            sender: sender_of(&test.transaction),
            format: test.format(),
        }
    }
}

fn build_pre_state(test: &StateTest) -> Result<WorldState, String> {
    let mut state = WorldState::new();
    for (addr, acc) in &test.pre {
        let err = |what: &str, e: NumError| format!("pre-state {what} of {}: {e}", addr.0);
        let mut storage = bootloader::Map::default();
        for (k, v) in &acc.storage {
            let v = v.to_u256().map_err(|e| err("storage value", e))?;
            if !v.is_zero() {
                storage.insert(k.to_u256().map_err(|e| err("storage key", e))?, v);
            }
        }
        let account = Account {
            balance: acc.balance.to_u256().map_err(|e| err("balance", e))?,
            nonce: acc.nonce.to_u64().map_err(|e| err("nonce", e))?,
            code: Arc::new(Bytecode::new(Arc::from(acc.code.0.as_slice()))),
            storage,
        };
        state.insert_account(addr.0, account);
    }
    Ok(state)
}

/// The `sender` field, or the address of `secretKey` when it is absent.
fn sender_of(tx: &TxTemplate) -> Result<Address, String> {
    match (&tx.sender, &tx.secret_key) {
        (Some(a), _) => Ok(a.0),
        (None, Some(key)) => address_of_secret(&key.0 .0),
        (None, None) => Err("transaction has neither sender nor secretKey".to_string()),
    }
}

/// The Ethereum address of a secp256k1 secret key: the last 20 bytes of the
/// keccak256 of the uncompressed public key without its 0x04 prefix.
pub fn address_of_secret(key: &[u8; 32]) -> Result<Address, String> {
    use sha3::{Digest, Keccak256};
    let sk = k256::ecdsa::SigningKey::from_slice(key).map_err(|e| format!("invalid secretKey: {e}"))?;
    let point = sk.verifying_key().to_encoded_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash[12..]);
    Ok(Address(a))
}

/// 4 with an authorization list (even empty), 3 with blob hashes, 2 with a
/// fee cap, 1 with an access list for this data index, else legacy.
pub fn tx_type(tx: &TxTemplate, data_index: usize) -> u8 {
    if tx.authorization_list.is_some() {
        4
    } else if tx.blob_versioned_hashes.is_some() {
        3
    } else if tx.max_fee_per_gas.is_some() {
        2
    } else if tx.access_lists.as_ref().and_then(|l| l.get(data_index)).is_some_and(Option::is_some) {
        1
    } else {
        0
    }
}

/// Why a case's transaction could not be built.
#[derive(Debug, PartialEq, Eq)]
pub enum BuildError {
    /// A value of `field` cannot be encoded (above 2^256): no valid
    /// transaction exists, so it counts as rejected, for [`Reason::Unencodable`].
    Unencodable(Field, String),
    /// The vector itself is inconsistent (index out of range, missing field).
    BadVector(String),
}

/// The transaction of one case.
pub fn build_transaction(tx: &TxTemplate, idx: &Indexes, sender: Address) -> Result<Transaction, BuildError> {
    fn pick<'a, T>(list: &'a [T], i: usize, what: &str) -> Result<&'a T, BuildError> {
        list.get(i).ok_or_else(|| BuildError::BadVector(format!("{what} index {i} out of range ({})", list.len())))
    }
    let num = |n: &super::model::Num, field: Field| {
        n.to_u256().map_err(|e| BuildError::Unencodable(field, format!("transaction {}: {e}", field.name())))
    };
    let opt = |n: &Option<super::model::Num>, field: Field| n.as_ref().map(|n| num(n, field)).transpose();
    let tx_type = tx_type(tx, idx.data);
    let data = pick(&tx.data, idx.data, "data")?;
    let gas_limit = num(pick(&tx.gas_limit, idx.gas, "gasLimit")?, Field::GasLimit)?;
    let value = num(pick(&tx.value, idx.value, "value")?, Field::Value)?;
    let access_list = match (tx_type, &tx.access_lists) {
        (1.., Some(lists)) => lists
            .get(idx.data)
            .and_then(Option::as_ref)
            .map(|items| items.iter().map(|i| (i.address.0, i.storage_keys.iter().map(|k| k.0).collect())).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let gas_price = opt(&tx.gas_price, Field::GasPrice)?;
    if tx_type < 2 && gas_price.is_none() {
        return Err(BuildError::BadVector("legacy transaction without gasPrice".into()));
    }
    Ok(Transaction {
        tx_type,
        sender,
        to: tx.to.map(|a| a.0),
        nonce: num(&tx.nonce, Field::Nonce)?,
        gas_limit,
        gas_price: if tx_type < 2 { gas_price } else { None },
        max_fee_per_gas: opt(&tx.max_fee_per_gas, Field::MaxFeePerGas)?,
        max_priority_fee_per_gas: opt(&tx.max_priority_fee_per_gas, Field::MaxPriorityFeePerGas)?,
        value,
        data: Arc::from(data.0.as_slice()),
        access_list,
        blob_hashes: tx.blob_versioned_hashes.iter().flatten().map(|h| h.0).collect(),
        max_fee_per_blob_gas: opt(&tx.max_fee_per_blob_gas, Field::MaxFeePerBlobGas)?,
        authorization_list: authorizations(tx)?,
        factory_deps: Vec::new(),
    })
}

/// The EIP-7702 authorization list: `yParity`, else `v`, as the signature's parity. A value above
/// 2^256 cannot be encoded, so the transaction counts as rejected; anything that fits is passed on
/// for the bootloader to judge (it skips invalid tuples, as the EIP says).
fn authorizations(tx: &TxTemplate) -> Result<Vec<bootloader::Authorization>, BuildError> {
    let Some(list) = &tx.authorization_list else { return Ok(Vec::new()) };
    let field = Field::AuthorizationList;
    let num = |i: usize, n: &super::model::Num, what: &str| {
        n.to_u256().map_err(|e| BuildError::Unencodable(field, format!("authorizationList[{i}].{what}: {e}")))
    };
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let parity = match (&a.y_parity, &a.v) {
                (Some(p), _) => num(i, p, "yParity")?,
                (None, Some(v)) => num(i, v, "v")?,
                (None, None) => {
                    return Err(BuildError::BadVector(format!("authorizationList[{i}] has neither yParity nor v")))
                }
            };
            Ok(bootloader::Authorization {
                chain_id: num(i, &a.chain_id, "chainId")?,
                address: a.address.0,
                nonce: num(i, &a.nonce, "nonce")?,
                y_parity: parity,
                r: num(i, &a.r, "r")?,
                s: num(i, &a.s, "s")?,
            })
        })
        .collect()
}

/// The blob parameters of `fork` from an EEST `config.blobSchedule`, when it lists the fork.
pub fn blob_schedule(config: Option<&Config>, fork: Fork) -> Result<Option<BlobSchedule>, String> {
    let Some(schedule) = config.and_then(|c| c.blob_schedule.as_ref()) else { return Ok(None) };
    let Some((name, p)) = schedule.iter().find(|(name, _)| Fork::from_name(name) == Some(fork)) else {
        return Ok(None);
    };
    let num =
        |n: &super::model::Num, what: &str| n.to_u64().map_err(|e| format!("config.blobSchedule.{name}.{what}: {e}"));
    Ok(Some(BlobSchedule {
        target: num(&p.target, "target")?,
        max: num(&p.max, "max")?,
        base_fee_update_fraction: num(&p.base_fee_update_fraction, "baseFeeUpdateFraction")?,
    }))
}

/// The block of a case. Absent base fee, difficulty and excess blob gas
/// (vectors for forks before they existed) are zero. Chain id and blob
/// parameters come from an EEST `config` when it gives them, else chain id 1
/// and the fork's blob defaults.
pub fn block_env(env: &Env, config: Option<&Config>, fork: Fork) -> Result<BlockEnv, String> {
    let num = |n: &super::model::Num, what: &str| n.to_u256().map_err(|e| format!("env {what}: {e}"));
    let opt = |n: &Option<super::model::Num>, what: &str| n.as_ref().map_or(Ok(U256::ZERO), |n| num(n, what));
    let excess = match &env.current_excess_blob_gas {
        Some(n) => n.to_u64().map_err(|e| format!("env currentExcessBlobGas: {e}"))?,
        None => 0,
    };
    let schedule = blob_schedule(config, fork)?;
    let fraction = schedule.or_else(|| BlobSchedule::of(fork)).map_or(1, |b| b.base_fee_update_fraction);
    if fraction == 0 {
        return Err("config.blobSchedule: baseFeeUpdateFraction is 0".to_string());
    }
    let chain_id = match config.and_then(|c| c.chainid.as_ref()) {
        Some(n) => num(n, "config.chainid")?,
        None => U256::from(1),
    };
    Ok(BlockEnv {
        number: num(&env.current_number, "currentNumber")?,
        coinbase: env.current_coinbase.0,
        timestamp: num(&env.current_timestamp, "currentTimestamp")?,
        gas_limit: num(&env.current_gas_limit, "currentGasLimit")?,
        base_fee: opt(&env.current_base_fee, "currentBaseFee")?,
        difficulty: opt(&env.current_difficulty, "currentDifficulty")?,
        prevrandao: if fork.is_at_least(Fork::Paris) { env.current_random.map(|h| h.0) } else { None },
        blob_base_fee: blob_base_fee(excess, fraction),
        chain_id,
        blob_schedule: schedule,
    })
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
    let inclusion = match build_transaction(&test.transaction, &entry.indexes, sender) {
        Err(BuildError::BadVector(e)) => return Err(e),
        Err(BuildError::Unencodable(field, message)) => {
            Inclusion::Rejected { why: Some(Reason::Unencodable(field)), message, interrupted: false }
        }
        Ok(tx) => {
            let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
            let limits = ExecutionLimits { deadline };
            match execute_transaction_traced(&mut state, &block, &tx, fork, limits, tracer) {
                Ok(out) => {
                    touch_coinbase(&mut state, block.coinbase, fork);
                    let root = state_root(&state);
                    let logs = logs_hash(&out.logs);
                    let interrupted = out.status == ExitStatus::Halt(HaltReason::Interrupted);
                    let inclusion = Inclusion::Included { gas_used: out.gas_used, interrupted };
                    return Ok(Executed { inclusion, root, logs, state });
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
    Ok(Executed { inclusion, root: state_root(&state), logs: logs_hash(&[]), state })
}

/// The block's zero-value reward to the coinbase, which the vectors' filler
/// applies after the transaction whether or not it was included: before
/// EIP-158 (Spurious Dragon) it creates the coinbase account if absent;
/// from EIP-158 on it touches it, so an empty coinbase is removed. This is a
/// block step of the state-test procedure, not part of the transaction.
pub(crate) fn touch_coinbase(state: &mut WorldState, coinbase: Address, fork: Fork) {
    if fork.is_at_least(Fork::SpuriousDragon) {
        if state.get(&coinbase).is_some_and(Account::is_empty) {
            state.accounts.remove(&coinbase);
        }
    } else {
        state.accounts.entry(coinbase).or_default();
    }
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
            let failure = judge(&ex, entry, prep.format, opts.case_timeout);
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
        }
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
