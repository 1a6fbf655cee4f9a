//! A small EVM assembler for hand-written test vectors: mnemonics as traces print
//! them, `PUSHn` immediates, labels, and raw bytes.
//!
//! ```text
//! PUSH1 0x2a PUSH1 0 SSTORE      ; store 42 at slot 0
//! PUSH2 @end JUMP
//! end: JUMPDEST STOP
//! 0xfe                           ; raw bytes, copied as they are
//! ```
//!
//! Tokens are separated by whitespace; `;` starts a comment to the end of the line.
//! `name:` marks the position of the next byte; `@name` is that position as a
//! `PUSHn` immediate. Immediates are hex (`0x..`) or decimal, at most `n` bytes.

use std::collections::HashMap;

use ee_api::{Fork, U256};

use crate::tables::op_name;

/// Assembles `text` into bytecode, or says which token is wrong.
pub fn assemble(text: &str) -> Result<Vec<u8>, String> {
    let opcodes: HashMap<&str, u8> = (0..=255u8)
        .flat_map(|op| {
            [op_name(op, Fork::Cancun), op_name(op, Fork::London)].into_iter().flatten().map(move |n| (n, op))
        })
        .collect();
    let tokens: Vec<&str> = text.lines().flat_map(|l| l.split(';').next().unwrap_or("").split_whitespace()).collect();

    // Two passes: the first finds label positions (every item's size is known without them).
    let mut labels: HashMap<&str, usize> = HashMap::new();
    for pass in 0..2 {
        let mut code = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let token = tokens[i];
            i += 1;
            if let Some(label) = token.strip_suffix(':') {
                if pass == 0 && labels.insert(label, code.len()).is_some() {
                    return Err(format!("label {label:?} defined twice"));
                }
                continue;
            }
            if let Some(hex) = token.strip_prefix("0x") {
                code.extend(hex::decode(hex).map_err(|e| format!("raw bytes {token:?}: {e}"))?);
                continue;
            }
            let &op =
                opcodes.get(token.to_ascii_uppercase().as_str()).ok_or_else(|| format!("unknown opcode {token:?}"))?;
            code.push(op);
            let size = match op {
                0x60..=0x7f => (op - 0x5f) as usize,
                _ => continue,
            };
            let arg = *tokens.get(i).ok_or_else(|| format!("{token} needs an immediate"))?;
            i += 1;
            let value = match arg.strip_prefix('@') {
                Some(label) if pass == 0 => labels.get(label).map_or(U256::ZERO, |&p| U256::from(p)),
                Some(label) => U256::from(*labels.get(label).ok_or_else(|| format!("unknown label {label:?}"))?),
                None => parse_immediate(arg)?,
            };
            let bytes = value.to_be_bytes::<32>();
            if bytes[..32 - size].iter().any(|b| *b != 0) {
                return Err(format!("{token} {arg}: the value does not fit in {size} bytes"));
            }
            code.extend_from_slice(&bytes[32 - size..]);
        }
        if pass == 1 {
            return Ok(code);
        }
    }
    unreachable!("the second pass returns")
}

fn parse_immediate(arg: &str) -> Result<U256, String> {
    let parsed = match arg.strip_prefix("0x") {
        Some(hex) => U256::from_str_radix(hex, 16),
        None => U256::from_str_radix(arg, 10),
    };
    parsed.map_err(|e| format!("immediate {arg:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_immediates_labels_and_raw_bytes() {
        let code = assemble("PUSH1 0x2a push1 0 SSTORE ; comment\nPUSH2 @end JUMP\nend: JUMPDEST STOP 0xfe").unwrap();
        assert_eq!(code, [0x60, 0x2a, 0x60, 0x00, 0x55, 0x61, 0x00, 0x09, 0x56, 0x5b, 0x00, 0xfe]);
        assert_eq!(assemble("DIFFICULTY PREVRANDAO").unwrap(), [0x44, 0x44]);
    }

    #[test]
    fn errors_name_the_token() {
        assert!(assemble("PUSH1 256").unwrap_err().contains("does not fit"));
        assert!(assemble("FOO").unwrap_err().contains("FOO"));
        assert!(assemble("PUSH1").unwrap_err().contains("immediate"));
        assert!(assemble("PUSH1 @nowhere").unwrap_err().contains("nowhere"));
        assert!(assemble("a: a:").unwrap_err().contains("twice"));
    }
}
