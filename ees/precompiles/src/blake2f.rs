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

/// Which implementation of the round loop runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// Portable code: the fallback, and the only path off x86-64.
    Scalar,
    /// AVX2 intrinsics; only chosen when the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

/// The fastest path this CPU supports, detected once.
fn best_path() -> Path {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::atomic::{AtomicU8, Ordering};
        // 0: not yet detected, 1: scalar, 2: AVX2.
        static CHOICE: AtomicU8 = AtomicU8::new(0);
        match CHOICE.load(Ordering::Relaxed) {
            1 => Path::Scalar,
            2 => Path::Avx2,
            _ => {
                let avx2 = std::is_x86_feature_detected!("avx2");
                CHOICE.store(if avx2 { 2 } else { 1 }, Ordering::Relaxed);
                if avx2 {
                    Path::Avx2
                } else {
                    Path::Scalar
                }
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Path::Scalar
    }
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
    compress_on(best_path(), rounds, h, m, t, last, interrupted)
}

/// [`compress_interruptible`] on a given path.
fn compress_on(
    path: Path,
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
    let run_rounds = |v: &mut [u64; 16], n: u32| match path {
        Path::Scalar => scalar::run_rounds(v, m, n),
        // SAFETY: `Path::Avx2` is only used when the CPU has AVX2: `best_path`
        // checks it, and the tests that pick it check it too.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { avx2::run_rounds(v, m, n) },
    };
    let mut left = rounds;
    while left > ROUNDS_PER_POLL {
        run_rounds(&mut v, ROUNDS_PER_POLL);
        left -= ROUNDS_PER_POLL;
        if interrupted() {
            return false;
        }
    }
    run_rounds(&mut v, left);
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
    true
}

/// Portable rounds, the state kept in sixteen locals.
mod scalar {
    use super::SIGMA;

    /// The mixing function G (RFC 7693 §3.1).
    macro_rules! g {
        ($a:ident, $b:ident, $c:ident, $d:ident, $x:expr, $y:expr) => {
            $a = $a.wrapping_add($b).wrapping_add($x);
            $d = ($d ^ $a).rotate_right(32);
            $c = $c.wrapping_add($d);
            $b = ($b ^ $c).rotate_right(24);
            $a = $a.wrapping_add($b).wrapping_add($y);
            $d = ($d ^ $a).rotate_right(16);
            $c = $c.wrapping_add($d);
            $b = ($b ^ $c).rotate_right(63);
        };
    }

    /// `rounds` rounds starting at schedule 0. Ten per iteration with constant
    /// schedules, so the message indexes are immediates: a 2^32-round call is a
    /// real test vector.
    pub(super) fn run_rounds(v: &mut [u64; 16], m: &[u64; 16], rounds: u32) {
        let (mut v0, mut v1, mut v2, mut v3) = (v[0], v[1], v[2], v[3]);
        let (mut v4, mut v5, mut v6, mut v7) = (v[4], v[5], v[6], v[7]);
        let (mut v8, mut v9, mut v10, mut v11) = (v[8], v[9], v[10], v[11]);
        let (mut v12, mut v13, mut v14, mut v15) = (v[12], v[13], v[14], v[15]);
        macro_rules! round {
            ($s:expr) => {{
                let s: &[usize; 16] = $s;
                g!(v0, v4, v8, v12, m[s[0]], m[s[1]]);
                g!(v1, v5, v9, v13, m[s[2]], m[s[3]]);
                g!(v2, v6, v10, v14, m[s[4]], m[s[5]]);
                g!(v3, v7, v11, v15, m[s[6]], m[s[7]]);
                g!(v0, v5, v10, v15, m[s[8]], m[s[9]]);
                g!(v1, v6, v11, v12, m[s[10]], m[s[11]]);
                g!(v2, v7, v8, v13, m[s[12]], m[s[13]]);
                g!(v3, v4, v9, v14, m[s[14]], m[s[15]]);
            }};
        }
        for _ in 0..rounds / 10 {
            round!(&SIGMA[0]);
            round!(&SIGMA[1]);
            round!(&SIGMA[2]);
            round!(&SIGMA[3]);
            round!(&SIGMA[4]);
            round!(&SIGMA[5]);
            round!(&SIGMA[6]);
            round!(&SIGMA[7]);
            round!(&SIGMA[8]);
            round!(&SIGMA[9]);
        }
        for s in SIGMA.iter().take((rounds % 10) as usize) {
            round!(s);
        }
        *v = [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15];
    }
}

/// AVX2 rounds: the state's four rows in four 256-bit registers, one G per
/// 64-bit lane, so a round is two four-wide G steps.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::SIGMA;
    use std::arch::x86_64::*;

    /// Lane `i` of each row holds column `i` of the state: `a` = v0..v3,
    /// `b` = v4..v7, `c` = v8..v11, `d` = v12..v15.
    struct State {
        a: __m256i,
        b: __m256i,
        c: __m256i,
        d: __m256i,
    }

    /// The four message vectors of one round: the first and second words of
    /// the column step, then of the diagonal step in [`diagonalize`]'s lane
    /// order.
    type RoundMsg = [__m256i; 4];

    /// Message words for round schedule `s`.
    ///
    /// # Safety
    /// The CPU must support AVX2 (only ever inlined into [`run_rounds`]).
    #[inline(always)]
    unsafe fn round_msg(m: &[u64; 16], s: &[usize; 16]) -> RoundMsg {
        // Lane `i` of `_mm256_set_epi64x(e3, e2, e1, e0)` is `ei`. After
        // `diagonalize`, lane 0 runs the fourth diagonal G (v3, v4, v9, v14)
        // and lanes 1–3 the first three.
        let w = |i: usize| m[s[i]] as i64;
        [
            _mm256_set_epi64x(w(6), w(4), w(2), w(0)),
            _mm256_set_epi64x(w(7), w(5), w(3), w(1)),
            _mm256_set_epi64x(w(12), w(10), w(8), w(14)),
            _mm256_set_epi64x(w(13), w(11), w(9), w(15)),
        ]
    }

    /// `_mm256_shuffle_epi8` masks for the 24- and 16-bit rotations.
    struct Rot {
        r24: __m256i,
        r16: __m256i,
    }

    /// Byte `i` of each 64-bit lane takes byte `(i + 3) % 8`: rotate right by 24.
    #[inline(always)]
    unsafe fn ror24_mask() -> __m256i {
        _mm256_setr_epi8(
            3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,
        )
    }

    /// Byte `i` of each 64-bit lane takes byte `(i + 2) % 8`: rotate right by 16.
    #[inline(always)]
    unsafe fn ror16_mask() -> __m256i {
        _mm256_setr_epi8(
            2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,
        )
    }

    /// Rotates each 64-bit lane right by 63 bits (left by one).
    #[inline(always)]
    unsafe fn ror63(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi64::<63>(x), _mm256_add_epi64(x, x))
    }

    /// Four G steps at once, one per lane, with message words `x` and `y`.
    #[inline(always)]
    unsafe fn g4(st: &mut State, rot: &Rot, x: __m256i, y: __m256i) {
        // a + m first: it does not wait for b, the last value the previous
        // step produced.
        st.a = _mm256_add_epi64(_mm256_add_epi64(st.a, x), st.b);
        // Rotations by 32, 24 and 16 move whole bytes: one shuffle each.
        st.d = _mm256_shuffle_epi32::<0b10_11_00_01>(_mm256_xor_si256(st.d, st.a));
        st.c = _mm256_add_epi64(st.c, st.d);
        st.b = _mm256_shuffle_epi8(_mm256_xor_si256(st.b, st.c), rot.r24);
        st.a = _mm256_add_epi64(_mm256_add_epi64(st.a, y), st.b);
        st.d = _mm256_shuffle_epi8(_mm256_xor_si256(st.d, st.a), rot.r16);
        st.c = _mm256_add_epi64(st.c, st.d);
        st.b = ror63(_mm256_xor_si256(st.b, st.c));
    }

    /// Moves the diagonals into lanes: lane `i` becomes (v(i-1), v(i+4),
    /// v(i+9), v(i+14)), each index wrapping within its row, so lane 0 holds
    /// (v3, v4, v9, v14). `b` stays put: it is the last value a G step
    /// produces, and permuting it would lengthen the critical path, while the
    /// permutes of `a`, `c` and `d` overlap the end of the step.
    #[inline(always)]
    unsafe fn diagonalize(st: &mut State) {
        st.a = _mm256_permute4x64_epi64::<0b10_01_00_11>(st.a);
        st.c = _mm256_permute4x64_epi64::<0b00_11_10_01>(st.c);
        st.d = _mm256_permute4x64_epi64::<0b01_00_11_10>(st.d);
    }

    /// Undoes [`diagonalize`].
    #[inline(always)]
    unsafe fn undiagonalize(st: &mut State) {
        st.a = _mm256_permute4x64_epi64::<0b00_11_10_01>(st.a);
        st.c = _mm256_permute4x64_epi64::<0b10_01_00_11>(st.c);
        st.d = _mm256_permute4x64_epi64::<0b01_00_11_10>(st.d);
    }

    #[inline(always)]
    unsafe fn round(st: &mut State, rot: &Rot, msg: &RoundMsg) {
        g4(st, rot, msg[0], msg[1]);
        diagonalize(st);
        g4(st, rot, msg[2], msg[3]);
        undiagonalize(st);
    }

    /// [`super::scalar::run_rounds`] with AVX2. The message vectors of all ten
    /// schedules are built once per call.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run_rounds(v: &mut [u64; 16], m: &[u64; 16], rounds: u32) {
        if rounds == 0 {
            return;
        }
        let mut msg = [[_mm256_setzero_si256(); 4]; 10];
        for (dst, s) in msg.iter_mut().zip(SIGMA.iter()).take(rounds.min(10) as usize) {
            *dst = round_msg(m, s);
        }
        let p = v.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `v` is 16 u64s, so the four unaligned 32-byte accesses at
        // offsets 0, 32, 64 and 96 bytes stay inside it.
        let mut st = State {
            a: _mm256_loadu_si256(p),
            b: _mm256_loadu_si256(p.add(1)),
            c: _mm256_loadu_si256(p.add(2)),
            d: _mm256_loadu_si256(p.add(3)),
        };
        // The masks reach the loop as opaque values: seeing constants, LLVM
        // turns the 16-bit rotation into two shuffles (pshuflw + pshufhw) and
        // moves rotations across the XORs, lengthening the critical path.
        let rot = Rot { r24: std::hint::black_box(ror24_mask()), r16: std::hint::black_box(ror16_mask()) };
        for _ in 0..rounds / 10 {
            round(&mut st, &rot, &msg[0]);
            round(&mut st, &rot, &msg[1]);
            round(&mut st, &rot, &msg[2]);
            round(&mut st, &rot, &msg[3]);
            round(&mut st, &rot, &msg[4]);
            round(&mut st, &rot, &msg[5]);
            round(&mut st, &rot, &msg[6]);
            round(&mut st, &rot, &msg[7]);
            round(&mut st, &rot, &msg[8]);
            round(&mut st, &rot, &msg[9]);
        }
        for r in msg.iter().take((rounds % 10) as usize) {
            round(&mut st, &rot, r);
        }
        // SAFETY: as for the loads above.
        _mm256_storeu_si256(p, st.a);
        _mm256_storeu_si256(p.add(1), st.b);
        _mm256_storeu_si256(p.add(2), st.c);
        _mm256_storeu_si256(p.add(3), st.d);
    }
}

