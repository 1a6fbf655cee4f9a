//! End-to-end tests of `--trace` (EIP-3155 lines), `--case` and `--json`
//! (go-ethereum `evm statetest`-style result lines) on the fixtures.
//!
//! Reports and the baseline live in a temporary directory, as in `cli.rs`.

use serde_json::Value;

use crate::common;
use common::{fixtures, run};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every line parsed as a JSON object; panics naming the first line that is not one.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v.is_object(), "not an object: {l}");
            v
        })
        .collect()
}

fn is_hex(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with("0x") && s.len() > 2 && s[2..].chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks the EIP-3155 shape of a whole trace: steps, then one summary line.
fn check_trace(lines: &[Value]) {
    assert!(lines.len() >= 2, "steps and a summary expected, got {lines:?}");
    let (summary, steps) = lines.split_last().unwrap();
    for s in steps {
        for key in ["pc", "op", "memSize", "depth", "refund"] {
            assert!(s[key].is_u64(), "{key} is not a number in {s}");
        }
        assert!(is_hex(&s["gas"]) && is_hex(&s["gasCost"]), "gas and gasCost are hex strings: {s}");
        assert!(s["stack"].as_array().is_some_and(|st| st.iter().all(is_hex)), "stack of hex strings: {s}");
        assert!(s["opName"].is_string(), "{s}");
        assert!(s["depth"].as_u64().unwrap() >= 1, "depth is 1-based: {s}");
    }
    assert_eq!(steps[0]["pc"], 0);
    assert_eq!(steps[0]["depth"], 1);
    assert!(is_hex(&summary["output"]) || summary["output"] == "0x", "{summary}");
    assert!(is_hex(&summary["gasUsed"]), "{summary}");
    assert!(summary.get("pc").is_none(), "the last line is the summary: {summary}");
}

#[test]
fn trace_of_one_case_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixtures().join("stExample/add11.json");
    let trace = dir.path().join("trace.jsonl");
    let out = run(
        dir.path(),
        &["state", file.to_str().unwrap(), "--fork", "Cancun", "--trace", "--trace-out", trace.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = json_lines(&std::fs::read_to_string(&trace).unwrap());
    check_trace(&lines);
    // add11: PUSH1 1 PUSH1 1 ADD PUSH1 0 SSTORE STOP.
    let ops: Vec<&str> = lines.iter().filter_map(|l| l["opName"].as_str()).collect();
    assert_eq!(ops, ["PUSH1", "PUSH1", "ADD", "PUSH1", "SSTORE", "STOP"]);
    assert_eq!(lines[2]["stack"], serde_json::json!(["0x1", "0x1"]));
    assert_eq!(lines[2]["gasCost"], "0x3");
    let summary = lines.last().unwrap();
    assert_eq!(summary["pass"], true);
    assert_eq!(summary["fork"], "Cancun");
    assert!(summary.get("error").is_none(), "{summary}");
    // The verdict still reaches the usual summary and the report.
    assert!(text(&out.stderr).contains("1 cases, 1 passed"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no --json: stdout stays empty");
}

#[test]
fn trace_on_stderr_keeps_stderr_json_and_prints_the_verdict_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let id = "stExample/add11.json::add11::Shanghai::d0:g0:v0";
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--case", id, "--trace"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    check_trace(&json_lines(&text(&out.stderr)));
    let results = json_lines(&text(&out.stdout));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], id);
    assert_eq!(results[0]["pass"], true);
    assert_eq!(results[0]["fork"], "Shanghai");
}

#[test]
fn trace_of_several_cases_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixtures().join("stExample/add11.json");
    let out = run(dir.path(), &["state", file.to_str().unwrap(), "--trace"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("exactly one case") && err.contains("has 5"), "{err}");
    assert!(err.contains("add11.json::add11::Berlin::d0:g0:v0") && err.contains("--case"), "ids and a hint: {err}");
    assert!(!dir.path().join("reports/state.json").exists(), "nothing ran");

    let out = run(dir.path(), &["state", file.to_str().unwrap(), "--trace", "--filter", "nothing-matches"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has 0"), "{}", text(&out.stderr));
}

#[test]
fn json_result_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--json"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    let results = json_lines(&text(&out.stdout));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("reports/state.json")).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(results.len(), cases.len(), "one line per case");
    for (r, c) in results.iter().zip(cases) {
        assert!(r["name"].is_string() && r["pass"].is_boolean() && r["fork"].is_string(), "{r}");
        assert!(is_hex(&r["stateRoot"]), "{r}");
        assert_eq!(r["id"], c["id"]);
        assert_eq!(r["pass"], c["verdict"] == "pass");
        assert_eq!(r["stateRoot"], c["actual_root"]);
        assert_eq!(r.get("error").is_some(), c["verdict"] != "pass", "error only on failure: {r}");
    }
    let add11 = results.iter().find(|r| r["id"] == "stExample/add11.json::add11::Cancun::d0:g0:v0").unwrap();
    assert_eq!((&add11["name"], &add11["fork"], &add11["pass"]), (&"add11".into(), &"Cancun".into(), &true.into()));
    // Progress and the summary stay on stderr.
    assert!(text(&out.stderr).contains("cases,"), "{}", text(&out.stderr));
}

#[test]
fn case_selects_one_case() {
    let dir = tempfile::tempdir().unwrap();
    let id = "stExample/add11.json::add11::London::d0:g0:v0";
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--case", id, "--json", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let results = json_lines(&text(&out.stdout));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], id);
}
