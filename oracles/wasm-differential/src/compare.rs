//! One module on both engines in lockstep: validation, instantiation (start function,
//! segments), then every planned invocation, compared bit for bit (results, trap kinds),
//! and after instantiation and after every invocation the exported globals, the size and
//! full contents of the exported memories and the sizes of the exported tables.
//!
//! Every run is bounded: each invocation (and the start function) has a fuel budget on each
//! side and both sides have the same call-depth bound. The allow-list ([`RULES`]) says
//! which differences are not divergences; a case that runs out of fuel stops there.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::engines::{exports_of, ExportKind, Ours, Setup, Theirs};
use crate::{show_outcome, Call, Outcome, TrapKind, Val};

/// An allow-list rule: differences it matches are not divergences (they are counted in the
/// report under the rule's name, with its reason).
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub reason: &'static str,
}

/// The allow-list.
pub const RULES: [Rule; 4] = [
    Rule {
        name: "out-of-fuel",
        reason: "one side ran out of fuel (and the other did anything else): the engines meter differently (ee-wasm \
             one unit per wasm instruction, charged in advance for each straight-line run; wasmi per instruction \
             of its own register code, more for calls and bulk operations), so where a budget ends is not \
             comparable. This also covers a stack overflow or a trap on one side where the other ran out of fuel \
             first. The case stops there: after it the two stores are no longer comparable",
    },
    Rule {
        name: "wasmi-store-translation-panic",
        reason: "wasmi 2.0.0 panics (`unreachable!()` in `choose_store_op_vt`, engine/translator/func/mod.rs:2583) \
             translating a store with an offset beyond 16 bits whose address and value are the same local, just \
             assigned a computed value (`(local.set 0 (i32.add ...)) (i32.store8 offset=100000 (local.get 0) \
             (local.get 0))`; found by this differential, known-wasmi/ holds the module it found). wasmi has no \
             instance to compare with; ee-wasm must still accept and instantiate the module (a rejection or a \
             panic on our side stays a divergence)",
    },
    Rule {
        name: "wasmi-select-of-i32-eqz",
        reason: "wasmi 2.0.0 evaluates a `select` whose condition is computed by the `i32.eqz` just before it as if \
             the `eqz` were not there (it picks the first operand when the operand of `eqz` is non-zero: \
             known-wasmi/select-of-i32-eqz.wast, found by this differential). A difference in the results, \
             traps, globals, memory, tables or instantiation of a module that has `i32.eqz` directly followed by \
             `select` is allowed; the case stops there",
    },
    Rule {
        name: "wasmi-if-params-over-local-get",
        reason: "wasmi 2.0.0 loses a `local.get` value that lies on the operand stack below the inputs of an `if` \
             with parameters whose then-arm holds a nested block, loop or if, when the then-arm does not run: \
             after the `if` the value reads as whatever its register held before (it changes from run to run; \
             known-wasmi/if-params-over-local-get.wast, found by this differential in campaign seed 7; wasmtime \
             51 agrees with ee-wasm and the spec). A difference in the results, traps, globals, memory, tables or \
             instantiation of a module that has this pattern is allowed; the case stops there",
    },
];

/// Whether some function body of the module has `i32.eqz` directly followed by `select`.
pub fn has_select_of_i32_eqz(bytes: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else { continue };
        let Ok(mut ops) = body.get_operators_reader() else { continue };
        let mut eqz = false;
        while !ops.eof() {
            let Ok(op) = ops.read() else { break };
            if eqz && matches!(op, Operator::Select | Operator::TypedSelect { .. }) {
                return true;
            }
            eqz = matches!(op, Operator::I32Eqz);
        }
    }
    false
}

/// The rule for wasmi's `select` on `i32.eqz` ([`RULES`]`[2]`).
pub const SELECT_EQZ: &Rule = &RULES[2];

/// The rule for wasmi's lost `local.get` under an `if` with parameters ([`RULES`]`[3]`).
pub const IF_PARAMS_OVER_LOCAL_GET: &Rule = &RULES[3];

