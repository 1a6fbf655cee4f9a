//! Recursive-length-prefix encoding (the encoder half only).
//!
//! Every function appends to a caller-owned `Vec<u8>`, so a structure can be
//! encoded without intermediate allocations:
//!
//! - strings: [`encode_bytes`] (and the integer helpers [`encode_u64`],
//!   [`encode_u256`], which use the minimal big-endian form, zero being the
//!   empty string);
//! - lists: encode the items into the buffer, then call [`wrap_list`] with the
//!   offset where the items began; it inserts the list header in front of them.
//!   [`encode_list_header`] writes a header when the payload length is known in
//!   advance.
//!
//! ```
//! use bootloader::rlp;
//! let mut out = Vec::new();
//! let start = out.len();
//! rlp::encode_bytes(&mut out, b"cat");
//! rlp::encode_bytes(&mut out, b"dog");
//! rlp::wrap_list(&mut out, start);
//! assert_eq!(out, [0xc8, 0x83, b'c', b'a', b't', 0x83, b'd', b'o', b'g']);
//! ```
use ee_api::U256;

/// The encoding of the empty string (also of the integer zero).
pub const EMPTY_STRING: u8 = 0x80;
/// The encoding of the empty list.
pub const EMPTY_LIST: u8 = 0xc0;

/// Number of bytes of `len` in minimal big-endian form (0 for 0).
#[inline]
fn be_len(len: usize) -> usize {
    (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
}

/// The header for a payload of `len` bytes: `short_base + len` for `len < 56`,
/// else `short_base + 55 + len_of_len` followed by `len` big-endian.
/// Returns the buffer and how many of its bytes are used.
#[inline]
fn header(short_base: u8, len: usize) -> ([u8; 1 + size_of::<usize>()], usize) {
    let mut h = [0u8; 1 + size_of::<usize>()];
    if len < 56 {
        h[0] = short_base + len as u8;
        (h, 1)
    } else {
        let n = be_len(len);
        h[0] = short_base + 55 + n as u8;
        h[1..=n].copy_from_slice(&len.to_be_bytes()[size_of::<usize>() - n..]);
        (h, 1 + n)
    }
}

#[inline]
fn encode_header(out: &mut Vec<u8>, short_base: u8, len: usize) {
    let (h, n) = header(short_base, len);
    out.extend_from_slice(&h[..n]);
}

/// Length of the RLP header for a payload of `len` bytes.
#[inline]
pub fn header_len(len: usize) -> usize {
    if len < 56 {
        1
    } else {
        1 + be_len(len)
    }
}

/// Appends `bytes` as an RLP string.
#[inline]
pub fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        out.push(bytes[0]);
    } else {
        encode_header(out, 0x80, bytes.len());
        out.extend_from_slice(bytes);
    }
}

/// Length of the RLP string encoding of `bytes`.
#[inline]
pub fn bytes_len(bytes: &[u8]) -> usize {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        1
    } else {
        header_len(bytes.len()) + bytes.len()
    }
}

/// Appends an unsigned integer (minimal big-endian, zero = empty string).
#[inline]
pub fn encode_u64(out: &mut Vec<u8>, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = (value.leading_zeros() / 8) as usize;
    encode_bytes(out, &bytes[skip..]);
}

/// Appends a 256-bit unsigned integer (minimal big-endian, zero = empty string).
#[inline]
pub fn encode_u256(out: &mut Vec<u8>, value: &U256) {
    let bytes = value.to_be_bytes::<32>();
    let skip = (value.leading_zeros() / 8).min(32);
    encode_bytes(out, &bytes[skip..]);
}

/// Appends a list header for a payload of `payload_len` bytes (the caller
/// appends the payload next).
#[inline]
pub fn encode_list_header(out: &mut Vec<u8>, payload_len: usize) {
    encode_header(out, 0xc0, payload_len);
}

/// Turns everything in `out` from `start` on (the already-encoded items) into
/// one RLP list by inserting the list header at `start`.
pub fn wrap_list(out: &mut Vec<u8>, start: usize) {
    let (h, n) = header(0xc0, out.len() - start);
    out.splice(start..start, h[..n].iter().copied());
}

