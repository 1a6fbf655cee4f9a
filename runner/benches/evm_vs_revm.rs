//! Our bootloader + EVM against revm 43, side by side, on evmone's benchmark set
//! (`../shared/evm-benchmarks`: ordinary state tests, read in place).
//!
//! For every case (one `post` entry of a vector) both sides run the same transaction from
//! the same pre-state, built by the state suite's own code (`inputs.rs`, `revm_env.rs`,
//! compiled in by path: the runner has no library target, and these modules need nothing
//! of the harness's reporting or scheduling). Before anything is timed, each side's
//! post-state root and logs hash must equal the vector's expectation; a case where either
//! side misses it is not timed (the message says which side, and the roots and gas), and the
//! bench then exits with status 1, so a fast wrong answer is never reported.
//!
//! What is timed: the transaction and its commit (ours: `execute_transaction` on a clone of
//! the pre-state; revm: `transact_commit` on a `State` over a clone of its pre-state cache).
//! Parsing, cloning the pre-state and the state root are outside the timed region.
//!
//! Output: criterion's statistics per case and side (group = case, functions `ours` and
//! `revm`), then a table (ours, revm, ratio) from alternating runs: ours and revm take turns
//! round after round and each side's median is reported, so a background load that comes
//! and goes weighs on both alike.
//!
//! ```text
//! cargo bench --locked -p conformance --bench evm_vs_revm [-- FILTER]
//! ```
//! FILTER (a substring of the case name, e.g. `main/`) selects cases for both parts.
//! Environment: `EVM_BENCHMARKS_DIR` (default `../shared/evm-benchmarks` beside the
//! repository), `EVM_BENCH_ROUNDS` (alternating rounds for the table, default 11),
//! `EVM_BENCH_CRITERION=0` (the table only), `EVM_BENCH_PROFILE=ours|revm` (after the
//! check, only that side's runs for `EVM_BENCH_ROUNDS` rounds, no criterion and no table: a
//! `perf record` of it shows one side alone).

#[allow(dead_code, unused_imports)]
#[path = "../src/suites/state/exceptions.rs"]
mod exceptions;
#[allow(dead_code, unused_imports)]
#[path = "../src/suites/state/inputs.rs"]
mod inputs;
#[allow(dead_code, unused_imports)]
#[path = "../src/suites/state/model.rs"]
mod model;
#[allow(dead_code, unused_imports)]
#[path = "../src/suites/state/revm_env.rs"]
mod revm_env;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bootloader::{execute_transaction, logs_hash, state_root, ExecutionLimits, Transaction, WorldState};
use criterion::{BatchSize, Criterion};
use ee_api::{BlockEnv, Fork, B256};
use revm::context::{block::BlockEnv as RevmBlockEnv, cfg::CfgEnv, tx::TxEnv};
use revm::context_interface::result::ExecutionResult;
use revm::database::{CacheState, EmptyDB, State};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

use inputs::Prepared;
use model::StateFile;

/// Where the benchmark vectors are: `$EVM_BENCHMARKS_DIR`, else `shared/evm-benchmarks`
/// beside the repository (as the runner finds `../shared`).
fn benchmarks_dir() -> PathBuf {
    match std::env::var_os("EVM_BENCHMARKS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/evm-benchmarks"),
    }
}

/// One case, ready to run on either side.
struct Case {
    name: String,
    fork: Fork,
    pre: WorldState,
    block: BlockEnv,
    tx: Transaction,
    revm_pre: CacheState,
    revm_cfg: CfgEnv,
    revm_block: RevmBlockEnv,
    revm_tx: TxEnv,
    expected_root: B256,
    expected_logs: B256,
}

impl Case {
    fn run_ours(&self, state: &mut WorldState) -> Result<bootloader::TxOutcome, bootloader::TxError> {
        execute_transaction(state, &self.block, &self.tx, self.fork, ExecutionLimits::default())
    }

    fn revm_db(&self) -> State<EmptyDB> {
        State::builder().with_cached_prestate(self.revm_pre.clone()).build()
    }

    fn run_revm(&self, db: &mut State<EmptyDB>) -> Result<ExecutionResult, String> {
        let mut evm = Context::mainnet()
            .with_block(self.revm_block.clone())
            .with_cfg(self.revm_cfg.clone())
            .with_db(db)
            .build_mainnet();
        evm.transact_commit(self.revm_tx.clone()).map_err(|e| e.to_string())
    }

