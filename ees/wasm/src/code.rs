//! The compact internal code the interpreter runs, and the tables of numeric and memory
//! instructions shared by the decoder, the validator and the interpreter.
//!
//! A function body becomes a flat `Vec<Op>` slice of register-machine ops: structured
//! control flow is resolved to absolute jump targets, every operand is a frame slot fixed
//! at translation time (a local, a pooled constant or an operand-stack position), and
//! branches that carry values are preceded by the copies that move them, so the
//! interpreter never searches for a label and keeps no stack pointer.

use crate::types::ValType;

/// Applies `$m` to the list of numeric instructions: `Name opcode (params) result`.
/// Opcodes `0xFC_xx` are the prefixed non-trapping conversions.
macro_rules! for_each_numeric {
    ($m:ident $($pre:tt)*) => {
        $m! { $($pre)*
            I32Eqz 0x45 (I32) I32; I32Eq 0x46 (I32 I32) I32; I32Ne 0x47 (I32 I32) I32;
            I32LtS 0x48 (I32 I32) I32; I32LtU 0x49 (I32 I32) I32; I32GtS 0x4A (I32 I32) I32;
            I32GtU 0x4B (I32 I32) I32; I32LeS 0x4C (I32 I32) I32; I32LeU 0x4D (I32 I32) I32;
            I32GeS 0x4E (I32 I32) I32; I32GeU 0x4F (I32 I32) I32;
            I64Eqz 0x50 (I64) I32; I64Eq 0x51 (I64 I64) I32; I64Ne 0x52 (I64 I64) I32;
            I64LtS 0x53 (I64 I64) I32; I64LtU 0x54 (I64 I64) I32; I64GtS 0x55 (I64 I64) I32;
            I64GtU 0x56 (I64 I64) I32; I64LeS 0x57 (I64 I64) I32; I64LeU 0x58 (I64 I64) I32;
            I64GeS 0x59 (I64 I64) I32; I64GeU 0x5A (I64 I64) I32;
            F32Eq 0x5B (F32 F32) I32; F32Ne 0x5C (F32 F32) I32; F32Lt 0x5D (F32 F32) I32;
            F32Gt 0x5E (F32 F32) I32; F32Le 0x5F (F32 F32) I32; F32Ge 0x60 (F32 F32) I32;
            F64Eq 0x61 (F64 F64) I32; F64Ne 0x62 (F64 F64) I32; F64Lt 0x63 (F64 F64) I32;
            F64Gt 0x64 (F64 F64) I32; F64Le 0x65 (F64 F64) I32; F64Ge 0x66 (F64 F64) I32;
            I32Clz 0x67 (I32) I32; I32Ctz 0x68 (I32) I32; I32Popcnt 0x69 (I32) I32;
            I32Add 0x6A (I32 I32) I32; I32Sub 0x6B (I32 I32) I32; I32Mul 0x6C (I32 I32) I32;
            I32DivS 0x6D (I32 I32) I32; I32DivU 0x6E (I32 I32) I32; I32RemS 0x6F (I32 I32) I32;
            I32RemU 0x70 (I32 I32) I32; I32And 0x71 (I32 I32) I32; I32Or 0x72 (I32 I32) I32;
            I32Xor 0x73 (I32 I32) I32; I32Shl 0x74 (I32 I32) I32; I32ShrS 0x75 (I32 I32) I32;
            I32ShrU 0x76 (I32 I32) I32; I32Rotl 0x77 (I32 I32) I32; I32Rotr 0x78 (I32 I32) I32;
            I64Clz 0x79 (I64) I64; I64Ctz 0x7A (I64) I64; I64Popcnt 0x7B (I64) I64;
            I64Add 0x7C (I64 I64) I64; I64Sub 0x7D (I64 I64) I64; I64Mul 0x7E (I64 I64) I64;
            I64DivS 0x7F (I64 I64) I64; I64DivU 0x80 (I64 I64) I64; I64RemS 0x81 (I64 I64) I64;
            I64RemU 0x82 (I64 I64) I64; I64And 0x83 (I64 I64) I64; I64Or 0x84 (I64 I64) I64;
            I64Xor 0x85 (I64 I64) I64; I64Shl 0x86 (I64 I64) I64; I64ShrS 0x87 (I64 I64) I64;
            I64ShrU 0x88 (I64 I64) I64; I64Rotl 0x89 (I64 I64) I64; I64Rotr 0x8A (I64 I64) I64;
            F32Abs 0x8B (F32) F32; F32Neg 0x8C (F32) F32; F32Ceil 0x8D (F32) F32;
            F32Floor 0x8E (F32) F32; F32Trunc 0x8F (F32) F32; F32Nearest 0x90 (F32) F32;
            F32Sqrt 0x91 (F32) F32; F32Add 0x92 (F32 F32) F32; F32Sub 0x93 (F32 F32) F32;
            F32Mul 0x94 (F32 F32) F32; F32Div 0x95 (F32 F32) F32; F32Min 0x96 (F32 F32) F32;
            F32Max 0x97 (F32 F32) F32; F32Copysign 0x98 (F32 F32) F32;
            F64Abs 0x99 (F64) F64; F64Neg 0x9A (F64) F64; F64Ceil 0x9B (F64) F64;
            F64Floor 0x9C (F64) F64; F64Trunc 0x9D (F64) F64; F64Nearest 0x9E (F64) F64;
            F64Sqrt 0x9F (F64) F64; F64Add 0xA0 (F64 F64) F64; F64Sub 0xA1 (F64 F64) F64;
            F64Mul 0xA2 (F64 F64) F64; F64Div 0xA3 (F64 F64) F64; F64Min 0xA4 (F64 F64) F64;
            F64Max 0xA5 (F64 F64) F64; F64Copysign 0xA6 (F64 F64) F64;
            I32WrapI64 0xA7 (I64) I32; I32TruncF32S 0xA8 (F32) I32; I32TruncF32U 0xA9 (F32) I32;
            I32TruncF64S 0xAA (F64) I32; I32TruncF64U 0xAB (F64) I32; I64ExtendI32S 0xAC (I32) I64;
            I64ExtendI32U 0xAD (I32) I64; I64TruncF32S 0xAE (F32) I64; I64TruncF32U 0xAF (F32) I64;
            I64TruncF64S 0xB0 (F64) I64; I64TruncF64U 0xB1 (F64) I64; F32ConvertI32S 0xB2 (I32) F32;
            F32ConvertI32U 0xB3 (I32) F32; F32ConvertI64S 0xB4 (I64) F32; F32ConvertI64U 0xB5 (I64) F32;
            F32DemoteF64 0xB6 (F64) F32; F64ConvertI32S 0xB7 (I32) F64; F64ConvertI32U 0xB8 (I32) F64;
            F64ConvertI64S 0xB9 (I64) F64; F64ConvertI64U 0xBA (I64) F64; F64PromoteF32 0xBB (F32) F64;
            I32ReinterpretF32 0xBC (F32) I32; I64ReinterpretF64 0xBD (F64) I64;
            F32ReinterpretI32 0xBE (I32) F32; F64ReinterpretI64 0xBF (I64) F64;
            I32Extend8S 0xC0 (I32) I32; I32Extend16S 0xC1 (I32) I32; I64Extend8S 0xC2 (I64) I64;
            I64Extend16S 0xC3 (I64) I64; I64Extend32S 0xC4 (I64) I64;
            I32TruncSatF32S 0xFC00 (F32) I32; I32TruncSatF32U 0xFC01 (F32) I32;
            I32TruncSatF64S 0xFC02 (F64) I32; I32TruncSatF64U 0xFC03 (F64) I32;
            I64TruncSatF32S 0xFC04 (F32) I64; I64TruncSatF32U 0xFC05 (F32) I64;
            I64TruncSatF64S 0xFC06 (F64) I64; I64TruncSatF64U 0xFC07 (F64) I64;
        }
    };
}

