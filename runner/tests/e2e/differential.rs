//! End-to-end: `conformance differential eravm` runs a small seeded campaign, writes its
//! report, and replays vectors.

use std::process::Command;

use serde_json::Value;

use crate::common;
use common::BIN;

#[test]
fn a_small_campaign_agrees_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let (out, stderr) = common::differential(&["eravm", "--seed", "5", "--count", "300"], &reports);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("300 programs") && stderr.contains("0 divergences"), "{stderr}");
    assert!(stderr.contains("differential-eravm: "), "progress lines: {stderr}");
    let report: Value = common::differential_report(&reports, "eravm");
    assert_eq!(report["ee"], "eravm");
    assert_eq!(report["seed"], 5);
    assert_eq!(report["total"], 300);
    assert_eq!(report["divergences"], Value::Array(vec![]));
    assert!(report["instructions"].as_u64().unwrap() > 10_000, "{report}");
    assert!(!report["known_vm2_divergences"].as_array().unwrap().is_empty());
    // The same seed gives the same programs: the same figures.
    let again = Command::new(BIN)
        .args(["differential", "eravm", "--seed", "5", "--count", "300", "--quiet", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    assert!(again.status.success());
    let second: Value = common::differential_report(&reports, "eravm");
    assert_eq!(second["instructions"], report["instructions"]);
    assert_eq!(second["endings"], report["endings"]);
}

#[test]
fn replay_runs_saved_vectors() {
    let regressions =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../oracles/eravm-differential/regressions");
    let out = Command::new(BIN).args(["differential", "eravm", "--replay"]).arg(&regressions).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("agrees") && stderr.contains("0 diverge"), "{stderr}");
    // vm2's own divergences (known-vm2/): they still diverge, exit 1, each named.
    let known = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../oracles/eravm-differential/known-vm2");
    let out = Command::new(BIN).args(["differential", "eravm", "--replay"]).arg(&known).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("vm2 panicked") && stderr.contains("transient storage differs"), "{stderr}");
    assert!(stderr.contains("2 diverge") && !stderr.contains("stack backtrace"), "{stderr}");
    // A vector that is not one: a setup error.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let out = Command::new(BIN).args(["differential", "eravm", "--replay"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_says_what_is_compared() {
    let out = Command::new(BIN).args(["differential", "eravm", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["zksync_vm2 0.5.0", "--seed", "--count", "--replay", "differential-eravm.json", "callm", "Exit status"]
    {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}
