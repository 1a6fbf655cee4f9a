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

use ee_wasm::{invoke, Extern, Linker, Module, StackLimits, Store, Value};

const ITERATIONS: i32 = 20_000;

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
          (memory 1)
          (global $g (mut i64) (i64.const 0))
          (table 2 funcref)
          (elem (i32.const 0) $id $id)
          (type $t (func (param i64) (result i64)))
          (func $id (type $t) (local.get 0))
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
        let inst = Linker::new().instantiate(&mut store, &module).expect("instantiate");
        let Some(Extern::Func(run)) = store.export(inst.instance, "run") else { panic!("no run") };
        let mut fuel = u64::MAX;
        let r =
            invoke(&mut store, run, &[Value::I32(ITERATIONS)], &mut fuel, StackLimits::default(), &mut |_, _, _| {
                Ok(vec![])
            });
        assert_eq!(r, Ok(vec![Value::I32(0)]), "{what}");
    });
    worker.expect("spawn").join().expect("the run finished");
}

#[test]
fn every_numeric_op_in_every_form() {
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
        runs_in_a_small_stack(&op, looping(&body, ""));
    }
}

#[test]
fn memory_ops_in_every_form() {
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
        runs_in_a_small_stack(op, looping(&body, ""));
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
        runs_in_a_small_stack(op, looping(&body, ""));
    }
    let bulk = "(drop (memory.size)) (drop (memory.grow (i32.const 0)))
        (memory.fill (i32.const 0) (i32.const 1) (i32.const 16))
        (memory.copy (i32.const 16) (i32.const 0) (i32.const 16))";
    runs_in_a_small_stack("memory.size/grow/fill/copy", looping(bulk, ""));
}

#[test]
fn control_and_variable_ops() {
    let mut cases = vec![
        ("call", "(drop (call $id (i64.const 1)))".to_string()),
        ("call_indirect", "(drop (call_indirect (type $t) (i64.const 1) (i32.const 1)))".to_string()),
        ("call with a return of two values", "(call $two) (drop) (drop)".to_string()),
        ("select", format!("(drop (select {} {} (local.get $n)))", value("i64"), computed("i64"))),
        ("globals", "(global.set $g (i64.add (global.get $g) (i64.const 1)))".to_string()),
        ("br_table", "(block $a (block $b (br_table $a $b (i32.and (local.get $n) (i32.const 1)))))".to_string()),
        ("if/else", "(if (i32.and (local.get $n) (i32.const 1)) (then (nop)) (else (nop)))".to_string()),
        ("table ops", "(drop (table.size)) (drop (table.get (i32.const 0)))".to_string()),
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
    let two = r#"(func $two (result i64 i64) (i64.const 1) (i64.const 2))"#;
    for (what, body) in cases {
        runs_in_a_small_stack(what, looping(&body, two));
    }
}
