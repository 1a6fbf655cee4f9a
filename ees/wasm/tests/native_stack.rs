//! Long runs must not grow the native stack.
//!
//! In optimised builds the interpreter's handlers call each other in tail position, and
//! LLVM must compile those calls to jumps (`src/exec/handlers.rs`). A handler compiled as a
//! real call would push a frame for every op it executes and overflow the stack on a long
//! loop: a crash that no `catch_unwind` stops. So every kind of op runs here 20,000 times,
//! in its plain form and in the forms that read an operand from the accumulator, on a
//! thread with a 128 KiB stack. (`cargo test --release` checks the tail-call build, as CI
//! does; a debug build runs the same handlers from a loop.) An overflow aborts the test
//! binary; `-- --nocapture` shows the case that was running.
//!
//! `every_handler_has_a_case` checks that the cases reach every handler the interpreter
//! has (`ee_wasm::all_handler_keys`: every op in each of its forms, every `StepJump`
//! test, each `Return` arity), so a new handler without a case fails it.

use std::collections::BTreeSet;

use ee_wasm::{invoke, Extern, FuncType, Linker, Module, StackLimits, Store, ValType, Value};

const ITERATIONS: i32 = 20_000;

/// 2 in the first iteration of `looping`'s loop, else 0: a segment's length before and
/// after it is dropped.
const FIRST_TWO: &str = "(i32.shl (i32.eq (local.get $n) (i32.const 20000)) (i32.const 1))";

/// `(instruction, operand types, result type)` of every numeric instruction.
fn numeric_ops() -> Vec<(String, Vec<&'static str>, &'static str)> {
    let mut ops = Vec::new();
    for t in ["i32", "i64"] {
        for op in ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor"] {
            ops.push((format!("{t}.{op}"), vec![t, t], t));
        }
        for op in ["shl", "shr_s", "shr_u", "rotl", "rotr"] {
            ops.push((format!("{t}.{op}"), vec![t, t], t));
        }
        for op in ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"] {
            ops.push((format!("{t}.{op}"), vec![t, t], "i32"));
        }
        ops.push((format!("{t}.eqz"), vec![t], "i32"));
        for op in ["clz", "ctz", "popcnt", "extend8_s", "extend16_s"] {
            ops.push((format!("{t}.{op}"), vec![t], t));
        }
    }
    ops.push(("i64.extend32_s".into(), vec!["i64"], "i64"));
    for t in ["f32", "f64"] {
        for op in ["add", "sub", "mul", "div", "min", "max", "copysign"] {
            ops.push((format!("{t}.{op}"), vec![t, t], t));
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            ops.push((format!("{t}.{op}"), vec![t, t], "i32"));
        }
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"] {
            ops.push((format!("{t}.{op}"), vec![t], t));
        }
    }
    let conversions = [
        ("i32.wrap_i64", "i64", "i32"),
        ("i64.extend_i32_s", "i32", "i64"),
        ("i64.extend_i32_u", "i32", "i64"),
        ("f32.demote_f64", "f64", "f32"),
        ("f64.promote_f32", "f32", "f64"),
        ("i32.reinterpret_f32", "f32", "i32"),
        ("i64.reinterpret_f64", "f64", "i64"),
        ("f32.reinterpret_i32", "i32", "f32"),
        ("f64.reinterpret_i64", "i64", "f64"),
    ];
    for (op, from, to) in conversions {
        ops.push((op.into(), vec![from], to));
    }
    for i in ["i32", "i64"] {
        for f in ["f32", "f64"] {
            for s in ["s", "u"] {
                ops.push((format!("{i}.trunc_{f}_{s}"), vec![f], i));
                ops.push((format!("{i}.trunc_sat_{f}_{s}"), vec![f], i));
                ops.push((format!("{f}.convert_{i}_{s}"), vec![i], f));
            }
        }
    }
    ops
}

/// A value of type `t` that no numeric op traps on (as a divisor or a float to truncate).
fn value(t: &str) -> String {
    format!("({t}.const 7)")
}

