//! Verdicts, per-suite reports and the console summary, shared by every suite.
//!
//! `reports/<suite>.json` is read by other tools; its field names are a
//! contract:
//!
//! ```text
//! {"suite":"state","total":N,"passed":N,"failed":N,"skipped":N,"crashed":N,"wrong_exception":N,
//!  "expected_failures":N,"unexpected_failures":N,"stale_baseline":[ids],"wall_time_s":F,
//!  "by_fork":{"Cancun":{"total":N,"passed":N,"failed":N,"skipped":N,"crashed":N,"wrong_exception":N},...},
//!  "cases":[{"id":"path::test::fork::dD:gG:vV","fork":"Cancun",
//!            "verdict":"pass|fail|skip|crash|wrong_exception",
//!            "gas_used":N|null,"error":"..."|null,"expected_failure":bool,
//!            "expected_root":"0x.."|null,"actual_root":"0x.."|null,
//!            "expected_logs":"0x.."|null,"actual_logs":"0x.."|null,"duration_ms":F}, ...]}
//! ```
//!
//! A shard's report (`--shard K/N`) also holds
//! `"shard":{"index":K,"count":N,"whole_default_vectors":bool}` (the last: the suite ran on its
//! whole default vectors, so `conformance merge` checks the merged count against the minimums).
//!
//! Cases are sorted by id, one per line. A file that could not be parsed is
//! one failed case whose id is the file's path and whose `fork` is null; it
//! counts in the totals but in no `by_fork` entry.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use ee_api::Fork;
use serde::{Deserialize, Serialize};

pub mod compare;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;

/// Console tables list at most this many forks or groups; past it they list test folders.
const MAX_TABLE_ROWS: usize = 40;

/// The outcome of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// Not run (e.g. a fork this build does not know).
    Skip,
    /// The code under test panicked.
    Crash,
    /// The transaction was rejected, as expected, but for another reason than the vector's
    /// `expectException` names. Counted apart from `fail` (not included in `failed`).
    #[serde(rename = "wrong_exception")]
    WrongException,
}

impl Verdict {
    /// Fail, crash and wrong exception: what a baseline can list as expected.
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Crash | Verdict::WrongException)
    }

    /// The verdict as reports write it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Crash => "crash",
            Verdict::WrongException => "wrong_exception",
        }
    }
}

/// One case's result as it appears in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: String,
    /// The fork name as the vector writes it; null for file-level errors.
    pub fork: Option<String>,
    pub verdict: Verdict,
    pub gas_used: Option<u64>,
    pub error: Option<String>,
    /// Listed in the baseline (set after the run).
    pub expected_failure: bool,
    pub expected_root: Option<String>,
    pub actual_root: Option<String>,
    pub expected_logs: Option<String>,
    pub actual_logs: Option<String>,
    /// For a failing case: the post-state compared with the filler's `expect`
    /// section, account by account and slot by slot (or why it could not be).
    pub diff: Option<String>,
    pub duration_ms: f64,
}

impl CaseRecord {
    /// A record with only the identity and the verdict filled in.
    pub fn new(id: String, fork: Option<String>, verdict: Verdict, error: Option<String>) -> CaseRecord {
        CaseRecord {
            id,
            fork,
            verdict,
            gas_used: None,
            error,
            expected_failure: false,
            expected_root: None,
            actual_root: None,
            expected_logs: None,
            actual_logs: None,
            diff: None,
            duration_ms: 0.0,
        }
    }
}

/// Verdict counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub crashed: usize,
    /// Rejected for another reason than the expected one; not part of `failed`.
    #[serde(default)]
    pub wrong_exception: usize,
}

impl Counts {
    pub fn add(&mut self, v: Verdict) {
        self.total += 1;
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Skip => self.skipped += 1,
            Verdict::Crash => self.crashed += 1,
            Verdict::WrongException => self.wrong_exception += 1,
        }
    }
}