/// Applies `$m` to the list of loads and stores: `Name opcode natural_align_log2 value_type load|store`.
macro_rules! for_each_memop {
    ($m:ident $($pre:tt)*) => {
        $m! { $($pre)*
            I32Load 0x28 2 I32 load; I64Load 0x29 3 I64 load; F32Load 0x2A 2 F32 load; F64Load 0x2B 3 F64 load;
            I32Load8S 0x2C 0 I32 load; I32Load8U 0x2D 0 I32 load; I32Load16S 0x2E 1 I32 load;
            I32Load16U 0x2F 1 I32 load; I64Load8S 0x30 0 I64 load; I64Load8U 0x31 0 I64 load;
            I64Load16S 0x32 1 I64 load; I64Load16U 0x33 1 I64 load; I64Load32S 0x34 2 I64 load;
            I64Load32U 0x35 2 I64 load;
            I32Store 0x36 2 I32 store; I64Store 0x37 3 I64 store; F32Store 0x38 2 F32 store;
            F64Store 0x39 3 F64 store; I32Store8 0x3A 0 I32 store; I32Store16 0x3B 1 I32 store;
            I64Store8 0x3C 0 I64 store; I64Store16 0x3D 1 I64 store; I64Store32 0x3E 2 I64 store;
        }
    };
}

