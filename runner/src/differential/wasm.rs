//! `conformance differential wasm`: wasm-smith modules on ee-wasm and wasmi 2.0 in lockstep
//! (the crate `wasm-differential`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CampaignArgs;

pub const HELP: &str = "\
What is generated: modules from wasm-smith 0.263 (driven by a byte buffer filled from the case's
seed) restricted to ee-wasm's feature set: wasm v1 + v2 without SIMD (mutable globals, sign
extension, non-trapping float-to-int, multi-value, bulk memory, reference types); no imports;
memories (at most 4 pages) and tables (at most 200 elements) with maxima; NaNs canonicalized;
every entity exported. Then 3 rounds of invocations of every exported function in a shuffled
order, with edge-value arguments (0, 1, -1, MIN, MAX, +-0.0, +-inf, canonical NaN, subnormals,
null and host references) or random ones.

What is compared, in lockstep: validation (ee-wasm must accept every module), instantiation
(both succeed, or both trap with the same kind: segments out of bounds, the start function),
every invocation's results bit for bit or its trap kind (unreachable, memory/table out of bounds,
indirect call type mismatch, uninitialized element, divide by zero, overflow, invalid
conversion, stack overflow, out of fuel), and after instantiation and each invocation every
exported global, the size and full contents of every exported memory and every table's size.
Each invocation has fuel on both sides (20,000 ours, 60,000 wasmi's units) and both have a call
depth of 300.

Allow-list (rules, with reasons in the report and oracles/wasm-differential/README.md):
  out-of-fuel                    one side ran out of fuel: the metering differs, the case stops
  wasmi-store-translation-panic  wasmi 2.0.0 panics translating some stores (one local stored
                                 at itself); ee-wasm must still take the module
  wasmi-select-of-i32-eqz        wasmi 2.0.0 ignores an `i32.eqz` right before `select`: any
                                 difference in a module with that pattern stops the case
A panic on either side is otherwise a divergence.

Case i of a campaign has its own seed, derived from --seed and i; a divergence names it. Each
divergence is minimized (invocations dropped, exports dropped, start dropped, bodies replaced by
unreachable) and saved as a .wast script <report-dir>/differential-wasm/<case seed>.wast whose
expectations are wasmi's: `conformance wasm --wast-dir DIR` runs it on the EE, --replay compares
it on both engines again.
Report: <report-dir>/differential-wasm.json
  {\"ee\", \"seed\", \"total\", \"instantiated\", \"instantiation_traps\", \"invocations\", \"returns\",
   \"traps\", \"exhausted\", \"instructions\", \"divergences\": [{\"seed\", \"index\", \"kind\", \"what\",
   \"ours\", \"theirs\", \"vector\"}], \"allowed\": [{\"rule\", \"reason\", \"count\", \"examples\"}], ...}
Exit status: 0 no divergence outside the allow-list, 1 any, 2 usage or setup error.

Examples:
  conformance differential wasm --seed 1 --count 100000
  conformance differential wasm --seed 7 --count 2000 --report-dir /tmp/r
  conformance differential wasm --replay reports/differential-wasm/00ab12cd34ef5678.wast";

/// Runs `differential wasm`; the exit status.
pub fn run(args: CampaignArgs, report_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    wasm_differential::compare::install_quiet_hook();
    if !args.replay.is_empty() {
        return replay(&args.replay);
    }
    crate::check_report_dir(report_dir)?;
    let vectors = report_dir.join("differential-wasm");
    let summary = super::with_progress("differential-wasm", args.count, quiet, |on_done| {
        Ok(wasm_differential::campaign::run(args.seed, args.count, Some(&vectors), None, on_done)?)
    })?;
    let path = summary.write(report_dir)?;
    for f in &summary.divergences {
        eprintln!(
            "divergence in module {} (seed {}): {}\n  vector: {}",
            f.index,
            f.seed,
            f.divergence,
            f.vector_path.as_ref().map_or(String::new(), |p| p.display().to_string())
        );
    }
    let traps: u64 = summary.traps.values().sum();
    let allowed: u64 = summary.allowed.values().map(|a| a.count).sum();
    eprintln!(
        "differential wasm (seed {}): {} modules, {} instantiated, {} invocations ({} returned, {} trapped), {} \
         exhausted, {} allowed, {} divergences, {:.1} s; report {}",
        summary.seed,
        summary.total,
        summary.instantiated,
        summary.invocations,
        summary.returns,
        traps,
        summary.exhausted,
        allowed,
        summary.divergences.len(),
        summary.seconds,
        path.display()
    );
    Ok(super::exit_status(summary.divergences.len()))
}

/// Replays saved `.wast` vectors on both engines; exit 1 if any still diverges.
fn replay(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let files = super::replay_files(paths, "wast")?;
    let mut diverging = 0;
    for f in &files {
        match wasm_differential::campaign::replay(f, None).map_err(anyhow::Error::msg)? {
            Ok(c) => {
                let stop = match &c.stop {
                    Some(s) => format!(", stopped: {}", s.rule.unwrap_or("both out of fuel")),
                    None => String::new(),
                };
                eprintln!("{}: agrees ({} invocations{stop})", f.display(), c.steps.len());
            }
            Err(d) => {
                diverging += 1;
                eprintln!("{}: {d}", f.display());
            }
        }
    }
    eprintln!("replayed {} vectors: {diverging} diverge", files.len());
    Ok(super::exit_status(diverging))
}