/// Whether some function body has an `if` with parameters, reached while a value pushed by
/// `local.get` (or a reinterpretation of one) lies on the operand stack below the `if`'s inputs, whose then-arm has a block,
/// loop or if directly inside it: the shape of wasmi 2.0.0's bug of rule
/// [`IF_PARAMS_OVER_LOCAL_GET`]. The operand stack is followed with wasmparser's validator (its
/// operator arities and stack height), one flag per value: a local's value or not.
pub fn has_if_with_params_over_local_get(bytes: &[u8]) -> bool {
    use wasmparser::{Parser, ValidPayload, Validator, WasmFeatures};
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { return false };
        match validator.payload(&payload) {
            Ok(ValidPayload::Func(to_validate, body)) => {
                let mut func = to_validate.into_validator(Default::default());
                if if_params_over_local_get_in(&mut func, &body).unwrap_or(false) {
                    return true;
                }
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

fn if_params_over_local_get_in<R: wasmparser::WasmModuleResources>(
    func: &mut wasmparser::FuncValidator<R>,
    body: &wasmparser::FunctionBody<'_>,
) -> wasmparser::Result<bool> {
    use wasmparser::{ModuleArity, Operator};
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read()?;
        func.define_locals(offset, count, ty)?;
    }
    // Per operand: pushed by `local.get`. Per open block: an `if` of the pattern in its then-arm.
    let mut from_local_get: Vec<bool> = Vec::new();
    let mut suspect_then: Vec<bool> = vec![false];
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read()?;
        let arity = op.operator_arity(&*func);
        match &op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. }
                if suspect_then.last() == Some(&true) =>
            {
                return Ok(true);
            }
            Operator::If { blockty } => {
                let params = func.block_type_arity(*blockty).map_or(0, |(p, _)| p as usize);
                let below = from_local_get.len().saturating_sub(params + 1);
                suspect_then.push(params > 0 && from_local_get[..below].contains(&true));
            }
            Operator::Block { .. } | Operator::Loop { .. } => suspect_then.push(false),
            Operator::Else => {
                if let Some(top) = suspect_then.last_mut() {
                    *top = false;
                }
            }
            Operator::End => {
                suspect_then.pop();
            }
            _ => {}
        }
        func.op(offset, &op)?;
        if let Some((pops, pushes)) = arity {
            // wasmi compiles a reinterpretation to nothing: its result is still the local.
            let reinterpreted = matches!(
                op,
                Operator::I32ReinterpretF32
                    | Operator::I64ReinterpretF64
                    | Operator::F32ReinterpretI32
                    | Operator::F64ReinterpretI64
            ) && from_local_get.last() == Some(&true);
            from_local_get.truncate(from_local_get.len().saturating_sub(pops as usize));
            let pushed = matches!(op, Operator::LocalGet { .. }) || reinterpreted;
            from_local_get.extend(std::iter::repeat_n(pushed, pushes as usize));
        }
        // Unreachable code and block boundaries: the validator's height is the truth.
        from_local_get.resize(func.operand_stack_height() as usize, false);
    }
    Ok(false)
}

/// The location of wasmi's translator panic that [`RULES`]`[1]` allows.
pub const WASMI_STORE_PANIC_AT: &str = "wasmi-2.0.0/src/engine/translator/func/mod.rs:2583";

/// The rule that allows a difference between two outcomes, if any.
pub fn allowed(ours: &Outcome, theirs: &Outcome) -> Option<&'static Rule> {
    let fuel = |o: &Outcome| matches!(o, Err(TrapKind::OutOfFuel));
    if fuel(ours) || fuel(theirs) {
        return Some(&RULES[0]);
    }
    None
}

/// What wasmi did at one invocation, with the exported globals after it (the expected
/// values of a vector).
#[derive(Clone, Debug)]
pub struct Step {
    pub call: Call,
    pub outcome: Outcome,
    pub globals: Vec<(String, Val)>,
}

/// Where a case stopped early on the allow-list.
#[derive(Clone, Debug)]
pub struct Stop {
    /// The rule (None: both sides ran out of fuel, which is no difference at all).
    pub rule: Option<&'static str>,
    pub ours: String,
    pub theirs: String,
}

