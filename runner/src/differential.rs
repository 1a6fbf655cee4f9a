//! `conformance differential eravm`: a seeded campaign of generated EraVM programs and
//! multi-contract worlds, each run on ee-eravm and on zksync_vm2 0.5.0 and compared
//! instruction by instruction and at the end (the crate `eravm-differential`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::progress::{PlainLines, Progress, Silent, TerminalBar};

pub const ABOUT: &str = "\
Differential testing against a reference implementation: seeded generated programs run on our EE
and on the reference, compared instruction by instruction and at the end.";

const ERAVM_HELP: &str = "\
What is compared: ee-eravm (run_stack over a MemoryWorld) against Matter Labs' zksync_vm2 0.5.0
(the oracle crate eravm-oracle). After every instruction, in every frame: pc, r0-r15 with their
pointer tags, the flags, sp, ergs before and after. At the end: outcome, return data, ergs left,
instruction count, storage changes, events, L2->L1 logs, transient storage, pubdata.

What is generated: single contracts (every addressing mode, flags and conditions, near calls with
handlers, heaps, aux heaps and fat pointers, storage, transient storage, events, L2->L1 logs) and
worlds of 2-4 contracts at user and kernel addresses calling each other with callf, callf.st,
calld and callm (kernel only), system calls passing r3-r12, fresh and forwarded calldata, return
data read with ldp and forwarded back, reverts and panics in callees, calls with few ergs
(unpayable decommit, 63/64), calls to addresses without code, kernel ops at kernel addresses;
entry ergs from a few hundred to a million, so out-of-ergs falls on every kind of instruction.
Every run is bounded (5,000 instructions in all frames).

