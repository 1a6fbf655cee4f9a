//! Longest first: the one place the suites hand their work (vector files, a test's cases) to
//! the worker threads.
//!
//! A run takes at least its longest case, and ends late when that case starts last. Starting
//! the work expected to take longest first (by the committed predictor, `durations.rs`) lets
//! the short work fill in around it, so a run approaches max(CPU time / threads, longest case).
//! rayon's `par_iter` splits a slice in halves, so the second thread would start in the middle
//! of a sorted list; `par_bridge` hands the items out one at a time, in order, to whichever
//! thread is free.
//!
//! The committed file lists only the slow cases; for the rest (all alike there) a cheap
//! predictor orders the work: a vector file's size, a state-test case's gas limit.

use std::cmp::Ordering;
use std::path::Path;

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::durations::Durations;

/// What a piece of work is expected to take: the committed seconds first, then the cheap
/// predictor (bytes of a file, gas of a case), which only orders work the seconds tie on.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Expected {
    pub secs: f64,
    pub predictor: u64,
}

impl Expected {
    /// A vector file (named as its case ids start): its listed cases' seconds, then its size.
    pub fn file(durations: &Durations, rel: &str, path: &Path) -> Expected {
        Expected { secs: durations.file_secs(rel), predictor: std::fs::metadata(path).map_or(0, |m| m.len()) }
    }

    fn cmp(&self, other: &Expected) -> Ordering {
        self.secs.total_cmp(&other.secs).then(self.predictor.cmp(&other.predictor))
    }
}

/// Runs `run` on every item in parallel, starting items in decreasing `expected` order (ties in
/// their given order), and gathers the outputs in no particular order (reports sort by id).
pub fn longest_first<T, R, I>(
    items: &[T],
    expected: impl Fn(&T) -> Expected,
    run: impl Fn(&T) -> I + Sync + Send,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: IntoIterator<Item = R>,
{
    let keys: Vec<Expected> = items.iter().map(expected).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| keys[b].cmp(&keys[a]).then(a.cmp(&b)));
    match order.as_slice() {
        // One item needs no thread hand-off (a test with one case, most of them).
        [only] => run(&items[*only]).into_iter().collect(),
        _ => order.into_iter().par_bridge().flat_map_iter(|i| run(&items[i])).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_item_runs_once_and_the_longest_start_first() {
        let items: Vec<u32> = (0..200).collect();
        // Expected time: item 150 longest, then 7, then 3 by the predictor, then the rest alike.
        let expected = |i: &u32| match i {
            150 => Expected { secs: 10.0, predictor: 0 },
            7 => Expected { secs: 5.0, predictor: 0 },
            3 => Expected { secs: 0.0, predictor: 1000 },
            _ => Expected { secs: 0.0, predictor: 10 },
        };
        let started = Mutex::new(Vec::new());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let mut out: Vec<u32> = pool.install(|| {
            longest_first(&items, expected, |&i| {
                started.lock().unwrap().push(i);
                [i * 2]
            })
        });
        out.sort();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let started = started.into_inner().unwrap();
        assert_eq!(&started[..4], [150, 7, 3, 0], "longest first, then by the predictor, then as given");
    }
}
