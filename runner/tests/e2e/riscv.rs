//! End-to-end tests of the `riscv` suite: the riscv-tests ELFs built by
//! riscv-tests/build.sh, and bad programs next to good ones.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn built_elfs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/riscv-tests/elf");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("REQUIRE_RISCV_TESTS").is_none(), "run riscv-tests/build.sh first");
    eprintln!("warning: no riscv-tests ELFs (run riscv-tests/build.sh); the riscv suite was not run");
    None
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/riscv.json")).unwrap()).unwrap()
}

#[test]
fn every_built_program_passes_through_the_bootloader() {
    let Some(elfs) = built_elfs() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &["riscv", "--elf-dir", elfs.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = report(dir.path());
    assert!(r["total"].as_u64().unwrap() >= 45, "{r}");
    assert_eq!(r["passed"], r["total"]);
    assert!(r["by_group"]["rv32ui"]["passed"].as_u64().unwrap() >= 37);
    assert!(r["by_group"]["rv32um"]["passed"].as_u64().unwrap() >= 8);
    assert!(r.get("by_fork").is_none(), "riscv groups are not forks");
}

#[test]
fn bad_programs_are_failed_cases_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let elfs = dir.path().join("elfs");
    std::fs::create_dir_all(&elfs).unwrap();
    std::fs::write(elfs.join("not-an-elf"), b"hello").unwrap();
    std::fs::write(elfs.join("truncated"), b"\x7fELF\x01\x01\x01").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("moved-away"), elfs.join("dangling")).unwrap();
    let good = built_elfs().map(|d| d.join("rv32ui-p-add"));
    if let Some(good) = &good {
        std::fs::copy(good, elfs.join("rv32ui-p-add")).unwrap();
        // A copy whose first instruction word is all ones: illegal, before the env's trap vector exists.
        let mut broken = std::fs::read(good).unwrap();
        let word = |at: usize| u32::from_le_bytes(broken[at..at + 4].try_into().unwrap()) as usize;
        let half = |at: usize| u16::from_le_bytes(broken[at..at + 2].try_into().unwrap()) as usize;
        // ELF32: e_entry 0x18, e_phoff 0x1c, e_phentsize 0x2a, e_phnum 0x2c; the PT_LOAD holding the entry.
        let (entry, phoff, phentsize, phnum) = (word(0x18), word(0x1c), half(0x2a), half(0x2c));
        let at = (0..phnum)
            .map(|i| phoff + i * phentsize)
            .find(|&ph| word(ph) == 1 && (word(ph + 8)..word(ph + 8) + word(ph + 16)).contains(&entry))
            .map(|ph| entry - word(ph + 8) + word(ph + 4))
            .expect("a loadable segment holds the entry");
        broken[at..at + 4].copy_from_slice(&[0xff; 4]);
        std::fs::write(elfs.join("rv32ui-p-broken"), broken).unwrap();
    }
    let out = common::run(dir.path(), &["riscv", "--elf-dir", elfs.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = report(dir.path());
    let case = |id: &str| r["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap();
    assert!(case("not-an-elf")["error"].as_str().unwrap().starts_with("not a loadable RISC-V ELF"));
    assert!(case("truncated")["error"].as_str().unwrap().starts_with("not a loadable RISC-V ELF"));
    #[cfg(unix)]
    assert!(
        case("dangling")["error"].as_str().unwrap().starts_with("cannot read"),
        "a dangling link is one failed case"
    );
    if good.is_some() {
        assert_eq!(case("rv32ui-p-add")["verdict"], "pass");
        let broken = case("rv32ui-p-broken");
        assert_eq!(broken["verdict"], "fail");
        assert!(broken["error"].as_str().unwrap().contains("halted"), "{broken}");
    }
}

/// Upstream-built `p`-env ELFs (riscv-tests/fetch-upstream.sh) through `--elf-dir`, unchanged.
#[test]
fn upstream_built_programs_pass_through_elf_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/riscv-tests/upstream");
    for set in ["elf", "vexriscv-elf"] {
        let elfs = root.join(set);
        if !elfs.is_dir() {
            assert!(
                std::env::var_os("REQUIRE_UPSTREAM_RISCV_TESTS").is_none(),
                "{} missing: run riscv-tests/fetch-upstream.sh",
                elfs.display()
            );
            eprintln!("warning: no upstream riscv-tests in {} (riscv-tests/fetch-upstream.sh)", elfs.display());
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = common::run(dir.path(), &["riscv", "--elf-dir", elfs.to_str().unwrap(), "--quiet"]);
        assert_eq!(out.status.code(), Some(0), "{set}: {}", stderr(&out));
        let r = report(dir.path());
        assert!(r["total"].as_u64().unwrap() >= 47, "{set}: {r}");
        assert_eq!(r["passed"], r["total"], "{set}");
    }
}
