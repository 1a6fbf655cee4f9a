//! Import resolution by `(module, name)`: a map of definitions (other instances' exports,
//! host functions) used to build the import list of [`Store::instantiate`].

use std::collections::HashMap;

use crate::error::Error;
use crate::module::Module;
use crate::store::{Extern, InstanceId, Instantiated, Store};

#[derive(Debug, Default, Clone)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
}

impl Linker {
    pub fn new() -> Linker {
        Linker::default()
    }

    /// Defines (or redefines) `module.name`.
    pub fn define(&mut self, module: &str, name: &str, ext: Extern) {
        self.defs.insert((module.to_string(), name.to_string()), ext);
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn define_instance(&mut self, store: &Store, module: &str, instance: InstanceId) {
        for (name, ext) in store.exports(instance) {
            self.define(module, &name, ext);
        }
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs.get(&(module.to_string(), name.to_string())).copied()
    }

    /// The externs for `module`'s imports, in order.
    pub fn resolve(&self, module: &Module) -> Result<Vec<Extern>, Error> {
        module
            .imports()
            .map(|(m, n, _)| self.get(m, n).ok_or_else(|| Error::Unlinkable(format!("unknown import {m}.{n}"))))
            .collect()
    }

    /// Resolves the imports and instantiates; the start function is returned, not run.
    pub fn instantiate(&self, store: &mut Store, module: &Module) -> Result<Instantiated, Error> {
        let imports = self.resolve(module)?;
        store.instantiate(module, &imports)
    }
}
