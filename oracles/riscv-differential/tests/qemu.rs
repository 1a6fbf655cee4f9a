//! Both machines on hand-written programs (each fault class, the allow-listed difference,
//! a clean exit), planted differences, batching, and a small campaign. Needs qemu-riscv32:
//! skipped with a message without it, unless REQUIRE_QEMU=1.

use riscv_differential::compare::{compare, run_both, run_many, run_theirs, Class, Kind};
use riscv_differential::encode::{self, EBREAK};
use riscv_differential::generate::campaign_program;
use riscv_differential::program::{Item, Program, DATA_BASE, DATA_LEN};

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

fn program(items: Vec<Item>) -> Program {
    let mut init = [0u32; 32];
    for (r, v) in init.iter_mut().enumerate() {
        *v = (r as u32).wrapping_mul(0x0101_0101) ^ 0x8000_0000;
    }
    let data = (0..DATA_LEN).map(|i| (i * 7) as u8).collect();
    Program { init, reserved: 31, data, items, slot: 3, faulting: false, misaligned_access: true }
}

#[test]
fn each_outcome_class_is_seen_by_both() {
    if !have_qemu() {
        return;
    }
    let cases: Vec<(Vec<Item>, Class)> = vec![
        (vec![Item::Insn(encode::addi(5, 6, -1))], Class::Exit),
        (vec![Item::Insn(0)], Class::IllegalInstruction),
        (vec![Item::Insn(0x0000_0053)], Class::IllegalInstruction),
        (vec![Item::Insn(EBREAK)], Class::Breakpoint),
        (vec![Item::Load { f3: 2, rd: 5, base: 6, addr: 0x100, imm: 4 }], Class::AccessFault),
        (vec![Item::Store { f3: 0, rs2: 5, base: 6, addr: 0x8040_0010, imm: 0 }], Class::AccessFault),
        (vec![Item::JumpAbs { rd: 1, rt: 7, addr: 0x1000 }], Class::AccessFault),
        (vec![Item::Jal { rd: 1, skip: 0, misalign: true }], Class::MisalignedFetch),
        (vec![Item::Jalr { rd: 1, rt: 8, skip: 1, low: 3 }, Item::Insn(0)], Class::MisalignedFetch),
        // jalr clears bit 0: the target is the aligned item after the illegal word.
        (vec![Item::Jalr { rd: 1, rt: 8, skip: 1, low: 1 }, Item::Insn(0)], Class::Exit),
        // A misaligned load from the data region: both machines perform it.
        (vec![Item::Load { f3: 2, rd: 9, base: 6, addr: DATA_BASE + 3, imm: -5 }], Class::Exit),
    ];
    for (items, class) in cases {
        let p = program(items.clone());
        let (ours, theirs, d) = run_both(&p.elf(), true);
        assert!(d.is_none(), "{items:?}: {}", d.unwrap());
        assert_eq!((ours.class, theirs.class), (class, class), "{items:?}");
        if class == Class::MisalignedFetch {
            assert!(ours.pc.is_some() && ours.pc == theirs.pc, "{ours} / {theirs}");
        }
        if class == Class::Exit {
            assert_eq!(ours.regs.unwrap()[20], p.init[20], "x20 untouched by the program");
        }
    }
    // The first program's addi: x5 = x6 - 1, read from our machine and from qemu's dump.
    let p = program(vec![Item::Insn(encode::addi(5, 6, -1))]);
    let (ours, theirs, _) = run_both(&p.elf(), true);
    let want = p.init[6].wrapping_sub(1);
    assert_eq!(ours.regs.unwrap()[5], want);
    let dump = &theirs.out.unwrap()[DATA_LEN as usize..];
    assert_eq!(u32::from_le_bytes(dump[20..24].try_into().unwrap()), want);
}

#[test]
fn misaligned_data_traps_only_in_the_strict_configuration_and_is_allowed() {
    if !have_qemu() {
        return;
    }
    let p = program(vec![Item::Store { f3: 2, rs2: 5, base: 6, addr: DATA_BASE + 2, imm: 0 }]);
    let (ours, theirs, d) = run_both(&p.elf(), false);
    assert_eq!((ours.class, theirs.class), (Class::MisalignedData, Class::Exit));
    let d = d.expect("a divergence");
    assert_eq!(d.rule.map(|r| r.name), Some("misaligned-data-trap"));
    // An access fault in the strict configuration is no misaligned-data trap: not allowed.
    let (ours, theirs, _) = run_both(&p.elf(), true);
    let mut faulted = ours.clone();
    faulted.class = Class::AccessFault;
    assert!(compare(false, &faulted, &theirs).is_some_and(|d| d.rule.is_none()));
    assert!(compare(true, &ours, &theirs).is_none());
}

#[test]
fn planted_differences_are_found() {
    if !have_qemu() {
        return;
    }
    let p = program(vec![Item::Store { f3: 2, rs2: 5, base: 6, addr: DATA_BASE + 16, imm: 0 }]);
    let (ours, theirs, d) = run_both(&p.elf(), true);
    assert!(d.is_none());
    let mut o = ours.clone();
    o.out.as_mut().unwrap()[17] ^= 1;
    let d = compare(true, &o, &theirs).expect("memory");
    assert_eq!(d.kind, Kind::Memory);
    assert!(d.what.contains("data + 0x011"), "{}", d.what);
    let mut o = ours.clone();
    o.regs.as_mut().unwrap()[7] ^= 0x8000_0000;
    let d = compare(true, &o, &theirs).expect("register");
    assert_eq!((d.kind, d.what.as_str()), (Kind::Register, "x7 differs"));
    let mut o = ours.clone();
    o.out.as_mut().unwrap()[DATA_LEN as usize + 4 * 10] ^= 1;
    let d = compare(true, &o, &theirs).expect("a0 in the dump");
    assert_eq!((d.kind, d.what.as_str()), (Kind::Register, "x10 differs (dumped)"));
    let mut o = ours;
    o.class = Class::IllegalInstruction;
    assert_eq!(compare(true, &o, &theirs).expect("class").kind, Kind::Class);
}

#[test]
fn a_batch_on_qemu_gives_what_single_runs_give() {
    if !have_qemu() {
        return;
    }
    let programs: Vec<Program> = (64..128).map(|i| campaign_program(9, i)).collect();
    assert!(programs.iter().any(|p| p.faulting) && programs.iter().any(|p| !p.faulting));
    let many = run_many(&programs);
    for (p, (_, theirs, d)) in programs.iter().zip(&many).step_by(5) {
        assert!(d.as_ref().is_none_or(|d| d.rule.is_some()), "{}", d.as_ref().unwrap());
        assert_eq!(*theirs, run_theirs(&p.elf()), "slot {}", p.slot);
    }
}

#[test]
fn a_small_campaign_agrees() {
    if !have_qemu() {
        return;
    }
    let s = riscv_differential::campaign::run(11, 300, "qemu", None, &|| {}).unwrap();
    assert!(
        s.divergences.is_empty(),
        "{:?}",
        s.divergences.iter().map(|f| f.divergence.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(s.outcomes.values().sum::<u64>() + s.allowed_by_rule.values().sum::<u64>(), 300);
    assert!(s.outcomes["exit"] > 200 && s.instructions > 20_000, "{:?}", s.to_json());
}
