//! End-to-end tests of EEST fixtures: a `.tar.gz` read as it streams (ids,
//! counts, a corrupt member, a truncated archive), the same vectors as a
//! directory, the `wrong_exception` verdict in every report, and the
//! `--require-all` checks (minimum case counts, unknown forks).
//!
//! The vectors are made here: ethereum/tests' `stExample/add11` (a fixture
//! whose Cancun state root ethereum/tests pins) rewritten in EEST's format.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{fixtures, run, run_with_env};
use serde_json::{json, Value};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path, suite: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("reports/{suite}.json"))).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

fn case<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no case {id} in {r}"))
}

const SENDER: &str = "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b";
const CONTRACT: &str = "0x095e7baea6a6c7c4c2dfeb977efac326af552d87";
const COINBASE: &str = "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba";

/// add11 under Cancun in EEST's shape: `config`, one post entry carrying the whole post-state.
fn add11_eest() -> Value {
    let text = std::fs::read_to_string(fixtures().join("stExample/add11.json")).unwrap();
    let mut t: Value = serde_json::from_str::<Value>(&text).unwrap()["add11"].clone();
    let mut entry = t["post"]["Cancun"][0].clone();
    entry["state"] = json!({
        CONTRACT: {"nonce": "0x00", "balance": "0x0de0b6b3a76586a0", "code": "0x600160010160005500",
                   "storage": {"0x00": "0x02"}},
        COINBASE: {"nonce": "0x01", "balance": "0x00", "code": "0x", "storage": {}},
        SENDER: {"nonce": "0x01", "balance": "0x0de0b6b3a75be550", "code": "0x", "storage": {}}
    });
    t["post"] = json!({ "Cancun": [entry] });
    t["config"] = json!({"chainid": "0x01",
        "blobSchedule": {"Cancun": {"target": "0x03", "max": "0x06", "baseFeeUpdateFraction": "0x32f0ed"}}});
    t.as_object_mut().unwrap().remove("_info");
    t
}

/// The same transaction from a sender without funds, expected to fail as NONCE_IS_MAX: rejected,
/// as expected, but for another reason. The post-state is `pre` (an EEST rejection touches nothing).
fn wrong_reason_eest() -> Value {
    let mut t = add11_eest();
    t["pre"][SENDER]["balance"] = "0x00".into();
    let pre = t["pre"].clone();
    let entry = &mut t["post"]["Cancun"][0];
    entry["expectException"] = "TransactionException.NONCE_IS_MAX".into();
    entry["hash"] = "0x78672d2610cc7e5f7ed39fea4f0cc5a6f9fb0f23c1e23f45d13b28a23eb0de2a".into();
    entry["state"] = pre;
    t
}

fn tarball(path: &Path, members: &[(&str, Vec<u8>)]) {
    let members: Vec<(&str, &[u8])> = members.iter().map(|(name, data)| (*name, data.as_slice())).collect();
    std::fs::write(path, common::tarball(&members, None)).unwrap();
}

fn vector(name: &str, test: Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({ name: test })).unwrap()
}

const ADD11: &str = "state_tests/cancun/example/add11.json";
const ADD11_ID: &str = "state_tests/cancun/example/add11.json::add11::Cancun::d0:g0:v0";
const BROKEN: &str = "state_tests/cancun/example/broken.json";
const WRONG: &str = "state_tests/cancun/example/wrong_reason.json";
const WRONG_ID: &str = "state_tests/cancun/example/wrong_reason.json::wrong_reason::Cancun::d0:g0:v0";

/// The three members (and a non-vector) in one tarball.
fn fixtures_tarball(dir: &Path) -> PathBuf {
    let path = dir.join("fixtures.tar.gz");
    tarball(
        &path,
        &[
            (ADD11, vector("add11", add11_eest())),
            ("MISSING.txt", b"not a vector".to_vec()),
            (BROKEN, b"{\n  \"t\": { oops".to_vec()),
            (WRONG, vector("wrong_reason", wrong_reason_eest())),
        ],
    );
    path
}