/// A value of type `t` computed by the op just before its use, so that the next op reads
/// it from the accumulator.
fn computed(t: &str) -> String {
    format!("({t}.add {} ({t}.const 0))", value(t))
}

/// A function `run(n)` that runs `body` `n` times.
fn looping(body: &str, extra: &str) -> String {
    format!(
        r#"(module
          (import "host" "id" (func $host (param i64) (result i64)))
          (memory 1)
          (global $g (mut i64) (i64.const 0))
          (table 2 funcref)
          (elem (i32.const 0) $id $id)
          (elem $e func $id $id)
          (data $d "abcd")
          (type $t (func (param i64) (result i64)))
          (func $id (type $t) (local.get 0))
          (func $nothing)
          {extra}
          (func (export "run") (param $n i32) (result i32)
            (loop $again
              {body}
              (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
            (local.get $n)))"#
    )
}

/// Runs `run(ITERATIONS)` of `text` on a thread with a small stack.
fn runs_in_a_small_stack(what: &str, text: String) {
    eprintln!("case: {what}");
    let what = what.to_string();
    let worker = std::thread::Builder::new().stack_size(128 << 10).spawn(move || {
        let buf = wast::parser::ParseBuffer::new(&text).expect("lex");
        let bytes = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse").encode().expect("encode");
        let module = Module::new(&bytes).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let mut store = Store::default();
        let mut linker = Linker::new();
        let host = store.alloc_host_func(FuncType::new(vec![ValType::I64], vec![ValType::I64]), 1);
        linker.define("host", "id", Extern::Func(host));
        let inst = linker.instantiate(&mut store, &module).expect("instantiate");
        let Some(Extern::Func(run)) = store.export(inst.instance, "run") else { panic!("no run") };
        let mut fuel = u64::MAX;
        let r =
            invoke(&mut store, run, &[Value::I32(ITERATIONS)], &mut fuel, StackLimits::default(), &mut |_, _, a| {
                Ok(a.to_vec())
            });
        assert_eq!(r, Ok(vec![Value::I32(0)]), "{what}");
    });
    worker.expect("spawn").join().expect("the run finished");
}

fn numeric_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for (op, params, _) in numeric_ops() {
        let forms: Vec<String> = match params.as_slice() {
            [t] => vec![format!("({op} {})", value(t)), format!("({op} {})", computed(t))],
            [a, b] => vec![
                format!("({op} {} {})", value(a), value(b)),
                format!("({op} {} {})", computed(a), value(b)),
                format!("({op} {} {})", value(a), computed(b)),
            ],
            _ => unreachable!(),
        };
        let body: String = forms.iter().map(|f| format!("(drop {f})\n")).collect();
        cases.push((op, looping(&body, "")));
    }
    cases
}

fn memory_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    let loads = [
        ("i32.load", "i32"),
        ("i64.load", "i64"),
        ("f32.load", "f32"),
        ("f64.load", "f64"),
        ("i32.load8_s", "i32"),
        ("i32.load8_u", "i32"),
        ("i32.load16_s", "i32"),
        ("i32.load16_u", "i32"),
        ("i64.load8_s", "i64"),
        ("i64.load8_u", "i64"),
        ("i64.load16_s", "i64"),
        ("i64.load16_u", "i64"),
        ("i64.load32_s", "i64"),
        ("i64.load32_u", "i64"),
    ];
    for (op, _) in loads {
        let body = format!("(drop ({op} (i32.const 8))) (drop ({op} {}))", computed("i32"));
        cases.push((op.to_string(), looping(&body, "")));
    }
    let stores = [
        ("i32.store", "i32"),
        ("i64.store", "i64"),
        ("f32.store", "f32"),
        ("f64.store", "f64"),
        ("i32.store8", "i32"),
        ("i32.store16", "i32"),
        ("i64.store8", "i64"),
        ("i64.store16", "i64"),
        ("i64.store32", "i64"),
    ];
    for (op, t) in stores {
        let body = format!(
            "({op} (i32.const 8) {v}) ({op} {a} {v}) ({op} (i32.const 8) {c})",
            v = value(t),
            a = computed("i32"),
            c = computed(t)
        );
        cases.push((op.to_string(), looping(&body, "")));
    }
    let bulk = "(drop (memory.size)) (drop (memory.grow (i32.const 0)))
        (memory.fill (i32.const 0) (i32.const 1) (i32.const 16))
        (memory.copy (i32.const 16) (i32.const 0) (i32.const 16))
        (memory.init $d (i32.const 1) (i32.const 0) {first2})
        (data.drop $d) (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))"
        .replace("{first2}", FIRST_TWO);
    cases.push(("memory.size/grow/fill/copy/init, data.drop".into(), looping(&bulk, "")));
    cases
}

