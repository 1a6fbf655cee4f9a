//! Validation: the spec's module rules and its type-checking algorithm (operand stack with
//! unknown types after `unreachable`, control frames with multi-value block types).
//!
//! [`TypeStack`] is the per-function checker; [`crate::compile`] drives it instruction by
//! instruction and reads its heights to lay out branches.

use crate::decode::{BlockType, ConstExpr, ImportDesc, ModuleDesc, Operator, SegmentMode};
use crate::error::Error;
use crate::types::{ExternKind, FuncType, GlobalType, Limits, MemType, RefType, TableType, ValType};

type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}

/// Largest memory in pages (4 GiB).
pub const MAX_PAGES: u32 = 65536;

/// The module-level context `C` of the spec.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub types: Vec<FuncType>,
    /// Type index of every function, imports first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub mems: Vec<MemType>,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    pub elems: Vec<RefType>,
    pub data_count: Option<u32>,
    /// Functions that may be named by `ref.func` in code (declared outside function bodies).
    pub refs: Vec<bool>,
}

impl Context {
    pub fn func_type(&self, func: u32) -> Result<&FuncType> {
        let ty = *self.funcs.get(func as usize).ok_or_else(|| Error::Invalid(format!("unknown function {func}")))?;
        self.type_at(ty)
    }

    pub fn type_at(&self, ty: u32) -> Result<&FuncType> {
        self.types.get(ty as usize).ok_or_else(|| Error::Invalid(format!("unknown type {ty}")))
    }

    pub fn table(&self, t: u32) -> Result<&TableType> {
        self.tables.get(t as usize).ok_or_else(|| Error::Invalid(format!("unknown table {t}")))
    }

    pub fn mem(&self, m: u32) -> Result<&MemType> {
        self.mems.get(m as usize).ok_or_else(|| Error::Invalid(format!("unknown memory {m}")))
    }

    pub fn global(&self, g: u32) -> Result<&GlobalType> {
        self.globals.get(g as usize).ok_or_else(|| Error::Invalid(format!("unknown global {g}")))
    }

    pub fn elem(&self, e: u32) -> Result<RefType> {
        self.elems.get(e as usize).copied().ok_or_else(|| Error::Invalid(format!("unknown elem segment {e}")))
    }

    pub fn data(&self, d: u32) -> Result<()> {
        match self.data_count {
            Some(n) if d < n => Ok(()),
            _ => invalid(format!("unknown data segment {d}")),
        }
    }

    /// Parameter and result types of a block type.
    pub fn block_type(&self, bt: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Value(t) => (vec![], vec![t]),
            BlockType::Func(idx) => {
                let ft = self.type_at(idx)?;
                (ft.params.to_vec(), ft.results.to_vec())
            }
        })
    }
}

fn check_limits(l: &Limits, bound: u64, what: &str) -> Result<()> {
    if l.min as u64 > bound {
        return invalid(format!("{what} size must be at most {bound}"));
    }
    if let Some(max) = l.max {
        if max as u64 > bound {
            return invalid(format!("{what} size must be at most {bound}"));
        }
        if max < l.min {
            return invalid("size minimum must not be greater than maximum");
        }
    }
    Ok(())
}

