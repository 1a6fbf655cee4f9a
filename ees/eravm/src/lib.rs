//! The EraVM (ZKsync Era VM) execution environment: bytecode validation, the versioned
//! bytecode hash, a decoder that turns code into a [`Program`] of fixed-size
//! [`Instruction`]s once per code object, a disassembler in zksolc's listing syntax, an
//! encoder and assembler ([`asm`]) for tests, a text assembler in the listing syntax ([`text`]), and [`machine`], which executes one far frame
//! (no far calls, storage, events or context setters yet: those stop as `Unsupported`;
//! see README.md).
//!
//! ```
//! use ee_eravm::{Op, Program};
//! // One word: `incsp 2`, `add 128, r0, r1`, then two zero (invalid) slots.
//! let mut code = [0u8; 32];
//! code[..8].copy_from_slice(&[0x00, 0x02, 0, 0, 0, 0, 0x00, 0x02]);
//! code[8..16].copy_from_slice(&[0, 0, 0x00, 0x80, 0x01, 0x00, 0x00, 0x39]);
//! let program = Program::new(&code).unwrap();
//! assert_eq!(program.instruction(1).op, Op::Add);
//! assert_eq!(program.instruction(1).to_string(), "add\t128, r0, r1");
//! assert!(program.instruction(2).is_invalid());
//! ```

#![forbid(unsafe_code)]

#[cfg(feature = "artifacts")]
pub mod artifacts;
pub mod asm;
pub mod decode;
pub mod deploy;
mod disasm;
pub mod ee;
pub mod encoding;
pub mod machine;
pub mod program;
pub mod table;
pub mod text;

pub use decode::{flag_state, Cond, Instruction};
pub use ee::EraVmEe;
pub use encoding::Raw;
pub use program::{
    stored_code, validate, versioned_hash, Analysis, CodeError, Program, MARKER, MAX_INSTRUCTIONS, MAX_WORDS,
};
pub use table::{Dst, Family, Modifiers, Op, Src, Variant, VARIANTS};