fn le64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

/// The only valid input length: rounds, h, m, t and the final-block flag.
pub(super) const INPUT_LEN: usize = 213;

pub(super) fn run(input: &[u8], gas_limit: u64, interrupted: &dyn Fn() -> bool) -> PrecompileResult {
    if input.len() != INPUT_LEN {
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
    use super::{compress, compress_on, le64, Path, ROUNDS_PER_POLL};
    use crate::test_hex as hex;
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

    /// The paths this machine can run.
    fn paths() -> Vec<Path> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return vec![Path::Scalar, Path::Avx2];
        }
        vec![Path::Scalar]
    }

    fn words<const N: usize>(bytes: &[u8]) -> [u64; N] {
        let mut out = [0u64; N];
        for (i, w) in out.iter_mut().enumerate() {
            *w = le64(&bytes[8 * i..]);
        }
        out
    }

    #[test]
    fn eip152_vectors_each_path() {
        let cases = [
            (
                "0000000c",
                "01",
                concat!(
                    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1",
                    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
                ),
            ),
            (
                "0000000c",
                "00",
                concat!(
                    "75ab69d3190a562c51aef8d88f1c2775876944407270c42c9844252c26d28752",
                    "98743e7f6d5ea2f2d3e8d226039cd31b4e426ac4f2d3d666a610c2116fde4735"
                ),
            ),
            (
                "00000001",
                "01",
                concat!(
                    "b63a380cb2897d521994a85234ee2c181b5f844d2c624c002677e9703449d2fb",
                    "a551b3a8333bcdf5f2f7e08993d53923de3d64fcc68c034e717b9293fed7a421"
                ),
            ),
            (
                "00000000",
                "01",
                concat!(
                    "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5",
                    "d282e6ad7f520e511f6c3e2b8c68059b9442be0454267ce079217e1319cde05b"
                ),
            ),
        ];
        for path in paths() {
            for (rounds, flag, expected) in cases {
                let input = vector(rounds, flag);
                let rounds = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
                let mut h: [u64; 8] = words(&input[4..]);
                let m: [u64; 16] = words(&input[68..]);
                let t: [u64; 2] = words(&input[196..]);
                assert!(compress_on(path, rounds, &mut h, &m, t, input[212] == 1, &|| false));
                assert_eq!(h, words::<8>(&hex(expected)), "{path:?}, {rounds} rounds");
            }
        }
    }

    /// SplitMix64.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            z ^ (z >> 31)
        }

        fn words<const N: usize>(&mut self) -> [u64; N] {
            std::array::from_fn(|_| self.next())
        }
    }

    /// Every path computes what the scalar path computes.
    #[test]
    fn paths_agree_on_random_inputs() {
        let mut rng = Rng(0x5eed_b1a4e2f);
        let mut round_counts: Vec<u32> = (0..=100).collect();
        round_counts.extend((0..300).map(|_| (rng.next() % 101) as u32));
        round_counts.extend((0..4).map(|_| 100_000 + (rng.next() % 20) as u32));
        for rounds in round_counts {
            let h: [u64; 8] = rng.words();
            let m: [u64; 16] = rng.words();
            let t: [u64; 2] = rng.words();
            let last = rng.next() & 1 == 1;
            let mut want = h;
            assert!(compress_on(Path::Scalar, rounds, &mut want, &m, t, last, &|| false));
            let mut got = h;
            compress(rounds, &mut got, &m, t, last);
            assert_eq!(got, want, "best path, {rounds} rounds");
            for path in paths() {
                let mut got = h;
                assert!(compress_on(path, rounds, &mut got, &m, t, last, &|| false));
                assert_eq!(got, want, "{path:?}, {rounds} rounds");
            }
        }
    }

    /// An interrupted call returns false and leaves `h` unchanged; polls come
    /// every `ROUNDS_PER_POLL` rounds.
    #[test]
    fn interrupted_leaves_h_unchanged() {
        for path in paths() {
            let h0 = [1, 2, 3, 4, 5, 6, 7, 8];
            let mut h = h0;
            let polls = std::cell::Cell::new(0);
            let interrupted = || {
                polls.set(polls.get() + 1);
                true
            };
            assert!(!compress_on(path, ROUNDS_PER_POLL + 1, &mut h, &[9; 16], [10, 11], true, &interrupted));
            assert_eq!((h, polls.get()), (h0, 1), "{path:?}");
            // Exactly one chunk: no poll, and the result stands.
            assert!(compress_on(path, ROUNDS_PER_POLL, &mut h, &[9; 16], [10, 11], true, &interrupted));
            assert_eq!(polls.get(), 1, "{path:?}");
            assert_ne!(h, h0, "{path:?}");
        }
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
