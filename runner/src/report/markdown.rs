//! `reports/summary.md`: the run for people reading a CI page or a pull
//! request: a table per suite and per fork (or group), the slowest cases,
//! and the failures with their diffs.

use std::fmt::Write as _;

use super::{fork_order, Counts, SuiteReport, Verdict};

/// Cases listed in the slowest-cases table.
const SLOWEST: usize = 10;
/// Failures listed with their details; the rest are counted.
const FAILURES: usize = 50;
/// Lines of one failure's diff.
const DIFF_LINES: usize = 60;

/// The Markdown summary of `reports`.
pub fn render(reports: &[&SuiteReport]) -> String {
    let mut md = String::from("# Conformance summary\n\n");
    md.push_str(
        "| suite | total | passed | failed | skipped | crashed | wrong exception | pass rate | expected failures | wall time |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in reports {
        let c = r.counts();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            cell(&r.suite),
            c.total,
            c.passed,
            c.failed,
            c.skipped,
            c.crashed,
            c.wrong_exception,
            pass_rate(&c),
            r.expected_failures,
            r.wall_time.as_secs_f64()
        );
    }
    for r in reports {
        let _ = writeln!(md, "\n## {}\n", cell(&r.suite));
        let _ = writeln!(
            md,
            "| {} | total | passed | failed | skipped | crashed | wrong exception | pass rate |",
            r.group_label()
        );
        md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        let mut groups: Vec<(String, Counts)> = r.by_fork().into_iter().collect();
        groups.sort_by_key(|(name, _)| fork_order(name));
        for (name, c) in &groups {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(name),
                c.total,
                c.passed,
                c.failed,
                c.skipped,
                c.crashed,
                c.wrong_exception,
                pass_rate(c)
            );
        }

        let mut slow: Vec<_> = r.cases.iter().filter(|c| c.verdict != Verdict::Skip).collect();
        slow.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
        if !slow.is_empty() {
            let _ = writeln!(md, "\n### Slowest cases\n\n| case | time |\n|---|---:|");
            for c in slow.iter().take(SLOWEST) {
                let _ = writeln!(md, "| `{}` | {:.0} ms |", cell(&c.id), c.duration_ms);
            }
        }

        let failures: Vec<_> = r.cases.iter().filter(|c| c.verdict.is_failure()).collect();
        if failures.is_empty() {
            md.push_str("\nNo failures.\n");
            continue;
        }
        let _ = writeln!(md, "\n### Failures ({})\n", failures.len());
        for c in failures.iter().take(FAILURES) {
            let known = if c.expected_failure { " (known, in the baseline)" } else { "" };
            let _ = writeln!(md, "#### `{}`{known}\n", cell(&c.id));
            let _ = writeln!(md, "{}: {}\n", verdict_text(c.verdict), c.error.as_deref().unwrap_or("(no message)"));
            let mut details = c.mismatch_lines();
            if let Some(diff) = &c.diff {
                for line in diff.lines().take(DIFF_LINES) {
                    let _ = writeln!(details, "{line}");
                }
                if diff.lines().count() > DIFF_LINES {
                    let _ = writeln!(details, "... (the whole diff is in {}.json)", r.suite);
                }
            }
            if !details.is_empty() {
                // A fence longer than any run of backticks inside keeps the block closed.
                let fence = "`".repeat(3.max(longest_backtick_run(&details) + 1));
                let _ = writeln!(md, "{fence}diff\n{details}{fence}\n");
            }
        }
        if failures.len() > FAILURES {
            let _ = writeln!(md, "... and {} more in {}.json\n", failures.len() - FAILURES, r.suite);
        }
    }
    md
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Crash => "crashed",
        Verdict::WrongException => "wrong exception",
        _ => "failed",
    }
}

/// Passed out of run (skipped cases excluded), with one decimal.
pub(super) fn pass_rate(c: &Counts) -> String {
    let run = c.total - c.skipped;
    if run == 0 {
        "n/a".to_string()
    } else {
        format!("{:.1} %", 100.0 * c.passed as f64 / run as f64)
    }
}

/// Text safe inside a table cell: pipes escaped, line breaks as spaces.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::CaseRecord;
    use super::*;
    use std::time::Duration;

    #[test]
    fn tables_slowest_and_failures() {
        let mut fail = CaseRecord::new(
            "st/a.json::a::Cancun::d0:g0:v0".into(),
            Some("Cancun".into()),
            Verdict::Fail,
            Some("state root mismatch".into()),
        );
        fail.diff = Some("account 0x01\n- slot 0x00: 0x01\n+ slot 0x00: 0x02".into());
        fail.duration_ms = 12.0;
        let mut pass =
            CaseRecord::new("st/a.json::a::Berlin::d0:g0:v0".into(), Some("Berlin".into()), Verdict::Pass, None);
        pass.duration_ms = 30.0;
        let report = SuiteReport::new("state", vec![fail, pass], Duration::from_secs(3));
        let md = render(&[&report]);
        assert!(md.contains("| state | 2 | 1 | 1 | 0 | 0 | 0 | 50.0 % | 0 | 3.0 s |"), "{md}");
        let berlin = md.find("| Berlin |").unwrap();
        assert!(berlin < md.find("| Cancun |").unwrap(), "forks in activation order");
        assert!(md.find("`st/a.json::a::Berlin::d0:g0:v0` | 30 ms").unwrap() < md.find("| 12 ms").unwrap());
        assert!(md.contains("#### `st/a.json::a::Cancun::d0:g0:v0`"));
        assert!(md.contains("```diff\naccount 0x01\n- slot 0x00: 0x01\n+ slot 0x00: 0x02\n```"));
    }

    #[test]
    fn cells_and_fences_survive_their_content() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(longest_backtick_run("x ```` y ` z"), 4);
    }
}
