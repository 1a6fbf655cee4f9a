//! The expected duration of a case: the committed predictor that `--shard` balances shards by
//! and the executor orders work by (longest first).
//!
//! It has to be the same on every machine, so it is a committed file
//! (`reports/durations.json`), not a measurement: the cases of a full run that took at least
//! `threshold_s` seconds, per suite. Every other case is expected to take less, and counts as
//! the same small constant: below the threshold, ordering and balance gain nothing worth a
//! bigger file.
//!
//! ```json
//! {"about": "...", "threshold_s": 0.2,
//!  "slow": {"state": {"stTimeConsuming/x.json::x::Cancun::d0:g0:v0": 12.5, ...}, ...}}
//! ```
//!
//! `conformance durations DIR... --out reports/durations.json` regenerates it from the
//! `<suite>.json` reports of a full run (or of every shard of one).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What [`Durations`] expects of a case it does not list: below any listed one.
pub const UNLISTED_SECS: f64 = 0.0;

/// The committed file's shape.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationsFile {
    #[serde(default)]
    about: String,
    threshold_s: f64,
    /// Suite name → case id → seconds.
    slow: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The committed predictor, indexed for the lookups the executor and the partition make.
#[derive(Debug, Default)]
pub struct Durations {
    /// Suite name → (case id, seconds), ids sorted.
    by_suite: BTreeMap<String, Vec<(String, f64)>>,
    by_case: HashMap<String, f64>,
    /// The listed seconds summed per vector file (a case id up to its first `::`).
    by_file: HashMap<String, f64>,
}

impl Durations {
    /// Reads `path`; a missing file is an empty predictor (every case alike), a malformed one an error.
    pub fn load(path: &Path) -> anyhow::Result<Durations> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Durations::default()),
            Err(e) => return Err(e).with_context(|| format!("reading the case durations {}", path.display())),
        };
        let file: DurationsFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not of the form {{\"threshold_s\":F,\"slow\":{{\"<suite>\":{{\"<id>\":F}}}}}}",
                path.display()
            )
        })?;
        if let Some((suite, id, secs)) = file
            .slow
            .iter()
            .flat_map(|(s, ids)| ids.iter().map(move |(id, secs)| (s, id, *secs)))
            .find(|(_, _, secs)| !(secs.is_finite() && *secs >= 0.0))
        {
            anyhow::bail!("{}: suite {suite}, case {id}: {secs} is not a duration in seconds", path.display());
        }
        Ok(Durations::from_slow(file.slow))
    }

    fn from_slow(slow: BTreeMap<String, BTreeMap<String, f64>>) -> Durations {
        let mut d = Durations::default();
        for (suite, cases) in slow {
            for (id, &secs) in &cases {
                d.by_case.insert(id.clone(), secs);
                *d.by_file.entry(file_of(id).to_string()).or_default() += secs;
            }
            d.by_suite.insert(suite, cases.into_iter().collect());
        }
        d
    }

    /// The expected seconds of one case.
    pub fn case_secs(&self, id: &str) -> f64 {
        self.by_case.get(id).copied().unwrap_or(UNLISTED_SECS)
    }

    /// The expected seconds of the listed cases of one vector file, named as case ids start
    /// (`stExample/add11.json`, `wasm-v1/i32.wast`, `rv32ui-p-add`).
    pub fn file_secs(&self, file: &str) -> f64 {
        self.by_file.get(file).copied().unwrap_or(UNLISTED_SECS)
    }

    /// Every listed case of every suite, suites by name and ids sorted: the partition's input.
    pub fn slow_cases(&self) -> impl Iterator<Item = (&str, &[(String, f64)])> {
        self.by_suite.iter().map(|(suite, cases)| (suite.as_str(), cases.as_slice()))
    }

    #[cfg(test)]
    pub fn for_tests(suite: &str, cases: &[(&str, f64)]) -> Durations {
        let cases = cases.iter().map(|(id, s)| (id.to_string(), *s)).collect();
        Durations::from_slow(BTreeMap::from([(suite.to_string(), cases)]))
    }
}

