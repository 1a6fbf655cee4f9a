//! The campaign machinery: a small campaign agrees with non-trivial figures; a planted
//! difference is found, minimized, saved as a `.wast` vector, read back and replayed; the
//! known wasmi panic is what the allow-list says it is; the minimized vectors replay.

use std::path::Path;

use wasm_differential::campaign::{self, case};
use wasm_differential::compare::{self, compare, Tamper, WASMI_STORE_PANIC_AT};
use wasm_differential::engines::{exports_of, Ours};
use wasm_differential::{vector, Call, Val};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse").encode().expect("encode")
}

#[test]
fn a_small_campaign_agrees_with_every_kind_of_outcome() {
    compare::install_quiet_hook();
    let s = campaign::run(7, 1500, None, None, &|| {}).unwrap();
    assert!(s.divergences.is_empty(), "{:#?}", s.divergences.first().map(|f| (&f.divergence, &f.script)));
    assert!(s.instantiated > 1200, "{}", s.instantiated);
    assert!(s.invocations > 3000 && s.returns > 1000, "{} {}", s.invocations, s.returns);
    for kind in ["MemoryOutOfBounds", "IntegerOverflow", "StackOverflow", "Unreachable", "TableOutOfBounds"] {
        assert!(s.traps.get(kind).copied().unwrap_or(0) > 0, "no {kind} trap in {:?}", s.traps);
    }
    assert!(s.exhausted > 0 && s.instructions > 1_000_000, "{} {}", s.exhausted, s.instructions);
    // The same seed, the same figures.
    let again = campaign::run(7, 300, None, None, &|| {}).unwrap();
    let first = campaign::run(7, 300, None, None, &|| {}).unwrap();
    assert_eq!(
        (again.invocations, again.traps, again.instructions),
        (first.invocations, first.traps, first.instructions)
    );
}

