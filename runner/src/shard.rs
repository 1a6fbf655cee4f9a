//! `--shard K/N`: which cases shard K of N runs, so N CI machines split one run and
//! `conformance merge` puts it back together.
//!
//! The partition is a function of the case id, the committed durations file and the selection
//! options, nothing else: the same on every machine, whatever its thread count, and decidable
//! as each suite meets a case (no pass to list every case first). Cases the durations file
//! lists as slow are dealt out by greedy longest-processing-time over their sorted ids (each,
//! longest first, to the shard with the least expected time so far); every other case goes by
//! a fixed hash of its id, which spreads the many short cases evenly.

use std::collections::HashMap;

use ee_api::Fork;
use regex::Regex;

use crate::durations::Durations;

/// Shard `index` (1-based, as written) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard`'s value parser: `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(s: &str) -> Result<ShardSpec, String> {
    let bad = || format!("expected K/N with 1 <= K <= N (e.g. 2/3), got {s:?}");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(ShardSpec { index, count })
}

/// Which shard each case belongs to.
#[derive(Debug)]
pub struct Partition {
    pub spec: ShardSpec,
    /// The slow cases' shards (0-based), from the longest-processing-time assignment.
    slow: HashMap<String, usize>,
}

/// The selection options the slow cases are narrowed by before they are dealt out.
pub struct Selection<'a> {
    pub filter: Option<&'a Regex>,
    pub forks: &'a [Fork],
    pub case: Option<&'a str>,
}

impl Partition {
    /// Deals the slow cases that `selection` may select out to `spec.count` shards, suite by suite.
    pub fn new(spec: ShardSpec, durations: &Durations, selection: &Selection) -> Partition {
        let mut slow = HashMap::new();
        for (_suite, cases) in durations.slow_cases() {
            let selected: Vec<(&str, f64)> =
                cases.iter().filter(|(id, _)| selection.may_select(id)).map(|(id, s)| (id.as_str(), *s)).collect();
            for (id, shard) in longest_processing_time(&selected, spec.count) {
                slow.entry(id.to_string()).or_insert(shard);
            }
        }
        Partition { spec, slow }
    }

    /// The 0-based shard of a case.
    pub fn shard_of(&self, id: &str) -> usize {
        match self.slow.get(id) {
            Some(&shard) => shard,
            None => (fnv1a(id.as_bytes()) % self.spec.count as u64) as usize,
        }
    }

    /// Whether this shard runs the case.
    pub fn owns(&self, id: &str) -> bool {
        self.shard_of(id) == self.spec.index - 1
    }
}

impl Selection<'_> {
    /// Whether a case id may be selected. Only for balance: each suite decides exactly (the
    /// filter is matched against the id's leading `::` parts, which is what the suites match).
    fn may_select(&self, id: &str) -> bool {
        if let Some(case) = self.case {
            return case == id;
        }
        let parts: Vec<&str> = id.split("::").collect();
        let filter_ok = self.filter.is_none_or(|re| (1..=parts.len()).any(|n| re.is_match(&parts[..n].join("::"))));
        // State-test ids: file::test::fork::dD:gG:vV.
        let fork_ok = self.forks.is_empty()
            || parts.get(2).and_then(|f| Fork::from_name(f)).is_none_or(|f| self.forks.contains(&f));
        filter_ok && fork_ok
    }
}

/// Greedy longest-processing-time: cases by decreasing seconds (ties by id), each to the shard
/// with the least expected time so far (ties to the lowest shard). Within 4/3 of the best split.
fn longest_processing_time<'a>(cases: &[(&'a str, f64)], shards: usize) -> Vec<(&'a str, usize)> {
    let mut order: Vec<&(&str, f64)> = cases.iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let mut load = vec![0.0f64; shards];
    order
        .into_iter()
        .map(|&(id, secs)| {
            let lightest = (0..shards).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
            load[lightest] += secs;
            (id, lightest)
        })
        .collect()
}

