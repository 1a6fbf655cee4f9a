//! Longest first: the one place the suites hand their work (vector files, a test's cases) to
//! the worker threads.
//!
//! A run takes at least its longest case, and ends late when that case starts last. Starting
//! the work expected to take longest first (by the committed predictor, `durations.rs`) lets
//! the short work fill in around it, so a run approaches max(CPU time / threads, longest case).
//! rayon's `par_iter` splits a slice in halves, so the second thread would start in the middle
//! of a sorted list; `par_bridge` hands the items out one at a time, in order, to whichever
//! thread is free.

use rayon::iter::{ParallelBridge, ParallelIterator};

/// Runs `run` on every item in parallel, starting items in decreasing `expected` order (ties in
/// their given order), and gathers the outputs in no particular order (reports sort by id).
pub fn longest_first<T, R, I>(items: &[T], expected: impl Fn(&T) -> f64, run: impl Fn(&T) -> I + Sync + Send) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: IntoIterator<Item = R>,
{
    let keys: Vec<f64> = items.iter().map(expected).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
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
        // Expected time: item 150 longest, then 7, then the rest alike.
        let expected = |i: &u32| match i {
            150 => 10.0,
            7 => 5.0,
            _ => 0.0,
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
        assert_eq!(&started[..3], [150, 7, 0], "longest first, then in the given order");
    }
}