/// Everything a suite run produced, plus the baseline comparison.
#[derive(Debug, Default)]
pub struct SuiteReport {
    pub suite: String,
    /// Sorted by id (see [`SuiteReport::finish`]).
    pub cases: Vec<CaseRecord>,
    pub wall_time: Duration,
    /// Failing cases the baseline lists as expected.
    pub expected_failures: usize,
    /// Indexes into `cases` of failures the baseline does not list.
    pub unexpected: Vec<usize>,
    /// Baseline ids of cases that ran this time and passed.
    pub stale_baseline: Vec<String>,
    /// What `CaseRecord::fork` groups cases by: "fork" (state tests) or "group" (others).
    pub group_label: &'static str,
    /// Set when the run was one shard of several (`--shard`).
    pub shard: Option<ShardInfo>,
}

/// Which shard a report is of, as its JSON records it for `conformance merge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    /// The suite ran on its whole default vectors (no PATHS, --filter, --fork or --case), so the
    /// merged count is comparable with the committed minimums.
    pub whole_default_vectors: bool,
}

#[derive(Serialize)]
struct Header<'a> {
    suite: &'a str,
    #[serde(flatten)]
    counts: Counts,
    expected_failures: usize,
    unexpected_failures: usize,
    stale_baseline: &'a [String],
    wall_time_s: f64,
    /// Per fork for the state suite, per group (spec version, test set) for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_fork: Option<BTreeMap<String, Counts>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_group: Option<BTreeMap<String, Counts>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardInfo>,
}

impl SuiteReport {
    pub fn new(suite: &str, mut cases: Vec<CaseRecord>, wall_time: Duration) -> SuiteReport {
        // On the worker pool: 100,000 ids with long shared prefixes take ~60 ms to sort on one core.
        rayon::slice::ParallelSliceMut::par_sort_unstable_by(&mut cases[..], |a, b| a.id.cmp(&b.id));
        SuiteReport { suite: suite.to_string(), cases, wall_time, group_label: "fork", ..SuiteReport::default() }
    }

    /// Names what the per-group counts are groups of (`fork` unless set).
    pub fn with_group_label(mut self, label: &'static str) -> SuiteReport {
        self.group_label = label;
        self
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for case in &self.cases {
            c.add(case.verdict);
        }
        c
    }

    pub fn by_fork(&self) -> BTreeMap<String, Counts> {
        let mut m: BTreeMap<String, Counts> = BTreeMap::new();
        for case in &self.cases {
            if let Some(f) = &case.fork {
                m.entry(f.clone()).or_default().add(case.verdict);
            }
        }
        m
    }

