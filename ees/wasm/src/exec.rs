//! The interpreter: a resumable loop over the internal code with an explicit value stack
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
//! pool, operand slots) addressed by the ops' slot operands. The loop reads slots and ops
//! through raw pointers without bounds checks: `compile::verify` establishes, for every
//! function, the invariants that make this sound (see the SAFETY notes below).

use std::sync::Arc;

use crate::code::Op;
use crate::error::Trap;
use crate::float;
use crate::store::{FuncAddr, FuncKind, InstanceData, Store, PAGE_SIZE};
use crate::types::ValType;
use crate::validate::MAX_PAGES;
use crate::values::Value;

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
            limits,
            stack,
            sp: args.len(),
            frames: Vec::new(),
            pc: 0,
            fp: 0,
            instance: 0,
            in_wasm: false,
            pending: Some(func),
            results: ty.results.clone(),
            state: State::Ready,
        })
    }

    /// Runs until the entry function finishes, a host call, or a trap. `store` must be the
    /// store the execution was created with.
    pub fn run(&mut self, store: &mut Store, fuel: &mut u64) -> Result<RunOutcome, Trap> {
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
    pub fn resume(&mut self, store: &mut Store, results: &[Value], fuel: &mut u64) -> Result<RunOutcome, Trap> {
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

    fn execute(&mut self, store: &mut Store, fuel: &mut u64) -> Result<RunOutcome, Trap> {
        'outer: loop {
            if let Some(out) = self.enter_pending(store)? {
                return Ok(out);
            }
            let ctx: Arc<InstanceData> = store.instances[self.instance as usize].data.clone();
            let module = &ctx.module.inner;
            let code: &[Op] = &module.code.ops;
            let funcs = &module.code.funcs;
            let mem_idx = ctx.mems.first().map_or(usize::MAX, |m| *m as usize);
            // `ip` points at the next op in `code`.
            //
            // SAFETY (every `ip` dereference and `goto!` below): `compile::verify` checks
            // that every jump target and `br_table` entry lies in the function's own code
            // and that every function ends with an op that does not fall through, so `ip`
            // never leaves `code`.
            let code_ptr: *const Op = code.as_ptr();
            let mut ip: *const Op = code[self.pc as usize..].as_ptr();
            macro_rules! goto {
                ($t:expr) => {
                    // SAFETY: see `ip`.
                    ip = unsafe { code_ptr.add($t as usize) }
                };
            }
            macro_rules! pc {
                () => {
                    // SAFETY: both point into `code`.
                    unsafe { ip.offset_from(code_ptr) as u32 }
                };
            }
            let mut fp = self.fp as usize;
            let mut fuel_left = *fuel;
            // `regs` points at slot 0 of the current frame, in `self.stack`'s buffer. It is
            // recomputed whenever the frame changes or the stack is reallocated.
            //
            // SAFETY (every `r!` access below): the translator only emits slot operands
            // below the function's `max_height` (checked by `compile::verify`), and a frame
            // is entered only after the stack was grown to hold `fp + max_height` slots
            // (`enter_pending` and `call_internal!`), so `regs.add(slot)` stays in the buffer.
            let mut regs: *mut u64 = self.stack[fp..].as_mut_ptr();
            // The instance's memory is moved out of the store while this loop runs (one
            // indirection less per access) and put back at every exit below.
            let mut memory: Vec<u8> = match store.mems.get_mut(mem_idx) {
                Some(m) => std::mem::take(&mut m.data),
                None => Vec::new(),
            };

            macro_rules! put_back_memory {
                () => {{
                    if let Some(m) = store.mems.get_mut(mem_idx) {
                        m.data = std::mem::take(&mut memory);
                    }
                }};
            }
            macro_rules! save {
                () => {{
                    put_back_memory!();
                    self.pc = pc!();
                    self.fp = fp as u32;
                    *fuel = fuel_left;
                }};
            }
            macro_rules! trap {
                ($t:expr) => {{
                    put_back_memory!();
                    *fuel = fuel_left;
                    return Err($t);
                }};
            }
            // Fuel is charged before an op changes anything (a run of code before it starts,
            // a bulk op before it touches memory), so running out leaves the execution at
            // that op: the registers are saved with `pc` on it, and `run` with more fuel
            // executes it again (an embedder can meter in slices and poll a deadline).
            // The saving is done once, after the dispatch loop, to keep this path out of
            // the hot code. Every use sits directly in the dispatch loop's match arms (no
            // inner loop), so `break` leaves the dispatch loop.
            macro_rules! out_of_fuel {
                () => {{
                    // SAFETY: `ip` was advanced past the current op, which is in `code`.
                    ip = unsafe { ip.sub(1) };
                    break;
                }};
            }
            // Bulk operations pay for the bytes or elements they touch before touching them.
            macro_rules! charge {
                ($units:expr) => {{
                    let units: u64 = $units as u64 / BULK_UNIT;
                    if fuel_left < units {
                        out_of_fuel!();
                    }
                    fuel_left -= units;
                }};
            }
            // A slot of the current frame.
            macro_rules! r {
                ($s:expr) => {
                    // SAFETY: see `regs`.
                    *unsafe { &mut *regs.add($s as usize) }
                };
            }
            macro_rules! un {
                ($dst:ident, $a:ident, $from:expr, $to:expr, $f:expr) => {{
                    let a = $from(r!($a));
                    r!($dst) = $to($f(a));
                }};
            }
            macro_rules! un_try {
                ($dst:ident, $a:ident, $from:expr, $to:expr, $f:expr) => {{
                    let a = $from(r!($a));
                    match $f(a) {
                        Ok(v) => r!($dst) = $to(v),
                        Err(t) => trap!(t),
                    }
                }};
            }
            macro_rules! bin {
                ($dst:ident, $a:ident, $b:ident, $from:expr, $to:expr, $f:expr) => {{
                    let a = $from(r!($a));
                    let b = $from(r!($b));
                    r!($dst) = $to($f(a, b));
                }};
            }
            macro_rules! bin_try {
                ($dst:ident, $a:ident, $b:ident, $from:expr, $to:expr, $f:expr) => {{
                    let a = $from(r!($a));
                    let b = $from(r!($b));
                    match $f(a, b) {
                        Ok(v) => r!($dst) = $to(v),
                        Err(t) => trap!(t),
                    }
                }};
            }
            // Enters a run of code: charges its cost.
            macro_rules! fuel {
                ($n:expr) => {{
                    let n = $n as u64;
                    if fuel_left < n {
                        out_of_fuel!();
                    }
                    fuel_left -= n;
                }};
            }
            macro_rules! cond_jump {
                ($cond:expr, $target:ident, $fuel:ident) => {{
                    if $cond {
                        goto!($target);
                    } else {
                        fuel!($fuel);
                    }
                }};
            }
            macro_rules! load {
                ($r:ident, $addr:ident, $off:ident, $n:literal, $conv:expr) => {{
                    let addr = r!($addr) as u32 as usize + $off as usize;
                    match memory.get(addr..addr + $n) {
                        Some(b) => {
                            let mut buf = [0u8; $n];
                            buf.copy_from_slice(b);
                            r!($r) = $conv(buf);
                        }
                        None => trap!(Trap::MemoryOutOfBounds),
                    }
                }};
            }
            macro_rules! store_op {
                ($r:ident, $addr:ident, $off:ident, $n:literal, $conv:expr) => {{
                    let v = r!($r);
                    let addr = r!($addr) as u32 as usize + $off as usize;
                    match memory.get_mut(addr..addr + $n) {
                        Some(b) => {
                            let bytes: [u8; $n] = $conv(v);
                            b.copy_from_slice(&bytes);
                        }
                        None => trap!(Trap::MemoryOutOfBounds),
                    }
                }};
            }
            // Enters defined function `idx` of this instance with its frame at slot `base`.
            macro_rules! call_internal {
                ($idx:expr, $base:expr) => {{
                    let fc = &funcs[$idx as usize];
                    if self.frames.len() >= self.limits.max_call_depth {
                        trap!(Trap::StackExhausted);
                    }
                    let new_fp = fp + $base as usize;
                    let need = new_fp + fc.max_height as usize + 1;
                    if need > self.stack.len() {
                        if need > self.limits.max_value_stack {
                            trap!(Trap::StackExhausted);
                        }
                        let len = need.max(self.stack.len() * 2).min(self.limits.max_value_stack);
                        self.stack.resize(len, 0);
                    }
                    self.frames.push(Frame { pc: pc!(), fp: fp as u32, instance: self.instance });
                    let frame = &mut self.stack[new_fp..need];
                    let locals = fc.num_params as usize;
                    let consts = locals + fc.num_locals as usize;
                    frame[locals..consts].fill(0);
                    frame[consts..consts + fc.consts.len()].copy_from_slice(&fc.consts);
                    regs = frame.as_mut_ptr();
                    fp = new_fp;
                    goto!(fc.start);
                }};
            }

            loop {
                // SAFETY: see `ip`; the op after a non-final op is in the same function.
                let op = unsafe { *ip };
                ip = unsafe { ip.add(1) };
                match op {
                    Op::Fuel(n) => fuel!(n),
                    Op::Unreachable => trap!(Trap::Unreachable),
                    Op::Jump { target, fuel } => {
                        fuel!(fuel);
                        goto!(target);
                    }
                    Op::JumpIfZero32 { c, target, fuel } => cond_jump!(r!(c) as u32 == 0, target, fuel),
                    Op::JumpIfNonZero32 { c, target, fuel } => cond_jump!(r!(c) as u32 != 0, target, fuel),
                    Op::JumpIfZero64 { c, target, fuel } => cond_jump!(r!(c) == 0, target, fuel),
                    Op::JumpIfNonZero64 { c, target, fuel } => cond_jump!(r!(c) != 0, target, fuel),
                    Op::JumpI32Eq { a, b, target } => {
                        if u32_(r!(a)) == u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32Ne { a, b, target } => {
                        if u32_(r!(a)) != u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32LtS { a, b, target } => {
                        if i32_(r!(a)) < i32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32LtU { a, b, target } => {
                        if u32_(r!(a)) < u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32GtS { a, b, target } => {
                        if i32_(r!(a)) > i32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32GtU { a, b, target } => {
                        if u32_(r!(a)) > u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32LeS { a, b, target } => {
                        if i32_(r!(a)) <= i32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32LeU { a, b, target } => {
                        if u32_(r!(a)) <= u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32GeS { a, b, target } => {
                        if i32_(r!(a)) >= i32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI32GeU { a, b, target } => {
                        if u32_(r!(a)) >= u32_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64Eq { a, b, target } => {
                        if u64_(r!(a)) == u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64Ne { a, b, target } => {
                        if u64_(r!(a)) != u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64LtS { a, b, target } => {
                        if i64_(r!(a)) < i64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64LtU { a, b, target } => {
                        if u64_(r!(a)) < u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64GtS { a, b, target } => {
                        if i64_(r!(a)) > i64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64GtU { a, b, target } => {
                        if u64_(r!(a)) > u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64LeS { a, b, target } => {
                        if i64_(r!(a)) <= i64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64LeU { a, b, target } => {
                        if u64_(r!(a)) <= u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64GeS { a, b, target } => {
                        if i64_(r!(a)) >= i64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::JumpI64GeU { a, b, target } => {
                        if u64_(r!(a)) >= u64_(r!(b)) {
                            goto!(target);
                        }
                    }
                    Op::BrTable { idx, len } => {
                        // The selected entry is a `Jump`; it runs as the next op.
                        // SAFETY: the `len + 1` entries follow (see `ip`).
                        let i = (r!(idx) as u32).min(len) as usize;
                        ip = unsafe { ip.add(i) };
                    }
                    Op::Return { src, n } => {
                        let n = n as usize;
                        if n == 1 {
                            r!(0) = r!(src);
                        } else {
                            let src = fp + src as usize;
                            self.stack.copy_within(src..src + n, fp);
                        }
                        match self.frames.pop() {
                            None => {
                                self.sp = fp + n;
                                save!();
                                self.in_wasm = false;
                                return Ok(self.finish());
                            }
                            Some(f) => {
                                goto!(f.pc);
                                fp = f.fp as usize;
                                regs = self.stack[fp..].as_mut_ptr();
                                if f.instance != self.instance {
                                    self.instance = f.instance;
                                    save!();
                                    continue 'outer;
                                }
                            }
                        }
                    }
                    Op::Call { func, base } => call_internal!(func, base),
                    Op::CallImport { func, base } => {
                        let addr = ctx.funcs[func as usize];
                        let n = store.func_type(addr).map_or(0, |t| t.params.len());
                        self.sp = fp + base as usize + n;
                        self.pending = Some(addr);
                        save!();
                        continue 'outer;
                    }
                    Op::CallIndirect { ty, table, base } => {
                        let n = module.desc.types[ty as usize].params.len();
                        let i = r!(base as usize + n) as u32 as usize;
                        let tab = &store.tables[ctx.tables[table as usize] as usize];
                        let Some(&r) = tab.elems.get(i) else { trap!(Trap::UndefinedElement) };
                        if r == 0 {
                            trap!(Trap::UninitializedElement);
                        }
                        let addr = FuncAddr((r - 1) as u32);
                        let fi = &store.funcs[addr.0 as usize];
                        if fi.ty != ctx.types[ty as usize] {
                            trap!(Trap::IndirectCallTypeMismatch);
                        }
                        match fi.kind {
                            FuncKind::Wasm { instance, index } if instance == self.instance => {
                                call_internal!(index, base)
                            }
                            _ => {
                                self.sp = fp + base as usize + n;
                                self.pending = Some(addr);
                                save!();
                                continue 'outer;
                            }
                        }
                    }
                    Op::Copy { dst, src } => r!(dst) = r!(src),
                    Op::Const { dst, value } => r!(dst) = value,
                    Op::Select { base } => {
                        if r!(base + 2) as u32 == 0 {
                            r!(base) = r!(base + 1);
                        }
                    }
                    Op::GlobalGet { dst, global } => {
                        r!(dst) = store.globals[ctx.globals[global as usize] as usize].value
                    }
                    Op::GlobalSet { src, global } => {
                        store.globals[ctx.globals[global as usize] as usize].value = r!(src);
                    }
                    Op::TableGet { table, base } => {
                        let i = r!(base) as u32 as usize;
                        match store.tables[ctx.tables[table as usize] as usize].elems.get(i) {
                            Some(&v) => r!(base) = v,
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableSet { table, base } => {
                        let i = r!(base) as u32 as usize;
                        let v = r!(base + 1);
                        match store.tables[ctx.tables[table as usize] as usize].elems.get_mut(i) {
                            Some(slot) => *slot = v,
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableSize { table, dst } => {
                        r!(dst) = store.tables[ctx.tables[table as usize] as usize].elems.len() as u64
                    }
                    Op::TableGrow { table, base } => {
                        let init = r!(base);
                        let n = r!(base + 1) as u32;
                        charge!(n);
                        let limit = store.limits.max_table_elems;
                        let tab = &mut store.tables[ctx.tables[table as usize] as usize];
                        let old = tab.elems.len() as u64;
                        let new = old + n as u64;
                        let max = tab.max.unwrap_or(u32::MAX).min(limit) as u64;
                        r!(base) = if new > max {
                            u32::MAX as u64
                        } else {
                            tab.elems.resize(new as usize, init);
                            old
                        };
                    }
                    Op::TableFill { table, base } => {
                        let i = r!(base) as u32 as usize;
                        let v = r!(base + 1);
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        let tab = &mut store.tables[ctx.tables[table as usize] as usize];
                        match tab.elems.get_mut(i..i + n) {
                            Some(s) => s.fill(v),
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableCopy { dst, src, base } => {
                        let d = r!(base) as u32 as usize;
                        let s = r!(base + 1) as u32 as usize;
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        let (da, sa) = (ctx.tables[dst as usize] as usize, ctx.tables[src as usize] as usize);
                        let slen = store.tables[sa].elems.len();
                        let dlen = store.tables[da].elems.len();
                        if s + n > slen || d + n > dlen {
                            trap!(Trap::TableOutOfBounds);
                        }
                        if da == sa {
                            store.tables[da].elems.copy_within(s..s + n, d);
                        } else {
                            let tmp: Vec<u64> = store.tables[sa].elems[s..s + n].to_vec();
                            store.tables[da].elems[d..d + n].copy_from_slice(&tmp);
                        }
                    }
                    Op::TableInit { table, elem, base } => {
                        let d = r!(base) as u32 as usize;
                        let s = r!(base + 1) as u32 as usize;
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        let seg = &store.instances[self.instance as usize].elems[elem as usize];
                        let ta = ctx.tables[table as usize] as usize;
                        if s + n > seg.len() || d + n > store.tables[ta].elems.len() {
                            trap!(Trap::TableOutOfBounds);
                        }
                        let tmp: Vec<u64> = seg[s..s + n].to_vec();
                        store.tables[ta].elems[d..d + n].copy_from_slice(&tmp);
                    }
                    Op::ElemDrop(e) => store.instances[self.instance as usize].elems[e as usize] = Vec::new(),
                    Op::MemorySize { dst } => r!(dst) = (memory.len() / PAGE_SIZE) as u64,
                    Op::MemoryGrow { base } => {
                        let n = r!(base) as u32;
                        charge!(n as u64 * PAGE_SIZE as u64);
                        let limit = store.limits.max_memory_pages;
                        let old = (memory.len() / PAGE_SIZE) as u64;
                        let new = old + n as u64;
                        let max = store.mems[mem_idx].max.unwrap_or(MAX_PAGES).min(limit) as u64;
                        r!(base) = if new > max {
                            u32::MAX as u64
                        } else {
                            memory.resize(new as usize * PAGE_SIZE, 0);
                            old
                        };
                    }
                    Op::MemoryFill { base } => {
                        let d = r!(base) as u32 as usize;
                        let v = r!(base + 1) as u8;
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        match memory.get_mut(d..d + n) {
                            Some(s) => s.fill(v),
                            None => trap!(Trap::MemoryOutOfBounds),
                        }
                    }
                    Op::MemoryCopy { base } => {
                        let d = r!(base) as u32 as usize;
                        let s = r!(base + 1) as u32 as usize;
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        if s + n > memory.len() || d + n > memory.len() {
                            trap!(Trap::MemoryOutOfBounds);
                        }
                        memory.copy_within(s..s + n, d);
                    }
                    Op::MemoryInit { seg, base } => {
                        let d = r!(base) as u32 as usize;
                        let s = r!(base + 1) as u32 as usize;
                        let n = r!(base + 2) as u32 as usize;
                        charge!(n);
                        let bytes: &[u8] = if store.instances[self.instance as usize].data_dropped[seg as usize] {
                            &[]
                        } else {
                            &module.desc.datas[seg as usize].bytes
                        };
                        if s + n > bytes.len() || d + n > memory.len() {
                            trap!(Trap::MemoryOutOfBounds);
                        }
                        memory[d..d + n].copy_from_slice(&bytes[s..s + n]);
                    }
                    Op::DataDrop(seg) => store.instances[self.instance as usize].data_dropped[seg as usize] = true,
                    Op::RefIsNull { dst, a } => r!(dst) = (r!(a) == 0) as u64,
                    Op::RefFunc { dst, func } => r!(dst) = ctx.funcs[func as usize].0 as u64 + 1,

                    Op::I32Eqz { dst, a, .. } => un!(dst, a, u32_, b2s, |a: u32| a == 0),
                    Op::I32Eq { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a == b),
                    Op::I32Ne { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a != b),
                    Op::I32LtS { dst, a, b } => bin!(dst, a, b, i32_, b2s, |a, b| a < b),
                    Op::I32LtU { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a < b),
                    Op::I32GtS { dst, a, b } => bin!(dst, a, b, i32_, b2s, |a, b| a > b),
                    Op::I32GtU { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a > b),
                    Op::I32LeS { dst, a, b } => bin!(dst, a, b, i32_, b2s, |a, b| a <= b),
                    Op::I32LeU { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a <= b),
                    Op::I32GeS { dst, a, b } => bin!(dst, a, b, i32_, b2s, |a, b| a >= b),
                    Op::I32GeU { dst, a, b } => bin!(dst, a, b, u32_, b2s, |a, b| a >= b),
                    Op::I64Eqz { dst, a, .. } => un!(dst, a, u64_, b2s, |a: u64| a == 0),
                    Op::I64Eq { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a == b),
                    Op::I64Ne { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a != b),
                    Op::I64LtS { dst, a, b } => bin!(dst, a, b, i64_, b2s, |a, b| a < b),
                    Op::I64LtU { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a < b),
                    Op::I64GtS { dst, a, b } => bin!(dst, a, b, i64_, b2s, |a, b| a > b),
                    Op::I64GtU { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a > b),
                    Op::I64LeS { dst, a, b } => bin!(dst, a, b, i64_, b2s, |a, b| a <= b),
                    Op::I64LeU { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a <= b),
                    Op::I64GeS { dst, a, b } => bin!(dst, a, b, i64_, b2s, |a, b| a >= b),
                    Op::I64GeU { dst, a, b } => bin!(dst, a, b, u64_, b2s, |a, b| a >= b),
                    Op::F32Eq { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a == b),
                    Op::F32Ne { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a != b),
                    Op::F32Lt { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a < b),
                    Op::F32Gt { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a > b),
                    Op::F32Le { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a <= b),
                    Op::F32Ge { dst, a, b } => bin!(dst, a, b, f32_, b2s, |a, b| a >= b),
                    Op::F64Eq { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a == b),
                    Op::F64Ne { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a != b),
                    Op::F64Lt { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a < b),
                    Op::F64Gt { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a > b),
                    Op::F64Le { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a <= b),
                    Op::F64Ge { dst, a, b } => bin!(dst, a, b, f64_, b2s, |a, b| a >= b),

                    Op::I32Clz { dst, a, .. } => un!(dst, a, u32_, s_u32, |a: u32| a.leading_zeros()),
                    Op::I32Ctz { dst, a, .. } => un!(dst, a, u32_, s_u32, |a: u32| a.trailing_zeros()),
                    Op::I32Popcnt { dst, a, .. } => un!(dst, a, u32_, s_u32, |a: u32| a.count_ones()),
                    Op::I32Add { dst, a, b } => bin!(dst, a, b, u32_, s_u32, u32::wrapping_add),
                    Op::I32Sub { dst, a, b } => bin!(dst, a, b, u32_, s_u32, u32::wrapping_sub),
                    Op::I32Mul { dst, a, b } => bin!(dst, a, b, u32_, s_u32, u32::wrapping_mul),
                    Op::I32DivS { dst, a, b } => bin_try!(dst, a, b, i32_, s_i32, |a: i32, b: i32| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            a.checked_div(b).ok_or(Trap::IntegerOverflow)
                        }
                    }),
                    Op::I32DivU { dst, a, b } => {
                        bin_try!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a
                            .checked_div(b)
                            .ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I32RemS { dst, a, b } => bin_try!(dst, a, b, i32_, s_i32, |a: i32, b: i32| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            Ok(a.wrapping_rem(b))
                        }
                    }),
                    Op::I32RemU { dst, a, b } => {
                        bin_try!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a
                            .checked_rem(b)
                            .ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I32And { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a, b| a & b),
                    Op::I32Or { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a, b| a | b),
                    Op::I32Xor { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a, b| a ^ b),
                    Op::I32Shl { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a.wrapping_shl(b)),
                    Op::I32ShrS { dst, a, b } => {
                        bin!(dst, a, b, i32_, s_i32, |a: i32, b: i32| a.wrapping_shr(b as u32))
                    }
                    Op::I32ShrU { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a.wrapping_shr(b)),
                    Op::I32Rotl { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a.rotate_left(b)),
                    Op::I32Rotr { dst, a, b } => bin!(dst, a, b, u32_, s_u32, |a: u32, b: u32| a.rotate_right(b)),
                    Op::I64Clz { dst, a, .. } => un!(dst, a, u64_, s_u64, |a: u64| a.leading_zeros() as u64),
                    Op::I64Ctz { dst, a, .. } => un!(dst, a, u64_, s_u64, |a: u64| a.trailing_zeros() as u64),
                    Op::I64Popcnt { dst, a, .. } => un!(dst, a, u64_, s_u64, |a: u64| a.count_ones() as u64),
                    Op::I64Add { dst, a, b } => bin!(dst, a, b, u64_, s_u64, u64::wrapping_add),
                    Op::I64Sub { dst, a, b } => bin!(dst, a, b, u64_, s_u64, u64::wrapping_sub),
                    Op::I64Mul { dst, a, b } => bin!(dst, a, b, u64_, s_u64, u64::wrapping_mul),
                    Op::I64DivS { dst, a, b } => bin_try!(dst, a, b, i64_, s_i64, |a: i64, b: i64| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            a.checked_div(b).ok_or(Trap::IntegerOverflow)
                        }
                    }),
                    Op::I64DivU { dst, a, b } => {
                        bin_try!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a
                            .checked_div(b)
                            .ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I64RemS { dst, a, b } => bin_try!(dst, a, b, i64_, s_i64, |a: i64, b: i64| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            Ok(a.wrapping_rem(b))
                        }
                    }),
                    Op::I64RemU { dst, a, b } => {
                        bin_try!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a
                            .checked_rem(b)
                            .ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I64And { dst, a, b } => bin!(dst, a, b, u64_, s_u64, |a, b| a & b),
                    Op::I64Or { dst, a, b } => bin!(dst, a, b, u64_, s_u64, |a, b| a | b),
                    Op::I64Xor { dst, a, b } => bin!(dst, a, b, u64_, s_u64, |a, b| a ^ b),
                    Op::I64Shl { dst, a, b } => {
                        bin!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a.wrapping_shl(b as u32))
                    }
                    Op::I64ShrS { dst, a, b } => {
                        bin!(dst, a, b, i64_, s_i64, |a: i64, b: i64| a.wrapping_shr(b as u32))
                    }
                    Op::I64ShrU { dst, a, b } => {
                        bin!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a.wrapping_shr(b as u32))
                    }
                    Op::I64Rotl { dst, a, b } => {
                        bin!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a.rotate_left((b % 64) as u32))
                    }
                    Op::I64Rotr { dst, a, b } => {
                        bin!(dst, a, b, u64_, s_u64, |a: u64, b: u64| a.rotate_right((b % 64) as u32))
                    }

                    Op::F32Abs { dst, a, .. } => un!(dst, a, u32_, s_u32, |a: u32| a & 0x7FFF_FFFF),
                    Op::F32Neg { dst, a, .. } => un!(dst, a, u32_, s_u32, |a: u32| a ^ 0x8000_0000),
                    Op::F32Ceil { dst, a, .. } => un!(dst, a, f32_, s_f32, |a| float::f32_round(a, f32::ceil)),
                    Op::F32Floor { dst, a, .. } => un!(dst, a, f32_, s_f32, |a| float::f32_round(a, f32::floor)),
                    Op::F32Trunc { dst, a, .. } => un!(dst, a, f32_, s_f32, |a| float::f32_round(a, f32::trunc)),
                    Op::F32Nearest { dst, a, .. } => {
                        un!(dst, a, f32_, s_f32, |a| float::f32_round(a, float::f32_nearest))
                    }
                    Op::F32Sqrt { dst, a, .. } => un!(dst, a, f32_, s_f32, f32::sqrt),
                    Op::F32Add { dst, a, b } => bin!(dst, a, b, f32_, s_f32, |a, b| a + b),
                    Op::F32Sub { dst, a, b } => bin!(dst, a, b, f32_, s_f32, |a, b| a - b),
                    Op::F32Mul { dst, a, b } => bin!(dst, a, b, f32_, s_f32, |a, b| a * b),
                    Op::F32Div { dst, a, b } => bin!(dst, a, b, f32_, s_f32, |a, b| a / b),
                    Op::F32Min { dst, a, b } => bin!(dst, a, b, f32_, s_f32, float::f32_min),
                    Op::F32Max { dst, a, b } => bin!(dst, a, b, f32_, s_f32, float::f32_max),
                    Op::F32Copysign { dst, a, b } => {
                        bin!(dst, a, b, u32_, s_u32, |a: u32, b: u32| (a & 0x7FFF_FFFF) | (b & 0x8000_0000))
                    }
                    Op::F64Abs { dst, a, .. } => un!(dst, a, u64_, s_u64, |a: u64| a & 0x7FFF_FFFF_FFFF_FFFF),
                    Op::F64Neg { dst, a, .. } => un!(dst, a, u64_, s_u64, |a: u64| a ^ 0x8000_0000_0000_0000),
                    Op::F64Ceil { dst, a, .. } => un!(dst, a, f64_, s_f64, |a| float::f64_round(a, f64::ceil)),
                    Op::F64Floor { dst, a, .. } => un!(dst, a, f64_, s_f64, |a| float::f64_round(a, f64::floor)),
                    Op::F64Trunc { dst, a, .. } => un!(dst, a, f64_, s_f64, |a| float::f64_round(a, f64::trunc)),
                    Op::F64Nearest { dst, a, .. } => {
                        un!(dst, a, f64_, s_f64, |a| float::f64_round(a, float::f64_nearest))
                    }
                    Op::F64Sqrt { dst, a, .. } => un!(dst, a, f64_, s_f64, f64::sqrt),
                    Op::F64Add { dst, a, b } => bin!(dst, a, b, f64_, s_f64, |a, b| a + b),
                    Op::F64Sub { dst, a, b } => bin!(dst, a, b, f64_, s_f64, |a, b| a - b),
                    Op::F64Mul { dst, a, b } => bin!(dst, a, b, f64_, s_f64, |a, b| a * b),
                    Op::F64Div { dst, a, b } => bin!(dst, a, b, f64_, s_f64, |a, b| a / b),
                    Op::F64Min { dst, a, b } => bin!(dst, a, b, f64_, s_f64, float::f64_min),
                    Op::F64Max { dst, a, b } => bin!(dst, a, b, f64_, s_f64, float::f64_max),
                    Op::F64Copysign { dst, a, b } => {
                        bin!(dst, a, b, u64_, s_u64, |a: u64, b: u64| (a & !(1u64 << 63)) | (b & (1u64 << 63)))
                    }

                    Op::I32WrapI64 { dst, a, .. } => un!(dst, a, u64_, s_u32, |a: u64| a as u32),
                    Op::I32TruncF32S { dst, a, .. } => un_try!(dst, a, f32_, s_i32, float::i32_trunc_f32_s),
                    Op::I32TruncF32U { dst, a, .. } => un_try!(dst, a, f32_, s_u32, float::i32_trunc_f32_u),
                    Op::I32TruncF64S { dst, a, .. } => un_try!(dst, a, f64_, s_i32, float::i32_trunc_f64_s),
                    Op::I32TruncF64U { dst, a, .. } => un_try!(dst, a, f64_, s_u32, float::i32_trunc_f64_u),
                    Op::I64ExtendI32S { dst, a, .. } => un!(dst, a, i32_, s_i64, |a: i32| a as i64),
                    Op::I64ExtendI32U { dst, a, .. } => un!(dst, a, u32_, s_u64, |a: u32| a as u64),
                    Op::I64TruncF32S { dst, a, .. } => un_try!(dst, a, f32_, s_i64, float::i64_trunc_f32_s),
                    Op::I64TruncF32U { dst, a, .. } => un_try!(dst, a, f32_, s_u64, float::i64_trunc_f32_u),
                    Op::I64TruncF64S { dst, a, .. } => un_try!(dst, a, f64_, s_i64, float::i64_trunc_f64_s),
                    Op::I64TruncF64U { dst, a, .. } => un_try!(dst, a, f64_, s_u64, float::i64_trunc_f64_u),
                    Op::F32ConvertI32S { dst, a, .. } => un!(dst, a, i32_, s_f32, |a: i32| a as f32),
                    Op::F32ConvertI32U { dst, a, .. } => un!(dst, a, u32_, s_f32, |a: u32| a as f32),
                    Op::F32ConvertI64S { dst, a, .. } => un!(dst, a, i64_, s_f32, |a: i64| a as f32),
                    Op::F32ConvertI64U { dst, a, .. } => un!(dst, a, u64_, s_f32, |a: u64| a as f32),
                    Op::F32DemoteF64 { dst, a, .. } => un!(dst, a, f64_, s_f32, |a: f64| a as f32),
                    Op::F64ConvertI32S { dst, a, .. } => un!(dst, a, i32_, s_f64, |a: i32| a as f64),
                    Op::F64ConvertI32U { dst, a, .. } => un!(dst, a, u32_, s_f64, |a: u32| a as f64),
                    Op::F64ConvertI64S { dst, a, .. } => un!(dst, a, i64_, s_f64, |a: i64| a as f64),
                    Op::F64ConvertI64U { dst, a, .. } => un!(dst, a, u64_, s_f64, |a: u64| a as f64),
                    Op::F64PromoteF32 { dst, a, .. } => un!(dst, a, f32_, s_f64, |a: f32| a as f64),
                    // Reinterpretations copy the bits (upper bits of 32-bit values are zero).
                    Op::I32ReinterpretF32 { dst, a, .. } | Op::F32ReinterpretI32 { dst, a, .. } => r!(dst) = r!(a),
                    Op::I64ReinterpretF64 { dst, a, .. } | Op::F64ReinterpretI64 { dst, a, .. } => r!(dst) = r!(a),
                    Op::I32Extend8S { dst, a, .. } => un!(dst, a, u32_, s_i32, |a: u32| a as i8 as i32),
                    Op::I32Extend16S { dst, a, .. } => un!(dst, a, u32_, s_i32, |a: u32| a as i16 as i32),
                    Op::I64Extend8S { dst, a, .. } => un!(dst, a, u64_, s_i64, |a: u64| a as i8 as i64),
                    Op::I64Extend16S { dst, a, .. } => un!(dst, a, u64_, s_i64, |a: u64| a as i16 as i64),
                    Op::I64Extend32S { dst, a, .. } => un!(dst, a, u64_, s_i64, |a: u64| a as i32 as i64),
                    Op::I32TruncSatF32S { dst, a, .. } => un!(dst, a, f32_, s_i32, |a: f32| a as i32),
                    Op::I32TruncSatF32U { dst, a, .. } => un!(dst, a, f32_, s_u32, |a: f32| a as u32),
                    Op::I32TruncSatF64S { dst, a, .. } => un!(dst, a, f64_, s_i32, |a: f64| a as i32),
                    Op::I32TruncSatF64U { dst, a, .. } => un!(dst, a, f64_, s_u32, |a: f64| a as u32),
                    Op::I64TruncSatF32S { dst, a, .. } => un!(dst, a, f32_, s_i64, |a: f32| a as i64),
                    Op::I64TruncSatF32U { dst, a, .. } => un!(dst, a, f32_, s_u64, |a: f32| a as u64),
                    Op::I64TruncSatF64S { dst, a, .. } => un!(dst, a, f64_, s_i64, |a: f64| a as i64),
                    Op::I64TruncSatF64U { dst, a, .. } => un!(dst, a, f64_, s_u64, |a: f64| a as u64),

                    Op::I32Load { r, addr, offset } => load!(r, addr, offset, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::I64Load { r, addr, offset } => load!(r, addr, offset, 8, u64::from_le_bytes),
                    Op::F32Load { r, addr, offset } => load!(r, addr, offset, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::F64Load { r, addr, offset } => load!(r, addr, offset, 8, u64::from_le_bytes),
                    Op::I32Load8S { r, addr, offset } => {
                        load!(r, addr, offset, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64)
                    }
                    Op::I32Load8U { r, addr, offset } => load!(r, addr, offset, 1, |b: [u8; 1]| b[0] as u64),
                    Op::I32Load16S { r, addr, offset } => {
                        load!(r, addr, offset, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64)
                    }
                    Op::I32Load16U { r, addr, offset } => load!(r, addr, offset, 2, |b| u16::from_le_bytes(b) as u64),
                    Op::I64Load8S { r, addr, offset } => {
                        load!(r, addr, offset, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64)
                    }
                    Op::I64Load8U { r, addr, offset } => load!(r, addr, offset, 1, |b: [u8; 1]| b[0] as u64),
                    Op::I64Load16S { r, addr, offset } => {
                        load!(r, addr, offset, 2, |b| i16::from_le_bytes(b) as i64 as u64)
                    }
                    Op::I64Load16U { r, addr, offset } => load!(r, addr, offset, 2, |b| u16::from_le_bytes(b) as u64),
                    Op::I64Load32S { r, addr, offset } => {
                        load!(r, addr, offset, 4, |b| i32::from_le_bytes(b) as i64 as u64)
                    }
                    Op::I64Load32U { r, addr, offset } => load!(r, addr, offset, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::I32Store { r, addr, offset } | Op::F32Store { r, addr, offset } => {
                        store_op!(r, addr, offset, 4, |v: u64| (v as u32).to_le_bytes())
                    }
                    Op::I64Store { r, addr, offset } | Op::F64Store { r, addr, offset } => {
                        store_op!(r, addr, offset, 8, |v: u64| v.to_le_bytes())
                    }
                    Op::I32Store8 { r, addr, offset } | Op::I64Store8 { r, addr, offset } => {
                        store_op!(r, addr, offset, 1, |v: u64| [v as u8])
                    }
                    Op::I32Store16 { r, addr, offset } | Op::I64Store16 { r, addr, offset } => {
                        store_op!(r, addr, offset, 2, |v: u64| (v as u16).to_le_bytes())
                    }
                    Op::I64Store32 { r, addr, offset } => {
                        store_op!(r, addr, offset, 4, |v: u64| (v as u32).to_le_bytes())
                    }
                }
            }
            // Out of fuel (`out_of_fuel!`): `ip` is back on the charging op.
            save!();
            return Err(Trap::OutOfFuel);
        }
    }
}

#[inline(always)]
fn u32_(s: u64) -> u32 {
    s as u32
}
#[inline(always)]
fn i32_(s: u64) -> i32 {
    s as u32 as i32
}
#[inline(always)]
fn u64_(s: u64) -> u64 {
    s
}
#[inline(always)]
fn i64_(s: u64) -> i64 {
    s as i64
}
#[inline(always)]
fn f32_(s: u64) -> f32 {
    f32::from_bits(s as u32)
}
#[inline(always)]
fn f64_(s: u64) -> f64 {
    f64::from_bits(s)
}
#[inline(always)]
fn b2s(b: bool) -> u64 {
    b as u64
}
#[inline(always)]
fn s_u32(v: u32) -> u64 {
    v as u64
}
#[inline(always)]
fn s_i32(v: i32) -> u64 {
    v as u32 as u64
}
#[inline(always)]
fn s_u64(v: u64) -> u64 {
    v
}
#[inline(always)]
fn s_i64(v: i64) -> u64 {
    v as u64
}
#[inline(always)]
fn s_f32(v: f32) -> u64 {
    v.to_bits() as u64
}
#[inline(always)]
fn s_f64(v: f64) -> u64 {
    v.to_bits()
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
