//! Runs riscv-tests ELFs and expects `tohost == 1` from every one.
//!
//! - `riscv_tests_pass`: the programs `riscv-tests/build.sh` builds with the project's env,
//!   in `target/riscv-tests/elf/` at the workspace root, or `RISCV_TESTS_ELF_DIR`. Without
//!   them the test only warns, unless `REQUIRE_RISCV_TESTS` is set (CI).
//! - `upstream_riscv_tests_pass` and `upstream_built_images_pass`: what
//!   `riscv-tests/fetch-upstream.sh` produces, run unchanged: upstream's sources built with
//!   upstream's env/p and Makefile (`target/riscv-tests/upstream/elf/`), and images built
//!   upstream (VexRiscv's copies, `target/riscv-tests/upstream/vexriscv-elf/`). They warn
//!   when absent unless `REQUIRE_UPSTREAM_RISCV_TESTS` is set.

use std::path::{Path, PathBuf};

use ee_riscv::{run_test, TestOutcome, DEFAULT_TEST_STEPS};

fn workspace_dir(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// Runs every file in `dir`; fails unless all pass (and there are at least `min` when
/// `required`). Without files, only warns unless `required`.
fn run_dir(dir: &Path, required: bool, min: usize, how: &str) {
    let mut elves: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    if elves.is_empty() {
        let msg = format!("no riscv-tests ELFs in {}: {how}", dir.display());
        assert!(!required, "{msg} (required here)");
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
    println!("{} of {} riscv-tests programs in {} passed", elves.len() - failures.len(), elves.len(), dir.display());
    assert!(failures.is_empty(), "{} riscv-tests failed:\n  {}", failures.len(), failures.join("\n  "));
    assert!(!required || elves.len() >= min, "only {} programs in {} (expected {min})", elves.len(), dir.display());
}

#[test]
fn riscv_tests_pass() {
    let dir = match std::env::var_os("RISCV_TESTS_ELF_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_dir("target/riscv-tests/elf"),
    };
    run_dir(&dir, std::env::var_os("REQUIRE_RISCV_TESTS").is_some(), 45, "run riscv-tests/build.sh");
}

/// rv32ui and rv32um `p` programs in upstream's lists (riscv-tests @ f163ddfc).
const UPSTREAM_PROGRAMS: usize = 47;

#[test]
fn upstream_riscv_tests_pass() {
    let required = std::env::var_os("REQUIRE_UPSTREAM_RISCV_TESTS").is_some();
    let dir = workspace_dir("target/riscv-tests/upstream/elf");
    run_dir(&dir, required, UPSTREAM_PROGRAMS, "run riscv-tests/fetch-upstream.sh");
}

#[test]
fn upstream_built_images_pass() {
    let required = std::env::var_os("REQUIRE_UPSTREAM_RISCV_TESTS").is_some();
    let dir = workspace_dir("target/riscv-tests/upstream/vexriscv-elf");
    run_dir(&dir, required, UPSTREAM_PROGRAMS, "run riscv-tests/fetch-upstream.sh");
}