    /// What the per-group counts (`by_fork`) are groups of, for tables' headings.
    pub fn group_label(&self) -> &'static str {
        if self.group_label.is_empty() {
            "fork"
        } else {
            self.group_label
        }
    }

    /// Counts per test folder: the directory part of the case id's file
    /// (`stExample`, `Cancun/stEIP1153-transientStorage`), `.` for files at the top.
    pub fn by_folder(&self) -> BTreeMap<String, Counts> {
        let mut m: BTreeMap<String, Counts> = BTreeMap::new();
        for case in &self.cases {
            m.entry(folder_of(&case.id).to_string()).or_default().add(case.verdict);
        }
        m
    }

    /// Where [`SuiteReport::write`] puts the report: `<dir>/<suite>.json`.
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.json", self.suite))
    }

    /// Writes `<dir>/<suite>.json` through a temporary file and a rename, so
    /// a reader never sees half a report.
    pub fn write(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let path = self.path_in(dir);
        write_atomically(&path, |w| {
            let header = Header {
                suite: &self.suite,
                counts: self.counts(),
                expected_failures: self.expected_failures,
                unexpected_failures: self.unexpected.len(),
                stale_baseline: &self.stale_baseline,
                wall_time_s: self.wall_time.as_secs_f64(),
                by_fork: (self.group_label() == "fork").then(|| self.by_fork()),
                by_group: (self.group_label() != "fork").then(|| self.by_fork()),
                shard: self.shard,
            };
            // The header object without its closing brace, then the cases one per line.
            let header = serde_json::to_string(&header)?;
            w.write_all(&header.as_bytes()[..header.len() - 1])?;
            w.write_all(b",\"cases\":[\n")?;
            for (i, case) in self.cases.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut *w, case)?;
            }
            w.write_all(b"\n]}\n")?;
            Ok(())
        })?;
        Ok(path)
    }

    /// The console summary: a table per fork, totals, then what needs attention.
    /// The console table's rows: per fork or group, in order, with the time spent in their
    /// cases (threads overlap them); `None` names cases without one (file errors). Past
    /// [`MAX_TABLE_ROWS`] groups the rows are test folders instead (the `true`).
    fn table_groups(&self) -> (Vec<(Option<String>, Counts, f64)>, bool) {
        let rolled_up = self.by_fork().len() > MAX_TABLE_ROWS;
        let mut rows: BTreeMap<(usize, Option<String>), (Counts, f64)> = BTreeMap::new();
        for case in &self.cases {
            let key = match &case.fork {
                Some(_) if rolled_up => Some(folder_of(&case.id).to_string()),
                other => other.clone(),
            };
            // Known forks in activation order, then the rest by name, then the cases without a group.
            let order = key.as_deref().map_or(usize::MAX, |k| fork_order(k).0.min(usize::MAX - 1));
            let entry = rows.entry((order, key)).or_default();
            entry.0.add(case.verdict);
            entry.1 += case.duration_ms / 1000.0;
        }
        (rows.into_iter().map(|((_, k), (c, secs))| (k, c, secs)).collect(), rolled_up)
    }

    pub fn print_summary(&self, report_path: &Path, quiet: bool) {
        let counts = self.counts();
        if !quiet {
            let (groups, rolled_up) = self.table_groups();
            eprintln!();
            eprintln!(
                "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
                self.suite, "total", "passed", "failed", "skipped", "crashed", "wrong exc", "time (s)"
            );
            let row =
                |name: &str, c: &Counts, secs: f64| eprintln!("{}", table_row(name, 20, c, &format!("{secs:.1}")));
            for (name, c, secs) in &groups {
                row(name.as_deref().unwrap_or("(file errors)"), c, *secs);
            }
            row("total (wall)", &counts, self.wall_time.as_secs_f64());
            if rolled_up {
                eprintln!(
                    "(rows are folders: {} {}s are too many to list; per-{} counts are in {})",
                    self.by_fork().len(),
                    self.group_label(),
                    self.group_label(),
                    report_path.display()
                );
            }
        }
        eprintln!(
            "{}: {} cases, {} passed, {} failed, {} skipped, {} crashed, {} wrong exception in {:.1} s; \
             {} expected failures, {} unexpected",
            self.suite,
            counts.total,
            paint(&counts.passed.to_string(), "32"),
            bad_count(counts.failed),
            counts.skipped,
            bad_count(counts.crashed),
            bad_count(counts.wrong_exception),
            self.wall_time.as_secs_f64(),
            self.expected_failures,
            bad_count(self.unexpected.len())
        );
        const SHOWN: usize = 30;
        if !self.unexpected.is_empty() {
            eprintln!("\nunexpected failures:");
            for (shown, &i) in self.unexpected.iter().take(SHOWN).enumerate() {
                let c = &self.cases[i];
                eprintln!("  {} {}: {}", verdict_word(c.verdict), c.id, c.error.as_deref().unwrap_or("(no message)"));
                for line in c.mismatch_lines().lines() {
                    eprintln!("      {line}");
                }
                // The first few failures get their filler diff; the report has every one.
                const DIFFS: usize = 5;
                const DIFF_LINES: usize = 40;
                if let Some(diff) = c.diff.as_deref().filter(|_| shown < DIFFS) {
                    for line in diff.lines().take(DIFF_LINES) {
                        eprintln!("      | {line}");
                    }
                    if diff.lines().count() > DIFF_LINES {
                        eprintln!("      | ... (full diff in {})", report_path.display());
                    }
                }
            }
            if self.unexpected.len() > SHOWN {
                eprintln!("  ... and {} more, see {}", self.unexpected.len() - SHOWN, report_path.display());
            }
        }
        if !self.stale_baseline.is_empty() {
            eprintln!("\nbaseline entries that now pass (tighten the baseline, e.g. with --update-baseline):");
            for id in self.stale_baseline.iter().take(SHOWN) {
                eprintln!("  {id}");
            }
            if self.stale_baseline.len() > SHOWN {
                eprintln!("  ... and {} more, see {}", self.stale_baseline.len() - SHOWN, report_path.display());
            }
        }
        eprintln!("report: {}", report_path.display());
    }
}

