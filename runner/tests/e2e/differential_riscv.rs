//! End-to-end: `conformance differential riscv` runs a small seeded campaign against
//! qemu-riscv32, writes its report, replays saved ELF vectors, and fails with a setup error
//! naming the package when qemu is missing. Without qemu-riscv32 the qemu tests are skipped
//! with a message, unless REQUIRE_QEMU=1 (CI).

use std::process::Command;

use riscv_differential::program::{Item, Program, DATA_BASE, DATA_LEN};
use serde_json::Value;

use crate::common;
use common::BIN;

fn have_qemu() -> bool {
    match riscv_differential::qemu::check() {
        Ok(_) => true,
        Err(e) if std::env::var("REQUIRE_QEMU").is_ok_and(|v| v == "1") => panic!("REQUIRE_QEMU=1: {e}"),
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    }
}

#[test]
fn a_small_campaign_agrees_and_reports() {
    if !have_qemu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let (out, stderr) = common::differential(&["riscv", "--seed", "5", "--count", "400"], &reports);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("400 programs") && stderr.contains("0 divergences"), "{stderr}");
    assert!(stderr.contains("differential-riscv: "), "progress lines: {stderr}");
    let report: Value = common::differential_report(&reports, "riscv");
    assert_eq!(report["ee"], "riscv");
    assert!(report["oracle"].as_str().unwrap().contains("qemu-riscv32"), "{report}");
    assert_eq!((report["seed"].as_u64(), report["total"].as_u64()), (Some(5), Some(400)));
    assert_eq!(report["divergences"], Value::Array(vec![]));
    assert!(report["instructions"].as_u64().unwrap() > 30_000, "{report}");
    let outcomes = report["outcomes"].as_object().unwrap();
    assert!(outcomes["exit"].as_u64().unwrap() > 300, "{report}");
    assert!(outcomes.len() >= 3, "faults of several classes: {report}");
    assert_eq!(report["allow_list"][0]["rule"], "misaligned-data-trap");
    // The same seed, the same programs: the same figures.
    let again = Command::new(BIN)
        .args(["differential", "riscv", "--seed", "5", "--count", "400", "--quiet", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    assert!(again.status.success());
    let second: Value = common::differential_report(&reports, "riscv");
    assert_eq!(second["instructions"], report["instructions"]);
    assert_eq!(second["outcomes"], report["outcomes"]);
}

fn program(items: Vec<Item>, misaligned_access: bool) -> Program {
    let data = (0..DATA_LEN).map(|i| i as u8).collect();
    Program { init: [7; 32], reserved: 30, data, items, slot: 0, faulting: false, misaligned_access }
}

#[test]
fn replay_runs_saved_vectors() {
    if !have_qemu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Item::Store { f3: 2, rs2: 5, base: 6, addr: DATA_BASE + 6, imm: 0 };
    // An agreeing program, and the allow-listed difference (our machine trapping on the
    // misaligned store, as the .json beside the ELF configures it).
    std::fs::write(dir.path().join("a.elf"), program(vec![store.clone()], true).elf()).unwrap();
    std::fs::write(dir.path().join("b.elf"), program(vec![store], false).elf()).unwrap();
    std::fs::write(dir.path().join("b.json"), r#"{"misaligned_access": false}"#).unwrap();
    let out = Command::new(BIN).args(["differential", "riscv", "--replay"]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("a.elf: agrees (exit"), "{stderr}");
    assert!(stderr.contains("b.elf: allowed") && stderr.contains("misaligned-data-trap"), "{stderr}");
    assert!(stderr.contains("replayed 2 vectors: 0 diverge"), "{stderr}");
    // A file that is no ELF: a setup error.
    let bad = dir.path().join("bad.elf");
    std::fs::write(&bad, "not an elf").unwrap();
    let out = Command::new(BIN).args(["differential", "riscv", "--replay"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn missing_qemu_is_a_setup_error_naming_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["differential", "riscv", "--count", "5", "--report-dir"])
        .arg(dir.path())
        .env("QEMU_RISCV32", dir.path().join("no-such-qemu"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("qemu-user") && stderr.contains("apt-get install"), "{stderr}");
}

#[test]
fn help_says_what_is_compared() {
    let out = Command::new(BIN).args(["differential", "riscv", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["qemu-riscv32", "--seed", "--count", "--replay", "differential-riscv.json", "MULHSU", "Exit status"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}
