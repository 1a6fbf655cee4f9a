//! Shared by the end-to-end tests: the binary, the fixtures, and a run whose
//! report and baseline live in a temporary directory (the repository's
//! `reports/` is never touched).

#![allow(dead_code)] // not every helper is used by every build configuration

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
        // Missing default vectors are not fetched (tests/fetch.rs tests that), nor cached outside `dir`.
        .env("CONFORMANCE_OFFLINE", "1")
        .env("CONFORMANCE_CACHE_DIR", dir.join("cache"))
        // CI=true turns --require-all on; each test asks for it itself.
        .env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run conformance")
}

/// Runs `conformance differential <args…>` with `--threads 2`, its report in `reports` and
/// plain progress lines every 50 ms; the output and its stderr as text.
pub fn differential(args: &[&str], reports: &Path) -> (Output, String) {
    let out = Command::new(BIN)
        .arg("differential")
        .args(args)
        .args(["--threads", "2", "--report-dir"])
        .arg(reports)
        .env("CONFORMANCE_PROGRESS_MS", "50")
        .output()
        .expect("run conformance differential");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

/// The report `differential <ee>` wrote in `reports`.
pub fn differential_report(reports: &Path, ee: &str) -> serde_json::Value {
    let path = reports.join(format!("differential-{ee}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

mod tarball;
#[allow(unused_imports)] // not every test binary builds tarballs
pub use tarball::tarball;