/// A comparison without divergence.
#[derive(Clone, Debug)]
pub struct Compared {
    /// The instantiation trap both sides agree on, if any.
    pub instantiation: Option<TrapKind>,
    /// The invocations compared (wasmi's outcomes, equal to ours).
    pub steps: Vec<Step>,
    pub stop: Option<Stop>,
    /// Fuel our side spent (instructions executed).
    pub fuel: u64,
}

/// A divergence: what differs, both sides, and wasmi's steps up to and including it.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// `validation`, `instantiation`, `outcome`, `state`, `panic`.
    pub kind: &'static str,
    pub what: String,
    pub ours: String,
    pub theirs: String,
    /// wasmi's instantiation outcome.
    pub instantiation: Option<TrapKind>,
    /// wasmi's steps, the diverging invocation last (with wasmi's outcome).
    pub steps: Vec<Step>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n  ours:  {}\n  wasmi: {}", self.what, self.ours, self.theirs)
    }
}

/// A planted difference on our side (tests of the campaign machinery).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Our i32 results are off by one.
    I32ResultsOffByOne,
}

thread_local! {
    static IN_COMPARE: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened (`file:line`).
    static PANIC_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// A panic hook that stays quiet while a comparison runs (its panics are caught and reported
/// as divergences) and defers to the previous hook otherwise.
pub fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_COMPARE.with(Cell::get) {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_text(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| e.downcast_ref::<String>().cloned()).unwrap_or_default()
}

/// Runs `f`, a panic caught as `Err("message (at file:line)")` (the location when the quiet
/// hook is installed).
pub fn caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = IN_COMPARE.with(|c| c.replace(true));
    PANIC_AT.with(|p| p.borrow_mut().clear());
    let r = catch_unwind(AssertUnwindSafe(f))
        .map_err(|e| format!("{} (at {})", panic_text(e), PANIC_AT.with(|p| p.borrow().clone())));
    IN_COMPARE.with(|c| c.set(was));
    r
}

struct Run {
    instantiation: Option<TrapKind>,
    steps: Vec<Step>,
}

impl Run {
    fn diverge(self, kind: &'static str, what: String, ours: String, theirs: String) -> Divergence {
        Divergence { kind, what, ours, theirs, instantiation: self.instantiation, steps: self.steps }
    }
}

