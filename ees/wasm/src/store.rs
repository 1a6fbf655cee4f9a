//! The store: every function, table, memory and global of every instance, addressed by
//! index, and instantiation (import matching, segment initialisation) per the v2 spec.

use std::collections::HashMap;
use std::sync::Arc;

use crate::decode::{ConstExpr, ImportDesc, Operator, SegmentMode};
use crate::error::{Error, Trap};
use crate::module::Module;
use crate::types::{ExternKind, FuncType, GlobalType, Limits, MemType, RefType, TableType};
use crate::values::Value;

/// Bytes per memory page.
pub const PAGE_SIZE: usize = 65536;

macro_rules! addr_type {
    ($(#[$doc:meta] $name:ident),*) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
    )*};
}
addr_type!(
    /// A function in the store.
    FuncAddr,
    /// A table in the store.
    TableAddr,
    /// A memory in the store.
    MemAddr,
    /// A global in the store.
    GlobalAddr,
    /// An instance in the store.
    InstanceId
);

/// An exported or importable entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(FuncAddr),
    Table(TableAddr),
    Memory(MemAddr),
    Global(GlobalAddr),
}

impl Extern {
    pub fn kind(&self) -> ExternKind {
        match self {
            Extern::Func(_) => ExternKind::Func,
            Extern::Table(_) => ExternKind::Table,
            Extern::Memory(_) => ExternKind::Memory,
            Extern::Global(_) => ExternKind::Global,
        }
    }
}

#[derive(Debug)]
pub(crate) enum FuncKind {
    /// `index` among the defined functions of the instance's module.
    Wasm { instance: u32, index: u32 },
    /// Served by the embedder under its own `id`.
    Host { id: u32 },
}

#[derive(Debug)]
pub(crate) struct FuncInst {
    /// Interned type id ([`Store::types`]).
    pub ty: u32,
    pub kind: FuncKind,
}

#[derive(Debug)]
pub(crate) struct TableInst {
    pub elem: RefType,
    pub max: Option<u32>,
    /// Slot-encoded references.
    pub elems: Vec<u64>,
}

#[derive(Debug)]
pub(crate) struct MemInst {
    pub max: Option<u32>,
    pub data: Vec<u8>,
}

impl MemInst {
    pub fn pages(&self) -> u32 {
        (self.data.len() / PAGE_SIZE) as u32
    }
}

#[derive(Debug)]
pub(crate) struct GlobalInst {
    pub ty: GlobalType,
    pub value: u64,
}

/// The immutable part of an instance, shared with running executions.
#[derive(Debug)]
pub(crate) struct InstanceData {
    pub module: Module,
    /// Interned type id of each module type.
    pub types: Vec<u32>,
    pub funcs: Vec<FuncAddr>,
    pub tables: Vec<u32>,
    pub mems: Vec<u32>,
    pub globals: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct InstanceInst {
    pub data: Arc<InstanceData>,
    /// Element segments (emptied by `elem.drop`).
    pub elems: Vec<Vec<u64>>,
    /// Data segments dropped by `data.drop` (or after active initialisation).
    pub data_dropped: Vec<bool>,
    pub exports: HashMap<String, Extern>,
}

/// Resource bounds of a store.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    /// Largest memory, in pages (also bounded by declared maxima and 65536).
    pub max_memory_pages: u32,
    /// Largest table, in elements.
    pub max_table_elems: u32,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits { max_memory_pages: 16384, max_table_elems: 10_000_000 }
    }
}

/// A store's identity, unique in the process: an [`crate::Execution`] remembers the id of
/// the store it was created on and refuses to run on any other (its saved registers are
/// positions in that store's code and stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoreId(u64);

impl Default for StoreId {
    fn default() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        StoreId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// All runtime entities. Instances refer to each other's entities by address.
#[derive(Debug, Default)]
pub struct Store {
    pub(crate) id: StoreId,
    pub(crate) limits: StoreLimits,
    pub(crate) types: Vec<FuncType>,
    type_ids: HashMap<FuncType, u32>,
    pub(crate) funcs: Vec<FuncInst>,
    pub(crate) tables: Vec<TableInst>,
    pub(crate) mems: Vec<MemInst>,
    pub(crate) globals: Vec<GlobalInst>,
    pub(crate) instances: Vec<InstanceInst>,
}

/// A freshly instantiated module. The embedder must run `start` (if any) before using it.
#[derive(Clone, Copy, Debug)]
pub struct Instantiated {
    pub instance: InstanceId,
    pub start: Option<FuncAddr>,
}

impl Store {
    pub fn new(limits: StoreLimits) -> Store {
        Store { limits, ..Store::default() }
    }

    pub(crate) fn intern(&mut self, ty: &FuncType) -> u32 {
        if let Some(&id) = self.type_ids.get(ty) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.type_ids.insert(ty.clone(), id);
        id
    }