macro_rules! define_numop {
    ($($name:ident $code:literal ($($p:ident)*) $r:ident;)*) => {
        /// A numeric instruction (no immediates).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum NumOp { $($name),* }

        impl NumOp {
            /// Decodes an opcode (`0xFC_xx` for prefixed ones).
            pub fn from_opcode(code: u32) -> Option<NumOp> {
                match code { $($code => Some(NumOp::$name),)* _ => None }
            }

            /// Whether the result's slot value is the operand's: a 32-bit value's slot
            /// holds it zero-extended, and floats are held as their bits.
            pub fn keeps_bits(self) -> bool {
                matches!(
                    self,
                    NumOp::I64ExtendI32U
                        | NumOp::I32ReinterpretF32
                        | NumOp::F32ReinterpretI32
                        | NumOp::I64ReinterpretF64
                        | NumOp::F64ReinterpretI64
                )
            }

            /// Operand types and result type.
            pub fn signature(self) -> (&'static [ValType], ValType) {
                match self { $(NumOp::$name => (&[$(ValType::$p),*], ValType::$r),)* }
            }

        }
    };
}
for_each_numeric!(define_numop);

macro_rules! define_memop {
    ($($name:ident $code:literal $align:literal $ty:ident $kind:ident;)*) => {
        /// A load or store (its memarg is carried beside it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum MemOp { $($name),* }

        impl MemOp {
            pub fn from_opcode(code: u8) -> Option<MemOp> {
                match code { $($code => Some(MemOp::$name),)* _ => None }
            }

            /// log2 of the access width, the largest alignment allowed.
            pub fn natural_align(self) -> u32 {
                match self { $(MemOp::$name => $align,)* }
            }

            /// The value type loaded or stored.
            pub fn value_type(self) -> ValType {
                match self { $(MemOp::$name => ValType::$ty,)* }
            }

            pub fn is_store(self) -> bool {
                match self { $(MemOp::$name => stringify!($kind) == "store",)* }
            }

        }
    };
}
for_each_memop!(define_memop);

