//! blake2f (0x09): the BLAKE2b compression function F (EIP-152, RFC 7693 §3.2).
//!
//! Input (exactly 213 bytes): rounds (4 bytes, big-endian), h (8 × u64 LE),
//! m (16 × u64 LE), t (2 × u64 LE), final-block flag (1 byte, 0 or 1).
//! Output: the new h (8 × u64 LE). Gas: one per round.
use super::{PrecompileError, PrecompileOutput, PrecompileResult};

const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Message word permutations; round `i` uses `SIGMA[i % 10]`.
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// The mixing function G (RFC 7693 §3.1).
#[inline(always)]
fn mix(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

#[inline(always)]
fn round(v: &mut [u64; 16], m: &[u64; 16], s: &[usize; 16]) {
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

/// The compression function F with a caller-chosen number of rounds.
#[cfg(test)]
pub fn compress(rounds: u32, h: &mut [u64; 8], m: &[u64; 16], t: [u64; 2], last: bool) {
    compress_interruptible(rounds, h, m, t, last, &|| false);
}

/// Rounds run between polls of `interrupted`: a multiple of 10 so every
/// chunk starts at the first message schedule.
const ROUNDS_PER_POLL: u32 = (1 << 20) - (1 << 20) % 10;

/// [`compress`] that polls `interrupted` every [`ROUNDS_PER_POLL`] rounds and
/// returns false, leaving `h` unchanged, when it answers true.
pub fn compress_interruptible(
    rounds: u32,
    h: &mut [u64; 8],
    m: &[u64; 16],
    t: [u64; 2],
    last: bool,
    interrupted: &dyn Fn() -> bool,
) -> bool {
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..].copy_from_slice(&IV);
    v[12] ^= t[0];
    v[13] ^= t[1];
    if last {
        v[14] = !v[14];
    }
    let mut left = rounds;
    while left > ROUNDS_PER_POLL {
        run_rounds(&mut v, m, ROUNDS_PER_POLL);
        left -= ROUNDS_PER_POLL;
        if interrupted() {
            return false;
        }
    }
    run_rounds(&mut v, m, left);
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
    true
}

/// `rounds` rounds starting at schedule 0. Ten per iteration with constant
/// schedules, so the message indexes are immediates: a 2^32-round call is a
/// real test vector.
fn run_rounds(v: &mut [u64; 16], m: &[u64; 16], rounds: u32) {
    for _ in 0..rounds / 10 {
        round(v, m, &SIGMA[0]);
        round(v, m, &SIGMA[1]);
        round(v, m, &SIGMA[2]);
        round(v, m, &SIGMA[3]);
        round(v, m, &SIGMA[4]);
        round(v, m, &SIGMA[5]);
        round(v, m, &SIGMA[6]);
        round(v, m, &SIGMA[7]);
        round(v, m, &SIGMA[8]);
        round(v, m, &SIGMA[9]);
    }
    for s in SIGMA.iter().take((rounds % 10) as usize) {
        round(v, m, s);
    }
}

fn le64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

pub(super) fn run(input: &[u8], gas_limit: u64, interrupted: &dyn Fn() -> bool) -> PrecompileResult {
    if input.len() != 213 {
        return Err(PrecompileError::Failure);
    }
    let rounds = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    if u64::from(rounds) > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    let last = match input[212] {
        0 => false,
        1 => true,
        _ => return Err(PrecompileError::Failure),
    };
    let mut h = [0u64; 8];
    for (i, w) in h.iter_mut().enumerate() {
        *w = le64(&input[4 + 8 * i..]);
    }
    let mut m = [0u64; 16];
    for (i, w) in m.iter_mut().enumerate() {
        *w = le64(&input[68 + 8 * i..]);
    }
    let t = [le64(&input[196..]), le64(&input[204..])];
    if !compress_interruptible(rounds, &mut h, &m, t, last, interrupted) {
        return Err(PrecompileError::Interrupted);
    }
    let mut output = Vec::with_capacity(64);
    for w in h {
        output.extend_from_slice(&w.to_le_bytes());
    }
    Ok(PrecompileOutput { gas_used: u64::from(rounds), output })
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use crate::rlp::hex;
    use ee_api::Fork;

    /// EIP-152 test vector 5 input ("abc", 12 rounds), with the round count replaced.
    fn vector(rounds: &str, flag: &str) -> Vec<u8> {
        hex(&format!(
            "{rounds}{}{flag}",
            concat!(
                "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5",
                "d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b",
                "6162630000000000000000000000000000000000000000000000000000000000",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "03000000000000000000000000000000",
            )
        ))
    }

    #[test]
    fn eip152_vectors() {
        // Vector 5.
        let out = run(&addr(9), &vector("0000000c", "01"), 12, Fork::Istanbul).unwrap();
        assert_eq!(
            out,
            PrecompileOutput {
                gas_used: 12,
                output: hex(concat!(
                    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1",
                    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
                ))
            }
        );
        // Vector 6: not final.
        let out = run(&addr(9), &vector("0000000c", "00"), 12, Fork::Istanbul).unwrap();
        assert_eq!(
            out.output,
            hex(concat!(
                "75ab69d3190a562c51aef8d88f1c2775876944407270c42c9844252c26d28752",
                "98743e7f6d5ea2f2d3e8d226039cd31b4e426ac4f2d3d666a610c2116fde4735"
            ))
        );
        // Vector 7: one round.
        let out = run(&addr(9), &vector("00000001", "01"), 1, Fork::Istanbul).unwrap();
        assert_eq!(
            out.output,
            hex(concat!(
                "b63a380cb2897d521994a85234ee2c181b5f844d2c624c002677e9703449d2fb",
                "a551b3a8333bcdf5f2f7e08993d53923de3d64fcc68c034e717b9293fed7a421"
            ))
        );
        // Vector 4: zero rounds.
        let out = run(&addr(9), &vector("00000000", "01"), 0, Fork::Istanbul).unwrap();
        assert_eq!(
            out,
            PrecompileOutput {
                gas_used: 0,
                output: hex(concat!(
                    "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5",
                    "d282e6ad7f520e511f6c3e2b8c68059b9442be0454267ce079217e1319cde05b"
                ))
            }
        );
    }

    #[test]
    fn malformed() {
        // Vectors 1–3: wrong length, bad flag.
        assert_eq!(run(&addr(9), &[], 100, Fork::Istanbul), Err(PrecompileError::Failure));
        let v = vector("0000000c", "01");
        assert_eq!(run(&addr(9), &v[..212], 100, Fork::Istanbul), Err(PrecompileError::Failure));
        let mut long = v.clone();
        long.push(0);
        assert_eq!(run(&addr(9), &long, 100, Fork::Istanbul), Err(PrecompileError::Failure));
        assert_eq!(run(&addr(9), &vector("0000000c", "02"), 100, Fork::Istanbul), Err(PrecompileError::Failure));
        assert_eq!(run(&addr(9), &v, 11, Fork::Istanbul), Err(PrecompileError::OutOfGas));
        // 2^32 - 1 rounds: out of gas, not a hang.
        assert_eq!(run(&addr(9), &vector("ffffffff", "01"), 1_000_000, Fork::Istanbul), Err(PrecompileError::OutOfGas));
    }
}
