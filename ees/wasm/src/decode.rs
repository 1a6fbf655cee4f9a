//! Binary format → [`ModuleDesc`]: the module's syntax, with every malformed-binary rule
//! of the spec checked here (LEB128 lengths and unused bits, section order and sizes,
//! reserved bytes, UTF-8 names, count consistency). Nothing is type-checked yet.

use crate::code::{MemOp, NumOp};
use crate::error::Error;
use crate::types::{ExternKind, FuncType, GlobalType, Limits, MemType, RefType, TableType, ValType};

type Result<T> = std::result::Result<T, Error>;

fn malformed<T>(msg: &str) -> Result<T> {
    Err(Error::Malformed(msg.to_string()))
}

/// Locals beyond this count are rejected; keeps per-local type tables small.
const MAX_LOCALS: u64 = 50_000;

/// The type of a structured block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockType {
    Empty,
    Value(ValType),
    /// A type index: multi-value blocks.
    Func(u32),
}

/// A decoded instruction (the syntax, before validation and translation).
#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    Unreachable,
    Nop,
    Block(BlockType),
    Loop(BlockType),
    If(BlockType),
    Else,
    End,
    Br(u32),
    BrIf(u32),
    BrTable(Box<[u32]>, u32),
    Return,
    Call(u32),
    CallIndirect {
        ty: u32,
        table: u32,
    },
    Drop,
    /// `select`, or `select t` with its (single-element, when valid) type list.
    Select(Option<Box<[ValType]>>),
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    GlobalGet(u32),
    GlobalSet(u32),
    TableGet(u32),
    TableSet(u32),
    TableSize(u32),
    TableGrow(u32),
    TableFill(u32),
    TableCopy {
        dst: u32,
        src: u32,
    },
    TableInit {
        elem: u32,
        table: u32,
    },
    ElemDrop(u32),
    Mem {
        op: MemOp,
        align: u32,
        offset: u32,
    },
    MemorySize,
    MemoryGrow,
    MemoryFill,
    MemoryCopy,
    MemoryInit(u32),
    DataDrop(u32),
    I32Const(i32),
    I64Const(i64),
    F32Const(u32),
    F64Const(u64),
    RefNull(RefType),
    RefIsNull,
    RefFunc(u32),
    Num(NumOp),
}

#[derive(Clone, Debug)]
pub enum ImportDesc {
    Func(u32),
    Table(TableType),
    Memory(MemType),
    Global(GlobalType),
}

#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub desc: ImportDesc,
}

#[derive(Clone, Debug)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
}

/// A constant expression (without its final `end`).
pub type ConstExpr = Vec<Operator>;

#[derive(Clone, Debug)]
pub struct GlobalDesc {
    pub ty: GlobalType,
    pub init: ConstExpr,
}

#[derive(Clone, Debug)]
pub enum SegmentMode {
    Passive,
    Declarative,
    Active { index: u32, offset: ConstExpr },
}

#[derive(Clone, Debug)]
pub struct ElemDesc {
    pub ty: RefType,
    pub items: Vec<ConstExpr>,
    pub mode: SegmentMode,
}

#[derive(Clone, Debug)]
pub struct DataDesc {
    pub bytes: Vec<u8>,
    /// `Declarative` is never used for data.
    pub mode: SegmentMode,
}

#[derive(Clone, Debug)]
pub struct FuncBody {
    /// Types of the declared locals (parameters excluded).
    pub locals: Vec<ValType>,
    pub ops: Vec<Operator>,
}

/// A decoded module: the syntax of the binary, index spaces not yet checked.
#[derive(Clone, Debug, Default)]
pub struct ModuleDesc {
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// Type index of each defined function.
    pub funcs: Vec<u32>,
    pub tables: Vec<TableType>,
    pub mems: Vec<MemType>,
    pub globals: Vec<GlobalDesc>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemDesc>,
    pub data_count: Option<u32>,
    pub code: Vec<FuncBody>,
    pub datas: Vec<DataDesc>,
}

