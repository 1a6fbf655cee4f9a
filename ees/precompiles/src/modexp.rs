//! modexp (0x05): arbitrary-precision modular exponentiation (EIP-198),
//! repriced by EIP-2565 from Berlin on, then bounded (EIP-7823) and repriced
//! again (EIP-7883) in Osaka.
//!
//! Input: `base_len`, `exp_len`, `mod_len` as 32-byte words, then base,
//! exponent and modulus; input shorter than declared is zero-padded on the
//! right. The lengths are full 256-bit numbers: gas is computed with
//! saturating 256-bit arithmetic, and nothing is allocated before the gas
//! check passes (huge lengths with a zero multiplication complexity cost
//! nothing and read nothing).
//!
//! From Osaka on, a length above 1024 bytes fails the call (EIP-7823: "If any
//! of these inputs are larger than the limit, the precompile execution stops,
//! returns an error, and consumes all gas"), and the price is EIP-7883's:
//! `max(500, complexity · iterations)`, with complexity 16 when the longer of
//! base and modulus has at most 32 bytes and `2 · ceil(len / 8)²` above, and
//! 16 (not 8) iterations per exponent byte past the first 32; EIP-2565's
//! division by 3 is gone.
use super::{PrecompileError, PrecompileOutput, PrecompileResult};
use ee_api::{Fork, U256};
use num_bigint::BigUint;

/// Largest base/exponent/modulus length actually processed. Reaching it needs
/// far more gas than any block holds (e.g. a 32 MiB modulus costs ~5.6e12 gas
/// under EIP-2565), so longer inputs are treated as out of gas rather than
/// risking an allocation failure.
const MAX_LEN: usize = 1 << 25;

/// The 32-byte big-endian word at `offset` (zero-padded).
fn word(input: &[u8], offset: usize) -> U256 {
    U256::from_be_bytes(super::padded::<32>(input, offset))
}

/// `len` bytes of `input` from `offset`, zero-padded on the right.
fn read(input: &[u8], offset: U256, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if let Ok(off) = usize::try_from(offset) {
        if off < input.len() {
            let avail = &input[off..];
            let n = avail.len().min(len);
            out[..n].copy_from_slice(&avail[..n]);
        }
    }
    out
}

/// EIP-198's adjusted exponent length, from the exponent's length and its
/// first (up to) 32 bytes: the head's top bit index, plus `per_byte` for each
/// exponent byte past the first 32 (8 before Osaka, 16 from EIP-7883 on).
fn adjusted_exp_len(exp_len: U256, head: U256, per_byte: u64) -> U256 {
    let top_bit = U256::from(head.bit_len().saturating_sub(1));
    if exp_len <= U256::from(32) {
        top_bit
    } else {
        (exp_len - U256::from(32)).saturating_mul(U256::from(per_byte)).saturating_add(top_bit)
    }
}

/// EIP-198 multiplication complexity.
fn complexity_eip198(x: U256) -> U256 {
    let sq = x.saturating_mul(x);
    if x <= U256::from(64) {
        sq
    } else if x <= U256::from(1024) {
        (sq / U256::from(4)).saturating_add(x.saturating_mul(U256::from(96))) - U256::from(3072)
    } else {
        (sq / U256::from(16)).saturating_add(x.saturating_mul(U256::from(480))) - U256::from(199_680)
    }
}

/// EIP-7823's bound on each of the three lengths, from Osaka on.
const OSAKA_MAX_LEN: u64 = 1024;
/// EIP-7883's minimum price (EIP-2565's was 200).
const OSAKA_MIN_GAS: u64 = 500;
/// EIP-7883's complexity for a longest operand of at most 32 bytes.
const OSAKA_MIN_COMPLEXITY: u64 = 16;

