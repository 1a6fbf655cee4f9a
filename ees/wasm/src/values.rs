//! Runtime values and their untyped 64-bit stack-slot encoding.
//!
//! Floats are kept as bit patterns so that NaN payloads survive every move exactly.
//! References are encoded as `0` for null and `n + 1` for the function address or
//! host reference `n`.

use crate::store::FuncAddr;
use crate::types::{RefType, ValType};

/// A WebAssembly value as the embedder sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    /// Bit pattern of an `f32`.
    F32(u32),
    /// Bit pattern of an `f64`.
    F64(u64),
    /// A function reference (`None` is `ref.null func`).
    FuncRef(Option<FuncAddr>),
    /// An opaque host reference (`None` is `ref.null extern`).
    ExternRef(Option<u32>),
}

impl Value {
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::FuncRef(_) => ValType::FUNCREF,
            Value::ExternRef(_) => ValType::EXTERNREF,
        }
    }

    /// The zero value of a type (locals, `ref.null`).
    pub fn default_of(ty: ValType) -> Value {
        Value::from_slot(ty, 0)
    }

    /// The stack-slot encoding.
    pub fn to_slot(&self) -> u64 {
        match *self {
            Value::I32(v) => v as u32 as u64,
            Value::I64(v) => v as u64,
            Value::F32(v) => v as u64,
            Value::F64(v) => v,
            Value::FuncRef(r) => r.map_or(0, |a| a.0 as u64 + 1),
            Value::ExternRef(r) => r.map_or(0, |a| a as u64 + 1),
        }
    }

    /// Decodes a stack slot of a known type.
    pub fn from_slot(ty: ValType, slot: u64) -> Value {
        match ty {
            ValType::I32 => Value::I32(slot as u32 as i32),
            ValType::I64 => Value::I64(slot as i64),
            ValType::F32 => Value::F32(slot as u32),
            ValType::F64 => Value::F64(slot),
            ValType::Ref(RefType::Func) => {
                Value::FuncRef(if slot == 0 { None } else { Some(FuncAddr((slot - 1) as u32)) })
            }
            ValType::Ref(RefType::Extern) => Value::ExternRef(if slot == 0 { None } else { Some((slot - 1) as u32) }),
        }
    }
}
