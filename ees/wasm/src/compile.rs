//! Translation of validated function bodies into the internal code ([`crate::code::Op`]).
//!
//! One pass per body: each operator is type-checked with [`TypeStack`] and, when it is
//! reachable, emitted. Forward branches are patched when their block ends. The slot height
//! of the value stack is known statically (locals + operands), so every branch gets its
//! `drop`/`keep` counts here and the interpreter never inspects block structure.

use crate::code::{FuncCode, Op};
use crate::decode::{FuncBody, ModuleDesc, Operator};
use crate::error::Error;
use crate::types::{RefType, ValType};
use crate::validate::{invalid, Context, FrameKind, TypeStack};

type Result<T> = std::result::Result<T, Error>;

/// Compiled code of all defined functions of a module.
#[derive(Debug, Default)]
pub(crate) struct CompiledCode {
    pub ops: Vec<Op>,
    pub funcs: Vec<FuncCode>,
}

/// Validates and translates every function body.
pub(crate) fn compile_module(m: &ModuleDesc, ctx: &Context) -> Result<CompiledCode> {
    let mut out = CompiledCode::default();
    for (i, body) in m.code.iter().enumerate() {
        let func_idx = ctx.num_imported_funcs + i as u32;
        let type_idx = ctx.funcs[func_idx as usize];
        let start = out.ops.len() as u32;
        let (max_height, num_locals) = {
            let mut t = Translator::new(ctx, type_idx, body, &mut out.ops)?;
            t.run(body)?;
            (t.local_types.len() as u32 + t.ts.max_vals as u32, body.locals.len() as u32)
        };
        let ft = ctx.type_at(type_idx)?;
        out.funcs.push(FuncCode { start, num_params: ft.params.len() as u32, num_locals, max_height });
    }
    Ok(out)
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
}

struct Translator<'a> {
    ctx: &'a Context,
    ts: TypeStack,
    ops: &'a mut Vec<Op>,
    labels: Vec<Label>,
    local_types: Vec<ValType>,
    num_results: u32,
}

fn set_target(op: &mut Op, target: u32) {
    match op {
        Op::Jump(t) | Op::JumpIfEqz(t) | Op::JumpIfNez(t) => *t = target,
        Op::Br { target: t, .. } => *t = target,
        _ => {}
    }
}

impl<'a> Translator<'a> {
    fn new(ctx: &'a Context, type_idx: u32, body: &FuncBody, ops: &'a mut Vec<Op>) -> Result<Self> {
        let ft = ctx.type_at(type_idx)?;
        let mut local_types = ft.params.to_vec();
        local_types.extend_from_slice(&body.locals);
        let mut ts = TypeStack::default();
        ts.push_ctrl(FrameKind::Block, vec![], ft.results.to_vec());
        let labels = vec![Label { loop_start: 0, end_patches: vec![], else_patch: None, dead: false }];
        Ok(Translator { ctx, ts, ops, labels, local_types, num_results: ft.results.len() as u32 })
    }

    /// Whether emitted code here could ever run.
    fn live(&self) -> bool {
        !self.ts.is_unreachable() && !self.labels.last().is_some_and(|l| l.dead)
    }

    fn emit(&mut self, op: Op) {
        if self.live() {
            self.ops.push(op);
        }
    }

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    /// Current slot height above the frame base.
    fn height(&self) -> u32 {
        (self.local_types.len() + self.ts.vals.len()) as u32
    }

    fn local(&self, idx: u32) -> Result<ValType> {
        self.local_types.get(idx as usize).copied().ok_or_else(|| Error::Invalid(format!("unknown local {idx}")))
    }

    /// The branch op to label `depth` from the current height (values already popped
    /// by the instruction itself are not counted). Forward targets are registered for patching.
    fn branch_op(&mut self, depth: u32, at: usize) -> Result<Op> {
        let frame = self.ts.label(depth)?;
        let keep = frame.label_types().len() as u32;
        let base = (self.local_types.len() + frame.height) as u32;
        let drop = self.height().saturating_sub(base + keep);
        let li = self.labels.len() - 1 - depth as usize;
        let target = if frame.kind == FrameKind::Loop {
            self.labels[li].loop_start
        } else {
            self.labels[li].end_patches.push(at);
            u32::MAX
        };
        Ok(if drop == 0 { Op::Jump(target) } else { Op::Br { target, drop, keep } })
    }

    fn unary(&mut self, input: ValType, output: ValType, op: Op) -> Result<()> {
        self.ts.pop_expect(input)?;
        self.ts.push(output);
        self.emit(op);
        Ok(())
    }

    fn run(&mut self, body: &FuncBody) -> Result<()> {
        let mut ended = false;
        for op in &body.ops {
            if ended {
                return invalid("operator after end of function");
            }
            ended = self.op(op)?;
        }
        if !ended {
            return invalid("missing end");
        }
        Ok(())
    }

