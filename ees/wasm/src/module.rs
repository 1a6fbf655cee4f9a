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

    /// The name of the interpreter handler each internal op runs with (for tests that must
    /// reach every handler, with `ee_wasm::all_handler_keys`). Not a stable interface.
    #[doc(hidden)]
    pub fn handler_keys(&self) -> Vec<String> {
        crate::compile::handler_keys(&self.inner.code)
    }

    /// Number of internal ops (a size measure for metering or caching decisions).
    pub fn code_len(&self) -> usize {
        self.inner.code.insts.len()
    }
}

impl Module {
    /// A listing of the internal code: each function's frame layout, then every op with
    /// its position (jump targets are positions). For looking at what the translator made
    /// of a module.
    pub fn disassemble(&self) -> String {
        use std::fmt::Write;
        let code = &self.inner.code;
        let mut out = String::new();
        for (i, f) in code.funcs.iter().enumerate() {
            let _ = writeln!(
                out,
                "func {i}: start {} params {} locals {} constants {:?} slots {}",
                f.start, f.num_params, f.num_locals, f.consts, f.max_height
            );
        }
        for (pos, inst) in code.insts.iter().enumerate() {
            let _ = writeln!(out, "{pos:5}  {:?}", inst.op);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Module;

    #[test]
    fn disassembly_lists_frames_and_ops() {
        let text = "(module (func (param i32) (result i32) (i32.add (local.get 0) (i32.const 7))))";
        let buf = wast::parser::ParseBuffer::new(text).expect("lex");
        let bytes = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse").encode().expect("encode");
        let listing = Module::new(&bytes).expect("module").disassemble();
        // One parameter, the constant 7 in the pool (slot 1), two operand-stack slots (the
        // deepest the stack gets); the sum goes to the first.
        assert!(listing.contains("func 0: start 0 params 1 locals 0 constants [7] slots 4"), "{listing}");
        assert!(listing.contains("I32Add { dst: 2, a: 0, b: 1 }"), "{listing}");
        assert!(listing.contains("Return { src: 2, n: 1 }"), "{listing}");
    }
}