/// The run's one table when several suites ran: a row per suite and fork (or group), then
/// the suite's total with its wall time.
pub fn print_run_table(reports: &[&SuiteReport]) {
    eprintln!();
    eprintln!(
        "{:<32} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "all suites", "total", "passed", "failed", "skipped", "crashed", "wrong exc", "wall (s)"
    );
    let row = |name: &str, c: &Counts, wall: Option<f64>| {
        let wall = wall.map_or_else(String::new, |w| format!("{w:.1}"));
        eprintln!("{}", table_row(name, 32, c, &wall));
    };
    for r in reports {
        for (name, c, _) in r.table_groups().0 {
            row(&format!("{} / {}", r.suite, name.as_deref().unwrap_or("(file errors)")), &c, None);
        }
        row(&format!("{} (total)", r.suite), &r.counts(), Some(r.wall_time.as_secs_f64()));
    }
}

/// One console table row: the name in `name_width` columns, the counts (failures in red),
/// then `time` right-aligned.
fn table_row(name: &str, name_width: usize, c: &Counts, time: &str) -> String {
    format!(
        "{name:<name_width$} {:>8} {:>8} {} {:>8} {} {} {time:>9}",
        c.total,
        c.passed,
        bad_cell(c.failed, 8),
        c.skipped,
        bad_cell(c.crashed, 8),
        bad_cell(c.wrong_exception, 9)
    )
}

impl CaseRecord {
    /// `state root expected X, got Y` and `logs hash expected X, got Y` lines for what differs.
    pub fn mismatch_lines(&self) -> String {
        let mut out = String::new();
        for (what, expected, actual) in [
            ("state root", &self.expected_root, &self.actual_root),
            ("logs hash ", &self.expected_logs, &self.actual_logs),
        ] {
            if let (Some(e), Some(a)) = (expected, actual) {
                if e != a {
                    out.push_str(&format!("{what} expected {e}, got {a}\n"));
                }
            }
        }
        out
    }
}

/// Sort key for fork (or group) names: activation order for known forks,
/// then the rest by name.
pub fn fork_order(name: &str) -> (usize, String) {
    (Fork::from_name(name).map_or(usize::MAX, |f| f as usize), name.to_string())
}

/// Writes the run's cross-suite reports beside the `<suite>.json` files:
/// `junit.xml`, `summary.md` and `index.html`, each atomically.
/// junit.xml (one element per case) is written on its own thread beside the other two.
pub fn write_run_reports(dir: &Path, reports: &[&SuiteReport]) -> anyhow::Result<()> {
    let (junit, rest) = rayon::join(
        || write_atomically(&dir.join("junit.xml"), |w| Ok(junit::write(w, reports)?)),
        || {
            write_atomically(&dir.join("summary.md"), |w| Ok(w.write_all(markdown::render(reports).as_bytes())?))?;
            write_atomically(&dir.join("index.html"), |w| Ok(w.write_all(html::render(reports).as_bytes())?))
        },
    );
    junit.and(rest)
}

