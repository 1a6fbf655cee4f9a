//! `conformance differential evm`: generated state tests (crate `evm-differential`) run on our
//! bootloader + EVM and on revm 43, compared by the state suite's revm comparison
//! (`suites/state/reference.rs`: outcome, gas used, logs, post-state account by account and
//! slot by slot, first diverging trace step).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::CampaignArgs;

use crate::progress::Progress;

pub const HELP: &str = "\
What is compared: our bootloader and EVM against revm 43 (mainnet handler, revme's state-test
setup), through the state suite's own parser and its revm comparison (suites/state/reference.rs):
included or rejected and how the outermost frame ended, gas used, logs, the post-state account by
account and slot by slot, and the first instruction at which the traces differ (pc, opcode,
depth, gas left, whole stack).

What is generated (crate evm-differential): one state test per case, under a fork from Berlin to
Osaka: webs of 2-5 contracts calling each other with CALL/CALLCODE/DELEGATECALL/STATICCALL (value,
varied gas), stack-aware op streams with real JUMPDESTs, interesting PUSH values, SSTORE/SLOAD
refund patterns, TSTORE/TLOAD, LOG0-4, memory expansion, RETURNDATACOPY, CREATE/CREATE2 of init
code returning runtime code (0xEF, 24,576/24,577 bytes, 49,152/49,153 init code, reverts,
self-destructs), collisions with accounts that have code, a nonce, storage only (EIP-7610) or a
balance, SELFDESTRUCT, every precompile with valid and invalid inputs, every transaction type the
fork has (legacy, 2930, 1559, 4844, 7702 with k256-signed authorizations) and rejections (nonce,
balance, intrinsic gas, block gas, EIP-7825 cap, fee below base fee, blob rules).

Allow-list, by rule (oracles/evm-differential/README.md):
  eip7610-revm: a CREATE/CREATE2 or creating transaction lands on an account that has storage but
no code and nonce 0: a collision by EIP-7610, which revm 43 does not detect.
A rejected transaction: the cases are EEST-shaped (config), so neither side touches the coinbase.