/// Validates everything but function bodies and builds the context for them.
pub(crate) fn validate_module(m: &ModuleDesc) -> Result<Context> {
    let mut c = Context { types: m.types.clone(), data_count: m.data_count, ..Context::default() };
    for imp in &m.imports {
        match &imp.desc {
            ImportDesc::Func(ty) => {
                c.type_at(*ty)?;
                c.funcs.push(*ty);
                c.num_imported_funcs += 1;
            }
            ImportDesc::Table(t) => {
                check_limits(&t.limits, u32::MAX as u64, "table")?;
                c.tables.push(*t);
            }
            ImportDesc::Memory(mt) => {
                check_limits(&mt.limits, MAX_PAGES as u64, "memory")?;
                c.mems.push(*mt);
            }
            ImportDesc::Global(g) => {
                c.globals.push(*g);
                c.num_imported_globals += 1;
            }
        }
    }
    for &ty in &m.funcs {
        c.type_at(ty)?;
        c.funcs.push(ty);
    }
    for t in &m.tables {
        check_limits(&t.limits, u32::MAX as u64, "table")?;
        c.tables.push(*t);
    }
    for mt in &m.mems {
        check_limits(&mt.limits, MAX_PAGES as u64, "memory")?;
        c.mems.push(*mt);
    }
    if c.mems.len() > 1 {
        return invalid("multiple memories");
    }
    c.refs = vec![false; c.funcs.len()];
    // Declared references: ref.func in globals, element segments and exports.
    let declare = |expr: &ConstExpr, refs: &mut Vec<bool>| {
        for op in expr {
            if let Operator::RefFunc(f) = op {
                if let Some(r) = refs.get_mut(*f as usize) {
                    *r = true;
                }
            }
        }
    };
    for g in &m.globals {
        declare(&g.init, &mut c.refs);
    }
    for e in &m.elems {
        for item in &e.items {
            declare(item, &mut c.refs);
        }
    }
    for e in &m.exports {
        if e.kind == ExternKind::Func {
            if let Some(r) = c.refs.get_mut(e.index as usize) {
                *r = true;
            }
        }
    }
    // Global initialisers see only imported globals (and all functions).
    for g in &m.globals {
        check_const_expr(&c, &g.init, g.ty.ty)?;
        c.globals.push(g.ty);
    }
    for e in &m.elems {
        for item in &e.items {
            check_const_expr(&c, item, ValType::Ref(e.ty))?;
        }
        if let SegmentMode::Active { index, offset } = &e.mode {
            let t = c.table(*index)?;
            if t.elem != e.ty {
                return invalid("type mismatch");
            }
            check_const_expr(&c, offset, ValType::I32)?;
        }
        c.elems.push(e.ty);
    }
    for d in &m.datas {
        if let SegmentMode::Active { index, offset } = &d.mode {
            c.mem(*index)?;
            check_const_expr(&c, offset, ValType::I32)?;
        }
    }
    let mut names = std::collections::HashSet::new();
    for e in &m.exports {
        if !names.insert(e.name.as_str()) {
            return invalid("duplicate export name");
        }
        match e.kind {
            ExternKind::Func => {
                c.func_type(e.index)?;
            }
            ExternKind::Table => {
                c.table(e.index)?;
            }
            ExternKind::Memory => {
                c.mem(e.index)?;
            }
            ExternKind::Global => {
                c.global(e.index)?;
            }
        }
    }
    if let Some(s) = m.start {
        let ft = c.func_type(s)?;
        if !ft.params.is_empty() || !ft.results.is_empty() {
            return invalid("start function");
        }
    }
    Ok(c)
}

/// A constant expression yields exactly one value of `expected`, using only constant
/// instructions and imported immutable globals.
fn check_const_expr(c: &Context, expr: &ConstExpr, expected: ValType) -> Result<()> {
    let mut stack: Vec<ValType> = Vec::new();
    for op in expr {
        let t = match op {
            Operator::I32Const(_) => ValType::I32,
            Operator::I64Const(_) => ValType::I64,
            Operator::F32Const(_) => ValType::F32,
            Operator::F64Const(_) => ValType::F64,
            Operator::RefNull(t) => ValType::Ref(*t),
            Operator::RefFunc(f) => {
                c.func_type(*f)?;
                ValType::FUNCREF
            }
            Operator::GlobalGet(g) => {
                let gt = c.global(*g)?;
                if *g >= c.num_imported_globals {
                    return invalid(format!("unknown global {g}"));
                }
                if gt.mutable {
                    return invalid("constant expression required");
                }
                gt.ty
            }
            _ => return invalid("constant expression required"),
        };
        stack.push(t);
    }
    if stack.len() != 1 || stack[0] != expected {
        return invalid("type mismatch");
    }
    Ok(())
}

/// Kind of a control frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
pub(crate) struct CtrlFrame {
    pub kind: FrameKind,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    /// Operand stack height at entry, below the block's parameters.
    pub height: usize,
    pub unreachable: bool,
}

