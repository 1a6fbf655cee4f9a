//! End-to-end tests of `--shard K/N` and `conformance merge`: three shards merged give the
//! single run's verdicts, case for case, and its exit status; shards that do not fit together
//! (one missing, one case in two, another N, other suites, not a shard, a corrupted report) are
//! refused with exit 2, naming the file.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixtures, BIN};
use serde_json::Value;

/// Runs the binary with its reports in `reports` and the given baseline, as CI would (no
/// vector environment variables, `--threads 2`).
fn conformance(args: &[&str], reports: &Path, baseline: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--report-dir")
        .arg(reports)
        .arg("--baseline")
        .arg(baseline)
        .args(["--threads", "2", "--quiet"])
        .env_remove("ETHEREUM_TESTS_DIR")
        .env_remove("EEST_FIXTURES")
        .env_remove("CI")
        .output()
        .expect("run conformance")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path, suite: &str) -> Value {
    let path = dir.join(format!("{suite}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// Case id → verdict in a suite report.
fn verdicts(dir: &Path, suite: &str) -> BTreeMap<String, String> {
    report(dir, suite)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string()))
        .collect()
}

/// The state fixtures plus a file that does not parse (a failure, and a file-level case).
fn state_vectors(dir: &Path) -> String {
    let vectors = dir.join("vectors");
    for f in ["stExample/add11.json", "stExample/invalidTr.json", "stTransactionTest/ValueOverflow.json"] {
        std::fs::create_dir_all(vectors.join(f).parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(f), vectors.join(f)).unwrap();
    }
    std::fs::create_dir_all(vectors.join("stBroken")).unwrap();
    std::fs::write(vectors.join("stBroken/broken.json"), "{\"t\": <oops>").unwrap();
    vectors.display().to_string()
}

/// The repository's cross-EE vectors: a second suite with other id shapes.
fn cross_vectors() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm-vectors").display().to_string()
}

fn write_baseline(path: &Path, entries: &[(&str, &str)]) {
    let entries: Vec<Value> =
        entries.iter().map(|(suite, id)| serde_json::json!({"suite": suite, "id": id, "reason": "test"})).collect();
    std::fs::write(path, serde_json::json!({ "entries": entries }).to_string()).unwrap();
}

/// Runs the state and cross vectors as shard `k`/`n` into `<dir>/shard-k`.
fn run_shard(dir: &Path, vectors: &str, k: usize, n: usize, baseline: &Path) -> PathBuf {
    let out_dir = dir.join(format!("shard-{k}"));
    let shard = format!("{k}/{n}");
    for args in [["state", vectors, "--shard", &shard], ["cross", &cross_vectors(), "--shard", &shard]] {
        let out = conformance(&args, &out_dir, baseline);
        assert_ne!(out.status.code(), Some(2), "shard {shard}: {}", stderr(&out));
    }
    out_dir
}

