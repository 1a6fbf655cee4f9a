//! End-to-end tests of `--reference` (cargo feature `reference-revm`): a case compared with revm.
//!
//! Reports and the baseline live in a temporary directory, as in `cli.rs`.

use crate::common;
use common::{fixtures, run};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Paris without `currentRandom`: our PREVRANDAO falls back to the difficulty, revm reads zero,
/// so the two runs store different values. The expected root is a dummy: the case fails.
#[cfg(feature = "reference-revm")]
const NO_RANDOM: &str = include_str!("../fixtures/reference/noRandom.json");

#[cfg(feature = "reference-revm")]
#[test]
fn one_passing_case_is_compared_and_revm_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let id = "stExample/add11.json::add11::Cancun::d0:g0:v0";
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--case", id, "--reference"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("{id}:\nrevm agrees (revm 43, spec CANCUN): included, success")), "{stderr}");
    assert!(stderr.contains("trace (6 steps)"), "{stderr}");
    assert!(stderr.contains("1 cases, 1 passed"), "the verdict is unchanged: {stderr}");
}

#[cfg(feature = "reference-revm")]
#[test]
fn a_failing_case_carries_revms_differences_in_its_diff() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("stExample");
    std::fs::create_dir_all(&vectors).unwrap();
    std::fs::write(vectors.join("noRandom.json"), NO_RANDOM).unwrap();
    let out = run(dir.path(), &["state", vectors.to_str().unwrap(), "--reference", "--quiet"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the case fails: {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("reports/state.json")).unwrap()).unwrap();
    let diff = report["cases"][0]["diff"].as_str().unwrap_or_else(|| panic!("no diff: {report}"));
    for expected in [
        "revm differs (revm 43, spec MERGE):",
        "gas used: ours 43105, revm 23205",
        "account 0x095e7baea6a6c7c4c2dfeb977efac326af552d87 slot 0x0: ours 0x20000, revm 0x0",
        "trace: first divergence at step 1",
        "step 1 ours: depth 1 pc 1 PUSH1 gas 378998 stack(1) top [0x20000]",
        "step 1 revm: depth 1 pc 1 PUSH1 gas 378998 stack(1) top [0x0]",
    ] {
        assert!(diff.contains(expected), "{expected:?} missing from:\n{diff}");
    }
    assert!(stderr.contains("| revm differs"), "the console shows it too: {stderr}");
}

#[cfg(not(feature = "reference-revm"))]
#[test]
fn reference_needs_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["state", fixtures().to_str().unwrap(), "--reference"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--reference"), "{}", text(&out.stderr));
}
