//! The two engines behind one small interface: instantiate a module (running its start
//! function), invoke an export with a fuel budget, read exported globals, memories and
//! table sizes.

use std::collections::HashMap;

use ee_wasm::{
    invoke, Error as OurError, Extern as OurExtern, FuncAddr, InstanceId, Linker as OurLinker, Module as OurModule,
    StackLimits, Store as OurStore, StoreLimits, Trap, Value,
};
use wasmi::errors::{ErrorKind, InstantiationError, MemoryError};
use wasmi::TrapCode;

use crate::{TrapKind, Val};

/// Fuel of one invocation (and of the start function) on our side: one unit per wasm
/// instruction, bulk operations one more per 64 bytes or elements.
pub const OUR_FUEL: u64 = 20_000;
/// Fuel of one invocation on wasmi's side (its own units: about one per instruction of its
/// register IR, more for calls and bulk operations); more than ours, so that most budgets
/// that end, end on our side first and wasmi's stack overflows and traps are still seen.
pub const THEIR_FUEL: u64 = 60_000;
/// Nested calls allowed on both sides (ours counts the frames below the current one, wasmi
/// the frames; see [`OUR_CALL_DEPTH`]).
pub const CALL_DEPTH: usize = 300;
/// Our `StackLimits::max_call_depth` for wasmi's [`CALL_DEPTH`]: ours traps when the
/// frames below the current one reach it, so one less allows the same number of frames.
pub const OUR_CALL_DEPTH: usize = CALL_DEPTH - 1;
/// Value stacks large enough that the call depth bound is the one that trips first.
pub const OUR_VALUE_STACK: usize = 1 << 21;
pub const THEIR_STACK_BYTES: usize = 64 << 20;

/// Why an engine has no instance to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    /// Decoding or validation refused the module.
    Rejected(String),
    /// Instantiation (segments, start function) trapped.
    Trap(TrapKind),
}

/// The kind of an exported entity, with what the comparison needs of its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Func {
        params: Vec<wasmi::ValType>,
        results: usize,
    },
    Global,
    Memory,
    /// The element type is a funcref table.
    Table {
        funcref: bool,
    },
}

