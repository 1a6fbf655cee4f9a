//! Translation of validated function bodies into the internal code ([`crate::code::Op`]).
//!
//! One pass per body: each operator is type-checked with [`TypeStack`] and, when it is
//! reachable, translated into register-machine ops over frame slots.
//!
//! - **Static slots.** The operand stack height is known at every instruction, so the value
//!   at depth `d` lives in the frame slot `temps + d` (after the locals and the constant
//!   pool). Ops name their operand and result slots; there is no runtime stack pointer.
//! - **Deferred operands.** `local.get` and constants emit nothing: the translator's
//!   operand stack (`vstack`) records that the value is "in local `i`" or "in constant
//!   slot `k`", and the consuming op reads that slot directly. A value is copied into its
//!   own stack slot only when needed (block boundaries, calls, before its local is
//!   overwritten).
//! - **Result redirection.** `local.set`/`local.tee` right after an op that computed into a
//!   stack slot rewrite that op to write the local instead.
//! - **Fused branches.** An integer comparison or `eqz` consumed by `br_if`/`if` becomes one
//!   compare-and-jump op (for slots below 2^16, which the fused ops hold in 16 bits).
//! - **Fuel per straight-line run.** A `Fuel(n)` op starts every run of code that is only
//!   entered at its top (function entry, branch targets, the fall-through of a conditional
//!   branch); `n` is the number of wasm instructions in the run. A jump to a run pays for
//!   it itself and skips its `Fuel` op (`charge_on_jumps`).
//! - **Bit-preserving conversions** (`i64.extend_i32_u`, the reinterpretations) emit
//!   nothing: a slot already holds the result's bits.
//! - **Loop rotation.** A loop that tests its exit at the top gets the test repeated, negated,
//!   in place of its jump back (`rotate_loops`): one branch op per iteration instead of two.
//! - **Step fusion.** `x = x ± k` followed by a conditional jump on `x` becomes one
//!   `StepJump` op (`fuse_steps`), the usual end of a counted loop.
//!
//! Forward branches are patched when their block ends. Fusion never crosses a branch
//! target: only ops emitted since the last run start (`barrier`) are rewritten.

use std::collections::HashMap;

use crate::code::{FuncCode, Op, StepHow};
use crate::decode::{FuncBody, ModuleDesc, Operator};
use crate::error::Error;
use crate::exec::{handler_key, sets_acc, Inst};
use crate::types::{RefType, ValType};
use crate::validate::{invalid, Context, FrameKind, TypeStack};

type Result<T> = std::result::Result<T, Error>;

/// Most distinct constants a function keeps in its frame (copied in at every call); the
/// rest are materialized with `Op::Const` where used.
const MAX_POOL: usize = 64;

/// Compiled code of all defined functions of a module.
#[derive(Debug, Default)]
pub(crate) struct CompiledCode {
    /// Every function's ops, threaded with their handlers (see `exec/handlers.rs`).
    pub insts: Box<[Inst]>,
    pub funcs: Vec<FuncCode>,
}

/// Validates and translates every function body.
pub(crate) fn compile_module(m: &ModuleDesc, ctx: &Context) -> Result<CompiledCode> {
    let mut ops = Vec::new();
    let mut funcs = Vec::with_capacity(m.code.len());
    for (i, body) in m.code.iter().enumerate() {
        let func_idx = ctx.num_imported_funcs + i as u32;
        let type_idx = ctx.funcs[func_idx as usize];
        let start = ops.len() as u32;
        let (max_height, consts) = {
            let mut t = Translator::new(ctx, type_idx, body, &mut ops)?;
            t.run(body)?;
            (t.temps + t.ts.max_vals as u32, std::mem::take(&mut t.consts))
        };
        let ft = ctx.type_at(type_idx)?;
        charge_on_jumps(&mut ops[start as usize..], start);
        rotate_loops(&mut ops[start as usize..], start);
        fuse_steps(&mut ops[start as usize..], start);
        verify(ctx, m.code.len(), start as usize, &ops[start as usize..], max_height)?;
        funcs.push(FuncCode {
            start,
            num_params: ft.params.len() as u32,
            num_locals: body.locals.len() as u32,
            consts: consts.into_boxed_slice(),
            max_height,
        });
    }
    Ok(CompiledCode { insts: thread(&ops, &funcs), funcs })
}

/// Pairs every op with its handler. An op reached only by falling through from an op that
/// leaves its result in the interpreter's accumulator gets the handler that reads that
/// operand from there (see `exec/handlers.rs`).
fn thread(ops: &[Op], funcs: &[FuncCode]) -> Box<[Inst]> {
    ops.iter().zip(accumulators(ops, funcs)).map(|(op, acc)| Inst::new(*op, acc)).collect()
}

/// Per op, the slot whose value is in the accumulator when it runs, if it is only reached
/// by falling through from an op that [`sets_acc`].
fn accumulators(ops: &[Op], funcs: &[FuncCode]) -> Vec<Option<u32>> {
    let mut entered = entered(ops, 0);
    for f in funcs {
        entered[f.start as usize] = true;
    }
    let mut acc = None;
    let mut accs = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        accs.push(if entered[i] { None } else { acc });
        acc = sets_acc(op);
    }
    accs
}

/// The name of the handler every op of `code` runs with (`exec::handler_key`).
pub(crate) fn handler_keys(code: &CompiledCode) -> Vec<String> {
    let ops: Vec<Op> = code.insts.iter().map(|i| i.op).collect();
    ops.iter().zip(accumulators(&ops, &code.funcs)).map(|(op, acc)| handler_key(*op, acc)).collect()
}

/// Which ops (of `ops`, the code from position `start` on) can be entered other than by
/// falling through from the op before them: jump targets and `br_table` entries. One
/// entry more than `ops`, for a target just past the end.
fn entered(ops: &[Op], start: u32) -> Vec<bool> {
    let mut entered = vec![false; ops.len() + 1];
    for (i, op) in ops.iter().enumerate() {
        let mut op = *op;
        if let Some(&mut t) = target_mut(&mut op) {
            entered[(t.wrapping_sub(start) as usize).min(ops.len())] = true;
        }
        if let Op::BrTable { len, .. } = op {
            for e in &mut entered[(i + 1).min(ops.len())..(i + 2 + len as usize).min(ops.len())] {
                *e = true;
            }
        }
    }
    entered
}

/// Lets every jump to the start of a run charge that run's fuel itself and skip its
/// `Fuel` op (which stays for the code that falls through into the run).
fn charge_on_jumps(ops: &mut [Op], start: u32) {
    for i in 0..ops.len() {
        let mut op = ops[i];
        let Some((target, fuel @ 0)) = jump_parts(&mut op) else { continue };
        if let Some(&Op::Fuel(n)) = target.checked_sub(start).and_then(|t| ops.get(t as usize)) {
            *target += 1;
            *fuel = n;
            ops[i] = op;
        }
    }
}

