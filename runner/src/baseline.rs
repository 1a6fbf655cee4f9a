//! The baseline: known failures that do not fail the run.
//!
//! `reports/baseline.json` is committed. One file serves every suite:
//!
//! ```json
//! {"entries": [
//!   {"suite": "state", "id": "stExample/add11.json::add11::Cancun::d0:g0:v0", "reason": "why it fails"}
//! ]}
//! ```
//!
//! A failing or crashing case listed there is an expected failure. A listed
//! case that ran and passed is *stale*: it fails the run until the entry is
//! removed, so the baseline only ever shrinks by intent. Entries for cases
//! that did not run in this invocation (filters, other suites) are ignored.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::report::SuiteReport;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub entries: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub suite: String,
    pub id: String,
    #[serde(default)]
    pub reason: String,
}

/// What `--update-baseline` changed for one suite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateStats {
    pub added: usize,
    pub removed: usize,
}

impl Baseline {
    /// Reads the baseline; a missing file is an empty baseline.
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "baseline {} is not of the form {{\"entries\":[{{\"suite\":..,\"id\":..,\"reason\":..}}]}}",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baseline::default()),
            Err(e) => Err(e).with_context(|| format!("reading baseline {}", path.display())),
        }
    }

    /// Writes the baseline sorted by suite and id (stable diffs), via a rename.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut sorted = self.clone();
        sorted.entries.sort_by(|a, b| (&a.suite, &a.id).cmp(&(&b.suite, &b.id)));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(&sorted)?;
        text.push('\n');
        fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    }

    fn reasons(&self, suite: &str) -> HashMap<&str, &str> {
        self.entries.iter().filter(|e| e.suite == suite).map(|e| (e.id.as_str(), e.reason.as_str())).collect()
    }

    /// Marks expected failures in `report` and collects the unexpected
    /// failures and the stale entries.
    pub fn apply(&self, report: &mut SuiteReport) {
        let listed = self.reasons(&report.suite);
        report.expected_failures = 0;
        report.unexpected.clear();
        report.stale_baseline.clear();
        for (i, case) in report.cases.iter_mut().enumerate() {
            let in_baseline = listed.contains_key(case.id.as_str());
            case.expected_failure = in_baseline && case.verdict.is_failure();
            if case.verdict.is_failure() {
                if in_baseline {
                    report.expected_failures += 1;
                } else {
                    report.unexpected.push(i);
                }
            } else if in_baseline && case.verdict == crate::report::Verdict::Pass {
                report.stale_baseline.push(case.id.clone());
            }
        }
    }

    /// Rewrites this suite's entries from the report: every failure of this
    /// run is listed (keeping an existing reason, else the failure message),
    /// and entries of cases that ran and did not fail are dropped. Entries of
    /// cases that did not run are kept.
    pub fn update_from(&mut self, report: &SuiteReport) -> UpdateStats {
        let ran: HashSet<&str> = report.cases.iter().map(|c| c.id.as_str()).collect();
        let old: HashMap<String, String> =
            self.entries.iter().filter(|e| e.suite == report.suite).map(|e| (e.id.clone(), e.reason.clone())).collect();
        let before = old.len();
        let mut kept: Vec<BaselineEntry> =
            self.entries.drain(..).filter(|e| e.suite != report.suite || !ran.contains(e.id.as_str())).collect();
        let mut added = 0;
        for case in report.cases.iter().filter(|c| c.verdict.is_failure()) {
            let reason = match old.get(&case.id) {
                Some(r) => r.clone(),
                None => {
                    added += 1;
                    case.error.clone().unwrap_or_else(|| format!("{:?}", case.verdict).to_lowercase())
                }
            };
            kept.push(BaselineEntry { suite: report.suite.clone(), id: case.id.clone(), reason });
        }
        self.entries = kept;
        let after = self.entries.iter().filter(|e| e.suite == report.suite).count();
        UpdateStats { added, removed: (before + added).saturating_sub(after) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaseRecord, Verdict};
    use std::time::Duration;

    fn case(id: &str, v: Verdict) -> CaseRecord {
        CaseRecord::new(id.into(), Some("Cancun".into()), v, v.is_failure().then(|| format!("{id} broke")))
    }

    fn entry(suite: &str, id: &str) -> BaselineEntry {
        BaselineEntry { suite: suite.into(), id: id.into(), reason: "known".into() }
    }

    fn sample() -> (Baseline, SuiteReport) {
        let baseline = Baseline {
            entries: vec![
                entry("state", "a"),      // fails: expected
                entry("state", "b"),      // passes: stale
                entry("state", "gone"),   // not run: ignored
                entry("wasm", "c"),       // other suite: ignored
                entry("state", "crashy"), // crashes: expected
            ],
        };
        let report = SuiteReport::new(
            "state",
            vec![
                case("a", Verdict::Fail),
                case("b", Verdict::Pass),
                case("c", Verdict::Fail),
                case("crashy", Verdict::Crash),
                case("s", Verdict::Skip),
            ],
            Duration::ZERO,
        );
        (baseline, report)
    }

    #[test]
    fn matching_expected_unexpected_and_stale() {
        let (baseline, mut report) = sample();
        baseline.apply(&mut report);
        assert_eq!(report.expected_failures, 2);
        let unexpected: Vec<&str> = report.unexpected.iter().map(|&i| report.cases[i].id.as_str()).collect();
        assert_eq!(unexpected, ["c"], "a wasm entry does not cover a state case");
        assert_eq!(report.stale_baseline, ["b"]);
        let flagged: Vec<&str> = report.cases.iter().filter(|c| c.expected_failure).map(|c| c.id.as_str()).collect();
        assert_eq!(flagged, ["a", "crashy"]);
    }

    #[test]
    fn update_keeps_reasons_adds_failures_drops_passes_and_keeps_unrun() {
        let (mut baseline, mut report) = sample();
        let stats = baseline.update_from(&report);
        assert_eq!(stats, UpdateStats { added: 1, removed: 1 });
        let mut ids: Vec<(&str, &str, &str)> =
            baseline.entries.iter().map(|e| (e.suite.as_str(), e.id.as_str(), e.reason.as_str())).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                ("state", "a", "known"),
                ("state", "c", "c broke"),
                ("state", "crashy", "known"),
                ("state", "gone", "known"),
                ("wasm", "c", "known")
            ]
        );
        baseline.apply(&mut report);
        assert!(report.unexpected.is_empty() && report.stale_baseline.is_empty());
    }

    #[test]
    fn load_save_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        assert_eq!(Baseline::load(&path).unwrap(), Baseline::default());
        let (baseline, _) = sample();
        baseline.save(&path).unwrap();
        let loaded = Baseline::load(&path).unwrap();
        assert_eq!(loaded.entries.len(), 5);
        assert_eq!(loaded.entries[0].suite, "state", "sorted by suite then id");
        fs::write(&path, r#"{"suite":"state","cases":[]}"#).unwrap();
        assert!(Baseline::load(&path).is_err(), "the other shape is rejected, not read as empty");
    }
}
