//! Static types of the core spec: value, reference, function, table, memory and global types.

/// A reference type (`funcref` or `externref`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefType {
    Func,
    Extern,
}

/// A value type. `v128` (SIMD) is not supported and is rejected by the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    Ref(RefType),
}

impl ValType {
    pub const FUNCREF: ValType = ValType::Ref(RefType::Func);
    pub const EXTERNREF: ValType = ValType::Ref(RefType::Extern);
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    pub params: Box<[ValType]>,
    pub results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(params: impl Into<Box<[ValType]>>, results: impl Into<Box<[ValType]>>) -> Self {
        FuncType { params: params.into(), results: results.into() }
    }
}

/// Size bounds of a table (elements) or memory (64 KiB pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub min: u32,
    pub max: Option<u32>,
}

impl Limits {
    /// Import matching: `self` (the provided extern's current limits) fits `required`.
    pub fn matches(&self, required: &Limits) -> bool {
        if self.min < required.min {
            return false;
        }
        match (required.max, self.max) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(r), Some(s)) => s <= r,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    pub elem: RefType,
    pub limits: Limits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemType {
    pub limits: Limits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    pub ty: ValType,
    pub mutable: bool,
}

/// The type of an import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
}