/// A cursor over a byte slice with the binary format's primitive readers.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn byte(&mut self) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => malformed("unexpected end"),
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return malformed("unexpected end");
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Unsigned LEB128 of at most `bits` bits (32 for u32).
    pub(crate) fn u32(&mut self) -> Result<u32> {
        let mut result: u64 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            result |= ((b & 0x7F) as u64) << (7 * i);
            if b & 0x80 == 0 {
                if i == 4 && b & 0x70 != 0 {
                    return malformed("integer too large");
                }
                return Ok(result as u32);
            }
        }
        malformed("integer representation too long")
    }

    /// Signed LEB128 of `bits` bits (32, 33 or 64), sign-extended to i64.
    pub(crate) fn signed(&mut self, bits: u32) -> Result<i64> {
        let max_bytes = bits.div_ceil(7);
        let mut result: i64 = 0;
        let mut shift = 0u32;
        for i in 0..max_bytes {
            let b = self.byte()?;
            if i == max_bytes - 1 {
                if b & 0x80 != 0 {
                    return malformed("integer representation too long");
                }
                // The sign bit and the unused bits of the last byte must all be equal.
                let used = bits - 7 * i;
                let ext = (b & 0x7F) >> (used - 1);
                if ext != 0 && ext != 0x7F >> (used - 1) {
                    return malformed("integer too large");
                }
            }
            result |= ((b & 0x7F) as i64) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    result |= -1i64 << shift;
                }
                return Ok(result);
            }
        }
        malformed("integer representation too long")
    }

    fn s32(&mut self) -> Result<i32> {
        Ok(self.signed(32)? as i32)
    }

    fn s64(&mut self) -> Result<i64> {
        self.signed(64)
    }

    fn name(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let bytes = self.bytes(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => malformed("malformed UTF-8 encoding"),
        }
    }

    /// A vector length, bounded by the bytes left so that a huge count cannot allocate.
    fn count(&mut self) -> Result<u32> {
        let n = self.u32()?;
        if n as usize > self.remaining() {
            // Every element takes at least one byte.
            return malformed("unexpected end");
        }
        Ok(n)
    }

    fn val_type(&mut self) -> Result<ValType> {
        val_type_of(self.byte()?).map_or_else(|| malformed("malformed value type"), Ok)
    }

    fn ref_type(&mut self) -> Result<RefType> {
        match self.byte()? {
            0x70 => Ok(RefType::Func),
            0x6F => Ok(RefType::Extern),
            _ => malformed("malformed reference type"),
        }
    }

    fn limits(&mut self) -> Result<Limits> {
        match self.byte()? {
            0x00 => Ok(Limits { min: self.u32()?, max: None }),
            0x01 => {
                let min = self.u32()?;
                Ok(Limits { min, max: Some(self.u32()?) })
            }
            _ => malformed("integer too large"),
        }
    }

    fn table_type(&mut self) -> Result<TableType> {
        let elem = self.ref_type()?;
        Ok(TableType { elem, limits: self.limits()? })
    }

    fn global_type(&mut self) -> Result<GlobalType> {
        let ty = self.val_type()?;
        let mutable = match self.byte()? {
            0 => false,
            1 => true,
            _ => return malformed("malformed mutability"),
        };
        Ok(GlobalType { ty, mutable })
    }

    fn block_type(&mut self) -> Result<BlockType> {
        let b = *self.data.get(self.pos).ok_or_else(|| Error::Malformed("unexpected end".into()))?;
        if b == 0x40 {
            self.pos += 1;
            return Ok(BlockType::Empty);
        }
        if let Some(t) = val_type_of(b) {
            self.pos += 1;
            return Ok(BlockType::Value(t));
        }
        let idx = self.signed(33)?;
        if idx < 0 {
            return malformed("malformed value type");
        }
        if idx > u32::MAX as i64 {
            return malformed("integer too large");
        }
        Ok(BlockType::Func(idx as u32))
    }

    fn zero_byte(&mut self) -> Result<()> {
        if self.byte()? != 0 {
            return malformed("zero byte expected");
        }
        Ok(())
    }

    /// One instruction.
    fn operator(&mut self) -> Result<Operator> {
        use Operator as O;
        let code = self.byte()?;
        Ok(match code {
            0x00 => O::Unreachable,
            0x01 => O::Nop,
            0x02 => O::Block(self.block_type()?),
            0x03 => O::Loop(self.block_type()?),
            0x04 => O::If(self.block_type()?),
            0x05 => O::Else,
            0x0B => O::End,
            0x0C => O::Br(self.u32()?),
            0x0D => O::BrIf(self.u32()?),
            0x0E => {
                let n = self.count()?;
                let mut targets = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    targets.push(self.u32()?);
                }
                O::BrTable(targets.into(), self.u32()?)
            }
            0x0F => O::Return,
            0x10 => O::Call(self.u32()?),
            0x11 => {
                let ty = self.u32()?;
                O::CallIndirect { ty, table: self.u32()? }
            }
            0x1A => O::Drop,
            0x1B => O::Select(None),
            0x1C => {
                let n = self.count()?;
                let mut tys = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    tys.push(self.val_type()?);
                }
                O::Select(Some(tys.into()))
            }
            0x20 => O::LocalGet(self.u32()?),
            0x21 => O::LocalSet(self.u32()?),
            0x22 => O::LocalTee(self.u32()?),
            0x23 => O::GlobalGet(self.u32()?),
            0x24 => O::GlobalSet(self.u32()?),
            0x25 => O::TableGet(self.u32()?),
            0x26 => O::TableSet(self.u32()?),
            0x28..=0x3E => {
                let op = MemOp::from_opcode(code).ok_or_else(|| Error::Malformed("illegal opcode".into()))?;
                let align = self.u32()?;
                if align >= 32 {
                    // 2^align does not fit the address space (bit 6 would name a memory index).
                    return malformed("malformed memop flags");
                }
                let offset = self.u32()?;
                O::Mem { op, align, offset }
            }
            0x3F => {
                self.zero_byte()?;
                O::MemorySize
            }
            0x40 => {
                self.zero_byte()?;
                O::MemoryGrow
            }
            0x41 => O::I32Const(self.s32()?),
            0x42 => O::I64Const(self.s64()?),
            0x43 => O::F32Const(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap_or_default())),
            0x44 => O::F64Const(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap_or_default())),
            0x45..=0xC4 => {
                O::Num(NumOp::from_opcode(code as u32).ok_or_else(|| Error::Malformed("illegal opcode".into()))?)
            }
            0xD0 => O::RefNull(self.ref_type()?),
            0xD1 => O::RefIsNull,
            0xD2 => O::RefFunc(self.u32()?),
            0xFC => {
                let sub = self.u32()?;
                match sub {
                    0..=7 => O::Num(
                        NumOp::from_opcode(0xFC00 | sub).ok_or_else(|| Error::Malformed("illegal opcode".into()))?,
                    ),
                    8 => {
                        let d = self.u32()?;
                        self.zero_byte()?;
                        O::MemoryInit(d)
                    }
                    9 => O::DataDrop(self.u32()?),
                    10 => {
                        self.zero_byte()?;
                        self.zero_byte()?;
                        O::MemoryCopy
                    }
                    11 => {
                        self.zero_byte()?;
                        O::MemoryFill
                    }
                    12 => {
                        let elem = self.u32()?;
                        O::TableInit { elem, table: self.u32()? }
                    }
                    13 => O::ElemDrop(self.u32()?),
                    14 => {
                        let dst = self.u32()?;
                        O::TableCopy { dst, src: self.u32()? }
                    }
                    15 => O::TableGrow(self.u32()?),
                    16 => O::TableSize(self.u32()?),
                    17 => O::TableFill(self.u32()?),
                    _ => return malformed("illegal opcode"),
                }
            }
            _ => return malformed("illegal opcode"),
        })
    }

    /// A constant expression up to and including its `end`.
    fn const_expr(&mut self) -> Result<ConstExpr> {
        let mut ops = Vec::new();
        loop {
            match self.operator()? {
                Operator::End => return Ok(ops),
                op => ops.push(op),
            }
        }
    }
}

