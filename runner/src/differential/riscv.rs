//! `conformance differential riscv`: generated RV32IM programs as static ELFs, run on ee-riscv
//! and on qemu-user's qemu-riscv32 (the crate `riscv-differential`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CampaignArgs;

pub const HELP: &str = "\
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

/// `differential riscv`: a campaign or a replay; qemu-riscv32 missing is a setup error.
pub fn run(args: CampaignArgs, report_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    let oracle = riscv_differential::qemu::check().map_err(anyhow::Error::msg)?;
    if !args.replay.is_empty() {
        return replay(&args.replay);
    }
    crate::check_report_dir(report_dir)?;
    let vectors = report_dir.join("differential-riscv");
    let summary = super::with_progress("differential-riscv", args.count, quiet, |on_done| {
        Ok(riscv_differential::campaign::run(args.seed, args.count, &oracle, Some(&vectors), on_done)?)
    })?;
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
    Ok(super::exit_status(summary.divergences.len()))
}

/// Replays saved RISC-V vectors; exit 1 if any diverges outside the allow-list.
fn replay(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
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
    Ok(super::exit_status(diverging))
}
