//! The interpreter: a resumable loop over the internal code with an explicit value stack
//! and call stack (no native recursion per wasm call).
//!
//! An [`Execution`] is one invocation. It runs until the entry function returns, a trap,
//! or a call to a host function, which is handed to the embedder as
//! [`RunOutcome::HostCall`]; the embedder answers with [`Execution::resume`]. That makes
//! every host call a possible preemption point (the bootloader can run another contract
//! in between). Every op costs one unit of fuel (bulk memory and table ops more, see
//! [`BULK_UNIT`]); running out is [`Trap::OutOfFuel`].

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
        if r.is_err() {
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
                let nl = fc.num_locals as usize;
                self.stack[self.sp..self.sp + nl].fill(0);
                self.sp += nl;
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
            let mut pc = self.pc as usize;
            let mut fp = self.fp as usize;
            let mut sp = self.sp;
            let mut fuel_left = *fuel;
            let mut stack: &mut [u64] = &mut self.stack;
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
                    self.pc = pc as u32;
                    self.fp = fp as u32;
                    self.sp = sp;
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
            // Bulk operations pay for the bytes or elements they touch before touching them.
            macro_rules! charge {
                ($units:expr) => {{
                    let units: u64 = $units as u64 / BULK_UNIT;
                    if fuel_left < units {
                        trap!(Trap::OutOfFuel);
                    }
                    fuel_left -= units;
                }};
            }
            macro_rules! pop {
                () => {{
                    sp -= 1;
                    stack[sp]
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v = $v;
                    stack[sp] = v;
                    sp += 1;
                }};
            }
            macro_rules! un {
                ($from:expr, $to:expr, $f:expr) => {{
                    let a = $from(stack[sp - 1]);
                    stack[sp - 1] = $to($f(a));
                }};
            }
            macro_rules! un_try {
                ($from:expr, $to:expr, $f:expr) => {{
                    let a = $from(stack[sp - 1]);
                    match $f(a) {
                        Ok(v) => stack[sp - 1] = $to(v),
                        Err(t) => trap!(t),
                    }
                }};
            }
            macro_rules! bin {
                ($from:expr, $to:expr, $f:expr) => {{
                    let b = $from(stack[sp - 1]);
                    sp -= 1;
                    let a = $from(stack[sp - 1]);
                    stack[sp - 1] = $to($f(a, b));
                }};
            }
            macro_rules! bin_try {
                ($from:expr, $to:expr, $f:expr) => {{
                    let b = $from(stack[sp - 1]);
                    sp -= 1;
                    let a = $from(stack[sp - 1]);
                    match $f(a, b) {
                        Ok(v) => stack[sp - 1] = $to(v),
                        Err(t) => trap!(t),
                    }
                }};
            }
            macro_rules! mem {
                () => {
                    memory
                };
            }
            macro_rules! load {
                ($off:expr, $n:literal, $conv:expr) => {{
                    let addr = stack[sp - 1] as u32 as usize + $off as usize;
                    match mem!().get(addr..addr + $n) {
                        Some(b) => {
                            let mut buf = [0u8; $n];
                            buf.copy_from_slice(b);
                            stack[sp - 1] = $conv(buf);
                        }
                        None => trap!(Trap::MemoryOutOfBounds),
                    }
                }};
            }
            macro_rules! store_op {
                ($off:expr, $n:literal, $conv:expr) => {{
                    let v = pop!();
                    let addr = pop!() as u32 as usize + $off as usize;
                    match mem!().get_mut(addr..addr + $n) {
                        Some(b) => {
                            let bytes: [u8; $n] = $conv(v);
                            b.copy_from_slice(&bytes);
                        }
                        None => trap!(Trap::MemoryOutOfBounds),
                    }
                }};
            }

            loop {
                if fuel_left == 0 {
                    trap!(Trap::OutOfFuel);
                }
                fuel_left -= 1;
                let op = code[pc];
                pc += 1;
                match op {
                    Op::Unreachable => trap!(Trap::Unreachable),
                    Op::Jump(t) => pc = t as usize,
                    Op::JumpIfEqz(t) => {
                        if pop!() as u32 == 0 {
                            pc = t as usize;
                        }
                    }
                    Op::JumpIfNez(t) => {
                        if pop!() as u32 != 0 {
                            pc = t as usize;
                        }
                    }
                    Op::Br { target, drop, keep } => {
                        let (drop, keep) = (drop as usize, keep as usize);
                        stack.copy_within(sp - keep..sp, sp - keep - drop);
                        sp -= drop;
                        pc = target as usize;
                    }
                    Op::BrTable(n) => {
                        let i = pop!() as u32;
                        pc += i.min(n) as usize;
                        // The selected entry is a Jump or Br; it runs as the next op.
                    }
                    Op::Return(keep) => {
                        let keep = keep as usize;
                        stack.copy_within(sp - keep..sp, fp);
                        sp = fp + keep;
                        match self.frames.pop() {
                            None => {
                                save!();
                                self.in_wasm = false;
                                return Ok(self.finish());
                            }
                            Some(f) => {
                                pc = f.pc as usize;
                                fp = f.fp as usize;
                                if f.instance != self.instance {
                                    self.instance = f.instance;
                                    save!();
                                    continue 'outer;
                                }
                            }
                        }
                    }
                    Op::CallInternal(idx) => {
                        let fc = &funcs[idx as usize];
                        if self.frames.len() >= self.limits.max_call_depth {
                            trap!(Trap::StackExhausted);
                        }
                        let new_fp = sp - fc.num_params as usize;
                        let need = new_fp + fc.max_height as usize + 1;
                        if need > stack.len() {
                            if need > self.limits.max_value_stack {
                                trap!(Trap::StackExhausted);
                            }
                            let len = need.max(stack.len() * 2).min(self.limits.max_value_stack);
                            self.stack.resize(len, 0);
                            stack = &mut self.stack;
                        }
                        self.frames.push(Frame { pc: pc as u32, fp: fp as u32, instance: self.instance });
                        let nl = fc.num_locals as usize;
                        stack[sp..sp + nl].fill(0);
                        sp += nl;
                        fp = new_fp;
                        pc = fc.start as usize;
                    }
                    Op::CallImport(idx) => {
                        self.pending = Some(ctx.funcs[idx as usize]);
                        save!();
                        continue 'outer;
                    }
                    Op::CallIndirect { ty, table } => {
                        let i = pop!() as u32 as usize;
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
                        self.pending = Some(addr);
                        save!();
                        continue 'outer;
                    }
                    Op::Drop => sp -= 1,
                    Op::Select => {
                        let c = pop!() as u32;
                        let b = pop!();
                        if c == 0 {
                            stack[sp - 1] = b;
                        }
                    }
                    Op::LocalGet(i) => push!(stack[fp + i as usize]),
                    Op::LocalSet(i) => {
                        let v = pop!();
                        stack[fp + i as usize] = v;
                    }
                    Op::LocalTee(i) => stack[fp + i as usize] = stack[sp - 1],
                    Op::GlobalGet(g) => push!(store.globals[ctx.globals[g as usize] as usize].value),
                    Op::GlobalSet(g) => {
                        let v = pop!();
                        store.globals[ctx.globals[g as usize] as usize].value = v;
                    }
                    Op::TableGet(t) => {
                        let i = stack[sp - 1] as u32 as usize;
                        match store.tables[ctx.tables[t as usize] as usize].elems.get(i) {
                            Some(&r) => stack[sp - 1] = r,
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableSet(t) => {
                        let r = pop!();
                        let i = pop!() as u32 as usize;
                        match store.tables[ctx.tables[t as usize] as usize].elems.get_mut(i) {
                            Some(slot) => *slot = r,
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableSize(t) => push!(store.tables[ctx.tables[t as usize] as usize].elems.len() as u64),
                    Op::TableGrow(t) => {
                        let n = pop!() as u32;
                        charge!(n);
                        let init = stack[sp - 1];
                        let limit = store.limits.max_table_elems;
                        let tab = &mut store.tables[ctx.tables[t as usize] as usize];
                        let old = tab.elems.len() as u64;
                        let new = old + n as u64;
                        let max = tab.max.unwrap_or(u32::MAX).min(limit) as u64;
                        stack[sp - 1] = if new > max {
                            u32::MAX as u64
                        } else {
                            tab.elems.resize(new as usize, init);
                            old
                        };
                    }
                    Op::TableFill(t) => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let v = pop!();
                        let i = pop!() as u32 as usize;
                        let tab = &mut store.tables[ctx.tables[t as usize] as usize];
                        match tab.elems.get_mut(i..i + n) {
                            Some(s) => s.fill(v),
                            None => trap!(Trap::TableOutOfBounds),
                        }
                    }
                    Op::TableCopy { dst, src } => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let s = pop!() as u32 as usize;
                        let d = pop!() as u32 as usize;
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
                    Op::TableInit { table, elem } => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let s = pop!() as u32 as usize;
                        let d = pop!() as u32 as usize;
                        let seg = &store.instances[self.instance as usize].elems[elem as usize];
                        let ta = ctx.tables[table as usize] as usize;
                        if s + n > seg.len() || d + n > store.tables[ta].elems.len() {
                            trap!(Trap::TableOutOfBounds);
                        }
                        let tmp: Vec<u64> = seg[s..s + n].to_vec();
                        store.tables[ta].elems[d..d + n].copy_from_slice(&tmp);
                    }
                    Op::ElemDrop(e) => store.instances[self.instance as usize].elems[e as usize] = Vec::new(),
                    Op::MemorySize => push!((memory.len() / PAGE_SIZE) as u64),
                    Op::MemoryGrow => {
                        let n = stack[sp - 1] as u32;
                        charge!(n as u64 * PAGE_SIZE as u64);
                        let limit = store.limits.max_memory_pages;
                        let old = (memory.len() / PAGE_SIZE) as u64;
                        let new = old + n as u64;
                        let max = store.mems[mem_idx].max.unwrap_or(MAX_PAGES).min(limit) as u64;
                        stack[sp - 1] = if new > max {
                            u32::MAX as u64
                        } else {
                            memory.resize(new as usize * PAGE_SIZE, 0);
                            old
                        };
                    }
                    Op::MemoryFill => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let v = pop!() as u8;
                        let d = pop!() as u32 as usize;
                        match mem!().get_mut(d..d + n) {
                            Some(s) => s.fill(v),
                            None => trap!(Trap::MemoryOutOfBounds),
                        }
                    }
                    Op::MemoryCopy => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let s = pop!() as u32 as usize;
                        let d = pop!() as u32 as usize;
                        let m = &mut mem!();
                        if s + n > m.len() || d + n > m.len() {
                            trap!(Trap::MemoryOutOfBounds);
                        }
                        m.copy_within(s..s + n, d);
                    }
                    Op::MemoryInit(seg) => {
                        let n = pop!() as u32 as usize;
                        charge!(n);
                        let s = pop!() as u32 as usize;
                        let d = pop!() as u32 as usize;
                        let bytes: &[u8] = if store.instances[self.instance as usize].data_dropped[seg as usize] {
                            &[]
                        } else {
                            &module.desc.datas[seg as usize].bytes
                        };
                        let m = &mut mem!();
                        if s + n > bytes.len() || d + n > m.len() {
                            trap!(Trap::MemoryOutOfBounds);
                        }
                        m[d..d + n].copy_from_slice(&bytes[s..s + n]);
                    }
                    Op::DataDrop(seg) => store.instances[self.instance as usize].data_dropped[seg as usize] = true,
                    Op::Const(v) => push!(v),
                    Op::RefIsNull => stack[sp - 1] = (stack[sp - 1] == 0) as u64,
                    Op::RefFunc(f) => push!(ctx.funcs[f as usize].0 as u64 + 1),

                    Op::I32Eqz => un!(u32_, b2s, |a: u32| a == 0),
                    Op::I32Eq => bin!(u32_, b2s, |a, b| a == b),
                    Op::I32Ne => bin!(u32_, b2s, |a, b| a != b),
                    Op::I32LtS => bin!(i32_, b2s, |a, b| a < b),
                    Op::I32LtU => bin!(u32_, b2s, |a, b| a < b),
                    Op::I32GtS => bin!(i32_, b2s, |a, b| a > b),
                    Op::I32GtU => bin!(u32_, b2s, |a, b| a > b),
                    Op::I32LeS => bin!(i32_, b2s, |a, b| a <= b),
                    Op::I32LeU => bin!(u32_, b2s, |a, b| a <= b),
                    Op::I32GeS => bin!(i32_, b2s, |a, b| a >= b),
                    Op::I32GeU => bin!(u32_, b2s, |a, b| a >= b),
                    Op::I64Eqz => un!(u64_, b2s, |a: u64| a == 0),
                    Op::I64Eq => bin!(u64_, b2s, |a, b| a == b),
                    Op::I64Ne => bin!(u64_, b2s, |a, b| a != b),
                    Op::I64LtS => bin!(i64_, b2s, |a, b| a < b),
                    Op::I64LtU => bin!(u64_, b2s, |a, b| a < b),
                    Op::I64GtS => bin!(i64_, b2s, |a, b| a > b),
                    Op::I64GtU => bin!(u64_, b2s, |a, b| a > b),
                    Op::I64LeS => bin!(i64_, b2s, |a, b| a <= b),
                    Op::I64LeU => bin!(u64_, b2s, |a, b| a <= b),
                    Op::I64GeS => bin!(i64_, b2s, |a, b| a >= b),
                    Op::I64GeU => bin!(u64_, b2s, |a, b| a >= b),
                    Op::F32Eq => bin!(f32_, b2s, |a, b| a == b),
                    Op::F32Ne => bin!(f32_, b2s, |a, b| a != b),
                    Op::F32Lt => bin!(f32_, b2s, |a, b| a < b),
                    Op::F32Gt => bin!(f32_, b2s, |a, b| a > b),
                    Op::F32Le => bin!(f32_, b2s, |a, b| a <= b),
                    Op::F32Ge => bin!(f32_, b2s, |a, b| a >= b),
                    Op::F64Eq => bin!(f64_, b2s, |a, b| a == b),
                    Op::F64Ne => bin!(f64_, b2s, |a, b| a != b),
                    Op::F64Lt => bin!(f64_, b2s, |a, b| a < b),
                    Op::F64Gt => bin!(f64_, b2s, |a, b| a > b),
                    Op::F64Le => bin!(f64_, b2s, |a, b| a <= b),
                    Op::F64Ge => bin!(f64_, b2s, |a, b| a >= b),

                    Op::I32Clz => un!(u32_, s_u32, |a: u32| a.leading_zeros()),
                    Op::I32Ctz => un!(u32_, s_u32, |a: u32| a.trailing_zeros()),
                    Op::I32Popcnt => un!(u32_, s_u32, |a: u32| a.count_ones()),
                    Op::I32Add => bin!(u32_, s_u32, u32::wrapping_add),
                    Op::I32Sub => bin!(u32_, s_u32, u32::wrapping_sub),
                    Op::I32Mul => bin!(u32_, s_u32, u32::wrapping_mul),
                    Op::I32DivS => bin_try!(i32_, s_i32, |a: i32, b: i32| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            a.checked_div(b).ok_or(Trap::IntegerOverflow)
                        }
                    }),
                    Op::I32DivU => {
                        bin_try!(u32_, s_u32, |a: u32, b: u32| a.checked_div(b).ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I32RemS => bin_try!(i32_, s_i32, |a: i32, b: i32| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            Ok(a.wrapping_rem(b))
                        }
                    }),
                    Op::I32RemU => {
                        bin_try!(u32_, s_u32, |a: u32, b: u32| a.checked_rem(b).ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I32And => bin!(u32_, s_u32, |a, b| a & b),
                    Op::I32Or => bin!(u32_, s_u32, |a, b| a | b),
                    Op::I32Xor => bin!(u32_, s_u32, |a, b| a ^ b),
                    Op::I32Shl => bin!(u32_, s_u32, |a: u32, b: u32| a.wrapping_shl(b)),
                    Op::I32ShrS => bin!(i32_, s_i32, |a: i32, b: i32| a.wrapping_shr(b as u32)),
                    Op::I32ShrU => bin!(u32_, s_u32, |a: u32, b: u32| a.wrapping_shr(b)),
                    Op::I32Rotl => bin!(u32_, s_u32, |a: u32, b: u32| a.rotate_left(b)),
                    Op::I32Rotr => bin!(u32_, s_u32, |a: u32, b: u32| a.rotate_right(b)),
                    Op::I64Clz => un!(u64_, s_u64, |a: u64| a.leading_zeros() as u64),
                    Op::I64Ctz => un!(u64_, s_u64, |a: u64| a.trailing_zeros() as u64),
                    Op::I64Popcnt => un!(u64_, s_u64, |a: u64| a.count_ones() as u64),
                    Op::I64Add => bin!(u64_, s_u64, u64::wrapping_add),
                    Op::I64Sub => bin!(u64_, s_u64, u64::wrapping_sub),
                    Op::I64Mul => bin!(u64_, s_u64, u64::wrapping_mul),
                    Op::I64DivS => bin_try!(i64_, s_i64, |a: i64, b: i64| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            a.checked_div(b).ok_or(Trap::IntegerOverflow)
                        }
                    }),
                    Op::I64DivU => {
                        bin_try!(u64_, s_u64, |a: u64, b: u64| a.checked_div(b).ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I64RemS => bin_try!(i64_, s_i64, |a: i64, b: i64| {
                        if b == 0 {
                            Err(Trap::IntegerDivideByZero)
                        } else {
                            Ok(a.wrapping_rem(b))
                        }
                    }),
                    Op::I64RemU => {
                        bin_try!(u64_, s_u64, |a: u64, b: u64| a.checked_rem(b).ok_or(Trap::IntegerDivideByZero))
                    }
                    Op::I64And => bin!(u64_, s_u64, |a, b| a & b),
                    Op::I64Or => bin!(u64_, s_u64, |a, b| a | b),
                    Op::I64Xor => bin!(u64_, s_u64, |a, b| a ^ b),
                    Op::I64Shl => bin!(u64_, s_u64, |a: u64, b: u64| a.wrapping_shl(b as u32)),
                    Op::I64ShrS => bin!(i64_, s_i64, |a: i64, b: i64| a.wrapping_shr(b as u32)),
                    Op::I64ShrU => bin!(u64_, s_u64, |a: u64, b: u64| a.wrapping_shr(b as u32)),
                    Op::I64Rotl => bin!(u64_, s_u64, |a: u64, b: u64| a.rotate_left((b % 64) as u32)),
                    Op::I64Rotr => bin!(u64_, s_u64, |a: u64, b: u64| a.rotate_right((b % 64) as u32)),

                    Op::F32Abs => un!(u32_, s_u32, |a: u32| a & 0x7FFF_FFFF),
                    Op::F32Neg => un!(u32_, s_u32, |a: u32| a ^ 0x8000_0000),
                    Op::F32Ceil => un!(f32_, s_f32, |a| float::f32_round(a, f32::ceil)),
                    Op::F32Floor => un!(f32_, s_f32, |a| float::f32_round(a, f32::floor)),
                    Op::F32Trunc => un!(f32_, s_f32, |a| float::f32_round(a, f32::trunc)),
                    Op::F32Nearest => un!(f32_, s_f32, |a| float::f32_round(a, float::f32_nearest)),
                    Op::F32Sqrt => un!(f32_, s_f32, f32::sqrt),
                    Op::F32Add => bin!(f32_, s_f32, |a, b| a + b),
                    Op::F32Sub => bin!(f32_, s_f32, |a, b| a - b),
                    Op::F32Mul => bin!(f32_, s_f32, |a, b| a * b),
                    Op::F32Div => bin!(f32_, s_f32, |a, b| a / b),
                    Op::F32Min => bin!(f32_, s_f32, float::f32_min),
                    Op::F32Max => bin!(f32_, s_f32, float::f32_max),
                    Op::F32Copysign => bin!(u32_, s_u32, |a: u32, b: u32| (a & 0x7FFF_FFFF) | (b & 0x8000_0000)),
                    Op::F64Abs => un!(u64_, s_u64, |a: u64| a & 0x7FFF_FFFF_FFFF_FFFF),
                    Op::F64Neg => un!(u64_, s_u64, |a: u64| a ^ 0x8000_0000_0000_0000),
                    Op::F64Ceil => un!(f64_, s_f64, |a| float::f64_round(a, f64::ceil)),
                    Op::F64Floor => un!(f64_, s_f64, |a| float::f64_round(a, f64::floor)),
                    Op::F64Trunc => un!(f64_, s_f64, |a| float::f64_round(a, f64::trunc)),
                    Op::F64Nearest => un!(f64_, s_f64, |a| float::f64_round(a, float::f64_nearest)),
                    Op::F64Sqrt => un!(f64_, s_f64, f64::sqrt),
                    Op::F64Add => bin!(f64_, s_f64, |a, b| a + b),
                    Op::F64Sub => bin!(f64_, s_f64, |a, b| a - b),
                    Op::F64Mul => bin!(f64_, s_f64, |a, b| a * b),
                    Op::F64Div => bin!(f64_, s_f64, |a, b| a / b),
                    Op::F64Min => bin!(f64_, s_f64, float::f64_min),
                    Op::F64Max => bin!(f64_, s_f64, float::f64_max),
                    Op::F64Copysign => bin!(u64_, s_u64, |a: u64, b: u64| (a & !(1u64 << 63)) | (b & (1u64 << 63))),

                    Op::I32WrapI64 => un!(u64_, s_u32, |a: u64| a as u32),
                    Op::I32TruncF32S => un_try!(f32_, s_i32, float::i32_trunc_f32_s),
                    Op::I32TruncF32U => un_try!(f32_, s_u32, float::i32_trunc_f32_u),
                    Op::I32TruncF64S => un_try!(f64_, s_i32, float::i32_trunc_f64_s),
                    Op::I32TruncF64U => un_try!(f64_, s_u32, float::i32_trunc_f64_u),
                    Op::I64ExtendI32S => un!(i32_, s_i64, |a: i32| a as i64),
                    Op::I64ExtendI32U => un!(u32_, s_u64, |a: u32| a as u64),
                    Op::I64TruncF32S => un_try!(f32_, s_i64, float::i64_trunc_f32_s),
                    Op::I64TruncF32U => un_try!(f32_, s_u64, float::i64_trunc_f32_u),
                    Op::I64TruncF64S => un_try!(f64_, s_i64, float::i64_trunc_f64_s),
                    Op::I64TruncF64U => un_try!(f64_, s_u64, float::i64_trunc_f64_u),
                    Op::F32ConvertI32S => un!(i32_, s_f32, |a: i32| a as f32),
                    Op::F32ConvertI32U => un!(u32_, s_f32, |a: u32| a as f32),
                    Op::F32ConvertI64S => un!(i64_, s_f32, |a: i64| a as f32),
                    Op::F32ConvertI64U => un!(u64_, s_f32, |a: u64| a as f32),
                    Op::F32DemoteF64 => un!(f64_, s_f32, |a: f64| a as f32),
                    Op::F64ConvertI32S => un!(i32_, s_f64, |a: i32| a as f64),
                    Op::F64ConvertI32U => un!(u32_, s_f64, |a: u32| a as f64),
                    Op::F64ConvertI64S => un!(i64_, s_f64, |a: i64| a as f64),
                    Op::F64ConvertI64U => un!(u64_, s_f64, |a: u64| a as f64),
                    Op::F64PromoteF32 => un!(f32_, s_f64, |a: f32| a as f64),
                    // Reinterpretations are no-ops on slots (upper bits of 32-bit values are zero).
                    Op::I32ReinterpretF32 | Op::F32ReinterpretI32 => {}
                    Op::I64ReinterpretF64 | Op::F64ReinterpretI64 => {}
                    Op::I32Extend8S => un!(u32_, s_i32, |a: u32| a as i8 as i32),
                    Op::I32Extend16S => un!(u32_, s_i32, |a: u32| a as i16 as i32),
                    Op::I64Extend8S => un!(u64_, s_i64, |a: u64| a as i8 as i64),
                    Op::I64Extend16S => un!(u64_, s_i64, |a: u64| a as i16 as i64),
                    Op::I64Extend32S => un!(u64_, s_i64, |a: u64| a as i32 as i64),
                    Op::I32TruncSatF32S => un!(f32_, s_i32, |a: f32| a as i32),
                    Op::I32TruncSatF32U => un!(f32_, s_u32, |a: f32| a as u32),
                    Op::I32TruncSatF64S => un!(f64_, s_i32, |a: f64| a as i32),
                    Op::I32TruncSatF64U => un!(f64_, s_u32, |a: f64| a as u32),
                    Op::I64TruncSatF32S => un!(f32_, s_i64, |a: f32| a as i64),
                    Op::I64TruncSatF32U => un!(f32_, s_u64, |a: f32| a as u64),
                    Op::I64TruncSatF64S => un!(f64_, s_i64, |a: f64| a as i64),
                    Op::I64TruncSatF64U => un!(f64_, s_u64, |a: f64| a as u64),

                    Op::I32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
                    Op::F32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::F64Load(o) => load!(o, 8, u64::from_le_bytes),
                    Op::I32Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64),
                    Op::I32Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                    Op::I32Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64),
                    Op::I32Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                    Op::I64Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64),
                    Op::I64Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                    Op::I64Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i64 as u64),
                    Op::I64Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                    Op::I64Load32S(o) => load!(o, 4, |b| i32::from_le_bytes(b) as i64 as u64),
                    Op::I64Load32U(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                    Op::I32Store(o) | Op::F32Store(o) => store_op!(o, 4, |v: u64| (v as u32).to_le_bytes()),
                    Op::I64Store(o) | Op::F64Store(o) => store_op!(o, 8, |v: u64| v.to_le_bytes()),
                    Op::I32Store8(o) | Op::I64Store8(o) => store_op!(o, 1, |v: u64| [v as u8]),
                    Op::I32Store16(o) | Op::I64Store16(o) => store_op!(o, 2, |v: u64| (v as u16).to_le_bytes()),
                    Op::I64Store32(o) => store_op!(o, 4, |v: u64| (v as u32).to_le_bytes()),
                }
            }
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
        assert!(exec.is_finished());
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
