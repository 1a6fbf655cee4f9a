//! The `state` suite: ethereum/tests `GeneralStateTests`.
//!
//! Files are processed one at a time per worker (parse, run every case,
//! drop), so memory stays bounded by the files in flight rather than the
//! 100+ MB of vectors. Cases of one test run in parallel against a shared,
//! read-only pre-state.

pub mod case;
pub mod filler;
pub mod model;
#[cfg(feature = "reference-revm")]
pub(crate) mod reference;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;

use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;
use crate::trace::{JsonTracer, TraceOptions};
use crate::vectors::{self, VectorFile};

/// The directory name of the state tests inside an ethereum/tests checkout.
pub const VECTORS_DIR: &str = "GeneralStateTests";

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    if let Some(trace) = &opts.trace {
        return run_traced(paths, opts, trace);
    }
    let start = Instant::now();
    let files = vectors::collect(paths, VECTORS_DIR)?;
    opts.progress.begin("state", files.len());
    let cases: Vec<CaseRecord> = files.par_iter().flat_map_iter(|f| run_file(f, opts)).collect();
    opts.progress.finish();
    Ok(SuiteReport::new("state", cases, start.elapsed()))
}

/// A file that cannot be read or parsed: one failed case named by its path.
fn file_failure(file: &VectorFile, error: String) -> Vec<CaseRecord> {
    eprintln!("error: {}: {error}", file.path.display());
    vec![CaseRecord::new(file.rel.clone(), None, Verdict::Fail, Some(error))]
}

fn run_file(file: &VectorFile, opts: &RunOptions) -> Vec<CaseRecord> {
    let out = run_file_inner(file, opts);
    opts.progress.file_done();
    out
}

fn run_file_inner(file: &VectorFile, opts: &RunOptions) -> Vec<CaseRecord> {
    // A broken file is reported unless the filter rules out its path.
    let report_broken = opts.selects(&file.rel);
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) if report_broken => return file_failure(file, format!("cannot read: {e}")),
        Err(_) => return Vec::new(),
    };
    let parsed: model::StateFile = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) if report_broken => return file_failure(file, format!("invalid state test JSON: {e}")),
        Err(_) => return Vec::new(),
    };
    drop(bytes);
    // The checkout that holds this file's `GeneralStateTests/` also holds the fillers in `src/`.
    let explain = file
        .path
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == VECTORS_DIR))
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let mut out = Vec::new();
    for (name, test) in &parsed {
        if !opts.selects(&format!("{}::{name}", file.rel)) {
            continue;
        }
        let mut specs = case::expand(&file.rel, name, test, &opts.forks);
        specs.retain(|spec| opts.selects_case(&spec.id));
        if opts.forks.is_empty() {
            for fork_name in test.post.keys().filter(|f| ee_api::Fork::from_name(f).is_none()) {
                eprintln!("warning: {}::{name}: unknown fork {fork_name:?}, its cases are skipped", file.rel);
            }
        }
        if specs.is_empty() {
            continue;
        }
        let prepared = case::Prepared::new(test);
        let how = explain.as_deref().map(|root| case::Explain { ethereum_tests_root: root, test_name: name });
        let records: Vec<CaseRecord> = specs
            .par_iter()
            .map(|spec| {
                let token = opts.progress.case_started(&spec.id);
                let r = case::run(test, &prepared, spec, opts, None, how.as_ref());
                opts.progress.case_finished(token);
                r
            })
            .collect();
        out.extend(records);
    }
    out
}

/// Cases a trace can show: the selected cases of a known fork in `file`
/// (unreadable files and unknown forks have no execution to trace).
fn traceable_cases(file: &VectorFile, opts: &RunOptions) -> Vec<String> {
    let Ok(bytes) = std::fs::read(&file.path) else { return Vec::new() };
    let Ok(parsed) = serde_json::from_slice::<model::StateFile>(&bytes) else { return Vec::new() };
    let mut out = Vec::new();
    for (name, test) in &parsed {
        if opts.selects(&format!("{}::{name}", file.rel)) {
            let specs = case::expand(&file.rel, name, test, &opts.forks);
            out.extend(specs.into_iter().filter(|s| s.fork.is_some() && opts.selects_case(&s.id)).map(|s| s.id));
        }
    }
    out
}

/// The usage error of a `--trace` selection that is not exactly one case.
fn trace_selection_error(ids: &[String]) -> anyhow::Error {
    const SHOWN: usize = 10;
    let mut msg = format!("--trace needs exactly one case, but the selection has {}", ids.len());
    if ids.is_empty() {
        msg += " (check PATHS, --filter, --fork and --case)";
    } else {
        msg += ":";
        for id in ids.iter().take(SHOWN) {
            msg += &format!("\n  {id}");
        }
        if ids.len() > SHOWN {
            msg += &format!("\n  ... and {} more", ids.len() - SHOWN);
        }
    }
    msg += "\nhint: pick one with --case '<id>' (ids as listed), or narrow with --filter '<file>::<test>$' and --fork <NAME>";
    anyhow::anyhow!(msg)
}

/// `--trace`: finds the one selected case, runs it with an EIP-3155 tracer
/// writing to `trace.out` (standard error by default) and reports it like any run.
fn run_traced(paths: &[PathBuf], opts: &RunOptions, trace: &TraceOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let files = vectors::collect(paths, VECTORS_DIR)?;
    let found: Vec<(usize, Vec<String>)> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| (i, traceable_cases(f, opts)))
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    let ids: Vec<String> = found.iter().flat_map(|(_, ids)| ids.iter().cloned()).collect();
    let [id] = ids.as_slice() else { return Err(trace_selection_error(&ids)) };
    let file = &files[found[0].0];

    let bytes = std::fs::read(&file.path).with_context(|| format!("reading {}", file.path.display()))?;
    let parsed: model::StateFile =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", file.path.display()))?;
    let (test, spec) = parsed
        .iter()
        .find_map(|(name, test)| {
            let spec = case::expand(&file.rel, name, test, &opts.forks).into_iter().find(|s| &s.id == id)?;
            Some((test, spec))
        })
        .expect("the case was found in this file");
    let out: Box<dyn Write + Send> = match &trace.out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("creating trace file {}", path.display()))?)
        }
        None => Box::new(std::io::stderr()),
    };
    let prepared = case::Prepared::new(test);
    // Same stack as the worker pool's threads (deep EE call stacks in debug builds).
    let record = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().stack_size(64 << 20).spawn_scoped(scope, || {
            let mut tracer = JsonTracer::new(BufWriter::with_capacity(1 << 16, out));
            let record = case::run(test, &prepared, &spec, opts, Some(&mut tracer), None);
            tracer.finish(&record).map(|_| record)
        });
        worker.context("starting the trace thread")?.join().map_err(|_| anyhow::anyhow!("the trace thread panicked"))
    })?
    .context("writing the trace")?;
    Ok(SuiteReport::new("state", vec![record], start.elapsed()))
}