#[test]
fn three_shards_merge_into_the_single_runs_verdicts_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = state_vectors(dir.path());
    // The broken file is an expected failure; one passing case is listed too: a stale entry, exit 1.
    let baseline = dir.path().join("baseline.json");
    write_baseline(
        &baseline,
        &[("state", "stBroken/broken.json"), ("state", "stExample/add11.json::add11::Cancun::d0:g0:v0")],
    );

    let single = dir.path().join("single");
    let mut single_status = None;
    for args in [["state", &vectors], ["cross", &cross_vectors()]] {
        let out = conformance(&args, &single, &baseline);
        single_status = single_status.max(out.status.code());
    }
    assert_eq!(single_status, Some(1), "the stale baseline entry fails the single run");

    let shards: Vec<PathBuf> = (1..=3).map(|k| run_shard(dir.path(), &vectors, k, 3, &baseline)).collect();
    for suite in ["state", "cross"] {
        let whole = verdicts(&single, suite);
        let mut union = BTreeMap::new();
        for (k, shard) in shards.iter().enumerate() {
            let r = report(shard, suite);
            assert_eq!(r["shard"]["index"], k + 1);
            assert_eq!(r["shard"]["count"], 3);
            let cases = verdicts(shard, suite);
            assert!(cases.len() < whole.len(), "{suite}: shard {} holds only its part", k + 1);
            for (id, verdict) in cases {
                assert!(union.insert(id.clone(), verdict).is_none(), "{id} is in two shards");
            }
        }
        assert_eq!(union, whole, "{suite}: the shards together are the single run");
    }

    let merged = dir.path().join("merged");
    let args: Vec<&str> = ["merge"].into_iter().chain(shards.iter().map(|s| s.to_str().unwrap())).collect();
    let out = conformance(&args, &merged, &baseline);
    assert_eq!(out.status.code(), single_status, "{}", stderr(&out));
    for suite in ["state", "cross"] {
        assert_eq!(verdicts(&merged, suite), verdicts(&single, suite), "{suite}: merged verdicts");
        let (m, s) = (report(&merged, suite), report(&single, suite));
        for key in
            ["total", "passed", "failed", "skipped", "expected_failures", "unexpected_failures", "stale_baseline"]
        {
            assert_eq!(m[key], s[key], "{suite}: {key}");
        }
        assert!(m.get("shard").is_none(), "the merged report is of the whole run");
    }
    for file in ["junit.xml", "summary.md", "index.html"] {
        assert!(merged.join(file).is_file(), "merge writes {file}");
    }

    // Without the stale entry both runs are green: the merge's status follows the baseline too.
    write_baseline(&baseline, &[("state", "stBroken/broken.json")]);
    let out = conformance(&["state", &vectors], &single, &baseline);
    let out_cross = conformance(&["cross", &cross_vectors()], &single, &baseline);
    let single_status = out.status.code().max(out_cross.status.code());
    let out = conformance(&args, &merged, &baseline);
    assert_eq!(out.status.code(), single_status, "{}", stderr(&out));
}

/// Runs only the state vectors as shard `k`/`n` into `<dir>/<name>`.
fn state_shard(dir: &Path, vectors: &str, shard: &str, name: &str) -> PathBuf {
    let out_dir = dir.join(name);
    let out = conformance(&["state", vectors, "--shard", shard], &out_dir, &dir.join("none.json"));
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    out_dir
}

/// `merge` with these directories: its exit status and stderr.
fn merge(dir: &Path, shards: &[&Path]) -> (Option<i32>, String) {
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = conformance(&args, &dir.join("merged"), &dir.join("none.json"));
    (out.status.code(), stderr(&out))
}