/// The directory part of a case id's file: everything before the last `/`
/// of the part before `::`; `.` when the file has no directory.
pub fn folder_of(id: &str) -> &str {
    let file = id.split("::").next().unwrap_or(id);
    file.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

/// Writes `path` through a temporary file in the same directory and a rename,
/// so a reader (or a later run that fails half-way) never leaves half a file
/// in place of a good one. Creates the directory.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating report directory {}", dir.display()))?;
    let name = path.file_name().map_or_else(|| "report".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let write = || -> anyhow::Result<()> {
        let mut w = BufWriter::new(fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(e.context(format!("writing {}", tmp.display())));
    }
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Whether console output is coloured: set once by `main` (a terminal, and `NO_COLOR` unset).
static COLOR: AtomicBool = AtomicBool::new(false);

pub fn set_color(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

/// `text` in the ANSI colour `code` (e.g. "31" red) when colour is on.
fn paint(text: &str, code: &str) -> String {
    if COLOR.load(Ordering::Relaxed) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A count, red when it is a non-zero count of failures.
fn bad_count(n: usize) -> String {
    bad_cell(n, 0)
}

/// [`bad_count`] right-aligned in `width` columns (padded before painting, so tables stay aligned).
fn bad_cell(n: usize, width: usize) -> String {
    let text = format!("{n:>width$}");
    if n > 0 {
        paint(&text, "1;31")
    } else {
        text
    }
}

fn verdict_word(v: Verdict) -> String {
    match v {
        Verdict::Pass => paint("PASS", "32"),
        Verdict::Fail => paint("FAIL", "1;31"),
        Verdict::Skip => paint("SKIP", "33"),
        Verdict::Crash => paint("CRASH", "1;35"),
        Verdict::WrongException => paint("WRONG EXCEPTION", "1;31"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_file_is_json_with_the_contract_fields() {
        let dir = tempfile::tempdir().unwrap();
        let mut a =
            CaseRecord::new("b::t::Cancun::d0:g0:v0".into(), Some("Cancun".into()), Verdict::Fail, Some("x".into()));
        a.gas_used = Some(21000);
        let b = CaseRecord::new("a::t::Berlin::d0:g0:v0".into(), Some("Berlin".into()), Verdict::Pass, None);
        let c = CaseRecord::new("broken.json".into(), None, Verdict::Fail, Some("parse".into()));
        let report = SuiteReport::new("state", vec![a, b, c], Duration::from_millis(1500));
        let path = report.write(dir.path()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(v["suite"], "state");
        assert_eq!(v["total"], 3);
        assert_eq!(v["passed"], 1);
        assert_eq!(v["failed"], 2);
        assert_eq!(v["by_fork"]["Cancun"]["failed"], 1);
        assert_eq!(v["by_fork"]["Berlin"]["passed"], 1);
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases[0]["id"], "a::t::Berlin::d0:g0:v0", "sorted by id");
        assert_eq!(cases[1]["gas_used"], 21000);
        assert_eq!(cases[1]["verdict"], "fail");
        for key in [
            "id",
            "fork",
            "verdict",
            "gas_used",
            "error",
            "expected_failure",
            "expected_root",
            "actual_root",
            "expected_logs",
            "actual_logs",
            "duration_ms",
        ] {
            assert!(cases[0].get(key).is_some(), "missing {key}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, "good").unwrap();
        let err = write_atomically(&path, |w| {
            w.write_all(b"half a rep")?;
            anyhow::bail!("disk full")
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "good");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is removed");
    }

    #[test]
    fn folders_of_case_ids() {
        assert_eq!(folder_of("stExample/add11.json::add11::Cancun::d0:g0:v0"), "stExample");
        assert_eq!(folder_of("Cancun/stEIP1153/x.json::x::Cancun::d0:g0:v0"), "Cancun/stEIP1153");
        assert_eq!(folder_of("broken.json"), ".");
    }
}
