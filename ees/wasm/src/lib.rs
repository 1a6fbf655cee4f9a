//! The WebAssembly execution environment's core VM: a decoder, validator, translator and
//! resumable interpreter for the core spec (wasm-v1 and wasm-v2 feature sets, without SIMD).
//!
//! Pipeline: [`Module::new`] runs `decode` (binary → syntax, malformed checks) →
//! `validate` (module rules) → `compile` (type-checks each body and translates it into a
//! flat array of internal ops with resolved branch targets) once per module. A [`Store`] holds
//! instances and their memories, tables and globals; [`Linker`] resolves imports by name.
//! An [`Execution`] runs a function with an explicit value and call stack, metered by fuel,
//! and hands host calls back to the embedder ([`RunOutcome::HostCall`]) so they can be
//! preemption points. See `README.md` in this crate.
//!
//! Errors are values: a malformed or invalid module is an [`Error`], a runtime failure a
//! [`Trap`] (including fuel and stack exhaustion).
//!
//! [`WasmEe`] puts the VM behind the bootloader's interface: WASM contracts with the
//! `env` host services (`ABI.md`), and [`session`]s that run `.wast` scripts' modules
//! through the bootloader's deployment and call paths.

mod code;
mod compile;
mod decode;
mod ee;
mod error;
mod exec;
mod float;
mod linker;
mod module;
pub mod session;
mod store;
mod types;
mod validate;
mod values;

pub use ee::{code_error, contract_code, contract_init_code, WasmEe, MODE_CONTRACT, MODE_CONTRACT_INIT};
pub use error::{Error, Trap};
pub use exec::{invoke, Execution, HostFn, RunOutcome, StackLimits, BULK_UNIT};
pub use linker::Linker;

/// The names of every interpreter handler (see [`Module::handler_keys`]). Not a stable
/// interface: for tests that must reach every handler.
#[doc(hidden)]
pub fn all_handler_keys() -> Vec<String> {
    exec::all_handler_keys()
}
pub use module::Module;
pub use store::{
    Extern, FuncAddr, GlobalAddr, InstanceId, Instantiated, MemAddr, Store, StoreLimits, TableAddr, PAGE_SIZE,
};
pub use types::{ExternKind, FuncType, GlobalType, Limits, MemType, RefType, TableType, ValType};
pub use values::Value;