    /// Both sides' post-state root and logs hash against the vector's; `Err` says which side
    /// (or both) missed, and how.
    fn verify(&self) -> Result<(), String> {
        let errors: Vec<String> =
            [self.verify_ours(), self.verify_revm()].into_iter().filter_map(Result::err).collect();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(errors.join("; ")),
        }
    }

    /// The vector's expectation against a side's post-state and logs; `how` describes the run.
    fn check(&self, side: &str, state: &mut WorldState, logs: &[ee_api::Log], how: String) -> Result<(), String> {
        inputs::touch_coinbase(state, self.block.coinbase, self.fork);
        let (root, logs) = (state_root(state), logs_hash(logs));
        if (root, logs) == (self.expected_root, self.expected_logs) {
            return Ok(());
        }
        Err(format!(
            "{side}: post-state root {root} / logs {logs}, the vector expects {} / {} ({how})",
            self.expected_root, self.expected_logs
        ))
    }

    fn verify_ours(&self) -> Result<(), String> {
        let mut state = self.pre.clone();
        let out = self.run_ours(&mut state).map_err(|e| format!("ours rejected the transaction: {e}"))?;
        let how = format!("status {:?}, gas used {}", out.status, out.gas_used);
        self.check("ours", &mut state, &out.logs, how)
    }

    fn verify_revm(&self) -> Result<(), String> {
        let mut db = self.revm_db();
        let result = self.run_revm(&mut db).map_err(|e| format!("revm rejected the transaction: {e}"))?;
        let mut world = revm_env::revm_world(&db)?;
        let logs: Vec<ee_api::Log> = result.logs().iter().map(revm_env::revm_log).collect();
        let how = format!("{}, gas used {}", result_kind(&result), result.tx_gas_used());
        self.check("revm", &mut world, &logs, how)
    }
}

fn result_kind(r: &ExecutionResult) -> String {
    match r {
        ExecutionResult::Success { .. } => "success".to_string(),
        ExecutionResult::Revert { .. } => "revert".to_string(),
        ExecutionResult::Halt { reason, .. } => format!("halt {reason:?}"),
    }
}

/// Every case of every vector under `dir` (sorted by path), or why one cannot be built.
fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut files = Vec::new();
    collect_json(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().trim_end_matches(".json").to_string();
        let rel = rel.strip_prefix("benchmarks/").unwrap_or(&rel).to_string();
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        for (test_name, test) in &file {
            let prep = Prepared::new(test);
            for (fork_name, entries) in &test.post {
                let fork = Fork::from_name(fork_name)
                    .ok_or_else(|| format!("{}: {test_name}: unknown fork {fork_name}", path.display()))?;
                let spec = revm_env::spec_id(fork)
                    .ok_or_else(|| format!("{}: {test_name}: revm has no {fork_name} spec", path.display()))?;
                for entry in entries {
                    let inp = inputs::inputs(test, &prep, entry, fork, None)
                        .map_err(|e| format!("{}: {test_name}: {e}", path.display()))?;
                    let revm_cfg = revm_env::revm_cfg(spec, &inp);
                    let revm_block = revm_env::revm_block(&inp, &revm_cfg);
                    let revm_tx = revm_env::revm_tx(&inp.tx, revm_cfg.chain_id)
                        .map_err(|e| format!("{}: {test_name}: {e}", path.display()))?;
                    let i = &entry.indexes;
                    let name = match file.len() {
                        1 => format!("{rel}/d{}g{}v{}", i.data, i.gas, i.value),
                        _ => format!("{rel}/{test_name}/d{}g{}v{}", i.data, i.gas, i.value),
                    };
                    cases.push(Case {
                        name,
                        fork,
                        pre: inp.pre.clone(),
                        block: inp.block.clone(),
                        tx: inp.tx.clone(),
                        revm_pre: revm_env::revm_pre_state(inp.pre, fork),
                        revm_cfg,
                        revm_block,
                        revm_tx,
                        expected_root: entry.hash.0,
                        expected_logs: entry.logs.0,
                    });
                }
            }
        }
    }
    Ok(cases)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs per timed batch: enough that one batch lasts about `TARGET_BATCH`, given one run's time.
fn batch_size(one_run: Duration) -> usize {
    const TARGET_BATCH: Duration = Duration::from_millis(20);
    (TARGET_BATCH.as_nanos() / one_run.as_nanos().max(1)).clamp(1, 10_000) as usize
}

/// Times `n` runs of ours, the pre-states cloned beforehand; per-run seconds.
fn time_ours(case: &Case, n: usize) -> f64 {
    let mut states: Vec<WorldState> = (0..n).map(|_| case.pre.clone()).collect();
    let start = Instant::now();
    for state in &mut states {
        black_box(case.run_ours(state).is_ok());
    }
    let t = start.elapsed().as_secs_f64() / n as f64;
    drop(black_box(states));
    t
}

