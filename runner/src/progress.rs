//! Progress reporting while a suite runs.
//!
//! Suites talk to a [`Progress`] trait object: a progress bar
//! ([`TerminalBar`], indicatif) when stderr is a terminal, plain periodic
//! lines ([`PlainLines`]) otherwise, so CI logs stay readable.

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
    /// `n` more input files were found after `begin` (members of a tarball, as it streams).
    fn add_files(&self, n: usize);
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
    fn add_files(&self, _: usize) {}
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

impl Counters {
    /// `; slowest running: <id> (N s)` when a case in flight has run longer than [`SLOW`].
    fn slow_note(&self) -> String {
        let mut slow: Vec<(Duration, String)> = {
            let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            running.values().map(|(id, t)| (t.elapsed(), id.clone())).filter(|(d, _)| *d >= SLOW).collect()
        };
        slow.sort_by_key(|s| std::cmp::Reverse(s.0));
        let Some((d, id)) = slow.first() else { return String::new() };
        let mut note = format!("; slowest running: {id} ({} s)", d.as_secs());
        if slow.len() > 1 {
            note += &format!(" and {} more over {} s", slow.len() - 1, SLOW.as_secs());
        }
        note
    }

    fn start_case(&self, id: &str) -> u64 {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        self.running.lock().unwrap_or_else(|e| e.into_inner()).insert(token, (id.to_string(), Instant::now()));
        token
    }

    fn finish_case(&self, token: u64) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&token);
        self.cases.fetch_add(1, Ordering::Relaxed);
    }

    fn reset(&self, files: usize) {
        self.cases.store(0, Ordering::Relaxed);
        self.files.store(0, Ordering::Relaxed);
        self.files_total.store(files, Ordering::Relaxed);
    }
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
        self.counters.reset(files);
        let (tx, rx) = mpsc::channel::<()>();
        let counters = self.counters.clone();
        let interval = self.interval;
        let suite = suite.to_string();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            // A line every interval, and a last one when `finish` drops the sender, so even a
            // run shorter than the interval leaves its count in the log.
            loop {
                let last = !matches!(rx.recv_timeout(interval), Err(RecvTimeoutError::Timeout));
                let cases = counters.cases.load(Ordering::Relaxed);
                let rate = cases as f64 / start.elapsed().as_secs_f64().max(1e-9);
                let files = counters.files.load(Ordering::Relaxed);
                let files_total = counters.files_total.load(Ordering::Relaxed);
                let line = format!("{suite}: {cases} cases, {files}/{files_total} files, {rate:.0} cases/s");
                let _ = writeln!(std::io::stderr(), "{line}{}", counters.slow_note());
                if last {
                    break;
                }
            }
        });
        *self.ticker.lock().unwrap_or_else(|e| e.into_inner()) = Some((tx, handle));
    }

    fn case_started(&self, id: &str) -> u64 {
        self.counters.start_case(id)
    }

    fn case_finished(&self, token: u64) {
        self.counters.finish_case(token)
    }

    fn add_files(&self, n: usize) {
        self.counters.files_total.fetch_add(n, Ordering::Relaxed);
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

/// A progress bar on a terminal (indicatif): files done of the total with
/// rate and ETA, the cases run so far, and the slowest case in flight.
pub struct TerminalBar {
    counters: Arc<Counters>,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl TerminalBar {
    pub fn new() -> TerminalBar {
        TerminalBar { counters: Arc::default(), bar: Mutex::new(None) }
    }

    fn refresh(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.set_position(self.counters.files.load(Ordering::Relaxed) as u64);
            let cases = self.counters.cases.load(Ordering::Relaxed);
            let rate = cases as f64 / bar.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{cases} cases, {rate:.0}/s{}", self.counters.slow_note()));
        }
    }
}

impl Default for TerminalBar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalBar {
    fn begin(&self, suite: &str, files: usize) {
        self.finish();
        self.counters.reset(files);
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30.green/white}] {pos}/{len} files {msg} (ETA {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = indicatif::ProgressBar::new(files as u64).with_style(style).with_prefix(suite.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn case_started(&self, id: &str) -> u64 {
        self.counters.start_case(id)
    }

    fn case_finished(&self, token: u64) {
        self.counters.finish_case(token)
    }

    fn add_files(&self, n: usize) {
        self.counters.files_total.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.inc_length(n as u64);
        }
    }

    fn file_done(&self) {
        self.counters.files.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}