/// Appends a list whose payload (the concatenated item encodings) is `payload`.
#[inline]
pub fn encode_list(out: &mut Vec<u8>, payload: &[u8]) {
    encode_list_header(out, payload.len());
    out.extend_from_slice(payload);
}

/// The RLP string encoding of `bytes`, as a new vector.
pub fn bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes_len(bytes));
    encode_bytes(&mut out, bytes);
    out
}

/// The RLP encoding of an unsigned integer, as a new vector.
pub fn u64(value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    encode_u64(&mut out, value);
    out
}

/// The RLP encoding of a 256-bit unsigned integer, as a new vector.
pub fn u256(value: &U256) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    encode_u256(&mut out, value);
    out
}

/// The RLP list of already-encoded `items`, as a new vector.
pub fn list<I: AsRef<[u8]>>(items: &[I]) -> Vec<u8> {
    let payload_len: usize = items.iter().map(|i| i.as_ref().len()).sum();
    let mut out = Vec::with_capacity(header_len(payload_len) + payload_len);
    encode_list_header(&mut out, payload_len);
    for item in items {
        out.extend_from_slice(item.as_ref());
    }
    out
}

/// Test helper: decodes a hex string (optional `0x`), panicking on bad input.
#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    ::hex::decode(s.strip_prefix("0x").unwrap_or(s)).expect("test hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(bytes(b"dog"), hex("83646f67"));
        assert_eq!(bytes(b""), [0x80]);
        assert_eq!(bytes(&[0x00]), [0x00]);
        assert_eq!(bytes(&[0x7f]), [0x7f]);
        assert_eq!(bytes(&[0x80]), [0x81, 0x80]);
        let lorem = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit";
        assert_eq!(lorem.len(), 56);
        let enc = bytes(lorem);
        assert_eq!(&enc[..2], [0xb8, 0x38]);
        assert_eq!(&enc[2..], lorem);
        assert_eq!(bytes_len(lorem), enc.len());
        let long = vec![0xaa; 1024];
        let enc = bytes(&long);
        assert_eq!(&enc[..3], [0xb9, 0x04, 0x00]);
        assert_eq!(enc.len(), 1027);
    }

    #[test]
    fn integers() {
        assert_eq!(u64(0), [0x80]);
        assert_eq!(u64(15), [0x0f]);
        assert_eq!(u64(127), [0x7f]);
        assert_eq!(u64(128), [0x81, 0x80]);
        assert_eq!(u64(1024), [0x82, 0x04, 0x00]);
        assert_eq!(u64(u64::MAX), hex("88ffffffffffffffff"));
        assert_eq!(u256(&U256::ZERO), [0x80]);
        assert_eq!(u256(&U256::from(15)), [0x0f]);
        assert_eq!(u256(&U256::from(1024)), [0x82, 0x04, 0x00]);
        let mut max = vec![0xa0];
        max.extend([0xff; 32]);
        assert_eq!(u256(&U256::MAX), max);
    }

    #[test]
    fn lists() {
        assert_eq!(list::<Vec<u8>>(&[]), [0xc0]);
        assert_eq!(list(&[bytes(b"cat"), bytes(b"dog")]), hex("c88363617483646f67"));
        // [ [], [[]], [ [], [[]] ] ]
        let e = list::<Vec<u8>>(&[]);
        let ee = list(std::slice::from_ref(&e));
        let eee = list(&[e.clone(), ee.clone()]);
        assert_eq!(list(&[e, ee, eee]), hex("c7c0c1c0c3c0c1c0"));

        let mut out = vec![0x55];
        let start = out.len();
        encode_bytes(&mut out, b"cat");
        encode_bytes(&mut out, b"dog");
        wrap_list(&mut out, start);
        assert_eq!(out, hex("55c88363617483646f67"));

        // Long list: 20 copies of "dog" = 80 bytes of payload.
        let items: Vec<Vec<u8>> = (0..20).map(|_| bytes(b"dog")).collect();
        let l = list(&items);
        assert_eq!(&l[..2], [0xf8, 80]);
        let mut out = Vec::new();
        for i in &items {
            out.extend_from_slice(i);
        }
        wrap_list(&mut out, 0);
        assert_eq!(out, l);
        let mut out = Vec::new();
        encode_list(&mut out, &l[2..]);
        assert_eq!(out, l);
    }
}
