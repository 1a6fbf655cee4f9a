//! Error values: every failure of decoding, validation, linking or execution is one of these.

use std::fmt;

/// Why a module could not be compiled or instantiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The binary does not follow the binary format (spec: "malformed").
    Malformed(String),
    /// The module is well-formed but does not validate (spec: "invalid").
    Invalid(String),
    /// An import is missing or has the wrong type (spec: "unlinkable").
    Unlinkable(String),
    /// Instantiation trapped (out-of-bounds segment); earlier writes persist.
    Trap(Trap),
    /// An implementation limit of this VM was exceeded.
    Limit(String),
    /// A bug of this VM: the translator produced code that `compile::verify` rejects. Never
    /// a property of the module (a conformance check must not count it as "invalid").
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(m) => write!(f, "malformed module: {m}"),
            Error::Invalid(m) => write!(f, "invalid module: {m}"),
            Error::Unlinkable(m) => write!(f, "unlinkable: {m}"),
            Error::Trap(t) => write!(f, "trap: {t}"),
            Error::Limit(m) => write!(f, "implementation limit: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Trap> for Error {
    fn from(t: Trap) -> Self {
        Error::Trap(t)
    }
}

/// Why execution stopped abnormally. After a trap an execution cannot be resumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` index beyond the table.
    UndefinedElement,
    /// `call_indirect` on a null entry.
    UninitializedElement,
    IndirectCallTypeMismatch,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    /// The call depth or value stack limit was reached.
    StackExhausted,
    /// The fuel given to `run` ran out.
    OutOfFuel,
    /// The embedder resumed with wrong values, or used an execution in the wrong state.
    HostMisuse(String),
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trap::Unreachable => "unreachable",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::UndefinedElement => "undefined element",
            Trap::UninitializedElement => "uninitialized element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::InvalidConversionToInteger => "invalid conversion to integer",
            Trap::StackExhausted => "call stack exhausted",
            Trap::OutOfFuel => "out of fuel",
            Trap::HostMisuse(m) => return write!(f, "host misuse: {m}"),
        })
    }
}

impl std::error::Error for Trap {}
