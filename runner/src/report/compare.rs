//! `--compare OLD.json`: which cases changed verdict between an earlier
//! `<suite>.json` and this run, regressions first.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::{SuiteReport, Verdict};

/// The parts of a `<suite>.json` the comparison needs.
#[derive(Deserialize)]
pub struct OldReport {
    pub suite: String,
    cases: Vec<OldCase>,
}

#[derive(Deserialize)]
struct OldCase {
    id: String,
    verdict: Verdict,
}

impl OldReport {
    /// Reads a report written by an earlier run (any version with `suite` and `cases[].{id,verdict}`).
    pub fn load(path: &Path) -> anyhow::Result<OldReport> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading --compare file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!("{} is not a conformance report (<suite>.json with `suite` and `cases`)", path.display())
        })
    }
}

/// Verdict changes, grouped by how they matter.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Passed before, fails or crashes now.
    pub regressions: Vec<(String, Verdict, Verdict)>,
    /// Failed or crashed before, passes now.
    pub fixes: Vec<(String, Verdict, Verdict)>,
    /// Any other change (e.g. skipped before, or fail to crash).
    pub other: Vec<(String, Verdict, Verdict)>,
    /// Cases only in this run, with their verdict.
    pub added: Vec<(String, Verdict)>,
    /// Cases only in the old report.
    pub removed: Vec<(String, Verdict)>,
}

/// Compares the old report with this run's report of the same suite.
pub fn changes(old: &OldReport, new: &SuiteReport) -> Changes {
    let before: BTreeMap<&str, Verdict> = old.cases.iter().map(|c| (c.id.as_str(), c.verdict)).collect();
    let mut out = Changes::default();
    for case in &new.cases {
        match before.get(case.id.as_str()) {
            None => out.added.push((case.id.clone(), case.verdict)),
            Some(&was) if was == case.verdict => {}
            Some(&was) => {
                let entry = (case.id.clone(), was, case.verdict);
                match (was, case.verdict) {
                    (Verdict::Pass, now) if now.is_failure() => out.regressions.push(entry),
                    (was, Verdict::Pass) if was.is_failure() => out.fixes.push(entry),
                    _ => out.other.push(entry),
                }
            }
        }
    }
    let now: std::collections::HashSet<&str> = new.cases.iter().map(|c| c.id.as_str()).collect();
    out.removed =
        old.cases.iter().filter(|c| !now.contains(c.id.as_str())).map(|c| (c.id.clone(), c.verdict)).collect();
    out
}

/// The comparison as text: counts, then regressions, fixes, other changes,
/// and failing additions, each list capped.
pub fn render(old_path: &Path, c: &Changes) -> String {
    const SHOWN: usize = 50;
    let word = |v: Verdict| v.word();
    // Rejections for the wrong reason are counted apart, wherever they come from.
    let now_wrong = c.regressions.iter().chain(&c.other).filter(|(_, _, now)| *now == Verdict::WrongException).count()
        + c.added.iter().filter(|(_, v)| *v == Verdict::WrongException).count();
    let mut out = format!(
        "compared with {}: {} regressions, {} fixes, {} other changes, {} added, {} removed; \
         {now_wrong} changed to wrong_exception\n",
        old_path.display(),
        c.regressions.len(),
        c.fixes.len(),
        c.other.len(),
        c.added.len(),
        c.removed.len()
    );
    let mut list = |title: &str, rows: Vec<String>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}:");
        for row in rows.iter().take(SHOWN) {
            let _ = writeln!(out, "  {row}");
        }
        if rows.len() > SHOWN {
            let _ = writeln!(out, "  ... and {} more", rows.len() - SHOWN);
        }
    };
    let changed = |rows: &[(String, Verdict, Verdict)]| -> Vec<String> {
        rows.iter().map(|(id, was, now)| format!("{id}: {} -> {}", word(*was), word(*now))).collect()
    };
    list("regressions (passed before)", changed(&c.regressions));
    list("fixes (failed before)", changed(&c.fixes));
    list("other changes", changed(&c.other));
    let failing_added: Vec<String> =
        c.added.iter().filter(|(_, v)| v.is_failure()).map(|(id, v)| format!("{id}: {}", word(*v))).collect();
    list("new cases that fail", failing_added);
    out
}

#[cfg(test)]
mod tests {
    use super::super::CaseRecord;
    use super::*;
    use std::time::Duration;

    fn rec(id: &str, v: Verdict) -> CaseRecord {
        CaseRecord::new(id.into(), Some("Cancun".into()), v, None)
    }

    #[test]
    fn classifies_changes_regressions_first() {
        let old: OldReport = serde_json::from_str(
            r#"{"suite":"state","total":5,"cases":[
                {"id":"a","verdict":"pass"},{"id":"b","verdict":"fail"},{"id":"c","verdict":"skip"},
                {"id":"d","verdict":"pass"},{"id":"gone","verdict":"pass"}]}"#,
        )
        .unwrap();
        let new = SuiteReport::new(
            "state",
            vec![
                rec("a", Verdict::Crash),
                rec("b", Verdict::Pass),
                rec("c", Verdict::Fail),
                rec("d", Verdict::Pass),
                rec("new", Verdict::Fail),
            ],
            Duration::ZERO,
        );
        let c = changes(&old, &new);
        assert_eq!(c.regressions, vec![("a".to_string(), Verdict::Pass, Verdict::Crash)]);
        assert_eq!(c.fixes, vec![("b".to_string(), Verdict::Fail, Verdict::Pass)]);
        assert_eq!(c.other, vec![("c".to_string(), Verdict::Skip, Verdict::Fail)]);
        assert_eq!(c.added, vec![("new".to_string(), Verdict::Fail)]);
        assert_eq!(c.removed, vec![("gone".to_string(), Verdict::Pass)]);
        let text = render(Path::new("old.json"), &c);
        assert!(text.starts_with(
            "compared with old.json: 1 regressions, 1 fixes, 1 other changes, 1 added, 1 removed; \
             0 changed to wrong_exception"
        ));
        assert!(
            text.find("regressions (passed before):\n  a: pass -> crash").unwrap()
                < text.find("fixes (failed before)").unwrap()
        );
        assert!(text.contains("new cases that fail:\n  new: fail"));
    }
}
