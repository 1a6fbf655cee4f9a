//! End-to-end tests of the run reports (junit.xml, summary.md, index.html
//! rendered in headless Chromium), --compare, --ee, bad report directories
//! and the non-terminal progress output.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{fixtures, run};
use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn state_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/state.json")).unwrap()).unwrap()
}

/// The fixtures plus a malformed file, so the run has a failure to show.
fn vectors_with_a_failure(dir: &Path) -> String {
    let vectors = dir.join("vectors");
    std::fs::create_dir_all(vectors.join("stBroken")).unwrap();
    for f in ["stExample/add11.json", "stExample/invalidTr.json", "stTransactionTest/ValueOverflow.json"] {
        std::fs::create_dir_all(vectors.join(f).parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(f), vectors.join(f)).unwrap();
    }
    std::fs::write(vectors.join("stBroken/broken.json"), "{\"t\": <oops>").unwrap();
    vectors.display().to_string()
}

#[test]
fn junit_xml_parses_and_its_counts_match_the_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = vectors_with_a_failure(dir.path());
    let out = run(dir.path(), &["state", &vectors, "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json = state_json(dir.path());
    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(suite.attribute("name"), Some("state"));
    for (attr, key) in
        [("tests", "total"), ("errors", "crashed"), ("skipped", "skipped"), ("wrong_exception", "wrong_exception")]
    {
        assert_eq!(suite.attribute(attr).unwrap(), json[key].to_string(), "{attr}");
    }
    let failures = json["failed"].as_u64().unwrap() + json["wrong_exception"].as_u64().unwrap();
    assert_eq!(suite.attribute("failures").unwrap(), failures.to_string(), "a wrong exception is a JUnit failure");
    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len() as u64, json["total"].as_u64().unwrap());
    let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len() as u64, json["failed"].as_u64().unwrap());
    assert!(failures.iter().any(|f| f.attribute("message").unwrap().contains("invalid state test JSON")));
}

#[test]
fn summary_md_has_the_tables_and_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = vectors_with_a_failure(dir.path());
    run(dir.path(), &["state", &vectors, "--quiet"]);
    let json = state_json(dir.path());
    let md = std::fs::read_to_string(dir.path().join("reports/summary.md")).unwrap();
    let row = format!("| state | {} | {} | {} |", json["total"], json["passed"], json["failed"]);
    assert!(md.contains(&row), "{row} not in:\n{md}");
    assert!(md.contains("| Cancun |") && md.contains("### Slowest cases"), "{md}");
    assert!(md.contains("#### `stBroken/broken.json`"), "{md}");
}

/// Chromium's flags for a closed network, as root, with a throwaway profile.
fn chromium_dump_dom(page: &Path, profile: &Path) -> Option<String> {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .ok()?;
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn html_report_renders_in_headless_chromium_with_the_json_counts() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = vectors_with_a_failure(dir.path());
    run(dir.path(), &["state", &vectors, "--quiet"]);
    let json = state_json(dir.path());
    let page = dir.path().join("reports/index.html");
    let Some(dom) = chromium_dump_dom(&page, &dir.path().join("chromium-profile")) else {
        // CI installs Chromium and sets REQUIRE_BROWSER_TESTS, so there this cannot pass vacuously.
        assert!(std::env::var_os("REQUIRE_BROWSER_TESTS").is_none(), "chromium is not installed");
        eprintln!("warning: chromium not found (apt-get install -y chromium); the HTML report was not rendered");
        return;
    };
    // Every number the script drew, by its data-key.
    let re = regex::Regex::new(r#"data-key="([^"]+)"[^>]*>([^<]*)<"#).unwrap();
    let shown: std::collections::HashMap<String, String> =
        re.captures_iter(&dom).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    assert!(!shown.is_empty(), "the script drew nothing:\n{dom}");
    const KEYS: [&str; 6] = ["total", "passed", "failed", "skipped", "crashed", "wrong_exception"];
    for key in KEYS {
        assert_eq!(shown[&format!("state/{key}")], json[key].to_string(), "state/{key}");
    }
    for (fork, counts) in json["by_fork"].as_object().unwrap() {
        for key in KEYS {
            assert_eq!(shown[&format!("state/group/{fork}/{key}")], counts[key].to_string(), "{fork} {key}");
        }
    }
    assert_eq!(shown["state/folder/stBroken/failed"], "1");
    assert_eq!(shown["state/failures"], format!("Failures ({})", json["failed"]));
    assert!(dom.contains("FAIL stBroken/broken.json"), "the failing case is listed");
}

#[test]
fn compare_lists_changed_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = fixtures().display().to_string();
    assert_eq!(run(dir.path(), &["state", &fixtures, "--quiet"]).status.code(), Some(0));
    // Make one case fail in the "old" report.
    let mut old = state_json(dir.path());
    let id = old["cases"][0]["id"].as_str().unwrap().to_string();
    old["cases"][0]["verdict"] = "fail".into();
    let old_path = dir.path().join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let out = run(dir.path(), &["state", &fixtures, "--quiet", "--compare", old_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "a comparison does not change the exit status");
    let err = stderr(&out);
    assert!(err.contains("0 regressions, 1 fixes"), "{err}");
    assert!(err.contains(&format!("fixes (failed before):\n  {id}: fail -> pass")), "{err}");

    let out = run(dir.path(), &["state", &fixtures, "--compare", dir.path().join("nope.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.json"), "{}", stderr(&out));
}

#[test]
fn bad_arguments_exit_2_without_touching_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = fixtures().display().to_string();
    assert_eq!(run(dir.path(), &["state", &fixtures, "--quiet"]).status.code(), Some(0));
    let before = std::fs::read(dir.path().join("reports/state.json")).unwrap();
    for args in [
        vec!["state", &fixtures, "--fork", "Atlantis"],
        vec!["state", &fixtures, "--filter", "("],
        vec!["state", &fixtures, "--ee", "wasm"],
        vec!["state", "/nonexistent/vectors"],
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).trim_end().lines().count() <= 3, "a short message: {}", stderr(&out));
        assert_eq!(std::fs::read(dir.path().join("reports/state.json")).unwrap(), before, "{args:?}");
    }
}