    /// Checks and translates one operator; `true` when the function's body ended.
    fn op(&mut self, op: &Operator) -> Result<bool> {
        use Operator as O;
        let ctx = self.ctx;
        match op {
            O::Unreachable => {
                self.emit(Op::Unreachable);
                self.ts.set_unreachable()?;
            }
            O::Nop => {}
            O::Block(bt) | O::Loop(bt) => {
                let (params, results) = ctx.block_type(*bt)?;
                self.ts.pop_all(&params)?;
                let dead = !self.live();
                let kind = if matches!(op, O::Loop(_)) { FrameKind::Loop } else { FrameKind::Block };
                self.ts.push_ctrl(kind, params, results);
                let loop_start = self.pc();
                self.labels.push(Label { loop_start, end_patches: vec![], else_patch: None, dead });
            }
            O::If(bt) => {
                let (params, results) = ctx.block_type(*bt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_all(&params)?;
                let dead = !self.live();
                let else_patch = if dead {
                    None
                } else {
                    self.ops.push(Op::JumpIfEqz(u32::MAX));
                    Some(self.ops.len() - 1)
                };
                self.ts.push_ctrl(FrameKind::If, params, results);
                self.labels.push(Label { loop_start: 0, end_patches: vec![], else_patch, dead });
            }
            O::Else => {
                let f = self.ts.pop_ctrl()?;
                if f.kind != FrameKind::If {
                    return invalid("else without if");
                }
                // End of the then-branch: jump over the else-branch.
                let live_then = !f.unreachable && !self.labels.last().is_some_and(|l| l.dead);
                if live_then {
                    self.ops.push(Op::Jump(u32::MAX));
                    let at = self.ops.len() - 1;
                    if let Some(l) = self.labels.last_mut() {
                        l.end_patches.push(at);
                    }
                }
                let pc = self.pc();
                if let Some(l) = self.labels.last_mut() {
                    if let Some(p) = l.else_patch.take() {
                        set_target(&mut self.ops[p], pc);
                    }
                }
                self.ts.push_ctrl(FrameKind::Else, f.params, f.results);
            }
            O::End => {
                let f = self.ts.pop_ctrl()?;
                if f.kind == FrameKind::If && f.params != f.results {
                    return invalid("type mismatch");
                }
                let label = self.labels.pop().ok_or_else(|| Error::Invalid("unbalanced end".into()))?;
                let pc = self.pc();
                for p in label.end_patches {
                    set_target(&mut self.ops[p], pc);
                }
                if let Some(p) = label.else_patch {
                    set_target(&mut self.ops[p], pc);
                }
                if self.ts.ctrls.is_empty() {
                    // Function end: results are on top of the frame.
                    self.ops.push(Op::Return(self.num_results));
                    return Ok(true);
                }
                self.ts.push_all(&f.results);
            }
            O::Br(depth) => {
                let types = self.ts.label(*depth)?.label_types().to_vec();
                self.ts.pop_all(&types)?;
                self.ts.push_all(&types);
                if self.live() {
                    let at = self.ops.len();
                    let br = self.branch_op(*depth, at)?;
                    self.ops.push(br);
                }
                self.ts.set_unreachable()?;
            }
            O::BrIf(depth) => {
                self.ts.pop_expect(ValType::I32)?;
                let types = self.ts.label(*depth)?.label_types().to_vec();
                self.ts.pop_all(&types)?;
                self.ts.push_all(&types);
                if self.live() {
                    let at = self.ops.len();
                    let br = self.branch_op(*depth, at)?;
                    match br {
                        Op::Jump(t) => self.ops.push(Op::JumpIfNez(t)),
                        br => {
                            // Skip the stack-adjusting branch when the condition is false.
                            let skip = self.pc() + 2;
                            self.ops.push(Op::JumpIfEqz(skip));
                            let at = self.ops.len();
                            // Re-register the patch position: the Br is one op later.
                            self.relocate_patch(*depth, at - 1, at);
                            self.ops.push(br);
                        }
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
                if self.live() {
                    // Heights are measured with the label values still on the stack.
                    self.ts.push_all(&tys);
                    self.ops.push(Op::BrTable(targets.len() as u32));
                    for &t in targets.iter().chain(std::iter::once(default)) {
                        let at = self.ops.len();
                        let br = self.branch_op(t, at)?;
                        self.ops.push(br);
                    }
                }
                self.ts.set_unreachable()?;
            }
            O::Return => {
                let results = self.ts.ctrls.first().map(|f| f.results.clone()).unwrap_or_default();
                self.ts.pop_all(&results)?;
                self.emit(Op::Return(self.num_results));
                self.ts.set_unreachable()?;
            }
            O::Call(f) => {
                let ft = ctx.func_type(*f)?;
                self.ts.pop_all(&ft.params)?;
                self.ts.push_all(&ft.results);
                if *f < ctx.num_imported_funcs {
                    self.emit(Op::CallImport(*f));
                } else {
                    self.emit(Op::CallInternal(*f - ctx.num_imported_funcs));
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
                self.emit(Op::CallIndirect { ty: *ty, table: *table });
            }
            O::Drop => {
                self.ts.pop()?;
                self.emit(Op::Drop);
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
                self.emit(Op::Select);
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
                self.emit(Op::Select);
            }
            O::LocalGet(i) => {
                let t = self.local(*i)?;
                self.ts.push(t);
                self.emit(Op::LocalGet(*i));
            }
            O::LocalSet(i) => {
                let t = self.local(*i)?;
                self.ts.pop_expect(t)?;
                self.emit(Op::LocalSet(*i));
            }
            O::LocalTee(i) => {
                let t = self.local(*i)?;
                self.unary(t, t, Op::LocalTee(*i))?;
            }
            O::GlobalGet(g) => {
                let gt = *ctx.global(*g)?;
                self.ts.push(gt.ty);
                self.emit(Op::GlobalGet(*g));
            }
            O::GlobalSet(g) => {
                let gt = *ctx.global(*g)?;
                if !gt.mutable {
                    return invalid("global is immutable");
                }
                self.ts.pop_expect(gt.ty)?;
                self.emit(Op::GlobalSet(*g));
            }
            O::TableGet(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.unary(ValType::I32, tt, Op::TableGet(*t))?;
            }
            O::TableSet(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(tt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.emit(Op::TableSet(*t));
            }
            O::TableSize(t) => {
                ctx.table(*t)?;
                self.ts.push(ValType::I32);
                self.emit(Op::TableSize(*t));
            }
            O::TableGrow(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_expect(tt)?;
                self.ts.push(ValType::I32);
                self.emit(Op::TableGrow(*t));
            }
            O::TableFill(t) => {
                let tt = ValType::Ref(ctx.table(*t)?.elem);
                self.ts.pop_expect(ValType::I32)?;
                self.ts.pop_expect(tt)?;
                self.ts.pop_expect(ValType::I32)?;
                self.emit(Op::TableFill(*t));
            }
            O::TableCopy { dst, src } => {
                let d = ctx.table(*dst)?.elem;
                let s = ctx.table(*src)?.elem;
                if d != s {
                    return invalid("type mismatch");
                }
                self.pop_i32s(3)?;
                self.emit(Op::TableCopy { dst: *dst, src: *src });
            }
            O::TableInit { elem, table } => {
                let t = ctx.table(*table)?.elem;
                let e = ctx.elem(*elem)?;
                if t != e {
                    return invalid("type mismatch");
                }
                self.pop_i32s(3)?;
                self.emit(Op::TableInit { table: *table, elem: *elem });
            }
            O::ElemDrop(e) => {
                ctx.elem(*e)?;
                self.emit(Op::ElemDrop(*e));
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
                } else {
                    self.ts.pop_expect(ValType::I32)?;
                    self.ts.push(vt);
                }
                self.emit(op.to_op(*offset));
            }
            O::MemorySize => {
                ctx.mem(0)?;
                self.ts.push(ValType::I32);
                self.emit(Op::MemorySize);
            }
            O::MemoryGrow => {
                ctx.mem(0)?;
                self.unary(ValType::I32, ValType::I32, Op::MemoryGrow)?;
            }
            O::MemoryFill => {
                ctx.mem(0)?;
                self.pop_i32s(3)?;
                self.emit(Op::MemoryFill);
            }
            O::MemoryCopy => {
                ctx.mem(0)?;
                self.pop_i32s(3)?;
                self.emit(Op::MemoryCopy);
            }
            O::MemoryInit(d) => {
                ctx.mem(0)?;
                ctx.data(*d)?;
                self.pop_i32s(3)?;
                self.emit(Op::MemoryInit(*d));
            }
            O::DataDrop(d) => {
                ctx.data(*d)?;
                self.emit(Op::DataDrop(*d));
            }
            O::I32Const(v) => self.konst(ValType::I32, *v as u32 as u64),
            O::I64Const(v) => self.konst(ValType::I64, *v as u64),
            O::F32Const(v) => self.konst(ValType::F32, *v as u64),
            O::F64Const(v) => self.konst(ValType::F64, *v),
            O::RefNull(t) => self.konst(ValType::Ref(*t), 0),
            O::RefIsNull => {
                self.ts.pop_ref()?;
                self.ts.push(ValType::I32);
                self.emit(Op::RefIsNull);
            }
            O::RefFunc(f) => {
                ctx.func_type(*f)?;
                if !ctx.refs.get(*f as usize).copied().unwrap_or(false) {
                    return invalid("undeclared function reference");
                }
                self.ts.push(ValType::FUNCREF);
                self.emit(Op::RefFunc(*f));
            }
            O::Num(n) => {
                let (params, result) = n.signature();
                self.ts.pop_all(params)?;
                self.ts.push(result);
                self.emit(n.to_op());
            }
        }
        Ok(false)
    }

    fn konst(&mut self, t: ValType, bits: u64) {
        self.ts.push(t);
        self.emit(Op::Const(bits));
    }

    fn pop_i32s(&mut self, n: usize) -> Result<()> {
        for _ in 0..n {
            self.ts.pop_expect(ValType::I32)?;
        }
        Ok(())
    }

    /// Moves a registered forward patch from op position `from` to `to`.
    fn relocate_patch(&mut self, depth: u32, from: usize, to: usize) {
        let li = self.labels.len() - 1 - depth as usize;
        if let Some(p) = self.labels[li].end_patches.iter_mut().rev().find(|p| **p == from) {
            *p = to;
        }
    }
}