/// The value type a binary-format type code stands for (also the session's value encoding).
pub(crate) fn val_type_of(b: u8) -> Option<ValType> {
    Some(match b {
        0x7F => ValType::I32,
        0x7E => ValType::I64,
        0x7D => ValType::F32,
        0x7C => ValType::F64,
        0x70 => ValType::FUNCREF,
        0x6F => ValType::EXTERNREF,
        _ => return None,
    })
}

/// Position of a section id in the required order (custom sections excluded).
fn section_rank(id: u8) -> Option<u8> {
    Some(match id {
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 5,
        6 => 6,
        7 => 7,
        8 => 8,
        9 => 9,
        12 => 10,
        10 => 11,
        11 => 12,
        _ => return None,
    })
}

/// Decodes a binary module.
pub fn decode(bytes: &[u8]) -> Result<ModuleDesc> {
    let mut r = Reader::new(bytes);
    let magic = r.bytes(4).or_else(|_| malformed("unexpected end"))?;
    if magic != b"\0asm" {
        return malformed("magic header not detected");
    }
    let version = r.bytes(4).or_else(|_| malformed("unexpected end"))?;
    if version != [1, 0, 0, 0] {
        return malformed("unknown binary version");
    }
    let mut m = ModuleDesc::default();
    let mut last_rank = 0u8;
    let mut code_count: Option<u32> = None;
    let mut data_seen = false;
    while !r.at_end() {
        let id = r.byte()?;
        let size = r.u32()? as usize;
        if size > r.remaining() {
            return malformed("length out of bounds");
        }
        let body = r.bytes(size)?;
        let mut s = Reader::new(body);
        if id == 0 {
            // Custom section: a name, then opaque bytes.
            s.name()?;
            continue;
        }
        let rank = section_rank(id).ok_or_else(|| Error::Malformed("malformed section id".into()))?;
        if rank <= last_rank {
            return malformed("unexpected content after last section");
        }
        last_rank = rank;
        match id {
            1 => {
                for _ in 0..s.count()? {
                    if s.byte()? != 0x60 {
                        return malformed("integer representation too long");
                    }
                    let mut params = Vec::new();
                    for _ in 0..s.count()? {
                        params.push(s.val_type()?);
                    }
                    let mut results = Vec::new();
                    for _ in 0..s.count()? {
                        results.push(s.val_type()?);
                    }
                    m.types.push(FuncType::new(params, results));
                }
            }
            2 => {
                for _ in 0..s.count()? {
                    let module = s.name()?;
                    let name = s.name()?;
                    let desc = match s.byte()? {
                        0 => ImportDesc::Func(s.u32()?),
                        1 => ImportDesc::Table(s.table_type()?),
                        2 => ImportDesc::Memory(MemType { limits: s.limits()? }),
                        3 => ImportDesc::Global(s.global_type()?),
                        _ => return malformed("malformed import kind"),
                    };
                    m.imports.push(Import { module, name, desc });
                }
            }
            3 => {
                for _ in 0..s.count()? {
                    m.funcs.push(s.u32()?);
                }
            }
            4 => {
                for _ in 0..s.count()? {
                    m.tables.push(s.table_type()?);
                }
            }
            5 => {
                for _ in 0..s.count()? {
                    m.mems.push(MemType { limits: s.limits()? });
                }
            }
            6 => {
                for _ in 0..s.count()? {
                    let ty = s.global_type()?;
                    let init = s.const_expr()?;
                    m.globals.push(GlobalDesc { ty, init });
                }
            }
            7 => {
                for _ in 0..s.count()? {
                    let name = s.name()?;
                    let kind = match s.byte()? {
                        0 => ExternKind::Func,
                        1 => ExternKind::Table,
                        2 => ExternKind::Memory,
                        3 => ExternKind::Global,
                        _ => return malformed("malformed export kind"),
                    };
                    m.exports.push(Export { name, kind, index: s.u32()? });
                }
            }
            8 => m.start = Some(s.u32()?),
            9 => {
                for _ in 0..s.count()? {
                    m.elems.push(elem_segment(&mut s)?);
                }
            }
            12 => m.data_count = Some(s.u32()?),
            10 => {
                let n = s.count()?;
                code_count = Some(n);
                if n as usize != m.funcs.len() {
                    return malformed("function and code section have inconsistent lengths");
                }
                for _ in 0..n {
                    let size = s.u32()? as usize;
                    if size > s.remaining() {
                        return malformed("unexpected end");
                    }
                    let mut f = Reader::new(s.bytes(size)?);
                    m.code.push(func_body(&mut f, m.data_count.is_some())?);
                }
            }
            11 => {
                data_seen = true;
                let n = s.count()?;
                if let Some(c) = m.data_count {
                    if c != n {
                        return malformed("data count and data section have inconsistent lengths");
                    }
                }
                for _ in 0..n {
                    let mode = match s.u32()? {
                        0 => SegmentMode::Active { index: 0, offset: s.const_expr()? },
                        1 => SegmentMode::Passive,
                        2 => {
                            let index = s.u32()?;
                            SegmentMode::Active { index, offset: s.const_expr()? }
                        }
                        _ => return malformed("malformed data segment kind"),
                    };
                    let len = s.u32()? as usize;
                    let bytes = s.bytes(len)?.to_vec();
                    m.datas.push(DataDesc { bytes, mode });
                }
            }
            _ => return malformed("malformed section id"),
        }
        if !s.at_end() {
            return malformed("section size mismatch");
        }
    }
    if code_count.is_none() && !m.funcs.is_empty() {
        return malformed("function and code section have inconsistent lengths");
    }
    if !data_seen && m.data_count.is_some_and(|c| c != 0) {
        return malformed("data count and data section have inconsistent lengths");
    }
    Ok(m)
}

