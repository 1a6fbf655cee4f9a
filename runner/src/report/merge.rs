//! `conformance merge DIR...`: the reports of the N shards of one run (`--shard K/N`, one
//! report directory each) put back together into the reports, and the verdict, of a single
//! unsharded run.
//!
//! Only what the shards' `<suite>.json` files hold is merged; `junit.xml`, `summary.md` and
//! `index.html` are written again from the whole. The shards must fit together exactly: every
//! shard K of the same N once, the same suites in each, no case in two. Anything else is a
//! setup error (exit 2) naming the file, since a merged report missing cases would look green.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use super::{CaseRecord, ShardInfo, SuiteReport};
use crate::suites::SuiteKind;

/// The fields of a shard's `<suite>.json` that the merge needs (counts are recomputed).
#[derive(Deserialize)]
struct ShardFile {
    suite: String,
    wall_time_s: f64,
    shard: Option<ShardInfo>,
    cases: Vec<CaseRecord>,
}

/// One shard's report directory: its suite reports, each with its path.
struct ShardDir {
    dir: PathBuf,
    files: BTreeMap<SuiteKind, (PathBuf, ShardFile)>,
}

impl ShardDir {
    /// The first report of the directory and its shard (every report there has the same).
    fn info(&self) -> (&Path, ShardInfo) {
        let (path, file) = self.files.values().next().expect("a shard directory holds a report");
        (path, file.shard.expect("checked when read"))
    }
}

/// One suite put back together.
pub struct MergedSuite {
    pub suite: SuiteKind,
    pub report: SuiteReport,
    /// Every shard ran on the suite's whole default vectors: the minimums apply.
    pub whole_default_vectors: bool,
}

/// Reads the shard report directories and merges them suite by suite (in [`SuiteKind::ALL`]
/// order). The merged wall time is the longest shard's: the shards run side by side.
pub fn load(dirs: &[PathBuf]) -> anyhow::Result<Vec<MergedSuite>> {
    anyhow::ensure!(!dirs.is_empty(), "name the shards' report directories");
    let mut shards = Vec::new();
    for dir in dirs {
        anyhow::ensure!(dir.is_dir(), "shard report directory {} does not exist", dir.display());
        shards.push(ShardDir { dir: dir.clone(), files: read_shard_dir(dir)? });
    }

    // Every directory is one shard: the same N everywhere, each K once.
    let (first_path, first) = shards[0].info();
    let mut seen: BTreeMap<usize, &Path> = BTreeMap::new();
    for s in &shards {
        let (path, info) = s.info();
        if info.count != first.count {
            anyhow::bail!(
                "{} is shard {}/{}, but {} is of {} shards: the shards are of different runs",
                path.display(),
                info.index,
                info.count,
                first_path.display(),
                first.count
            );
        }
        if let Some(other) = seen.insert(info.index, &s.dir) {
            anyhow::bail!("{} and {} are both shard {}/{}", other.display(), s.dir.display(), info.index, info.count);
        }
    }
    let missing: Vec<String> =
        (1..=first.count).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{}", first.count)).collect();
    anyhow::ensure!(
        missing.is_empty(),
        "shard {} missing: no report directory among {} holds it",
        missing.join(", "),
        display_all(dirs)
    );

    // The same suites in every shard.
    let suites: BTreeSet<SuiteKind> = shards.iter().flat_map(|s| s.files.keys().copied()).collect();
    for ShardDir { dir, files } in &shards {
        if let Some(suite) = suites.iter().find(|s| !files.contains_key(s)) {
            let other = shards.iter().find(|s| s.files.contains_key(suite)).map(|s| s.dir.clone()).unwrap_or_default();
            anyhow::bail!(
                "{} is missing: {} has a {} report, and every shard of a run holds the same suites",
                dir.join(format!("{}.json", suite.name())).display(),
                other.display(),
                suite.name()
            );
        }
    }

    let mut merged = Vec::new();
    for suite in SuiteKind::ALL.into_iter().filter(|s| suites.contains(s)) {
        let mut owner: HashMap<String, PathBuf> = HashMap::new();
        let mut cases = Vec::new();
        let mut wall = 0.0f64;
        let mut whole = true;
        for shard in &mut shards {
            let (path, file) = shard.files.remove(&suite).expect("checked above");
            for case in &file.cases {
                if let Some(other) = owner.insert(case.id.clone(), path.clone()) {
                    anyhow::bail!(
                        "case {} is in both {} and {}: the shards overlap (were they run with different \
                         --durations files or selections?)",
                        case.id,
                        other.display(),
                        path.display()
                    );
                }
            }
            wall = wall.max(file.wall_time_s);
            whole &= file.shard.is_some_and(|s| s.whole_default_vectors);
            cases.extend(file.cases);
        }
        let report = SuiteReport::new(suite.name(), cases, Duration::from_secs_f64(wall.max(0.0)))
            .with_group_label(suite.group_label());
        merged.push(MergedSuite { suite, report, whole_default_vectors: whole });
    }
    Ok(merged)
}

/// The suite reports in one shard's directory, each checked to be a shard's report.
fn read_shard_dir(dir: &Path) -> anyhow::Result<BTreeMap<SuiteKind, (PathBuf, ShardFile)>> {
    let mut files = BTreeMap::new();
    let mut index: Option<(PathBuf, ShardInfo)> = None;
    for suite in SuiteKind::ALL {
        let path = dir.join(format!("{}.json", suite.name()));
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let file: ShardFile =
            serde_json::from_str(&text).with_context(|| format!("{} is not a suite report", path.display()))?;
        anyhow::ensure!(
            file.suite == suite.name(),
            "{} is a report of the {} suite, not of {}",
            path.display(),
            file.suite,
            suite.name()
        );
        let Some(info) = file.shard else {
            anyhow::bail!(
                "{} is not a shard's report (it has no \"shard\"): run each shard with --shard K/N",
                path.display()
            );
        };
        if let Some((other, first)) = &index {
            anyhow::ensure!(
                (first.index, first.count) == (info.index, info.count),
                "{} is shard {}/{}, but {} beside it is shard {}/{}: one directory per shard",
                path.display(),
                info.index,
                info.count,
                other.display(),
                first.index,
                first.count
            );
        } else {
            index = Some((path.clone(), info));
        }
        files.insert(suite, (path, file));
    }
    anyhow::ensure!(
        !files.is_empty(),
        "{} holds no suite report ({}.json)",
        dir.display(),
        SuiteKind::ALL.map(SuiteKind::name).join(".json, ")
    );
    Ok(files)
}

fn display_all(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}
