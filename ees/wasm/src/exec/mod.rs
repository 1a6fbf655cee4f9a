//! The interpreter: resumable execution of the internal code with an explicit value stack
//! and call stack (no native recursion per wasm call).
//!
//! An [`Execution`] is one invocation. It runs until the entry function returns, a trap,
//! or a call to a host function, which is handed to the embedder as
//! [`RunOutcome::HostCall`]; the embedder answers with [`Execution::resume`]. That makes
//! every host call a possible preemption point (the bootloader can run another contract
//! in between). Every wasm instruction costs one unit of fuel (bulk memory and table ops
//! more, see [`BULK_UNIT`]), charged in advance per straight-line run of code (see
//! `compile.rs` and the crate README); running out is [`Trap::OutOfFuel`].
//!
//! Values live in one `Vec<u64>` of slots; a frame is a window of it (locals, constant
//! pool, operand slots) addressed by the ops' slot operands. The ops run as direct-threaded
//! handlers (`handlers.rs`), which read slots and ops through raw pointers without bounds
//! checks: `compile::verify` establishes, for every function, the invariants that make
//! this sound (see the SAFETY notes there).

use std::sync::Arc;

use crate::error::Trap;
use crate::store::{FuncAddr, FuncKind, InstanceData, Store, StoreId};
use crate::types::ValType;
use crate::values::Value;

mod handlers;

pub(crate) use handlers::{all_handler_keys, handler_key, sets_acc, Inst};
use handlers::{Cx, Exit};

/// Bulk instructions (`memory.fill/copy/init/grow`, `table.*`) cost one extra fuel unit per
/// this many bytes or elements, so that one instruction cannot do unbounded work.
pub const BULK_UNIT: u64 = 64;

/// Bounds of one execution's stacks. Exhaustion traps with [`Trap::StackExhausted`].
#[derive(Clone, Copy, Debug)]
pub struct StackLimits {
    /// Value stack slots (8 bytes each), locals included.
    pub max_value_stack: usize,
    /// Nested wasm calls.
    pub max_call_depth: usize,
}

impl Default for StackLimits {
    fn default() -> Self {
        StackLimits { max_value_stack: 1 << 20, max_call_depth: 16 * 1024 }
    }
}

/// Why [`Execution::run`] returned without a trap.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// The entry function returned these values.
    Finished(Vec<Value>),
    /// A host function must be served; answer with [`Execution::resume`].
    HostCall { func: FuncAddr, host_id: u32, args: Vec<Value> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `pending` holds the entry function, not yet entered.
    Ready,
    Running,
    /// Waiting for the results of `host` (a store function).
    AwaitingHost(FuncAddr),
    Done,
}

/// A caller's saved registers.
#[derive(Clone, Copy, Debug)]
struct Frame {
    pc: u32,
    fp: u32,
    instance: u32,
}

/// One resumable invocation of a function.
#[derive(Debug)]
pub struct Execution {
    /// The store this execution runs on (checked by `run` and `resume`).
    store: StoreId,
    limits: StackLimits,
    stack: Vec<u64>,
    sp: usize,
    /// Callers of the current frame.
    frames: Vec<Frame>,
    /// Registers of the current frame (valid when `in_wasm`).
    pc: u32,
    fp: u32,
    instance: u32,
    in_wasm: bool,
    /// The handlers' accumulator register, kept across a suspension (see `handlers.rs`).
    acc: u64,
    /// A call to perform before running on (entry function or cross-instance call).
    pending: Option<FuncAddr>,
    results: Box<[ValType]>,
    state: State,
}

fn misuse<T>(m: &str) -> Result<T, Trap> {
    Err(Trap::HostMisuse(m.to_string()))
}

impl Execution {
    /// Prepares a call of `func` with `args` (checked against its type).
    pub fn new(store: &Store, func: FuncAddr, args: &[Value], limits: StackLimits) -> Result<Execution, Trap> {
        let Some(ty) = store.func_type(func) else { return misuse("unknown function") };
        if ty.params.len() != args.len() || ty.params.iter().zip(args).any(|(t, a)| *t != a.ty()) {
            return misuse("argument types do not match the function type");
        }
        let mut stack = vec![0u64; 64.max(args.len())];
        for (slot, a) in stack.iter_mut().zip(args) {
            *slot = a.to_slot();
        }
        Ok(Execution {
            store: store.id,
            limits,
            stack,
            sp: args.len(),
            frames: Vec::new(),
            pc: 0,
            fp: 0,
            instance: 0,
            in_wasm: false,
            acc: 0,
            pending: Some(func),
            results: ty.results.clone(),
            state: State::Ready,
        })
    }