    /// Adds a function the embedder serves: calls to it surface as
    /// [`crate::RunOutcome::HostCall`] carrying `id`.
    pub fn alloc_host_func(&mut self, ty: FuncType, id: u32) -> FuncAddr {
        let ty = self.intern(&ty);
        self.funcs.push(FuncInst { ty, kind: FuncKind::Host { id } });
        FuncAddr(self.funcs.len() as u32 - 1)
    }

    pub fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        let elems = vec![init.to_slot(); ty.limits.min as usize];
        self.tables.push(TableInst { elem: ty.elem, max: ty.limits.max, elems });
        TableAddr(self.tables.len() as u32 - 1)
    }

    pub fn alloc_memory(&mut self, ty: MemType) -> Result<MemAddr, Error> {
        if ty.limits.min > self.limits.max_memory_pages {
            return Err(Error::Limit("memory too large".into()));
        }
        self.mems.push(MemInst { max: ty.limits.max, data: vec![0; ty.limits.min as usize * PAGE_SIZE] });
        Ok(MemAddr(self.mems.len() as u32 - 1))
    }

    pub fn alloc_global(&mut self, ty: GlobalType, value: Value) -> GlobalAddr {
        self.globals.push(GlobalInst { ty, value: value.to_slot() });
        GlobalAddr(self.globals.len() as u32 - 1)
    }

    /// The type of a function.
    pub fn func_type(&self, f: FuncAddr) -> Option<&FuncType> {
        self.funcs.get(f.0 as usize).and_then(|fi| self.types.get(fi.ty as usize))
    }

    pub fn global_get(&self, g: GlobalAddr) -> Option<Value> {
        self.globals.get(g.0 as usize).map(|gi| Value::from_slot(gi.ty.ty, gi.value))
    }

    pub fn global_type(&self, g: GlobalAddr) -> Option<GlobalType> {
        self.globals.get(g.0 as usize).map(|gi| gi.ty)
    }

    pub fn memory(&self, m: MemAddr) -> Option<&[u8]> {
        self.mems.get(m.0 as usize).map(|mi| &mi.data[..])
    }

    pub fn memory_mut(&mut self, m: MemAddr) -> Option<&mut [u8]> {
        self.mems.get_mut(m.0 as usize).map(|mi| &mut mi.data[..])
    }

    /// An export of an instance by name.
    pub fn export(&self, instance: InstanceId, name: &str) -> Option<Extern> {
        self.instances.get(instance.0 as usize).and_then(|i| i.exports.get(name).copied())
    }

