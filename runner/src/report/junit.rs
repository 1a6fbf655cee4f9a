//! `reports/junit.xml`: every case of the run as a JUnit test case, so CI
//! systems list the failures with their messages.
//!
//! One `<testsuite>` per suite; a case's `classname` is `suite.file::test`
//! and its `name` the rest of the id (fork and indexes). The counts follow
//! `<suite>.json`: `failures` = failed + wrong-exception cases (a known failure
//! from the baseline says so in its message; a wrong exception is a
//! `<failure type="wrong_exception">`, and `wrong_exception="N"` counts them
//! apart), `errors` = crashed, `skipped` = skipped.

use std::io::Write;

use super::{CaseRecord, SuiteReport, Verdict};

/// Writes the JUnit document for `reports` to `out`.
pub fn write(out: &mut impl Write, reports: &[&SuiteReport]) -> std::io::Result<()> {
    let mut total = super::Counts::default();
    let mut time = 0.0;
    for r in reports {
        let c = r.counts();
        total.total += c.total;
        total.failed += c.failed;
        total.crashed += c.crashed;
        total.wrong_exception += c.wrong_exception;
        total.skipped += c.skipped;
        time += r.wall_time.as_secs_f64();
    }
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="conformance" tests="{}" failures="{}" errors="{}" skipped="{}" wrong_exception="{}" time="{time:.3}">"#,
        total.total,
        total.failed + total.wrong_exception,
        total.crashed,
        total.skipped,
        total.wrong_exception
    )?;
    for r in reports {
        let c = r.counts();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" wrong_exception="{}" time="{:.3}">"#,
            escape(&r.suite),
            c.total,
            c.failed + c.wrong_exception,
            c.crashed,
            c.skipped,
            c.wrong_exception,
            r.wall_time.as_secs_f64()
        )?;
        for case in &r.cases {
            write_case(out, &r.suite, case)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_case(out: &mut impl Write, suite: &str, case: &CaseRecord) -> std::io::Result<()> {
    // `file::test` as the class, the fork and indexes as the name; a file-level error has only a path.
    // A state-test id (`file::test::fork::dD:gG:vV`; an EEST test name holds `::` itself) splits
    // before its fork; shorter ids (wasm `group::Lline::directive`) after their second part.
    let seps = case.id.matches("::").count();
    let split = if seps >= 3 { case.id.rmatch_indices("::").nth(1) } else { case.id.match_indices("::").nth(1) };
    let (class, name) = match split {
        Some((i, _)) => (&case.id[..i], &case.id[i + 2..]),
        None => (case.id.as_str(), case.id.as_str()),
    };
    write!(
        out,
        r#"    <testcase classname="{}.{}" name="{}" time="{:.3}""#,
        escape(suite),
        escape(class),
        escape(name),
        case.duration_ms / 1000.0
    )?;
    let message = || {
        let mut m = case.error.clone().unwrap_or_else(|| "(no message)".to_string());
        if case.expected_failure {
            m.push_str(" [known failure, listed in the baseline]");
        }
        m
    };
    match case.verdict {
        Verdict::Pass => writeln!(out, "/>"),
        Verdict::Skip => {
            let reason = case.error.as_deref().unwrap_or("skipped");
            writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", escape(reason))
        }
        Verdict::Fail | Verdict::Crash | Verdict::WrongException => {
            let tag = if case.verdict == Verdict::Crash { "error" } else { "failure" };
            let kind = case.verdict.word();
            let mut body = case.mismatch_lines();
            if let Some(diff) = &case.diff {
                body.push_str(diff);
            }
            writeln!(
                out,
                ">\n      <{tag} message=\"{}\" type=\"{kind}\">{}</{tag}>\n    </testcase>",
                escape(&message()),
                escape(&body)
            )
        }
    }
}

/// Text for XML content and attribute values: the five special characters
/// escaped, and characters XML 1.0 cannot carry (most control characters)
/// replaced by U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\nz"), "x\u{fffd}y\nz");
    }

    #[test]
    fn cases_become_testcases_with_failures_and_skips() {
        let mut fail = CaseRecord::new(
            "st/a.json::a::Cancun::d0:g0:v0".into(),
            Some("Cancun".into()),
            Verdict::Fail,
            Some("state root mismatch <x>".into()),
        );
        fail.diff = Some("- slot 0x01: 0x02\n+ slot 0x01: 0x03".into());
        let pass = CaseRecord::new("st/a.json::a::Berlin::d0:g0:v0".into(), Some("Berlin".into()), Verdict::Pass, None);
        let skip = CaseRecord::new(
            "st/a.json::a::Prague::d0:g0:v0".into(),
            Some("Prague".into()),
            Verdict::Skip,
            Some("unknown fork".into()),
        );
        let crash = CaseRecord::new("broken.json".into(), None, Verdict::Crash, Some("panic".into()));
        let report = SuiteReport::new("state", vec![fail, pass, skip, crash], Duration::from_secs(2));
        let mut out = Vec::new();
        write(&mut out, &[&report]).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(xml.contains(r#"<testsuite name="state" tests="4" failures="1" errors="1" skipped="1""#), "{xml}");
        assert!(xml.contains(r#"classname="state.st/a.json::a" name="Cancun::d0:g0:v0""#));
        assert!(xml.contains(r#"<failure message="state root mismatch &lt;x&gt;" type="fail">"#));
        assert!(xml.contains("+ slot 0x01: 0x03</failure>"));
        assert!(xml.contains(r#"<skipped message="unknown fork"/>"#));
        assert!(xml.contains(r#"classname="state.broken.json" name="broken.json""#));
        assert!(xml.contains(r#"<error message="panic" type="crash">"#));
    }
}
