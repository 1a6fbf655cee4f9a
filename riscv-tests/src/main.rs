//! `cargo run -p riscv-tests-build -- [--wheel FILE] [--bodies DIR] [--env DIR] [--out DIR] [--compare DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Builds the rv32ui/rv32um riscv-tests ELFs with the project's own assembler (host cpp,
/// no binutils). Exit status: 0 all built (and equal to --compare's), 1 some failed or
/// differ, 2 could not run.
#[derive(Parser)]
#[command(name = "riscv-tests-build")]
struct Args {
    /// Test bodies (*.S): by default the wheel's, as riscv-tests/build.sh extracts them.
    #[arg(long, default_value = "target/riscv-tests/src/picorv32")]
    bodies: PathBuf,
    /// First extract the bodies from this pythondata-cpu-picorv32 wheel into --bodies (for
    /// example target/riscv-tests/download/pythondata_cpu_picorv32-1.0.post218-py3-none-any.whl,
    /// from `pip download --no-deps pythondata-cpu-picorv32==1.0.post218`).
    #[arg(long)]
    wheel: Option<PathBuf>,
    /// The env: riscv_test.h, link.ld, macros/test_macros.h.
    #[arg(long, default_value = "riscv-tests/env")]
    env: PathBuf,
    /// Output directory, replaced whole (the riscv suite's default --elf-dir).
    #[arg(long, default_value = "target/riscv-tests/elf")]
    out: PathBuf,
    /// Also compare each built ELF with the one of the same name in this directory (for
    /// example GNU as + ld's, from build.sh): entry point and every allocated section.
    #[arg(long)]
    compare: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(wheel) = &args.wheel {
        match riscv_tests_build::wheel::extract_bodies(wheel, &args.bodies) {
            Ok(paths) => println!("extracted {} bodies into {}", paths.len(), args.bodies.display()),
            Err(e) => {
                eprintln!("riscv-tests-build: {e:#}");
                return ExitCode::from(2);
            }
        }
    }
    let summary = match riscv_tests_build::build(&args.bodies, &args.env, &args.out) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("riscv-tests-build: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "built {} of {} programs into {}",
        summary.built.len(),
        summary.built.len() + summary.failed.len(),
        args.out.display()
    );
    let mut ok = summary.failed.is_empty();
    for (name, error) in &summary.failed {
        println!("  failed {name}: {error}");
    }
    if let Some(dir) = &args.compare {
        let mut same = 0;
        for name in &summary.built {
            let result = std::fs::read(args.out.join(name))
                .and_then(|ours| Ok((ours, std::fs::read(dir.join(name))?)))
                .map_err(anyhow::Error::from)
                .and_then(|(ours, theirs)| riscv_tests_build::compare::differences(&ours, &theirs));
            match result {
                Ok(d) if d.is_empty() => same += 1,
                Ok(d) => {
                    ok = false;
                    println!("  {name} differs from {}:", dir.display());
                    for line in d {
                        println!("    {line}");
                    }
                }
                Err(e) => {
                    ok = false;
                    println!("  {name}: cannot compare: {e:#}");
                }
            }
        }
        println!(
            "{same} of {} identical to {} (entry point and allocated sections)",
            summary.built.len(),
            dir.display()
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
