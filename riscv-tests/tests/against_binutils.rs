//! Our assembler + ELF writer against GNU as + GNU ld (Debian's
//! binutils-riscv64-unknown-elf, invoked as riscv-tests/build.sh invokes them): the same
//! entry point and the same bytes at the same addresses in every allocated section.
//! Without binutils (or the wheel's bodies) a test prints `SKIPPED` and why on the
//! terminal, past the test harness's capture, and passes; with `REQUIRE_RISCV_TESTS` set
//! (CI) it fails instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ee_riscv::asm::{self, LinkScript};
use riscv_tests_build::compare::differences;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn required() -> bool {
    std::env::var_os("REQUIRE_RISCV_TESTS").is_some()
}

/// Says that `test` did not compare, where `cargo test` shows it (`eprintln!` output of a
/// passing test is captured and never shown), or fails when comparing is required.
fn skipped(test: &str, why: &str) {
    assert!(!required(), "{test}: {why} (REQUIRE_RISCV_TESTS is set)");
    let _ = writeln!(std::io::stderr(), "test {test} SKIPPED: {why}");
}

fn binutils_available(test: &str) -> bool {
    let found = Command::new("riscv64-unknown-elf-as").arg("--version").output().is_ok_and(|o| o.status.success())
        && Command::new("riscv64-unknown-elf-ld").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        skipped(
            test,
            "riscv64-unknown-elf-as/ld not found (apt-get install -y binutils-riscv64-unknown-elf); \
             not compared with GNU as + ld",
        );
    }
    found
}

/// `as` then `ld -T link.ld`, with build.sh's flags.
fn gnu_as_ld(source: &Path, work: &Path, name: &str) -> Vec<u8> {
    let obj = work.join(format!("{name}.o"));
    let elf = work.join(name);
    let out = Command::new("riscv64-unknown-elf-as")
        .args(["-march=rv32im_zicsr_zifencei", "-mabi=ilp32", "-o"])
        .arg(&obj)
        .arg(source)
        .output()
        .unwrap();
    assert!(out.status.success(), "GNU as rejected {}: {}", source.display(), String::from_utf8_lossy(&out.stderr));
    let out = Command::new("riscv64-unknown-elf-ld")
        .args(["-m", "elf32lriscv", "-nostdlib", "-T"])
        .arg(root().join("env/link.ld"))
        .arg("-o")
        .arg(&elf)
        .arg(&obj)
        .output()
        .unwrap();
    assert!(out.status.success(), "GNU ld failed on {name}: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(elf).unwrap()
}

#[test]
fn every_feature_matches_gnu_as_and_ld() {
    let source = root().join("tests/features.s");
    let script = LinkScript::parse(&std::fs::read_to_string(root().join("env/link.ld")).unwrap()).unwrap();
    let image = asm::assemble_linked(&std::fs::read_to_string(&source).unwrap(), &script).unwrap();
    let ours = ee_riscv::elf::write(&image);
    // Our loader takes it, with tohost from the symbol table.
    let program = ee_riscv::elf::parse(&ours).unwrap();
    assert_eq!(program.tohost_symbol, Some(0x8000_1000));
    if !binutils_available("every_feature_matches_gnu_as_and_ld") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let theirs = gnu_as_ld(&source, work.path(), "features");
    let diffs = differences(&ours, &theirs).unwrap();
    assert!(diffs.is_empty(), "features.s differs from GNU as + ld:\n{}", diffs.join("\n"));
    // Every section is there: none of them is vacuously equal.
    let (_, sections) = riscv_tests_build::compare::sections(&ours).unwrap();
    let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [".text.init", ".tohost", ".text", ".data", ".bss"]);
}

/// The wheel's bodies as riscv-tests/build.sh extracts them.
fn wheel_bodies(test: &str) -> Option<PathBuf> {
    let dir = root().join("../target/riscv-tests/src/picorv32");
    if dir.is_dir() {
        return Some(dir);
    }
    skipped(test, &format!("no riscv-tests bodies in {} (run riscv-tests/build.sh); not compared", dir.display()));
    None
}

#[test]
fn every_wheel_program_matches_build_sh() {
    let test = "every_wheel_program_matches_build_sh";
    if !binutils_available(test) {
        return;
    }
    let Some(bodies) = wheel_bodies(test) else { return };
    let env = root().join("env");
    let work = tempfile::tempdir().unwrap();
    let ours_dir = work.path().join("ours");
    let summary = riscv_tests_build::build(&bodies, &env, &ours_dir).unwrap();
    assert!(summary.failed.is_empty(), "{:#?}", summary.failed);
    assert!(summary.built.len() >= 45, "{} programs", summary.built.len());
    let mut report = Vec::new();
    for body in std::fs::read_dir(&bodies).unwrap().map(|e| e.unwrap().path()) {
        if body.extension().is_none_or(|x| x != "S") {
            continue;
        }
        let name = riscv_tests_build::program_name(&body).unwrap();
        // build.sh: cpp -P -x assembler-with-cpp -D__riscv_xlen=32 -Ienv -Ienv/macros, as, ld.
        let preprocessed = work.path().join(format!("{name}.s"));
        let status = Command::new("cpp")
            .args(["-P", "-x", "assembler-with-cpp", "-D__riscv_xlen=32"])
            .arg(format!("-I{}", env.display()))
            .arg(format!("-I{}", env.join("macros").display()))
            .arg(&body)
            .arg("-o")
            .arg(&preprocessed)
            .status()
            .unwrap();
        assert!(status.success(), "cpp failed on {}", body.display());
        let theirs = gnu_as_ld(&preprocessed, work.path(), &name);
        let ours = std::fs::read(ours_dir.join(&name)).unwrap();
        for d in differences(&ours, &theirs).unwrap() {
            report.push(format!("{name}: {d}"));
        }
    }
    assert!(report.is_empty(), "{} difference(s) from GNU as + ld:\n{}", report.len(), report.join("\n"));
}