#[test]
fn hand_written_modules_agree_on_traps_state_and_results() {
    compare::install_quiet_hook();
    let module = wat(r#"(module
        (memory (export "m") 1 2) (table (export "t") 2 5 funcref) (global (export "g") (mut i32) (i32.const 0))
        (func $a (export "add") (param i32 i32) (result i32) (global.set 0 (local.get 0)) (i32.add (local.get 0) (local.get 1)))
        (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
        (func (export "grow") (result i32) (drop (table.grow 0 (ref.null func) (i32.const 1))) (memory.grow (i32.const 1)))
        (func (export "store") (param i32 f64) (f64.store (local.get 0) (local.get 1)))
        (func (export "ci") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
        (func $r (export "rec") (param i32) (result i32) (i32.add (call $r (local.get 0)) (i32.const 1)))
        (func (export "spin") (loop (br 0)))
        (elem (i32.const 1) func $a))"#);
    let call = |e: &str, args: Vec<Val>| Call { export: e.into(), args };
    let plan = vec![
        call("add", vec![Val::I32(i32::MAX), Val::I32(1)]),
        call("div", vec![Val::I32(i32::MIN), Val::I32(-1)]),
        call("div", vec![Val::I32(1), Val::I32(0)]),
        call("grow", vec![]),
        call("store", vec![Val::I32(8), Val::F64(0x7FF8_0000_0000_0000)]),
        call("store", vec![Val::I32(2 * 65536 - 4), Val::F64(1)]),
        call("ci", vec![Val::I32(0)]),
        call("ci", vec![Val::I32(1)]),
        call("ci", vec![Val::I32(9)]),
        call("rec", vec![Val::I32(0)]),
        call("spin", vec![]),
    ];
    let c = compare(&module, &plan, None).expect("agrees");
    let outcomes: Vec<String> = c.steps.iter().map(|s| wasm_differential::show_outcome(&s.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            "[(i32.const -2147483648)]",
            "trap: integer overflow",
            "trap: integer divide by zero",
            "[(i32.const 1)]",
            "[]",
            "trap: out of bounds memory access",
            "trap: uninitialized element",
            "trap: indirect call type mismatch",
            "trap: out of bounds table access",
            "trap: call stack exhausted",
        ]
    );
    // `spin` runs out of fuel on both sides: the case stops there, no rule needed.
    assert!(c.stop.as_ref().is_some_and(|s| s.rule.is_none()), "{:?}", c.stop);
    // A planted difference in the results is found at the first i32 result.
    let d = compare(&module, &plan, Some(Tamper::I32ResultsOffByOne)).unwrap_err();
    assert_eq!(d.kind, "outcome");
    assert!(d.what.contains("\"add\""), "{}", d.what);
}

#[test]
fn a_planted_difference_is_minimized_saved_and_replayed() {
    compare::install_quiet_hook();
    let dir = tempfile::tempdir().unwrap();
    let s = campaign::run(3, 200, Some(dir.path()), Some(Tamper::I32ResultsOffByOne), &|| {}).unwrap();
    assert!(!s.divergences.is_empty());
    for f in s.divergences.iter().take(10) {
        let path = f.vector_path.as_ref().unwrap();
        let script = vector::load(path).unwrap();
        // Minimized: one invocation, the diverging one, and only the exports it needs.
        assert_eq!(script.plan.len(), 1, "{}", f.script);
        let exports = exports_of(&script.module).unwrap();
        assert_eq!(exports.len(), 1, "{}", f.script);
        assert_eq!(exports[0].0, script.plan[0].export);
        assert!(f.script.contains("(assert_return (invoke"), "{}", f.script);
        // Still diverges with the planted difference, agrees without it.
        let again = campaign::replay(path, Some(Tamper::I32ResultsOffByOne)).unwrap();
        assert_eq!(again.unwrap_err().kind, "outcome");
        assert!(campaign::replay(path, None).unwrap().is_ok());
    }
}

#[test]
fn vectors_round_trip() {
    compare::install_quiet_hook();
    let mut checked = 0;
    for seed in 0..40u64 {
        let c = case(seed);
        let Ok(compared) = compare(&c.module, &c.plan, None) else { panic!("case {seed} diverges") };
        let text = vector::to_wast(&c.module, &compared.instantiation, &compared.steps, &[format!("seed {seed}")]);
        let back = vector::from_wast(&text).unwrap();
        assert_eq!(back.module, c.module);
        let calls: Vec<Call> = compared.steps.iter().map(|s| s.call.clone()).collect();
        assert_eq!(back.plan, calls, "{text}");
        checked += calls.len();
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn the_known_wasmi_panic_is_a_far_store_of_a_computed_local_into_itself() {
    compare::install_quiet_hook();
    let module = wat(r#"(module (memory 1) (func (param i32)
            (local.set 0 (i32.add (local.get 0) (i32.const 7)))
            (i32.store8 offset=100000 (local.get 0) (local.get 0))))"#);
    let p = compare::caught(|| exports_of(&module)).unwrap_err();
    assert!(p.contains(WASMI_STORE_PANIC_AT), "{p}");
    assert!(Ours::new(&module).is_ok());
    // The minimized module of the campaign: allowed by the rule, ee-wasm instantiates it.
    let known = Path::new(env!("CARGO_MANIFEST_DIR")).join("known-wasmi/store-of-a-local-into-itself.wast");
    let c = campaign::replay(&known, None).unwrap().expect("allowed");
    assert_eq!(c.stop.unwrap().rule, Some("wasmi-store-translation-panic"));
}

#[test]
fn the_known_wasmi_select_bug_is_a_select_of_i32_eqz() {
    compare::install_quiet_hook();
    let known = Path::new(env!("CARGO_MANIFEST_DIR")).join("known-wasmi/select-of-i32-eqz.wast");
    let script = vector::load(&known).unwrap();
    assert!(compare::has_select_of_i32_eqz(&script.module));
    // ee-wasm gives the spec's values (the script's expectations); wasmi the first operand.
    let mut ours = Ours::new(&script.module).unwrap();
    assert_eq!(ours.call("d", &[Val::I32(5)]), Ok(vec![Val::I32(2)]));
    assert_eq!(ours.call("d", &[Val::I32(0)]), Ok(vec![Val::I32(1)]));
    let mut theirs = wasm_differential::engines::Theirs::new(&script.module).unwrap();
    assert_eq!(theirs.call("d", &[Val::I32(5)]), Ok(vec![Val::I32(1)]));
    let c = campaign::replay(&known, None).unwrap().expect("allowed");
    assert_eq!(c.stop.unwrap().rule, Some("wasmi-select-of-i32-eqz"));
    // The rule needs the pattern: `i32.eqz` right before `select`, not elsewhere.
    let apart = wat(r#"(module (func (param i32) (result i32)
        (select (i32.const 1) (i32.const 2) (i32.add (i32.eqz (local.get 0)) (i32.const 0)))))"#);
    assert!(!compare::has_select_of_i32_eqz(&apart));
}

/// `local.get 0` under an `if (param i32)` whose then-arm holds a nested `block` (`$nested`), its
/// condition read from a global so that wasmi translates both arms.
fn if_params_over_local_get(nested: &str) -> Vec<u8> {
    wat(&format!(
        r#"(module (global $g (export "g") (mut i64) (i64.const 0)) (global $c (mut i32) (i32.const 0))
        (func (export "f") (param i64)
            local.get 0 i32.const 7 global.get $c
            if (param i32) {nested} drop else drop end
            global.set $g))"#
    ))
}

#[test]
fn the_known_wasmi_if_bug_loses_a_local_get_below_an_if_with_params() {
    compare::install_quiet_hook();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("known-wasmi");
    let known = dir.join("if-params-over-local-get.wast");
    let script = vector::load(&known).unwrap();
    assert!(compare::has_if_with_params_over_local_get(&script.module));
    // ee-wasm keeps the parameter (the spec's value, the script's expectation); wasmi does not.
    let value = Val::I64(0x0123_4567_89ab_cdef);
    let mut ours = Ours::new(&script.module).unwrap();
    assert_eq!(ours.call("f", std::slice::from_ref(&value)), Ok(vec![]));
    assert_eq!(ours.global("g"), Some(value));
    let mut theirs = wasm_differential::engines::Theirs::new(&script.module).unwrap();
    assert_eq!(theirs.call("f", std::slice::from_ref(&value)), Ok(vec![]));
    assert_ne!(theirs.global("g"), Some(value));
    let c = campaign::replay(&known, None).unwrap().expect("allowed");
    assert_eq!(c.stop.unwrap().rule, Some("wasmi-if-params-over-local-get"));
    // The three modules of campaign seed 7 have the pattern and stop at the rule.
    let mut found = 0;
    for entry in std::fs::read_dir(dir.join("if-params-over-local-get")).unwrap() {
        let path = entry.unwrap().path();
        assert!(compare::has_if_with_params_over_local_get(&vector::load(&path).unwrap().module), "{path:?}");
        let c = campaign::replay(&path, None).unwrap().expect("allowed");
        assert_eq!(c.stop.unwrap().rule, Some("wasmi-if-params-over-local-get"), "{path:?}");
        found += 1;
    }
    assert_eq!(found, 3);
    // The rule needs the whole pattern: a nested block in the then-arm, a parameter, a local below.
    assert!(compare::has_if_with_params_over_local_get(&if_params_over_local_get("block end")));
    assert!(!compare::has_if_with_params_over_local_get(&if_params_over_local_get("")));
    let mut theirs = wasm_differential::engines::Theirs::new(&if_params_over_local_get("")).unwrap();
    assert_eq!(theirs.call("f", &[Val::I64(5)]), Ok(vec![]));
    assert_eq!(theirs.global("g"), Some(Val::I64(5)), "without the nested block wasmi agrees");
    let no_param = wat(r#"(module (func (param i64) (result i64)
        local.get 0 i32.const 0 if block end end))"#);
    assert!(!compare::has_if_with_params_over_local_get(&no_param));
    let no_local = wat(r#"(module (func (result i64)
        i64.const 3 i32.const 7 i32.const 0 if (param i32) block end drop else drop end))"#);
    assert!(!compare::has_if_with_params_over_local_get(&no_local));
}
