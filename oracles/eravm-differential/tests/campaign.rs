//! Seeded campaigns (what `conformance differential eravm` runs): generated multi-contract
//! worlds agree with vm2; a planted difference is found, minimized, saved and replayed; the
//! committed regression vectors replay without a divergence.

use std::path::Path;

use ee_eravm::{Modifiers, Op};

use eravm_differential::campaign;
use eravm_differential::compare::{compare_tampered, Kind, Tamper};
use eravm_differential::generate::{generate_world, program, program_seed};
use eravm_differential::minimize::{live_constants, live_instructions};
use eravm_differential::vector;

#[test]
fn generated_worlds_match_vm2() {
    let s = campaign::run(7, 1_500, None, None, &|| {}).unwrap();
    eprintln!(
        "campaign: {} programs, {} instructions compared, {} far calls, {} world ops, endings {:?}, {} divergences, {:.1} s",
        s.total,
        s.instructions,
        s.far_calls,
        s.world_ops,
        s.endings,
        s.divergences.len(),
        s.seconds
    );
    for f in &s.divergences {
        eprintln!("program {} (seed {}): {}", f.index, f.seed, f.divergence);
    }
    assert!(s.divergences.is_empty());
    assert!(s.far_calls > 1_000 && s.world_ops > 1_000 && s.instructions > 100_000, "{s:?}");
    for ending in ["Success", "Revert", "Panic"] {
        assert!(s.endings.get(ending).copied().unwrap_or(0) > 50, "{ending}: {:?}", s.endings);
    }
}

#[test]
fn worlds_are_reproducible_and_use_every_far_call_kind() {
    for i in 0..20 {
        let s = program_seed(42, i);
        assert_eq!(program(s), program(s));
    }
    assert_ne!(generate_world(1), generate_world(2));
    // Over 300 worlds: every far-call kind, mimic calls only in kernel code, kernel and user
    // contracts, 2 to 4 contracts.
    let mut seen = std::collections::BTreeSet::new();
    let mut sizes = std::collections::BTreeSet::new();
    for s in 0..300u64 {
        let world = generate_world(s);
        sizes.insert(world.contracts.len());
        for c in &world.contracts {
            let kernel = ee_eravm::machine::is_kernel(&c.address);
            let p = ee_eravm::Program::new(&c.code).unwrap();
            for pc in 0..c.text {
                let i = p.instruction(pc as u16);
                let kind = match i.op {
                    Op::FarCall if i.has(Modifiers::STATIC) => "callf.st",
                    Op::FarCall => "callf",
                    Op::FarCallDelegate => "calld",
                    Op::FarCallMimic => {
                        assert!(kernel, "callm in user code");
                        "callm"
                    }
                    _ => continue,
                };
                seen.insert((kind, kernel));
            }
        }
    }
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [2, 3, 4]);
    for kind in ["callf", "callf.st", "calld"] {
        assert!(seen.contains(&(kind, true)) && seen.contains(&(kind, false)), "{kind}: {seen:?}");
    }
    assert!(seen.contains(&("callm", true)), "{seen:?}");
}

/// A planted difference: our step after every `mul` claims one erg more than vm2's.
fn plant(theirs: &eravm_oracle::Step, ours: &mut ee_eravm::machine::Step) {
    if theirs.opcode == "Mul" {
        ours.ergs_after += 1;
    }
}

#[test]
fn a_planted_difference_is_minimized_saved_and_replayed() {
    let tamper: Tamper = &plant;
    let dir = tempfile::tempdir().unwrap();
    let s = campaign::run(3, 40, Some(dir.path()), Some(tamper), &|| {}).unwrap();
    assert!(!s.divergences.is_empty(), "some of 40 programs execute a mul");
    for f in &s.divergences {
        assert_eq!(f.divergence.kind, Kind::Step, "{}", f.divergence);
        assert!(f.divergence.what.contains("Mul"), "{}", f.divergence.what);
        let original = program(f.seed);
        let path = f.vector_path.as_ref().expect("saved");
        let small = vector::load(path).unwrap();
        // Smaller: fewer live instructions, no more constants, no more contracts.
        assert!(
            live_instructions(&small) < live_instructions(&original),
            "{} → {}",
            live_instructions(&original),
            live_instructions(&small)
        );
        assert!(live_constants(&small) <= live_constants(&original));
        assert!(small.contracts.len() <= original.contracts.len());
        // The saved vector reproduces the divergence, and once "fixed" (no tamper) replays clean.
        assert_eq!(compare_tampered(&small, Some(tamper)).unwrap_err().kind, Kind::Step);
        assert!(campaign::replay(path).unwrap().is_ok());
    }
    // The report names each divergence with its seed and vector.
    let report = s.write(dir.path()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(json["ee"], "eravm");
    assert_eq!(json["total"], 40);
    assert_eq!(json["divergences"].as_array().unwrap().len(), s.divergences.len());
    assert!(json["divergences"][0]["vector"].as_str().unwrap().ends_with(".json"));
    eprintln!(
        "planted: {} divergences; the first minimized to {} live instructions: {}",
        s.divergences.len(),
        live_instructions(&vector::load(s.divergences[0].vector_path.as_ref().unwrap()).unwrap()),
        s.divergences[0].divergence.what
    );
}

#[test]
fn vectors_round_trip() {
    for i in 0..50 {
        let case = program(program_seed(9, i));
        let back = vector::from_json(&vector::to_json(&case, i, "none")).unwrap();
        assert_eq!(back, case);
    }
}

/// Every vector in `regressions/` (divergences found, minimized, then fixed) replays clean.
#[test]
fn regression_vectors_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            match campaign::replay(&path) {
                Ok(Ok(_)) => n += 1,
                Ok(Err(d)) => panic!("{}: {d}", path.display()),
                Err(e) => panic!("{e}"),
            }
        }
    }
    eprintln!("{n} regression vectors replayed");
    assert!(n >= 1);
}

/// The vectors of `known-vm2/` still show vm2 0.5.0's own divergence (known divergence 7):
/// if one stops diverging, the oracle changed and the generator may use `inctx` again.
#[test]
fn known_vm2_vectors_still_diverge() {
    eravm_differential::compare::install_quiet_hook();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("known-vm2");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let d = campaign::replay(&path).unwrap().expect_err("vm2's divergence shows");
            kinds.push(d.kind);
        }
    }
    kinds.sort();
    assert_eq!(kinds, [Kind::Crash, Kind::Transient]);
}