    /// All exports of an instance.
    pub fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)> {
        self.instances
            .get(instance.0 as usize)
            .map(|i| i.exports.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    fn extern_matches(&self, ext: Extern, want: &ImportDesc, module: &Module) -> bool {
        match (ext, want) {
            (Extern::Func(f), ImportDesc::Func(ty)) => {
                match (self.func_type(f), module.inner.desc.types.get(*ty as usize)) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                }
            }
            (Extern::Table(t), ImportDesc::Table(tt)) => self.tables.get(t.0 as usize).is_some_and(|ti| {
                ti.elem == tt.elem && Limits { min: ti.elems.len() as u32, max: ti.max }.matches(&tt.limits)
            }),
            (Extern::Memory(m), ImportDesc::Memory(mt)) => self
                .mems
                .get(m.0 as usize)
                .is_some_and(|mi| Limits { min: mi.pages(), max: mi.max }.matches(&mt.limits)),
            (Extern::Global(g), ImportDesc::Global(gt)) => {
                self.globals.get(g.0 as usize).is_some_and(|gi| gi.ty == *gt)
            }
            _ => false,
        }
    }

    fn eval_const(&self, data: &InstanceData, expr: &ConstExpr) -> u64 {
        match expr.first() {
            Some(Operator::I32Const(v)) => *v as u32 as u64,
            Some(Operator::I64Const(v)) => *v as u64,
            Some(Operator::F32Const(v)) => *v as u64,
            Some(Operator::F64Const(v)) => *v,
            Some(Operator::RefFunc(f)) => data.funcs.get(*f as usize).map_or(0, |a| a.0 as u64 + 1),
            Some(Operator::GlobalGet(g)) => {
                data.globals.get(*g as usize).and_then(|a| self.globals.get(*a as usize)).map_or(0, |gi| gi.value)
            }
            _ => 0,
        }
    }

    /// Instantiates a module against `imports` (in the module's import order).
    ///
    /// Active segments are written in order; an out-of-bounds one traps, and the writes
    /// before it persist (v2 semantics). The start function is returned, not run.
    pub fn instantiate(&mut self, module: &Module, imports: &[Extern]) -> Result<Instantiated, Error> {
        let desc = &module.inner.desc;
        if imports.len() != desc.imports.len() {
            return Err(Error::Unlinkable("wrong number of imports".into()));
        }
        let mut data = InstanceData {
            module: module.clone(),
            types: Vec::new(),
            funcs: Vec::new(),
            tables: Vec::new(),
            mems: Vec::new(),
            globals: Vec::new(),
        };
        for (imp, ext) in desc.imports.iter().zip(imports) {
            if !self.extern_matches(*ext, &imp.desc, module) {
                return Err(Error::Unlinkable(format!("incompatible import type for {}.{}", imp.module, imp.name)));
            }
            match *ext {
                Extern::Func(f) => data.funcs.push(f),
                Extern::Table(t) => data.tables.push(t.0),
                Extern::Memory(m) => data.mems.push(m.0),
                Extern::Global(g) => data.globals.push(g.0),
            }
        }
        for ty in &desc.types {
            let id = self.intern(ty);
            data.types.push(id);
        }
        // Check resource limits before allocating anything.
        for mt in &desc.mems {
            if mt.limits.min > self.limits.max_memory_pages {
                return Err(Error::Limit("memory too large".into()));
            }
        }
        for tt in &desc.tables {
            if tt.limits.min > self.limits.max_table_elems {
                return Err(Error::Limit("table too large".into()));
            }
        }
        let instance = self.instances.len() as u32;
        for (i, &ty) in desc.funcs.iter().enumerate() {
            let ty = data.types[ty as usize];
            self.funcs.push(FuncInst { ty, kind: FuncKind::Wasm { instance, index: i as u32 } });
            data.funcs.push(FuncAddr(self.funcs.len() as u32 - 1));
        }
        for g in &desc.globals {
            let value = self.eval_const(&data, &g.init);
            self.globals.push(GlobalInst { ty: g.ty, value });
            data.globals.push(self.globals.len() as u32 - 1);
        }
        for tt in &desc.tables {
            self.tables.push(TableInst { elem: tt.elem, max: tt.limits.max, elems: vec![0; tt.limits.min as usize] });
            data.tables.push(self.tables.len() as u32 - 1);
        }
        for mt in &desc.mems {
            self.mems.push(MemInst { max: mt.limits.max, data: vec![0; mt.limits.min as usize * PAGE_SIZE] });
            data.mems.push(self.mems.len() as u32 - 1);
        }
        let mut exports = HashMap::new();
        for e in &desc.exports {
            let i = e.index as usize;
            let ext = match e.kind {
                ExternKind::Func => Extern::Func(data.funcs[i]),
                ExternKind::Table => Extern::Table(TableAddr(data.tables[i])),
                ExternKind::Memory => Extern::Memory(MemAddr(data.mems[i])),
                ExternKind::Global => Extern::Global(GlobalAddr(data.globals[i])),
            };
            exports.insert(e.name.clone(), ext);
        }
        let elems: Vec<Vec<u64>> =
            desc.elems.iter().map(|e| e.items.iter().map(|item| self.eval_const(&data, item)).collect()).collect();
        let start = desc.start.map(|s| data.funcs[s as usize]);
        let data = Arc::new(data);
        self.instances.push(InstanceInst {
            data: data.clone(),
            elems,
            data_dropped: vec![false; desc.datas.len()],
            exports,
        });
        let inst = &mut self.instances[instance as usize];
        for (i, seg) in desc.elems.iter().enumerate() {
            match &seg.mode {
                SegmentMode::Active { index, offset } => {
                    let offset = eval_offset(&self.globals, &data, offset);
                    let items = std::mem::take(&mut inst.elems[i]);
                    let table = &mut self.tables[data.tables[*index as usize] as usize];
                    let end = offset as u64 + items.len() as u64;
                    if end > table.elems.len() as u64 {
                        return Err(Error::Trap(Trap::TableOutOfBounds));
                    }
                    table.elems[offset as usize..end as usize].copy_from_slice(&items);
                }
                SegmentMode::Declarative => inst.elems[i].clear(),
                SegmentMode::Passive => {}
            }
        }
        for (i, seg) in desc.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = &seg.mode {
                let offset = eval_offset(&self.globals, &data, offset);
                let mem = &mut self.mems[data.mems[*index as usize] as usize];
                let end = offset as u64 + seg.bytes.len() as u64;
                if end > mem.data.len() as u64 {
                    return Err(Error::Trap(Trap::MemoryOutOfBounds));
                }
                mem.data[offset as usize..end as usize].copy_from_slice(&seg.bytes);
                inst.data_dropped[i] = true;
            }
        }
        Ok(Instantiated { instance: InstanceId(instance), start })
    }
}

/// An active segment's offset: an `i32.const` or an imported global.
fn eval_offset(globals: &[GlobalInst], data: &InstanceData, expr: &ConstExpr) -> u32 {
    match expr.first() {
        Some(Operator::I32Const(v)) => *v as u32,
        Some(Operator::GlobalGet(g)) => {
            data.globals.get(*g as usize).and_then(|a| globals.get(*a as usize)).map_or(0, |gi| gi.value as u32)
        }
        _ => 0,
    }
}
