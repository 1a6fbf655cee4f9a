//! End-to-end tests of fetching missing default vectors into the cache (`fetch/`): a tiny HTTP
//! server on 127.0.0.1 serves an ethereum/tests-shaped archive, an EEST-shaped tarball and a
//! wheel, all built here from the committed fixtures. First runs fetch, verify and run the
//! suites on them; second runs reuse the cache without a request; corrupt and truncated
//! downloads are rejected and leave nothing in the cache; `--offline` makes no connection; a
//! closed port is a clear error. No test reaches beyond 127.0.0.1 or the temporary cache: the
//! submodule route is off (CONFORMANCE_NO_GIT, and an overridden address implies the archive),
//! proxies and the vector variables are unset, and HOME points into the temporary directory.

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use common::{fixtures, BIN};
use serde_json::Value;

/// What the server answers for one path: the body, and the Content-Length it announces (a
/// larger one than the body, then closing early, is a truncated download).
#[derive(Clone)]
struct Reply {
    body: Vec<u8>,
    announced: usize,
}

impl Reply {
    fn whole(body: Vec<u8>) -> Reply {
        let announced = body.len();
        Reply { body, announced }
    }
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 that records the paths it was asked for.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, t, s) = (requests.clone(), routes.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &r, &t);
                }
            }
        });
        Server { port, requests, routes, stop, thread: Some(thread) }
    }

    fn route(&self, path: &str, reply: Reply) -> String {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, requests: &Mutex<Vec<String>>, routes: &Mutex<HashMap<String, Reply>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
    requests.lock().unwrap().push(path.clone());
    let reply = routes.lock().unwrap().get(&path).cloned();
    let _ = match reply {
        Some(Reply { body, announced }) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body))
        }
        None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
    let _ = stream.flush();
}

/// A gzipped tar of `members`, with a GitHub-style pax global header naming a commit.
fn tarball(members: &[(&str, &[u8])]) -> Vec<u8> {
    common::tarball(members, Some("0123456789abcdef0123456789abcdef01234567"))
}

fn add11() -> Vec<u8> {
    std::fs::read(fixtures().join("stExample/add11.json")).unwrap()
}

/// ethereum/tests' archive layout: everything under `tests-13.3/`, of which only
/// GeneralStateTests/ is kept.
fn ethereum_tests_archive() -> Vec<u8> {
    tarball(&[
        ("tests-13.3/README.md", b"ethereum/tests"),
        ("tests-13.3/GeneralStateTests/stExample/add11.json", &add11()),
        ("tests-13.3/BlockchainTests/ignored.json", b"{}"),
        ("tests-13.3/src/GeneralStateTestsFiller/stExample/add11Filler.json", b"{}"),
    ])
}

/// The EEST release layout: `fixtures/state_tests/...` beside other fixture kinds.
fn eest_archive() -> Vec<u8> {
    tarball(&[("fixtures/state_tests/example/add11.json", &add11()), ("fixtures/blockchain_tests/ignored.json", b"{}")])
}

