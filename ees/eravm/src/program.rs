//! EraVM bytecode as a program: validation, the versioned hash, and the decoded
//! instructions next to the code page they came from.
//!
//! Format facts (`zkevm_opcode_defs::bytecode_to_code_hash`; the system contracts check the
//! same rules when code is published):
//! - the code is a sequence of 32-byte words, an odd number of them ("for ease of use of
//!   SHA256 round function", says the reference: 64·k + 32 bytes leave exactly the last
//!   block's second half for SHA-256's padding),
//! - at most 65,535 words (the word count must fit the hash's u16),
//! - the versioned hash is `[0x01, 0x00, words as u16 big-endian, sha256(code)[4..32]]`;
//!   byte 1 is 0 for a constructed contract (1 while its constructor runs).

use std::fmt;
use std::sync::Arc;

use ee_api::{Bytecode, U256};
use sha2::{Digest, Sha256};

use crate::decode::Instruction;
use crate::encoding::{Raw, INSTRUCTIONS_PER_WORD, INSTRUCTION_BYTES};

/// Bytes per code word.
pub const WORD_BYTES: usize = 32;
/// The largest code, in words.
pub const MAX_WORDS: usize = u16::MAX as usize;
/// The program counter is a u16 instruction index: at most this many instructions are
/// reachable, however long the code (a 65,535-word code page holds 262,140 slots; the
/// words past the first 16,384 can only be read as `code[…]` constants).
pub const MAX_INSTRUCTIONS: usize = 1 << 16;

/// Why bytes are not EraVM code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// The length is not a multiple of 32 bytes.
    NotWords { len: usize },
    /// An even number of words (zero included).
    EvenWordCount { words: usize },
    /// More than 65,535 words.
    TooLong { words: usize },
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeError::NotWords { len } => {
                write!(f, "EraVM code must be whole 32-byte words, but it is {len} bytes ({} left over)", len % 32)
            }
            CodeError::EvenWordCount { words: 0 } => f.write_str("EraVM code must not be empty (an odd word count)"),
            CodeError::EvenWordCount { words } => {
                write!(f, "EraVM code must be an odd number of 32-byte words, but it has {words}")
            }
            CodeError::TooLong { words } => {
                write!(f, "EraVM code may have at most {MAX_WORDS} words, but it has {words}")
            }
        }
    }
}

impl std::error::Error for CodeError {}

/// Checks the length rules; returns the word count.
pub fn validate(code: &[u8]) -> Result<usize, CodeError> {
    if !code.len().is_multiple_of(WORD_BYTES) {
        return Err(CodeError::NotWords { len: code.len() });
    }
    let words = code.len() / WORD_BYTES;
    if words > MAX_WORDS {
        return Err(CodeError::TooLong { words });
    }
    if words.is_multiple_of(2) {
        return Err(CodeError::EvenWordCount { words });
    }
    Ok(words)
}

/// The versioned bytecode hash by which ZKsync names code (the account's code hash, the
/// key of `KnownCodesStorage`).
pub fn versioned_hash(code: &[u8]) -> Result<[u8; 32], CodeError> {
    let words = validate(code)?;
    let digest = Sha256::digest(code);
    let mut hash = [0u8; 32];
    hash[0] = 1;
    hash[2..4].copy_from_slice(&(words as u16).to_be_bytes());
    hash[4..].copy_from_slice(&digest[4..]);
    Ok(hash)
}

/// Valid code, decoded once: its code page (for `code[…]` operands) and one
/// [`Instruction`] per reachable program counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    words: Box<[U256]>,
    instructions: Box<[Instruction]>,
    /// The versioned hash, computed with the decoding (a far call prices its decommit by it).
    hash: U256,
}

/// The prefix of EraVM code stored in an account: `ee_api::EeKind::MARKER` and kind 3.
pub const MARKER: [u8; 3] = [0xEF, 0xEE, 0x03];

/// Stored code for raw EraVM bytecode: [`MARKER`] then the words.
pub fn stored_code(bytecode: &[u8]) -> Vec<u8> {
    let mut code = MARKER.to_vec();
    code.extend_from_slice(bytecode);
    code
}

/// What [`Program::of`] caches per code object: the program, or why the code is invalid.
pub type Analysis = Result<Arc<Program>, CodeError>;

impl Program {
    /// Validates and decodes `code` (raw EraVM bytecode, no EE marker).
    pub fn new(code: &[u8]) -> Result<Program, CodeError> {
        let hash = U256::from_be_bytes(versioned_hash(code)?);
        let words = code.chunks_exact(WORD_BYTES).map(U256::from_be_slice).collect();
        let instructions = code
            .chunks_exact(INSTRUCTION_BYTES)
            .take(MAX_INSTRUCTIONS)
            .map(|bytes| Instruction::decode(Raw::from_be_bytes(bytes.try_into().expect("8-byte chunk"))))
            .collect();
        Ok(Program { words, instructions, hash })
    }

    /// The program of a code object, decoded on first use and shared by every later call
    /// of the same code (`Bytecode::analysis`). Stored code starts with the EraVM marker
    /// (`0xEF 0xEE 0x03`, see [`MARKER`]), which is stripped; bytes without it are taken as
    /// raw EraVM code.
    pub fn of(code: &Bytecode) -> Arc<Analysis> {
        code.analysis(|bytes| Program::new(bytes.strip_prefix(&MARKER[..]).unwrap_or(bytes)).map(Arc::new))
    }

