//! End-to-end: `conformance differential evm` runs a small seeded campaign against revm, writes
//! its report, and replays saved vectors (which `conformance state` also runs as vectors).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common;
use common::BIN;

fn report(dir: &Path) -> Value {
    common::differential_report(dir, "evm")
}

#[test]
fn a_small_campaign_agrees_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let (out, stderr) = common::differential(&["evm", "--seed", "5", "--count", "400"], &reports);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("400 cases") && stderr.contains("0 divergences"), "{stderr}");
    assert!(stderr.contains("differential-evm: "), "progress lines: {stderr}");
    let r = report(&reports);
    assert_eq!(r["ee"], "evm");
    assert_eq!(r["seed"], 5);
    assert_eq!(r["total"], 400);
    assert_eq!(r["divergences"], Value::Array(vec![]));
    // Every fork and transaction type is exercised, and both rejected and included cases.
    assert_eq!(r["forks"].as_object().unwrap().len(), 7, "{}", r["forks"]);
    assert_eq!(r["tx_types"].as_object().unwrap().len(), 5, "{}", r["tx_types"]);
    let outcomes = r["outcomes"].as_object().unwrap();
    for kind in ["rejected", "success", "revert", "halt"] {
        assert!(outcomes.get(kind).and_then(Value::as_u64).unwrap_or(0) > 0, "{kind}: {}", r["outcomes"]);
    }
    let counted: u64 = outcomes.values().map(|v| v.as_u64().unwrap()).sum();
    let allowed = r["allowed"].as_array().unwrap();
    assert_eq!(counted, 400, "agreeing and allowed cases are counted");
    assert_eq!(r["agreed"].as_u64().unwrap() + allowed.len() as u64, 400);
    assert!(allowed.iter().all(|a| a["rule"] == "eip7610-revm" && a["reason"].as_str().unwrap().contains("EIP-7610")));
    assert!(r["instructions"].as_u64().unwrap() > 10_000, "{r}");
    // The same seed gives the same cases: the same figures.
    let again = Command::new(BIN)
        .args(["differential", "evm", "--seed", "5", "--count", "400", "--quiet", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    assert!(again.status.success());
    let second = report(&reports);
    for key in ["instructions", "forks", "tx_types", "outcomes", "allowed"] {
        assert_eq!(second[key], r[key], "{key}");
    }
}

#[test]
fn replay_runs_saved_vectors() {
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oracles/evm-differential/regressions");
    let out = Command::new(BIN).args(["differential", "evm", "--replay"]).arg(&regressions).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("agrees") && stderr.contains(" 0 diverge"), "{stderr}");
    // The same vectors as state tests: their post entries hold revm's root, ours matches it.
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["state", regressions.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A vector that is not one: a setup error.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1]").unwrap();
    let out = Command::new(BIN).args(["differential", "evm", "--replay"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn replay_reports_a_real_difference() {
    // A Paris vector without currentRandom: our PREVRANDAO falls back to the difficulty, revm
    // reads zero, so the stored slot differs. Replay says so and exits 1.
    let vector = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference/noRandom.json");
    let out = Command::new(BIN).args(["differential", "evm", "--replay"]).arg(&vector).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("post-state") && stderr.contains("1 diverge"), "{stderr}");
}

#[test]
fn help_says_what_is_compared() {
    let out = Command::new(BIN).args(["differential", "evm", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["revm 43", "--seed", "--count", "--replay", "differential-evm.json", "EIP-7610", "Exit status"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}
