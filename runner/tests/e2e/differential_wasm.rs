//! End-to-end: `conformance differential wasm` runs a small seeded campaign and writes its
//! report; `--replay` compares saved vectors again; a vector is a `.wast` script the wasm
//! suite runs (`conformance wasm --wast-dir`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common;
use common::BIN;

fn report(dir: &Path) -> Value {
    common::differential_report(dir, "wasm")
}

#[test]
fn a_small_campaign_agrees_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let (out, stderr) = common::differential(&["wasm", "--seed", "5", "--count", "400"], &reports);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("400 modules") && stderr.contains("0 divergences"), "{stderr}");
    assert!(stderr.contains("differential-wasm: "), "progress lines: {stderr}");
    let r = report(&reports);
    assert_eq!(r["ee"], "wasm");
    assert_eq!(r["seed"], 5);
    assert_eq!(r["total"], 400);
    assert_eq!(r["divergences"], Value::Array(vec![]));
    assert!(r["invocations"].as_u64().unwrap() > 500, "{r}");
    assert!(r["traps"]["MemoryOutOfBounds"].as_u64().unwrap() > 0, "{r}");
    let rules: Vec<&str> = r["allowed"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert_eq!(
        rules,
        ["out-of-fuel", "wasmi-store-translation-panic", "wasmi-select-of-i32-eqz", "wasmi-if-params-over-local-get"]
    );
    assert!(r["allowed"][0]["reason"].as_str().unwrap().contains("meter"), "{r}");
    // The same seed gives the same modules: the same figures.
    let again = Command::new(BIN)
        .args(["differential", "wasm", "--seed", "5", "--count", "400", "--quiet", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    assert!(again.status.success());
    let second = report(&reports);
    for key in ["invocations", "returns", "traps", "instructions", "exhausted", "instantiation_traps"] {
        assert_eq!(second[key], r[key], "{key}");
    }
}

#[test]
fn replay_and_the_wasm_suite_run_saved_vectors() {
    // A vector as a campaign writes it (here of an agreeing case: wasmi's outcomes as the
    // expectations), run by the wasm suite through the bootloader and replayed on both engines.
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    wasm_differential::compare::install_quiet_hook();
    let mut written = 0;
    for seed in 0..40u64 {
        let case = wasm_differential::campaign::case(seed);
        let c = wasm_differential::compare::compare(&case.module, &case.plan, None).expect("agrees");
        // Out of fuel on our side under the bootloader's gas differs from the campaign's fuel:
        // only cases that ran to the end are written.
        if c.stop.is_some() || c.steps.is_empty() {
            continue;
        }
        let text = wasm_differential::vector::to_wast(&case.module, &c.instantiation, &c.steps, &[]);
        std::fs::write(vectors.join(format!("{seed:016x}.wast")), text).unwrap();
        written += 1;
    }
    assert!(written >= 10, "{written}");
    let out = Command::new(BIN).args(["differential", "wasm", "--replay"]).arg(&vectors).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("replayed {written} vectors: 0 diverge")), "{stderr}");
    let out = common::run(dir.path(), &["wasm", "--wast-dir", vectors.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // The known wasmi bugs replay as allowed; a file that is not a vector is a setup error.
    let known = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oracles/wasm-differential/known-wasmi");
    let out = Command::new(BIN).args(["differential", "wasm", "--replay"]).arg(&known).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("wasmi-store-translation-panic"), "{stderr}");
    assert!(
        stderr.contains("wasmi-select-of-i32-eqz") && stderr.contains("wasmi-if-params-over-local-get"),
        "{stderr}"
    );
    assert!(stderr.contains("replayed 3 vectors: 0 diverge"), "{stderr}");
    // The known bugs' scripts hold the spec's expectations: the wasm suite passes them on ee-wasm.
    let out = common::run(dir.path(), &["wasm", "--wast-dir", known.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let bad = dir.path().join("bad.wast");
    std::fs::write(&bad, "(assert_return (invoke \"f\"))").unwrap();
    let out = Command::new(BIN).args(["differential", "wasm", "--replay"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_says_what_is_compared() {
    let out = Command::new(BIN).args(["differential", "wasm", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "wasmi 2.0",
        "wasm-smith",
        "--seed",
        "--count",
        "--replay",
        "differential-wasm.json",
        "out-of-fuel",
        "Exit status",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}