/// Loop rotation: a loop that tests its exit condition at the top,
///
/// ```text
/// head:   Fuel(f)                      back:      Jump { head + 1, fuel: f }
///         JumpIf<c> { exit + 1, g }    exit = back + 1:  Fuel(g)
///         Fuel(h)
/// body:   ...
/// ```
///
/// gets the test repeated at the bottom instead of the jump back:
/// `back: JumpIf<not c> { body, fuel: f + h }` and `exit: Fuel(f + g)`. Each iteration
/// then runs one branch op instead of two, and pays exactly what it paid before. This
/// needs `exit` to be reached only by falling through from `back` (jumps skip its `Fuel` op).
fn rotate_loops(ops: &mut [Op], start: u32) {
    let mut targeted = entered(ops, start);
    for back in 0..ops.len().saturating_sub(1) {
        let Op::Jump { target: head, fuel: f } = ops[back] else { continue };
        let Some(&test) = head.checked_sub(start).and_then(|h| ops.get(h as usize)) else { continue };
        let Some(mut rotated) = invert(test) else { continue };
        let mut probe = test;
        let Some((&mut exit, &mut g)) = jump_parts(&mut probe) else { continue };
        if exit != start + back as u32 + 2 || ops[back + 1] != Op::Fuel(g) || targeted[back + 1] {
            continue;
        }
        let (body, h) = match ops.get((head - start) as usize + 1) {
            Some(&Op::Fuel(h)) => (head + 2, h),
            _ => (head + 1, 0),
        };
        let (Some(taken), Some(leaving)) = (f.checked_add(h), f.checked_add(g)) else { continue };
        if let Some((target, fuel)) = jump_parts(&mut rotated) {
            (*target, *fuel) = (body, taken);
        }
        ops[back] = rotated;
        ops[back + 1] = Op::Fuel(leaving);
        targeted[(body - start) as usize] = true;
    }
}

/// Checks the invariant the interpreter's unchecked slot accesses rely on: no op of a
/// function touches a slot at or above the function's `max_height`.
///
/// And the invariants its unchecked code fetches rely on: control never leaves the
/// function's code (`start..start + ops.len()` in the module's array): every jump target
/// and `br_table` entry is inside, a `StepJump` (which skips the op after it when not
/// taken) has two ops after it, and the last op does not fall through; and every `Call`
/// names one of the module's `num_funcs` defined functions (the handler looks its callee
/// up without a bounds check).
///
/// A failure is a translator bug, reported as [`Error::Internal`], never as `Invalid`: it
/// says nothing about the module.
fn verify(ctx: &Context, num_funcs: usize, start: usize, ops: &[Op], max_height: u32) -> Result<()> {
    let bug = |what: String| Err(Error::Internal(format!("translator: {what}")));
    let params = |ty: u32| ctx.types.get(ty as usize).map_or(u32::MAX, |t| t.params.len() as u32);
    let range = start..start + ops.len();
    for (i, op) in ops.iter().enumerate() {
        if op.slot_bound(params) > max_height as u64 {
            return bug(format!("{op:?} exceeds the frame of {max_height} slots"));
        }
        let mut op = *op;
        if let Some(&mut t) = target_mut(&mut op) {
            if !range.contains(&(t as usize)) {
                return bug(format!("{op:?} jumps out of its function"));
            }
        }
        match op {
            Op::BrTable { len, .. } if i as u64 + len as u64 + 1 >= ops.len() as u64 => {
                return bug("br_table entries out of the function".into());
            }
            Op::StepJump32 { how, .. } | Op::StepJump64 { how, .. }
                if i + 2 >= ops.len() || how as usize >= StepHow::CODES =>
            {
                return bug(format!("{op:?} at {i} of {}", ops.len()));
            }
            Op::Call { func, .. } if func as usize >= num_funcs => {
                return bug(format!("{op:?} calls beyond the module's {num_funcs} functions"));
            }
            _ => {}
        }
    }
    match ops.last() {
        Some(Op::Return { .. } | Op::Jump { .. } | Op::Unreachable) => Ok(()),
        last => bug(format!("function ends with {last:?}")),
    }
}

/// Where a value on the translator's operand stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V {
    /// In this frame slot: its own stack slot, a local, or a constant-pool slot.
    Slot(u32),
    /// A constant outside the pool, not yet written anywhere.
    Imm(u64),
}

/// A value move on a branch edge.
#[derive(Clone, Copy)]
enum Move {
    Copy(u32, u32),
    Const(u32, u64),
}

/// Compiler-side state of a control frame, parallel to the validator's frames.
struct Label {
    /// Loop: the position branches jump to.
    loop_start: u32,
    /// Ops whose target is this block's end.
    end_patches: Vec<usize>,
    /// The `if`'s conditional jump, retargeted at `else` or `end`.
    else_patch: Option<usize>,
    /// The block was entered in unreachable code: nothing inside is emitted.
    dead: bool,
    /// The rest of this block (of its current arm, for an `if`) cannot run: it follows
    /// the end of an inner block that nothing leaves (neither falling through nor
    /// branching to it). The validator still sees it as reachable; nothing is emitted
    /// or charged until the `else` or the `end`.
    unreached: bool,
}

struct Translator<'a> {
    ctx: &'a Context,
    ts: TypeStack,
    ops: &'a mut Vec<Op>,
    labels: Vec<Label>,
    local_types: Vec<ValType>,
    num_results: u32,
    /// The constant pool and the slot of each pooled constant.
    consts: Vec<u64>,
    const_slots: HashMap<u64, u32>,
    /// First operand-stack slot (locals + constants).
    temps: u32,
    /// Where each operand is (parallel to `ts.vals` while the code is reachable).
    vstack: Vec<V>,
    /// Entries of `vstack` below this depth are in their own stack slots.
    canon: usize,
    /// Per local: how many `vstack` entries still read it.
    pending: Vec<u32>,
    /// The `Fuel` op of the current straight-line run.
    fuel_pos: usize,
    /// Ops before this position belong to an earlier run and are never rewritten.
    barrier: usize,
}

/// A loop's step and its test, `x = x + k` (or `x - k`) followed by a conditional jump on
/// `x`, become one `StepJump` op, which then skips the test (left in place, unreached, so
/// that no position moves). Only when the test is not itself a jump target and every slot
/// fits the op's 16 bits.
fn fuse_steps(ops: &mut [Op], start: u32) {
    let targeted = entered(ops, start);
    for p in 0..ops.len().saturating_sub(1) {
        if targeted[p + 1] {
            continue;
        }
        let (wide, sub, x, k) = match ops[p] {
            Op::I32Add { dst, a, b } if dst == a => (false, false, dst, b),
            Op::I32Add { dst, a, b } if dst == b => (false, false, dst, a),
            Op::I32Sub { dst, a, b } if dst == a => (false, true, dst, b),
            Op::I64Add { dst, a, b } if dst == a => (true, false, dst, b),
            Op::I64Add { dst, a, b } if dst == b => (true, false, dst, a),
            Op::I64Sub { dst, a, b } if dst == a => (true, true, dst, b),
            _ => continue,
        };
        let Some((cmp, limit, target, fuel)) = step_test(ops[p + 1], wide, x) else { continue };
        let (Ok(x), Ok(k), Ok(limit)) = (u16::try_from(x), u16::try_from(k), u16::try_from(limit)) else {
            continue;
        };
        let how = StepHow { cmp, sub }.code();
        ops[p] = if wide {
            Op::StepJump64 { x, k, limit, how, target, fuel }
        } else {
            Op::StepJump32 { x, k, limit, how, target, fuel }
        };
    }
}

/// `op` as the test of a step of slot `x` (64-bit when `wide`): the comparison (with `x`
/// on the left), the other operand's slot, the target and the fuel.
fn step_test(op: Op, wide: bool, x: u32) -> Option<(u8, u32, u32, u32)> {
    use Op as O;
    match (op, wide) {
        (O::JumpIfZero32 { c, target, fuel }, false) | (O::JumpIfZero64 { c, target, fuel }, true) => {
            return (c == x).then_some((StepHow::ZERO, 0, target, fuel));
        }
        (O::JumpIfNonZero32 { c, target, fuel }, false) | (O::JumpIfNonZero64 { c, target, fuel }, true) => {
            return (c == x).then_some((StepHow::NON_ZERO, 0, target, fuel));
        }
        _ => {}
    }
    let c = compare_parts(op).filter(|c| c.wide == wide)?;
    let (a, b) = (c.a as u32, c.b as u32);
    if a == x && b != x {
        Some((c.cmp, b, c.target, c.fuel))
    } else if b == x && a != x {
        Some((SWAPPED[c.cmp as usize], a, c.target, c.fuel))
    } else {
        None
    }
}