impl CtrlFrame {
    /// Types a branch to this frame carries.
    pub fn label_types(&self) -> &[ValType] {
        if self.kind == FrameKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

/// The spec's validation algorithm: operands (`None` = unknown) and control frames.
#[derive(Debug, Default)]
pub(crate) struct TypeStack {
    pub vals: Vec<Option<ValType>>,
    pub ctrls: Vec<CtrlFrame>,
    /// Highest operand count seen, for the interpreter's stack reservation.
    pub max_vals: usize,
}

fn mismatch<T>() -> Result<T> {
    invalid("type mismatch")
}

impl TypeStack {
    pub fn push(&mut self, t: ValType) {
        self.push_opt(Some(t));
    }

    pub fn push_opt(&mut self, t: Option<ValType>) {
        self.vals.push(t);
        self.max_vals = self.max_vals.max(self.vals.len());
    }

    pub fn push_all(&mut self, ts: &[ValType]) {
        for &t in ts {
            self.push(t);
        }
    }

    fn frame(&self) -> Result<&CtrlFrame> {
        self.ctrls.last().ok_or_else(|| Error::Invalid("operator after end of function".into()))
    }

    pub fn pop(&mut self) -> Result<Option<ValType>> {
        let f = self.frame()?;
        if self.vals.len() == f.height {
            if f.unreachable {
                return Ok(None);
            }
            return mismatch();
        }
        Ok(self.vals.pop().flatten())
    }

    /// Pops a value that must have type `expected`; returns what was popped (`None` if unknown).
    pub fn pop_expect(&mut self, expected: ValType) -> Result<Option<ValType>> {
        let actual = self.pop()?;
        match actual {
            Some(a) if a != expected => mismatch(),
            _ => Ok(actual),
        }
    }

    /// Pops values of types `ts` and returns them in stack order.
    pub fn pop_vals(&mut self, ts: &[ValType]) -> Result<Vec<Option<ValType>>> {
        let mut out = vec![None; ts.len()];
        for (i, &t) in ts.iter().enumerate().rev() {
            out[i] = self.pop_expect(t)?;
        }
        Ok(out)
    }

    pub fn pop_all(&mut self, ts: &[ValType]) -> Result<()> {
        for &t in ts.iter().rev() {
            self.pop_expect(t)?;
        }
        Ok(())
    }

    /// Pops a reference of any type (`ref.is_null`).
    pub fn pop_ref(&mut self) -> Result<()> {
        match self.pop()? {
            None | Some(ValType::Ref(_)) => Ok(()),
            Some(_) => mismatch(),
        }
    }

    pub fn push_ctrl(&mut self, kind: FrameKind, params: Vec<ValType>, results: Vec<ValType>) {
        let height = self.vals.len();
        self.push_all(&params);
        self.ctrls.push(CtrlFrame { kind, params, results, height, unreachable: false });
    }

    pub fn pop_ctrl(&mut self) -> Result<CtrlFrame> {
        let results = self.frame()?.results.clone();
        self.pop_all(&results)?;
        let f = self.ctrls.pop().ok_or_else(|| Error::Invalid("unbalanced end".into()))?;
        if self.vals.len() != f.height {
            return mismatch();
        }
        Ok(f)
    }

    pub fn label(&self, depth: u32) -> Result<&CtrlFrame> {
        let n = self.ctrls.len();
        if depth as usize >= n {
            return invalid(format!("unknown label {depth}"));
        }
        Ok(&self.ctrls[n - 1 - depth as usize])
    }

    pub fn set_unreachable(&mut self) -> Result<()> {
        let f = self.ctrls.last_mut().ok_or_else(|| Error::Invalid("operator after end of function".into()))?;
        self.vals.truncate(f.height);
        f.unreachable = true;
        Ok(())
    }

    pub fn is_unreachable(&self) -> bool {
        self.ctrls.last().is_some_and(|f| f.unreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_operands_after_unreachable() {
        let mut ts = TypeStack::default();
        ts.push_ctrl(FrameKind::Block, vec![], vec![ValType::I32]);
        assert!(ts.pop().is_err());
        ts.set_unreachable().unwrap();
        assert_eq!(ts.pop_expect(ValType::F64).unwrap(), None);
        ts.push(ValType::I64);
        assert!(ts.pop_expect(ValType::I32).is_err());
    }
}