/// The vector file a case id belongs to: the id up to its first `::`.
pub fn file_of(id: &str) -> &str {
    id.split("::").next().unwrap_or(id)
}

/// `conformance durations`: writes to `out` the cases of the `<suite>.json` reports in `dirs`
/// that took at least `threshold_s` seconds (the longest time when a case is in several).
pub fn regenerate(dirs: &[PathBuf], out: &Path, threshold_s: f64) -> anyhow::Result<usize> {
    #[derive(Deserialize)]
    struct Report {
        suite: String,
        cases: Vec<Case>,
    }
    #[derive(Deserialize)]
    struct Case {
        id: String,
        duration_ms: f64,
    }
    anyhow::ensure!(threshold_s.is_finite() && threshold_s > 0.0, "--min-seconds must be a positive number");
    let mut slow: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut read = 0;
    for dir in dirs {
        anyhow::ensure!(dir.is_dir(), "{} is not a report directory", dir.display());
        for suite in crate::suites::SuiteKind::ALL {
            let path = dir.join(format!("{}.json", suite.name()));
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let report: Report =
                serde_json::from_str(&text).with_context(|| format!("{} is not a suite report", path.display()))?;
            read += 1;
            let listed = slow.entry(report.suite).or_default();
            for case in report.cases.into_iter().filter(|c| c.duration_ms >= threshold_s * 1000.0) {
                // Hundredths of a second: enough to order by, and a stable diff from run to run.
                let secs = (case.duration_ms / 10.0).round() / 100.0;
                let entry = listed.entry(case.id).or_insert(secs);
                *entry = entry.max(secs);
            }
        }
    }
    anyhow::ensure!(read > 0, "no <suite>.json report in {}", display(dirs));
    let count = slow.values().map(BTreeMap::len).sum();
    let file = DurationsFile {
        about: format!(
            "Expected seconds of the cases that took at least {threshold_s} s in a full run (regenerate with \
             `conformance durations <report dirs> --out reports/durations.json`); every other case is expected \
             to take less. --shard balances shards by these, and runs start them first."
        ),
        threshold_s,
        slow,
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    crate::report::write_atomically(out, |w| Ok(std::io::Write::write_all(w, text.as_bytes())?))?;
    Ok(count)
}

fn display(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_case_and_by_file() {
        let d = Durations::for_tests(
            "state",
            &[("a.json::t::Cancun::d0:g0:v0", 2.0), ("a.json::t::Prague::d0:g0:v0", 3.0)],
        );
        assert_eq!(d.case_secs("a.json::t::Cancun::d0:g0:v0"), 2.0);
        assert_eq!(d.case_secs("b.json::t::Cancun::d0:g0:v0"), UNLISTED_SECS);
        assert_eq!(d.file_secs("a.json"), 5.0);
        assert_eq!(d.file_secs("b.json"), UNLISTED_SECS);
    }

    #[test]
    fn regenerated_from_reports_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("r");
        std::fs::create_dir(&reports).unwrap();
        std::fs::write(
            reports.join("state.json"),
            r#"{"suite":"state","cases":[{"id":"slow.json::s::Cancun::d0:g0:v0","duration_ms":1234.5},
                                         {"id":"fast.json::f::Cancun::d0:g0:v0","duration_ms":3.0}]}"#,
        )
        .unwrap();
        let out = dir.path().join("durations.json");
        assert_eq!(regenerate(&[reports], &out, 0.2).unwrap(), 1);
        let d = Durations::load(&out).unwrap();
        assert_eq!(d.case_secs("slow.json::s::Cancun::d0:g0:v0"), 1.23);
        assert_eq!(d.case_secs("fast.json::f::Cancun::d0:g0:v0"), UNLISTED_SECS);
    }

    #[test]
    fn a_missing_file_is_empty_and_a_bad_one_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Durations::load(&dir.path().join("none.json")).unwrap().slow_cases().count(), 0);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"threshold_s":0.2,"slow":{"state":{"x":-1}}}"#).unwrap();
        let e = format!("{:#}", Durations::load(&bad).unwrap_err());
        assert!(e.contains("bad.json") && e.contains("case x"), "{e}");
    }
}