#[test]
fn shards_that_do_not_fit_together_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vectors = state_vectors(d);
    let [s1, s2, s3] = ["1/3", "2/3", "3/3"].map(|k| state_shard(d, &vectors, k, &format!("s{}", &k[..1])));

    let (code, err) = merge(d, &[&s1, &s2]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("shard 3/3 missing"), "{err}");

    let (code, err) = merge(d, &[&s1, &s2, &d.join("nowhere")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("nowhere") && err.contains("does not exist"), "{err}");

    let (code, err) = merge(d, &[&s1, &s2, &s2]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("are both shard 2/3"), "{err}");

    // Shard 3 with one of shard 1's cases added: the case is named, with both files.
    let overlapping = d.join("overlapping");
    std::fs::create_dir(&overlapping).unwrap();
    let mut third = report(&s3, "state");
    let stolen = report(&s1, "state")["cases"][0].clone();
    third["cases"].as_array_mut().unwrap().push(stolen.clone());
    std::fs::write(overlapping.join("state.json"), third.to_string()).unwrap();
    let (code, err) = merge(d, &[&s1, &s2, &overlapping]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(stolen["id"].as_str().unwrap()) && err.contains("overlapping/state.json"), "{err}");
    assert!(err.contains("s1/state.json"), "{err}");

    let half = state_shard(d, &vectors, "2/2", "half");
    let (code, err) = merge(d, &[&s1, &s2, &half]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("half/state.json is shard 2/2") && err.contains("different runs"), "{err}");

    // Shard 3 of the cross suite instead of the state suite.
    let other_suite = d.join("other-suite");
    let out = conformance(&["cross", &cross_vectors(), "--shard", "3/3"], &other_suite, &d.join("none.json"));
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    let (code, err) = merge(d, &[&s1, &s2, &other_suite]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("other-suite/state.json is missing") || err.contains("s1/cross.json is missing"), "{err}");

    // A corrupted report (cut short, as by a failed artifact upload): named, not a panic.
    let corrupted = d.join("corrupted");
    std::fs::create_dir(&corrupted).unwrap();
    let text = std::fs::read_to_string(s3.join("state.json")).unwrap();
    std::fs::write(corrupted.join("state.json"), &text[..text.len() / 2]).unwrap();
    let (code, err) = merge(d, &[&s1, &s2, &corrupted]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("corrupted/state.json is not a suite report"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // A directory without any report (the shard's artifact never arrived).
    let empty = d.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, err) = merge(d, &[&s1, &s2, &empty]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("empty holds no suite report"), "{err}");

    // A run-only option is refused rather than silently ignored.
    let args = ["merge", s1.to_str().unwrap(), s2.to_str().unwrap(), s3.to_str().unwrap(), "--fork", "Cancun"];
    let out = conformance(&args, &d.join("merged"), &d.join("none.json"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--fork applies to the shard runs"), "{}", stderr(&out));

    let unsharded = d.join("unsharded");
    conformance(&["state", &vectors], &unsharded, &d.join("none.json"));
    let (code, err) = merge(d, &[&s1, &s2, &unsharded]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unsharded/state.json is not a shard's report"), "{err}");
}

#[test]
fn bad_shard_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = state_vectors(dir.path());
    for bad in ["0/3", "4/3", "3", "x/y"] {
        let out = conformance(&["state", &vectors, "--shard", bad], &dir.path().join("r"), &dir.path().join("b.json"));
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
        assert!(stderr(&out).contains("1 <= K <= N"), "--shard {bad}: {}", stderr(&out));
    }
    let out = conformance(
        &["state", &vectors, "--shard", "1/2", "--trace"],
        &dir.path().join("r"),
        &dir.path().join("b.json"),
    );
    assert_eq!(out.status.code(), Some(2), "--trace runs one case, not a shard");
}

/// A minimums file asking `cross` for `min` cases.
fn minimums(path: &Path, min: usize) {
    let m = serde_json::json!({"suites": [{"suite": "cross", "min_cases": min, "reason": "test"}]});
    std::fs::write(path, m.to_string()).unwrap();
}

#[test]
fn minimums_apply_to_the_merged_whole_not_to_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (high, low) = (d.join("high.json"), d.join("low.json"));
    // More than any one shard of the cross vectors holds, and fewer than all of them.
    let total = verdicts(
        &{
            let single = d.join("single");
            conformance(&["cross", &cross_vectors()], &single, &d.join("none.json"));
            single
        },
        "cross",
    )
    .len();
    minimums(&high, total + 1);
    minimums(&low, total);
    // The cross suite on its default vectors (wasm-vectors/), so its count is the whole suite's.
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let out_dir = d.join(format!("c{k}"));
            let shard = format!("{k}/2");
            let args = ["cross", "--shard", &shard, "--require-all", "--minimums", high.to_str().unwrap()];
            let out = conformance(&args, &out_dir, &d.join("none.json"));
            assert_ne!(out.status.code(), Some(2), "a shard is not held to the minimums: {}", stderr(&out));
            assert_eq!(report(&out_dir, "cross")["shard"]["whole_default_vectors"], true);
            out_dir
        })
        .collect();
    let merge_with = |m: &Path| {
        let args = [
            "merge",
            shards[0].to_str().unwrap(),
            shards[1].to_str().unwrap(),
            "--require-all",
            "--minimums",
            m.to_str().unwrap(),
        ];
        conformance(&args, &d.join("merged"), &d.join("none.json"))
    };
    let out = merge_with(&high);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("fewer than"), "{}", stderr(&out));
    let out = merge_with(&low);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}