#[test]
fn tarball_cases_ids_counts_and_a_corrupt_member() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = fixtures_tarball(dir.path());
    let out = run(dir.path(), &["state", tgz.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{}:{BROKEN}", tgz.display())), "the error names archive and member: {err}");

    let r = report(dir.path(), "eest");
    assert_eq!(r["suite"], "eest", "a tarball is the eest suite");
    assert!(!dir.path().join("reports/state.json").exists());
    assert_eq!((r["total"].as_u64(), r["passed"].as_u64()), (Some(3), Some(1)), "{r}");
    assert_eq!((r["failed"].as_u64(), r["wrong_exception"].as_u64()), (Some(1), Some(1)), "{r}");
    assert_eq!(r["by_fork"]["Cancun"]["wrong_exception"], 1);
    assert_eq!(case(&r, ADD11_ID)["verdict"], "pass");
    let broken = case(&r, BROKEN);
    assert_eq!(broken["verdict"], "fail");
    assert!(broken["fork"].is_null());
    assert!(
        broken["error"].as_str().unwrap().contains("invalid state test JSON")
            && broken["error"].as_str().unwrap().contains("line 2")
    );

    // Rejected for the wrong reason: its own verdict, both names in the message.
    let wrong = case(&r, WRONG_ID);
    assert_eq!(wrong["verdict"], "wrong_exception");
    let msg = wrong["error"].as_str().unwrap();
    assert!(
        msg.contains("expected TransactionException.NONCE_IS_MAX")
            && msg.contains("rejected with TransactionException.INSUFFICIENT_ACCOUNT_FUNDS"),
        "{msg}"
    );
    assert!(!msg.contains("state root"), "the post-state is exactly pre: {msg}");
    assert!(err.contains("WRONG EXCEPTION") && err.contains("wrong exc"), "console: {err}");

    // ... and counted apart in the other reports.
    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(suite.attribute("wrong_exception"), Some("1"));
    assert_eq!(suite.attribute("failures"), Some("2"), "a wrong exception is a JUnit failure");
    assert!(doc.descendants().any(|n| n.attribute("type") == Some("wrong_exception")));
    let md = std::fs::read_to_string(dir.path().join("reports/summary.md")).unwrap();
    assert!(md.contains("| eest | 3 | 1 | 1 | 0 | 0 | 1 |"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("reports/index.html")).unwrap();
    assert!(html.contains("\"wrong_exception\":1"), "the page's data carries the count");

    // --compare counts the change to wrong_exception.
    let mut old = r.clone();
    for c in old["cases"].as_array_mut().unwrap() {
        c["verdict"] = "pass".into();
    }
    std::fs::write(dir.path().join("old.json"), old.to_string()).unwrap();
    let out = run(
        dir.path(),
        &["state", tgz.to_str().unwrap(), "--quiet", "--compare"]
            .iter()
            .copied()
            .chain([dir.path().join("old.json").to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let err = stderr(&out);
    assert!(err.contains("2 regressions") && err.contains("1 changed to wrong_exception"), "{err}");
    assert!(err.contains(&format!("{WRONG_ID}: pass -> wrong_exception")), "{err}");
}

#[test]
fn filter_fork_and_case_select_tarball_cases() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = fixtures_tarball(dir.path());
    let t = tgz.to_str().unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["state", t, "--quiet"];
        all.extend_from_slice(args);
        let out = run(dir.path(), &all);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let r = report(dir.path(), "eest");
        r["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&["--filter", "add11"]), [ADD11_ID]);
    assert_eq!(ids(&["--case", WRONG_ID]), [WRONG_ID]);
    assert_eq!(ids(&["--fork", "Prague"]), [BROKEN], "no Prague case; the unreadable member is still reported");
    assert_eq!(ids(&["--fork", "Cancun", "--filter", "::wrong_reason$"]), [WRONG_ID]);
}

#[test]
fn an_eest_directory_gives_the_same_ids_as_the_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixtures");
    for (rel, test) in [(ADD11, ("add11", add11_eest())), (WRONG, ("wrong_reason", wrong_reason_eest()))] {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), vector(test.0, test.1)).unwrap();
    }
    for arg in [root.clone(), root.join("state_tests")] {
        let out = run(dir.path(), &["state", arg.to_str().unwrap(), "--quiet"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let r = report(dir.path(), "eest");
        let ids: Vec<&str> = r["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [ADD11_ID, WRONG_ID], "from {}", arg.display());
    }
}

#[test]
fn a_truncated_tarball_reports_where_it_broke_and_keeps_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = dir.path().join("cut.tar.gz");
    // Incompressible padding, so that cutting the compressed file cuts inside this member.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..400_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    tarball(&tgz, &[(ADD11, vector("add11", add11_eest())), ("state_tests/cancun/example/big.json", noise)]);
    let whole = std::fs::read(&tgz).unwrap();
    std::fs::write(&tgz, &whole[..whole.len() / 2]).unwrap();
    let out = run(dir.path(), &["state", tgz.to_str().unwrap(), "--quiet"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let r = report(dir.path(), "eest");
    assert_eq!(case(&r, ADD11_ID)["verdict"], "pass", "the member before the break ran");
    let broken = case(&r, "state_tests/cancun/example/big.json");
    let msg = broken["error"].as_str().unwrap();
    assert!(
        msg.contains("cut.tar.gz") && msg.contains("broke inside member state_tests/cancun/example/big.json"),
        "{msg}"
    );
    assert_eq!(r["total"], 2);
}

#[test]
fn require_all_checks_minimum_counts_and_unknown_forks() {
    let dir = tempfile::tempdir().unwrap();
    let et = dir.path().join("ethereum-tests");
    std::fs::create_dir_all(et.join("GeneralStateTests/stExample")).unwrap();
    std::fs::copy(fixtures().join("stExample/add11.json"), et.join("GeneralStateTests/stExample/add11.json")).unwrap();
    let tgz = dir.path().join("eest.tar.gz");
    tarball(&tgz, &[(ADD11, vector("add11", add11_eest()))]);
    let minimums = dir.path().join("minimums.json");
    let write_minimums = |eest: usize| {
        let suites: Vec<Value> = [("state", 5), ("eest", eest), ("cross", 24)]
            .iter()
            .map(|(s, n)| json!({"suite": s, "min_cases": n, "reason": "test"}))
            .collect();
        std::fs::write(&minimums, json!({ "suites": suites }).to_string()).unwrap();
    };
    let env = [("ETHEREUM_TESTS_DIR", et.as_path()), ("EEST_FIXTURES", tgz.as_path())];
    let args = ["--ee", "evm", "--require-all", "--quiet", "--minimums", minimums.to_str().unwrap()];

    write_minimums(1);
    let out = run_with_env(dir.path(), &args, &env);
    assert_eq!(out.status.code(), Some(0), "every suite ran, each enough cases: {}", stderr(&out));
    assert_eq!(report(dir.path(), "state")["total"], 5);
    assert_eq!(report(dir.path(), "eest")["total"], 1);

    write_minimums(2);
    let out = run_with_env(dir.path(), &args, &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("suite eest ran 1 cases, fewer than the 2 committed in"), "{err}");
    // A selection is not a whole vector set: no count to check.
    let mut filtered = args.to_vec();
    filtered.extend(["--fork", "Cancun"]);
    assert_eq!(run_with_env(dir.path(), &filtered, &env).status.code(), Some(0));

    // A fork this build does not know fails under --require-all, and is skipped without it.
    let mut future = add11_eest();
    future["post"] = json!({ "Amsterdam": future["post"]["Cancun"].clone() });
    tarball(&tgz, &[("state_tests/amsterdam/future.json", vector("future", future))]);
    let id = "state_tests/amsterdam/future.json::future::Amsterdam::d0:g0:v0";
    let t = tgz.to_str().unwrap();
    assert_eq!(run(dir.path(), &["state", t, "--quiet"]).status.code(), Some(0));
    assert_eq!(case(&report(dir.path(), "eest"), id)["verdict"], "skip");
    assert_eq!(run(dir.path(), &["state", t, "--quiet", "--require-all"]).status.code(), Some(1));
    let c = case(&report(dir.path(), "eest"), id).clone();
    assert_eq!(c["verdict"], "fail");
    assert!(c["error"].as_str().unwrap().contains("unknown fork \"Amsterdam\""), "{c}");
}
