//! End-to-end: a deliberately broken vector explains itself. The test builds
//! an ethereum/tests-shaped tree in a temporary directory (a state test and
//! its filler), breaks it, and checks what the console and the report say.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_conformance");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `root/GeneralStateTests/stExample/add11.json` and `root/src/GeneralStateTestsFiller/stExample/add11Filler.json`,
/// with every expected root replaced and, if given, the filler's expected slot 0 changed.
fn broken_tree(root: &Path, filler_slot0: Option<&str>) {
    let tests = root.join("GeneralStateTests/stExample");
    let fillers = root.join("src/GeneralStateTestsFiller/stExample");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::create_dir_all(&fillers).unwrap();
    let mut vector: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("state/stExample/add11.json")).unwrap()).unwrap();
    for entries in vector["add11"]["post"].as_object_mut().unwrap().values_mut() {
        for e in entries.as_array_mut().unwrap() {
            e["hash"] = Value::String(format!("0x{}", "11".repeat(32)));
        }
    }
    std::fs::write(tests.join("add11.json"), serde_json::to_string_pretty(&vector).unwrap()).unwrap();
    let mut filler = std::fs::read_to_string(fixtures().join("fillers/stExample/add11Filler.json")).unwrap();
    if let Some(v) = filler_slot0 {
        assert!(filler.contains(r#""0x00": "0x02""#), "fixture filler expects slot 0 = 2");
        filler = filler.replace(r#""0x00": "0x02""#, &format!(r#""0x00": "{v}""#));
    }
    std::fs::write(fillers.join("add11Filler.json"), filler).unwrap();
}

fn run(dir: &Path) -> Output {
    Command::new(BIN)
        .arg("state")
        .arg(dir.join("GeneralStateTests"))
        .args(["--fork", "Cancun", "--threads", "1", "--quiet"])
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .arg("--baseline")
        .arg(dir.join("baseline.json"))
        .env_remove("CI")
        .output()
        .expect("run conformance")
}

fn only_case(dir: &Path) -> Value {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reports/state.json")).unwrap()).unwrap();
    assert_eq!(report["total"], 1);
    report["cases"][0].clone()
}

#[test]
fn changed_root_names_both_roots() {
    let dir = tempfile::tempdir().unwrap();
    broken_tree(dir.path(), None);
    let out = run(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!("0x{}", "11".repeat(32));
    assert!(err.contains(&format!("state root expected {expected}, got 0x")), "{err}");
    let case = only_case(dir.path());
    assert_eq!(case["verdict"], "fail");
    assert_eq!(case["expected_root"], expected.as_str());
    assert_ne!(case["actual_root"], case["expected_root"]);
    // The filler's own expectations still hold: the diff says so instead of inventing one.
    let diff = case["diff"].as_str().expect("a diff for a failing case");
    assert!(diff.contains("matches every value the filler expects"), "{diff}");
}

#[test]
fn changed_filler_storage_names_account_and_slot() {
    let dir = tempfile::tempdir().unwrap();
    broken_tree(dir.path(), Some("0x03"));
    let out = run(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let line = "0x095e7baea6a6c7c4c2dfeb977efac326af552d87: storage[0x00] expected 0x03, got 0x02";
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(line), "{err}");
    let diff = only_case(dir.path())["diff"].as_str().unwrap().to_string();
    assert!(diff.contains(line), "{diff}");
    assert!(diff.contains("-  storage[0x00] 0x03") && diff.contains("+  storage[0x00] 0x02"), "{diff}");
}