/// The target and the fuel charged when jumping, of an op that jumps.
fn jump_parts(op: &mut Op) -> Option<(&mut u32, &mut u32)> {
    use Op as O;
    match op {
        O::Jump { target, fuel }
        | O::JumpIfZero32 { target, fuel, .. }
        | O::JumpIfNonZero32 { target, fuel, .. }
        | O::JumpIfZero64 { target, fuel, .. }
        | O::JumpIfNonZero64 { target, fuel, .. }
        | O::JumpI32Eq { target, fuel, .. }
        | O::JumpI32Ne { target, fuel, .. }
        | O::JumpI32LtS { target, fuel, .. }
        | O::JumpI32LtU { target, fuel, .. }
        | O::JumpI32GtS { target, fuel, .. }
        | O::JumpI32GtU { target, fuel, .. }
        | O::JumpI32LeS { target, fuel, .. }
        | O::JumpI32LeU { target, fuel, .. }
        | O::JumpI32GeS { target, fuel, .. }
        | O::JumpI32GeU { target, fuel, .. }
        | O::JumpI64Eq { target, fuel, .. }
        | O::JumpI64Ne { target, fuel, .. }
        | O::JumpI64LtS { target, fuel, .. }
        | O::JumpI64LtU { target, fuel, .. }
        | O::JumpI64GtS { target, fuel, .. }
        | O::JumpI64GtU { target, fuel, .. }
        | O::JumpI64LeS { target, fuel, .. }
        | O::JumpI64LeU { target, fuel, .. }
        | O::JumpI64GeS { target, fuel, .. }
        | O::JumpI64GeU { target, fuel, .. }
        | O::StepJump32 { target, fuel, .. }
        | O::StepJump64 { target, fuel, .. } => Some((target, fuel)),
        _ => None,
    }
}

fn target_mut(op: &mut Op) -> Option<&mut u32> {
    jump_parts(op).map(|(target, _)| target)
}

/// The conditional jump taken exactly when `op` is not (same operands, target and fuel).
fn invert(op: Op) -> Option<Op> {
    use Op as O;
    match op {
        O::JumpIfZero32 { c, target, fuel } => Some(O::JumpIfNonZero32 { c, target, fuel }),
        O::JumpIfNonZero32 { c, target, fuel } => Some(O::JumpIfZero32 { c, target, fuel }),
        O::JumpIfZero64 { c, target, fuel } => Some(O::JumpIfNonZero64 { c, target, fuel }),
        O::JumpIfNonZero64 { c, target, fuel } => Some(O::JumpIfZero64 { c, target, fuel }),
        _ => {
            let c = compare_parts(op)?;
            compare_op(Compare { cmp: NEGATED[c.cmp as usize], ..c })
        }
    }
}

/// The comparisons' indices in [`StepHow`] order: `Eq, Ne, LtS, LtU, GtS, GtU, LeS, LeU,
/// GeS, GeU`. `NEGATED[i]` holds exactly when `i` does not; `SWAPPED[i]` is `i` with its
/// operands exchanged (`a < b` is `b > a`).
const NEGATED: [u8; 10] = [1, 0, 8, 9, 6, 7, 4, 5, 2, 3];
const SWAPPED: [u8; 10] = [0, 1, 4, 5, 2, 3, 8, 9, 6, 7];

/// A fused compare-and-branch op taken apart.
#[derive(Clone, Copy)]
struct Compare {
    /// Index in [`StepHow`] order.
    cmp: u8,
    /// i64 (else i32).
    wide: bool,
    a: u16,
    b: u16,
    target: u32,
    fuel: u32,
}

/// One table of the comparisons, by index: the numeric op and the compare-and-branch op of
/// each width. It defines `numeric_compare`, `compare_parts` and `compare_op`.
macro_rules! comparisons {
    ($($cmp:literal: $n32:ident $j32:ident $n64:ident $j64:ident;)*) => {
        /// A numeric comparison's index, width and operand slots.
        fn numeric_compare(op: Op) -> Option<(u8, bool, u32, u32)> {
            match op {
                $(
                    Op::$n32 { a, b, .. } => Some(($cmp, false, a, b)),
                    Op::$n64 { a, b, .. } => Some(($cmp, true, a, b)),
                )*
                _ => None,
            }
        }

        fn compare_parts(op: Op) -> Option<Compare> {
            match op {
                $(
                    Op::$j32 { a, b, target, fuel } => Some(Compare { cmp: $cmp, wide: false, a, b, target, fuel }),
                    Op::$j64 { a, b, target, fuel } => Some(Compare { cmp: $cmp, wide: true, a, b, target, fuel }),
                )*
                _ => None,
            }
        }

        fn compare_op(c: Compare) -> Option<Op> {
            let Compare { a, b, target, fuel, .. } = c;
            match (c.cmp, c.wide) {
                $(
                    ($cmp, false) => Some(Op::$j32 { a, b, target, fuel }),
                    ($cmp, true) => Some(Op::$j64 { a, b, target, fuel }),
                )*
                _ => None,
            }
        }
    };
}
comparisons! {
    0: I32Eq JumpI32Eq I64Eq JumpI64Eq;
    1: I32Ne JumpI32Ne I64Ne JumpI64Ne;
    2: I32LtS JumpI32LtS I64LtS JumpI64LtS;
    3: I32LtU JumpI32LtU I64LtU JumpI64LtU;
    4: I32GtS JumpI32GtS I64GtS JumpI64GtS;
    5: I32GtU JumpI32GtU I64GtU JumpI64GtU;
    6: I32LeS JumpI32LeS I64LeS JumpI64LeS;
    7: I32LeU JumpI32LeU I64LeU JumpI64LeU;
    8: I32GeS JumpI32GeS I64GeS JumpI64GeS;
    9: I32GeU JumpI32GeU I64GeU JumpI64GeU;
}

fn set_target(op: &mut Op, target: u32) {
    if let Some(t) = target_mut(op) {
        *t = target;
    }
}

/// The compare-and-jump op for a comparison `cmp` (whose result is the branch condition),
/// jumping when the comparison is `when`.
fn fuse_compare(cmp: Op, when: bool) -> Option<Op> {
    use Op as O;
    let (target, fuel) = (u32::MAX, 0);
    match (cmp, when) {
        (O::I32Eqz { a, .. }, false) => return Some(O::JumpIfNonZero32 { c: a, target, fuel }),
        (O::I32Eqz { a, .. }, true) => return Some(O::JumpIfZero32 { c: a, target, fuel }),
        (O::I64Eqz { a, .. }, false) => return Some(O::JumpIfNonZero64 { c: a, target, fuel }),
        (O::I64Eqz { a, .. }, true) => return Some(O::JumpIfZero64 { c: a, target, fuel }),
        _ => {}
    }
    // Integer comparisons negate exactly: !(a < b) == (a >= b). The fused forms hold
    // 16-bit slots.
    let (cmp, wide, a, b) = numeric_compare(cmp)?;
    let cmp = if when { cmp } else { NEGATED[cmp as usize] };
    let (a, b) = (u16::try_from(a).ok()?, u16::try_from(b).ok()?);
    compare_op(Compare { cmp, wide, a, b, target, fuel })
}

