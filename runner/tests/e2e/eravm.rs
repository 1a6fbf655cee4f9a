//! End-to-end tests of the `eravm` suite: text-assembly vectors that run without
//! `shared/eravm` (a world without system contracts), a wrong expectation that must fail with
//! every difference named, the suite skipped (or failing under --require-all) without the
//! shared contracts, and, when they are there, the committed vectors of zksolc contracts.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/eravm.json")).unwrap()).unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eravm")
}

fn case(r: &Value, id: &str) -> Value {
    r["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("{id}: {r}"))
}

#[test]
fn assembly_vectors_run_without_the_shared_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-eravm-data");
    let fx = fixtures();
    let out =
        common::run_with_env(dir.path(), &["eravm", fx.to_str().unwrap(), "--quiet"], &[("ERAVM_DATA_DIR", &nowhere)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    assert_eq!(r["total"], 5, "{r}");
    assert_eq!(r["passed"], r["total"]);
    assert_eq!(case(&r, "assembly.json::far_call_relay::call0")["gas_used"], 301);
}

#[test]
fn a_wrong_expectation_fails_with_every_difference() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("assembly.json")).unwrap()).unwrap();
    let expect = &mut v["add_one"]["calls"][0]["expect"];
    expect["status"] = "revert".into();
    expect["returnData"] = format!("0x{:064x}", 43).into();
    expect["ergsUsed"] = 50.into();
    expect["storageChanges"] = serde_json::json!([["0xa500000000000000000000000000000000000001", "0x0", "0x1"]]);
    expect["events"] = serde_json::json!([{"key": "0x1", "value": "0x2", "isFirst": true}]);
    v["far_call_relay"]["calls"][1].as_object_mut().unwrap().remove("expect");
    std::fs::write(vectors.join("wrong.json"), serde_json::to_string_pretty(&v).unwrap()).unwrap();
    std::fs::write(vectors.join("bad.json"), "{ \"x\": ").unwrap();
    let nowhere = dir.path().join("no-eravm-data");
    let out = common::run_with_env(dir.path(), &["eravm", vectors.to_str().unwrap()], &[("ERAVM_DATA_DIR", &nowhere)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    let wrong = case(&r, "wrong.json::add_one::call0");
    assert_eq!(wrong["verdict"], "fail");
    let diff = wrong["diff"].as_str().unwrap();
    for line in [
        "status: expected revert, got success",
        &format!("return data: expected 0x{:064x}, got 0x{:064x}", 43, 42),
        "ergs used: expected 50, got 49 (-1)",
        "storage 0xa500000000000000000000000000000000000001[0x0]: expected 0x1, not changed",
        "events: expected 1, got 0",
        "event 0: expected key 0x1 value 0x2 is_first true, missing",
    ] {
        assert!(diff.contains(line), "{line:?} not in:\n{diff}");
    }
    assert_eq!(case(&r, "wrong.json::add_one::call1")["verdict"], "pass", "later calls still run");
    let unrecorded = case(&r, "wrong.json::far_call_relay::call1");
    assert!(unrecorded["error"].as_str().unwrap().contains("RECORD_ERAVM_VECTORS=1"), "{unrecorded}");
    assert!(case(&r, "bad.json::file")["error"].as_str().unwrap().starts_with("bad.json: EOF"));
}

#[test]
fn without_the_shared_contracts_the_suite_is_skipped_or_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-eravm-data");
    let env = [("ERAVM_DATA_DIR", nowhere.as_path())];
    let out = common::run_with_env(dir.path(), &["eravm"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("../shared/eravm") && err.contains("ERAVM_DATA_DIR"), "{err}");
    assert!(err.contains(nowhere.to_str().unwrap()), "names where it looked: {err}");

    let out = common::run_with_env(dir.path(), &["--ee", "eravm", "--require-all"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("--require-all") && err.contains("eravm: "), "{err}");

    // A vector naming a zksolc contract, run by path: skipped, and a failure under --require-all.
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    let fib = serde_json::json!({"fib": {"description": "Fib", "contracts": {"0xc0000000000000000000000000000000000000f1": "Fib"},
        "calls": [{"from": "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "to": "0xc0000000000000000000000000000000000000f1",
                   "function": "fib(uint256)", "args": [10], "ergs": 100000}]}});
    std::fs::write(vectors.join("fib.json"), fib.to_string()).unwrap();
    let out = common::run_with_env(dir.path(), &["eravm", vectors.to_str().unwrap()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let skipped = case(&report(dir.path()), "fib.json::fib::call0");
    assert_eq!(skipped["verdict"], "skip");
    assert!(skipped["error"].as_str().unwrap().contains("../shared/eravm"), "{skipped}");
    let out = common::run_with_env(dir.path(), &["eravm", vectors.to_str().unwrap(), "--require-all"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(case(&report(dir.path()), "fib.json::fib::call0")["verdict"], "fail");
}

#[test]
fn the_committed_vectors_run_on_the_shared_contracts() {
    if ee_eravm::artifacts::data_dir().is_none() {
        let msg = "shared/eravm is absent: the committed eravm vectors cannot run";
        assert!(std::env::var_os("REQUIRE_ERAVM_CONTRACTS").is_none(), "{msg} (REQUIRE_ERAVM_CONTRACTS is set)");
        eprintln!("note: {msg}; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["eravm", "--quiet"]);
    // Vectors needing storage, events or precompile calls fail until the EE runs those ops.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let r = report(dir.path());
    assert!(r["total"].as_u64().unwrap() >= 54, "{r}");
    let cases = r["cases"].as_array().unwrap();
    // Fib and the assembly that needs no storage run on what the EE has today.
    let runnable = ["fib.json::", "assembly.json::add_one::", "assembly.json::far_call_", "assembly.json::spin_"];
    for c in cases.iter().filter(|c| runnable.iter().any(|p| c["id"].as_str().unwrap().starts_with(p))) {
        assert_eq!(c["verdict"], "pass", "{c}");
    }
    assert_eq!(case(&r, "fib.json::fib::call3")["gas_used"], 1_641_975, "Fib(20) in vm2's ergs");
    assert_eq!(cases.iter().filter(|c| c["id"].as_str().unwrap().starts_with("fib.json::")).count(), 7);
}
