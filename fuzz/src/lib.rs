//! Shared pieces of the fuzz targets.

use ee_wasm::{invoke, Extern, Module, StackLimits, Store, StoreLimits, Value};

/// Fuel for one start function or export call.
pub const WASM_FUEL: u64 = 50_000;
/// Small stacks and memories, so a run is bounded in time and space.
pub const WASM_STACK: StackLimits = StackLimits { max_value_stack: 1 << 14, max_call_depth: 256 };
pub const WASM_STORE: StoreLimits = StoreLimits { max_memory_pages: 64, max_table_elems: 10_000 };

/// What one run of a module did: per export called, its result (values or the trap's text)
/// and the fuel it used.
pub type WasmRun = Vec<(String, String, u64)>;

/// Instantiates `module` without imports (a module with imports is not run) and calls its
/// start function, then every exported function with zero arguments, each with
/// [`WASM_FUEL`]. Must hold: no panic; fuel never goes up and a finished call used at most
/// what it was given.
pub fn run_module(module: &Module) -> Option<WasmRun> {
    if module.imports().next().is_some() {
        return None;
    }
    let mut store = Store::new(WASM_STORE);
    let mut out = WasmRun::new();
    let inst = match store.instantiate(module, &[]) {
        Ok(i) => i,
        Err(e) => {
            out.push(("<instantiate>".into(), format!("{e:?}"), 0));
            return Some(out);
        }
    };
    let mut host = |_: &mut Store, _: u32, _: &[Value]| Ok(vec![]);
    let mut call = |store: &mut Store, name: String, f| {
        let args: Vec<Value> =
            store.func_type(f).map(|ty| ty.params.iter().map(|t| Value::default_of(*t)).collect()).unwrap_or_default();
        let mut fuel = WASM_FUEL;
        let r = invoke(store, f, &args, &mut fuel, WASM_STACK, &mut host);
        assert!(fuel <= WASM_FUEL, "fuel went up: {fuel}");
        let shown = match &r {
            Ok(v) => format!("{v:?}"),
            Err(t) => format!("trap {t:?}"),
        };
        out.push((name, shown, WASM_FUEL - fuel));
        r.is_ok()
    };
    if let Some(start) = inst.start {
        if !call(&mut store, "<start>".into(), start) {
            return Some(out);
        }
    }
    // In name order: the store lists exports in hash order, and calls share the instance.
    let mut exports = store.exports(inst.instance);
    exports.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, ext) in exports {
        if let Extern::Func(f) = ext {
            call(&mut store, name, f);
        }
    }
    Some(out)
}

/// Decodes, validates and runs `bytes` twice in fresh stores; the two runs must agree.
/// Returns whether the module was accepted.
pub fn exercise_wasm(bytes: &[u8]) -> bool {
    let Ok(module) = Module::new(bytes) else { return false };
    let _ = module.disassemble();
    let first = run_module(&module);
    let second = run_module(&Module::new(bytes).expect("accepted once, accepted again"));
    assert_eq!(first, second, "two runs of the same module differ");
    true
}