    /// Runs until the entry function finishes, a host call, or a trap. `store` must be the
    /// store the execution was created with: any other is refused with
    /// [`Trap::HostMisuse`] (and the execution is left as it was).
    pub fn run(&mut self, store: &mut Store, fuel: &mut u64) -> Result<RunOutcome, Trap> {
        self.check_store(store)?;
        match self.state {
            State::Ready | State::Running => {}
            State::AwaitingHost(_) => return misuse("a host call is pending: use resume"),
            State::Done => return misuse("execution has finished"),
        }
        self.state = State::Running;
        let r = self.execute(store, fuel);
        // Running out of fuel is the one trap an execution survives: `run` again with more.
        if r.as_ref().is_err_and(|t| *t != Trap::OutOfFuel) {
            self.state = State::Done;
        }
        r
    }

    /// Supplies the results of the pending host call and runs on.
    /// `store` must be the store the execution was created with, as for [`Execution::run`].
    pub fn resume(&mut self, store: &mut Store, results: &[Value], fuel: &mut u64) -> Result<RunOutcome, Trap> {
        self.check_store(store)?;
        let State::AwaitingHost(f) = self.state else { return misuse("no host call is pending") };
        let Some(ty) = store.func_type(f) else { return misuse("unknown function") };
        if ty.results.len() != results.len() || ty.results.iter().zip(results).any(|(t, r)| *t != r.ty()) {
            self.state = State::Done;
            return misuse("host results do not match the function type");
        }
        if self.sp + results.len() > self.stack.len() {
            self.stack.resize(self.sp + results.len() + 16, 0);
        }
        for r in results {
            self.stack[self.sp] = r.to_slot();
            self.sp += 1;
        }
        if !self.in_wasm {
            // The entry function itself was a host function.
            self.state = State::Done;
            return Ok(RunOutcome::Finished(results.to_vec()));
        }
        self.state = State::Running;
        self.run(store, fuel)
    }

    /// The execution's registers are positions in its own store's code and stack, which
    /// the handlers use without bounds checks: never run them on another store.
    fn check_store(&self, store: &Store) -> Result<(), Trap> {
        if store.id != self.store {
            return misuse("the store is not the one the execution was created on");
        }
        Ok(())
    }

    /// Whether `run`/`resume` can be called again.
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    fn finish(&mut self) -> RunOutcome {
        self.state = State::Done;
        let n = self.results.len();
        let vals = self.results.iter().zip(&self.stack[self.sp - n..self.sp]).map(|(t, s)| Value::from_slot(*t, *s));
        RunOutcome::Finished(vals.collect())
    }

    /// Performs the call in `self.pending`: enters a wasm function (pushing the current
    /// frame) or surfaces a host call. Returns `Some(outcome)` when control goes to the embedder.
    fn enter_pending(&mut self, store: &Store) -> Result<Option<RunOutcome>, Trap> {
        let Some(f) = self.pending.take() else { return Ok(None) };
        let Some(fi) = store.funcs.get(f.0 as usize) else { return misuse("unknown function") };
        match fi.kind {
            FuncKind::Host { id } => {
                let ty = &store.types[fi.ty as usize];
                let n = ty.params.len();
                let base = self.sp - n;
                let args = ty.params.iter().zip(&self.stack[base..self.sp]).map(|(t, s)| Value::from_slot(*t, *s));
                let args = args.collect();
                self.sp = base;
                self.state = State::AwaitingHost(f);
                Ok(Some(RunOutcome::HostCall { func: f, host_id: id, args }))
            }
            FuncKind::Wasm { instance, index } => {
                let inst = &store.instances[instance as usize].data;
                let fc = &inst.module.inner.code.funcs[index as usize];
                if self.in_wasm {
                    if self.frames.len() >= self.limits.max_call_depth {
                        return Err(Trap::StackExhausted);
                    }
                    self.frames.push(Frame { pc: self.pc, fp: self.fp, instance: self.instance });
                }
                let fp = self.sp - fc.num_params as usize;
                let need = fp + fc.max_height as usize + 1;
                if need > self.limits.max_value_stack {
                    return Err(Trap::StackExhausted);
                }
                if need > self.stack.len() {
                    self.stack.resize(need.max(self.stack.len() * 2).min(self.limits.max_value_stack), 0);
                }
                let consts = self.sp + fc.num_locals as usize;
                self.stack[self.sp..consts].fill(0);
                self.stack[consts..consts + fc.consts.len()].copy_from_slice(&fc.consts);
                self.fp = fp as u32;
                self.pc = fc.start;
                self.instance = instance;
                self.in_wasm = true;
                Ok(None)
            }
        }
    }