fn control_cases() -> Vec<(String, String)> {
    let mut cases = vec![
        ("call", "(drop (call $id (i64.const 1)))".to_string()),
        ("call_indirect", "(drop (call_indirect (type $t) (i64.const 1) (i32.const 1)))".to_string()),
        ("call with a return of two values", "(call $two) (drop) (drop)".to_string()),
        ("select", format!("(drop (select {} {} (local.get $n)))", value("i64"), computed("i64"))),
        ("globals", "(global.set $g (i64.add (global.get $g) (i64.const 1)))".to_string()),
        ("br_table", "(block $a (block $b (br_table $a $b (i32.and (local.get $n) (i32.const 1)))))".to_string()),
        ("if/else", "(if (i32.and (local.get $n) (i32.const 1)) (then (nop)) (else (nop)))".to_string()),
        (
            "table ops",
            "(drop (table.size)) (drop (table.get (i32.const 0))) (table.set (i32.const 1) (ref.func $id))
             (drop (table.grow (ref.null func) (i32.const 0))) (table.fill (i32.const 0) (ref.func $id) (i32.const 2))
             (table.copy (i32.const 0) (i32.const 1) (i32.const 1)) (table.init $e (i32.const 0) (i32.const 0) {first2})
             (elem.drop $e) (table.init $e (i32.const 0) (i32.const 0) (i32.const 0))"
                .replace("{first2}", FIRST_TWO),
        ),
        ("a return of no values", "(call $nothing)".to_string()),
        ("a host call", "(drop (call $host (i64.const 3)))".to_string()),
        ("unreachable (present, never reached)", "(if (i32.eqz (local.get $n)) (then unreachable))".to_string()),
        (
            "constants outside the pool",
            (0..80).map(|k| format!("(global.set $g (i64.const {}))", 1000 + k)).collect::<String>(),
        ),
        ("ref ops", "(drop (ref.is_null (ref.func $id)))".to_string()),
    ];
    // Conditional branches, fused with each comparison, in every operand form.
    for t in ["i32", "i64"] {
        for op in ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"] {
            let (x, c) = (value(t), computed(t));
            let body = format!(
                "(block $o (br_if $o ({t}.{op} {x} {x}))) (block $o (br_if $o ({t}.{op} {c} {x})))
                 (block $o (br_if $o ({t}.{op} {x} {c})))"
            );
            cases.push(("br_if on a comparison", body));
        }
        let body =
            format!("(block $o (br_if $o ({t}.eqz {}))) (block $o (br_if $o ({t}.eqz {})))", value(t), computed(t));
        cases.push(("br_if on eqz", body));
    }
    cases.push(("br_if on a value", format!("(block $out (br_if $out {}))", computed("i32"))));
    cases.push(("rotated i64 loops and a copy of a computed value", "(drop (call $rot (i64.const 8)))".to_string()));
    let two = r#"(func $two (result i64 i64) (i64.const 1) (i64.const 2))
      (func $rot (param $x i64) (result i64) (local $y i64)
        ;; A loop with its exit test at the top gets the test repeated, inverted, at its bottom.
        (block $d1 (loop $l1
          (br_if $d1 (i64.eqz (local.get $x)))
          (local.set $x (i64.shr_u (local.get $x) (i64.const 1)))
          (br $l1)))
        (local.set $y (i64.const 5))
        (block $d2 (loop $l2
          (br_if $d2 (i64.eqz (local.get $y)))
          (local.set $y (i64.shr_u (local.get $y) (i64.const 1)))
          (global.set $g (local.get $y))
          (br $l2)))
        (local.set $y (i64.const 3))
        (block $d3 (loop $l3
          (br_if $d3 (i64.eqz (local.get $y)))
          (local.set $y (i64.sub (local.get $y) (i64.const 1)))
          (br $l3)))
        (local.set $y (i64.const -3))
        (block $d4 (loop $l4
          (br_if $d4 (i64.eqz (local.get $y)))
          (local.set $y (i64.add (local.get $y) (i64.const 1)))
          (br $l4)))
        (local.set $y (local.tee $x (i64.add (local.get $x) (i64.const 1))))
        (i64.add (local.get $x) (local.get $y)))"#;
    cases.into_iter().map(|(what, body)| (what.to_string(), looping(&body, two))).collect()
}