/// A wheel (a zip) holding picorv32's test bodies where the real one keeps them.
fn wheel() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in [
        ("pythondata_cpu_picorv32/verilog/tests/add.S", "#include \"test_macros.h\"\nTEST_RR_OP(2, add, 2, 1, 1)\n"),
        ("pythondata_cpu_picorv32/verilog/tests/sub.S", "TEST_RR_OP(2, sub, 0, 1, 1)\n"),
        ("pythondata_cpu_picorv32/verilog/tests/riscv_test.h", "/* not a body */\n"),
        ("pythondata_cpu_picorv32/__init__.py", ""),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The binary with everything that could reach beyond the test removed or pointed into `dir`.
fn conformance(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .arg("--baseline")
        .arg(dir.join("baseline.json"))
        .args(["--threads", "2"])
        .env("CONFORMANCE_NO_GIT", "1")
        .env("HOME", dir.join("home"))
        .env("XDG_CACHE_HOME", dir.join("xdg"))
        .env("CONFORMANCE_CACHE_DIR", dir.join("cache"))
        .env("CONFORMANCE_PROGRESS_MS", "10");
    for var in [
        "CI",
        "ETHEREUM_TESTS_DIR",
        "EEST_FIXTURES",
        "CONFORMANCE_OFFLINE",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run conformance")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path, suite: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("reports/{suite}.json"))).expect("report written");
    serde_json::from_str(&text).unwrap()
}

/// The submodule, when checked out, is where the state suite looks first: nothing to fetch.
fn submodule_checked_out() -> bool {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/GeneralStateTests");
    std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_some())
}

/// The cache's entries and any staging leftovers, by name.
fn cache_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("cache"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn first_run_fetches_and_runs_then_the_cache_is_reused() {
    if submodule_checked_out() {
        eprintln!("the ethereum-tests submodule is checked out: the state suite would not fetch");
        return;
    }
    let server = Server::start();
    let et = ethereum_tests_archive();
    let et_url = server.route("/tests/v13.3.tar.gz", Reply::whole(et.clone()));
    let eest_url = server.route("/eest/fixtures_develop.tar.gz", Reply::whole(eest_archive()));
    let dir = tempfile::tempdir().unwrap();
    let env = [("CONFORMANCE_ETHEREUM_TESTS_URL", et_url.as_str()), ("CONFORMANCE_EEST_URL", eest_url.as_str())];

    let out = conformance(dir.path(), &["state"], &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "fetching ethereum/tests v13.3 GeneralStateTests (suite state) from {et_url} ({} bytes",
            et.len()
        )),
        "one line saying what, from where and how big: {err}"
    );
    assert!(err.contains(&format!("from {eest_url} (")), "{err}");
    assert_eq!(server.requests(), ["/tests/v13.3.tar.gz", "/eest/fixtures_develop.tar.gz"]);
    // The suites ran on what was fetched: add11's cases, under each suite's own names.
    let (state, eest) = (report(dir.path(), "state"), report(dir.path(), "eest"));
    assert!(state["total"].as_u64().unwrap() > 0 && state["total"] == eest["total"], "{state} {eest}");
    assert!(state["cases"][0]["id"].as_str().unwrap().starts_with("stExample/add11.json::add11::"));
    assert!(eest["cases"][0]["id"].as_str().unwrap().starts_with("state_tests/example/add11.json::add11::"));
    assert_eq!(state["failed"], 0, "{state}");
    // The cache: the archive's GeneralStateTests/ and fillers only (the archive itself is gone), the EEST
    // tarball kept whole to be read in place, each with its manifest.
    let cache = dir.path().join("cache");
    assert_eq!(cache_listing(dir.path()), ["eest-v5.4.0", "ethereum-tests-v13.3"]);
    let et_entry = cache.join("ethereum-tests-v13.3");
    assert_eq!(std::fs::read(et_entry.join("GeneralStateTests/stExample/add11.json")).unwrap(), add11());
    let mut et_files: Vec<String> =
        std::fs::read_dir(&et_entry).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    et_files.sort();
    assert_eq!(et_files, ["GeneralStateTests", "manifest.json", "src"]);
    assert!(et_entry.join("src/GeneralStateTestsFiller/stExample/add11Filler.json").is_file(), "fillers kept");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(et_entry.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["url"], et_url.as_str());
    assert_eq!(manifest["bytes"], et.len());
    assert_eq!(manifest["sha256"], sha256_hex(&et).as_str());
    assert_eq!(manifest["members"], 1);
    assert_eq!(manifest["commit"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(std::fs::read(cache.join("eest-v5.4.0/fixtures_develop.tar.gz")).unwrap(), eest_archive());

    // Second run: the cache answers, the server hears nothing.
    let again = conformance(dir.path(), &["state"], &env);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(!stderr(&again).contains("fetching"), "{}", stderr(&again));
    assert_eq!(server.requests().len(), 2, "no request on the second run: {:?}", server.requests());
    assert_eq!(report(dir.path(), "state")["total"], state["total"]);
    // And offline it is the same: the cache needs no network.
    let offline = conformance(dir.path(), &["state", "--offline"], &env);
    assert_eq!(offline.status.code(), Some(0), "{}", stderr(&offline));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn the_wheel_is_fetched_checked_against_its_sha256_and_reused() {
    let server = Server::start();
    let whl = wheel();
    let url = server.route("/pico.whl", Reply::whole(whl.clone()));
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("my-cache");
    let cache_arg = cache.to_str().unwrap();

    // A hash other than the download's: rejected, and nothing stays in the cache.
    let wrong = "0".repeat(64);
    let env = [("CONFORMANCE_RISCV_WHEEL_URL", url.as_str()), ("CONFORMANCE_RISCV_WHEEL_SHA256", wrong.as_str())];
    let out = conformance(dir.path(), &["fetch", "riscv-bodies", "--cache-dir", cache_arg], &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("sha256 {} does not match the pinned {wrong}", sha256_hex(&whl))), "{err}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0, "nothing half-written remains");

    // The right hash: the top-level .S bodies, nothing else, in the --cache-dir given.
    let sha = sha256_hex(&whl);
    let env = [("CONFORMANCE_RISCV_WHEEL_URL", url.as_str()), ("CONFORMANCE_RISCV_WHEEL_SHA256", sha.as_str())];
    let out = conformance(dir.path(), &["fetch", "riscv-bodies", "--cache-dir", cache_arg], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bodies = cache.join("riscv-picorv32-1.0.post218/bodies");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("riscv-bodies: {}", bodies.display()));
    let mut names: Vec<String> =
        std::fs::read_dir(&bodies).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["add.S", "sub.S"]);
    assert_eq!(std::fs::read_to_string(bodies.join("sub.S")).unwrap(), "TEST_RR_OP(2, sub, 0, 1, 1)\n");
    assert!(!dir.path().join("cache").exists(), "--cache-dir wins over CONFORMANCE_CACHE_DIR");
    assert_eq!(server.requests().len(), 2);

    let again = conformance(dir.path(), &["fetch", "riscv-bodies", "--cache-dir", cache_arg], &env);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(server.requests().len(), 2, "reused: {:?}", server.requests());
}

#[test]
fn corrupt_and_truncated_downloads_are_rejected_and_leave_nothing() {
    let server = Server::start();
    let good = eest_archive();
    let mut flipped = good.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0xff;
    let cases = [
        ("/truncated.tar.gz", Reply { body: good[..good.len() / 2].to_vec(), announced: good.len() }, "broke after"),
        ("/corrupt.tar.gz", Reply::whole(flipped), "is not a whole gzipped tar"),
        ("/empty.tar.gz", Reply::whole(tarball(&[("fixtures/blockchain_tests/x.json", b"{}")])), "fewer than the 1"),
    ];
    for (path, reply, why) in cases {
        let url = server.route(path, reply);
        let dir = tempfile::tempdir().unwrap();
        let env = [("CONFORMANCE_EEST_URL", url.as_str())];
        // The suite is skipped with the reason, and a gate run fails on it (exit 2).
        let out = conformance(dir.path(), &["fetch", "eest"], &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(
            err.contains("no EEST fixtures: EEST_FIXTURES is not set") && err.contains("fetching it failed"),
            "{err}"
        );
        assert!(err.contains(why) && err.contains(&url), "{path}: {err}");
        assert_eq!(cache_listing(dir.path()), Vec::<String>::new(), "{path}: nothing half-written remains");
        let gate = conformance(dir.path(), &["--ee", "evm", "--require-all"], &env);
        assert_eq!(gate.status.code(), Some(2), "{}", stderr(&gate));
        assert!(stderr(&gate).contains("eest: no EEST fixtures") && stderr(&gate).contains(why), "{}", stderr(&gate));
        assert_eq!(cache_listing(dir.path()).iter().filter(|n| n.starts_with('.')).count(), 0);
    }
}

#[test]
fn offline_makes_no_connection_and_says_how_to_get_the_vectors() {
    let server = Server::start();
    let et_url = server.route("/tests.tar.gz", Reply::whole(ethereum_tests_archive()));
    let eest_url = server.route("/eest.tar.gz", Reply::whole(eest_archive()));
    let whl_url = server.route("/w.whl", Reply::whole(wheel()));
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("CONFORMANCE_ETHEREUM_TESTS_URL", et_url.as_str()),
        ("CONFORMANCE_EEST_URL", eest_url.as_str()),
        ("CONFORMANCE_RISCV_WHEEL_URL", whl_url.as_str()),
    ];
    let mut offline_env = env.to_vec();
    offline_env.push(("CONFORMANCE_OFFLINE", "1"));
    for (args, env) in [(&["state", "--offline"][..], &env[..]), (&["state"][..], &offline_env[..])] {
        let out = conformance(dir.path(), args, env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        if !submodule_checked_out() {
            assert!(err.contains("state: no vectors") && err.contains("set ETHEREUM_TESTS_DIR"), "{err}");
        }
        assert!(err.contains("eest: no EEST fixtures: EEST_FIXTURES is not set"), "{err}");
        assert!(err.contains("offline (--offline or CONFORMANCE_OFFLINE=1)"), "{err}");
        // Each missing set names the command that provides it.
        assert!(err.contains("`cargo run --release -- fetch eest`"), "{err}");
        assert!(!err.contains("fetching"), "{err}");
    }
    let out = conformance(dir.path(), &["fetch", "riscv-bodies", "--offline"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no riscv-tests bodies in the cache"), "{}", stderr(&out));
    assert!(stderr(&out).contains("`cargo run --release -- fetch riscv-bodies`"), "{}", stderr(&out));
    assert_eq!(server.requests(), Vec::<String>::new(), "no connection was made");
    assert!(!dir.path().join("cache").exists() || cache_listing(dir.path()).is_empty());
}

#[test]
fn an_unreachable_server_is_a_clear_message_and_the_suite_is_skipped() {
    // A port that was just free and is closed now.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/fixtures_develop.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let env = [("CONFORMANCE_EEST_URL", url.as_str()), ("CONFORMANCE_ETHEREUM_TESTS_URL", url.as_str())];
    // Without --require-all: skipped with a warning, the other suites run (the committed cross vectors).
    let out = conformance(dir.path(), &["--ee", "evm", "--quiet"], &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let warning =
        err.lines().find(|l| l.starts_with("warning: suite skipped, eest:")).unwrap_or_else(|| panic!("{err}"));
    assert!(warning.contains("EEST_FIXTURES is not set") && warning.contains(&format!("GET {url}")), "{warning}");
    assert!(warning.to_lowercase().contains("connect"), "the network error is named: {warning}");
    assert!(dir.path().join("reports/cross.json").exists());
    // With it: a setup error, exit 2.
    let gate = conformance(dir.path(), &["--ee", "evm", "--require-all"], &env);
    assert_eq!(gate.status.code(), Some(2), "{}", stderr(&gate));
    assert!(stderr(&gate).contains(&format!("GET {url}")), "{}", stderr(&gate));
    assert!(cache_listing(dir.path()).is_empty(), "{:?}", cache_listing(dir.path()));
}