/// Times `n` runs of revm, the databases built beforehand; per-run seconds.
fn time_revm(case: &Case, n: usize) -> f64 {
    let mut dbs: Vec<State<EmptyDB>> = (0..n).map(|_| case.revm_db()).collect();
    let start = Instant::now();
    for db in &mut dbs {
        black_box(case.run_revm(db).is_ok());
    }
    let t = start.elapsed().as_secs_f64() / n as f64;
    drop(black_box(dbs));
    t
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One table row: each side's median over `rounds` alternating batches.
fn alternate(case: &Case, rounds: usize) -> (f64, f64) {
    let probe = Instant::now();
    let _ = case.run_ours(&mut case.pre.clone());
    let n = batch_size(probe.elapsed());
    let (mut ours, mut revm) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        // Which side goes first alternates too, so neither always runs on a warmer cache.
        if round % 2 == 0 {
            ours.push(time_ours(case, n));
            revm.push(time_revm(case, n));
        } else {
            revm.push(time_revm(case, n));
            ours.push(time_ours(case, n));
        }
    }
    (median(ours), median(revm))
}

/// `EVM_BENCH_PROFILE`: one side's runs only, each case for `rounds` batches, for a profiler.
fn profile_one_side(cases: &[Case], side: &str, rounds: usize) {
    let time: fn(&Case, usize) -> f64 = match side {
        "ours" => time_ours,
        "revm" => time_revm,
        other => {
            eprintln!("evm_vs_revm: EVM_BENCH_PROFILE={other:?}: expected `ours` or `revm`");
            std::process::exit(2);
        }
    };
    for case in cases {
        let probe = Instant::now();
        time(case, 1);
        let n = batch_size(probe.elapsed());
        let per_run = median((0..rounds).map(|_| time(case, n)).collect());
        println!("{:<40} {side} {:>12}", case.name, format_time(per_run));
    }
}

fn format_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.2} µs", s * 1e6)
    }
}

fn main() {
    let dir = benchmarks_dir();
    if !dir.is_dir() {
        eprintln!(
            "evm_vs_revm: skipped: no benchmark vectors at {} (set EVM_BENCHMARKS_DIR, or place \
             evmone's evm-benchmarks in ../shared/evm-benchmarks beside the repository)",
            dir.display()
        );
        return;
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut cases = match load_cases(&dir) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("evm_vs_revm: cannot load the benchmark vectors: {e}");
            std::process::exit(1);
        }
    };
    cases.retain(|c| filter.as_deref().is_none_or(|f| c.name.contains(f)));
    if cases.is_empty() {
        eprintln!("evm_vs_revm: no case of {} matches {filter:?}", dir.display());
        std::process::exit(1);
    }

    // Correctness first: a case where either side misses the expected post-state is not timed
    // at all, and makes the bench fail once the others are done.
    let total = cases.len();
    let mut wrong = Vec::new();
    cases.retain(|case| match case.verify() {
        Ok(()) => true,
        Err(why) => {
            eprintln!("evm_vs_revm: {}: NOT TIMED: {why}", case.name);
            wrong.push(case.name.clone());
            false
        }
    });
    eprintln!("evm_vs_revm: {} of {total} case(s) verified on both sides (post-state root and logs hash)", cases.len());

    let rounds: usize = std::env::var("EVM_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(11).max(1);
    if let Ok(side) = std::env::var("EVM_BENCH_PROFILE") {
        profile_one_side(&cases, &side, rounds);
        return;
    }

    if std::env::var("EVM_BENCH_CRITERION").as_deref() != Ok("0") {
        let mut c = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .configure_from_args();
        for case in &cases {
            let mut group = c.benchmark_group(&case.name);
            group.bench_function("ours", |b| {
                b.iter_batched_ref(|| case.pre.clone(), |s| black_box(case.run_ours(s).is_ok()), BatchSize::SmallInput)
            });
            group.bench_function("revm", |b| {
                b.iter_batched_ref(|| case.revm_db(), |db| black_box(case.run_revm(db).is_ok()), BatchSize::SmallInput)
            });
            group.finish();
        }
    }

    println!("\nmedians of {rounds} alternating rounds (transaction + commit; setup and state root excluded)");
    println!("{:<40} {:>12} {:>12} {:>11}", "case", "ours", "revm 43", "ours/revm");
    for case in &cases {
        let (ours, revm) = alternate(case, rounds);
        println!("{:<40} {:>12} {:>12} {:>11.2}", case.name, format_time(ours), format_time(revm), ours / revm);
    }
    if !wrong.is_empty() {
        eprintln!(
            "evm_vs_revm: {} case(s) do not reach the vector's post-state and were not timed: {}",
            wrong.len(),
            wrong.join(", ")
        );
        std::process::exit(1);
    }
}
