//! `conformance differential eravm`: a seeded campaign of generated EraVM programs and
//! multi-contract worlds, each run on ee-eravm and on zksync_vm2 0.5.0 and compared
//! instruction by instruction and at the end (the crate `eravm-differential`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CampaignArgs;

pub const HELP: &str = "\
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

/// Runs `differential eravm`; the exit status.
pub fn run(args: CampaignArgs, report_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    // A machine's panic is a divergence with its message; no backtrace on stderr.
    eravm_differential::compare::install_quiet_hook();
    if !args.replay.is_empty() {
        return replay(&args.replay);
    }
    crate::check_report_dir(report_dir)?;
    let vectors = report_dir.join("differential-eravm");
    let summary = super::with_progress("differential-eravm", args.count, quiet, |on_done| {
        Ok(eravm_differential::campaign::run(args.seed, args.count, Some(&vectors), None, on_done)?)
    })?;
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
    Ok(super::exit_status(summary.divergences.len()))
}

/// Replays saved vectors; exit 1 if any still diverges.
fn replay(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let files = super::replay_files(paths, "json")?;
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
    Ok(super::exit_status(diverging))
}
