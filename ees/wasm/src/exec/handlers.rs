//! The interpreter's inner loop, as one handler function per op (direct threading).
//!
//! Every op of the internal code is stored beside a pointer to the function that executes
//! it ([`Inst`]). A handler does its op's work and ends by calling the handler of the next
//! op in tail position, passing the interpreter's registers as arguments:
//!
//! | argument | what it is |
//! |---|---|
//! | `ip` | the op being executed |
//! | `regs` | slot 0 of the current frame, in the execution's value stack |
//! | `mem` | base of the instance's linear memory (its length is `cx.memory.len()`) |
//! | `acc` | the accumulator: the value the previous op computed (see below) |
//! | `fuel` | fuel left |
//! | `cx` | everything else ([`Cx`]): the execution, the store, the instance |
//!
//! The hot state thus lives in machine registers (six integer arguments are passed in
//! registers on x86-64 and AArch64), and every op has its own indirect jump, which branch
//! predictors track far better than the one jump of a central `match`. In optimised builds
//! the calls compile to jumps (LLVM's sibling-call optimisation), so the native stack does
//! not grow; `build.rs` sets `ee_wasm_tail_calls` only for those builds. Without it (debug
//! builds) a handler returns [`Exit::Continue`] with the registers in `cx` and [`run`]
//! loops: same handlers, same results, slower.
//!
//! **The accumulator.** Every op that computes a value (numeric ops, loads, `Copy`,
//! `Const`: see [`sets_acc`]) writes it to its result slot *and* passes it on in `acc`.
//! An op that reads the slot the op just before it wrote, and that can only be reached
//! from that op (it is no jump target, call return point or function start), gets a
//! handler that takes that operand from `acc` instead ([`Inst::new`] picks it when the code
//! is threaded: modules [`from_a`] and [`from_b`], by operand). A chain of dependent
//! operations then runs through a register instead of a store and a reload per step. The
//! only way to resume at such an op is running out of fuel at a conditional jump, and
//! [`suspend`] keeps `acc` in the [`Execution`] for that.
//!
//! A handler leaves the loop by returning an [`Exit`] after saving the registers into the
//! [`Execution`] (`pc`, `fp`, `acc`) and `cx.fuel`: at a trap, when out of fuel, when the
//! entry function returns, and for calls the loop does not perform itself (host functions,
//! other instances).
//!
//! SAFETY (the unchecked accesses in every handler): `compile::verify` checked that every
//! slot an op names is below its function's `max_height`, and a frame is entered only when
//! the value stack holds `fp + max_height` slots (`Execution::enter_pending`, [`Call`],
//! [`call_general`]), so `regs.add(slot)` is in the stack's buffer. It also checked that
//! every jump target and `br_table` entry is in the function's own code and that no
//! function falls off its end, so `ip` always points at an op of the running module. A
//! handler is only ever reached through the pointer [`Inst::new`] paired with its op's
//! variant, so the `let … else` destructuring at its top always matches.

use std::hint::unreachable_unchecked;
use std::ptr;

use super::{Execution, Frame};
use crate::code::{for_each_memop, for_each_numeric, FuncCode, Op, StepHow};
use crate::compile::CompiledCode;
use crate::error::Trap;
use crate::float;
use crate::store::{FuncAddr, FuncKind, InstanceData, Store, PAGE_SIZE};
use crate::validate::MAX_PAGES;

use super::BULK_UNIT;

type Ip = *const Inst;
type Regs = *mut u64;

/// The signature every handler has (see the module docs for the arguments).
type Handler = for<'a, 'b> unsafe fn(Ip, Regs, *mut u8, u64, u64, &'a mut Cx<'b>) -> Exit;

/// An op and the handler that executes it.
#[derive(Clone, Copy)]
pub(crate) struct Inst {
    pub op: Op,
    handler: Handler,
}

impl std::fmt::Debug for Inst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.op.fmt(f)
    }
}

/// Why the handlers returned to [`super::Execution::execute`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Exit {
    /// The handler ran; the next one is in `cx.next` (only without tail calls).
    #[cfg_attr(ee_wasm_tail_calls, allow(dead_code))]
    Continue,
    /// A call the loop does not perform is pending (or a return crosses into another
    /// instance): `execute` sets up that frame and runs on.
    Reenter,
    /// The entry function returned; its results are below the execution's `sp`.
    Finished,
    /// A run of code could not be paid for; `pc` is on the charging op.
    OutOfFuel,
    /// A trap; it is in `cx.trap`.
    Trap,
}

/// The interpreter registers, as the loop backend carries them between handlers.
#[derive(Clone, Copy)]
#[cfg_attr(ee_wasm_tail_calls, allow(dead_code))]
pub(super) struct Registers {
    ip: Ip,
    regs: Regs,
    mem: *mut u8,
    acc: u64,
    fuel: u64,
}

/// The state a handler reaches through its last argument.
pub(super) struct Cx<'a> {
    exec: &'a mut Execution,
    store: &'a mut Store,
    ctx: &'a InstanceData,
    funcs: &'a [FuncCode],
    /// The module's code (jump targets and saved `pc`s are indices into it).
    code: Ip,
    /// The value stack's buffer (re-read whenever the stack grows).
    stack: Regs,
    /// The instance's memory, out of the store while the loop runs; `mem` is its base,
    /// refreshed when it grows.
    memory: Vec<u8>,
    /// The defined function [`call_general`] enters.
    callee: u32,
    /// Fuel left at an exit.
    fuel: u64,
    trap: Option<Trap>,
    /// The registers of the next handler (loop backend only).
    #[cfg_attr(ee_wasm_tail_calls, allow(dead_code))]
    next: Registers,
}

impl<'a> Cx<'a> {
    pub(super) fn new(
        exec: &'a mut Execution,
        store: &'a mut Store,
        ctx: &'a InstanceData,
        code: &'a CompiledCode,
        memory: Vec<u8>,
    ) -> Cx<'a> {
        let stack = exec.stack.as_mut_ptr();
        let next = Registers { ip: ptr::null(), regs: stack, mem: ptr::null_mut(), acc: 0, fuel: 0 };
        Cx {
            exec,
            store,
            ctx,
            funcs: &code.funcs,
            code: code.insts.as_ptr(),
            stack,
            memory,
            callee: 0,
            fuel: 0,
            trap: None,
            next,
        }
    }

    /// The memory (to put back into the store), the fuel left and the trap, if any.
    pub(super) fn finish(self) -> (Vec<u8>, u64, Option<Trap>) {
        (self.memory, self.fuel, self.trap)
    }
}

/// Runs the handlers from op `pc` with the frame at slot `fp` until one exits.
///
/// # Safety
/// `pc` must be an op of `cx`'s code where a frame of this instance starts or was
/// suspended, and the value stack must hold that frame at `fp` (see the module docs).
pub(super) unsafe fn run(cx: &mut Cx<'_>, pc: usize, fp: usize, fuel: u64) -> Exit {
    let ip = cx.code.add(pc);
    let regs = cx.stack.add(fp);
    let (mem, acc) = (cx.memory.as_mut_ptr(), cx.exec.acc);
    #[cfg(ee_wasm_tail_calls)]
    {
        ((*ip).handler)(ip, regs, mem, acc, fuel, cx)
    }
    #[cfg(not(ee_wasm_tail_calls))]
    {
        let mut exit = ((*ip).handler)(ip, regs, mem, acc, fuel, cx);
        while exit == Exit::Continue {
            let Registers { ip, regs, mem, acc, fuel } = cx.next;
            exit = ((*ip).handler)(ip, regs, mem, acc, fuel, cx);
        }
        exit
    }
}

/// Goes on with the op at `ip`: a tail call of its handler (or, without tail calls, a
/// return to [`run`]'s loop).
macro_rules! next {
    ($ip:expr, $regs:expr, $mem:expr, $acc:expr, $fuel:expr, $cx:expr) => {{
        let ip: Ip = $ip;
        #[cfg(ee_wasm_tail_calls)]
        {
            return ((*ip).handler)(ip, $regs, $mem, $acc, $fuel, $cx);
        }
        #[cfg(not(ee_wasm_tail_calls))]
        {
            $cx.next = Registers { ip, regs: $regs, mem: $mem, acc: $acc, fuel: $fuel };
            return Exit::Continue;
        }
    }};
}

