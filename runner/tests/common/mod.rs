//! Shared by the end-to-end tests: the binary, the fixtures, and a run whose
//! report and baseline live in a temporary directory (the repository's
//! `reports/` is never touched).

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_conformance");

/// The committed state-test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state")
}

/// Runs the binary with the report and baseline inside `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_with_env(dir, args, &[])
}

/// Like [`run`], with these environment variables set (after the defaults are removed).
pub fn run_with_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .arg("--baseline")
        .arg(dir.join("baseline.json"))
        .arg("--threads")
        .arg("2")
        .env_remove("ETHEREUM_TESTS_DIR")
        .env_remove("EEST_FIXTURES")
        // CI=true turns --require-all on; each test asks for it itself.
        .env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run conformance")
}