Program i of a campaign has its own seed, derived from --seed and i; a divergence names it.
Each divergence is minimized (instructions replaced with nop, constants shrunk, callees made a
bare ret, ergs halved) while it persists, and saved as a vector <report-dir>/differential-eravm/
<program seed>.json that --replay runs again (format: oracles/eravm-differential/README.md).
Report: <report-dir>/differential-eravm.json
  {\"ee\", \"seed\", \"total\", \"instructions\", \"divergences\": [{\"seed\", \"index\", \"what\", \"ours\",
   \"theirs\", \"vector\"}], \"known_vm2_divergences\": [{\"id\", \"handling\"}], ...}
Exit status: 0 no divergence, 1 any divergence, 2 usage or setup error.

Examples:
  conformance differential eravm --seed 1 --count 100000
  conformance differential eravm --seed 7 --count 2000 --report-dir /tmp/r
  conformance differential eravm --replay reports/differential-eravm/00ab12cd34ef5678.json";

/// The VMs `differential` compares.
#[derive(Debug, Subcommand)]
pub enum Vm {
    /// ee-eravm against zksync_vm2 0.5.0, step by step.
    #[command(after_help = ERAVM_HELP)]
    Eravm(EravmArgs),
    /// ee-riscv against qemu-user (qemu-riscv32) on generated RV32IM ELF programs.
    #[command(after_help = RISCV_HELP)]
    Riscv(RiscvArgs),
}

#[derive(Debug, Args)]
pub struct EravmArgs {
    /// The campaign's seed; program i's own seed is derived from it and i.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// How many programs to generate and compare.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub count: u64,
    /// Instead of generating, replay these saved vectors (files or directories of *.json).
    #[arg(long, value_name = "FILE")]
    pub replay: Vec<PathBuf>,
}

fn progress(quiet: bool) -> Arc<dyn Progress> {
    if quiet {
        Arc::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Arc::new(TerminalBar::new())
    } else {
        let ms = std::env::var("CONFORMANCE_PROGRESS_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
        Arc::new(PlainLines::new(Duration::from_millis(ms)))
    }
}

/// Runs `differential <vm>`; the exit status.
pub fn run(vm: Vm, report_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    let args = match vm {
        Vm::Eravm(args) => args,
        Vm::Riscv(args) => return run_riscv(args, report_dir, quiet),
    };
    // A machine's panic is a divergence with its message; no backtrace on stderr.
    eravm_differential::compare::install_quiet_hook();
    if !args.replay.is_empty() {
        return replay(&args.replay);
    }
    crate::check_report_dir(report_dir)?;
    let progress = progress(quiet);
    progress.begin("differential-eravm", args.count as usize);
    let on_done = || {
        progress.case_finished(progress.case_started(""));
        progress.file_done();
    };
    let vectors = report_dir.join("differential-eravm");
    let summary = eravm_differential::campaign::run(args.seed, args.count, Some(&vectors), None, &on_done)?;
    progress.finish();
    let path = summary.write(report_dir)?;
    for f in &summary.divergences {
        eprintln!(
            "divergence in program {} (seed {}): {}\n  ours:   {}\n  vm2:    {}\n  vector: {}",
            f.index,
            f.seed,
            f.divergence.what,
            f.divergence.ours,
            f.divergence.theirs,
            f.vector_path.as_ref().map_or(String::new(), |p| p.display().to_string())
        );
    }
    eprintln!(
        "differential eravm (seed {}): {} programs, {} instructions compared, {} far calls, {} divergences, {:.1} s; report {}",
        summary.seed,
        summary.total,
        summary.instructions,
        summary.far_calls,
        summary.divergences.len(),
        summary.seconds,
        path.display()
    );
    Ok(if summary.divergences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Replays saved vectors; exit 1 if any still diverges.
fn replay(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "json"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p.clone());
        }
    }
    let mut diverging = 0;
    for f in &files {
        match eravm_differential::campaign::replay(f).map_err(anyhow::Error::msg)? {
            Ok(c) => eprintln!("{}: agrees ({} instructions, {:?})", f.display(), c.steps, c.status),
            Err(d) => {
                diverging += 1;
                eprintln!("{}: {d}", f.display());
            }
        }
    }
    eprintln!("replayed {} vectors: {diverging} diverge", files.len());
    Ok(if diverging == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

const RISCV_HELP: &str = "\
What is compared: ee-riscv (RV32IM, machine mode, Config::riscv_tests: the bootloader's hart) against
Debian's qemu-riscv32 7.2 (package qemu-user; -cpu rv32 with C, F, D, A and Zb* off) running the
same static ELF. A program that ends normally stores x1..x31 to a dump area and calls write(1, data,
len) and exit: qemu prints the data region and the dump; our machine stops at that first ecall and
the registers and memory are read from it. Compared: every register (ours read from the machine,
qemu's from the dump), the 2 KiB data region and the dump. A program that faults: the fault class
(illegal-instruction, misaligned-fetch with its pc, access-fault, breakpoint) - qemu's signal
(SIGILL, SIGSEGV/SIGBUS, SIGTRAP) or its 'unhandled CPU exception 0' against our trap cause.

What is generated: the prologue sets x1..x31 to edge values (0, 1, -1, INT_MIN, INT_MAX, 31, 32,
33, ...) or random ones; then 1-60 items: every RV32I and M instruction (LUI, AUIPC, JAL, JALR,
all branches, loads and stores of every width at aligned and misaligned addresses of the data
region and loads from the text, ALU immediate and register ops, shifts by register amounts >= 32,
MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU with INT_MIN/-1 and division by zero), forward branches
and jumps to item starts, counted loops, fences; one program in twelve has a faulting item
(illegal encodings of both machines, ebreak, loads/stores/jumps to unmapped memory, jumps and
taken branches to 2-byte aligned targets). Every run is bounded (200,000 steps; 20 CPU-seconds
for qemu).

Allow-list (by rule, listed in the report): misaligned-data-trap - one program in sixteen runs
our machine with misaligned data accesses trapping (Config::default); qemu-user performs them.

Program i of a campaign has its own seed, derived from --seed and i. A divergence outside the
allow-list is minimized (items removed, registers and data zeroed) and saved as
<report-dir>/differential-riscv/<program seed>.elf with a .json beside it (seed, what, ours,
theirs, misaligned_access, items); --replay runs saved ELFs again (files or directories).
Report: <report-dir>/differential-riscv.json
  {\"ee\", \"oracle\", \"seed\", \"total\", \"instructions\", \"outcomes\", \"divergences\": [{\"seed\",
   \"index\", \"what\", \"ours\", \"theirs\", \"vector\"}], \"allowed\": [...with \"rule\", \"reason\"],
   \"allowed_by_rule\", \"allow_list\", \"seconds\"}
Exit status: 0 no divergence outside the allow-list, 1 any, 2 usage or setup error (e.g.
qemu-riscv32 missing: apt-get install -y qemu-user, or set QEMU_RISCV32).

Examples:
  conformance differential riscv --seed 1 --count 100000
  conformance differential riscv --seed 7 --count 2000 --report-dir /tmp/r
  conformance differential riscv --replay oracles/riscv-differential/regressions";

#[derive(Debug, Args)]
pub struct RiscvArgs {
    /// The campaign's seed; program i's own seed is derived from it and i.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// How many programs to generate and compare.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub count: u64,
    /// Instead of generating, replay these saved vectors (ELF files or directories of *.elf).
    #[arg(long, value_name = "FILE")]
    pub replay: Vec<PathBuf>,
}

/// `differential riscv`: a campaign or a replay; qemu-riscv32 missing is a setup error.
fn run_riscv(args: RiscvArgs, report_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    let oracle = riscv_differential::qemu::check().map_err(anyhow::Error::msg)?;
    if !args.replay.is_empty() {
        return replay_riscv(&args.replay);
    }
    crate::check_report_dir(report_dir)?;
    let progress = progress(quiet);
    progress.begin("differential-riscv", args.count as usize);
    let on_done = || {
        progress.case_finished(progress.case_started(""));
        progress.file_done();
    };
    let vectors = report_dir.join("differential-riscv");
    let summary = riscv_differential::campaign::run(args.seed, args.count, &oracle, Some(&vectors), &on_done)?;
    progress.finish();
    let path = summary.write(report_dir)?;
    for f in &summary.divergences {
        eprintln!(
            "divergence in program {} (seed {:016x}): {}\n  vector: {}",
            f.index,
            f.seed,
            f.divergence,
            f.vector_path.as_ref().map_or(String::new(), |p| p.display().to_string())
        );
    }
    let outcomes: Vec<String> = summary.outcomes.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let allowed: u64 = summary.allowed_by_rule.values().sum();
    eprintln!(
        "differential riscv (seed {}): {} programs, {} instructions, outcomes: {}; {} divergences, {} allowed; {:.1} s; report {}",
        summary.seed,
        summary.total,
        summary.instructions,
        outcomes.join(", "),
        summary.divergences.len(),
        allowed,
        summary.seconds,
        path.display()
    );
    Ok(if summary.divergences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Replays saved RISC-V vectors; exit 1 if any diverges outside the allow-list.
fn replay_riscv(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let files = riscv_differential::campaign::replay_files(paths).map_err(anyhow::Error::msg)?;
    let mut diverging = 0;
    for f in &files {
        let (ours, _, divergence) = riscv_differential::campaign::replay(f).map_err(anyhow::Error::msg)?;
        match divergence {
            None => eprintln!("{}: agrees ({}, {} instructions)", f.display(), ours.class.name(), ours.instret),
            Some(d) if d.rule.is_some() => eprintln!("{}: allowed: {d}", f.display()),
            Some(d) => {
                diverging += 1;
                eprintln!("{}: {d}", f.display());
            }
        }
    }
    eprintln!("replayed {} vectors: {diverging} diverge", files.len());
    Ok(if diverging == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
