//! Divergence vectors in the wasm suite's own format: a `.wast` script with the module as
//! `(module binary "...")` and wasmi's outcomes as `assert_return` / `assert_trap` /
//! `assert_exhaustion` directives (and `(get "global")` checks after each invocation), so
//! `conformance wasm --wast-dir DIR` runs it and `--replay` compares it again.

use std::fmt::Write;
use std::path::Path;

use wast::core::{AbstractHeapType, HeapType, WastArgCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute};

use crate::compare::Step;
use crate::{Call, Outcome, TrapKind, Val};

fn f32_text(bits: u32) -> String {
    let f = f32::from_bits(bits);
    let sign = if bits >> 31 == 1 { "-" } else { "" };
    if f.is_nan() {
        format!("{sign}nan:{:#x}", bits & 0x7F_FFFF)
    } else if f.is_infinite() {
        format!("{sign}inf")
    } else {
        // The shortest decimal that rounds back to the same bits; wast rounds it exactly.
        format!("{f:?}")
    }
}

fn f64_text(bits: u64) -> String {
    let f = f64::from_bits(bits);
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    if f.is_nan() {
        format!("{sign}nan:{:#x}", bits & 0xF_FFFF_FFFF_FFFF)
    } else if f.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{f:?}")
    }
}

/// A value as the spec scripts write it: `(i32.const 1)`, `(f32.const nan:0x400000)`.
pub fn show_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("(i32.const {x})"),
        Val::I64(x) => format!("(i64.const {x})"),
        Val::F32(b) => format!("(f32.const {})", f32_text(*b)),
        Val::F64(b) => format!("(f64.const {})", f64_text(*b)),
        Val::FuncRef(false) => "(ref.null func)".into(),
        Val::FuncRef(true) => "(ref.func)".into(),
        Val::ExternRef(None) => "(ref.null extern)".into(),
        Val::ExternRef(Some(n)) => format!("(ref.extern {n})"),
    }
}

pub fn show_args(args: &[Val]) -> String {
    args.iter().map(show_val).collect::<Vec<_>>().join(" ")
}

/// A string literal of the text format (bytes outside printable ASCII, quotes and
/// backslashes escaped as `\hh`).
pub fn string_literal(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3 + 2);
    s.push('"');
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:02x}");
        }
    }
    s.push('"');
    s
}

fn invoke_text(call: &Call) -> String {
    let args = show_args(&call.args);
    let sep = if args.is_empty() { "" } else { " " };
    format!("(invoke {}{sep}{args})", string_literal(call.export.as_bytes()))
}

fn expect_text(invoke: &str, outcome: &Outcome) -> String {
    match outcome {
        Ok(vals) => {
            let vals = show_args(vals);
            let sep = if vals.is_empty() { "" } else { " " };
            format!("(assert_return {invoke}{sep}{vals})")
        }
        Err(TrapKind::StackOverflow) => format!("(assert_exhaustion {invoke} \"call stack exhausted\")"),
        Err(t) => format!("(assert_trap {invoke} {})", string_literal(t.message().as_bytes())),
    }
}

/// The script of a (minimized) divergence: a comment saying what diverged, the module, and
/// wasmi's outcome of every step with the exported globals after it.
pub fn to_wast(bytes: &[u8], instantiation: &Option<TrapKind>, steps: &[Step], header: &[String]) -> String {
    let mut s = String::new();
    for line in header {
        for l in line.lines() {
            let _ = writeln!(s, ";; {l}");
        }
    }
    let mut module = String::from("(module binary");
    for chunk in bytes.chunks(32) {
        let _ = write!(module, "\n  {}", string_literal(chunk));
    }
    module.push(')');
    match instantiation {
        Some(t) => {
            let _ = writeln!(s, "(assert_trap {module} {})", string_literal(t.message().as_bytes()));
            return s;
        }
        None => {
            let _ = writeln!(s, "{module}");
        }
    }
    for step in steps {
        let _ = writeln!(s, "{}", expect_text(&invoke_text(&step.call), &step.outcome));
        for (name, v) in &step.globals {
            let _ = writeln!(s, "(assert_return (get {}) {})", string_literal(name.as_bytes()), show_val(v));
        }
    }
    s
}

fn arg(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else { return Err("component-model argument".into()) };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Func, .. }) => Val::FuncRef(false),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn call(inv: &wast::WastInvoke<'_>) -> Result<Call, String> {
    if inv.module.is_some() {
        return Err("invocations of named modules are not supported".into());
    }
    Ok(Call { export: inv.name.to_string(), args: inv.args.iter().map(arg).collect::<Result<_, _>>()? })
}

/// A vector read back: the module and the invocations of its script, in order.
#[derive(Clone, Debug)]
pub struct Script {
    pub module: Vec<u8>,
    pub plan: Vec<Call>,
}

/// Parses a vector script (one module; its invocations; `get` checks are skipped, since
/// the comparison reads every exported global after every invocation anyway).
pub fn from_wast(text: &str) -> Result<Script, String> {
    let buf = ParseBuffer::new(text).map_err(|e| e.to_string())?;
    let wast = parser::parse::<Wast<'_>>(&buf).map_err(|e| e.to_string())?;
    let mut module = None;
    let mut plan = Vec::new();
    let set_module = |m: Option<Vec<u8>>, mut q: QuoteWat<'_>| -> Result<Option<Vec<u8>>, String> {
        if m.is_some() {
            return Err("more than one module".into());
        }
        Ok(Some(q.encode().map_err(|e| e.to_string())?))
    };
    for d in wast.directives {
        match d {
            WastDirective::Module(q) => module = set_module(module.take(), q)?,
            WastDirective::AssertTrap { exec: WastExecute::Wat(w), .. } => {
                module = set_module(module.take(), QuoteWat::Wat(w))?
            }
            WastDirective::Invoke(inv) => plan.push(call(&inv)?),
            WastDirective::AssertReturn { exec: WastExecute::Invoke(inv), .. }
            | WastDirective::AssertTrap { exec: WastExecute::Invoke(inv), .. } => plan.push(call(&inv)?),
            WastDirective::AssertExhaustion { call: inv, .. } => plan.push(call(&inv)?),
            WastDirective::AssertReturn { exec: WastExecute::Get { .. }, .. } => {}
            _ => return Err("unsupported directive in a vector".into()),
        }
    }
    Ok(Script { module: module.ok_or("no module")?, plan })
}

pub fn load(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    from_wast(&text).map_err(|e| format!("{}: {e}", path.display()))
}
