//! The state-test suites: `state` (ethereum/tests `GeneralStateTests`) and
//! `eest` (EEST fixtures' `state_tests/`, from a directory or a tarball).
//!
//! Files are processed one at a time per worker (parse, run every case,
//! drop), so memory stays bounded by the files in flight rather than the
//! 100+ MB of vectors; a tarball's members reach the workers through a
//! bounded channel from one reader thread (`archive.rs`). Files and members
//! share the per-file processing. Cases of one test run in parallel against
//! a shared, read-only pre-state.

pub mod case;
pub mod exceptions;
pub mod filler;
pub mod inputs;
pub mod model;
#[cfg(feature = "reference-revm")]
pub(crate) mod reference;
#[cfg(feature = "reference-revm")]
pub mod revm_env;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::schedule;
use crate::suites::RunOptions;
use crate::trace::{JsonTracer, TraceOptions};
use crate::vectors::{self, VectorFile};
use anyhow::Context;

/// The directory name of the state tests inside an ethereum/tests checkout.
pub const VECTORS_DIR: &str = "GeneralStateTests";

/// A vector file's contents, or why they could not be read.
type Bytes = Result<Vec<u8>, String>;

/// Vector files waiting for a worker: files on disk and tarballs (read as they stream).
struct Sources {
    files: Vec<VectorFile>,
    archives: Vec<PathBuf>,
}

impl Sources {
    fn collect(paths: &[PathBuf]) -> anyhow::Result<Sources> {
        let (archives, others): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.iter().cloned().partition(|p| crate::archive::is_archive(p));
        for a in &archives {
            std::fs::metadata(a).with_context(|| format!("vector archive {}", a.display()))?;
        }
        Ok(Sources { files: vectors::collect(&others, VECTORS_DIR)?, archives })
    }

    /// Runs `each` on every vector file's bytes in parallel, files and archive members alike,
    /// and flattens the results. `wanted` rules archive members out by name before they are kept
    /// in memory; `each` also gets the members that could not be read (and an archive that
    /// broke between members, named by the archive's file name) as an `Err`.
    fn map<T: Send>(&self, opts: &RunOptions, each: &(dyn Fn(&Vector, Bytes) -> Vec<T> + Sync)) -> Vec<T> {
        let mut out: Vec<T> = schedule::longest_first(
            &self.files,
            |f| schedule::Expected::file(&opts.durations, &f.rel, &f.path),
            |f| {
                let bytes = match &f.unreachable {
                    Some(why) => Err(why.clone()),
                    None => std::fs::read(&f.path).map_err(|e| format!("cannot read: {e}")),
                };
                each(&Vector::file(f), bytes)
            },
        );
        // A member's id prefix is its name, so --case rules out every other member unread.
        let wanted = |rel: &str| opts.case.as_ref().is_none_or(|id| id.starts_with(&format!("{rel}::")));
        let bound = 2 * rayon::current_num_threads();
        let found = || opts.progress.add_files(1);
        out.extend(crate::archive::for_each_item(&self.archives, bound, &wanted, &found, &|item| {
            let vector = Vector { rel: &item.rel, shown: item.shown.clone(), checkout: None };
            each(&vector, item.bytes)
        }));
        out
    }
}

/// One vector file: the name its case ids start with, where it comes from (a path, or
/// `archive:member`), and the ethereum/tests checkout whose fillers explain its failures.
struct Vector<'a> {
    rel: &'a str,
    shown: String,
    checkout: Option<PathBuf>,
}

impl Vector<'_> {
    fn file(f: &VectorFile) -> Vector<'_> {
        // The checkout that holds this file's `GeneralStateTests/` also holds the fillers in `src/`.
        let checkout = f
            .path
            .ancestors()
            .find(|dir| dir.file_name().is_some_and(|n| n == VECTORS_DIR))
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        Vector { rel: &f.rel, shown: f.path.display().to_string(), checkout }
    }

    /// The vector's tests, or why they cannot be read.
    fn parse(&self, bytes: Result<Vec<u8>, String>) -> Result<model::StateFile, String> {
        serde_json::from_slice(&bytes?).map_err(|e| format!("invalid state test JSON: {e}"))
    }
}