/// 64-bit FNV-1a: a hash fixed by its definition (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Selection = Selection { filter: None, forks: &[], case: None };

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("st{}/t{i}.json::t{i}::Cancun::d{}:g0:v0", i % 37, i % 5)).collect()
    }

    /// A predictor with a few dozen slow cases of very different lengths among `ids`.
    fn durations(ids: &[String]) -> Durations {
        let slow: Vec<(&str, f64)> =
            ids.iter().step_by(97).enumerate().map(|(i, id)| (id.as_str(), 0.2 + (i * i % 50) as f64)).collect();
        Durations::for_tests("state", &slow)
    }

    #[test]
    fn shard_values_parse_and_bad_ones_say_why() {
        assert_eq!(parse_shard("2/3"), Ok(ShardSpec { index: 2, count: 3 }));
        assert_eq!(parse_shard("1/1"), Ok(ShardSpec { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "3", "a/3", "1/0", "-1/3", ""] {
            let e = parse_shard(bad).unwrap_err();
            assert!(e.contains("1 <= K <= N"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_partition_is_complete_disjoint_and_deterministic() {
        let ids = ids(5000);
        let d = durations(&ids);
        let shards: Vec<Partition> =
            (1..=3).map(|k| Partition::new(ShardSpec { index: k, count: 3 }, &d, &ALL)).collect();
        for id in &ids {
            let owners = shards.iter().filter(|p| p.owns(id)).count();
            assert_eq!(owners, 1, "{id} is in {owners} shards");
        }
        // Built again (as on another machine), every case lands in the same shard.
        let again = Partition::new(ShardSpec { index: 1, count: 3 }, &d, &ALL);
        assert!(ids.iter().all(|id| again.shard_of(id) == shards[0].shard_of(id)));
    }

    #[test]
    fn shards_are_balanced_by_expected_time() {
        let ids = ids(30_000);
        let d = durations(&ids);
        let short = 0.01;
        for n in [2, 3, 5] {
            let p = Partition::new(ShardSpec { index: 1, count: n }, &d, &ALL);
            let mut secs = vec![0.0; n];
            for id in &ids {
                secs[p.shard_of(id)] += d.case_secs(id).max(short);
            }
            let (min, max) = secs.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let longest = ids.iter().map(|id| d.case_secs(id)).fold(0.0, f64::max);
            // LPT leaves at most one slow case's worth of difference; the hash a few percent of the rest.
            let rest = ids.len() as f64 * short / n as f64;
            assert!(max - min <= longest + 0.05 * rest, "{n} shards: {secs:?}");
        }
    }

    #[test]
    fn longest_processing_time_deals_longest_first_to_the_lightest() {
        let cases = [("a", 5.0), ("b", 4.0), ("c", 3.0), ("d", 3.0), ("e", 3.0)];
        // Loads step by step: a→0 (5, 0), b→1 (5, 4), c→1 (5, 7), d→0 (8, 7), e→1 (8, 10).
        assert_eq!(longest_processing_time(&cases, 2), [("a", 0), ("b", 1), ("c", 1), ("d", 0), ("e", 1)]);
    }

    #[test]
    fn the_selection_narrows_the_slow_cases_dealt_out() {
        let d = Durations::for_tests(
            "state",
            &[
                ("x/a.json::a::Cancun::d0:g0:v0", 9.0),
                ("y/b.json::b::Cancun::d0:g0:v0", 5.0),
                ("y/c.json::c::Prague::d0:g0:v0", 4.0),
            ],
        );
        let re = Regex::new("^y/").unwrap();
        let only_y = Selection { filter: Some(&re), forks: &[], case: None };
        let p = Partition::new(ShardSpec { index: 1, count: 2 }, &d, &only_y);
        // Without x's 9 s case in the way, y's two cases go to different shards.
        assert_ne!(p.shard_of("y/b.json::b::Cancun::d0:g0:v0"), p.shard_of("y/c.json::c::Prague::d0:g0:v0"));
        let cancun = Selection { filter: None, forks: &[Fork::Cancun], case: None };
        assert!(!cancun.may_select("y/c.json::c::Prague::d0:g0:v0"));
        assert!(cancun.may_select("y/b.json::b::Cancun::d0:g0:v0"));
    }
}
