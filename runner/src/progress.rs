//! Progress reporting while a suite runs.
//!
//! Suites talk to a [`Progress`] trait object, so a terminal progress bar
//! (indicatif) can later replace the plain periodic lines without touching
//! the suites.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Receives progress events from a running suite. Called from many threads.
pub trait Progress: Send + Sync {
    /// A suite starts with this many input files.
    fn begin(&self, suite: &str, files: usize);
    /// A case starts; the token goes back to [`Progress::case_finished`].
    fn case_started(&self, id: &str) -> u64;
    /// The case of `token` is over.
    fn case_finished(&self, token: u64);
    /// One input file is fully processed.
    fn file_done(&self);
    /// The suite is over; stop any output.
    fn finish(&self);
}

/// Prints nothing (`--quiet`).
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: usize) {}
    fn case_started(&self, _: &str) -> u64 {
        0
    }
    fn case_finished(&self, _: u64) {}
    fn file_done(&self) {}
    fn finish(&self) {}
}

#[derive(Default)]
struct Counters {
    cases: AtomicUsize,
    files: AtomicUsize,
    files_total: AtomicUsize,
    next_token: AtomicU64,
    /// Cases in flight, so that slow ones can be named.
    running: Mutex<HashMap<u64, (String, Instant)>>,
}

/// Cases running longer than this are named on the progress line.
const SLOW: Duration = Duration::from_secs(10);

/// Prints a plain line to stderr every `interval`:
/// `state: 12345 cases, 812/2802 files, 3456 cases/s`, naming the slowest
/// case in flight when one has run for more than 10 s.
/// (The number of cases is only known once every file is parsed, so the
/// line counts files against their total.)
pub struct PlainLines {
    interval: Duration,
    counters: Arc<Counters>,
    ticker: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

impl PlainLines {
    pub fn new(interval: Duration) -> PlainLines {
        PlainLines { interval, counters: Arc::default(), ticker: Mutex::new(None) }
    }
}

impl Progress for PlainLines {
    fn begin(&self, suite: &str, files: usize) {
        self.finish();
        self.counters.cases.store(0, Ordering::Relaxed);
        self.counters.files.store(0, Ordering::Relaxed);
        self.counters.files_total.store(files, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel::<()>();
        let counters = self.counters.clone();
        let interval = self.interval;
        let suite = suite.to_string();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            // Wakes every interval until `finish` drops the sender.
            while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                let cases = counters.cases.load(Ordering::Relaxed);
                let rate = cases as f64 / start.elapsed().as_secs_f64().max(1e-9);
                let mut line = format!(
                    "{suite}: {cases} cases, {}/{} files, {rate:.0} cases/s",
                    counters.files.load(Ordering::Relaxed),
                    counters.files_total.load(Ordering::Relaxed),
                );
                let mut slow: Vec<(Duration, String)> = {
                    let running = counters.running.lock().unwrap_or_else(|e| e.into_inner());
                    running.values().map(|(id, t)| (t.elapsed(), id.clone())).filter(|(d, _)| *d >= SLOW).collect()
                };
                slow.sort_by_key(|s| std::cmp::Reverse(s.0));
                if let Some((d, id)) = slow.first() {
                    line += &format!("; slowest running: {id} ({} s)", d.as_secs());
                    if slow.len() > 1 {
                        line += &format!(" and {} more over {} s", slow.len() - 1, SLOW.as_secs());
                    }
                }
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        });
        *self.ticker.lock().unwrap_or_else(|e| e.into_inner()) = Some((tx, handle));
    }

    fn case_started(&self, id: &str) -> u64 {
        let token = self.counters.next_token.fetch_add(1, Ordering::Relaxed);
        let mut running = self.counters.running.lock().unwrap_or_else(|e| e.into_inner());
        running.insert(token, (id.to_string(), Instant::now()));
        token
    }

    fn case_finished(&self, token: u64) {
        self.counters.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&token);
        self.counters.cases.fetch_add(1, Ordering::Relaxed);
    }

    fn file_done(&self) {
        self.counters.files.fetch_add(1, Ordering::Relaxed);
    }

    fn finish(&self) {
        let ticker = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((tx, handle)) = ticker {
            drop(tx);
            let _ = handle.join();
        }
    }
}