impl<'a> Translator<'a> {
    fn new(ctx: &'a Context, type_idx: u32, body: &FuncBody, ops: &'a mut Vec<Op>) -> Result<Self> {
        let ft = ctx.type_at(type_idx)?;
        let mut local_types = ft.params.to_vec();
        local_types.extend_from_slice(&body.locals);
        let num_locals = local_types.len() as u32;
        // The constant pool: the first distinct constants of the body (by slot bits).
        let mut consts = Vec::new();
        let mut const_slots = HashMap::new();
        for op in &body.ops {
            let bits = match *op {
                Operator::I32Const(v) => v as u32 as u64,
                Operator::I64Const(v) => v as u64,
                Operator::F32Const(v) => v as u64,
                Operator::F64Const(v) => v,
                _ => continue,
            };
            if consts.len() == MAX_POOL {
                break;
            }
            const_slots.entry(bits).or_insert_with(|| {
                consts.push(bits);
                num_locals + consts.len() as u32 - 1
            });
        }
        let temps = num_locals + consts.len() as u32;
        let mut ts = TypeStack::default();
        ts.push_ctrl(FrameKind::Block, vec![], ft.results.to_vec());
        let labels =
            vec![Label { loop_start: 0, end_patches: vec![], else_patch: None, dead: false, unreached: false }];
        let mut t = Translator {
            ctx,
            ts,
            ops,
            labels,
            num_results: ft.results.len() as u32,
            pending: vec![0; local_types.len()],
            local_types,
            consts,
            const_slots,
            temps,
            vstack: Vec::new(),
            canon: 0,
            fuel_pos: usize::MAX - 1,
            barrier: 0,
        };
        t.start_run();
        Ok(t)
    }

    /// Whether emitted code here could ever run.
    fn live(&self) -> bool {
        !self.ts.is_unreachable() && !self.labels.last().is_some_and(|l| l.dead || l.unreached)
    }

    fn emit(&mut self, op: Op) {
        self.ops.push(op);
    }

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    /// Starts a straight-line run here (a branch target or a fall-through after a
    /// conditional branch) and returns its position, where branches should jump.
    fn start_run(&mut self) -> u32 {
        let reuse = self.fuel_pos + 1 == self.ops.len() && self.ops.get(self.fuel_pos) == Some(&Op::Fuel(0));
        if !reuse {
            self.fuel_pos = self.ops.len();
            self.ops.push(Op::Fuel(0));
        }
        self.barrier = self.ops.len();
        self.fuel_pos as u32
    }

    /// Charges one instruction to the current run.
    fn charge(&mut self) {
        if let Some(Op::Fuel(n)) = self.ops.get_mut(self.fuel_pos) {
            *n = n.saturating_add(1);
        }
    }

    fn temp(&self, depth: usize) -> u32 {
        self.temps + depth as u32
    }

    fn local(&self, idx: u32) -> Result<ValType> {
        self.local_types.get(idx as usize).copied().ok_or_else(|| Error::Invalid(format!("unknown local {idx}")))
    }

    fn is_local(&self, slot: u32) -> bool {
        (slot as usize) < self.local_types.len()
    }

    // ---- the operand stack of the translator ----

    fn push_v(&mut self, v: V) {
        if let V::Slot(s) = v {
            if self.is_local(s) {
                self.pending[s as usize] += 1;
            }
        }
        if self.canon == self.vstack.len() && v == V::Slot(self.temp(self.vstack.len())) {
            self.canon += 1;
        }
        self.vstack.push(v);
    }

    /// Pushes a value computed into its own stack slot and returns that slot.
    fn push_temp(&mut self) -> u32 {
        let s = self.temp(self.vstack.len());
        self.push_v(V::Slot(s));
        s
    }

    fn pop_v(&mut self) -> V {
        let v = self.vstack.pop().unwrap_or(V::Imm(0));
        if let V::Slot(s) = v {
            if self.is_local(s) {
                self.pending[s as usize] -= 1;
            }
        }
        self.canon = self.canon.min(self.vstack.len());
        v
    }

    /// Writes entry `d` into its own stack slot.
    fn materialize(&mut self, d: usize) {
        let dst = self.temp(d);
        match self.vstack[d] {
            V::Slot(s) if s == dst => return,
            V::Slot(s) => {
                if self.is_local(s) {
                    self.pending[s as usize] -= 1;
                }
                self.emit(Op::Copy { dst, src: s });
            }
            V::Imm(value) => self.emit(Op::Const { dst, value }),
        }
        self.vstack[d] = V::Slot(dst);
    }

    /// Materializes every entry from depth `from` up.
    fn flush_from(&mut self, from: usize) {
        let len = self.vstack.len();
        for d in from.max(self.canon)..len {
            self.materialize(d);
        }
        if from <= self.canon {
            self.canon = len;
        }
    }

    /// Pops the top `n` operands and returns their slots (constants outside the pool are
    /// written to their stack slots first).
    fn operands<const N: usize>(&mut self) -> [u32; N] {
        let len = self.vstack.len();
        let mut out = [0; N];
        for (i, o) in out.iter_mut().enumerate() {
            let d = len - N + i;
            if let V::Imm(_) = self.vstack[d] {
                self.materialize(d);
            }
            if let V::Slot(s) = self.vstack[d] {
                *o = s;
            }
        }
        for _ in 0..N {
            self.pop_v();
        }
        out
    }

    /// Materializes and pops the top `n` operands; returns the slot of the first.
    fn operands_in_place(&mut self, n: usize) -> u32 {
        let from = self.vstack.len() - n;
        self.flush_from(from);
        for _ in 0..n {
            self.pop_v();
        }
        self.temp(from)
    }

    /// Before local `i` is overwritten: copies it into the stack slot of every entry that
    /// still reads it.
    fn preserve_local(&mut self, i: u32) {
        if self.pending[i as usize] == 0 {
            return;
        }
        for d in 0..self.vstack.len() {
            if self.vstack[d] == V::Slot(i) {
                self.materialize(d);
            }
        }
    }

    /// Whether the last op may still be rewritten.
    fn last_fusable(&self) -> bool {
        self.ops.len() > self.barrier
    }

    /// Stores value `v` (already popped) into local `i`.
    fn write_local(&mut self, i: u32, v: V) {
        self.preserve_local(i);
        match v {
            V::Slot(s) if s == i => {}
            V::Slot(s) => {
                // Redirect the op that just computed `s` (a stack slot) to the local.
                if !self.is_local(s) && s >= self.temps && self.last_fusable() {
                    if let Some(dst) = self.ops.last_mut().and_then(Op::result_slot) {
                        if *dst == s {
                            *dst = i;
                            return;
                        }
                    }
                }
                self.emit(Op::Copy { dst: i, src: s });
            }
            V::Imm(value) => self.emit(Op::Const { dst: i, value }),
        }
    }

    /// The moves that carry the label values of `depth` from the top of the stack to the
    /// label's slots.
    fn branch_moves(&mut self, depth: u32) -> Result<Vec<Move>> {
        let frame = self.ts.label(depth)?;
        let k = frame.label_types().len();
        let base = frame.height;
        let h = self.vstack.len();
        let mut moves = Vec::new();
        for j in 0..k {
            let dst = self.temp(base + j);
            match self.vstack[h - k + j] {
                V::Slot(s) if s == dst => {}
                V::Slot(s) => moves.push(Move::Copy(dst, s)),
                V::Imm(v) => moves.push(Move::Const(dst, v)),
            }
        }
        Ok(moves)
    }

    fn emit_moves(&mut self, moves: &[Move]) {
        for m in moves {
            match *m {
                Move::Copy(dst, src) => self.emit(Op::Copy { dst, src }),
                Move::Const(dst, value) => self.emit(Op::Const { dst, value }),
            }
        }
    }

    /// Emits a jump to label `depth` (patched later for forward labels) and returns its position.
    fn emit_jump_to(&mut self, depth: u32, mut op: Op) -> Result<usize> {
        let frame = self.ts.label(depth)?;
        let li = self.labels.len() - 1 - depth as usize;
        let at = self.ops.len();
        if frame.kind == FrameKind::Loop {
            set_target(&mut op, self.labels[li].loop_start);
        } else {
            self.labels[li].end_patches.push(at);
        }
        self.emit(op);
        Ok(at)
    }

