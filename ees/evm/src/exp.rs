//! EXP: `base^exponent mod 2²⁵⁶` by left-to-right exponentiation with a sliding window.
//!
//! ruint's `wrapping_pow` squares and multiplies right to left, one general 4×4-limb product
//! per step: a 256-bit exponent of all ones costs 512 of them. Here squarings use a truncated
//! square (6 limb multiplications instead of 10, the cross products counted once and doubled),
//! and a 4-bit sliding window needs one multiplication per window instead of one per set bit:
//! 256 squarings and at most ~60 products for the same exponent. ethereum/tests' `loopExp`
//! (100,000 EXPs per case) spends 15% of a like-for-like state run there.
//!
//! Bases that are small powers of two keep ruint's shift (`2^n`, `256^n` are the common EXPs).

use ee_api::U256;

/// Odd powers `b, b³, …, b¹⁵` of the window: a window is at most 4 bits and ends in a 1.
const WINDOW_BITS: usize = 4;

/// Exponents with at most this many bits use plain square-and-multiply (the window's
/// seven precomputed products would cost more than they save).
const PLAIN_MAX_BITS: usize = 12;

/// `base^exponent mod 2²⁵⁶`, as EVM EXP computes it (`0^0 = 1`).
pub(crate) fn exp(base: U256, exponent: U256) -> U256 {
    let bits = exponent.bit_len();
    if bits == 0 {
        return U256::from(1u64);
    }
    let b = base.as_limbs();
    if b[1] | b[2] | b[3] == 0 && b[0].is_power_of_two() {
        return base.wrapping_pow(exponent);
    }
    let e = exponent.as_limbs();
    let bit = |i: usize| (e[i / 64] >> (i % 64)) & 1 == 1;
    let base = *b;
    if bits <= PLAIN_MAX_BITS {
        let mut acc = base;
        for i in (0..bits - 1).rev() {
            acc = square(&acc);
            if bit(i) {
                acc = mul(&acc, &base);
            }
        }
        return U256::from_limbs(acc);
    }
    // odd[k] = base^(2k+1).
    let mut odd = [[0u64; 4]; 1 << (WINDOW_BITS - 1)];
    odd[0] = base;
    let base_squared = square(&base);
    for k in 1..odd.len() {
        odd[k] = mul(&odd[k - 1], &base_squared);
    }
    // The top bit starts the first window; `acc` is empty until then.
    let mut acc: Option<[u64; 4]> = None;
    let mut i = bits as isize - 1;
    while i >= 0 {
        if !bit(i as usize) {
            if let Some(a) = &mut acc {
                *a = square(a);
            }
            i -= 1;
            continue;
        }
        // The longest window of at most WINDOW_BITS bits from i down that ends in a 1.
        let mut low = (i - WINDOW_BITS as isize + 1).max(0);
        while !bit(low as usize) {
            low += 1;
        }
        let mut digit = 0usize;
        for j in (low..=i).rev() {
            digit = (digit << 1) | usize::from(bit(j as usize));
        }
        acc = Some(match acc {
            None => odd[digit >> 1],
            Some(mut a) => {
                for _ in low..=i {
                    a = square(&a);
                }
                mul(&a, &odd[digit >> 1])
            }
        });
        i = low - 1;
    }
    U256::from_limbs(acc.expect("the exponent's top bit is set"))
}

#[inline(always)]
fn wide(a: u64, b: u64) -> u128 {
    u128::from(a) * u128::from(b)
}

/// The low 256 bits of `a·b`: the ten limb products with `i + j < 4`, the last four low halves only.
#[inline(always)]
fn mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let t = wide(a[0], b[0]);
    let r0 = t as u64;
    let t = wide(a[0], b[1]) + (t >> 64);
    let r1 = t as u64;
    let t = wide(a[0], b[2]) + (t >> 64);
    let r2 = t as u64;
    let r3 = a[0].wrapping_mul(b[3]).wrapping_add((t >> 64) as u64);

    let t = wide(a[1], b[0]) + u128::from(r1);
    let r1 = t as u64;
    let t = wide(a[1], b[1]) + u128::from(r2) + (t >> 64);
    let r2 = t as u64;
    let r3 = r3.wrapping_add(a[1].wrapping_mul(b[2])).wrapping_add((t >> 64) as u64);

    let t = wide(a[2], b[0]) + u128::from(r2);
    let r2 = t as u64;
    let r3 = r3.wrapping_add(a[2].wrapping_mul(b[1])).wrapping_add((t >> 64) as u64);

    let r3 = r3.wrapping_add(a[3].wrapping_mul(b[0]));
    [r0, r1, r2, r3]
}