/// Runs the state tests in `paths` (files, directories, EEST tarballs) as the suite `suite`.
pub fn run(suite: &str, paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    if let Some(trace) = &opts.trace {
        return run_traced(suite, paths, opts, trace);
    }
    let start = Instant::now();
    let sources = Sources::collect(paths)?;
    opts.progress.begin(suite, sources.files.len());
    let cases = sources.map(opts, &|vector, bytes| {
        let out = run_vector(vector, bytes, opts);
        opts.progress.file_done();
        out
    });
    opts.progress.finish();
    Ok(SuiteReport::new(suite, cases, start.elapsed()))
}

/// Every selected case of one vector file. A file that cannot be read or parsed is one failed
/// case named by the file (unless the filter rules out its name).
fn run_vector(vector: &Vector, bytes: Result<Vec<u8>, String>, opts: &RunOptions) -> Vec<CaseRecord> {
    let parsed = match vector.parse(bytes) {
        Ok(p) => p,
        Err(error) if opts.selects(vector.rel) && opts.in_shard(vector.rel) => {
            eprintln!("error: {}: {error}", vector.shown);
            return vec![CaseRecord::new(vector.rel.to_string(), None, Verdict::Fail, Some(error))];
        }
        Err(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    for (name, test) in &parsed {
        if !opts.selects(&format!("{}::{name}", vector.rel)) {
            continue;
        }
        let mut specs = case::expand(vector.rel, name, test, &opts.forks);
        specs.retain(|spec| opts.selects_case(&spec.id));
        if opts.forks.is_empty() && !opts.require_all {
            for fork_name in test.post.keys().filter(|f| ee_api::Fork::from_name(f).is_none()) {
                eprintln!("warning: {}::{name}: unknown fork {fork_name:?}, its cases are skipped", vector.rel);
            }
        }
        if specs.is_empty() {
            continue;
        }
        let prepared = case::Prepared::new(test);
        let how = vector.checkout.as_deref().map(|root| case::Explain { ethereum_tests_root: root, test_name: name });
        let records: Vec<CaseRecord> = schedule::longest_first(
            &specs,
            |spec| schedule::Expected {
                secs: opts.durations.case_secs(&spec.id),
                predictor: test
                    .transaction
                    .gas_limit
                    .get(spec.entry.indexes.gas)
                    .and_then(|g| g.to_u64().ok())
                    .unwrap_or(0),
            },
            |spec| {
                let token = opts.progress.case_started(&spec.id);
                let r = case::run(test, &prepared, spec, opts, None, how.as_ref());
                opts.progress.case_finished(token);
                [r]
            },
        );
        out.extend(records);
    }
    out
}

/// Cases a trace can show: the selected cases of a known fork in one vector file
/// (unreadable files and unknown forks have no execution to trace).
fn traceable_cases(vector: &Vector, bytes: Result<Vec<u8>, String>, opts: &RunOptions) -> Vec<String> {
    let Ok(parsed) = vector.parse(bytes) else { return Vec::new() };
    let mut out = Vec::new();
    for (name, test) in &parsed {
        if opts.selects(&format!("{}::{name}", vector.rel)) {
            let specs = case::expand(vector.rel, name, test, &opts.forks);
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
fn run_traced(suite: &str, paths: &[PathBuf], opts: &RunOptions, trace: &TraceOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let sources = Sources::collect(paths)?;
    let found: Vec<(String, String)> = sources.map(opts, &|vector, bytes| {
        traceable_cases(vector, bytes, opts).into_iter().map(|id| (vector.rel.to_string(), id)).collect()
    });
    let ids: Vec<String> = found.iter().map(|(_, id)| id.clone()).collect();
    let [id] = ids.as_slice() else { return Err(trace_selection_error(&ids)) };
    // The case's file, read again (a tarball is streamed a second time, keeping only that member).
    let rel = found[0].0.clone();
    let one = RunOptions { case: Some(id.clone()), ..opts.clone() };
    let mut files: Vec<(String, Result<Vec<u8>, String>)> = sources.map(&one, &|vector, bytes| {
        if vector.rel == rel {
            vec![(vector.shown.clone(), bytes)]
        } else {
            Vec::new()
        }
    });
    let (shown, bytes) = files.pop().context("the traced case's file disappeared")?;
    let vector = Vector { rel: &rel, shown: shown.clone(), checkout: None };
    let parsed = vector.parse(bytes).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let (test, spec) = parsed
        .iter()
        .find_map(|(name, test)| {
            let spec = case::expand(&rel, name, test, &opts.forks).into_iter().find(|s| &s.id == id)?;
            Some((test, spec))
        })
        .context("the traced case is no longer in its file")?;
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
    Ok(SuiteReport::new(suite, vec![record], start.elapsed()))
}