    /// The versioned hash of the code (byte 1 clear).
    pub fn versioned_hash(&self) -> U256 {
        self.hash
    }

    /// The instruction at `pc`; the invalid instruction past the end of the code (zk_evm
    /// reads zeros there), so a jump out of the code panics when executed.
    #[inline]
    pub fn instruction(&self, pc: u16) -> &Instruction {
        self.instructions.get(pc as usize).unwrap_or(&Instruction::INVALID)
    }

    /// Every decoded slot: four per word, up to [`MAX_INSTRUCTIONS`]. The slots after the
    /// code proper (padding, constants, metadata) decode to whatever their bits say.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// Word `index` of the code page; zero past the end, as the code page reads.
    #[inline]
    pub fn code_word(&self, index: u16) -> U256 {
        self.words.get(index as usize).copied().unwrap_or(U256::ZERO)
    }

    pub fn word_count(&self) -> usize {
        self.words.len()
    }
}

/// The instruction slots of a word count (what [`Program::instructions`] holds).
pub const fn slots_for_words(words: usize) -> usize {
    let slots = words * INSTRUCTIONS_PER_WORD;
    if slots < MAX_INSTRUCTIONS {
        slots
    } else {
        MAX_INSTRUCTIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::table::Op;

    #[test]
    fn bad_lengths_are_rejected_with_the_reason() {
        assert_eq!(validate(&[]), Err(CodeError::EvenWordCount { words: 0 }));
        assert_eq!(validate(&[0; 31]), Err(CodeError::NotWords { len: 31 }));
        assert_eq!(validate(&[0; 33]), Err(CodeError::NotWords { len: 33 }));
        assert_eq!(validate(&[0; 64]), Err(CodeError::EvenWordCount { words: 2 }));
        assert_eq!(validate(&[0; 32]), Ok(1));
        assert_eq!(validate(&[0; 96]), Ok(3));
        assert_eq!(validate(&vec![0; 32 * MAX_WORDS]), Ok(MAX_WORDS));
        assert_eq!(validate(&vec![0; 32 * (MAX_WORDS + 2)]), Err(CodeError::TooLong { words: MAX_WORDS + 2 }));
        assert!(CodeError::NotWords { len: 33 }.to_string().contains("33 bytes"));
        assert!(CodeError::EvenWordCount { words: 0 }.to_string().contains("empty"));
        assert!(Program::new(&[0; 64]).is_err());
        assert!(versioned_hash(&[0; 40]).is_err());
    }

    /// The hash of one zero word, computed by hand: sha256 of 32 zero bytes is
    /// 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
    #[test]
    fn versioned_hash_layout() {
        let hash = versioned_hash(&[0; 32]).unwrap();
        let mut expected = [0u8; 32];
        expected[..4].copy_from_slice(&[0x01, 0x00, 0x00, 0x01]);
        expected[4..].copy_from_slice(&[
            0xf8, 0x62, 0xbd, 0x77, 0x6c, 0x8f, 0xc1, 0x8b, 0x8e, 0x9f, 0x8e, 0x20, 0x08, 0x97, 0x14, 0x85, 0x6e, 0xe2,
            0x33, 0xb3, 0x90, 0x2a, 0x59, 0x1d, 0x0d, 0x5f, 0x29, 0x25,
        ]);
        assert_eq!(hash, expected);
        assert_eq!(versioned_hash(&vec![0; 32 * 259]).unwrap()[2..4], [0x01, 0x03]);
    }

    #[test]
    fn program_decodes_four_slots_per_word_in_order() {
        let mut code = [0u8; 32];
        // Slot 0: `incsp 2`; slot 1: `add 128, r0, r1`; slots 2, 3: zero (invalid).
        code[..8].copy_from_slice(&Raw::encode(2, 0, 0, 0, 0, 0, 0, 2).0.to_be_bytes());
        code[8..16].copy_from_slice(&Raw::encode(57, 0, 0, 0, 1, 0, 128, 0).0.to_be_bytes());
        let program = Program::new(&code).unwrap();
        assert_eq!(program.instructions().len(), 4);
        assert_eq!(program.instruction(0).op, Op::Nop);
        assert_eq!(program.instruction(1).op, Op::Add);
        assert_eq!(program.instruction(1).imm0, 128);
        assert!(program.instruction(2).is_invalid());
        assert!(program.instruction(4).is_invalid(), "past the end reads as invalid");
        assert!(program.instruction(u16::MAX).is_invalid());
        assert_eq!(program.code_word(0), U256::from_be_slice(&code));
        assert_eq!(program.code_word(1), U256::ZERO);
    }

    #[test]
    fn only_the_first_65536_slots_are_decoded() {
        let words = 16_385; // odd, one word more than the PC reaches
        let program = Program::new(&vec![0; 32 * words]).unwrap();
        assert_eq!(program.instructions().len(), MAX_INSTRUCTIONS);
        assert_eq!(slots_for_words(words), MAX_INSTRUCTIONS);
        assert_eq!(slots_for_words(3), 12);
        assert_eq!(program.word_count(), words);
    }

    #[test]
    fn analysis_is_cached_per_code_object() {
        let code = Bytecode::new(Arc::from(&[0u8; 32][..]));
        let first = Program::of(&code);
        let second = Program::of(&code);
        assert!(Arc::ptr_eq(&first, &second));
        assert!(first.is_ok());
        let bad = Bytecode::new(Arc::from(&[0u8; 64][..]));
        assert_eq!(*Program::of(&bad), Err(CodeError::EvenWordCount { words: 2 }));
    }
}
