//! Conformance suites. Each suite turns vector files into [`CaseRecord`]s;
//! reporting, the baseline and exit codes are shared (see `report` and
//! `baseline`). A new suite (e.g. `wasm`, `riscv`) is a sibling module plus a
//! [`SuiteKind`] variant.
//!
//! [`CaseRecord`]: crate::report::CaseRecord

pub mod cross;
pub mod eravm;
pub mod json_files;
pub mod riscv;
pub mod state;
pub mod wasm;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ee_api::Fork;
use regex::Regex;

use crate::progress::Progress;
use crate::report::SuiteReport;
use crate::trace::TraceOptions;

/// Reads one vector file of a JSON-vector suite; a file that cannot be read or parsed is
/// one failing case `<rel>::file` (when selected), and the run goes on.
pub fn read_vector_file<T: serde::de::DeserializeOwned>(
    rel: &str,
    path: &std::path::Path,
    opts: &RunOptions,
) -> Result<T, Vec<crate::report::CaseRecord>> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| serde_json::from_str::<T>(&text).map_err(|e| format!("{rel}: {e}")))
        .map_err(|e| {
            let id = format!("{rel}::file");
            if opts.selects(&id) && opts.in_shard(&id) {
                vec![crate::report::CaseRecord::new(id, Some(rel.to_string()), crate::report::Verdict::Fail, Some(e))]
            } else {
                Vec::new()
            }
        })
}

/// Options every suite honours.
#[derive(Clone)]
pub struct RunOptions {
    /// Forks to run; empty means all.
    pub forks: Vec<Fork>,
    /// Matched against `file::test`.
    pub filter: Option<Regex>,
    /// Per-case time bound; zero means none.
    pub case_timeout: Duration,
    pub progress: Arc<dyn Progress>,
    /// Run only the case with this exact id (`--case`).
    pub case: Option<String>,
    /// `--trace`: the selection must be one case, run with an EIP-3155 tracer.
    pub trace: Option<TraceOptions>,
    /// `--reference` (feature `reference-revm`): compare failing cases, and a `--case`, with revm.
    /// Always false without the feature (then nothing reads it).
    #[cfg_attr(not(feature = "reference-revm"), allow(dead_code))]
    pub reference: bool,
    /// `--require-all` (or CI=true): a case of a fork this build does not know fails instead of
    /// being skipped.
    pub require_all: bool,
    /// The committed expected duration of each case: the longest start first (`schedule.rs`).
    pub durations: Arc<crate::durations::Durations>,
    /// `--shard K/N`: run only the cases of this shard (`shard.rs`).
    pub shard: Option<Arc<crate::shard::Partition>>,
}

impl RunOptions {
    /// Whether `file::test` passes the filter.
    pub fn selects(&self, file_and_test: &str) -> bool {
        self.filter.as_ref().is_none_or(|re| re.is_match(file_and_test))
            && self.case.as_ref().is_none_or(|id| id.starts_with(&format!("{file_and_test}::")))
    }

    /// Whether the case with this id passes `--case` and is in this run's shard (the filter and
    /// forks apply before).
    pub fn selects_case(&self, id: &str) -> bool {
        self.case.as_ref().is_none_or(|c| c == id) && self.in_shard(id)
    }

    /// Whether this run's `--shard` (if any) holds the case (or the file error) with this id.
    pub fn in_shard(&self, id: &str) -> bool {
        self.shard.as_ref().is_none_or(|p| p.owns(id))
    }
}

/// The available suites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SuiteKind {
    /// ethereum/tests `GeneralStateTests` through the bootloader and the EVM.
    State,
    /// EEST state-test fixtures (`state_tests/`, a directory or a tarball), the same way.
    Eest,
    /// riscv-tests ELFs (rv32ui, rv32um) through the bootloader and the RISC-V EE.
    Riscv,
    /// WebAssembly core spec scripts (`.wast`) through the bootloader and the WASM EE.
    Wasm,
    /// The project's cross-EE vectors (`wasm-vectors/`): transactions through EVM, WASM and RISC-V frames.
    Cross,
    /// The EraVM vectors (`eravm-vectors/`): zksolc contracts on the EraVM EE under the
    /// bootloader, against expectations recorded from vm2.
    Eravm,
}

impl SuiteKind {
    /// Every suite, in the order `conformance` without a subcommand runs them.
    pub const ALL: [SuiteKind; 6] =
        [SuiteKind::State, SuiteKind::Eest, SuiteKind::Wasm, SuiteKind::Riscv, SuiteKind::Cross, SuiteKind::Eravm];

    /// Name used for the report file and in baseline entries.
    pub fn name(self) -> &'static str {
        match self {
            SuiteKind::State => "state",
            SuiteKind::Eest => "eest",
            SuiteKind::Riscv => "riscv",
            SuiteKind::Wasm => "wasm",
            SuiteKind::Cross => "cross",
            SuiteKind::Eravm => "eravm",
        }
    }

    /// What the suite's reports group cases by (its `SuiteReport::with_group_label`), for
    /// reports rebuilt from JSON (`conformance merge`).
    pub fn group_label(self) -> &'static str {
        match self {
            SuiteKind::State | SuiteKind::Eest => "fork",
            SuiteKind::Wasm | SuiteKind::Riscv => "group",
            SuiteKind::Cross | SuiteKind::Eravm => "file",
        }
    }

    /// The execution environments whose code the suite runs (`--ee`).
    pub fn ees(self) -> &'static [&'static str] {
        match self {
            SuiteKind::State | SuiteKind::Eest => &["evm"],
            SuiteKind::Riscv => &["riscv"],
            SuiteKind::Wasm => &["wasm"],
            SuiteKind::Cross => &["evm", "wasm", "riscv"],
            SuiteKind::Eravm => &["eravm"],
        }
    }

    /// Where the suite's vectors are when no path is given (none: the `wasm` suite's
    /// scripts are built in); the state suites' pinned vectors are fetched into the cache
    /// when missing, as `fetch` allows.
    pub fn default_paths(self, fetch: &crate::fetch::Options) -> anyhow::Result<Vec<PathBuf>> {
        match self {
            SuiteKind::State => Ok(vec![crate::vectors::default_root(state::VECTORS_DIR, fetch)?]),
            SuiteKind::Eest => Ok(vec![crate::vectors::default_eest(fetch)?]),
            SuiteKind::Riscv => Ok(vec![riscv::default_dir(fetch)?]),
            SuiteKind::Wasm => Ok(Vec::new()),
            SuiteKind::Cross => Ok(vec![cross::default_dir()?]),
            SuiteKind::Eravm => Ok(vec![eravm::default_dir()?]),
        }
    }

    pub fn run(self, paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
        match self {
            SuiteKind::State => state::run(self.name(), paths, opts),
            SuiteKind::Eest => state::run(self.name(), paths, opts),
            SuiteKind::Riscv => riscv::run(paths, opts),
            SuiteKind::Wasm => wasm::run(paths, opts),
            SuiteKind::Cross => cross::run(paths, opts),
            SuiteKind::Eravm => eravm::run(paths, opts),
        }
    }
}