#[test]
fn unwritable_report_dir_is_a_setup_error_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = Command::new(common::BIN)
        .args(["state", &fixtures().display().to_string(), "--report-dir"])
        .arg(file.join("reports"))
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--report-dir") && err.contains("a-file"), "{err}");
    assert!(!err.contains("cases,"), "nothing ran: {err}");
}

#[test]
fn progress_off_a_terminal_is_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(common::BIN)
        .args(["state", &fixtures().display().to_string(), "--threads", "1"])
        .arg("--report-dir")
        .arg(dir.path().join("reports"))
        .arg("--baseline")
        .arg(dir.path().join("baseline.json"))
        .env("CONFORMANCE_PROGRESS_MS", "60000")
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(!err.contains('\r') && !err.contains('\x1b'), "no bar, no colour off a terminal: {err:?}");
    // However short the run, the last progress line gives the final count.
    let line = regex::Regex::new(r"(?m)^state: 20 cases, 3/3 files, \d+ cases/s$").unwrap();
    assert!(line.is_match(&err), "periodic lines: {err}");
    assert!(err.contains("reports: index.html, summary.md and junit.xml in"), "{err}");
}

#[test]
fn no_subcommand_runs_every_available_suite_into_one_table() {
    let riscv_built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/riscv-tests/elf").is_dir();
    let submodule = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/GeneralStateTests");
    if !riscv_built || std::fs::read_dir(&submodule).is_ok_and(|mut d| d.next().is_some()) {
        // Needs the riscv ELFs, and the submodule absent so ETHEREUM_TESTS_DIR decides the state vectors.
        assert!(std::env::var_os("REQUIRE_RISCV_TESTS").is_none() || riscv_built, "riscv ELFs missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ethereum-tests");
    std::fs::create_dir_all(root.join("GeneralStateTests/stExample")).unwrap();
    std::fs::copy(fixtures().join("stExample/add11.json"), root.join("GeneralStateTests/stExample/add11.json"))
        .unwrap();
    let out = Command::new(common::BIN)
        .arg("--report-dir")
        .arg(dir.path().join("reports"))
        .arg("--baseline")
        .arg(dir.path().join("baseline.json"))
        .env("ETHEREUM_TESTS_DIR", &root)
        // Not the whole EEST set, and no --require-all (CI=true): this run has only add11 as `state`.
        .env_remove("EEST_FIXTURES")
        .env("CONFORMANCE_OFFLINE", "1")
        .env("CONFORMANCE_CACHE_DIR", dir.path().join("cache"))
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let rows = [
        "all suites",
        "state / Cancun",
        "state (total)",
        "riscv / rv32ui",
        "riscv (total)",
        "wasm / wasm-v1",
        "wasm (total)",
        "cross / evm-wasm.json",
        "cross (total)",
    ];
    for row in rows {
        assert!(err.contains(row), "{row} missing:\n{err}");
    }
    for file in ["state.json", "riscv.json", "wasm.json", "cross.json", "junit.xml", "summary.md", "index.html"] {
        assert!(dir.path().join("reports").join(file).is_file(), "{file}");
    }
    let md = std::fs::read_to_string(dir.path().join("reports/summary.md")).unwrap();
    assert!(md.contains("| state |") && md.contains("| riscv |") && md.contains("| group |"), "{md}");
}