/// Gas for the call, saturating at `U256::MAX`.
fn gas_cost(fork: Fork, base_len: U256, mod_len: U256, adjusted: U256) -> U256 {
    let x = base_len.max(mod_len);
    let iterations = adjusted.max(U256::from(1));
    if fork >= Fork::Osaka {
        // EIP-7883: max(500, complexity · iterations), no division.
        let complexity = if x <= U256::from(32) {
            U256::from(OSAKA_MIN_COMPLEXITY)
        } else {
            let words = x.saturating_add(U256::from(7)) / U256::from(8);
            U256::from(2).saturating_mul(words.saturating_mul(words))
        };
        complexity.saturating_mul(iterations).max(U256::from(OSAKA_MIN_GAS))
    } else if fork >= Fork::Berlin {
        // EIP-2565: words² · iterations / 3, at least 200.
        let words = x.saturating_add(U256::from(7)) / U256::from(8);
        let gas = words.saturating_mul(words).saturating_mul(iterations) / U256::from(3);
        gas.max(U256::from(200))
    } else {
        complexity_eip198(x).saturating_mul(iterations) / U256::from(20)
    }
}

pub(super) fn run(input: &[u8], gas_limit: u64, fork: Fork) -> PrecompileResult {
    let base_len = word(input, 0);
    let exp_len = word(input, 32);
    let mod_len = word(input, 64);
    let osaka = fork >= Fork::Osaka;
    if osaka && [base_len, exp_len, mod_len].iter().any(|len| *len > U256::from(OSAKA_MAX_LEN)) {
        return Err(PrecompileError::Failure);
    }

    // Before Osaka both complexities are zero when base and modulus are empty: then the
    // exponent's head does not matter and is not read. EIP-7883's complexity is never zero.
    let x = base_len.max(mod_len);
    let adjusted = if x.is_zero() && !osaka {
        U256::ZERO
    } else {
        let head_len = exp_len.min(U256::from(32)).to::<usize>();
        let exp_offset = U256::from(96).saturating_add(base_len);
        let head = read(input, exp_offset, head_len);
        let mut word = [0u8; 32];
        word[32 - head_len..].copy_from_slice(&head);
        adjusted_exp_len(exp_len, U256::from_be_bytes(word), if osaka { 16 } else { 8 })
    };
    let gas = gas_cost(fork, base_len, mod_len, adjusted);
    if gas > U256::from(gas_limit) {
        return Err(PrecompileError::OutOfGas);
    }
    let gas_used = gas.to::<u64>();
    if mod_len.is_zero() {
        return Ok(PrecompileOutput { gas_used, output: Vec::new() });
    }
    let limit = U256::from(MAX_LEN);
    if base_len > limit || exp_len > limit || mod_len > limit {
        return Err(PrecompileError::OutOfGas);
    }
    let (bl, el, ml) = (base_len.to::<usize>(), exp_len.to::<usize>(), mod_len.to::<usize>());
    let base = read(input, U256::from(96), bl);
    let exponent = read(input, U256::from(96 + bl), el);
    let modulus = read(input, U256::from(96 + bl + el), ml);
    Ok(PrecompileOutput { gas_used, output: modexp(&base, &exponent, &modulus) })
}