    /// Emits a conditional jump on `cond` (already popped), taken when the condition is
    /// `when`, with an unset target; returns its position. An integer comparison computed
    /// by the previous op is fused into the jump.
    fn emit_cond_jump(&mut self, cond: V, when: bool, fused: Option<Op>) -> usize {
        let op = match (fused, cond) {
            (Some(op), _) => op,
            (None, V::Slot(c)) if when => Op::JumpIfNonZero32 { c, target: u32::MAX, fuel: 0 },
            (None, V::Slot(c)) => Op::JumpIfZero32 { c, target: u32::MAX, fuel: 0 },
            (None, V::Imm(v)) => {
                // A constant condition outside the pool: always or never taken.
                if (v as u32 != 0) == when {
                    Op::Jump { target: u32::MAX, fuel: 0 }
                } else {
                    Op::Fuel(0)
                }
            }
        };
        self.emit(op);
        self.ops.len() - 1
    }

    /// Takes the comparison that computed `cond` off the code, if it was the last op, and
    /// returns the fused jump for it.
    fn take_compare(&mut self, cond: V, when: bool) -> Option<Op> {
        let V::Slot(c) = cond else { return None };
        if c < self.temps || !self.last_fusable() {
            return None;
        }
        let last = *self.ops.last()?;
        let mut probe = last;
        if probe.result_slot().copied() != Some(c) {
            return None;
        }
        let fused = fuse_compare(last, when)?;
        self.ops.pop();
        Some(fused)
    }

    fn run(&mut self, body: &FuncBody) -> Result<()> {
        let mut ended = false;
        for op in &body.ops {
            if ended {
                return invalid("operator after end of function");
            }
            ended = self.op(op)?;
            debug_assert!(ended || !self.live() || self.vstack.len() == self.ts.vals.len());
        }
        if !ended {
            return invalid("missing end");
        }
        Ok(())
    }

    /// After the validator popped a frame or started an else-branch: the translator's
    /// stack becomes the frame's base (all in own slots) plus `ts`'s values above it,
    /// which are in their own slots on every path that reaches here.
    fn resync(&mut self, height: usize) {
        while self.vstack.len() > height {
            self.pop_v();
        }
        while self.vstack.len() < self.ts.vals.len() {
            self.push_temp();
        }
    }

