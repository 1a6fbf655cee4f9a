//! A small Solidity ABI for tests: function selectors, encoding of static and dynamic
//! arguments (head/tail layout), and decoding of returned words and strings.

use ee_api::{Address, B256, U256};

/// The 4-byte selector of a canonical signature such as `"transfer(address,uint256)"`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = B256::keccak(signature.as_bytes());
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// One ABI value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Uint(U256),
    Address(Address),
    Bool(bool),
    Bytes32(B256),
    /// Dynamic `bytes`.
    Bytes(Vec<u8>),
    /// Dynamic `string`.
    String(String),
}

impl Token {
    fn is_dynamic(&self) -> bool {
        matches!(self, Token::Bytes(_) | Token::String(_))
    }

    fn head_word(&self) -> [u8; 32] {
        match self {
            Token::Uint(x) => x.to_be_bytes::<32>(),
            Token::Address(a) => a.to_word().to_be_bytes::<32>(),
            Token::Bool(b) => U256::from(u8::from(*b)).to_be_bytes::<32>(),
            Token::Bytes32(b) => b.0,
            Token::Bytes(_) | Token::String(_) => unreachable!("dynamic tokens have no static head"),
        }
    }
}

fn pad_to_words(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bytes);
    out.resize(out.len() + (32 - bytes.len() % 32) % 32, 0);
}

/// ABI-encodes a tuple of `tokens` (no selector).
pub fn encode(tokens: &[Token]) -> Vec<u8> {
    let mut head = Vec::with_capacity(32 * tokens.len());
    let mut tail = Vec::new();
    for t in tokens {
        if t.is_dynamic() {
            let offset = U256::from(32 * tokens.len() + tail.len());
            head.extend_from_slice(&offset.to_be_bytes::<32>());
            let bytes = match t {
                Token::Bytes(b) => &b[..],
                Token::String(s) => s.as_bytes(),
                _ => unreachable!(),
            };
            tail.extend_from_slice(&U256::from(bytes.len()).to_be_bytes::<32>());
            pad_to_words(bytes, &mut tail);
        } else {
            head.extend_from_slice(&t.head_word());
        }
    }
    head.extend_from_slice(&tail);
    head
}

/// Calldata for `signature` with `args`: selector then [`encode`].
pub fn call(signature: &str, args: &[Token]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    out.extend_from_slice(&encode(args));
    out
}

/// The `index`-th 32-byte word of `data`, if present.
pub fn decode_uint(data: &[u8], index: usize) -> Option<U256> {
    let w = data.get(32 * index..32 * index + 32)?;
    Some(U256::from_be_slice(w))
}

/// The `index`-th word of `data` as an address (its low 20 bytes), if present.
pub fn decode_address(data: &[u8], index: usize) -> Option<Address> {
    decode_uint(data, index).map(Address::from_word)
}

/// The dynamic `bytes`/`string` whose offset is the `index`-th head word of `data`.
pub fn decode_bytes(data: &[u8], index: usize) -> Option<Vec<u8>> {
    let offset = usize::try_from(decode_uint(data, index)?).ok()?;
    let len = usize::try_from(U256::from_be_slice(data.get(offset..offset.checked_add(32)?)?)).ok()?;
    let start = offset + 32;
    data.get(start..start.checked_add(len)?).map(<[u8]>::to_vec)
}

/// The string of a Solidity `Error(string)` revert, if `data` is one.
pub fn decode_revert_reason(data: &[u8]) -> Option<String> {
    let rest = data.strip_prefix(&selector("Error(string)"))?;
    String::from_utf8(decode_bytes(rest, 0)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_selectors() {
        assert_eq!(hex::encode(selector("transfer(address,uint256)")), "a9059cbb");
        assert_eq!(hex::encode(selector("balanceOf(address)")), "70a08231");
        assert_eq!(hex::encode(selector("Error(string)")), "08c379a0");
    }

    #[test]
    fn dynamic_encoding_round_trips() {
        let data = encode(&[Token::Uint(U256::from(7)), Token::String("hello".into()), Token::Bool(true)]);
        // Head: 3 words; the string's offset is 96; tail: length then one padded word.
        assert_eq!(data.len(), 32 * 5);
        assert_eq!(decode_uint(&data, 0), Some(U256::from(7)));
        assert_eq!(decode_uint(&data, 1), Some(U256::from(96)));
        assert_eq!(decode_uint(&data, 2), Some(U256::from(1)));
        assert_eq!(decode_bytes(&data, 1), Some(b"hello".to_vec()));
        let mut revert = selector("Error(string)").to_vec();
        revert.extend(encode(&[Token::String("no".into())]));
        assert_eq!(decode_revert_reason(&revert).as_deref(), Some("no"));
    }
}
