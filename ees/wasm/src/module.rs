//! A compiled module: decoded, validated and translated once, shared by its instances.

use std::sync::Arc;

use crate::compile::{compile_module, CompiledCode};
use crate::decode::{decode, ImportDesc, ModuleDesc};
use crate::error::Error;
use crate::types::{ExternKind, FuncType};

/// A validated module with its internal code. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

#[derive(Debug)]
pub(crate) struct ModuleInner {
    /// The syntax, with function bodies dropped after translation.
    pub desc: ModuleDesc,
    pub code: CompiledCode,
}

impl Module {
    /// Decodes, validates and translates a binary module.
    pub fn new(bytes: &[u8]) -> Result<Module, Error> {
        let mut desc = decode(bytes)?;
        let ctx = crate::validate::validate_module(&desc)?;
        let code = compile_module(&desc, &ctx)?;
        desc.code = Vec::new();
        Ok(Module { inner: Arc::new(ModuleInner { desc, code }) })
    }

    /// Imports in order: (module, name, kind).
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, ExternKind)> {
        self.inner.desc.imports.iter().map(|i| {
            let kind = match i.desc {
                ImportDesc::Func(_) => ExternKind::Func,
                ImportDesc::Table(_) => ExternKind::Table,
                ImportDesc::Memory(_) => ExternKind::Memory,
                ImportDesc::Global(_) => ExternKind::Global,
            };
            (i.module.as_str(), i.name.as_str(), kind)
        })
    }

    /// Exports: (name, kind).
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternKind)> {
        self.inner.desc.exports.iter().map(|e| (e.name.as_str(), e.kind))
    }

    /// The type of the module's `idx`-th type section entry.
    pub fn func_type(&self, idx: u32) -> Option<&FuncType> {
        self.inner.desc.types.get(idx as usize)
    }

    /// Number of internal ops (a size measure for metering or caching decisions).
    pub fn code_len(&self) -> usize {
        self.inner.code.ops.len()
    }
}
