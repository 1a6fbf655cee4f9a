//! The `riscv` suite: riscv-tests ELFs (rv32ui, rv32um, `p` environment)
//! through the bootloader and the RISC-V EE.
//!
//! Each ELF becomes the code of an account (`0xEF 0xEE 0x02`, machine mode:
//! see `ees/riscv/ABI.md`) and a transaction calls it, so the program runs
//! through the bootloader's call path like any contract. The verdict comes
//! from the `tohost` word the program wrote: 1 passes, `(n << 1) | 1` names
//! the failed test `n`. One gas buys one instruction, so the gas limit is the
//! step bound; the per-case time bound applies as for every suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bootloader::{execute_transaction, Account, ExecutionLimits, Transaction, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, U256};
use ee_riscv::{machine_program_code, tohost_of, TestOutcome};

use crate::panics;
use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;

/// Where `riscv-tests/build.sh` puts the ELFs, under the repository root.
pub const DEFAULT_ELF_DIR: &str = "target/riscv-tests/elf";

/// Gas (= instructions) a program may use: far more than any riscv-tests program needs (~10k).
const GAS_LIMIT: u64 = 50_000_000;
const PROGRAM: Address = Address([0xc0; 20]);
const SENDER: Address = Address([0x5e; 20]);

/// Where the project's own assembler puts the riscv-tests ELFs it builds, in the cache.
pub const OWN_BUILD_DIR: &str = "riscv-tests-elf";

/// The default ELF directory: `riscv-tests/build.sh`'s output if it is there, else the
/// programs built by the project's own assembler; or a setup error saying how to get them.
pub fn default_dir(fetch: &crate::fetch::Options) -> anyhow::Result<PathBuf> {
    let dir = crate::vectors::repo_root().join(DEFAULT_ELF_DIR);
    if dir.is_dir() {
        return Ok(dir);
    }
    own_build(fetch).map_err(|e| {
        anyhow::anyhow!(
            "no riscv-tests ELFs at {} (riscv-tests/build.sh builds them with Debian's \
             binutils-riscv64-unknown-elf; --elf-dir DIR takes a directory of ELFs), and the project's \
             own assembler could not build them: {e:#}",
            dir.display()
        )
    })
}

/// rv32ui/rv32um built by ee_riscv's assembler (`riscv-tests-build`, with the host `cpp`) from
/// the pinned wheel's bodies (fetched into the cache when missing) and the repository's env.
/// Rebuilt on every run (well under a second) so they always come from this build's assembler.
fn own_build(fetch: &crate::fetch::Options) -> anyhow::Result<PathBuf> {
    let bodies = crate::fetch::riscv_bodies(fetch)?;
    let env = crate::vectors::repo_root().join("riscv-tests/env");
    let out = fetch.cache_dir.join(OWN_BUILD_DIR);
    let summary = riscv_tests_build::build(&bodies, &env, &out)?;
    for (name, why) in &summary.failed {
        eprintln!("warning: riscv-tests {name} did not build with the project's assembler: {why}");
    }
    eprintln!(
        "riscv: {} riscv-tests programs built with the project's assembler into {}",
        summary.built.len(),
        out.display()
    );
    Ok(out)
}

/// Every regular, non-hidden file under `paths`, links followed (a program that is not a
/// valid ELF, or cannot be read, is a failed case, not an error of the run).
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        anyhow::ensure!(path.exists(), "no such file or directory: {}", path.display());
        for entry in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                // An entry the walk cannot reach (a dangling link) is a program that fails to
                // load, named by its path; the run goes on.
                Err(e) => match e.path() {
                    Some(p) => {
                        files.push(p.to_path_buf());
                        continue;
                    }
                    None => anyhow::bail!("reading {}: {e}", path.display()),
                },
            };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if entry.file_type().is_file() && !hidden {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let files = collect(paths)?;
    opts.progress.begin("riscv", files.len());
    let name_of = |file: &PathBuf| file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let cases: Vec<CaseRecord> = crate::schedule::longest_first(
        &files,
        |file| crate::schedule::Expected::file(&opts.durations, &name_of(file), file),
        |file| {
            let name = name_of(file);
            let selected = opts.selects(&name) && opts.selects_case(&name);
            let record = selected.then(|| {
                let token = opts.progress.case_started(&name);
                let record = run_program(file, &name, opts);
                opts.progress.case_finished(token);
                record
            });
            opts.progress.file_done();
            record
        },
    );
    opts.progress.finish();
    Ok(SuiteReport::new("riscv", cases, start.elapsed()).with_group_label("group"))
}

