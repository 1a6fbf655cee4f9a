//! Runs every riscv-tests ELF built by `riscv-tests/build.sh` and expects `tohost == 1`.
//!
//! The directory is `target/riscv-tests/elf/` at the workspace root, or `RISCV_TESTS_ELF_DIR`
//! (e.g. upstream-built ELFs). Without it the test only warns, unless
//! `REQUIRE_RISCV_TESTS` is set (CI), where a missing or empty directory fails.

use std::path::PathBuf;

use ee_riscv::{run_test, TestOutcome, DEFAULT_TEST_STEPS};

fn elf_dir() -> PathBuf {
    match std::env::var_os("RISCV_TESTS_ELF_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/riscv-tests/elf"),
    }
}

#[test]
fn riscv_tests_pass() {
    let dir = elf_dir();
    let required = std::env::var_os("REQUIRE_RISCV_TESTS").is_some();
    let mut elves: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    if elves.is_empty() {
        let msg = format!("no riscv-tests ELFs in {}: run riscv-tests/build.sh", dir.display());
        assert!(!required, "{msg} (REQUIRE_RISCV_TESTS is set)");
        eprintln!("warning: {msg}; skipping");
        return;
    }
    elves.sort();

    let mut failures = Vec::new();
    for path in &elves {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match run_test(&bytes, DEFAULT_TEST_STEPS) {
            Ok(run) if run.outcome == TestOutcome::Pass => {}
            Ok(run) => failures.push(format!("{name}: {run}")),
            Err(e) => failures.push(format!("{name}: cannot load: {e}")),
        }
    }
    println!("{} of {} riscv-tests programs passed", elves.len() - failures.len(), elves.len());
    assert!(failures.is_empty(), "{} riscv-tests failed:\n  {}", failures.len(), failures.join("\n  "));
}