    /// Runs the current frame until the execution finishes, suspends or traps: enters any
    /// pending call, then hands the registers to the threaded handlers (`handlers.rs`),
    /// which run until an [`Exit`]; crossing into another instance comes back here.
    fn execute(&mut self, store: &mut Store, fuel: &mut u64) -> Result<RunOutcome, Trap> {
        loop {
            if let Some(out) = self.enter_pending(store)? {
                return Ok(out);
            }
            let ctx: Arc<InstanceData> = store.instances[self.instance as usize].data.clone();
            let compiled = &ctx.module.inner.code;
            let mem_idx = ctx.mems.first().map_or(usize::MAX, |m| *m as usize);
            // The instance's memory is moved out of the store while its code runs (its base
            // and length travel in machine registers) and put back at every exit.
            let memory = store.mems.get_mut(mem_idx).map(|m| std::mem::take(&mut m.data)).unwrap_or_default();
            let (pc, fp) = (self.pc as usize, self.fp as usize);
            let mut cx = Cx::new(self, store, &ctx, compiled, memory);
            // SAFETY: `pc` is an op of this instance's code (a function start, or where a
            // frame of this instance was suspended) and the stack holds the frame at `fp`
            // (it was sized for it on entry); see `handlers.rs` for what the handlers rely on.
            let exit = unsafe { handlers::run(&mut cx, pc, fp, *fuel) };
            let (memory, fuel_left, trap) = cx.finish();
            *fuel = fuel_left;
            if let Some(m) = store.mems.get_mut(mem_idx) {
                m.data = memory;
            }
            match exit {
                Exit::Reenter => continue,
                Exit::Finished => return Ok(self.finish()),
                Exit::OutOfFuel => return Err(Trap::OutOfFuel),
                Exit::Trap => {
                    return Err(
                        trap.unwrap_or_else(|| Trap::HostMisuse("internal: a trap exit without its trap".into()))
                    )
                }
                Exit::Continue => unreachable!("`handlers::run` loops over `Continue`"),
            }
        }
    }
}
/// A synchronous host function server: `(store, host_id, args) -> results`.
pub type HostFn<'a> = dyn FnMut(&mut Store, u32, &[Value]) -> Result<Vec<Value>, Trap> + 'a;