/// The group of a riscv-tests program: its name up to the first `-` (`rv32ui`, `rv32um`).
fn group_of(name: &str) -> String {
    name.split('-').next().unwrap_or(name).to_string()
}

fn run_program(file: &Path, name: &str, opts: &RunOptions) -> CaseRecord {
    let started = Instant::now();
    let mut rec = CaseRecord::new(name.to_string(), Some(group_of(name)), Verdict::Fail, None);
    match panics::catch(|| execute(file, opts)) {
        Err(panic) => {
            rec.verdict = Verdict::Crash;
            rec.error = Some(panic);
        }
        Ok(Err(error)) => rec.error = Some(error),
        Ok(Ok((gas_used, None))) => {
            rec.verdict = Verdict::Pass;
            rec.gas_used = Some(gas_used);
        }
        Ok(Ok((gas_used, Some(error)))) => {
            rec.gas_used = Some(gas_used);
            rec.error = Some(error);
        }
    }
    rec.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    rec
}

/// Runs one program; `Ok((gas used, None))` when it passed, `Ok((gas, Some(why)))` when it failed.
fn execute(file: &Path, opts: &RunOptions) -> Result<(u64, Option<String>), String> {
    let elf = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // The EE would halt on a bad image too; checking here says what is wrong with it.
    ee_riscv::elf::parse(&elf).map_err(|e| format!("not a loadable RISC-V ELF: {e}"))?;
    let mut state = WorldState::new();
    let code = Arc::new(Bytecode::new(Arc::from(machine_program_code(&elf))));
    state.insert_account(PROGRAM, Account { code, ..Account::default() });
    state.insert_account(SENDER, Account { balance: U256::from(u64::MAX), ..Account::default() });
    let block = BlockEnv {
        gas_limit: U256::from(GAS_LIMIT),
        chain_id: U256::from(1),
        number: U256::from(1),
        ..BlockEnv::default()
    };
    let tx = Transaction {
        tx_type: 0,
        sender: SENDER,
        to: Some(PROGRAM),
        nonce: U256::ZERO,
        gas_limit: U256::from(GAS_LIMIT),
        gas_price: Some(U256::ZERO),
        max_fee_per_gas: None,
        max_priority_fee_per_gas: None,
        value: U256::ZERO,
        data: Arc::from(&[][..]),
        ..Transaction::default()
    };
    let deadline = (!opts.case_timeout.is_zero()).then(|| Instant::now() + opts.case_timeout);
    let out = execute_transaction(&mut state, &block, &tx, Fork::Cancun, ExecutionLimits { deadline })
        .map_err(|e| format!("transaction rejected: {e}"))?;
    let verdict = match out.status {
        ExitStatus::Success => None,
        ExitStatus::Revert => Some(match tohost_of(&out.output) {
            Some(word) => TestOutcome::from_tohost(word).to_string(),
            None => "reverted without a tohost word".to_string(),
        }),
        ExitStatus::Halt(reason) => Some(format!("halted: {reason}")),
    };
    Ok((out.gas_used, verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_name_prefixes() {
        assert_eq!(group_of("rv32ui-p-add"), "rv32ui");
        assert_eq!(group_of("odd"), "odd");
    }
}
