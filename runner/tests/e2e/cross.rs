//! End-to-end tests of the `cross` suite: the committed cross-EE vectors, and a
//! vector whose expectation is wrong, which must fail with every difference named.

use crate::common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/cross.json")).unwrap()).unwrap()
}

#[test]
fn the_committed_vectors_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["cross", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    assert!(r["total"].as_u64().unwrap() >= 10, "{r}");
    assert_eq!(r["passed"], r["total"]);
}

#[test]
fn a_wrong_expectation_fails_with_its_differences() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    let sender = format!("0x{}", "5e".repeat(20));
    let wasm = "0x00000000000000000000000000000000000a0001";
    let vector = serde_json::json!({
        "stores_calldata": {
            "description": "the transaction calls a WASM contract that stores its first calldata word at slot 0",
            "pre": {
                sender.clone(): { "balance": "1000000000000000000" },
                wasm: { "code": { "wat": r#"(module
                    (import "env" "calldata_copy" (func $cd (param i32 i32 i32)))
                    (import "env" "storage_write" (func $sw (param i32 i32)))
                    (memory (export "memory") 1)
                    (func (export "call")
                      (call $cd (i32.const 32) (i32.const 0) (i32.const 32))
                      (call $sw (i32.const 0) (i32.const 32))))"# } }
            },
            "transaction": { "sender": sender, "to": wasm, "gasLimit": 1000000,
                             "data": format!("0x{}2a", "00".repeat(31)) },
            "expect": { "status": "success", "returnData": "0x01",
                        "post": { wasm: { "storage": { "0x00": "0x2b" } } } }
        }
    });
    std::fs::write(vectors.join("wrong.json"), serde_json::to_string_pretty(&vector).unwrap()).unwrap();
    std::fs::write(vectors.join("bad.json"), "{ \"x\": ").unwrap();
    let out = common::run(dir.path(), &["cross", vectors.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    let case = |id: &str| r["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap();
    let wrong = case("wrong.json::stores_calldata");
    assert_eq!(wrong["verdict"], "fail");
    let diff = wrong["diff"].as_str().unwrap();
    assert!(diff.contains("return data: expected 0x01, got 0x"), "{diff}");
    assert!(diff.contains(&format!("{wasm} storage[0x0]: expected 0x2b, got 0x2a")), "{diff}");
    let bad = case("bad.json::file");
    assert!(bad["error"].as_str().unwrap().starts_with("bad.json: EOF"), "{bad}");
    assert!(stderr(&out).contains("expected 0x2b, got 0x2a"), "{}", stderr(&out));
}