    /// Checks and translates one operator; `true` when the function's body ended.
    fn op(&mut self, op: &Operator) -> Result<bool> {
        use Operator as O;
        let ctx = self.ctx;
        let live = self.live();
        if live && !matches!(op, O::Block(_) | O::Loop(_) | O::Else | O::End) {
            self.charge();
        }
        match op {
            O::Unreachable => {
                if live {
                    self.emit(Op::Unreachable);
                }
                self.ts.set_unreachable()?;
            }
            O::Nop => {}
            O::Block(bt) | O::Loop(bt) => {
                let (params, results) = ctx.block_type(*bt)?;
                self.ts.pop_all(&params)?;
                let is_loop = matches!(op, O::Loop(_));
                let kind = if is_loop { FrameKind::Loop } else { FrameKind::Block };
                if live {
                    self.flush_from(0);
                }
                self.ts.push_ctrl(kind, params, results);
                let loop_start = if live && is_loop { self.start_run() } else { self.pc() };
                self.labels.push(Label {
                    loop_start,
                    end_patches: vec![],
                    else_patch: None,
                    dead: !live,
                    unreached: false,
                });
            }
            O::If(bt) => {
                let (params, results) = ctx.block_type(*bt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_all(&params)?;
                let else_patch = if live {
                    let cond = self.pop_v();
                    // The comparison moves after the copies of the flush: they write only
                    // stack slots below its operands.
                    let fused = self.take_compare(cond, false);
                    self.flush_from(0);
                    let at = self.emit_cond_jump(cond, false, fused);
                    self.start_run();
                    Some(at)
                } else {
                    None
                };
                self.ts.push_ctrl(FrameKind::If, params, results);
                self.labels.push(Label {
                    loop_start: 0,
                    end_patches: vec![],
                    else_patch,
                    dead: !live,
                    unreached: false,
                });
            }
            O::Else => {
                let height = self.ts.ctrls.last().map_or(0, |f| f.height);
                if live {
                    // The then-branch's results into their slots.
                    self.flush_from(height);
                }
                let f = self.ts.pop_ctrl()?;
                if f.kind != FrameKind::If {
                    return invalid("else without if");
                }
                if live {
                    self.emit(Op::Jump { target: u32::MAX, fuel: 0 });
                    let at = self.ops.len() - 1;
                    if let Some(l) = self.labels.last_mut() {
                        l.end_patches.push(at);
                    }
                }
                let else_patch = self.labels.last_mut().and_then(|l| {
                    // The else arm runs whenever the `if` does.
                    l.unreached = false;
                    l.else_patch.take()
                });
                if let Some(p) = else_patch {
                    let pc = self.start_run();
                    set_target(&mut self.ops[p], pc);
                }
                self.ts.push_ctrl(FrameKind::Else, f.params, f.results);
                if self.live() {
                    self.resync(f.height);
                }
            }
            O::End => {
                let height = self.ts.ctrls.last().map_or(0, |f| f.height);
                let is_func_end = self.ts.ctrls.len() == 1;
                let has_branches =
                    self.labels.last().is_some_and(|l| !l.end_patches.is_empty() || l.else_patch.is_some());
                if live && (has_branches || !is_func_end) {
                    // Values reaching the end by falling through go where branches put theirs.
                    self.flush_from(height);
                }
                let f = self.ts.pop_ctrl()?;
                if f.kind == FrameKind::If && f.params != f.results {
                    return invalid("type mismatch");
                }
                let label = self.labels.pop().ok_or_else(|| Error::Invalid("unbalanced end".into()))?;
                let joined = !label.end_patches.is_empty() || label.else_patch.is_some();
                if live && is_func_end {
                    // The final `end` costs 1 when falling through to it; a branch to the
                    // function's label is a return and pays only itself (as `br` does).
                    self.charge();
                }
                if !live && !joined {
                    // Nothing leaves this block: the code after it, up to the enclosing
                    // block's end or else, never runs.
                    if let Some(outer) = self.labels.last_mut() {
                        outer.unreached = true;
                    }
                }
                if joined {
                    let pc = self.start_run();
                    for p in label.end_patches {
                        set_target(&mut self.ops[p], pc);
                    }
                    if let Some(p) = label.else_patch {
                        set_target(&mut self.ops[p], pc);
                    }
                }
                if self.ts.ctrls.is_empty() {
                    // Function end: return the results (the `end` was charged above if
                    // falling through reaches it).
                    if live || joined {
                        self.ts.push_all(&f.results);
                        if joined {
                            // The values are in the stack slots from 0 on every path.
                            self.resync(0);
                        }
                        self.emit_return();
                    }
                    return Ok(true);
                }
                self.ts.push_all(&f.results);
                if self.live() {
                    self.resync(f.height);
                }
            }
            O::Br(depth) => {
                let types = self.ts.label(*depth)?.label_types().to_vec();
                self.ts.pop_all(&types)?;
                self.ts.push_all(&types);
                if live {
                    if *depth as usize == self.ts.ctrls.len() - 1 {
                        // A branch to the function's end is a return.
                        self.emit_return();
                    } else {
                        let moves = self.branch_moves(*depth)?;
                        self.emit_moves(&moves);
                        self.emit_jump_to(*depth, Op::Jump { target: u32::MAX, fuel: 0 })?;
                    }
                }
                self.ts.set_unreachable()?;
            }
            O::BrIf(depth) => {
                self.ts.pop_expect(ValType::I32)?;
                let types = self.ts.label(*depth)?.label_types().to_vec();
                self.ts.pop_all(&types)?;
                self.ts.push_all(&types);
                if live {
                    let cond = self.pop_v();
                    let moves = self.branch_moves(*depth)?;
                    if moves.is_empty() {
                        let fused = self.take_compare(cond, true);
                        let at = self.emit_cond_jump(cond, true, fused);
                        let op = self.ops.pop().unwrap_or(Op::Unreachable);
                        debug_assert_eq!(at, self.ops.len());
                        if op == Op::Fuel(0) {
                            self.start_run();
                        } else {
                            self.emit_jump_to(*depth, op)?;
                            self.start_run();
                        }
                    } else {
                        let fused = self.take_compare(cond, false);
                        let skip = self.emit_cond_jump(cond, false, fused);
                        self.emit_moves(&moves);
                        self.emit_jump_to(*depth, Op::Jump { target: u32::MAX, fuel: 0 })?;
                        let pc = self.start_run();
                        set_target(&mut self.ops[skip], pc);
                    }
                }
            }
            O::BrTable(targets, default) => {
                self.ts.pop_expect(ValType::I32)?;
                let arity = self.ts.label(*default)?.label_types().len();
                for &t in targets.iter() {
                    let tys = self.ts.label(t)?.label_types().to_vec();
                    if tys.len() != arity {
                        return invalid("type mismatch");
                    }
                    // Pop and push back what was popped: unknown operands stay unknown.
                    let popped = self.ts.pop_vals(&tys)?;
                    for t in popped {
                        self.ts.push_opt(t);
                    }
                }
                let tys = self.ts.label(*default)?.label_types().to_vec();
                self.ts.pop_all(&tys)?;
                if live {
                    // Heights are measured with the label values still on the stack.
                    self.ts.push_all(&tys);
                    let [idx] = self.operands::<1>();
                    self.emit(Op::BrTable { idx, len: targets.len() as u32 });
                    let all: Vec<u32> = targets.iter().chain(std::iter::once(default)).copied().collect();
                    let mut trampolines = Vec::new();
                    for &t in &all {
                        let moves = self.branch_moves(t)?;
                        if moves.is_empty() {
                            self.emit_jump_to(t, Op::Jump { target: u32::MAX, fuel: 0 })?;
                        } else {
                            trampolines.push((self.ops.len(), t, moves));
                            self.emit(Op::Jump { target: u32::MAX, fuel: 0 });
                        }
                    }
                    // Entries that move values jump to a stub: moves, then the jump.
                    for (entry, t, moves) in trampolines {
                        let pc = self.pc();
                        set_target(&mut self.ops[entry], pc);
                        self.emit_moves(&moves);
                        self.emit_jump_to(t, Op::Jump { target: u32::MAX, fuel: 0 })?;
                    }
                }
                self.ts.set_unreachable()?;
            }
            O::Return => {
                let results = self.ts.ctrls.first().map(|f| f.results.clone()).unwrap_or_default();
                self.ts.pop_all(&results)?;
                if live {
                    self.ts.push_all(&results);
                    self.emit_return();
                }
                self.ts.set_unreachable()?;
            }
            O::Call(f) => {
                let ft = ctx.func_type(*f)?;
                self.ts.pop_all(&ft.params)?;
                self.ts.push_all(&ft.results);
                if live {
                    let base = self.operands_in_place(ft.params.len());
                    if *f < ctx.num_imported_funcs {
                        self.emit(Op::CallImport { func: *f, base });
                    } else {
                        self.emit(Op::Call { func: *f - ctx.num_imported_funcs, base });
                    }
                    for _ in 0..ft.results.len() {
                        self.push_temp();
                    }
                }
            }
            O::CallIndirect { ty, table } => {
                let t = ctx.table(*table)?;
                if t.elem != RefType::Func {
                    return invalid("type mismatch");
                }
                let ft = ctx.type_at(*ty)?;
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_all(&ft.params)?;
                self.ts.push_all(&ft.results);
                if live {
                    let base = self.operands_in_place(ft.params.len() + 1);
                    self.emit(Op::CallIndirect { ty: *ty, table: *table, base });
                    for _ in 0..ft.results.len() {
                        self.push_temp();
                    }
                }
            }
            O::Drop => {
                self.ts.pop()?;
                if live {
                    self.pop_v();
                }
            }
            O::Select(None) => {
                self.ts.pop_expect(ValType::I32)?;
                let t1 = self.ts.pop()?;
                let t2 = self.ts.pop()?;
                let is_num = |t: Option<ValType>| !matches!(t, Some(ValType::Ref(_)));
                if !is_num(t1) || !is_num(t2) {
                    return invalid("type mismatch");
                }
                let t = match (t1, t2) {
                    (Some(a), Some(b)) if a != b => return invalid("type mismatch"),
                    (Some(a), _) => Some(a),
                    (None, b) => b,
                };
                self.ts.push_opt(t);
                if live {
                    self.select();
                }
            }
            O::Select(Some(tys)) => {
                if tys.len() != 1 {
                    return invalid("invalid result arity");
                }
                let t = tys[0];
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_expect(t)?;
                self.ts.pop_expect(t)?;
                self.ts.push(t);
                if live {
                    self.select();
                }
            }
            O::LocalGet(i) => {
                let t = self.local(*i)?;
                self.ts.push(t);
                if live {
                    self.push_v(V::Slot(*i));
                }
            }
            O::LocalSet(i) => {
                let t = self.local(*i)?;
                self.ts.pop_expect(t)?;
                if live {
                    let v = self.pop_v();
                    self.write_local(*i, v);
                }
            }
            O::LocalTee(i) => {
                let t = self.local(*i)?;
                self.ts.pop_expect(t)?;
                self.ts.push(t);
                if live {
                    let v = self.pop_v();
                    self.write_local(*i, v);
                    self.push_v(V::Slot(*i));
                }
            }
            O::GlobalGet(g) => {
                let gt = *ctx.global(*g)?;
                self.ts.push(gt.ty);
                if live {
                    let dst = self.push_temp();
                    self.emit(Op::GlobalGet { dst, global: *g });
                }
            }
            O::GlobalSet(g) => {
                let gt = *ctx.global(*g)?;
                if !gt.mutable {
                    return invalid("global is immutable");
                }
                self.ts.pop_expect(gt.ty)?;
                if live {
                    let [src] = self.operands::<1>();
                    self.emit(Op::GlobalSet { src, global: *g });
                }
            }
            O::TableGet(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(ValType::I32)?;
                self.ts.push(tt);
                self.in_place(1, 1, |base| Op::TableGet { table: *t, base });
            }
            O::TableSet(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(tt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.in_place(2, 0, |base| Op::TableSet { table: *t, base });
            }
            O::TableSize(t) => {
                ctx.table(*t)?;
                self.ts.push(ValType::I32);
                if live {
                    let dst = self.push_temp();
                    self.emit(Op::TableSize { table: *t, dst });
                }
            }
            O::TableGrow(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_expect(tt)?;
                self.ts.push(ValType::I32);
                self.in_place(2, 1, |base| Op::TableGrow { table: *t, base });
            }
            O::TableFill(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_expect(tt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.in_place(3, 0, |base| Op::TableFill { table: *t, base });
            }
            O::TableCopy { dst, src } => {
                let d = ctx.table(*dst)?.elem;
                let s = ctx.table(*src)?.elem;
                if d != s {
                    return invalid("type mismatch");
                }
                self.pop_i32s(3)?;
                self.in_place(3, 0, |base| Op::TableCopy { dst: *dst, src: *src, base });
            }
            O::TableInit { elem, table } => {
                let t = ctx.table(*table)?.elem;
                let e = ctx.elem(*elem)?;
                if t != e {
                    return invalid("type mismatch");
                }
                self.pop_i32s(3)?;
                self.in_place(3, 0, |base| Op::TableInit { table: *table, elem: *elem, base });
            }
            O::ElemDrop(e) => {
                ctx.elem(*e)?;
                if live {
                    self.emit(Op::ElemDrop(*e));
                }
            }
            O::Mem { op, align, offset } => {
                ctx.mem(0)?;
                if *align > op.natural_align() {
                    return invalid("alignment must not be larger than natural");
                }
                let vt = op.value_type();
                if op.is_store() {
                    self.ts.pop_expect(vt)?;
                    self.ts.pop_expect(ValType::I32)?;
                    if live {
                        let [addr, value] = self.operands::<2>();
                        self.emit(op.to_op(value, addr, *offset));
                    }
                } else {
                    self.ts.pop_expect(ValType::I32)?;
                    self.ts.push(vt);
                    if live {
                        let [addr] = self.operands::<1>();
                        let dst = self.push_temp();
                        self.emit(op.to_op(dst, addr, *offset));
                    }
                }
            }
            O::MemorySize => {
                ctx.mem(0)?;
                self.ts.push(ValType::I32);
                if live {
                    let dst = self.push_temp();
                    self.emit(Op::MemorySize { dst });
                }
            }
            O::MemoryGrow => {
                ctx.mem(0)?;
                self.ts.pop_expect(ValType::I32)?;
                self.ts.push(ValType::I32);
                self.in_place(1, 1, |base| Op::MemoryGrow { base });
            }
            O::MemoryFill => {
                ctx.mem(0)?;
                self.pop_i32s(3)?;
                self.in_place(3, 0, |base| Op::MemoryFill { base });
            }
            O::MemoryCopy => {
                ctx.mem(0)?;
                self.pop_i32s(3)?;
                self.in_place(3, 0, |base| Op::MemoryCopy { base });
            }
            O::MemoryInit(d) => {
                ctx.mem(0)?;
                ctx.data(*d)?;
                self.pop_i32s(3)?;
                self.in_place(3, 0, |base| Op::MemoryInit { seg: *d, base });
            }
            O::DataDrop(d) => {
                ctx.data(*d)?;
                if live {
                    self.emit(Op::DataDrop(*d));
                }
            }
            O::I32Const(v) => self.konst(ValType::I32, *v as u32 as u64),
            O::I64Const(v) => self.konst(ValType::I64, *v as u64),
            O::F32Const(v) => self.konst(ValType::F32, *v as u64),
            O::F64Const(v) => self.konst(ValType::F64, *v),
            O::RefNull(t) => self.konst(ValType::Ref(*t), 0),
            O::RefIsNull => {
                self.ts.pop_ref()?;
                self.ts.push(ValType::I32);
                if live {
                    let [a] = self.operands::<1>();
                    let dst = self.push_temp();
                    self.emit(Op::RefIsNull { dst, a });
                }
            }
            O::RefFunc(f) => {
                ctx.func_type(*f)?;
                if !ctx.refs.get(*f as usize).copied().unwrap_or(false) {
                    return invalid("undeclared function reference");
                }
                self.ts.push(ValType::FUNCREF);
                if live {
                    let dst = self.push_temp();
                    self.emit(Op::RefFunc { dst, func: *f });
                }
            }
            O::Num(n) => {
                let (params, result) = n.signature();
                self.ts.pop_all(params)?;
                self.ts.push(result);
                if live && n.keeps_bits() {
                    // The result is the operand's slot value: no code.
                    let v = self.pop_v();
                    self.push_v(v);
                } else if live {
                    let (a, b) = if params.len() == 2 {
                        let [a, b] = self.operands::<2>();
                        (a, b)
                    } else {
                        let [a] = self.operands::<1>();
                        (a, 0)
                    };
                    let dst = self.push_temp();
                    self.emit(n.to_op(dst, a, b));
                }
            }
        }
        Ok(false)
    }

    /// Returns the function's results from the top of the stack.
    fn emit_return(&mut self) {
        let n = self.num_results as usize;
        let src = match n {
            0 => 0,
            1 => {
                let [s] = self.operands::<1>();
                self.push_v(V::Slot(s));
                s
            }
            _ => {
                let from = self.vstack.len() - n;
                self.flush_from(from);
                self.temp(from)
            }
        };
        self.emit(Op::Return { src, n: n as u32 });
    }

    fn select(&mut self) {
        let base = self.operands_in_place(3);
        self.emit(Op::Select { base });
        self.push_temp();
    }

    /// An op taking `n` operands in consecutive slots and leaving `results` (0 or 1) there.
    fn in_place(&mut self, n: usize, results: usize, op: impl FnOnce(u32) -> Op) {
        if !self.live() {
            return;
        }
        let base = self.operands_in_place(n);
        self.emit(op(base));
        for _ in 0..results {
            self.push_temp();
        }
    }

    fn konst(&mut self, t: ValType, bits: u64) {
        self.ts.push(t);
        if self.live() {
            let v = match self.const_slots.get(&bits) {
                Some(&s) => V::Slot(s),
                None => V::Imm(bits),
            };
            self.push_v(v);
        }
    }

    fn pop_i32s(&mut self, n: usize) -> Result<()> {
        for _ in 0..n {
            self.ts.pop_expect(ValType::I32)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! `verify` is the one guard of the interpreter's unchecked accesses: these tests
    //! hand-corrupt translated code and require it to reject each kind of corruption (as
    //! an internal error), and run random corruptions it accepts (run them under valgrind:
    //! see the crate README).
    use std::sync::Arc;

    use super::*;
    use crate::decode::decode;
    use crate::module::{Module, ModuleInner};
    use crate::validate::validate_module;

    /// Two functions: a callee and one with a counted loop (a `StepJump`), a call, a
    /// store, `br_table` and `call_indirect`.
    const TEXT: &str = r#"(module (memory 1) (table 2 funcref) (elem (i32.const 0) $sq)
      (type $t (func (param i32) (result i32)))
      (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
      (func (export "f") (param $n i32) (result i32) (local $i i32) (local $acc i32)
        (block $out (loop $l
          (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (call $sq (local.get $i))))
          (i32.store (i32.const 0) (local.get $acc))
          (local.set $acc (i32.add (local.get $acc) (i32.load (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
        (block $a (block $b (block $c
          (br_table $a $b $c (local.get $n)))
          (local.set $acc (i32.const 1)))
          (local.set $acc (call_indirect (type $t) (local.get $acc) (i32.const 0))))
        (local.get $acc)))"#;

    fn translated() -> (ModuleDesc, Context, CompiledCode, Vec<Op>) {
        let buf = wast::parser::ParseBuffer::new(TEXT).expect("lex");
        let bytes = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse").encode().expect("encode");
        let desc = decode(&bytes).expect("decode");
        let ctx = validate_module(&desc).expect("validate");
        let code = compile_module(&desc, &ctx).expect("compile");
        let ops = code.insts.iter().map(|i| i.op).collect();
        (desc, ctx, code, ops)
    }

    /// Verifies function `f` of the (possibly corrupted) `ops`.
    fn check(ctx: &Context, code: &CompiledCode, ops: &[Op], f: usize) -> Result<()> {
        let fc = &code.funcs[f];
        let end = code.funcs.get(f + 1).map_or(ops.len(), |n| n.start as usize);
        verify(ctx, code.funcs.len(), fc.start as usize, &ops[fc.start as usize..end], fc.max_height)
    }

    /// Points one slot operand of `op` at `slot`, for the op kinds that have one.
    fn set_slot(op: &mut Op, slot: u32) -> bool {
        if let Some(r) = op.result_slot() {
            *r = slot;
            return true;
        }
        let s16 = slot.min(u16::MAX as u32) as u16;
        match op {
            Op::Return { src, n } if *n > 0 => *src = slot,
            Op::Call { base, .. } | Op::CallIndirect { base, .. } | Op::Select { base } => *base = slot,
            Op::Copy { src, .. } | Op::GlobalSet { src, .. } => *src = slot,
            Op::BrTable { idx, .. } => *idx = slot,
            Op::JumpIfZero32 { c, .. } | Op::JumpIfNonZero32 { c, .. } => *c = slot,
            Op::StepJump32 { limit, .. } | Op::StepJump64 { limit, .. } => *limit = s16,
            Op::JumpI32GeU { a, .. } | Op::JumpI32LtU { a, .. } | Op::JumpI32LtS { a, .. } => *a = s16,
            Op::I32Store { r, .. } => *r = slot,
            _ => return false,
        }
        true
    }

    fn rejected(r: Result<()>, what: &str, op: &Op) -> String {
        match r {
            Err(Error::Internal(m)) => m,
            other => panic!("{what} of {op:?} not rejected as internal: {other:?}"),
        }
    }

    #[test]
    fn verify_accepts_the_translation_and_rejects_each_kind_of_corruption() {
        let (_, ctx, code, ops) = translated();
        assert!(code.funcs.len() == 2 && code.funcs[1].start > 0);
        for f in 0..2 {
            check(&ctx, &code, &ops, f).expect("the translator's own code verifies");
        }
        let f = 1;
        let fc = &code.funcs[1];
        let (start, end, h) = (fc.start as usize, ops.len(), fc.max_height);
        let body = &ops[start..end];
        for kind in ["StepJump", "Call {", "BrTable", "CallIndirect", "I32Store", "Return"] {
            assert!(body.iter().any(|op| format!("{op:?}").starts_with(kind)), "no {kind} in\n{body:#?}");
        }
        let mut kinds = 0;
        for i in start..end {
            // A slot at or past the frame.
            let mut bad = ops.clone();
            if set_slot(&mut bad[i], h.max(u16::MAX as u32 + 1)) || set_slot(&mut bad[i], h) {
                // (A `StepJump`'s 16-bit slots are corrupted to 65535, still past this frame.)
                let m = rejected(check(&ctx, &code, &bad, f), "a slot out of the frame", &ops[i]);
                assert!(m.contains("exceeds the frame"), "{m}");
                kinds += 1;
            }
            // A jump out of the function, either way.
            for t in [start as u32 - 1, end as u32, u32::MAX] {
                let mut bad = ops.clone();
                if let Some(target) = target_mut(&mut bad[i]) {
                    *target = t;
                    let m = rejected(check(&ctx, &code, &bad, f), "a jump out", &ops[i]);
                    assert!(m.contains("jumps out of its function"), "{m}");
                    kinds += 1;
                }
            }
            let mut bad = ops.clone();
            match ops[i] {
                Op::BrTable { idx, .. } => {
                    for l in [(end - i) as u32 - 1, u32::MAX] {
                        bad[i] = Op::BrTable { idx, len: l };
                        let m = rejected(check(&ctx, &code, &bad, f), "br_table entries out", &ops[i]);
                        assert!(m.contains("br_table entries"), "{m}");
                        kinds += 1;
                    }
                }
                Op::Call { base, .. } => {
                    bad[i] = Op::Call { func: code.funcs.len() as u32, base };
                    let m = rejected(check(&ctx, &code, &bad, f), "a call beyond the functions", &ops[i]);
                    assert!(m.contains("calls beyond"), "{m}");
                    kinds += 1;
                }
                Op::StepJump32 { .. } | Op::StepJump64 { .. } => {
                    if let Op::StepJump32 { how, .. } | Op::StepJump64 { how, .. } = &mut bad[i] {
                        *how = StepHow::CODES as u8;
                    }
                    let m = rejected(check(&ctx, &code, &bad, f), "an unknown step test", &ops[i]);
                    assert!(m.contains("StepJump"), "{m}");
                    // Not taken, it skips the op after it: two must follow. Cut the function
                    // to end right after the step's test, with a return in its place.
                    // (Jumps past the cut go to the function's start instead.)
                    let mut cut: Vec<Op> = ops[..=i + 1].to_vec();
                    cut[i + 1] = Op::Return { src: 0, n: 0 };
                    for op in &mut cut {
                        if let Some(t) = target_mut(op).filter(|t| **t as usize > i + 1) {
                            *t = start as u32;
                        }
                    }
                    let r = verify(&ctx, 2, start, &cut[start..], h);
                    let m = rejected(r, "a step jump that can run off the end", &ops[i]);
                    assert!(m.contains("StepJump"), "{m}");
                    kinds += 2;
                }
                _ => {}
            }
        }
        // Falling off the end: the last op replaced by one that falls through.
        for last in [Op::Fuel(1), Op::Copy { dst: 0, src: 0 }, Op::BrTable { idx: 0, len: 0 }] {
            let mut bad = ops.clone();
            bad[end - 1] = last;
            let m = rejected(check(&ctx, &code, &bad, f), "falling off the end", &last);
            assert!(m.contains("function ends with") || m.contains("br_table entries"), "{m}");
            kinds += 1;
        }
        assert!(kinds >= 40, "only {kinds} corruptions tried");
    }

    /// Random corruptions of the translated code: each one `verify` accepts must run
    /// without touching memory outside the interpreter's buffers (which only a memory
    /// checker sees: run under valgrind, see the README). `WASM_CODE_MUTANTS` sets the count.
    #[test]
    fn corrupted_code_that_verify_accepts_runs_safely() {
        let (desc, ctx, code, ops) = translated();
        let n: u64 = std::env::var("WASM_CODE_MUTANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |m: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % m.max(1)
        };
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..n {
            let mut bad = ops.clone();
            let len = bad.len() as u64;
            for _ in 0..1 + next(3) {
                let i = next(len) as usize;
                let h = code.funcs.iter().map(|f| f.max_height).max().unwrap_or(0) as u64;
                match next(6) {
                    0 => {
                        set_slot(&mut bad[i], next(h + 3) as u32);
                    }
                    1 => {
                        if let Some(t) = target_mut(&mut bad[i]) {
                            *t = next(len + 3) as u32;
                        }
                    }
                    2 => bad[i] = ops[next(len) as usize],
                    3 => bad.swap(i, next(len) as usize),
                    4 => match &mut bad[i] {
                        Op::Call { func, .. } => *func = next(4) as u32,
                        Op::BrTable { len: l, .. } => *l = next(6) as u32,
                        Op::Return { n, .. } => *n = next(3) as u32,
                        _ => {}
                    },
                    _ => {
                        let j = next(len) as usize;
                        bad[i] = bad[j];
                    }
                }
            }
            // Every jump pays at least 1, so that corrupted control flow cannot loop unmetered.
            for op in &mut bad {
                if let Some((_, fuel)) = jump_parts(op) {
                    *fuel = (*fuel).max(1);
                }
            }
            if (0..code.funcs.len()).any(|f| check(&ctx, &code, &bad, f).is_err()) {
                rejected += 1;
                continue;
            }
            accepted += 1;
            let funcs: Vec<FuncCode> = code.funcs.to_vec();
            let compiled = CompiledCode { insts: thread(&bad, &funcs), funcs };
            let module = Module { inner: Arc::new(ModuleInner { desc: desc.clone(), code: compiled }) };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut store = crate::Store::default();
                let inst = crate::Linker::new().instantiate(&mut store, &module).expect("instantiate");
                let Some(crate::Extern::Func(func)) = store.export(inst.instance, "f") else { panic!("no export") };
                let limits = crate::StackLimits { max_value_stack: 1 << 12, max_call_depth: 64 };
                let mut fuel = 10_000;
                // Any result or trap will do: the point is what the run touches.
                let _ = crate::invoke(&mut store, func, &[crate::Value::I32(5)], &mut fuel, limits, &mut |_, _, _| {
                    Ok(vec![])
                });
            }));
            drop(run);
        }
        assert!(accepted > 0 && rejected > 0, "accepted {accepted}, rejected {rejected}");
    }
}