/// The module's exports, in order, as wasmi reads them (the oracle's view of the module).
pub fn exports_of(bytes: &[u8]) -> Result<Vec<(String, ExportKind)>, String> {
    let engine = wasmi::Engine::new(&their_config());
    let module = wasmi::Module::new(&engine, bytes).map_err(|e| e.to_string())?;
    Ok(module
        .exports()
        .map(|e| {
            let kind = match e.ty() {
                wasmi::ExternType::Func(ft) => {
                    ExportKind::Func { params: ft.params().to_vec(), results: ft.results().len() }
                }
                wasmi::ExternType::Global(_) => ExportKind::Global,
                wasmi::ExternType::Memory(_) => ExportKind::Memory,
                wasmi::ExternType::Table(tt) => ExportKind::Table { funcref: tt.element() == wasmi::RefType::Func },
            };
            (e.name().to_string(), kind)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// ours

fn our_trap(t: &Trap) -> TrapKind {
    match t {
        Trap::Unreachable => TrapKind::Unreachable,
        Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        Trap::TableOutOfBounds | Trap::UndefinedElement => TrapKind::TableOutOfBounds,
        Trap::UninitializedElement => TrapKind::NullReference,
        Trap::IndirectCallTypeMismatch => TrapKind::IndirectCallTypeMismatch,
        Trap::IntegerDivideByZero => TrapKind::IntegerDivideByZero,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::InvalidConversionToInteger => TrapKind::InvalidConversion,
        Trap::StackExhausted => TrapKind::StackOverflow,
        Trap::OutOfFuel => TrapKind::OutOfFuel,
        Trap::HostMisuse(m) => TrapKind::Other(format!("host misuse: {m}")),
    }
}

fn to_ours(v: &Val) -> Value {
    match *v {
        Val::I32(x) => Value::I32(x),
        Val::I64(x) => Value::I64(x),
        Val::F32(x) => Value::F32(x),
        Val::F64(x) => Value::F64(x),
        // Only null function references are passed in.
        Val::FuncRef(_) => Value::FuncRef(None),
        Val::ExternRef(r) => Value::ExternRef(r),
    }
}

fn from_ours(v: &Value) -> Val {
    match *v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(x) => Val::F32(x),
        Value::F64(x) => Val::F64(x),
        Value::FuncRef(r) => Val::FuncRef(r.is_some()),
        Value::ExternRef(r) => Val::ExternRef(r),
    }
}

/// ee-wasm: a store with one instance of the module (no imports).
pub struct Ours {
    store: OurStore,
    instance: InstanceId,
    /// `table.size` probes: a one-function module importing the table.
    probes: HashMap<String, FuncAddr>,
    /// Instructions (fuel) spent by the invocations so far.
    pub fuel_spent: u64,
}

fn limits() -> StackLimits {
    StackLimits { max_value_stack: OUR_VALUE_STACK, max_call_depth: OUR_CALL_DEPTH }
}

fn no_host(_: &mut OurStore, _: u32, _: &[Value]) -> Result<Vec<Value>, Trap> {
    Err(Trap::HostMisuse("the module has no imports".into()))
}

impl Ours {
    /// Decodes, validates, instantiates and runs the start function.
    pub fn new(bytes: &[u8]) -> Result<Ours, Setup> {
        let module = OurModule::new(bytes).map_err(|e| Setup::Rejected(e.to_string()))?;
        let mut store = OurStore::new(StoreLimits::default());
        let inst = OurLinker::new().instantiate(&mut store, &module).map_err(|e| match e {
            OurError::Trap(t) => Setup::Trap(our_trap(&t)),
            other => Setup::Rejected(other.to_string()),
        })?;
        let mut ours = Ours { store, instance: inst.instance, probes: HashMap::new(), fuel_spent: 0 };
        if let Some(start) = inst.start {
            let mut fuel = OUR_FUEL;
            invoke(&mut ours.store, start, &[], &mut fuel, limits(), &mut no_host)
                .map_err(|t| Setup::Trap(our_trap(&t)))?;
            ours.fuel_spent += OUR_FUEL - fuel;
        }
        Ok(ours)
    }

    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, TrapKind> {
        let Some(OurExtern::Func(f)) = self.store.export(self.instance, name) else {
            return Err(TrapKind::Other(format!("no function export {name:?}")));
        };
        let args: Vec<Value> = args.iter().map(to_ours).collect();
        let mut fuel = OUR_FUEL;
        let r = invoke(&mut self.store, f, &args, &mut fuel, limits(), &mut no_host);
        self.fuel_spent += OUR_FUEL - fuel;
        r.map(|v| v.iter().map(from_ours).collect()).map_err(|t| our_trap(&t))
    }

    pub fn global(&self, name: &str) -> Option<Val> {
        match self.store.export(self.instance, name) {
            Some(OurExtern::Global(g)) => self.store.global_get(g).map(|v| from_ours(&v)),
            _ => None,
        }
    }

    pub fn memory(&self, name: &str) -> Option<&[u8]> {
        match self.store.export(self.instance, name) {
            Some(OurExtern::Memory(m)) => self.store.memory(m),
            _ => None,
        }
    }

    /// The size of an exported table, read by a probe module's `table.size` (the store has
    /// no public accessor for tables).
    pub fn table_size(&mut self, name: &str, funcref: bool) -> Result<u64, String> {
        let probe = match self.probes.get(name) {
            Some(p) => *p,
            None => {
                let Some(ext @ OurExtern::Table(_)) = self.store.export(self.instance, name) else {
                    return Err(format!("no table export {name:?}"));
                };
                let mut linker = OurLinker::new();
                linker.define("t", "t", ext);
                let module = OurModule::new(&table_probe(funcref)).map_err(|e| e.to_string())?;
                let inst = linker.instantiate(&mut self.store, &module).map_err(|e| e.to_string())?;
                let Some(OurExtern::Func(f)) = self.store.export(inst.instance, "s") else {
                    return Err("probe without export".into());
                };
                self.probes.insert(name.to_string(), f);
                f
            }
        };
        let mut fuel = 100;
        match invoke(&mut self.store, probe, &[], &mut fuel, limits(), &mut no_host) {
            Ok(v) => match v.as_slice() {
                [Value::I32(n)] => Ok(*n as u32 as u64),
                other => Err(format!("probe returned {other:?}")),
            },
            Err(t) => Err(t.to_string()),
        }
    }
}

/// `(module (import "t" "t" (table 0 funcref|externref)) (func (export "s") (result i32) table.size 0))`
pub fn table_probe(funcref: bool) -> Vec<u8> {
    let elem = if funcref { 0x70 } else { 0x6f };
    let mut m = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    m.extend([0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f]); // type: [] -> [i32]
    m.extend([0x02, 0x09, 0x01, 0x01, b't', 0x01, b't', 0x01, elem, 0x00, 0x00]); // import table min 0
    m.extend([0x03, 0x02, 0x01, 0x00]); // one function of type 0
    m.extend([0x07, 0x05, 0x01, 0x01, b's', 0x00, 0x00]); // export "s"
    m.extend([0x0a, 0x07, 0x01, 0x05, 0x00, 0xfc, 0x10, 0x00, 0x0b]); // table.size 0
    m
}

// ---------------------------------------------------------------------------------------
// wasmi

/// wasmi's configuration: the feature set of ee-wasm (wasm v1 + v2 without SIMD), fuel,
/// eager translation, the same call depth.
pub fn their_config() -> wasmi::Config {
    let mut c = wasmi::Config::default();
    c.consume_fuel(true)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_multi_memory(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .set_max_recursion_depth(CALL_DEPTH)
        .set_max_stack_height(THEIR_STACK_BYTES)
        .compilation_mode(wasmi::CompilationMode::Eager);
    c
}

fn their_trap(e: &wasmi::Error) -> TrapKind {
    if let Some(code) = e.as_trap_code() {
        return match code {
            TrapCode::UnreachableCodeReached => TrapKind::Unreachable,
            TrapCode::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
            TrapCode::TableOutOfBounds => TrapKind::TableOutOfBounds,
            TrapCode::IndirectCallToNull => TrapKind::NullReference,
            TrapCode::IntegerDivisionByZero => TrapKind::IntegerDivideByZero,
            TrapCode::IntegerOverflow => TrapKind::IntegerOverflow,
            TrapCode::BadConversionToInteger => TrapKind::InvalidConversion,
            TrapCode::StackOverflow => TrapKind::StackOverflow,
            TrapCode::BadSignature => TrapKind::IndirectCallTypeMismatch,
            TrapCode::OutOfFuel => TrapKind::OutOfFuel,
            other => TrapKind::Other(other.to_string()),
        };
    }
    match e.kind() {
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => TrapKind::TableOutOfBounds,
        ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => TrapKind::MemoryOutOfBounds,
        _ => TrapKind::Other(e.to_string()),
    }
}

fn to_theirs(store: &mut wasmi::Store<()>, v: &Val) -> wasmi::Val {
    match *v {
        Val::I32(x) => wasmi::Val::I32(x),
        Val::I64(x) => wasmi::Val::I64(x),
        Val::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
        Val::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
        Val::FuncRef(_) => wasmi::Val::FuncRef(wasmi::Nullable::Null),
        Val::ExternRef(None) => wasmi::Val::ExternRef(wasmi::Nullable::Null),
        Val::ExternRef(Some(n)) => wasmi::Val::ExternRef(wasmi::Nullable::Val(wasmi::ExternRef::new(store, n))),
    }
}

fn from_theirs(store: &wasmi::Store<()>, v: &wasmi::Val) -> Val {
    match v {
        wasmi::Val::I32(x) => Val::I32(*x),
        wasmi::Val::I64(x) => Val::I64(*x),
        wasmi::Val::F32(x) => Val::F32(x.to_bits()),
        wasmi::Val::F64(x) => Val::F64(x.to_bits()),
        wasmi::Val::FuncRef(r) => Val::FuncRef(!r.is_null()),
        wasmi::Val::ExternRef(r) => {
            Val::ExternRef(r.val().map(|e| e.data(store).downcast_ref::<u32>().copied().unwrap_or(u32::MAX)))
        }
        // No SIMD in the generated modules.
        wasmi::Val::V128(_) => Val::I64(i64::MIN),
    }
}

/// wasmi 2.0: a store with one instance of the module.
pub struct Theirs {
    store: wasmi::Store<()>,
    instance: wasmi::Instance,
}

impl Theirs {
    pub fn new(bytes: &[u8]) -> Result<Theirs, Setup> {
        let engine = wasmi::Engine::new(&their_config());
        let module = wasmi::Module::new(&engine, bytes).map_err(|e| Setup::Rejected(e.to_string()))?;
        let mut store = wasmi::Store::new(&engine, ());
        store.set_fuel(THEIR_FUEL).map_err(|e| Setup::Rejected(e.to_string()))?;
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = linker.instantiate_and_start(&mut store, &module).map_err(|e| Setup::Trap(their_trap(&e)))?;
        Ok(Theirs { store, instance })
    }

    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, TrapKind> {
        let Some(f) = self.instance.get_func(&self.store, name) else {
            return Err(TrapKind::Other(format!("no function export {name:?}")));
        };
        let ty = f.ty(&self.store);
        let params: Vec<wasmi::Val> = args.iter().map(|a| to_theirs(&mut self.store, a)).collect();
        let mut results: Vec<wasmi::Val> = ty.results().iter().map(|t| wasmi::Val::default_for_ty(*t)).collect();
        self.store.set_fuel(THEIR_FUEL).map_err(|e| TrapKind::Other(e.to_string()))?;
        f.call(&mut self.store, &params, &mut results).map_err(|e| their_trap(&e))?;
        Ok(results.iter().map(|v| from_theirs(&self.store, v)).collect())
    }

    pub fn global(&self, name: &str) -> Option<Val> {
        self.instance.get_global(&self.store, name).map(|g| from_theirs(&self.store, &g.get(&self.store)))
    }

    pub fn memory(&self, name: &str) -> Option<&[u8]> {
        self.instance.get_memory(&self.store, name).map(|m| m.data(&self.store))
    }

    pub fn table_size(&self, name: &str) -> Option<u64> {
        self.instance.get_table(&self.store, name).map(|t| t.size(&self.store))
    }
}
