//! Spec-test sessions: the state a `.wast` script builds up across its directives.
//!
//! A script's modules link to each other (`register`) and keep their memories,
//! tables and globals from one `invoke` to the next, so their instances cannot
//! live in one frame the way a contract's do. A [`SpecSession`] is one script's
//! store and linker. A [`crate::WasmEe`] made with [`crate::WasmEe::with_session`]
//! instantiates spec-module init code (`0xEF 0xEE 0x01 0x10 <module>`) into it
//! through the bootloader's deployment path, and the deployed code
//! (`0xEF 0xEE 0x01 0x11 <instance>`) is an instance of the session that calls
//! reach through the bootloader's call path, with the calldata of
//! [`encode_invoke`] or [`encode_get`].
//!
//! A failure comes back as revert data ([`encode_failure`]): its class (malformed,
//! invalid, unlinkable, trap, limit) and message, so a harness can check an
//! `assert_*` directive's verdict.

use crate::{Error, Extern, FuncType, GlobalType, InstanceId, Limits, Linker, MemType, RefType, Store, StoreLimits};
use crate::{TableType, Trap, ValType, Value};

/// The `spectest` module's functions are all `print*` with no results: host ids from this base.
const PRINT_BASE: u32 = 0x5000;

/// One `.wast` script's instances and names.
#[derive(Debug)]
pub struct SpecSession {
    pub store: Store,
    pub linker: Linker,
}

impl Default for SpecSession {
    fn default() -> Self {
        SpecSession::new()
    }
}

impl SpecSession {
    /// A session with the standard `spectest` host module defined.
    pub fn new() -> SpecSession {
        let mut store = Store::new(StoreLimits::default());
        let mut linker = Linker::new();
        use ValType::*;
        let prints: [(&str, Vec<ValType>); 7] = [
            ("print", vec![]),
            ("print_i32", vec![I32]),
            ("print_i64", vec![I64]),
            ("print_f32", vec![F32]),
            ("print_f64", vec![F64]),
            ("print_i32_f32", vec![I32, F32]),
            ("print_f64_f64", vec![F64, F64]),
        ];
        for (i, (name, params)) in prints.into_iter().enumerate() {
            let f = store.alloc_host_func(FuncType::new(params, vec![]), PRINT_BASE + i as u32);
            linker.define("spectest", name, Extern::Func(f));
        }
        let globals = [
            ("global_i32", I32, Value::I32(666)),
            ("global_i64", I64, Value::I64(666)),
            ("global_f32", F32, Value::F32(666.6f32.to_bits())),
            ("global_f64", F64, Value::F64(666.6f64.to_bits())),
        ];
        for (name, ty, v) in globals {
            let g = store.alloc_global(GlobalType { ty, mutable: false }, v);
            linker.define("spectest", name, Extern::Global(g));
        }
        let t = store.alloc_table(
            TableType { elem: RefType::Func, limits: Limits { min: 10, max: Some(20) } },
            Value::FuncRef(None),
        );
        linker.define("spectest", "table", Extern::Table(t));
        let m = store.alloc_memory(MemType { limits: Limits { min: 1, max: Some(2) } }).expect("one page fits");
        linker.define("spectest", "memory", Extern::Memory(m));
        SpecSession { store, linker }
    }

    /// Makes `instance`'s exports importable as module `name` (the `register` directive).
    pub fn register(&mut self, name: &str, instance: InstanceId) {
        self.linker.define_instance(&self.store, name, instance);
    }

    /// Serves a call to a `spectest` host function (they print nothing here and return nothing).
    pub(crate) fn serve_host(&self, host_id: u32) -> Option<Vec<Value>> {
        (PRINT_BASE..PRINT_BASE + 7).contains(&host_id).then(Vec::new)
    }
}

/// Mode byte of spec-module init code.
pub const MODE_SPEC_MODULE: u8 = 0x10;
/// Mode byte of a session instance's code.
pub const MODE_SPEC_INSTANCE: u8 = 0x11;

/// Init code that instantiates `module` (a binary module) in the session.
pub fn spec_module_code(module: &[u8]) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x01, MODE_SPEC_MODULE];
    code.extend_from_slice(module);
    code
}

/// The code a session instance is deployed as.
pub(crate) fn spec_instance_code(instance: InstanceId) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x01, MODE_SPEC_INSTANCE];
    code.extend_from_slice(&instance.0.to_le_bytes());
    code
}

/// The instance a deployed spec-instance code refers to.
pub fn spec_instance_of(code: &[u8]) -> Option<InstanceId> {
    match code {
        [0xEF, 0xEE, 0x01, MODE_SPEC_INSTANCE, id @ ..] => Some(InstanceId(u32::from_le_bytes(id.try_into().ok()?))),
        _ => None,
    }
}

const OP_INVOKE: u8 = 0;
const OP_GET: u8 = 1;

/// What a call into a session instance asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum SpecRequest {
    Invoke { name: String, args: Vec<Value> },
    Get { name: String },
}

/// Calldata that invokes the exported function `name` with `args`.
pub fn encode_invoke(name: &str, args: &[Value]) -> Vec<u8> {
    let mut out = vec![OP_INVOKE];
    push_name(&mut out, name);
    out.extend_from_slice(&encode_values(args));
    out
}

/// Calldata that reads the exported global `name`.
pub fn encode_get(name: &str) -> Vec<u8> {
    let mut out = vec![OP_GET];
    push_name(&mut out, name);
    out
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
}