/// A divergence of `kind` that a rule on the module's code (wasmi's miscompilations) allows:
/// the case stops there.
#[allow(clippy::result_large_err)]
fn allow_miscompiled(bytes: &[u8], d: Divergence) -> Result<Compared, Divergence> {
    if !matches!(d.kind, "outcome" | "state" | "instantiation") {
        return Err(d);
    }
    /// A rule on wasmi's miscompilations and the detector of its pattern in a module.
    type Pattern = (&'static Rule, fn(&[u8]) -> bool);
    let patterns: [Pattern; 2] =
        [(SELECT_EQZ, has_select_of_i32_eqz), (IF_PARAMS_OVER_LOCAL_GET, has_if_with_params_over_local_get)];
    if let Some((rule, _)) = patterns.iter().find(|(_, has)| has(bytes)) {
        let stop = Stop { rule: Some(rule.name), ours: d.ours, theirs: format!("{} ({})", d.theirs, d.what) };
        let mut steps = d.steps;
        if d.kind == "outcome" {
            steps.pop();
        }
        return Ok(Compared { instantiation: d.instantiation, steps, stop: Some(stop), fuel: 0 });
    }
    Err(d)
}

fn setup_text(s: &Result<(), Setup>) -> String {
    match s {
        Ok(()) => "instantiated".into(),
        Err(Setup::Rejected(m)) => format!("rejected: {m}"),
        Err(Setup::Trap(t)) => format!("instantiation trap: {}", t.message()),
    }
}

/// Compares the exported state (globals, memories, table sizes).
fn compare_state(
    ours: &mut Ours,
    theirs: &Theirs,
    exports: &[(String, ExportKind)],
) -> Result<(), (String, String, String)> {
    for (name, kind) in exports {
        match kind {
            ExportKind::Func { .. } => {}
            ExportKind::Global => {
                let (o, t) = (ours.global(name), theirs.global(name));
                if o != t {
                    return Err((format!("global {name:?} differs"), format!("{o:?}"), format!("{t:?}")));
                }
            }
            ExportKind::Memory => {
                let (o, t) = (ours.memory(name), theirs.memory(name));
                match (o, t) {
                    (Some(o), Some(t)) if o.len() != t.len() => {
                        return Err((
                            format!("memory {name:?} size differs"),
                            format!("{} bytes", o.len()),
                            format!("{} bytes", t.len()),
                        ))
                    }
                    (Some(o), Some(t)) => {
                        if let Some(i) = o.iter().zip(t).position(|(a, b)| a != b) {
                            let end = (i + 16).min(o.len());
                            return Err((
                                format!("memory {name:?} differs at byte {i:#x}"),
                                format!("{:02x?}", &o[i..end]),
                                format!("{:02x?}", &t[i..end]),
                            ));
                        }
                    }
                    (o, t) => {
                        return Err((
                            format!("memory {name:?} missing"),
                            format!("{:?}", o.map(<[u8]>::len)),
                            format!("{:?}", t.map(<[u8]>::len)),
                        ))
                    }
                }
            }
            ExportKind::Table { funcref } => {
                let o = ours.table_size(name, *funcref);
                let t = theirs.table_size(name);
                if o.as_ref().ok() != t.as_ref() {
                    return Err((format!("table {name:?} size differs"), format!("{o:?}"), format!("{t:?}")));
                }
            }
        }
    }
    Ok(())
}

fn globals(theirs: &Theirs, exports: &[(String, ExportKind)]) -> Vec<(String, Val)> {
    exports
        .iter()
        .filter(|(_, k)| *k == ExportKind::Global)
        .filter_map(|(n, _)| theirs.global(n).map(|v| (n.clone(), v)))
        .collect()
}

/// Compares `bytes` on both engines, running `plan`.
// The divergence is the rare result and carries the steps for its vector: not boxed.
#[allow(clippy::result_large_err)]
pub fn compare(bytes: &[u8], plan: &[Call], tamper: Option<Tamper>) -> Result<Compared, Divergence> {
    compare_unruled(bytes, plan, tamper).or_else(|d| allow_miscompiled(bytes, d))
}

#[allow(clippy::result_large_err)]
fn compare_unruled(bytes: &[u8], plan: &[Call], tamper: Option<Tamper>) -> Result<Compared, Divergence> {
    let mut run = Run { instantiation: None, steps: Vec::new() };
    let exports = match caught(|| exports_of(bytes)) {
        Ok(Ok(e)) => e,
        Ok(Err(m)) => return Err(run.diverge("validation", "wasmi rejects the module".into(), String::new(), m)),
        Err(p) if p.contains(WASMI_STORE_PANIC_AT) => {
            // The allow-list's wasmi translator panic: ours must still take the module.
            return match caught(|| Ours::new(bytes).map(|_| ())) {
                Ok(Ok(())) | Ok(Err(Setup::Trap(_))) => Ok(Compared {
                    instantiation: None,
                    steps: Vec::new(),
                    stop: Some(Stop { rule: Some(RULES[1].name), ours: "instantiated".into(), theirs: p }),
                    fuel: 0,
                }),
                Ok(Err(Setup::Rejected(m))) => Err(run.diverge("validation", "validation differs".into(), m, p)),
                Err(o) => Err(run.diverge("panic", "ee-wasm panicked instantiating".into(), o, p)),
            };
        }
        Err(p) => return Err(run.diverge("panic", "wasmi panicked reading the module".into(), String::new(), p)),
    };
    let theirs = match caught(|| Theirs::new(bytes)) {
        Ok(t) => t,
        Err(p) => return Err(run.diverge("panic", "wasmi panicked instantiating".into(), String::new(), p)),
    };
    let ours = match caught(|| Ours::new(bytes)) {
        Ok(o) => o,
        Err(p) => {
            return Err(run.diverge(
                "panic",
                "ee-wasm panicked instantiating".into(),
                p,
                setup_text(&theirs.map(|_| ())),
            ))
        }
    };
    let (mut ours, mut theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (o, t) => {
            let (so, st) = (o.map(|_| ()), t.map(|_| ()));
            let (to, tt) = (setup_text(&so), setup_text(&st));
            if let Err(Setup::Trap(k)) = &st {
                run.instantiation = Some(k.clone());
            }
            if matches!(so, Err(Setup::Rejected(_))) || matches!(st, Err(Setup::Rejected(_))) {
                return Err(run.diverge("validation", "validation differs".into(), to, tt));
            }
            let outcome = |s: &Result<(), Setup>| -> Outcome {
                match s {
                    Err(Setup::Trap(k)) => Err(k.clone()),
                    _ => Ok(Vec::new()),
                }
            };
            let (oo, ot) = (outcome(&so), outcome(&st));
            if oo == ot && oo.is_err() {
                let stop = (oo == Err(TrapKind::OutOfFuel)).then_some(Stop { rule: None, ours: to, theirs: tt });
                return Ok(Compared { instantiation: run.instantiation, steps: Vec::new(), stop, fuel: 0 });
            }
            if let Some(rule) = allowed(&oo, &ot) {
                let stop = Some(Stop { rule: Some(rule.name), ours: to, theirs: tt });
                return Ok(Compared { instantiation: run.instantiation, steps: Vec::new(), stop, fuel: 0 });
            }
            return Err(run.diverge("instantiation", "instantiation differs".into(), to, tt));
        }
    };
    match caught(|| compare_state(&mut ours, &theirs, &exports)) {
        Ok(Ok(())) => {}
        Ok(Err((what, o, t))) => return Err(run.diverge("state", format!("after instantiation: {what}"), o, t)),
        Err(p) => return Err(run.diverge("panic", "a panic reading the state".into(), p, String::new())),
    }
    let mut stop = None;
    for call in plan {
        let o = caught(|| ours.call(&call.export, &call.args));
        let t = caught(|| theirs.call(&call.export, &call.args));
        let at = format!("invoke {:?} {}", call.export, crate::vector::show_args(&call.args));
        let mut o = match o {
            Ok(o) => o,
            Err(p) => {
                let t = t.map(|t| show_outcome(&t)).unwrap_or_else(|p| format!("panicked: {p}"));
                return Err(run.diverge("panic", format!("{at}: ee-wasm panicked"), p, t));
            }
        };
        let t = match t {
            Ok(t) => t,
            Err(p) => return Err(run.diverge("panic", format!("{at}: wasmi panicked"), show_outcome(&o), p)),
        };
        if tamper == Some(Tamper::I32ResultsOffByOne) {
            if let Ok(vals) = &mut o {
                for v in vals.iter_mut() {
                    if let Val::I32(x) = v {
                        *x = x.wrapping_add(1);
                    }
                }
            }
        }
        let step = Step { call: call.clone(), outcome: t.clone(), globals: Vec::new() };
        if o == t && o == Err(TrapKind::OutOfFuel) {
            stop = Some(Stop { rule: None, ours: show_outcome(&o), theirs: show_outcome(&t) });
            break;
        }
        if o != t {
            if let Some(rule) = allowed(&o, &t) {
                stop = Some(Stop { rule: Some(rule.name), ours: show_outcome(&o), theirs: show_outcome(&t) });
                break;
            }
            run.steps.push(step);
            return Err(run.diverge("outcome", format!("{at}: outcome differs"), show_outcome(&o), show_outcome(&t)));
        }
        let step = Step { globals: globals(&theirs, &exports), ..step };
        run.steps.push(step);
        match caught(|| compare_state(&mut ours, &theirs, &exports)) {
            Ok(Ok(())) => {}
            Ok(Err((what, o, t))) => return Err(run.diverge("state", format!("after {at}: {what}"), o, t)),
            Err(p) => {
                return Err(run.diverge("panic", format!("after {at}: a panic reading the state"), p, String::new()))
            }
        }
    }
    Ok(Compared { instantiation: None, steps: run.steps, stop, fuel: ours.fuel_spent })
}
