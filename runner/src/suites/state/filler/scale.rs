//! At-scale checks over the generated state tests. Ignored by default (they
//! read every vector); run them with
//! `ETHEREUM_TESTS_DIR=... cargo test -p conformance filler::scale -- --ignored --nocapture`.
//!
//! - `every_case_resolves`: loads the expectation of every case and counts
//!   resolved / no section / errors by kind. Other errors must be zero.
//! - `passing_cases_have_empty_diffs`: runs a sample of cases through the
//!   bootloader as `case.rs` does; where the state root matches the vector,
//!   the filler's expectations must hold (an empty diff). Cases whose root
//!   differs are reported with their diff. `FILLER_SCALE_STRIDE` (default 10)
//!   runs every Nth case; `FILLER_SCALE_FILTER` keeps paths containing one of its comma-separated parts;
//!   `FILLER_SCALE_DEADLINE` (seconds, default 20) interrupts slow cases,
//!   which are then left out of the comparison.
//!   `FILLER_SCALE_DUMP=FILE` appends every contradicting case with its diff to FILE.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bootloader::{execute_transaction, state_root, ExecutionLimits, TxError, WorldState};
use ee_api::{ExitStatus, Fork, HaltReason};
use rayon::prelude::*;
use serde::Deserialize;

use super::tests::tests_root;
use super::{diff_post, load_expect};
use crate::suites::state::case::{self, BuildError};
use crate::suites::state::model::{self, StateFile};

#[derive(Deserialize)]
struct LightTest {
    #[serde(rename = "_info")]
    info: LightInfo,
    post: BTreeMap<String, Vec<LightEntry>>,
}

#[derive(Deserialize)]
struct LightInfo {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct LightEntry {
    indexes: model::Indexes,
}

fn labels_of(info: &LightInfo) -> BTreeMap<usize, String> {
    info.labels.iter().filter_map(|(k, v)| Some((k.parse().ok()?, v.clone()))).collect()
}

fn vector_files(root: &Path) -> Vec<std::path::PathBuf> {
    let filter = std::env::var("FILLER_SCALE_FILTER").unwrap_or_default();
    let mut files: Vec<_> = walkdir::WalkDir::new(root.join("GeneralStateTests"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| filter.split(',').any(|f| p.to_string_lossy().contains(f)))
        .collect();
    files.sort();
    files
}

#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, usize>,
    examples: BTreeMap<String, Vec<String>>,
}

impl Tally {
    fn add(&mut self, kind: &str, example: Option<String>) {
        *self.counts.entry(kind.to_string()).or_default() += 1;
        if let Some(e) = example {
            let ex = self.examples.entry(kind.to_string()).or_default();
            if ex.len() < 8 {
                ex.push(e);
            }
        }
    }

    fn print(&self, title: &str) {
        eprintln!("== {title}");
        for (k, n) in &self.counts {
            eprintln!("{n:>8}  {k}");
        }
        for (k, ex) in &self.examples {
            eprintln!("-- examples of {k}:");
            for e in ex {
                eprintln!("   {e}");
            }
        }
    }
}

#[test]
#[ignore = "reads every GeneralStateTests vector; run with --ignored"]
fn every_case_resolves() {
    let Some(root) = tests_root() else { return };
    let tally = Mutex::new(Tally::default());
    let start = Instant::now();
    vector_files(&root).par_iter().for_each(|path| {
        let rel = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let file: BTreeMap<String, LightTest> = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => return tally.lock().unwrap().add("vector not parsed", Some(format!("{rel}: {e}"))),
        };
        for (name, test) in &file {
            let labels = labels_of(&test.info);
            let source = test.info.source.clone().unwrap_or_default();
            for (fork, entries) in &test.post {
                for entry in entries {
                    let ix = entry.indexes;
                    let id = format!("{rel}::{name}::{fork}::d{}:g{}:v{}", ix.data, ix.gas, ix.value);
                    let r = load_expect(&root, &source, name, fork, (ix.data, ix.gas, ix.value), &labels);
                    let mut t = tally.lock().unwrap();
                    match r {
                        Ok(Some(post)) => {
                            t.add("resolved", None);
                            for n in &post.notes[1..] {
                                let kind = if n.contains("written as source") {
                                    "note: code written as source, not checked"
                                } else if n.contains("all apply") {
                                    "note: several sections apply"
                                } else if n.contains("rejected") {
                                    "note: expectException"
                                } else {
                                    "note: other"
                                };
                                t.add(kind, Some(format!("{id}: {n}")));
                            }
                        }
                        Ok(None) => t.add("no applicable section", Some(id)),
                        Err(e) if e.contains("Python test") => t.add("error: Python (execution-spec-tests) test", None),
                        Err(e) if e.contains("not found") => t.add("error: filler not in the reduced set", Some(e)),
                        Err(e) => t.add("error: other", Some(format!("{id}: {e}"))),
                    }
                }
            }
        }
    });
    let t = tally.into_inner().unwrap();
    t.print(&format!("filler expectations of every case ({:.0?})", start.elapsed()));
    assert_eq!(t.counts.get("error: other"), None, "unexpected load errors");
}