/// Counted loops whose step fuses with their test (`StepJump`): every comparison, `eqz`
/// and a test on the value itself, both widths, add and sub. Each loop runs at most three
/// times (its own counter), whatever the test does.
fn step_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for t in ["i32", "i64"] {
        for step in ["add", "sub"] {
            let cmps = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
            let mut tests: Vec<String> =
                cmps.iter().map(|c| format!("({t}.{c} (local.get $x) (local.get $lim))")).collect();
            tests.push(format!("({t}.eqz (local.get $x))"));
            tests.push(if t == "i64" {
                "(i64.ne (local.get $x) (i64.const 0))".into()
            } else {
                "(local.get $x)".into()
            });
            let body: String = tests
                .iter()
                .map(|test| {
                    format!(
                        "(local.set $c (i32.const 0)) (local.set $x ({t}.const 2))
                         (block $out (loop $l
                           (br_if $out (i32.ge_u (local.get $c) (i32.const 3)))
                           (local.set $c (i32.add (local.get $c) (i32.const 1)))
                           (local.set $x ({t}.{step} (local.get $x) (local.get $k)))
                           (br_if $l {test})))\n"
                    )
                })
                .collect();
            let extra = format!(
                r#"(func (export "steps") (param $n i32) (result i32) (local $x {t}) (local $k {t}) (local $lim {t}) (local $c i32)
                     (local.set $k ({t}.const 1)) (local.set $lim ({t}.const 3))
                     (loop $again
                       {body}
                       (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
                     (local.get $n))"#
            );
            // `run` calls the steps function, so the loop of the steps runs ITERATIONS times.
            let text = looping(
                "(drop (call $steps_of (i32.const 1)))",
                &extra.replace("(func (export \"steps\")", "(func $steps_of"),
            );
            cases.push((format!("{t}.{step} steps"), text));
        }
    }
    cases
}

fn all_cases() -> Vec<(String, String)> {
    [numeric_cases(), memory_cases(), control_cases(), step_cases()].concat()
}

#[test]
fn every_numeric_op_in_every_form() {
    for (what, text) in numeric_cases() {
        runs_in_a_small_stack(&what, text);
    }
}

#[test]
fn memory_ops_in_every_form() {
    for (what, text) in memory_cases() {
        runs_in_a_small_stack(&what, text);
    }
}

#[test]
fn control_and_variable_ops() {
    for (what, text) in control_cases() {
        runs_in_a_small_stack(&what, text);
    }
}

#[test]
fn every_step_jump_form() {
    for (what, text) in step_cases() {
        runs_in_a_small_stack(&what, text);
    }
}

/// The cases above, together, contain an op with every handler the interpreter has.
#[test]
fn every_handler_has_a_case() {
    let mut covered = BTreeSet::new();
    for (what, text) in all_cases() {
        let buf = wast::parser::ParseBuffer::new(&text).expect("lex");
        let bytes = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse").encode().expect("encode");
        let module = Module::new(&bytes).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        covered.extend(module.handler_keys());
    }
    let all: BTreeSet<String> = ee_wasm::all_handler_keys().into_iter().collect();
    assert!(all.len() > 400, "{} handlers", all.len());
    let missing: Vec<&String> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "{} handlers without a case: {missing:?}", missing.len());
}