fn elem_kind(r: &mut Reader<'_>) -> Result<RefType> {
    if r.byte()? != 0x00 {
        return malformed("malformed element kind");
    }
    Ok(RefType::Func)
}

fn func_indices(r: &mut Reader<'_>) -> Result<Vec<ConstExpr>> {
    let n = r.count()?;
    let mut items = Vec::with_capacity(n as usize);
    for _ in 0..n {
        items.push(vec![Operator::RefFunc(r.u32()?)]);
    }
    Ok(items)
}

fn exprs(r: &mut Reader<'_>) -> Result<Vec<ConstExpr>> {
    let n = r.count()?;
    let mut items = Vec::with_capacity(n as usize);
    for _ in 0..n {
        items.push(r.const_expr()?);
    }
    Ok(items)
}

fn elem_segment(r: &mut Reader<'_>) -> Result<ElemDesc> {
    let flags = r.u32()?;
    Ok(match flags {
        0 => {
            let offset = r.const_expr()?;
            ElemDesc { ty: RefType::Func, items: func_indices(r)?, mode: SegmentMode::Active { index: 0, offset } }
        }
        1 => {
            let ty = elem_kind(r)?;
            ElemDesc { ty, items: func_indices(r)?, mode: SegmentMode::Passive }
        }
        2 => {
            let index = r.u32()?;
            let offset = r.const_expr()?;
            let ty = elem_kind(r)?;
            ElemDesc { ty, items: func_indices(r)?, mode: SegmentMode::Active { index, offset } }
        }
        3 => {
            let ty = elem_kind(r)?;
            ElemDesc { ty, items: func_indices(r)?, mode: SegmentMode::Declarative }
        }
        4 => {
            let offset = r.const_expr()?;
            ElemDesc { ty: RefType::Func, items: exprs(r)?, mode: SegmentMode::Active { index: 0, offset } }
        }
        5 => {
            let ty = r.ref_type()?;
            ElemDesc { ty, items: exprs(r)?, mode: SegmentMode::Passive }
        }
        6 => {
            let index = r.u32()?;
            let offset = r.const_expr()?;
            let ty = r.ref_type()?;
            ElemDesc { ty, items: exprs(r)?, mode: SegmentMode::Active { index, offset } }
        }
        7 => {
            let ty = r.ref_type()?;
            ElemDesc { ty, items: exprs(r)?, mode: SegmentMode::Declarative }
        }
        _ => return malformed("malformed elements segment kind"),
    })
}