pub(crate) fn decode_request(data: &[u8]) -> Result<SpecRequest, String> {
    let (&op, rest) = data.split_first().ok_or("empty calldata")?;
    let len = rest.get(..4).ok_or("truncated name length")?;
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    let name = rest.get(4..4 + len).ok_or("truncated name")?;
    let name = String::from_utf8(name.to_vec()).map_err(|_| "name is not UTF-8")?;
    let rest = &rest[4 + len..];
    match op {
        OP_INVOKE => Ok(SpecRequest::Invoke { name, args: decode_values(rest)? }),
        OP_GET if rest.is_empty() => Ok(SpecRequest::Get { name }),
        _ => Err(format!("unknown request 0x{op:02x}")),
    }
}

/// Values as `(type code, 8-byte little-endian slot)` pairs: the arguments and results
/// of session calls.
pub fn encode_values(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 9);
    for v in values {
        out.push(type_code(v.ty()));
        out.extend_from_slice(&v.to_slot().to_le_bytes());
    }
    out
}

pub fn decode_values(data: &[u8]) -> Result<Vec<Value>, String> {
    if !data.len().is_multiple_of(9) {
        return Err(format!("{} bytes of values is not a multiple of 9", data.len()));
    }
    data.chunks(9)
        .map(|c| {
            let ty = crate::decode::val_type_of(c[0]).ok_or_else(|| format!("unknown value type 0x{:02x}", c[0]))?;
            Ok(Value::from_slot(ty, u64::from_le_bytes(c[1..].try_into().expect("8 bytes"))))
        })
        .collect()
}

fn type_code(ty: ValType) -> u8 {
    match ty {
        ValType::I32 => 0x7F,
        ValType::I64 => 0x7E,
        ValType::F32 => 0x7D,
        ValType::F64 => 0x7C,
        ValType::Ref(RefType::Func) => 0x70,
        ValType::Ref(RefType::Extern) => 0x6F,
    }
}

/// Why a session deployment or call failed, as its revert data says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecFailure {
    Malformed(String),
    Invalid(String),
    Unlinkable(String),
    Trap(String),
    Limit(String),
    /// The request itself was wrong (no such export, bad arguments).
    Request(String),
    /// A bug of the VM ([`Error::Internal`]): never an expected outcome.
    Internal(String),
}

impl std::fmt::Display for SpecFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecFailure::Malformed(m) => write!(f, "malformed module: {m}"),
            SpecFailure::Invalid(m) => write!(f, "invalid module: {m}"),
            SpecFailure::Unlinkable(m) => write!(f, "unlinkable: {m}"),
            SpecFailure::Trap(m) => write!(f, "trap: {m}"),
            SpecFailure::Limit(m) => write!(f, "implementation limit: {m}"),
            SpecFailure::Request(m) => write!(f, "bad request: {m}"),
            SpecFailure::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl From<Error> for SpecFailure {
    fn from(e: Error) -> Self {
        match e {
            Error::Malformed(m) => SpecFailure::Malformed(m),
            Error::Invalid(m) => SpecFailure::Invalid(m),
            Error::Unlinkable(m) => SpecFailure::Unlinkable(m),
            Error::Trap(t) => SpecFailure::Trap(t.to_string()),
            Error::Limit(m) => SpecFailure::Limit(m),
            Error::Internal(m) => SpecFailure::Internal(m),
        }
    }
}

impl From<Trap> for SpecFailure {
    fn from(t: Trap) -> Self {
        SpecFailure::Trap(t.to_string())
    }
}

/// Revert data of a failure: a class byte and the UTF-8 message.
pub fn encode_failure(f: &SpecFailure) -> Vec<u8> {
    let (tag, m) = match f {
        SpecFailure::Malformed(m) => (1, m),
        SpecFailure::Invalid(m) => (2, m),
        SpecFailure::Unlinkable(m) => (3, m),
        SpecFailure::Trap(m) => (4, m),
        SpecFailure::Limit(m) => (5, m),
        SpecFailure::Request(m) => (6, m),
        SpecFailure::Internal(m) => (7, m),
    };
    let mut out = vec![tag];
    out.extend_from_slice(m.as_bytes());
    out
}

pub fn decode_failure(data: &[u8]) -> Option<SpecFailure> {
    let (&tag, m) = data.split_first()?;
    let m = String::from_utf8_lossy(m).into_owned();
    Some(match tag {
        1 => SpecFailure::Malformed(m),
        2 => SpecFailure::Invalid(m),
        3 => SpecFailure::Unlinkable(m),
        4 => SpecFailure::Trap(m),
        5 => SpecFailure::Limit(m),
        6 => SpecFailure::Request(m),
        7 => SpecFailure::Internal(m),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FuncAddr;

    #[test]
    fn requests_round_trip() {
        let args = [
            Value::I32(-1),
            Value::I64(5),
            Value::F32(0x7fc0_0001),
            Value::FuncRef(Some(FuncAddr(3))),
            Value::ExternRef(None),
        ];
        let data = encode_invoke("f ü", &args);
        assert_eq!(decode_request(&data), Ok(SpecRequest::Invoke { name: "f ü".into(), args: args.to_vec() }));
        assert_eq!(decode_request(&encode_get("g")), Ok(SpecRequest::Get { name: "g".into() }));
        assert!(decode_request(&data[..data.len() - 1]).is_err());
        assert!(decode_request(&[]).is_err());
    }

    #[test]
    fn failures_round_trip() {
        for f in [SpecFailure::Trap("unreachable".into()), SpecFailure::Unlinkable("unknown import".into())] {
            assert_eq!(decode_failure(&encode_failure(&f)), Some(f));
        }
        assert_eq!(decode_failure(&[]), None);
    }

    #[test]
    fn instance_codes_round_trip() {
        assert_eq!(spec_instance_of(&spec_instance_code(InstanceId(7))), Some(InstanceId(7)));
        assert_eq!(spec_instance_of(&[0xEF, 0xEE, 0x01, MODE_SPEC_INSTANCE, 1]), None);
    }
}