/// Defines a handler: `handler!(Name, Op::Name { fields }, |ip, regs, mem, acc, fuel, cx| body)`.
/// The body ends with `next!` or returns an exit.
macro_rules! handler {
    ($name:ident, $pat:pat, |$ip:ident, $regs:ident, $mem:ident, $acc:ident, $fuel:ident, $cx:ident| $body:block) => {
        #[allow(non_snake_case, unused_variables, unused_mut, clippy::unnecessary_cast)]
        pub(super) unsafe fn $name(
            $ip: Ip,
            $regs: Regs,
            $mem: *mut u8,
            $acc: u64,
            mut $fuel: u64,
            $cx: &mut Cx<'_>,
        ) -> Exit {
            let $pat = (*$ip).op else { unreachable_unchecked() };
            $body
        }
    };
}

/// A handler that computes and falls through to the next op.
macro_rules! simple {
    ($name:ident, $pat:pat, |$regs:ident, $cx:ident| $body:block) => {
        handler!($name, $pat, |ip, $regs, mem, acc, fuel, $cx| {
            $body;
            next!(ip.add(1), $regs, mem, acc, fuel, $cx)
        });
    };
}

/// Slot `$s` of the frame at `$regs`.
macro_rules! r {
    ($regs:ident, $s:expr) => {
        *$regs.add($s as usize)
    };
}

/// Charges `$n` fuel or leaves with [`Exit::OutOfFuel`] at the current op.
macro_rules! charge {
    ($n:expr, $ip:ident, $regs:ident, $acc:ident, $fuel:ident, $cx:ident) => {{
        let n = $n as u64;
        if $fuel < n {
            return suspend($cx, $ip, $regs, $acc, $fuel, Exit::OutOfFuel);
        }
        $fuel -= n;
    }};
}

/// Saves the registers (`ip` is where the frame goes on) and leaves with `exit`.
#[cold]
#[inline(never)]
unsafe fn suspend(cx: &mut Cx<'_>, ip: Ip, regs: Regs, acc: u64, fuel: u64, exit: Exit) -> Exit {
    cx.exec.pc = ip.offset_from(cx.code) as u32;
    cx.exec.fp = regs.offset_from(cx.stack) as u32;
    cx.exec.acc = acc;
    cx.fuel = fuel;
    exit
}

#[cold]
#[inline(never)]
fn trap(cx: &mut Cx<'_>, fuel: u64, trap: Trap) -> Exit {
    cx.fuel = fuel;
    cx.trap = Some(trap);
    Exit::Trap
}

// ---- Control ----

handler!(Unreachable, Op::Unreachable, |ip, regs, mem, acc, fuel, cx| { trap(cx, fuel, Trap::Unreachable) });

