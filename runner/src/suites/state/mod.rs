//! The `state` suite: ethereum/tests `GeneralStateTests`.
//!
//! Files are processed one at a time per worker (parse, run every case,
//! drop), so memory stays bounded by the files in flight rather than the
//! 100+ MB of vectors. Cases of one test run in parallel against a shared,
//! read-only pre-state.

pub mod case;
pub mod model;

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;
use crate::vectors::{self, VectorFile};

/// The directory name of the state tests inside an ethereum/tests checkout.
pub const VECTORS_DIR: &str = "GeneralStateTests";

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
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
    let mut out = Vec::new();
    for (name, test) in &parsed {
        if !opts.selects(&format!("{}::{name}", file.rel)) {
            continue;
        }
        let specs = case::expand(&file.rel, name, test, &opts.forks);
        if opts.forks.is_empty() {
            for fork_name in test.post.keys().filter(|f| ee_api::Fork::from_name(f).is_none()) {
                eprintln!("warning: {}::{name}: unknown fork {fork_name:?}, its cases are skipped", file.rel);
            }
        }
        if specs.is_empty() {
            continue;
        }
        let prepared = case::Prepared::new(test);
        let records: Vec<CaseRecord> = specs
            .par_iter()
            .map(|spec| {
                let token = opts.progress.case_started(&spec.id);
                let r = case::run(test, &prepared, spec, opts);
                opts.progress.case_finished(token);
                r
            })
            .collect();
        out.extend(records);
    }
    out
}