#[test]
#[ignore = "executes a sample of GeneralStateTests cases; run with --ignored"]
fn passing_cases_have_empty_diffs() {
    let Some(root) = tests_root() else { return };
    let env_num = |k: &str, d: u64| std::env::var(k).ok().and_then(|s| s.parse().ok()).unwrap_or(d);
    let stride = env_num("FILLER_SCALE_STRIDE", 10).max(1) as usize;
    let deadline = Duration::from_secs(env_num("FILLER_SCALE_DEADLINE", 20));
    let counter = AtomicUsize::new(0);
    let files_done = AtomicUsize::new(0);
    let tally = Mutex::new(Tally::default());
    let start = Instant::now();
    let files = vector_files(&root);
    files.par_iter().for_each(|path| {
        let rel = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let done = || {
            let n = files_done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(250) {
                eprintln!("{n}/{} files ({:.0?})", files.len(), start.elapsed());
            }
        };
        let (Ok(light), Ok(file)) =
            (serde_json::from_str::<BTreeMap<String, LightTest>>(&text), serde_json::from_str::<StateFile>(&text))
        else {
            return done();
        };
        for (name, test) in &file {
            let info = &light[name].info;
            let source = info.source.clone().unwrap_or_default();
            if source.contains(".py") {
                continue;
            }
            let labels = labels_of(info);
            let prepared = case::Prepared::new(test);
            let (Ok(pre), Ok(sender)) = (&prepared.pre, &prepared.sender) else { continue };
            let cases: Vec<_> = test
                .post
                .iter()
                .filter_map(|(f, entries)| Some((f, Fork::from_name(f)?, entries)))
                .flat_map(|(f, fork, entries)| entries.iter().map(move |e| (f, fork, e)))
                .filter(|_| counter.fetch_add(1, Ordering::Relaxed).is_multiple_of(stride))
                .collect();
            cases.par_iter().for_each(|(fork_name, fork, entry)| {
                let (fork_name, fork) = (fork_name.as_str(), *fork);
                let ix = entry.indexes;
                let id = format!("{rel}::{name}::{fork_name}::d{}:g{}:v{}", ix.data, ix.gas, ix.value);
                let expected = match load_expect(&root, &source, name, fork_name, (ix.data, ix.gas, ix.value), &labels)
                {
                    Ok(Some(e)) => e,
                    Ok(None) => return tally.lock().unwrap().add("no applicable section", Some(id)),
                    Err(e) => return tally.lock().unwrap().add("expectations not loaded", Some(format!("{id}: {e}"))),
                };
                let case_start = Instant::now();
                let run = crate::panics::catch(|| {
                    let block = case::block_env(&test.env, test.config.as_ref(), fork).ok()?;
                    let mut state = WorldState::clone(pre);
                    let mut interrupted = false;
                    match case::build_transaction(&test.transaction, &entry.indexes, *sender) {
                        Err(BuildError::BadVector(_)) => return None,
                        Err(BuildError::Unencodable(..)) => {}
                        Ok(tx) => {
                            let limits = ExecutionLimits { deadline: Some(Instant::now() + deadline) };
                            match execute_transaction(&mut state, &block, &tx, fork, limits) {
                                Ok(out) => interrupted = out.status == ExitStatus::Halt(HaltReason::Interrupted),
                                Err(e) => interrupted = e == TxError::Interrupted,
                            }
                        }
                    }
                    case::touch_coinbase(&mut state, block.coinbase, fork);
                    Some((state, interrupted))
                });
                let secs = case_start.elapsed().as_secs_f64();
                let Ok(Some((state, interrupted))) = run else {
                    return tally.lock().unwrap().add("not run (bad vector or crash)", Some(id));
                };
                if interrupted {
                    return tally.lock().unwrap().add("not compared (interrupted by the deadline)", Some(id));
                }
                let root_ok = state_root(&state) == entry.hash.0;
                let diff = diff_post(&expected, &state);
                let mut t = tally.lock().unwrap();
                if secs > 5.0 {
                    t.add("slow cases (> 5 s, debug build)", Some(format!("{id}: {secs:.1} s")));
                }
                if !diff.notes.is_empty() {
                    t.add("filler moved contracts (compared at the test's addresses)", None);
                }
                match (root_ok, diff.is_empty()) {
                    (true, true) => t.add("root matches, diff empty (agree)", None),
                    (true, false) if !diff.notes.is_empty() => t.add(
                        "root matches, diff not empty: accounts created by contracts the filler moved",
                        Some(format!("{id}\n{diff}")),
                    ),
                    (true, false) => {
                        if let Ok(dump) = std::env::var("FILLER_SCALE_DUMP") {
                            use std::io::Write as _;
                            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dump).unwrap();
                            writeln!(f, "## {id}\n{}\n{diff}", expected.notes.join("\n")).unwrap();
                        }
                        t.add("root matches, diff NOT empty (false alarm)", Some(format!("{id}\n{diff}")))
                    }
                    (false, false) => t.add("root differs, diff explains", Some(format!("{id}\n{diff}"))),
                    (false, true) => t.add("root differs, diff empty (filler does not check it)", Some(id)),
                }
            });
        }
        done();
    });
    let t = tally.into_inner().unwrap();
    t.print(&format!("diff_post against executed cases, every {stride}th case ({:.0?})", start.elapsed()));
    assert_eq!(
        t.counts.get("root matches, diff NOT empty (false alarm)"),
        None,
        "expectations contradict passing cases"
    );
}
