//! End-to-end tests of the `conformance` binary: options, exit statuses,
//! the report file and the baseline.
//!
//! Every run writes its report and reads its baseline inside a temporary
//! directory, so the repository's `reports/` is never touched. Tests marked
//! "needs the bootloader" only pass once transaction execution, the state
//! root and the logs hash are implemented.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common;
use common::{fixtures, run, BIN};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("reports/state.json")).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

fn cases(report: &Value) -> &Vec<Value> {
    report["cases"].as_array().expect("cases array")
}

/// Case ids of the fixtures, computed independently of the binary.
fn fixture_case_ids(fork: Option<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    for sub in ["stExample", "stTransactionTest"] {
        for entry in std::fs::read_dir(fixtures().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let file = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (test, body) in v.as_object().unwrap() {
                for (f, entries) in body["post"].as_object().unwrap() {
                    if fork.is_some_and(|want| want != f) {
                        continue;
                    }
                    for e in entries.as_array().unwrap() {
                        let i = &e["indexes"];
                        ids.push(format!("{file}::{test}::{f}::d{}:g{}:v{}", i["data"], i["gas"], i["value"]));
                    }
                }
            }
        }
    }
    ids.sort();
    ids
}

#[test]
fn help_explains_the_options() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["state", "--fork", "--filter", "--threads", "--report-dir", "--baseline", "--case-timeout", "Examples"]
    {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    // The cache of fetched vectors: where it is, what is pinned, how to stay offline.
    for word in
        ["--cache-dir", "--offline", "CONFORMANCE_OFFLINE=1", "XDG_CACHE_HOME", "v13.3", "v5.4.0", "1.0.post218"]
    {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let out = Command::new(BIN).args(["state", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("PATHS"));
}

#[test]
fn malformed_files_are_failed_cases_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    std::fs::write(vectors.join("broken.json"), "{\n  \"t\": { not json").unwrap();
    std::fs::write(vectors.join("shape.json"), "{\"t\": {\"env\": 5, \"pre\": {}, \"transaction\": {}, \"post\": {}}}")
        .unwrap();
    std::fs::copy(fixtures().join("stExample/add11.json"), vectors.join("add11.json")).unwrap();

    let out = run(dir.path(), &["state", vectors.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&vectors.join("broken.json").display().to_string()), "{err}");
    assert!(err.contains(&vectors.join("shape.json").display().to_string()), "{err}");

    let r = report(dir.path());
    let by_id = |id: &str| cases(&r).iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no {id}"));
    let broken = by_id("broken.json");
    assert_eq!(broken["verdict"], "fail");
    assert!(broken["fork"].is_null());
    assert!(broken["error"].as_str().unwrap().contains("line 2"), "serde position kept: {broken}");
    assert_eq!(by_id("shape.json")["verdict"], "fail");
    assert_eq!(r["total"], 2 + 5, "the good file still ran");
    assert_eq!(r["by_fork"]["Cancun"]["total"], 1);
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_one_file_error_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    std::os::unix::fs::symlink(dir.path().join("moved-away.json"), vectors.join("gone.json")).unwrap();
    std::fs::copy(fixtures().join("stExample/add11.json"), vectors.join("add11.json")).unwrap();

    let out = run(dir.path(), &["state", vectors.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "a failed file, not a setup error: {}", stderr(&out));
    let r = report(dir.path());
    let gone = cases(&r).iter().find(|c| c["id"] == "gone.json").expect("the link is a case");
    assert_eq!(gone["verdict"], "fail");
    let error = gone["error"].as_str().unwrap();
    assert!(error.contains("dangling symbolic link") && error.contains("moved-away.json"), "{error}");
    assert_eq!(r["total"], 1 + 5, "add11.json still ran");
    assert_eq!(r["passed"], 5);
}

#[test]
fn unknown_fork_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--fork", "Atlantis"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("Atlantis") && err.contains("Cancun") && err.contains("Frontier"), "{err}");
}

#[test]
fn invalid_filter_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--filter", "add(11"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("regex"), "{}", stderr(&out));
}

#[test]
fn missing_vectors_are_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", dir.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nowhere"), "{}", stderr(&out));

    // The defaults: only checkable when the submodule is not checked out here.
    let submodule = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/GeneralStateTests");
    let checked_out = std::fs::read_dir(&submodule).map(|mut d| d.next().is_some()).unwrap_or(false);
    if !checked_out {
        // `state` runs both state-test suites; with neither's vectors, both are named.
        let out = run(dir.path(), &["state"]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.contains("state: ") && err.contains("ETHEREUM_TESTS_DIR"), "{err}");
        assert!(err.contains("eest: ") && err.contains("EEST_FIXTURES"), "{err}");
        // No subcommand: every suite whose vectors exist runs, the others are named in a warning.
        let out = run(dir.path(), &["--ee", "evm"]);
        let err = stderr(&out);
        assert!(err.contains("warning: suite skipped, state:") && err.contains("ETHEREUM_TESTS_DIR"), "{err}");
        assert!(err.contains("warning: suite skipped, eest:") && err.contains("EEST_FIXTURES"), "{err}");
        // The cross vectors are committed: those always run.
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(!dir.path().join("reports/state.json").exists());
        assert!(dir.path().join("reports/cross.json").exists());
    }
}