handler!(Fuel, Op::Fuel(n), |ip, regs, mem, acc, fuel, cx| {
    charge!(n, ip, regs, acc, fuel, cx);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(Jump, Op::Jump { target, fuel: cost }, |ip, regs, mem, acc, fuel, cx| {
    charge!(cost, ip, regs, acc, fuel, cx);
    next!(cx.code.add(target as usize), regs, mem, acc, fuel, cx)
});

/// `StepJump32`/`StepJump64` with the step and test given by the type parameters (one
/// handler per combination, picked by [`Inst::new`] from `how`). Nothing is written before
/// the fuel of a taken jump is paid, so running out re-executes the whole op.
unsafe fn step_jump<const WIDE: bool, const SUB: bool, const CMP: u8>(
    ip: Ip,
    regs: Regs,
    mem: *mut u8,
    acc: u64,
    mut fuel: u64,
    cx: &mut Cx<'_>,
) -> Exit {
    let (Op::StepJump32 { x, k, limit, target, fuel: cost, .. }
    | Op::StepJump64 { x, k, limit, target, fuel: cost, .. }) = (*ip).op
    else {
        unreachable_unchecked()
    };
    let (old, step, lim) = (r!(regs, x), r!(regs, k), r!(regs, limit));
    let new = match (WIDE, SUB) {
        (false, false) => (old as u32).wrapping_add(step as u32) as u64,
        (false, true) => (old as u32).wrapping_sub(step as u32) as u64,
        (true, false) => old.wrapping_add(step),
        (true, true) => old.wrapping_sub(step),
    };
    // Signed comparisons on the value's own width.
    let (sn, sl) = if WIDE { (new as i64, lim as i64) } else { (new as u32 as i32 as i64, lim as u32 as i32 as i64) };
    let (un, ul) = if WIDE { (new, lim) } else { (new as u32 as u64, lim as u32 as u64) };
    let taken = match CMP {
        0 => un == ul,
        1 => un != ul,
        2 => sn < sl,
        3 => un < ul,
        4 => sn > sl,
        5 => un > ul,
        6 => sn <= sl,
        7 => un <= ul,
        8 => sn >= sl,
        9 => un >= ul,
        StepHow::ZERO => un == 0,
        _ => un != 0,
    };
    if taken {
        charge!(cost, ip, regs, acc, fuel, cx);
        r!(regs, x) = new;
        next!(cx.code.add(target as usize), regs, mem, acc, fuel, cx)
    }
    r!(regs, x) = new;
    next!(ip.add(2), regs, mem, acc, fuel, cx)
}

/// The `step_jump` handlers of one width, indexed by [`StepHow::code`].
macro_rules! step_handlers {
    ($wide:literal) => {
        [
            step_jump::<$wide, false, 0>,
            step_jump::<$wide, false, 1>,
            step_jump::<$wide, false, 2>,
            step_jump::<$wide, false, 3>,
            step_jump::<$wide, false, 4>,
            step_jump::<$wide, false, 5>,
            step_jump::<$wide, false, 6>,
            step_jump::<$wide, false, 7>,
            step_jump::<$wide, false, 8>,
            step_jump::<$wide, false, 9>,
            step_jump::<$wide, false, 10>,
            step_jump::<$wide, false, 11>,
            step_jump::<$wide, true, 0>,
            step_jump::<$wide, true, 1>,
            step_jump::<$wide, true, 2>,
            step_jump::<$wide, true, 3>,
            step_jump::<$wide, true, 4>,
            step_jump::<$wide, true, 5>,
            step_jump::<$wide, true, 6>,
            step_jump::<$wide, true, 7>,
            step_jump::<$wide, true, 8>,
            step_jump::<$wide, true, 9>,
            step_jump::<$wide, true, 10>,
            step_jump::<$wide, true, 11>,
        ]
    };
}
static STEP32: [Handler; StepHow::CODES] = step_handlers!(false);
static STEP64: [Handler; StepHow::CODES] = step_handlers!(true);

handler!(BrTable, Op::BrTable { idx, len: n }, |ip, regs, mem, acc, fuel, cx| {
    // The selected entry, one of the `n + 1` `Jump`s that follow, runs next.
    let i = (r!(regs, idx) as u32).min(n) as usize;
    next!(ip.add(1 + i), regs, mem, acc, fuel, cx)
});

/// Returns `n` values from slots `src..` of the frame at `regs` to the caller.
#[inline(always)]
unsafe fn return_values(regs: Regs, n: usize, mem: *mut u8, acc: u64, fuel: u64, cx: &mut Cx<'_>) -> Exit {
    match cx.exec.frames.pop() {
        Some(Frame { pc, fp, instance }) if instance == cx.exec.instance => {
            next!(cx.code.add(pc as usize), cx.stack.add(fp as usize), mem, acc, fuel, cx)
        }
        Some(Frame { pc, fp, instance }) => {
            cx.exec.instance = instance;
            cx.exec.pc = pc;
            cx.exec.fp = fp;
            cx.fuel = fuel;
            Exit::Reenter
        }
        None => {
            cx.exec.sp = regs.offset_from(cx.stack) as usize + n;
            cx.exec.in_wasm = false;
            cx.fuel = fuel;
            Exit::Finished
        }
    }
}

// `Return` has three handlers, picked by [`Inst::new`] from the number of values, so that
// the common ones need no library call (which would make them save registers).
handler!(Return0, Op::Return { .. }, |ip, regs, mem, acc, fuel, cx| { return_values(regs, 0, mem, acc, fuel, cx) });

handler!(Return1, Op::Return { src, .. }, |ip, regs, mem, acc, fuel, cx| {
    r!(regs, 0) = r!(regs, src);
    return_values(regs, 1, mem, acc, fuel, cx)
});

handler!(Return, Op::Return { src, n }, |ip, regs, mem, acc, fuel, cx| {
    ptr::copy(regs.add(src as usize), regs, n as usize);
    return_values(regs, n as usize, mem, acc, fuel, cx)
});

/// Frames whose locals and constants take at most this many slots are set up by
/// [`Call`] itself; larger ones by [`call_general`].
const SMALL_FRAME: usize = 16;

handler!(Call, Op::Call { func, base }, |ip, regs, mem, acc, fuel, cx| {
    // The common case without any library call or allocation, so that the handler needs
    // no stack frame of its own: the stack and the call stack have room, the frame is small.
    let funcs = cx.funcs;
    let callee = funcs.get_unchecked(func as usize);
    let exec = &mut *cx.exec;
    let fp = regs.offset_from(cx.stack) as usize;
    let new_fp = fp + base as usize;
    let (zeros, consts) = (callee.num_locals as usize, &callee.consts[..]);
    let depth = exec.frames.len();
    if new_fp + callee.max_height as usize >= exec.stack.len()
        || depth == exec.frames.capacity()
        || depth >= exec.limits.max_call_depth
        || zeros + consts.len() > SMALL_FRAME
    {
        cx.callee = func;
        return call_general(ip, regs, mem, acc, fuel, cx);
    }
    let ret = ip.add(1).offset_from(cx.code) as u32;
    exec.frames.as_mut_ptr().add(depth).write(Frame { pc: ret, fp: fp as u32, instance: exec.instance });
    exec.frames.set_len(depth + 1);
    let new_regs = cx.stack.add(new_fp);
    let locals = new_regs.add(callee.num_params as usize);
    // Volatile writes keep LLVM from turning these short loops into `memset`/`memcpy` calls.
    for i in 0..zeros {
        ptr::write_volatile(locals.add(i), 0);
    }
    for (i, &c) in consts.iter().enumerate() {
        ptr::write_volatile(locals.add(zeros + i), c);
    }
    next!(cx.code.add(callee.start as usize), new_regs, mem, acc, fuel, cx)
});

/// Enters defined function `cx.callee` from the call at `ip` (a `Call` or `CallIndirect`,
/// whose `base` is where the callee's frame starts in the frame at `regs`): checks the
/// limits, grows the stacks, sets up the frame (locals zeroed, constants copied in) and
/// runs on at the callee's first op. (It has the handlers' six arguments, the callee in
/// `cx`, so that handlers can reach it by a tail call: a seventh argument would go on the
/// stack, and LLVM cannot then turn the call into a jump.)
#[cold]
#[inline(never)]
unsafe fn call_general(ip: Ip, regs: Regs, mem: *mut u8, acc: u64, fuel: u64, cx: &mut Cx<'_>) -> Exit {
    let base = match (*ip).op {
        Op::Call { base, .. } | Op::CallIndirect { base, .. } => base,
        _ => unreachable_unchecked(),
    };
    let funcs = cx.funcs;
    let callee = &funcs[cx.callee as usize];
    let exec = &mut *cx.exec;
    if exec.frames.len() >= exec.limits.max_call_depth {
        return trap(cx, fuel, Trap::StackExhausted);
    }
    let fp = regs.offset_from(cx.stack) as usize;
    let new_fp = fp + base as usize;
    let need = new_fp + callee.max_height as usize + 1;
    if need > exec.stack.len() {
        if need > exec.limits.max_value_stack {
            return trap(cx, fuel, Trap::StackExhausted);
        }
        let len = need.max(exec.stack.len() * 2).min(exec.limits.max_value_stack);
        exec.stack.resize(len, 0);
        cx.stack = exec.stack.as_mut_ptr();
    }
    exec.frames.push(Frame { pc: ip.add(1).offset_from(cx.code) as u32, fp: fp as u32, instance: exec.instance });
    let new_regs = cx.stack.add(new_fp);
    let locals = new_regs.add(callee.num_params as usize);
    ptr::write_bytes(locals, 0, callee.num_locals as usize);
    let consts = locals.add(callee.num_locals as usize);
    ptr::copy_nonoverlapping(callee.consts.as_ptr(), consts, callee.consts.len());
    next!(cx.code.add(callee.start as usize), new_regs, mem, acc, fuel, cx)
}

/// Leaves the loop to call `func` (a host function or another instance's) with its
/// arguments at `base..base + n`.
#[allow(clippy::too_many_arguments)]
unsafe fn call_out(
    cx: &mut Cx<'_>,
    ip: Ip,
    regs: Regs,
    acc: u64,
    fuel: u64,
    func: FuncAddr,
    base: u32,
    n: usize,
) -> Exit {
    cx.exec.sp = regs.offset_from(cx.stack) as usize + base as usize + n;
    cx.exec.pending = Some(func);
    suspend(cx, ip.add(1), regs, acc, fuel, Exit::Reenter)
}

handler!(CallImport, Op::CallImport { func, base }, |ip, regs, mem, acc, fuel, cx| {
    let addr = cx.ctx.funcs[func as usize];
    let n = cx.store.func_type(addr).map_or(0, |t| t.params.len());
    call_out(cx, ip, regs, acc, fuel, addr, base, n)
});

handler!(CallIndirect, Op::CallIndirect { ty, table, base }, |ip, regs, mem, acc, fuel, cx| {
    let n = cx.ctx.module.inner.desc.types[ty as usize].params.len();
    let i = r!(regs, base as usize + n) as u32 as usize;
    let tab = &cx.store.tables[cx.ctx.tables[table as usize] as usize];
    let Some(&r) = tab.elems.get(i) else { return trap(cx, fuel, Trap::UndefinedElement) };
    if r == 0 {
        return trap(cx, fuel, Trap::UninitializedElement);
    }
    let addr = FuncAddr((r - 1) as u32);
    let f = &cx.store.funcs[addr.0 as usize];
    if f.ty != cx.ctx.types[ty as usize] {
        return trap(cx, fuel, Trap::IndirectCallTypeMismatch);
    }
    match f.kind {
        FuncKind::Wasm { instance, index } if instance == cx.exec.instance => {
            cx.callee = index;
            call_general(ip, regs, mem, acc, fuel, cx)
        }
        _ => call_out(cx, ip, regs, acc, fuel, addr, base, n),
    }
});

// ---- Slots, globals, references ----

simple!(Select, Op::Select { base }, |regs, cx| {
    if r!(regs, base + 2) as u32 == 0 {
        r!(regs, base) = r!(regs, base + 1);
    }
});
simple!(GlobalGet, Op::GlobalGet { dst, global }, |regs, cx| {
    r!(regs, dst) = cx.store.globals[cx.ctx.globals[global as usize] as usize].value
});
simple!(GlobalSet, Op::GlobalSet { src, global }, |regs, cx| {
    cx.store.globals[cx.ctx.globals[global as usize] as usize].value = r!(regs, src)
});
simple!(RefIsNull, Op::RefIsNull { dst, a }, |regs, cx| { r!(regs, dst) = (r!(regs, a) == 0) as u64 });
simple!(RefFunc, Op::RefFunc { dst, func }, |regs, cx| { r!(regs, dst) = cx.ctx.funcs[func as usize].0 as u64 + 1 });

// ---- Tables and bulk memory (operands in consecutive slots from `base`) ----

/// Bulk ops pay for the bytes or elements they touch before touching them.
macro_rules! charge_bulk {
    ($units:expr, $ip:ident, $regs:ident, $acc:ident, $fuel:ident, $cx:ident) => {
        charge!($units as u64 / BULK_UNIT, $ip, $regs, $acc, $fuel, $cx)
    };
}

/// Whether `start..start + n` lies within a buffer of `len` bytes or elements. Computed in
/// `u64` (a 32-bit start plus a 32-bit count cannot overflow it), so it cannot wrap on a
/// 32-bit host, where `usize` could.
#[inline(always)]
pub(super) fn in_bounds(start: u64, n: u64, len: usize) -> bool {
    start + n <= len as u64
}

/// The store index of the instance's table `t`.
fn table_addr(cx: &Cx<'_>, t: u32) -> usize {
    cx.ctx.tables[t as usize] as usize
}

handler!(TableGet, Op::TableGet { table, base }, |ip, regs, mem, acc, fuel, cx| {
    let i = r!(regs, base) as u32 as usize;
    match cx.store.tables[table_addr(cx, table)].elems.get(i) {
        Some(&v) => r!(regs, base) = v,
        None => return trap(cx, fuel, Trap::TableOutOfBounds),
    }
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(TableSet, Op::TableSet { table, base }, |ip, regs, mem, acc, fuel, cx| {
    let i = r!(regs, base) as u32 as usize;
    let ta = table_addr(cx, table);
    match cx.store.tables[ta].elems.get_mut(i) {
        Some(e) => *e = r!(regs, base + 1),
        None => return trap(cx, fuel, Trap::TableOutOfBounds),
    }
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

simple!(TableSize, Op::TableSize { table, dst }, |regs, cx| {
    r!(regs, dst) = cx.store.tables[table_addr(cx, table)].elems.len() as u64
});

handler!(TableGrow, Op::TableGrow { table, base }, |ip, regs, mem, acc, fuel, cx| {
    let init = r!(regs, base);
    let n = r!(regs, base + 1) as u32;
    let limit = cx.store.limits.max_table_elems;
    let ta = table_addr(cx, table);
    let tab = &cx.store.tables[ta];
    let old = tab.elems.len() as u64;
    let new = old + n as u64;
    let max = tab.max.unwrap_or(u32::MAX).min(limit) as u64;
    if new > max {
        // A failed grow adds nothing and pays nothing per element.
        r!(regs, base) = u32::MAX as u64;
        next!(ip.add(1), regs, mem, acc, fuel, cx)
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    cx.store.tables[ta].elems.resize(new as usize, init);
    r!(regs, base) = old;
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(TableFill, Op::TableFill { table, base }, |ip, regs, mem, acc, fuel, cx| {
    let i = r!(regs, base) as u32 as u64;
    let v = r!(regs, base + 1);
    let n = r!(regs, base + 2) as u32 as u64;
    let ta = table_addr(cx, table);
    if !in_bounds(i, n, cx.store.tables[ta].elems.len()) {
        return trap(cx, fuel, Trap::TableOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (i, n) = (i as usize, n as usize);
    cx.store.tables[ta].elems[i..i + n].fill(v);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(TableCopy, Op::TableCopy { dst, src, base }, |ip, regs, mem, acc, fuel, cx| {
    let d = r!(regs, base) as u32 as u64;
    let s = r!(regs, base + 1) as u32 as u64;
    let n = r!(regs, base + 2) as u32 as u64;
    let (da, sa) = (table_addr(cx, dst), table_addr(cx, src));
    let tables = &cx.store.tables;
    if !in_bounds(s, n, tables[sa].elems.len()) || !in_bounds(d, n, tables[da].elems.len()) {
        return trap(cx, fuel, Trap::TableOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (d, s, n) = (d as usize, s as usize, n as usize);
    let tables = &mut cx.store.tables;
    if da == sa {
        tables[da].elems.copy_within(s..s + n, d);
    } else {
        let tmp: Vec<u64> = tables[sa].elems[s..s + n].to_vec();
        tables[da].elems[d..d + n].copy_from_slice(&tmp);
    }
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(TableInit, Op::TableInit { table, elem, base }, |ip, regs, mem, acc, fuel, cx| {
    let d = r!(regs, base) as u32 as u64;
    let s = r!(regs, base + 1) as u32 as u64;
    let n = r!(regs, base + 2) as u32 as u64;
    let ta = table_addr(cx, table);
    let seg_len = cx.store.instances[cx.exec.instance as usize].elems[elem as usize].len();
    if !in_bounds(s, n, seg_len) || !in_bounds(d, n, cx.store.tables[ta].elems.len()) {
        return trap(cx, fuel, Trap::TableOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (d, s, n) = (d as usize, s as usize, n as usize);
    let store = &mut *cx.store;
    let seg = &store.instances[cx.exec.instance as usize].elems[elem as usize];
    store.tables[ta].elems[d..d + n].copy_from_slice(&seg[s..s + n]);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

simple!(ElemDrop, Op::ElemDrop(e), |regs, cx| {
    cx.store.instances[cx.exec.instance as usize].elems[e as usize] = Vec::new()
});

simple!(MemorySize, Op::MemorySize { dst }, |regs, cx| { r!(regs, dst) = (cx.memory.len() / PAGE_SIZE) as u64 });

handler!(MemoryGrow, Op::MemoryGrow { base }, |ip, regs, mem, acc, fuel, cx| {
    let n = r!(regs, base) as u32;
    let mem_idx = cx.ctx.mems[0] as usize;
    let limit = cx.store.limits.max_memory_pages;
    let old = (cx.memory.len() / PAGE_SIZE) as u64;
    let new = old + n as u64;
    let max = cx.store.mems[mem_idx].max.unwrap_or(MAX_PAGES).min(limit) as u64;
    if new > max {
        // A failed grow adds nothing and pays nothing per page.
        r!(regs, base) = u32::MAX as u64;
        next!(ip.add(1), regs, mem, acc, fuel, cx)
    }
    charge_bulk!(n as u64 * PAGE_SIZE as u64, ip, regs, acc, fuel, cx);
    cx.memory.resize(new as usize * PAGE_SIZE, 0);
    r!(regs, base) = old;
    let (mem, acc) = (cx.memory.as_mut_ptr(), cx.exec.acc);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(MemoryFill, Op::MemoryFill { base }, |ip, regs, mem, acc, fuel, cx| {
    let d = r!(regs, base) as u32 as u64;
    let v = r!(regs, base + 1) as u8;
    let n = r!(regs, base + 2) as u32 as u64;
    if !in_bounds(d, n, cx.memory.len()) {
        return trap(cx, fuel, Trap::MemoryOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (d, n) = (d as usize, n as usize);
    cx.memory[d..d + n].fill(v);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(MemoryCopy, Op::MemoryCopy { base }, |ip, regs, mem, acc, fuel, cx| {
    let d = r!(regs, base) as u32 as u64;
    let s = r!(regs, base + 1) as u32 as u64;
    let n = r!(regs, base + 2) as u32 as u64;
    let len = cx.memory.len();
    if !in_bounds(s, n, len) || !in_bounds(d, n, len) {
        return trap(cx, fuel, Trap::MemoryOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (d, s, n) = (d as usize, s as usize, n as usize);
    cx.memory.copy_within(s..s + n, d);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

handler!(MemoryInit, Op::MemoryInit { seg, base }, |ip, regs, mem, acc, fuel, cx| {
    let d = r!(regs, base) as u32 as u64;
    let s = r!(regs, base + 1) as u32 as u64;
    let n = r!(regs, base + 2) as u32 as u64;
    let bytes: &[u8] = if cx.store.instances[cx.exec.instance as usize].data_dropped[seg as usize] {
        &[]
    } else {
        &cx.ctx.module.inner.desc.datas[seg as usize].bytes
    };
    if !in_bounds(s, n, bytes.len()) || !in_bounds(d, n, cx.memory.len()) {
        return trap(cx, fuel, Trap::MemoryOutOfBounds);
    }
    charge_bulk!(n, ip, regs, acc, fuel, cx);
    let (d, s, n) = (d as usize, s as usize, n as usize);
    cx.memory[d..d + n].copy_from_slice(&bytes[s..s + n]);
    next!(ip.add(1), regs, mem, acc, fuel, cx)
});

simple!(DataDrop, Op::DataDrop(seg), |regs, cx| {
    cx.store.instances[cx.exec.instance as usize].data_dropped[seg as usize] = true
});

// ---- Ops that take operands from the accumulator ----
//
// The handlers below exist in three forms, one module each, made by the same macros: in
// `plain` every operand comes from its slot; in `from_a` the first operand (`a`, a load's
// or store's address, a test's condition, a copy's source) comes from `acc`; in `from_b`
// the second (`b`, a store's value). Value-computing ones pass their result on in `acc`.

/// Operand `$which` (`a` or `b`) in handler form `$form`: `acc` if the form takes it from
/// there, else slot `$slot`.
macro_rules! operand {
    (from_a, a, $regs:ident, $acc:ident, $slot:expr) => {
        $acc
    };
    (from_b, b, $regs:ident, $acc:ident, $slot:expr) => {
        $acc
    };
    ($form:ident, $which:ident, $regs:ident, $acc:ident, $slot:expr) => {
        r!($regs, $slot)
    };
}

/// `dst = f(a)`.
macro_rules! unary {
    ($form:ident; $($name:ident: $from:ident -> $to:ident, $f:expr;)*) => {$(
        handler!($name, Op::$name { dst, a, .. }, |ip, regs, mem, acc, fuel, cx| {
            let v = $to($f($from(operand!($form, a, regs, acc, a))));
            r!(regs, dst) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });
    )*};
}

/// `dst = f(a, b)`.
macro_rules! binary {
    ($form:ident; $($name:ident: $from:ident -> $to:ident, $f:expr;)*) => {$(
        handler!($name, Op::$name { dst, a, b }, |ip, regs, mem, acc, fuel, cx| {
            let v = $to($f($from(operand!($form, a, regs, acc, a)), $from(operand!($form, b, regs, acc, b))));
            r!(regs, dst) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });
    )*};
}

/// `dst = f(a)` or a trap.
macro_rules! unary_try {
    ($form:ident; $($name:ident: $from:ident -> $to:ident, $f:expr;)*) => {$(
        handler!($name, Op::$name { dst, a, .. }, |ip, regs, mem, acc, fuel, cx| {
            let v = match $f($from(operand!($form, a, regs, acc, a))) {
                Ok(v) => $to(v),
                Err(t) => return trap(cx, fuel, t),
            };
            r!(regs, dst) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });
    )*};
}

/// `dst = f(a, b)` or a trap.
macro_rules! binary_try {
    ($form:ident; $($name:ident: $from:ident -> $to:ident, $f:expr;)*) => {$(
        handler!($name, Op::$name { dst, a, b }, |ip, regs, mem, acc, fuel, cx| {
            let v = match $f($from(operand!($form, a, regs, acc, a)), $from(operand!($form, b, regs, acc, b))) {
                Ok(v) => $to(v),
                Err(t) => return trap(cx, fuel, t),
            };
            r!(regs, dst) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });
    )*};
}

/// Loads; the effective address is `addr + offset` (33 bits), computed with the access
/// size in `u64` so that it cannot wrap on any host ([`in_bounds`]).
macro_rules! load {
    ($form:ident; $($name:ident: $n:literal, $conv:expr;)*) => {$(
        handler!($name, Op::$name { r, addr, offset }, |ip, regs, mem, acc, fuel, cx| {
            let at = operand!($form, a, regs, acc, addr) as u32 as u64 + offset as u64;
            if !in_bounds(at, $n, cx.memory.len()) {
                return trap(cx, fuel, Trap::MemoryOutOfBounds);
            }
            let bytes: [u8; $n] = ptr::read_unaligned(mem.add(at as usize) as *const [u8; $n]);
            let v = $conv(bytes);
            r!(regs, r) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });
    )*};
}

/// Stores: the address is operand `a`, the value (slot `r`) operand `b`.
macro_rules! store {
    ($form:ident; $($name:ident: $n:literal, $conv:expr;)*) => {$(
        handler!($name, Op::$name { r, addr, offset }, |ip, regs, mem, acc, fuel, cx| {
            let at = operand!($form, a, regs, acc, addr) as u32 as u64 + offset as u64;
            if !in_bounds(at, $n, cx.memory.len()) {
                return trap(cx, fuel, Trap::MemoryOutOfBounds);
            }
            let bytes: [u8; $n] = $conv(operand!($form, b, regs, acc, r));
            ptr::write_unaligned(mem.add(at as usize) as *mut [u8; $n], bytes);
            next!(ip.add(1), regs, mem, acc, fuel, cx)
        });
    )*};
}

/// Conditional jumps on one slot: when taken they pay for the run they enter (the code
/// they fall through to starts with its own `Fuel` op).
macro_rules! test_jump {
    ($form:ident; $($name:ident: $cond:expr;)*) => {$(
        handler!($name, Op::$name { c, target, fuel: cost }, |ip, regs, mem, acc, fuel, cx| {
            if $cond(operand!($form, a, regs, acc, c)) {
                charge!(cost, ip, regs, acc, fuel, cx);
                next!(cx.code.add(target as usize), regs, mem, acc, fuel, cx)
            }
            next!(ip.add(1), regs, mem, acc, fuel, cx)
        });
    )*};
}

/// Fused compare-and-branch, charged like the jumps above.
macro_rules! compare_jump {
    ($form:ident; $($name:ident: $from:ident $op:tt;)*) => {$(
        handler!($name, Op::$name { a, b, target, fuel: cost }, |ip, regs, mem, acc, fuel, cx| {
            if $from(operand!($form, a, regs, acc, a)) $op $from(operand!($form, b, regs, acc, b)) {
                charge!(cost, ip, regs, acc, fuel, cx);
                next!(cx.code.add(target as usize), regs, mem, acc, fuel, cx)
            }
            next!(ip.add(1), regs, mem, acc, fuel, cx)
        });
    )*};
}

/// Every handler that has an accumulator form, in form `$form`.
macro_rules! accumulator_handlers {
    ($form:ident) => {
        handler!(Copy, Op::Copy { dst, src }, |ip, regs, mem, acc, fuel, cx| {
            let v = operand!($form, a, regs, acc, src);
            r!(regs, dst) = v;
            next!(ip.add(1), regs, mem, v, fuel, cx)
        });

        test_jump! { $form;
            JumpIfZero32: |c: u64| c as u32 == 0;
            JumpIfNonZero32: |c: u64| c as u32 != 0;
            JumpIfZero64: |c: u64| c == 0;
            JumpIfNonZero64: |c: u64| c != 0;
        }

        compare_jump! { $form;
            JumpI32Eq: u32_ ==; JumpI32Ne: u32_ !=; JumpI32LtS: i32_ <; JumpI32LtU: u32_ <;
            JumpI32GtS: i32_ >; JumpI32GtU: u32_ >; JumpI32LeS: i32_ <=; JumpI32LeU: u32_ <=;
            JumpI32GeS: i32_ >=; JumpI32GeU: u32_ >=;
            JumpI64Eq: u64_ ==; JumpI64Ne: u64_ !=; JumpI64LtS: i64_ <; JumpI64LtU: u64_ <;
            JumpI64GtS: i64_ >; JumpI64GtU: u64_ >; JumpI64LeS: i64_ <=; JumpI64LeU: u64_ <=;
            JumpI64GeS: i64_ >=; JumpI64GeU: u64_ >=;
        }

        binary! { $form;
            I32Eq: u32_ -> b2s, |a, b| a == b; I32Ne: u32_ -> b2s, |a, b| a != b;
            I32LtS: i32_ -> b2s, |a, b| a < b; I32LtU: u32_ -> b2s, |a, b| a < b;
            I32GtS: i32_ -> b2s, |a, b| a > b; I32GtU: u32_ -> b2s, |a, b| a > b;
            I32LeS: i32_ -> b2s, |a, b| a <= b; I32LeU: u32_ -> b2s, |a, b| a <= b;
            I32GeS: i32_ -> b2s, |a, b| a >= b; I32GeU: u32_ -> b2s, |a, b| a >= b;
            I64Eq: u64_ -> b2s, |a, b| a == b; I64Ne: u64_ -> b2s, |a, b| a != b;
            I64LtS: i64_ -> b2s, |a, b| a < b; I64LtU: u64_ -> b2s, |a, b| a < b;
            I64GtS: i64_ -> b2s, |a, b| a > b; I64GtU: u64_ -> b2s, |a, b| a > b;
            I64LeS: i64_ -> b2s, |a, b| a <= b; I64LeU: u64_ -> b2s, |a, b| a <= b;
            I64GeS: i64_ -> b2s, |a, b| a >= b; I64GeU: u64_ -> b2s, |a, b| a >= b;
            F32Eq: f32_ -> b2s, |a, b| a == b; F32Ne: f32_ -> b2s, |a, b| a != b;
            F32Lt: f32_ -> b2s, |a, b| a < b; F32Gt: f32_ -> b2s, |a, b| a > b;
            F32Le: f32_ -> b2s, |a, b| a <= b; F32Ge: f32_ -> b2s, |a, b| a >= b;
            F64Eq: f64_ -> b2s, |a, b| a == b; F64Ne: f64_ -> b2s, |a, b| a != b;
            F64Lt: f64_ -> b2s, |a, b| a < b; F64Gt: f64_ -> b2s, |a, b| a > b;
            F64Le: f64_ -> b2s, |a, b| a <= b; F64Ge: f64_ -> b2s, |a, b| a >= b;

            I32Add: u32_ -> s_u32, u32::wrapping_add; I32Sub: u32_ -> s_u32, u32::wrapping_sub;
            I32Mul: u32_ -> s_u32, u32::wrapping_mul;
            I32And: u32_ -> s_u32, |a, b| a & b; I32Or: u32_ -> s_u32, |a, b| a | b;
            I32Xor: u32_ -> s_u32, |a, b| a ^ b;
            I32Shl: u32_ -> s_u32, u32::wrapping_shl; I32ShrU: u32_ -> s_u32, u32::wrapping_shr;
            I32ShrS: i32_ -> s_i32, |a: i32, b: i32| a.wrapping_shr(b as u32);
            I32Rotl: u32_ -> s_u32, u32::rotate_left; I32Rotr: u32_ -> s_u32, u32::rotate_right;
            I64Add: u64_ -> s_u64, u64::wrapping_add; I64Sub: u64_ -> s_u64, u64::wrapping_sub;
            I64Mul: u64_ -> s_u64, u64::wrapping_mul;
            I64And: u64_ -> s_u64, |a, b| a & b; I64Or: u64_ -> s_u64, |a, b| a | b;
            I64Xor: u64_ -> s_u64, |a, b| a ^ b;
            I64Shl: u64_ -> s_u64, |a: u64, b: u64| a.wrapping_shl(b as u32);
            I64ShrS: i64_ -> s_i64, |a: i64, b: i64| a.wrapping_shr(b as u32);
            I64ShrU: u64_ -> s_u64, |a: u64, b: u64| a.wrapping_shr(b as u32);
            I64Rotl: u64_ -> s_u64, |a: u64, b: u64| a.rotate_left((b % 64) as u32);
            I64Rotr: u64_ -> s_u64, |a: u64, b: u64| a.rotate_right((b % 64) as u32);

            F32Add: f32_ -> s_f32, |a, b| a + b; F32Sub: f32_ -> s_f32, |a, b| a - b;
            F32Mul: f32_ -> s_f32, |a, b| a * b; F32Div: f32_ -> s_f32, |a, b| a / b;
            F32Min: f32_ -> s_f32, float::f32_min; F32Max: f32_ -> s_f32, float::f32_max;
            F32Copysign: u32_ -> s_u32, |a: u32, b: u32| (a & 0x7FFF_FFFF) | (b & 0x8000_0000);
            F64Add: f64_ -> s_f64, |a, b| a + b; F64Sub: f64_ -> s_f64, |a, b| a - b;
            F64Mul: f64_ -> s_f64, |a, b| a * b; F64Div: f64_ -> s_f64, |a, b| a / b;
            F64Min: f64_ -> s_f64, float::f64_min; F64Max: f64_ -> s_f64, float::f64_max;
            F64Copysign: u64_ -> s_u64, |a: u64, b: u64| (a & !(1u64 << 63)) | (b & (1u64 << 63));
        }

        binary_try! { $form;
            I32DivS: i32_ -> s_i32, |a: i32, b: i32| if b == 0 {
                Err(Trap::IntegerDivideByZero)
            } else {
                a.checked_div(b).ok_or(Trap::IntegerOverflow)
            };
            I32DivU: u32_ -> s_u32, |a: u32, b: u32| a.checked_div(b).ok_or(Trap::IntegerDivideByZero);
            I32RemS: i32_ -> s_i32, |a: i32, b: i32| if b == 0 { Err(Trap::IntegerDivideByZero) } else { Ok(a.wrapping_rem(b)) };
            I32RemU: u32_ -> s_u32, |a: u32, b: u32| a.checked_rem(b).ok_or(Trap::IntegerDivideByZero);
            I64DivS: i64_ -> s_i64, |a: i64, b: i64| if b == 0 {
                Err(Trap::IntegerDivideByZero)
            } else {
                a.checked_div(b).ok_or(Trap::IntegerOverflow)
            };
            I64DivU: u64_ -> s_u64, |a: u64, b: u64| a.checked_div(b).ok_or(Trap::IntegerDivideByZero);
            I64RemS: i64_ -> s_i64, |a: i64, b: i64| if b == 0 { Err(Trap::IntegerDivideByZero) } else { Ok(a.wrapping_rem(b)) };
            I64RemU: u64_ -> s_u64, |a: u64, b: u64| a.checked_rem(b).ok_or(Trap::IntegerDivideByZero);
        }

        unary! { $form;
            I32Eqz: u32_ -> b2s, |a: u32| a == 0; I64Eqz: u64_ -> b2s, |a: u64| a == 0;
            I32Clz: u32_ -> s_u32, u32::leading_zeros; I32Ctz: u32_ -> s_u32, u32::trailing_zeros;
            I32Popcnt: u32_ -> s_u32, u32::count_ones;
            I64Clz: u64_ -> s_u64, |a: u64| a.leading_zeros() as u64;
            I64Ctz: u64_ -> s_u64, |a: u64| a.trailing_zeros() as u64;
            I64Popcnt: u64_ -> s_u64, |a: u64| a.count_ones() as u64;

            F32Abs: u32_ -> s_u32, |a: u32| a & 0x7FFF_FFFF; F32Neg: u32_ -> s_u32, |a: u32| a ^ 0x8000_0000;
            F32Ceil: f32_ -> s_f32, |a| float::f32_round(a, f32::ceil);
            F32Floor: f32_ -> s_f32, |a| float::f32_round(a, f32::floor);
            F32Trunc: f32_ -> s_f32, |a| float::f32_round(a, f32::trunc);
            F32Nearest: f32_ -> s_f32, |a| float::f32_round(a, float::f32_nearest);
            F32Sqrt: f32_ -> s_f32, f32::sqrt;
            F64Abs: u64_ -> s_u64, |a: u64| a & 0x7FFF_FFFF_FFFF_FFFF;
            F64Neg: u64_ -> s_u64, |a: u64| a ^ 0x8000_0000_0000_0000;
            F64Ceil: f64_ -> s_f64, |a| float::f64_round(a, f64::ceil);
            F64Floor: f64_ -> s_f64, |a| float::f64_round(a, f64::floor);
            F64Trunc: f64_ -> s_f64, |a| float::f64_round(a, f64::trunc);
            F64Nearest: f64_ -> s_f64, |a| float::f64_round(a, float::f64_nearest);
            F64Sqrt: f64_ -> s_f64, f64::sqrt;

            I32WrapI64: u64_ -> s_u32, |a: u64| a as u32;
            I64ExtendI32S: i32_ -> s_i64, |a: i32| a as i64; I64ExtendI32U: u32_ -> s_u64, |a: u32| a as u64;
            F32ConvertI32S: i32_ -> s_f32, |a: i32| a as f32; F32ConvertI32U: u32_ -> s_f32, |a: u32| a as f32;
            F32ConvertI64S: i64_ -> s_f32, |a: i64| a as f32; F32ConvertI64U: u64_ -> s_f32, |a: u64| a as f32;
            F32DemoteF64: f64_ -> s_f32, |a: f64| a as f32;
            F64ConvertI32S: i32_ -> s_f64, |a: i32| a as f64; F64ConvertI32U: u32_ -> s_f64, |a: u32| a as f64;
            F64ConvertI64S: i64_ -> s_f64, |a: i64| a as f64; F64ConvertI64U: u64_ -> s_f64, |a: u64| a as f64;
            F64PromoteF32: f32_ -> s_f64, |a: f32| a as f64;
            // Reinterpretations copy the bits (the upper half of a 32-bit value's slot is zero).
            I32ReinterpretF32: u64_ -> s_u64, |a| a; F32ReinterpretI32: u64_ -> s_u64, |a| a;
            I64ReinterpretF64: u64_ -> s_u64, |a| a; F64ReinterpretI64: u64_ -> s_u64, |a| a;
            I32Extend8S: u32_ -> s_i32, |a: u32| a as i8 as i32; I32Extend16S: u32_ -> s_i32, |a: u32| a as i16 as i32;
            I64Extend8S: u64_ -> s_i64, |a: u64| a as i8 as i64; I64Extend16S: u64_ -> s_i64, |a: u64| a as i16 as i64;
            I64Extend32S: u64_ -> s_i64, |a: u64| a as i32 as i64;
            I32TruncSatF32S: f32_ -> s_i32, |a: f32| a as i32; I32TruncSatF32U: f32_ -> s_u32, |a: f32| a as u32;
            I32TruncSatF64S: f64_ -> s_i32, |a: f64| a as i32; I32TruncSatF64U: f64_ -> s_u32, |a: f64| a as u32;
            I64TruncSatF32S: f32_ -> s_i64, |a: f32| a as i64; I64TruncSatF32U: f32_ -> s_u64, |a: f32| a as u64;
            I64TruncSatF64S: f64_ -> s_i64, |a: f64| a as i64; I64TruncSatF64U: f64_ -> s_u64, |a: f64| a as u64;
        }

        unary_try! { $form;
            I32TruncF32S: f32_ -> s_i32, float::i32_trunc_f32_s; I32TruncF32U: f32_ -> s_u32, float::i32_trunc_f32_u;
            I32TruncF64S: f64_ -> s_i32, float::i32_trunc_f64_s; I32TruncF64U: f64_ -> s_u32, float::i32_trunc_f64_u;
            I64TruncF32S: f32_ -> s_i64, float::i64_trunc_f32_s; I64TruncF32U: f32_ -> s_u64, float::i64_trunc_f32_u;
            I64TruncF64S: f64_ -> s_i64, float::i64_trunc_f64_s; I64TruncF64U: f64_ -> s_u64, float::i64_trunc_f64_u;
        }

        load! { $form;
            I32Load: 4, |b| u32::from_le_bytes(b) as u64; I64Load: 8, u64::from_le_bytes;
            F32Load: 4, |b| u32::from_le_bytes(b) as u64; F64Load: 8, u64::from_le_bytes;
            I32Load8S: 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64; I32Load8U: 1, |b: [u8; 1]| b[0] as u64;
            I32Load16S: 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64; I32Load16U: 2, |b| u16::from_le_bytes(b) as u64;
            I64Load8S: 1, |b: [u8; 1]| b[0] as i8 as i64 as u64; I64Load8U: 1, |b: [u8; 1]| b[0] as u64;
            I64Load16S: 2, |b| i16::from_le_bytes(b) as i64 as u64; I64Load16U: 2, |b| u16::from_le_bytes(b) as u64;
            I64Load32S: 4, |b| i32::from_le_bytes(b) as i64 as u64; I64Load32U: 4, |b| u32::from_le_bytes(b) as u64;
        }

        store! { $form;
            I32Store: 4, |v: u64| (v as u32).to_le_bytes(); F32Store: 4, |v: u64| (v as u32).to_le_bytes();
            I64Store: 8, |v: u64| v.to_le_bytes(); F64Store: 8, |v: u64| v.to_le_bytes();
            I32Store8: 1, |v: u64| [v as u8]; I64Store8: 1, |v: u64| [v as u8];
            I32Store16: 2, |v: u64| (v as u16).to_le_bytes(); I64Store16: 2, |v: u64| (v as u16).to_le_bytes();
            I64Store32: 4, |v: u64| (v as u32).to_le_bytes();
        }
    };
}

/// Every operand from its slot.
mod plain {
    use super::*;
    accumulator_handlers!(plain);
}

/// The first operand from the accumulator.
mod from_a {
    use super::*;
    accumulator_handlers!(from_a);
}

/// The second operand from the accumulator. (`Copy` and the tests on one slot have no
/// second operand: their forms here are the plain ones and are not used.)
#[allow(dead_code)]
mod from_b {
    use super::*;
    accumulator_handlers!(from_b);
}

handler!(Const, Op::Const { dst, value }, |ip, regs, mem, acc, fuel, cx| {
    r!(regs, dst) = value;
    next!(ip.add(1), regs, mem, value, fuel, cx)
});

/// The slot whose value an op leaves in the accumulator, if it sets the accumulator.
pub(crate) fn sets_acc(op: &Op) -> Option<u32> {
    match *op {
        Op::Copy { dst, .. } | Op::Const { dst, .. } => Some(dst),
        _ => op.numeric_result().or_else(|| op.loaded_into()),
    }
}

// ---- Threading ----

/// Picks the handler form that reads operand slot `acc` from the accumulator, if `op`
/// reads that slot and has such a form. (A unary numeric op's `b` is unused and zero; its
/// `from_b` form is the same as its plain one.)
macro_rules! accumulator_form {
    ($op:expr, $acc:expr; $($name:ident($a:ident $(, $b:ident)?))*) => {
        match $op {
            $(
                Op::$name { $a, .. } if $a as u32 == $acc => Some((from_a::$name as Handler, "/acc_a")),
                $(Op::$name { $b, .. } if $b as u32 == $acc => Some((from_b::$name as Handler, "/acc_b")),)?
            )*
            _ => None,
        }
    };
}

macro_rules! define_threading {
    ($($num:ident $code:literal ($($p:ident)*) $r:ident;)*) => {
        for_each_memop!(define_threading [$($num ($($p)*))*]);
    };
    ([$($num:ident ($($p:ident)*))*] $($mem:ident $mcode:literal $align:literal $ty:ident $kind:ident;)*) => {
        impl Inst {
            /// Pairs `op` with its handler. `acc` is the slot whose value is in the
            /// accumulator when `op` runs, if it is only ever reached from an op that
            /// [`sets_acc`].
            pub(crate) fn new(op: Op, acc: Option<u32>) -> Inst {
                Inst { op, handler: Inst::select(op, acc).0 }
            }

            /// The handler of `op` and its form: `""` (every operand from its slot), or
            /// `"/acc_a"`/`"/acc_b"` (that operand from the accumulator).
            fn select(op: Op, acc: Option<u32>) -> (Handler, &'static str) {
                let from_acc = acc.and_then(|s| accumulator_form!(op, s;
                    Copy(src)
                    JumpIfZero32(c) JumpIfNonZero32(c) JumpIfZero64(c) JumpIfNonZero64(c)
                    JumpI32Eq(a, b) JumpI32Ne(a, b) JumpI32LtS(a, b) JumpI32LtU(a, b)
                    JumpI32GtS(a, b) JumpI32GtU(a, b) JumpI32LeS(a, b) JumpI32LeU(a, b)
                    JumpI32GeS(a, b) JumpI32GeU(a, b)
                    JumpI64Eq(a, b) JumpI64Ne(a, b) JumpI64LtS(a, b) JumpI64LtU(a, b)
                    JumpI64GtS(a, b) JumpI64GtU(a, b) JumpI64LeS(a, b) JumpI64LeU(a, b)
                    JumpI64GeS(a, b) JumpI64GeU(a, b)
                    $($num(a, b))*
                    $($mem(addr, r))*
                ));
                if let Some(h) = from_acc {
                    return h;
                }
                let handler: Handler = match op {
                    Op::Unreachable => Unreachable,
                    Op::Fuel(_) => Fuel,
                    Op::Jump { .. } => Jump,
                    Op::JumpIfZero32 { .. } => plain::JumpIfZero32,
                    Op::JumpIfNonZero32 { .. } => plain::JumpIfNonZero32,
                    Op::JumpIfZero64 { .. } => plain::JumpIfZero64,
                    Op::JumpIfNonZero64 { .. } => plain::JumpIfNonZero64,
                    Op::JumpI32Eq { .. } => plain::JumpI32Eq,
                    Op::JumpI32Ne { .. } => plain::JumpI32Ne,
                    Op::JumpI32LtS { .. } => plain::JumpI32LtS,
                    Op::JumpI32LtU { .. } => plain::JumpI32LtU,
                    Op::JumpI32GtS { .. } => plain::JumpI32GtS,
                    Op::JumpI32GtU { .. } => plain::JumpI32GtU,
                    Op::JumpI32LeS { .. } => plain::JumpI32LeS,
                    Op::JumpI32LeU { .. } => plain::JumpI32LeU,
                    Op::JumpI32GeS { .. } => plain::JumpI32GeS,
                    Op::JumpI32GeU { .. } => plain::JumpI32GeU,
                    Op::JumpI64Eq { .. } => plain::JumpI64Eq,
                    Op::JumpI64Ne { .. } => plain::JumpI64Ne,
                    Op::JumpI64LtS { .. } => plain::JumpI64LtS,
                    Op::JumpI64LtU { .. } => plain::JumpI64LtU,
                    Op::JumpI64GtS { .. } => plain::JumpI64GtS,
                    Op::JumpI64GtU { .. } => plain::JumpI64GtU,
                    Op::JumpI64LeS { .. } => plain::JumpI64LeS,
                    Op::JumpI64LeU { .. } => plain::JumpI64LeU,
                    Op::JumpI64GeS { .. } => plain::JumpI64GeS,
                    Op::JumpI64GeU { .. } => plain::JumpI64GeU,
                    Op::BrTable { .. } => BrTable,
                    Op::StepJump32 { how, .. } => STEP32[how as usize],
                    Op::StepJump64 { how, .. } => STEP64[how as usize],
                    Op::Return { n: 0, .. } => Return0,
                    Op::Return { n: 1, .. } => Return1,
                    Op::Return { .. } => Return,
                    Op::Call { .. } => Call,
                    Op::CallImport { .. } => CallImport,
                    Op::CallIndirect { .. } => CallIndirect,
                    Op::Copy { .. } => plain::Copy,
                    Op::Const { .. } => Const,
                    Op::Select { .. } => Select,
                    Op::GlobalGet { .. } => GlobalGet,
                    Op::GlobalSet { .. } => GlobalSet,
                    Op::TableGet { .. } => TableGet,
                    Op::TableSet { .. } => TableSet,
                    Op::TableSize { .. } => TableSize,
                    Op::TableGrow { .. } => TableGrow,
                    Op::TableFill { .. } => TableFill,
                    Op::TableCopy { .. } => TableCopy,
                    Op::TableInit { .. } => TableInit,
                    Op::ElemDrop(_) => ElemDrop,
                    Op::MemorySize { .. } => MemorySize,
                    Op::MemoryGrow { .. } => MemoryGrow,
                    Op::MemoryFill { .. } => MemoryFill,
                    Op::MemoryCopy { .. } => MemoryCopy,
                    Op::MemoryInit { .. } => MemoryInit,
                    Op::DataDrop(_) => DataDrop,
                    Op::RefIsNull { .. } => RefIsNull,
                    Op::RefFunc { .. } => RefFunc,
                    $(Op::$num { .. } => plain::$num,)*
                    $(Op::$mem { .. } => plain::$mem,)*
                };
                (handler, "")
            }
        }

        /// The names of every handler [`Inst::new`] can pick ([`handler_key`]): each op's
        /// plain form and every accumulator form it has. The ops without accumulator forms
        /// are [`OTHER_HANDLERS`]; the numeric ops and loads and stores come from their tables.
        pub(crate) fn all_handler_keys() -> Vec<String> {
            let mut keys: Vec<String> = OTHER_HANDLERS.iter().map(|k| k.to_string()).collect();
            for form in ["", "/acc_a"] {
                for t in ["JumpIfZero32", "JumpIfNonZero32", "JumpIfZero64", "JumpIfNonZero64", "Copy"] {
                    keys.push(format!("{t}{form}"));
                }
            }
            for w in ["32", "64"] {
                for c in ["Eq", "Ne", "LtS", "LtU", "GtS", "GtU", "LeS", "LeU", "GeS", "GeU"] {
                    for form in ["", "/acc_a", "/acc_b"] {
                        keys.push(format!("JumpI{w}{c}{form}"));
                    }
                }
                for how in 0..StepHow::CODES {
                    keys.push(format!("StepJump{w}/{how}"));
                }
            }
            $(for form in handler_forms!($($p)*) {
                if !NOT_EMITTED.contains(&stringify!($num)) {
                    keys.push(format!("{}{form}", stringify!($num)));
                }
            })*
            $(for form in handler_forms!($kind) {
                keys.push(format!("{}{form}", stringify!($mem)));
            })*
            keys
        }
    };
}

/// The forms a numeric op (by its operand types) or a load or store has.
macro_rules! handler_forms {
    ($p:ident) => {
        ["", "/acc_a"].as_slice()
    };
    ($p:ident $q:ident) => {
        ["", "/acc_a", "/acc_b"].as_slice()
    };
    (load) => {
        ["", "/acc_a"].as_slice()
    };
    (store) => {
        ["", "/acc_a", "/acc_b"].as_slice()
    };
}

/// The handlers of ops that have no accumulator form, by name. Keep in step with the
/// `match` of [`Inst::select`]: `tests/native_stack.rs` runs a case for each of these.
const OTHER_HANDLERS: &[&str] = &[
    "Unreachable",
    "Fuel",
    "Jump",
    "BrTable",
    "Return0",
    "Return1",
    "ReturnN",
    "Call",
    "CallImport",
    "CallIndirect",
    "Const",
    "Select",
    "GlobalGet",
    "GlobalSet",
    "TableGet",
    "TableSet",
    "TableSize",
    "TableGrow",
    "TableFill",
    "TableCopy",
    "TableInit",
    "ElemDrop",
    "MemorySize",
    "MemoryGrow",
    "MemoryFill",
    "MemoryCopy",
    "MemoryInit",
    "DataDrop",
    "RefIsNull",
    "RefFunc",
];

/// Numeric ops the translator never emits: the bit-preserving conversions, whose result
/// is already in the operand's slot (`compile.rs`). Their handlers are unreachable.
const NOT_EMITTED: &[&str] =
    &["I64ExtendI32U", "I32ReinterpretF32", "I64ReinterpretF64", "F32ReinterpretI32", "F64ReinterpretI64"];

/// The name of the handler [`Inst::new`] picks for `op` with `acc` in the accumulator:
/// the op's variant, then the `Return` arity class or the `StepJump` test code, then the
/// accumulator form.
pub(crate) fn handler_key(op: Op, acc: Option<u32>) -> String {
    let (_, form) = Inst::select(op, acc);
    let debug = format!("{op:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or_default();
    let detail = match op {
        Op::Return { n: 0, .. } => "0".to_string(),
        Op::Return { n: 1, .. } => "1".to_string(),
        Op::Return { .. } => "N".to_string(),
        Op::StepJump32 { how, .. } | Op::StepJump64 { how, .. } => format!("/{how}"),
        _ => String::new(),
    };
    format!("{name}{detail}{form}")
}
for_each_numeric!(define_threading);

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