macro_rules! define_op {
    ($($name:ident $code:literal ($($p:ident)*) $r:ident;)*) => {
        for_each_memop!(define_op [$($name)*]);
    };
    ([$($num:ident)*] $($mname:ident $mcode:literal $align:literal $ty:ident $kind:ident;)*) => {
        /// One instruction of the internal code: a register machine over the slots of the
        /// current frame. 16 bytes.
        ///
        /// Operands and results name frame slots (`u32`, relative to the frame pointer):
        /// the function's locals first, then its constant pool, then one slot per operand
        /// stack depth (see [`FuncCode`]). The translator resolves every stack position
        /// statically, so there is no runtime stack pointer. Jump targets are absolute
        /// positions in the module's code array.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            Unreachable,
            /// Charges the fuel of the straight-line run of code that starts here.
            Fuel(u32),
            /// Unconditional jump; charges `fuel` first (the cost of the run it enters,
            /// whose own `Fuel` op is skipped).
            Jump { target: u32, fuel: u32 },
            // Conditional jumps. When the jump is taken it charges `fuel` first, like
            // `Jump`; the code it falls through to starts a run with its own `Fuel` op.
            /// Jumps if the i32 in slot `c` is zero / non-zero.
            JumpIfZero32 { c: u32, target: u32, fuel: u32 },
            JumpIfNonZero32 { c: u32, target: u32, fuel: u32 },
            /// Jumps if the i64 in slot `c` is zero / non-zero (a fused `i64.eqz`).
            JumpIfZero64 { c: u32, target: u32, fuel: u32 },
            JumpIfNonZero64 { c: u32, target: u32, fuel: u32 },
            /// Fused integer comparison and branch: jumps when `a <op> b` holds. The slots
            /// are 16-bit to leave room for `fuel` (the translator fuses only below 2^16).
            JumpI32Eq { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32Ne { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32LtS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32LtU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32GtS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32GtU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32LeS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32LeU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32GeS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI32GeU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64Eq { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64Ne { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64LtS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64LtU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64GtS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64GtU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64LeS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64LeU { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64GeS { a: u16, b: u16, target: u32, fuel: u32 },
            JumpI64GeU { a: u16, b: u16, target: u32, fuel: u32 },
            /// A loop's step and test in one op (made by `compile::fuse_steps`): slot `x`
            /// becomes `x + k` (or `x - k`), then the op jumps like a compare-and-branch
            /// when `x <cmp> limit` holds (or `x` is zero / non-zero), and otherwise goes on
            /// at the op after next (the next one is the test it replaced, left unreached).
            /// `how` is [`StepHow::code`].
            StepJump32 { x: u16, k: u16, limit: u16, how: u8, target: u32, fuel: u32 },
            StepJump64 { x: u16, k: u16, limit: u16, how: u8, target: u32, fuel: u32 },
            /// Jumps by the i32 in slot `idx`: the next `len + 1` ops are `Jump`s, one per
            /// target, the last the default.
            BrTable { idx: u32, len: u32 },
            /// Returns the `n` values in slots `src..src + n` to the caller.
            Return { src: u32, n: u32 },
            /// Calls a function defined in this module (index among defined functions); its
            /// frame starts at slot `base`, where the arguments are and the results will be.
            Call { func: u32, base: u32 },
            /// Calls a function through the instance's function index space (imports).
            CallImport { func: u32, base: u32 },
            /// Arguments at `base..`, the table index in the slot after them.
            CallIndirect { ty: u32, table: u32, base: u32 },
            Copy { dst: u32, src: u32 },
            /// A constant not in the function's constant pool, as slot bits.
            Const { dst: u32, value: u64 },
            /// `select` on slots `base` (first), `base + 1` (second), `base + 2` (condition); result in `base`.
            Select { base: u32 },
            GlobalGet { dst: u32, global: u32 },
            GlobalSet { src: u32, global: u32 },
            // Table and bulk operations take their operands in consecutive slots from
            // `base` (in stack order) and leave a result, if any, in `base`.
            TableGet { table: u32, base: u32 },
            TableSet { table: u32, base: u32 },
            TableSize { table: u32, dst: u32 },
            TableGrow { table: u32, base: u32 },
            TableFill { table: u32, base: u32 },
            TableCopy { dst: u32, src: u32, base: u32 },
            TableInit { table: u32, elem: u32, base: u32 },
            ElemDrop(u32),
            MemorySize { dst: u32 },
            MemoryGrow { base: u32 },
            MemoryFill { base: u32 },
            MemoryCopy { base: u32 },
            MemoryInit { seg: u32, base: u32 },
            DataDrop(u32),
            RefIsNull { dst: u32, a: u32 },
            RefFunc { dst: u32, func: u32 },
            /// Numeric instructions: `dst = a <op> b` (unary ones ignore `b`).
            $($num { dst: u32, a: u32, b: u32 },)*
            /// Loads: `r` is the result slot; stores: `r` is the value stored.
            $($mname { r: u32, addr: u32, offset: u32 },)*
        }

        impl NumOp {
            pub(crate) fn to_op(self, dst: u32, a: u32, b: u32) -> Op {
                match self { $(NumOp::$num => Op::$num { dst, a, b },)* }
            }
        }

        impl MemOp {
            pub(crate) fn to_op(self, r: u32, addr: u32, offset: u32) -> Op {
                match self { $(MemOp::$mname => Op::$mname { r, addr, offset },)* }
            }
        }

        impl Op {
            /// One past the highest frame slot the op reads or writes (`0` if none);
            /// `params(ty)` is the parameter count of module type `ty`.
            pub(crate) fn slot_bound(&self, params: impl Fn(u32) -> u32) -> u64 {
                use Op as O;
                let (hi, n) = match *self {
                    $(O::$num { dst, a, b } => (dst.max(a).max(b), 1),)*
                    $(O::$mname { r, addr, .. } => (r.max(addr), 1),)*
                    O::Unreachable | O::Fuel(_) | O::Jump { .. } | O::ElemDrop(_) | O::DataDrop(_) => return 0,
                    O::JumpIfZero32 { c, .. } | O::JumpIfNonZero32 { c, .. } => (c, 1),
                    O::JumpIfZero64 { c, .. } | O::JumpIfNonZero64 { c, .. } => (c, 1),
                    O::JumpI32Eq { a, b, .. } | O::JumpI32Ne { a, b, .. } | O::JumpI32LtS { a, b, .. }
                    | O::JumpI32LtU { a, b, .. } | O::JumpI32GtS { a, b, .. } | O::JumpI32GtU { a, b, .. }
                    | O::JumpI32LeS { a, b, .. } | O::JumpI32LeU { a, b, .. } | O::JumpI32GeS { a, b, .. }
                    | O::JumpI32GeU { a, b, .. } | O::JumpI64Eq { a, b, .. } | O::JumpI64Ne { a, b, .. }
                    | O::JumpI64LtS { a, b, .. } | O::JumpI64LtU { a, b, .. } | O::JumpI64GtS { a, b, .. }
                    | O::JumpI64GtU { a, b, .. } | O::JumpI64LeS { a, b, .. } | O::JumpI64LeU { a, b, .. }
                    | O::JumpI64GeS { a, b, .. } | O::JumpI64GeU { a, b, .. } => (a.max(b) as u32, 1),
                    O::BrTable { idx, .. } => (idx, 1),
                    O::StepJump32 { x, k, limit, .. } | O::StepJump64 { x, k, limit, .. } => {
                        (x.max(k).max(limit) as u32, 1)
                    }
                    // The result goes to slot 0.
                    O::Return { n: 0, .. } => return 0,
                    O::Return { src, n } => (src, n),
                    O::Call { base, .. } | O::CallImport { base, .. } => (base, 0),
                    O::CallIndirect { ty, base, .. } => (base, params(ty).saturating_add(1)),
                    O::Copy { dst, src } => (dst.max(src), 1),
                    O::Const { dst, .. } | O::GlobalGet { dst, .. } | O::TableSize { dst, .. } => (dst, 1),
                    O::MemorySize { dst } => (dst, 1),
                    O::GlobalSet { src, .. } => (src, 1),
                    O::Select { base } | O::TableFill { base, .. } | O::TableCopy { base, .. } => (base, 3),
                    O::TableInit { base, .. } | O::MemoryFill { base } | O::MemoryCopy { base } => (base, 3),
                    O::MemoryInit { base, .. } => (base, 3),
                    O::TableSet { base, .. } | O::TableGrow { base, .. } => (base, 2),
                    O::TableGet { base, .. } | O::MemoryGrow { base } => (base, 1),
                    O::RefIsNull { dst, a } => (dst.max(a), 1),
                    O::RefFunc { dst, .. } => (dst, 1),
                };
                hi as u64 + n as u64
            }

            /// The result slot of a numeric op.
            pub(crate) fn numeric_result(&self) -> Option<u32> {
                match *self {
                    $(Op::$num { dst, .. } => Some(dst),)*
                    _ => None,
                }
            }

            /// The result slot of a load.
            pub(crate) fn loaded_into(&self) -> Option<u32> {
                match *self {
                    $(Op::$mname { r, .. } if !MemOp::$mname.is_store() => Some(r),)*
                    _ => None,
                }
            }

            /// The result slot of an op that only computes a value into it (no other effect
            /// besides a possible trap), so the translator may redirect the result.
            pub(crate) fn result_slot(&mut self) -> Option<&mut u32> {
                match self {
                    $(Op::$num { dst, .. } => Some(dst),)*
                    $(Op::$mname { r, .. } if !MemOp::$mname.is_store() => Some(r),)*
                    Op::Copy { dst, .. } | Op::Const { dst, .. } | Op::GlobalGet { dst, .. } => Some(dst),
                    Op::RefIsNull { dst, .. } | Op::RefFunc { dst, .. } => Some(dst),
                    _ => None,
                }
            }
        }
    };
}
for_each_numeric!(define_op);

pub(crate) use {for_each_memop, for_each_numeric};

/// The test of a [`Op::StepJump32`]/[`Op::StepJump64`]: `x <cmp> limit` for the ten
/// integer comparisons (in `Eq, Ne, LtS, LtU, GtS, GtU, LeS, LeU, GeS, GeU` order), or `x`
/// zero / non-zero; and whether the step subtracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepHow {
    pub cmp: u8,
    pub sub: bool,
}

impl StepHow {
    /// Comparisons 0..=9, then `ZERO` and `NON_ZERO`.
    pub const ZERO: u8 = 10;
    pub const NON_ZERO: u8 = 11;
    /// Number of distinct codes.
    pub const CODES: usize = 24;

    pub fn code(self) -> u8 {
        self.cmp + if self.sub { 12 } else { 0 }
    }
}

/// Per-function data the interpreter needs at a call.
///
/// Frame layout (slots above the frame pointer): parameters, declared locals (zeroed on
/// entry), the constant pool (copied in on entry), then one slot per operand stack depth.
#[derive(Clone, Debug)]
pub struct FuncCode {
    /// Position of the first op in the module's code array.
    pub start: u32,
    pub num_params: u32,
    /// Declared locals beyond the parameters (zero-initialised on entry).
    pub num_locals: u32,
    /// Constants copied into the frame after the locals on entry.
    pub consts: Box<[u64]>,
    /// Slots the frame uses: locals + constants + the deepest operand stack.
    pub max_height: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_is_compact() {
        assert!(std::mem::size_of::<Op>() <= 16, "{}", std::mem::size_of::<Op>());
    }

    #[test]
    fn tables_round_trip() {
        assert_eq!(NumOp::from_opcode(0x6A), Some(NumOp::I32Add));
        assert_eq!(NumOp::from_opcode(0xFC07), Some(NumOp::I64TruncSatF64U));
        assert_eq!(NumOp::from_opcode(0xC5), None);
        assert!(MemOp::from_opcode(0x3E).is_some_and(|m| m.is_store() && m.natural_align() == 2));
    }
}
