//! The programs our assembler builds pass on ee-riscv, with no binutils anywhere: the
//! wheel's bodies (as build.sh extracted them, or taken out of the wheel build.sh
//! downloaded) → `riscv_tests_build::build` → `ee_riscv::run_test`, `tohost == 1` from all.
//! Without the bodies or the wheel it prints `SKIPPED` and passes, or fails with
//! `REQUIRE_RISCV_TESTS` set.

use std::io::Write;
use std::path::{Path, PathBuf};

use ee_riscv::{run_test, TestOutcome, DEFAULT_TEST_STEPS};

const TEST: &str = "our_build_passes_on_ee_riscv";

/// The bodies: build.sh's extraction, else the downloaded wheel extracted into `scratch`.
fn bodies(scratch: &Path) -> Option<PathBuf> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/riscv-tests");
    let extracted = target.join("src/picorv32");
    if extracted.is_dir() {
        return Some(extracted);
    }
    let wheel =
        std::fs::read_dir(target.join("download")).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("pythondata_cpu_picorv32-"))
                && p.extension().is_some_and(|x| x == "whl")
        })?;
    let dir = scratch.join("bodies");
    riscv_tests_build::wheel::extract_bodies(&wheel, &dir).unwrap();
    Some(dir)
}

#[test]
fn our_build_passes_on_ee_riscv() {
    let scratch = tempfile::tempdir().unwrap();
    let Some(bodies) = bodies(scratch.path()) else {
        let why = "no riscv-tests bodies in target/riscv-tests/ (src/picorv32 or the wheel in download/; \
                   see riscv-tests/README.md)";
        assert!(std::env::var_os("REQUIRE_RISCV_TESTS").is_none(), "{TEST}: {why} (REQUIRE_RISCV_TESTS is set)");
        let _ = writeln!(std::io::stderr(), "test {TEST} SKIPPED: {why}");
        return;
    };
    let env = Path::new(env!("CARGO_MANIFEST_DIR")).join("env");
    let out = scratch.path().join("elf");
    let summary = riscv_tests_build::build(&bodies, &env, &out).unwrap();
    assert!(summary.failed.is_empty(), "{:#?}", summary.failed);
    assert!(summary.built.len() >= 45, "only {} programs", summary.built.len());
    let mut failures = Vec::new();
    for name in &summary.built {
        let elf = std::fs::read(out.join(name)).unwrap();
        match run_test(&elf, DEFAULT_TEST_STEPS) {
            Ok(run) if run.outcome == TestOutcome::Pass => {}
            Ok(run) => failures.push(format!("{name}: {run}")),
            Err(e) => failures.push(format!("{name}: cannot load: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n  {}", failures.len(), summary.built.len(), failures.join("\n  "));
}