/// The low 256 bits of `a²`: each cross product `aᵢ·aⱼ` (i < j) once, doubled, plus the
/// squares `a₀²` and `a₁²`; six limb multiplications where [`mul`] needs ten.
#[inline(always)]
fn square(a: &[u64; 4]) -> [u64; 4] {
    // Cross products at limb offsets 1..4.
    let t = wide(a[0], a[1]);
    let c1 = t as u64;
    let t = wide(a[0], a[2]) + (t >> 64);
    let c2 = t as u64;
    let c3 = ((t >> 64) as u64).wrapping_add(a[0].wrapping_mul(a[3])).wrapping_add(a[1].wrapping_mul(a[2]));
    // Doubled.
    let (c3, c2, c1) = ((c3 << 1) | (c2 >> 63), (c2 << 1) | (c1 >> 63), c1 << 1);
    // Plus the diagonal.
    let d0 = wide(a[0], a[0]);
    let d1 = wide(a[1], a[1]);
    let r0 = d0 as u64;
    let t = u128::from((d0 >> 64) as u64) + u128::from(c1);
    let r1 = t as u64;
    let t = u128::from(d1 as u64) + u128::from(c2) + (t >> 64);
    let r2 = t as u64;
    let r3 = ((d1 >> 64) as u64).wrapping_add(c3).wrapping_add((t >> 64) as u64);
    [r0, r1, r2, r3]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic operands without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// A word with 0 to 4 random limbs, sometimes all ones or a single bit.
        fn word(&mut self) -> U256 {
            match self.next() % 8 {
                0 => U256::MAX,
                1 => U256::from(1u64) << (self.next() % 256) as usize,
                2 => U256::MAX >> (self.next() % 256) as usize,
                _ => {
                    let limbs = (self.next() % 5) as usize;
                    let mut l = [0u64; 4];
                    for x in l.iter_mut().take(limbs) {
                        *x = self.next();
                    }
                    U256::from_limbs(l)
                }
            }
        }
    }

    #[test]
    fn products_and_squares_match_ruint() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..200_000 {
            let (a, b) = (rng.word(), rng.word());
            assert_eq!(U256::from_limbs(mul(a.as_limbs(), b.as_limbs())), a.wrapping_mul(b), "{a:#x} * {b:#x}");
            assert_eq!(U256::from_limbs(square(a.as_limbs())), a.wrapping_mul(a), "{a:#x}^2");
        }
    }

    #[test]
    fn exp_matches_ruint() {
        let mut rng = Rng(0xfeed_beef_0bad_cafe);
        for n in 0..100_000 {
            let base = rng.word();
            // Every exponent length, including the plain and the windowed paths' edges.
            let exponent = if n % 2 == 0 { rng.word() } else { U256::from(rng.next() % (1 << (n % 20))) };
            assert_eq!(exp(base, exponent), base.wrapping_pow(exponent), "{base:#x} ** {exponent:#x}");
        }
    }

    #[test]
    fn exp_edges() {
        let cases = [(0u64, 0u64), (0, 1), (1, 0), (2, 255), (2, 256), (3, 0), (3, 1), (7, 4095), (7, 4096)];
        for (b, e) in cases {
            assert_eq!(exp(U256::from(b), U256::from(e)), U256::from(b).wrapping_pow(U256::from(e)), "{b} ** {e}");
        }
        assert_eq!(exp(U256::MAX, U256::MAX), U256::MAX);
        assert_eq!(exp(U256::MAX, U256::from(2u64)), U256::from(1u64));
    }
}