Case i has its own seed, derived from --seed and i. A divergence is minimized (accounts dropped,
storage cleared, code and calldata cut) while it persists and saved as a state test
<report-dir>/differential-evm/<case seed>.json whose post entry holds revm's state root and logs
hash: `conformance state <file>` runs it as a vector, --replay compares it with revm again.
Report: <report-dir>/differential-evm.json
  {\"ee\", \"seed\", \"total\", \"divergences\": [{\"seed\", \"what\", \"ours\", \"theirs\", \"vector\"}],
   \"allowed\": [{\"seed\", \"rule\", \"reason\", \"what\"}], \"forks\", \"tx_types\", \"outcomes\",
   \"instructions\", \"seconds\"}
Exit status: 0 no divergence outside the allow-list, 1 any, 2 usage or setup error.

Examples:
  conformance differential evm --seed 1 --count 100000
  conformance differential evm --seed 7 --count 2000 --report-dir /tmp/r
  conformance differential evm --replay oracles/evm-differential/regressions";

#[cfg(not(feature = "reference-revm"))]
pub fn run(_: CampaignArgs, _: &Path, _: Arc<dyn Progress>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("differential evm needs the runner's feature reference-revm (on by default)")
}

#[cfg(feature = "reference-revm")]
pub use imp::run;

#[cfg(feature = "reference-revm")]
mod imp {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use super::*;
    use crate::panics;
    use crate::suites::state::case::Prepared;
    use crate::suites::state::model::{PostEntry, StateFile, StateTest};
    use crate::suites::state::reference::{self, outcome_text, Outcome, Status};
    use ee_api::Fork;
    use evm_differential::{case, case_seed, minimize};
    use rayon::prelude::*;

    /// A case's time bound on each side (a generated case takes well under a millisecond).
    const CASE_TIMEOUT: Duration = Duration::from_secs(10);

    /// An allow-list rule: a predicate over the case and its comparison, and the reason.
    struct Rule {
        name: &'static str,
        reason: &'static str,
        applies: fn(&StateTest, &Prepared, &PostEntry, Fork, Option<Tamper>) -> bool,
    }

    const RULES: [Rule; 1] = [Rule {
        name: "eip7610-revm",
        reason: "EIP-7610: deploying onto an account with storage but no code and nonce 0 is a collision \
                 (the deployment fails); revm 43 does not check storage and deploys (revme skips such \
                 vectors). Matched only when the pre-state has such accounts and the case agrees once \
                 their storage is dropped (storage of a code-less account is observable only through \
                 that check)",
        applies: eip7610,
    }];

    fn eip7610(test: &StateTest, prep: &Prepared, entry: &PostEntry, fork: Fork, tamper: Option<Tamper>) -> bool {
        let Ok(pre) = &prep.pre else { return false };
        let mut without = (**pre).clone();
        let mut any = false;
        for a in without.accounts.values_mut() {
            if a.nonce == 0 && a.code.is_empty() && a.has_storage() {
                a.storage = Default::default();
                any = true;
            }
        }
        if !any {
            return false;
        }
        let other = Prepared { pre: Ok(Arc::new(without)), sender: prep.sender.clone(), format: prep.format };
        let deadline = Some(Instant::now() + CASE_TIMEOUT);
        reference::run_both(test, &other, entry, fork, deadline).is_ok_and(|b| planted(b, tamper).comparison.is_empty())
    }

    /// A planted difference on our side, for tests: proves that a difference is found, minimized,
    /// saved and replayed (the real runs always pass `None`).
    type Tamper = fn(&mut reference::Side);

    /// `both` with the planted difference, if any, made on our side and compared again.
    fn planted(mut both: reference::Both, tamper: Option<Tamper>) -> reference::Both {
        if let Some(plant) = tamper {
            plant(&mut both.ours);
            both.comparison = reference::compare(&both.ours, &both.revm);
        }
        both
    }

    /// What one case's comparison came to.
    enum Verdict {
        Agree(Figures),
        Allowed { rule: &'static Rule, what: String, figures: Figures },
        Diverge(Found),
    }

    #[derive(Clone, Debug)]
    struct Found {
        what: String,
        ours: String,
        theirs: String,
        detail: String,
        /// revm's expectation for the vector: state root, logs hash, rejection.
        expect: Option<(String, String, Option<String>)>,
    }

    #[derive(Clone, Debug, Default)]
    struct Figures {
        fork: String,
        tx_type: u8,
        outcome: String,
        /// Why ours rejected or halted (its own words, numbers elided).
        why: Option<String>,
        steps: u64,
    }

    fn side_text(s: &reference::Side) -> String {
        match &s.outcome {
            Outcome::Included { gas_used, logs, .. } => {
                format!("{}, gas used {gas_used}, {} logs, root {}", outcome_text(&s.outcome), logs.len(), s.root)
            }
            Outcome::Rejected(_) => format!("{}, root {}", outcome_text(&s.outcome), s.root),
        }
    }

    /// Compares one post entry of one test.
    fn check_entry(test: &StateTest, fork_name: &str, entry: &PostEntry, tamper: Option<Tamper>) -> Verdict {
        let diverge = |what: String, ours: String| {
            Verdict::Diverge(Found { what, ours, theirs: String::new(), detail: String::new(), expect: None })
        };
        let Some(fork) = Fork::from_name(fork_name) else {
            return diverge(format!("unknown fork {fork_name}"), String::new());
        };
        let prep = Prepared::new(test);
        let deadline = Some(Instant::now() + CASE_TIMEOUT);
        let both = match panics::catch(|| reference::run_both(test, &prep, entry, fork, deadline)) {
            Err(panic) => return diverge("a side panicked".into(), panic),
            Ok(Err(why)) => return diverge(format!("no comparison: {why}"), why),
            Ok(Ok(both)) => planted(both, tamper),
        };
        let figures = Figures {
            fork: fork_name.to_string(),
            tx_type: crate::suites::state::inputs::tx_type(&test.transaction, entry.indexes.data),
            outcome: match &both.ours.outcome {
                Outcome::Rejected(_) => "rejected".into(),
                Outcome::Included { status: Status::Success, .. } => "success".into(),
                Outcome::Included { status: Status::Revert, .. } => "revert".into(),
                Outcome::Included { status: Status::Halt(_), .. } => "halt".into(),
            },
            why: match &both.ours.outcome {
                Outcome::Rejected(why) | Outcome::Included { status: Status::Halt(why), .. } => {
                    Some(why.chars().filter(|c| !c.is_ascii_digit()).collect())
                }
                _ => None,
            },
            steps: both.ours.trace.total as u64,
        };
        let c = &both.comparison;
        if c.is_empty() {
            return Verdict::Agree(figures);
        }
        let mut parts = Vec::new();
        for (on, name) in [
            (c.outcome, "outcome"),
            (c.gas_used.is_some(), "gas used"),
            (c.logs.is_some(), "logs"),
            (!c.accounts.is_empty(), "post-state"),
            (c.divergence.is_some(), "trace"),
        ] {
            if on {
                parts.push(name);
            }
        }
        let what = format!("{} differ ({fork_name})", parts.join(", "));
        if let Some(rule) = RULES.iter().find(|r| (r.applies)(test, &prep, entry, fork, tamper)) {
            return Verdict::Allowed { rule, what, figures };
        }
        let expect = Some((
            both.revm.root.to_string(),
            both.revm.logs_hash.to_string(),
            match &both.revm.outcome {
                Outcome::Rejected(why) => Some(eest_exception(why)),
                Outcome::Included { .. } => None,
            },
        ));
        Verdict::Diverge(Found {
            what,
            ours: side_text(&both.ours),
            theirs: side_text(&both.revm),
            detail: reference::render(&both),
            expect,
        })
    }

    /// An EEST exception name for revm's rejection (so a saved vector states one).
    fn eest_exception(revm: &str) -> String {
        let m = revm.to_ascii_lowercase();
        let name = [
            ("too high, expected", "NONCE_MISMATCH_TOO_HIGH"),
            ("too low, expected", "NONCE_MISMATCH_TOO_LOW"),
            ("nonce overflow", "NONCE_IS_MAX"),
            ("overflow payment", "INSUFFICIENT_ACCOUNT_FUNDS"),
            ("lack of funds", "INSUFFICIENT_ACCOUNT_FUNDS"),
            ("call gas cost", "INTRINSIC_GAS_TOO_LOW"),
            ("gas floor", "INTRINSIC_GAS_BELOW_FLOOR_GAS_COST"),
            ("greater than the cap", "GAS_LIMIT_EXCEEDS_MAXIMUM"),
            ("block gas limit", "GAS_ALLOWANCE_EXCEEDED"),
            ("priority fee is greater", "PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS"),
            ("less than basefee", "INSUFFICIENT_MAX_FEE_PER_GAS"),
            ("max fee per blob gas (", "INSUFFICIENT_MAX_FEE_PER_BLOB_GAS"),
            ("blob version not supported", "TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH"),
            ("empty blobs", "TYPE_3_TX_ZERO_BLOBS"),
            ("too many blobs", "TYPE_3_TX_BLOB_COUNT_EXCEEDED"),
            ("empty authorization list", "TYPE_4_EMPTY_AUTHORIZATION_LIST"),
            ("deployed code", "SENDER_NOT_EOA"),
        ]
        .iter()
        .find(|(k, _)| m.contains(k))
        .map_or("UNKNOWN_REVM_REJECTION", |(_, n)| n);
        format!("TransactionException.{name}")
    }

    /// Checks every post entry of a state-test file; the first divergence, else the last verdict.
    fn check_file(file: &StateFile, tamper: Option<Tamper>) -> Verdict {
        let mut last = None;
        for test in file.values() {
            for (fork_name, entries) in &test.post {
                for entry in entries {
                    let v = check_entry(test, fork_name, entry, tamper);
                    if matches!(v, Verdict::Diverge(_)) {
                        return v;
                    }
                    last = Some(v);
                }
            }
        }
        last.unwrap_or_else(|| {
            Verdict::Diverge(Found {
                what: "no post entry".into(),
                ours: String::new(),
                theirs: String::new(),
                detail: String::new(),
                expect: None,
            })
        })
    }

    fn check_value(case: &Value, tamper: Option<Tamper>) -> Verdict {
        match serde_json::from_value::<StateFile>(case.clone()) {
            Ok(file) => check_file(&file, tamper),
            Err(e) => Verdict::Diverge(Found {
                what: format!("the generated case does not parse: {e}"),
                ours: String::new(),
                theirs: String::new(),
                detail: String::new(),
                expect: None,
            }),
        }
    }

    /// The case as a vector: the post entry takes revm's root, logs hash and rejection.
    fn as_vector(case: &Value, found: &Found) -> Value {
        let mut v = case.clone();
        if let (Some((root, logs, exception)), Some(test)) =
            (&found.expect, v.as_object_mut().and_then(|m| m.values_mut().next()))
        {
            if let Some(entry) =
                test["post"].as_object_mut().and_then(|m| m.values_mut().next()).and_then(|e| e.get_mut(0))
            {
                entry["hash"] = json!(root);
                entry["logs"] = json!(logs);
                if let Some(e) = exception {
                    entry["expectException"] = json!(e);
                }
            }
            test["_info"]["comment"] = json!(format!(
                "conformance differential evm: {}; post hash, logs and exception are revm 43's",
                found.what
            ));
        }
        v
    }

    #[derive(Default)]
    struct Acc {
        agreed: u64,
        instructions: u64,
        forks: BTreeMap<String, u64>,
        tx_types: BTreeMap<String, u64>,
        outcomes: BTreeMap<String, u64>,
        reasons: BTreeMap<String, u64>,
        allowed: Vec<(u64, &'static Rule, String)>,
        divergences: Vec<(u64, u64, Found)>,
    }

    impl Acc {
        fn count(&mut self, f: &Figures) {
            self.instructions += f.steps;
            *self.forks.entry(f.fork.clone()).or_default() += 1;
            *self.tx_types.entry(format!("type {}", f.tx_type)).or_default() += 1;
            *self.outcomes.entry(f.outcome.clone()).or_default() += 1;
            if let Some(why) = &f.why {
                *self.reasons.entry(format!("{}: {why}", f.outcome)).or_default() += 1;
            }
        }

        fn add(mut self, index: u64, seed: u64, v: Verdict) -> Acc {
            match v {
                Verdict::Agree(f) => {
                    self.agreed += 1;
                    self.count(&f);
                }
                Verdict::Allowed { rule, what, figures } => {
                    self.count(&figures);
                    self.allowed.push((seed, rule, what));
                }
                Verdict::Diverge(found) => self.divergences.push((index, seed, found)),
            }
            self
        }

        fn merge(mut self, o: Acc) -> Acc {
            self.agreed += o.agreed;
            self.instructions += o.instructions;
            for (mine, theirs) in [
                (&mut self.forks, o.forks),
                (&mut self.tx_types, o.tx_types),
                (&mut self.outcomes, o.outcomes),
                (&mut self.reasons, o.reasons),
            ] {
                for (k, n) in theirs {
                    *mine.entry(k).or_default() += n;
                }
            }
            self.allowed.extend(o.allowed);
            self.divergences.extend(o.divergences);
            self
        }
    }

    pub fn run(args: CampaignArgs, report_dir: &Path, progress: Arc<dyn Progress>) -> anyhow::Result<ExitCode> {
        panics::install_quiet_hook();
        if !args.replay.is_empty() {
            return replay(&args.replay);
        }
        let divergences = campaign(&args, report_dir, progress, None)?;
        Ok(super::super::exit_status(divergences))
    }

    /// Generates, compares, minimizes and saves; writes the report; the number of divergences.
    fn campaign(
        args: &CampaignArgs,
        report_dir: &Path,
        progress: Arc<dyn Progress>,
        tamper: Option<Tamper>,
    ) -> anyhow::Result<usize> {
        crate::check_report_dir(report_dir)?;
        let start = Instant::now();
        progress.begin("differential-evm", args.count as usize);
        let acc = (0..args.count)
            .into_par_iter()
            .fold(Acc::default, |acc, index| {
                let s = case_seed(args.seed, index);
                let token = progress.case_started("");
                let v = check_value(&case(s), tamper);
                progress.case_finished(token);
                progress.file_done();
                acc.add(index, s, v)
            })
            .reduce(Acc::default, Acc::merge);
        progress.finish();
        let mut divergences = acc.divergences;
        divergences.sort_by_key(|d| d.0);
        let vectors = report_dir.join("differential-evm");
        let mut listed = Vec::new();
        for (index, s, first) in divergences {
            let holds = |c: &Value| matches!(check_value(c, tamper), Verdict::Diverge(_));
            let small = minimize::minimize(&case(s), &holds);
            let found = match check_value(&small, tamper) {
                Verdict::Diverge(f) => f,
                _ => first,
            };
            std::fs::create_dir_all(&vectors)?;
            let path = vectors.join(format!("{s:016x}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&as_vector(&small, &found))? + "\n")?;
            eprintln!(
                "divergence in case {index} (seed {s:#018x}): {}\n  ours: {}\n  revm: {}\n  vector: {}\n{}",
                found.what,
                found.ours,
                found.theirs,
                path.display(),
                found.detail
            );
            listed.push(json!({
                "seed": format!("{s:#018x}"), "index": index, "what": found.what, "ours": found.ours,
                "theirs": found.theirs, "detail": found.detail, "vector": path.display().to_string(),
            }));
        }
        let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, rule, _) in &acc.allowed {
            *by_rule.entry(rule.name).or_default() += 1;
        }
        let mut allowed_sorted = acc.allowed;
        allowed_sorted.sort_by_key(|a| a.0);
        let allowed: Vec<Value> = allowed_sorted
            .iter()
            .take(200)
            .map(|(s, rule, what)| {
                json!({"seed": format!("{s:#018x}"), "rule": rule.name, "reason": rule.reason, "what": what})
            })
            .collect();
        let seconds = start.elapsed().as_secs_f64();
        let report = json!({
            "ee": "evm",
            "oracle": "revm 43",
            "seed": args.seed,
            "total": args.count,
            "agreed": acc.agreed,
            "instructions": acc.instructions,
            "forks": acc.forks,
            "tx_types": acc.tx_types,
            "outcomes": acc.outcomes,
            "rejections_and_halts": acc.reasons,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "divergences": listed,
            "allowed_by_rule": by_rule,
            "allowed": allowed,
            "allow_rules": RULES.iter().map(|r| json!({"rule": r.name, "reason": r.reason})).collect::<Vec<_>>(),
        });
        std::fs::create_dir_all(report_dir)?;
        let path = report_dir.join("differential-evm.json");
        crate::report::write_atomically(&path, |w| {
            use std::io::Write;
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)?;
            Ok(())
        })?;
        let n_div = report["divergences"].as_array().map_or(0, Vec::len);
        eprintln!(
            "differential evm (seed {}): {} cases, {} agree, {} allowed, {} divergences, {} instructions (ours), \
             {:.1} s; report {}",
            args.seed,
            args.count,
            acc.agreed,
            allowed_sorted.len(),
            n_div,
            acc.instructions,
            seconds,
            path.display()
        );
        Ok(n_div)
    }

    /// Replays saved vectors (state-test files); exit 1 if any still diverges.
    fn replay(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
        let files = super::super::replay_files(paths, "json")?;
        let mut diverging = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            let file: StateFile =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not a state test: {e}", f.display()))?;
            if file.is_empty() {
                anyhow::bail!("{}: no test in the file", f.display());
            }
            match check_file(&file, None) {
                Verdict::Agree(fig) => {
                    eprintln!("{}: agrees ({} steps, {})", f.display(), fig.steps, fig.outcome)
                }
                Verdict::Allowed { rule, what, .. } => {
                    eprintln!("{}: allowed by {} ({what})", f.display(), rule.name)
                }
                Verdict::Diverge(found) => {
                    diverging += 1;
                    eprintln!("{}: {}\n{}", f.display(), found.what, found.detail);
                }
            }
        }
        eprintln!("replayed {} vectors: {diverging} diverge", files.len());
        Ok(super::super::exit_status(diverging))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn generated_cases_parse_and_compare() {
            let mut agreed = 0;
            for i in 0..40 {
                match check_value(&case(case_seed(3, i)), None) {
                    Verdict::Agree(_) | Verdict::Allowed { .. } => agreed += 1,
                    Verdict::Diverge(f) => panic!("case {i}: {}\n{}", f.what, f.detail),
                }
            }
            assert_eq!(agreed, 40);
        }

        /// Our side charging one gas more than it did: every included case diverges.
        fn one_more_gas(ours: &mut reference::Side) {
            if let Outcome::Included { gas_used, .. } = &mut ours.outcome {
                *gas_used += 1;
            }
        }

        #[test]
        fn a_planted_difference_is_found_minimized_saved_and_replayed() {
            let dir = tempfile::tempdir().unwrap();
            let args = CampaignArgs { seed: 3, count: 24, replay: Vec::new() };
            let found = campaign(&args, dir.path(), Arc::new(crate::progress::Silent), Some(one_more_gas)).unwrap();
            let included = (0..24)
                .filter(|&i| match check_value(&case(case_seed(3, i)), None) {
                    Verdict::Agree(f) | Verdict::Allowed { figures: f, .. } => f.outcome != "rejected",
                    Verdict::Diverge(_) => unreachable!("the untampered campaign agrees"),
                })
                .count();
            assert!(included > 5, "{included}");
            assert_eq!(found, included, "every included case and nothing else");
            let report: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.path().join("differential-evm.json")).unwrap())
                    .unwrap();
            let listed = report["divergences"].as_array().unwrap();
            assert_eq!(listed.len(), found);
            let mut shrunk = 0;
            for d in listed {
                assert!(d["what"].as_str().unwrap().starts_with("gas used differ"), "{d}");
                let path = PathBuf::from(d["vector"].as_str().unwrap());
                let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let seed = u64::from_str_radix(d["seed"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
                let original = case(seed);
                let size = |v: &Value| serde_json::to_string(v).unwrap().len();
                if size(&saved) < size(&original) {
                    shrunk += 1;
                }
                // The vector holds revm's expectations: it diverges again only with the plant.
                let file: StateFile = serde_json::from_value(saved).unwrap();
                assert!(matches!(check_file(&file, Some(one_more_gas)), Verdict::Diverge(_)), "{path:?}");
                assert!(!matches!(check_file(&file, None), Verdict::Diverge(_)), "{path:?}");
            }
            assert!(shrunk * 2 > found, "most vectors are minimized: {shrunk} of {found}");
        }

        #[test]
        fn exception_names_for_revm_rejections() {
            assert_eq!(eest_exception("nonce 3 too high, expected 1"), "TransactionException.NONCE_MISMATCH_TOO_HIGH");
            assert_eq!(eest_exception("something new"), "TransactionException.UNKNOWN_REVM_REJECTION");
        }
    }
}