/// Runs `func` to completion, serving host calls synchronously with `host`
/// (`host(store, host_id, args)`). For embedders without preemption needs, and tests.
pub fn invoke(
    store: &mut Store,
    func: FuncAddr,
    args: &[Value],
    fuel: &mut u64,
    limits: StackLimits,
    host: &mut HostFn<'_>,
) -> Result<Vec<Value>, Trap> {
    let mut exec = Execution::new(store, func, args, limits)?;
    let mut outcome = exec.run(store, fuel)?;
    loop {
        match outcome {
            RunOutcome::Finished(vals) => return Ok(vals),
            RunOutcome::HostCall { host_id, args, .. } => {
                let results = host(store, host_id, &args)?;
                outcome = exec.resume(store, &results, fuel)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Extern, Linker, Module};

    fn wat(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).expect("lex");
        let mut w = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
        w.encode().expect("encode")
    }

    /// Instantiates `text` with `host.f: [i32] -> [i32]` (host id 7) and returns the export `name`.
    fn setup(text: &str, name: &str) -> (Store, FuncAddr) {
        let mut store = Store::default();
        let mut linker = Linker::new();
        let f = store.alloc_host_func(crate::FuncType::new(vec![ValType::I32], vec![ValType::I32]), 7);
        linker.define("host", "f", Extern::Func(f));
        let module = Module::new(&wat(text)).expect("module");
        let inst = linker.instantiate(&mut store, &module).expect("instantiate");
        let Some(Extern::Func(e)) = store.export(inst.instance, name) else { panic!("no export {name}") };
        (store, e)
    }

    #[test]
    fn fuel_exhaustion_traps() {
        let (mut store, f) = setup(r#"(module (func (export "spin") (loop (br 0))))"#, "spin");
        let mut exec = Execution::new(&store, f, &[], StackLimits::default()).unwrap();
        let mut fuel = 10_000;
        assert_eq!(exec.run(&mut store, &mut fuel), Err(Trap::OutOfFuel));
        assert_eq!(fuel, 0);
        // Out of fuel is resumable: more fuel runs on (and out again, here).
        assert!(!exec.is_finished());
        let mut more = 500;
        assert_eq!(exec.run(&mut store, &mut more), Err(Trap::OutOfFuel));
        assert!(more < 500);
    }

    #[test]
    fn refuelling_in_slices_gives_the_same_result_and_cost() {
        let text = r#"(module (memory 1)
            (func (export "f") (param i32) (result i32) (local i32)
              (memory.fill (i32.const 0) (i32.const 7) (i32.const 4096))
              (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.load8_u (local.get 0))))
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 0) (i32.const 1000))))
              (local.get 1)))"#;
        let (mut store, f) = setup(text, "f");
        let mut whole = u64::MAX;
        let expected =
            invoke(&mut store, f, &[Value::I32(0)], &mut whole, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        assert_eq!(expected, Ok(vec![Value::I32(7000)]));
        let cost = u64::MAX - whole;
        let mut exec = Execution::new(&store, f, &[Value::I32(0)], StackLimits::default()).unwrap();
        let (mut spent, mut slices) = (0, 0);
        // The fill's charge (4096 / BULK_UNIT = 64) needs a slice at least that large.
        let result = loop {
            let mut slice = 70;
            let r = exec.run(&mut store, &mut slice);
            spent += 70 - slice;
            slices += 1;
            match r {
                Err(Trap::OutOfFuel) if slices < 10_000 => continue,
                other => break other,
            }
        };
        assert_eq!(result, Ok(RunOutcome::Finished(vec![Value::I32(7000)])));
        assert_eq!(spent, cost, "slicing changes no cost");
        assert!(slices > 50, "{slices} slices");
    }

    #[test]
    fn fuel_is_charged_per_instruction() {
        let (mut store, f) = setup(r#"(module (func (export "k") (result i32) (i32.const 1)))"#, "k");
        let mut fuel = 100;
        let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        assert_eq!(r, Ok(vec![Value::I32(1)]));
        assert_eq!(fuel, 98); // const + return
    }

    /// A grow past the maximum returns -1 at the price of the instruction alone, and a
    /// bulk op out of bounds traps without paying per unit: the limit and bounds checks
    /// come before the per-unit charge (which pays for work actually done).
    #[test]
    fn failed_grows_and_out_of_bounds_bulk_ops_pay_no_per_unit_fuel() {
        let text = r#"(module (memory 1 3) (table 1 3 funcref) (elem func 0) (data "ab")
            (func (export "mg") (result i32) (memory.grow (i32.const -186828342)))
            (func (export "mg4") (result i32) (memory.grow (i32.const 3)))
            (func (export "tg") (result i32) (table.grow (ref.null func) (i32.const -1)))
            (func (export "mf") (memory.fill (i32.const 1) (i32.const 0) (i32.const -1)))
            (func (export "mc") (memory.copy (i32.const 1) (i32.const 0) (i32.const -1)))
            (func (export "mi") (memory.init 0 (i32.const 1) (i32.const 0) (i32.const -1)))
            (func (export "tf") (table.fill (i32.const 1) (ref.null func) (i32.const -1)))
            (func (export "tc") (table.copy (i32.const 1) (i32.const 0) (i32.const -1)))
            (func (export "ti") (table.init 0 (i32.const 1) (i32.const 0) (i32.const -1))))"#;
        // (export, expected result, instructions: operands + the op + the final `end`)
        type Case = (&'static str, Result<Vec<Value>, Trap>, u64);
        let cases: [Case; 9] = [
            ("mg", Ok(vec![Value::I32(-1)]), 3),
            ("mg4", Ok(vec![Value::I32(-1)]), 3),
            ("tg", Ok(vec![Value::I32(-1)]), 4),
            ("mf", Err(Trap::MemoryOutOfBounds), 5),
            ("mc", Err(Trap::MemoryOutOfBounds), 5),
            ("mi", Err(Trap::MemoryOutOfBounds), 5),
            ("tf", Err(Trap::TableOutOfBounds), 5),
            ("tc", Err(Trap::TableOutOfBounds), 5),
            ("ti", Err(Trap::TableOutOfBounds), 5),
        ];
        for (name, expected, cost) in cases {
            let (mut store, f) = setup(text, name);
            let mut fuel = 100;
            let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
            assert_eq!(r, expected, "{name}");
            assert_eq!(100 - fuel, cost, "{name}");
        }
        // A grow that succeeds pays per unit for what it adds: one page is
        // PAGE_SIZE / BULK_UNIT = 1024 more than its three instructions.
        let text = r#"(module (memory 1 3) (func (export "g") (result i32) (memory.grow (i32.const 1))))"#;
        let (mut store, f) = setup(text, "g");
        let mut fuel = 1026;
        let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        assert_eq!(r, Err(Trap::OutOfFuel));
        let mut fuel = 1027;
        let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        assert_eq!((r, fuel), (Ok(vec![Value::I32(1)]), 0));
    }

    /// Bounds are computed in `u64`: the largest effective address (a 32-bit address plus
    /// a 32-bit offset) plus an access size, or a bulk op's 32-bit start plus count, would
    /// wrap a 32-bit `usize` to a small in-bounds value. (This 64-bit host cannot show the
    /// wrap itself; the same accesses run end to end below.)
    #[test]
    fn bounds_are_computed_without_wrapping() {
        let max = u32::MAX as u64;
        let len = 1usize << 20;
        assert!(!handlers::in_bounds(max + max, 8, len));
        assert!(!handlers::in_bounds(max, max, len));
        assert!(!handlers::in_bounds(max, 1, len));
        assert!(handlers::in_bounds(len as u64 - 4, 4, len));
        assert!(!handlers::in_bounds(len as u64 - 3, 4, len));
        assert!(handlers::in_bounds(len as u64, 0, len));
        let text = r#"(module (memory 1)
            (func (export "load") (result i64) (i64.load offset=0xFFFFFFFF (i32.const -1)))
            (func (export "store") (i32.store16 offset=0xFFFFFFFF (i32.const -1) (i32.const 7)))
            (func (export "fill") (memory.fill (i32.const -1) (i32.const 0) (i32.const -1)))
            (func (export "copy") (memory.copy (i32.const 0) (i32.const -1) (i32.const 2))))"#;
        for name in ["load", "store", "fill", "copy"] {
            let (mut store, f) = setup(text, name);
            let mut fuel = 100;
            let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
            assert_eq!(r, Err(Trap::MemoryOutOfBounds), "{name}");
        }
    }

    #[test]
    fn rotated_loops_cost_what_their_instructions_cost() {
        let text = r#"(module (func (export "f") (param $n i32) (result i32)
            (block $done (loop $l
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br $l)))
            (local.get $n)))"#;
        // The translator repeats the exit test at the bottom of the loop.
        let listing = Module::new(&wat(text)).expect("module").disassemble();
        assert!(listing.contains("JumpIfZero32") && listing.contains("JumpIfNonZero32"), "{listing}");
        let (mut store, f) = setup(text, "f");
        for n in [0u64, 1, 2, 10] {
            let mut fuel = 1000;
            let r =
                invoke(&mut store, f, &[Value::I32(n as i32)], &mut fuel, StackLimits::default(), &mut |_, _, _| {
                    Ok(vec![])
                });
            assert_eq!(r, Ok(vec![Value::I32(0)]));
            // Per iteration: the test (local.get, i32.eqz, br_if) and the body (local.get,
            // i32.const, i32.sub, local.set, br); then the last test, local.get and the end.
            assert_eq!(1000 - fuel, 8 * n + 3 + 2, "n = {n}");
        }
    }

    /// Runs the export `name` of `text` with `args` and returns its result and fuel used.
    fn cost(text: &str, name: &str, args: &[Value]) -> (Result<Vec<Value>, Trap>, u64) {
        let (mut store, f) = setup(text, name);
        let mut fuel = 1000;
        let r = invoke(&mut store, f, args, &mut fuel, StackLimits::default(), &mut |_, _, _| Ok(vec![]));
        (r, 1000 - fuel)
    }

    /// A branch to the function's own label is a return: like `br` and `return`, a taken
    /// `br_if` or `br_table` pays only its own 1, not the final `end`, which costs 1 only
    /// when execution falls through to it.
    #[test]
    fn branches_to_the_function_label_do_not_pay_the_final_end() {
        let text = r#"(module
            (func (export "br") (result i32) (br 0 (i32.const 7)) (i32.const 8))
            (func (export "return") (result i32) (return (i32.const 7)) (i32.const 8))
            (func (export "br_if") (param i32) (result i32)
              (br_if 0 (i32.const 7) (local.get 0)) (drop) (i32.const 8))
            (func (export "br_table") (param i32) (result i32)
              (block (result i32) (br_table 0 1 (i32.const 7) (local.get 0))) (i32.const 1) (i32.add)))"#;
        // (export, argument, result, instructions run)
        let cases = [
            ("br", None, 7, 2),          // i32.const, br
            ("return", None, 7, 2),      // i32.const, return
            ("br_if", Some(1), 7, 3),    // i32.const, local.get, br_if (taken)
            ("br_if", Some(0), 8, 6),    // the same, not taken; drop, i32.const, end
            ("br_table", Some(1), 7, 3), // i32.const, local.get, br_table (to the function)
            ("br_table", Some(0), 8, 6), // the same to the block; i32.const, i32.add, end
        ];
        for (name, arg, result, instructions) in cases {
            let args: Vec<Value> = arg.into_iter().map(Value::I32).collect();
            assert_eq!(cost(text, name, &args), (Ok(vec![Value::I32(result)]), instructions), "{name}({arg:?})");
        }
    }

    /// Code after a block, loop or if that nothing leaves (its end is neither fallen
    /// through to nor branched to) never runs, so it costs nothing, like code after `br`.
    #[test]
    fn code_after_a_block_nothing_leaves_costs_nothing() {
        let text = r#"(module
            (func (export "return") (result i32) (block (return (i32.const 1))) (drop (i32.const 2)) (i32.const 3))
            (func (export "br") (result i32)
              (block (result i32) (i32.ctz (block (result i32) (br 1 (i32.const 8))))))
            (func (export "loop") (result i32) (loop (br 1 (i32.const 4))) (i32.const 5))
            (func (export "if") (param i32) (result i32)
              (if (local.get 0) (then (return (i32.const 1))) (else (return (i32.const 2))))
              (i32.const 3))
            (func (export "then") (param i32) (result i32)
              (if (local.get 0) (then (block (return (i32.const 1))) (nop)) (else (nop)))
              (i32.const 3)))"#;
        // (export, argument, result, instructions run)
        let cases = [
            ("return", None, 1, 2),  // i32.const, return
            ("br", None, 8, 3),      // i32.const, br 1, the final end
            ("loop", None, 4, 2),    // i32.const, br 1 (to the function)
            ("if", Some(1), 1, 4),   // local.get, if, i32.const, return
            ("if", Some(0), 2, 4),   // local.get, if, i32.const, return
            ("then", Some(1), 1, 4), // local.get, if, i32.const, return
            ("then", Some(0), 3, 5), // local.get, if, nop, i32.const, end
        ];
        for (name, arg, result, instructions) in cases {
            let args: Vec<Value> = arg.into_iter().map(Value::I32).collect();
            assert_eq!(cost(text, name, &args), (Ok(vec![Value::I32(result)]), instructions), "{name}({arg:?})");
        }
    }

    #[test]
    fn running_out_of_fuel_at_a_jump_on_the_accumulator_resumes_right() {
        // The loop's `br_if` tests the value `i32.sub` just computed, so it reads it from
        // the accumulator; refuelling in slices of every size stops there sometimes, and
        // the execution must go on with the same value.
        let text = r#"(module (func (export "sum") (param i32) (result i32) (local i32)
            (loop $l
              (local.set 1 (i32.add (local.get 1) (local.get 0)))
              (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
              (br_if $l (local.get 0)))
            (local.get 1)))"#;
        let (mut store, f) = setup(text, "sum");
        // One iteration costs 10 (charged at once), so any slice from 10 makes progress.
        for slice in 10..40 {
            let mut exec = Execution::new(&store, f, &[Value::I32(100)], StackLimits::default()).unwrap();
            let mut runs = 0;
            let result = loop {
                let mut fuel = slice;
                runs += 1;
                match exec.run(&mut store, &mut fuel) {
                    Err(Trap::OutOfFuel) if runs < 10_000 => continue,
                    other => break other,
                }
            };
            assert_eq!(result, Ok(RunOutcome::Finished(vec![Value::I32(5050)])), "slices of {slice}");
        }
    }

    /// The fused loop step and test (`StepJump`) against a model, for every comparison in
    /// both operand orders, both widths, add and sub, across the signed and unsigned wraps.
    #[test]
    fn loop_steps_fused_with_their_test_match_a_model() {
        let cmps = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
        fn holds(cmp: &str, a: u64, b: u64, wide: bool) -> bool {
            let (sa, sb) = if wide { (a as i64, b as i64) } else { (a as u32 as i32 as i64, b as u32 as i32 as i64) };
            match cmp {
                "eq" => a == b,
                "ne" => a != b,
                "lt_s" => sa < sb,
                "lt_u" => a < b,
                "gt_s" => sa > sb,
                "gt_u" => a > b,
                "le_s" => sa <= sb,
                "le_u" => a <= b,
                "ge_s" => sa >= sb,
                _ => a >= b,
            }
        }
        for wide in [false, true] {
            let t = if wide { "i64" } else { "i32" };
            let mask = if wide { u64::MAX } else { u32::MAX as u64 };
            let top = if wide { i64::MAX as u64 } else { i32::MAX as u64 };
            for step in ["add", "sub"] {
                for cmp in cmps.iter().map(|c| c.to_string()).chain(["eqz".into(), "nez".into()]) {
                    for swap in [false, true] {
                        let test = match (cmp.as_str(), swap) {
                            ("eqz", _) => format!("({t}.eqz (local.get $x))"),
                            ("nez", _) if wide => "(i64.ne (local.get $x) (i64.const 0))".to_string(),
                            ("nez", _) => "(local.get $x)".to_string(),
                            (c, false) => format!("({t}.{c} (local.get $x) (local.get $lim))"),
                            (c, true) => format!("({t}.{c} (local.get $lim) (local.get $x))"),
                        };
                        let text = format!(
                            r#"(module (func (export "f") (param $x {t}) (param $k {t}) (param $lim {t}) (result {t} i32)
                                (local $n i32)
                                (block $out (loop $l
                                  (br_if $out (i32.ge_u (local.get $n) (i32.const 40)))
                                  (local.set $n (i32.add (local.get $n) (i32.const 1)))
                                  (local.set $x ({t}.{step} (local.get $x) (local.get $k)))
                                  (br_if $l {test})))
                                (local.get $x) (local.get $n)))"#
                        );
                        let listing = Module::new(&wat(&text)).expect("module").disassemble();
                        assert!(listing.contains("StepJump"), "not fused: {t}.{step} {cmp}\n{listing}");
                        let (mut store, f) = setup(&text, "f");
                        for (x0, k, lim) in [(0, 1, 5), (top - 3, 1, top + 2), (mask - 2, 1, 3), (5, 1, 0), (2, 1, 2)] {
                            let (x0, k, lim) = (x0 & mask, k, lim & mask);
                            let (mut x, mut n) = (x0, 0u32);
                            loop {
                                if n >= 40 {
                                    break;
                                }
                                n += 1;
                                x = if step == "add" { x.wrapping_add(k) } else { x.wrapping_sub(k) } & mask;
                                let again = match (cmp.as_str(), swap) {
                                    ("eqz", _) => x == 0,
                                    ("nez", _) => x != 0,
                                    (c, false) => holds(c, x, lim, wide),
                                    (c, true) => holds(c, lim, x, wide),
                                };
                                if !again {
                                    break;
                                }
                            }
                            let v = |b: u64| if wide { Value::I64(b as i64) } else { Value::I32(b as u32 as i32) };
                            let mut fuel = 1 << 20;
                            let r = invoke(
                                &mut store,
                                f,
                                &[v(x0), v(k), v(lim)],
                                &mut fuel,
                                StackLimits::default(),
                                &mut |_, _, _| Ok(vec![]),
                            );
                            assert_eq!(
                                r,
                                Ok(vec![v(x), Value::I32(n as i32)]),
                                "{t}.{step} {cmp} swap={swap} x0={x0} k={k} lim={lim}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn stack_exhaustion_traps() {
        let text = r#"(module (func $r (export "r") (param i64) (call $r (local.get 0))))"#;
        let (mut store, f) = setup(text, "r");
        let mut fuel = u64::MAX;
        let limits = StackLimits { max_value_stack: 1 << 16, max_call_depth: 1000 };
        let r = invoke(&mut store, f, &[Value::I64(0)], &mut fuel, limits, &mut |_, _, _| Ok(vec![]));
        assert_eq!(r, Err(Trap::StackExhausted));
        // A value-stack bound tighter than the call depth bound also traps.
        let limits = StackLimits { max_value_stack: 500, max_call_depth: 1 << 20 };
        let r = invoke(&mut store, f, &[Value::I64(0)], &mut fuel, limits, &mut |_, _, _| Ok(vec![]));
        assert_eq!(r, Err(Trap::StackExhausted));
    }

    #[test]
    fn host_call_round_trip() {
        let text = r#"(module
            (import "host" "f" (func $h (param i32) (result i32)))
            (func (export "twice") (param i32) (result i32)
                (call $h (call $h (local.get 0)))))"#;
        let (mut store, f) = setup(text, "twice");
        let mut exec = Execution::new(&store, f, &[Value::I32(5)], StackLimits::default()).unwrap();
        let mut fuel = 1000;
        let RunOutcome::HostCall { host_id: 7, args, .. } = exec.run(&mut store, &mut fuel).unwrap() else {
            panic!("expected a host call")
        };
        assert_eq!(args, vec![Value::I32(5)]);
        // The embedder may do anything here (run another execution) before resuming.
        let RunOutcome::HostCall { args, .. } = exec.resume(&mut store, &[Value::I32(50)], &mut fuel).unwrap() else {
            panic!("expected a second host call")
        };
        assert_eq!(args, vec![Value::I32(50)]);
        let out = exec.resume(&mut store, &[Value::I32(51)], &mut fuel).unwrap();
        assert_eq!(out, RunOutcome::Finished(vec![Value::I32(51)]));
        assert!(exec.is_finished());
        // Wrong result types are refused.
        let mut exec = Execution::new(&store, f, &[Value::I32(1)], StackLimits::default()).unwrap();
        exec.run(&mut store, &mut fuel).unwrap();
        assert!(matches!(exec.resume(&mut store, &[Value::I64(1)], &mut fuel), Err(Trap::HostMisuse(_))));
    }

    /// An execution suspended on one store refuses to run or resume on another (its pc
    /// and frame are positions in the first store's code), and still works on its own.
    #[test]
    fn an_execution_refuses_a_store_it_was_not_created_on() {
        let text = r#"(module
            (import "host" "f" (func $h (param i32) (result i32)))
            (func (export "twice") (param i32) (result i32)
                (call $h (call $h (local.get 0)))))"#;
        let (mut store_a, f) = setup(text, "twice");
        // Store B holds a different module at the same addresses.
        let (mut store_b, _) = setup(r#"(module (func (export "k") (result i32) (i32.const 9)))"#, "k");
        let mut fuel = 1000;
        let mut exec = Execution::new(&store_a, f, &[Value::I32(5)], StackLimits::default()).unwrap();
        assert!(matches!(exec.run(&mut store_b, &mut fuel), Err(Trap::HostMisuse(_))));
        assert!(matches!(exec.run(&mut store_a, &mut fuel), Ok(RunOutcome::HostCall { .. })));
        assert!(matches!(exec.resume(&mut store_b, &[Value::I32(50)], &mut fuel), Err(Trap::HostMisuse(_))));
        assert!(matches!(exec.resume(&mut store_a, &[Value::I32(50)], &mut fuel), Ok(RunOutcome::HostCall { .. })));
        let out = exec.resume(&mut store_a, &[Value::I32(51)], &mut fuel);
        assert_eq!(out, Ok(RunOutcome::Finished(vec![Value::I32(51)])));
        // A store of the same shape, made the same way, is still another store.
        let (mut store_c, _) = setup(text, "twice");
        let mut exec = Execution::new(&store_a, f, &[Value::I32(5)], StackLimits::default()).unwrap();
        assert!(matches!(exec.run(&mut store_a, &mut fuel), Ok(RunOutcome::HostCall { .. })));
        assert!(matches!(exec.resume(&mut store_c, &[Value::I32(1)], &mut fuel), Err(Trap::HostMisuse(_))));
    }

    #[test]
    fn memory_is_in_the_store_during_host_calls() {
        let text = r#"(module
            (import "host" "f" (func $h (param i32) (result i32)))
            (memory (export "mem") 1)
            (func (export "go") (result i32)
                (i32.store (i32.const 8) (i32.const 0x01020304))
                (drop (call $h (i32.const 8)))
                (i32.load (i32.const 12))))"#;
        let (mut store, f) = setup(text, "go");
        let Some(Extern::Memory(m)) = store.export(crate::InstanceId(0), "mem") else { panic!("no memory") };
        let mut fuel = 1000;
        let r = invoke(&mut store, f, &[], &mut fuel, StackLimits::default(), &mut |store, _, args| {
            let mem = store.memory_mut(m).expect("memory");
            assert_eq!(mem[8..12], [4, 3, 2, 1]);
            mem[12] = 42; // a host write is visible to the wasm code after resuming
            Ok(args.to_vec())
        });
        assert_eq!(r, Ok(vec![Value::I32(42)]));
    }

    #[test]
    fn entry_host_function() {
        let (mut store, _) = setup(r#"(module (func (export "x")))"#, "x");
        let h = store.alloc_host_func(crate::FuncType::new(vec![ValType::I32], vec![ValType::I32]), 3);
        let mut fuel = 10;
        let r = invoke(&mut store, h, &[Value::I32(4)], &mut fuel, StackLimits::default(), &mut |_, id, a| {
            assert_eq!(id, 3);
            Ok(a.to_vec())
        });
        assert_eq!(r, Ok(vec![Value::I32(4)]));
    }
}