/// A green gate means every suite ran: with --require-all (or CI=true) a suite without its
/// vectors is a setup error naming it and how to get them, before anything runs.
#[test]
fn require_all_fails_when_a_suite_is_missing() {
    let submodule = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/GeneralStateTests");
    if std::fs::read_dir(&submodule).map(|mut d| d.next().is_some()).unwrap_or(false) {
        eprintln!("the ethereum-tests submodule is checked out: the state suite cannot be missing here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("nonexistent");
    let check = |out: &Output| {
        let err = stderr(out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("--require-all") && err.contains("state: "), "names the missing suite: {err}");
        assert!(err.contains(&nowhere.join("GeneralStateTests").display().to_string()), "{err}");
        assert!(err.contains("eest: ") && err.contains("EEST_FIXTURES is not set"), "{err}");
        assert!(!dir.path().join("reports/cross.json").exists(), "nothing ran");
    };
    let env = [("ETHEREUM_TESTS_DIR", nowhere.as_path())];
    check(&common::run_with_env(dir.path(), &["--ee", "evm", "--require-all"], &env));
    // CI=true turns it on.
    let ci = Command::new(BIN)
        .args(["--ee", "evm", "--report-dir"])
        .arg(dir.path().join("reports"))
        .env("ETHEREUM_TESTS_DIR", &nowhere)
        .env_remove("EEST_FIXTURES")
        .env("CONFORMANCE_OFFLINE", "1")
        .env("CONFORMANCE_CACHE_DIR", dir.path().join("cache"))
        .env("CI", "true")
        .output()
        .unwrap();
    check(&ci);
    // Without it, the same run passes on what it has (the committed cross vectors) and warns.
    let out = common::run_with_env(dir.path(), &["--ee", "evm"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn fixture_run_report_counts_match_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--quiet"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let r = report(dir.path());
    let expected = fixture_case_ids(None);
    let ids: Vec<String> = cases(&r).iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, expected, "one case per post entry, sorted by id");
    assert_eq!(r["suite"], "state");
    assert_eq!(r["total"], expected.len());
    let sum: u64 = ["passed", "failed", "skipped", "crashed"].iter().map(|k| r[k].as_u64().unwrap()).sum();
    assert_eq!(sum, expected.len() as u64);
    let fork_total: u64 = r["by_fork"].as_object().unwrap().values().map(|c| c["total"].as_u64().unwrap()).sum();
    assert_eq!(fork_total, expected.len() as u64);
    assert_eq!(r["by_fork"]["Frontier"]["total"], 1, "ValueOverflow only reaches Frontier");
    for c in cases(&r) {
        assert!(["pass", "fail", "skip", "crash"].contains(&c["verdict"].as_str().unwrap()));
        assert!(c["expected_root"].as_str().unwrap().starts_with("0x"));
        assert!(c["duration_ms"].is_number());
    }
}

#[test]
fn filter_and_fork_select_cases() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixtures();
    run(dir.path(), &["state", fx.to_str().unwrap(), "--quiet", "--filter", "::add11$"]);
    let r = report(dir.path());
    assert_eq!(r["total"], 5);
    assert!(cases(&r).iter().all(|c| c["id"].as_str().unwrap().starts_with("stExample/add11.json::add11::")));

    run(dir.path(), &["state", fx.to_str().unwrap(), "--quiet", "--fork", "Cancun"]);
    let r = report(dir.path());
    let ids: Vec<&str> = cases(&r).iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, fixture_case_ids(Some("Cancun")));

    // Fork aliases select the vectors' spelling.
    run(dir.path(), &["state", fx.to_str().unwrap(), "--quiet", "--fork", "Petersburg"]);
    let r = report(dir.path());
    assert_eq!(r["total"], 1);
    assert_eq!(cases(&r)[0]["fork"], "ConstantinopleFix");
}

#[test]
fn baselined_file_error_is_expected_and_update_baseline_records_failures() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    std::fs::write(vectors.join("broken.json"), "[").unwrap();
    let v = vectors.to_str().unwrap();

    std::fs::write(
        dir.path().join("baseline.json"),
        r#"{"entries":[{"suite":"state","id":"broken.json","reason":"kept on purpose"},
                       {"suite":"state","id":"elsewhere.json::t::Cancun::d0:g0:v0","reason":"not run here"}]}"#,
    )
    .unwrap();
    let out = run(dir.path(), &["state", v, "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    assert_eq!(cases(&r)[0]["expected_failure"], true);

    std::fs::write(dir.path().join("baseline.json"), r#"{"entries":[]}"#).unwrap();
    assert_eq!(run(dir.path(), &["state", v, "--quiet"]).status.code(), Some(1));
    let out = run(dir.path(), &["state", v, "--quiet", "--update-baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let b: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap()).unwrap();
    let entries = b["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["suite"], "state");
    assert_eq!(entries[0]["id"], "broken.json");
    assert!(entries[0]["reason"].as_str().unwrap().contains("invalid state test JSON"));
    assert_eq!(run(dir.path(), &["state", v, "--quiet"]).status.code(), Some(0));
}

#[test]
fn malformed_baseline_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("baseline.json"), r#"{"suite":"state","cases":[]}"#).unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("baseline"), "{}", stderr(&out));
}

/// Needs the bootloader: every fixture case passes.
#[test]
fn fixtures_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--quiet"]);
    let r = report(dir.path());
    let failures: Vec<String> = cases(&r)
        .iter()
        .filter(|c| c["verdict"] != "pass")
        .map(|c| format!("{} {}: {}", c["verdict"], c["id"], c["error"]))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let overflow = cases(&r).iter().find(|c| c["id"].as_str().unwrap().contains("ValueOverflow")).unwrap();
    assert!(overflow["gas_used"].is_null(), "the unencodable transaction was rejected, not included");
}

/// Needs the bootloader: a baseline entry for a passing case is stale and fails the run.
#[test]
fn stale_baseline_entry_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let id = "stExample/add11.json::add11::Cancun::d0:g0:v0";
    std::fs::write(
        dir.path().join("baseline.json"),
        format!(r#"{{"entries":[{{"suite":"state","id":"{id}","reason":"used to fail"}}]}}"#),
    )
    .unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--filter", "add11"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(id));
    let r = report(dir.path());
    assert_eq!(r["stale_baseline"][0], id);
}
