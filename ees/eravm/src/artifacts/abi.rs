//! A small Solidity ABI for tests and vectors: function selectors, encoding of static and
//! dynamic arguments (head/tail layout), arguments written as text, and decoding of
//! returned words and strings.

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

/// The parameter types of a canonical signature such as `"transfer(address,uint256)"`
/// (no tuples or arrays).
pub fn param_types(signature: &str) -> Result<Vec<&str>, String> {
    let inner = signature
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .ok_or_else(|| format!("signature {signature:?} is not name(type,...)"))?;
    Ok(if inner.is_empty() { Vec::new() } else { inner.split(',').map(str::trim).collect() })
}

/// A value of Solidity type `ty` written as text: `uintN` in decimal or `0x` hex, `address`
/// and `bytes32` in `0x` hex (left-padded to their size), `bool` as `true`/`false`, `bytes`
/// in `0x` hex, `string` as it is.
pub fn token(ty: &str, text: &str) -> Result<Token, String> {
    let hex_of = |s: &str| hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| format!("{ty} {s:?}: {e}"));
    let word = |s: &str, max: usize| -> Result<[u8; 32], String> {
        let b = hex_of(s)?;
        if b.len() > max {
            return Err(format!("{ty} {s:?}: more than {max} bytes"));
        }
        let mut w = [0u8; 32];
        w[32 - b.len()..].copy_from_slice(&b);
        Ok(w)
    };
    Ok(match ty {
        "address" => Token::Address(Address::from_word(U256::from_be_bytes(word(text, 20)?))),
        "bytes32" => Token::Bytes32(B256(word(text, 32)?)),
        "bool" => match text {
            "true" => Token::Bool(true),
            "false" => Token::Bool(false),
            _ => return Err(format!("bool {text:?}: not true or false")),
        },
        "bytes" => Token::Bytes(hex_of(text)?),
        "string" => Token::String(text.to_string()),
        t if t.starts_with("uint") => {
            let v = match text.strip_prefix("0x") {
                Some(h) => U256::from_str_radix(h, 16),
                None => U256::from_str_radix(text, 10),
            }
            .map_err(|e| format!("{ty} {text:?}: {e}"))?;
            Token::Uint(v)
        }
        _ => return Err(format!("unsupported ABI type {ty:?}")),
    })
}

/// Calldata for `signature` with arguments written as text (see [`token`]).
pub fn call_text(signature: &str, args: &[String]) -> Result<Vec<u8>, String> {
    let types = param_types(signature)?;
    if types.len() != args.len() {
        return Err(format!("{signature}: {} argument(s) given, {} expected", args.len(), types.len()));
    }
    let tokens = types.iter().zip(args).map(|(t, a)| token(t, a)).collect::<Result<Vec<_>, _>>()?;
    Ok(call(signature, &tokens))
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

    #[test]
    fn arguments_as_text() {
        assert_eq!(param_types("f()").unwrap(), Vec::<&str>::new());
        assert_eq!(param_types("transfer(address,uint256)").unwrap(), ["address", "uint256"]);
        let text = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let by_text = call_text("transfer(address,uint256)", &text(&["0xbb", "0x64"])).unwrap();
        let mut bob = [0u8; 20];
        bob[19] = 0xbb;
        assert_eq!(
            by_text,
            call("transfer(address,uint256)", &[Token::Address(Address(bob)), Token::Uint(U256::from(100))])
        );
        let s = call_text("setGreeting(string)", &text(&["hi"])).unwrap();
        assert_eq!(s, call("setGreeting(string)", &[Token::String("hi".into())]));
        assert!(call_text("f(uint256)", &[]).is_err());
        assert!(call_text("f(int256)", &text(&["1"])).is_err());
        assert!(call_text("f(bool)", &text(&["yes"])).is_err());
    }
}