fn func_body(r: &mut Reader<'_>, has_data_count: bool) -> Result<FuncBody> {
    let groups = r.count()?;
    let mut total: u64 = 0;
    let mut runs = Vec::with_capacity(groups as usize);
    for _ in 0..groups {
        let n = r.u32()?;
        total += n as u64;
        if total > u32::MAX as u64 {
            return malformed("too many locals");
        }
        runs.push((n, r.val_type()?));
    }
    // The format allows 2^32-1 locals; this VM allocates a slot for each, so it stops earlier.
    if total > MAX_LOCALS {
        return Err(Error::Limit("too many locals".into()));
    }
    let mut locals = Vec::with_capacity(total as usize);
    for (n, ty) in runs {
        locals.extend(std::iter::repeat_n(ty, n as usize));
    }
    let mut ops = Vec::new();
    let mut depth = 0u32;
    loop {
        if r.at_end() {
            return malformed("unexpected end of section or function");
        }
        let op = r.operator()?;
        match &op {
            Operator::Block(_) | Operator::Loop(_) | Operator::If(_) => depth += 1,
            Operator::End => {
                if depth == 0 {
                    ops.push(op);
                    break;
                }
                depth -= 1;
            }
            Operator::MemoryInit(_) | Operator::DataDrop(_) if !has_data_count => {
                return malformed("data count section required");
            }
            _ => {}
        }
        ops.push(op);
    }
    if !r.at_end() {
        return malformed("section size mismatch");
    }
    Ok(FuncBody { locals, ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_of(b: &[u8]) -> Result<u32> {
        Reader::new(b).u32()
    }

    fn s_of(b: &[u8], bits: u32) -> Result<i64> {
        Reader::new(b).signed(bits)
    }

    #[test]
    fn leb_u32_limits() {
        assert_eq!(u32_of(&[0x80, 0x80, 0x80, 0x80, 0x0F]), Ok(0xF000_0000));
        assert_eq!(u32_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), Ok(u32::MAX));
        assert!(
            matches!(u32_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x1F]), Err(Error::Malformed(m)) if m == "integer too large")
        );
        assert!(
            matches!(u32_of(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), Err(Error::Malformed(m)) if m.contains("too long"))
        );
        assert!(matches!(u32_of(&[0x80]), Err(Error::Malformed(m)) if m == "unexpected end"));
        assert_eq!(u32_of(&[0x80, 0x00]), Ok(0));
    }

    #[test]
    fn leb_signed_limits() {
        assert_eq!(s_of(&[0x7F], 32), Ok(-1));
        assert_eq!(s_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F], 32), Ok(-1));
        assert_eq!(s_of(&[0x80, 0x80, 0x80, 0x80, 0x78], 32), Ok(i32::MIN as i64));
        assert_eq!(s_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x07], 32), Ok(i32::MAX as i64));
        assert!(s_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x4F], 32).is_err());
        assert!(s_of(&[0x80, 0x80, 0x80, 0x80, 0x70], 32).is_err());
        assert_eq!(s_of(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F], 64), Ok(i64::MIN));
        assert!(s_of(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 64).is_err());
        assert_eq!(s_of(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 33), Ok(u32::MAX as i64));
        assert_eq!(s_of(&[0x40], 33), Ok(-64));
    }

    #[test]
    fn header_errors() {
        assert_eq!(decode(b"\0asn\x01\0\0\0").unwrap_err(), Error::Malformed("magic header not detected".into()));
        assert_eq!(decode(b"\0asm\x02\0\0\0").unwrap_err(), Error::Malformed("unknown binary version".into()));
        assert_eq!(decode(b"\0asm\x01\0\0\0\x0d\x00").unwrap_err(), Error::Malformed("malformed section id".into()));
        assert!(decode(b"\0asm\x01\0\0\0").is_ok());
    }
}