/// base^exponent mod modulus, left-padded to the modulus's length (zero when
/// the modulus is zero).
fn modexp(base: &[u8], exponent: &[u8], modulus: &[u8]) -> Vec<u8> {
    let len = modulus.len();
    let m = BigUint::from_bytes_be(modulus);
    let mut out = vec![0u8; len];
    if m.bits() <= 1 {
        // Modulus 0 or 1: the result is 0.
        return out;
    }
    let b = BigUint::from_bytes_be(base);
    let e = BigUint::from_bytes_be(exponent);
    let r = if e.bits() == 0 { BigUint::from(1u8) % &m } else { b.modpow(&e, &m) };
    let bytes = r.to_bytes_be();
    if r.bits() > 0 {
        // r < m, so it fits in `len` bytes.
        out[len - bytes.len()..].copy_from_slice(&bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use crate::test_hex as hex;
    use ee_api::Fork;

    fn lens(b: u64, e: u64, m: u64) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [b, e, m] {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&x.to_be_bytes());
            v.extend(w);
        }
        v
    }

    #[test]
    fn small_case() {
        // 3^5 mod 7 = 5.
        let mut input = lens(1, 1, 1);
        input.extend([3, 5, 7]);
        let out = run(&addr(5), &input, 1000, Fork::Byzantium).unwrap();
        // complexity 1, adjusted exp len 2 → 2/20 = 0.
        assert_eq!(out, PrecompileOutput { gas_used: 0, output: vec![5] });
        let out = run(&addr(5), &input, 1000, Fork::Berlin).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 200, output: vec![5] });
        assert_eq!(run(&addr(5), &input, 199, Fork::Berlin), Err(PrecompileError::OutOfGas));
        // Modulus longer than the value: output is left-padded.
        let mut input = lens(1, 1, 2);
        input.extend([3, 5, 0, 7]);
        assert_eq!(run(&addr(5), &input, 1000, Fork::Byzantium).unwrap().output, vec![0, 5]);
    }

    /// EIP-198's example: 3^(p-2) mod p = 1 (Fermat), p the secp256k1 field prime; the
    /// input and the expected output.
    fn fermat() -> (Vec<u8>, Vec<u8>) {
        let input = hex(concat!(
            "0000000000000000000000000000000000000000000000000000000000000001",
            "0000000000000000000000000000000000000000000000000000000000000020",
            "0000000000000000000000000000000000000000000000000000000000000020",
            "03",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
        ));
        let mut one = vec![0u8; 32];
        one[31] = 1;
        (input, one)
    }

    #[test]
    fn eip198_examples() {
        // 3^(p-2) mod p = 1 (Fermat), p = secp256k1 field prime.
        let (input, one) = fermat();
        let out = run(&addr(5), &input, 100_000, Fork::Byzantium).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 13056, output: one.clone() });
        let out = run(&addr(5), &input, 100_000, Fork::Berlin).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 1360, output: one });

        // Zero base length: 0^(p-2) mod p = 0, with the base omitted.
        let input = hex(concat!(
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000020",
            "0000000000000000000000000000000000000000000000000000000000000020",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
        ));
        let out = run(&addr(5), &input, 100_000, Fork::Byzantium).unwrap();
        assert_eq!(out.output, vec![0u8; 32]);
    }

    #[test]
    fn huge_lengths_do_not_allocate() {
        // base_len = 0, exp_len = 2^255, mod_len = 0: free before Berlin, 200 after.
        let mut input = lens(0, 0, 0);
        input[32] = 0x80;
        assert_eq!(run(&addr(5), &input, 0, Fork::Byzantium), Ok(PrecompileOutput { gas_used: 0, output: vec![] }));
        assert_eq!(run(&addr(5), &input, 200, Fork::Berlin), Ok(PrecompileOutput { gas_used: 200, output: vec![] }));
        // Huge modulus or base length: out of gas, no allocation.
        for i in [0, 64] {
            let mut input = lens(1, 1, 1);
            input[i] = 0xff;
            assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Byzantium), Err(PrecompileError::OutOfGas));
            assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Berlin), Err(PrecompileError::OutOfGas));
        }
        // Huge exponent length with a one-byte modulus.
        let mut input = lens(1, 0, 1);
        input[32] = 0x01;
        assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Cancun), Err(PrecompileError::OutOfGas));
        // Empty input: all lengths zero.
        assert_eq!(run(&addr(5), &[], 0, Fork::Byzantium), Ok(PrecompileOutput { gas_used: 0, output: vec![] }));
    }

    #[test]
    fn zero_modulus_and_zero_exponent() {
        let mut input = lens(1, 1, 1);
        input.extend([3, 5, 0]);
        assert_eq!(run(&addr(5), &input, 1000, Fork::Byzantium).unwrap().output, vec![0]);
        let mut input = lens(1, 1, 1);
        input.extend([3, 0, 7]);
        assert_eq!(run(&addr(5), &input, 1000, Fork::Byzantium).unwrap().output, vec![1]);
        let mut input = lens(1, 1, 1);
        input.extend([3, 0, 1]);
        assert_eq!(run(&addr(5), &input, 1000, Fork::Byzantium).unwrap().output, vec![0]);
    }

    /// `lens(b, e, m)` followed by the base, exponent and modulus.
    fn call(b: &[u8], e: &[u8], m: &[u8]) -> Vec<u8> {
        let mut input = lens(b.len() as u64, e.len() as u64, m.len() as u64);
        input.extend(b);
        input.extend(e);
        input.extend(m);
        input
    }

    #[test]
    fn eip7883_prices() {
        // 3^5 mod 7: complexity 16, iterations 2 → 32, raised to the 500 minimum.
        let input = call(&[3], &[5], &[7]);
        assert_eq!(run(&addr(5), &input, 500, Fork::Osaka), Ok(PrecompileOutput { gas_used: 500, output: vec![5] }));
        assert_eq!(run(&addr(5), &input, 499, Fork::Osaka), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(5), &input, 200, Fork::Prague).map(|o| o.gas_used), Ok(200));

        // EIP-198's Fermat example: 32-byte operands → complexity 16; the exponent's top bit
        // is 255 → 16 · 255 = 4080 (1360 under EIP-2565).
        let (input, one) = fermat();
        assert_eq!(run(&addr(5), &input, 4080, Fork::Osaka), Ok(PrecompileOutput { gas_used: 4080, output: one }));
        assert_eq!(run(&addr(5), &input, 4079, Fork::Osaka), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(5), &input, 1360, Fork::Prague).map(|o| o.gas_used), Ok(1360));

        // 64-byte operands: 2 · 8² = 128; a 64-byte exponent of all ones has
        // 16 · (64 - 32) + 255 = 767 iterations → 98176.
        let input = call(&[2; 64], &[0xff; 64], &[0xfe; 64]);
        assert_eq!(run(&addr(5), &input, 98_176, Fork::Osaka).map(|o| o.gas_used), Ok(98_176));
        assert_eq!(run(&addr(5), &input, 98_175, Fork::Osaka), Err(PrecompileError::OutOfGas));
        // EIP-2565 on the same input: 8² · (8 · 32 + 255) / 3 = 10901.
        assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Berlin).map(|o| o.gas_used), Ok(10_901));

        // 33 bytes is past the flat 16: ceil(33 / 8) = 5 words → 2 · 25 = 50, times 255.
        let mut exp = [0u8; 32];
        exp[0] = 0x80;
        let input = call(&[1; 33], &exp, &[3; 33]);
        assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Osaka).map(|o| o.gas_used), Ok(12_750));
    }

    #[test]
    fn eip7883_empty_operands_still_cost() {
        // No base, no modulus, a 40-byte zero exponent: the complexity is 16 (never zero),
        // iterations 16 · 8 = 128 → 2048, and the output is empty. Before Osaka: 200.
        let mut input = lens(0, 40, 0);
        input.extend([0u8; 40]);
        assert_eq!(run(&addr(5), &input, 2048, Fork::Osaka), Ok(PrecompileOutput { gas_used: 2048, output: vec![] }));
        assert_eq!(run(&addr(5), &input, 2047, Fork::Osaka), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(5), &input, 200, Fork::Prague), Ok(PrecompileOutput { gas_used: 200, output: vec![] }));
        // Empty input: 500.
        assert_eq!(run(&addr(5), &[], 500, Fork::Osaka), Ok(PrecompileOutput { gas_used: 500, output: vec![] }));
    }

    #[test]
    fn eip7823_bounds() {
        // 1024 bytes each is allowed ...
        let input = call(&[7; 1024], &[3], &[0xf1; 1024]);
        // 2 · 128² = 32768 per iteration, 1 iteration (exponent 3 → top bit 1).
        let out = run(&addr(5), &input, u64::MAX, Fork::Osaka).unwrap();
        assert_eq!(out.gas_used, 32_768);
        assert_eq!(out.output.len(), 1024);
        // ... 1025 in any position fails with all gas consumed (not out of gas), even with
        // unlimited gas and before the operands are read.
        for i in [0, 32, 64] {
            let mut input = lens(1, 1, 1);
            input[i + 30] = 0x04;
            input[i + 31] = 0x01;
            assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Osaka), Err(PrecompileError::Failure), "length {i}");
            input[i] = 0xff; // and far beyond
            assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Osaka), Err(PrecompileError::Failure));
        }
        // Before Osaka a 1025-byte modulus is only priced.
        let input = call(&[], &[], &[0x11; 1025]);
        let out = run(&addr(5), &input, u64::MAX, Fork::Prague).unwrap();
        assert_eq!(out.output.len(), 1025);
        // The old free case (zero lengths, huge exponent length) now fails.
        let mut input = lens(0, 0, 0);
        input[32] = 0x80;
        assert_eq!(run(&addr(5), &input, u64::MAX, Fork::Osaka), Err(PrecompileError::Failure));
    }
}
