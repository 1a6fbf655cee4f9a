//! MULMOD by Montgomery multiplication when the modulus repeats; ADDMOD and MULMOD by 2ᵏ.
//!
//! Code doing field arithmetic (elliptic curves, pairings, hashes over a prime field) calls
//! MULMOD with one odd modulus over and over: evmone's weierstrudel benchmark spends about 60%
//! of its time there. ruint's `mul_mod` divides the 512-bit product by the modulus each time.
//! For a modulus that comes twice in a row, [`MulMod`] keeps `-m⁻¹ mod 2⁶⁴` and `R² mod m`
//! (R = 2²⁵⁶) and computes `x·y mod m` as two Montgomery products without any division:
//! `y' = y·R² ·R⁻¹ = y·R mod m`, then `x·y' ·R⁻¹ = x·y mod m`. Measured on one core with
//! bn254's prime: 42 ns per dependent MULMOD against ruint's 68 ns.
//!
//! Even moduli (Montgomery needs `m` odd), `m = 1`, zero and a modulus that is neither prepared
//! nor the previous miss go to ruint, so one-off moduli pay no set-up. `2²⁵⁶ - 1` has its own
//! path, a product and one addition, and a power of two `2ᵏ` keeps the product's low k bits.
//! For a prepared four-limb modulus, a product with an operand below 2⁶⁴ (the other below `m`)
//! skips Montgomery form: one schoolbook division step with a 3-by-2 reciprocal kept with the
//! modulus ([`Prepared::small_operand`]).

use ee_api::U256;

/// Per-frame MULMOD state: the constants of the last two moduli that came twice, and the last
/// modulus that missed them. Two, because curve code alternates the field prime with the group
/// order (weierstrudel does).
#[derive(Default)]
pub(crate) struct MulMod {
    prepared: [Prepared; 2],
    /// The entry used last; the other one is replaced first.
    recent: usize,
    /// The last modulus that was neither prepared nor special: a second call with it prepares it.
    last_miss: [u64; 4],
}

/// Montgomery constants of one odd modulus above 1.
#[derive(Default)]
struct Prepared {
    /// The modulus; zero (never prepared: only odd ones are) while the entry is empty.
    modulus: [u64; 4],
    /// `-m⁻¹ mod 2⁶⁴`.
    inv: u64,
    /// `R² mod m`.
    r2: [u64; 4],
    /// An operand `v` and `v·R mod m` (its Montgomery form), from the last conversion.
    converted: ([u64; 4], [u64; 4]),
    /// For products with an operand below 2⁶⁴ ([`Prepared::small_operand`], moduli of four
    /// limbs): `m << shift` has its top bit set, and `reciprocal` is the 3-by-2 reciprocal of
    /// its top two limbs.
    shift: u32,
    normalized: [u64; 4],
    reciprocal: u64,
}

impl MulMod {
    /// `a·b mod m`, 0 when `m` is 0 (the EVM's rule, and ruint's). Not inlined: the
    /// interpreter's loop stays small, and the call costs less than the multiplication.
    #[inline(never)]
    pub(crate) fn mul_mod(&mut self, a: U256, b: U256, m: U256) -> U256 {
        let limbs = limbs_of(&m);
        // Entries start as zero and only odd moduli are ever prepared.
        if limbs[0] & 1 == 1 {
            for (i, entry) in self.prepared.iter_mut().enumerate() {
                if same_word(&entry.modulus, &limbs) {
                    self.recent = i;
                    return U256::from_limbs(entry.mul_mod(limbs_of(&a), limbs_of(&b)));
                }
            }
        }
        self.miss(a, b, m)
    }

    #[inline(never)]
    fn miss(&mut self, a: U256, b: U256, m: U256) -> U256 {
        let limbs = *m.as_limbs();
        if limbs == [u64::MAX; 4] {
            return mul_mod_all_ones(a, b);
        }
        if m.is_power_of_two() {
            return a.wrapping_mul(b) & (m - U256::from(1u8));
        }
        if limbs != self.last_miss || limbs[0] & 1 == 0 || limbs == [1, 0, 0, 0] {
            self.last_miss = limbs;
            return a.mul_mod(b, m);
        }
        let slot = 1 - self.recent;
        self.prepared[slot] = Prepared::new(m);
        self.recent = slot;
        U256::from_limbs(self.prepared[slot].mul_mod(limbs_of(&a), limbs_of(&b)))
    }
}

impl Prepared {
    /// The constants for odd `m > 1` (two ruint reductions, once per modulus).
    fn new(m: U256) -> Prepared {
        let low = m.as_limbs()[0];
        // Newton's iteration for low⁻¹ mod 2⁶⁴: an odd `low` is its own inverse mod 8 (3 bits),
        // and each step doubles the bits that are right: 6, 12, 24, 48, 96.
        let mut inverse = low;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(low.wrapping_mul(inverse)));
        }
        let r = U256::ZERO.wrapping_sub(m) % m; // 2²⁵⁶ mod m
        let r2 = *r.mul_mod(r, m).as_limbs();
        let shift = m.leading_zeros() as u32;
        let normalized = *(m << shift as usize).as_limbs();
        // ⌊(2¹⁹² - 1) / d⌋ - 2⁶⁴ for the top two limbs d ≥ 2¹²⁷: the quotient is in [2⁶⁴, 2⁶⁵).
        let top = U256::from_limbs([normalized[2], normalized[3], 0, 0]);
        let reciprocal = ((U256::MAX >> 64usize) / top).as_limbs()[0];
        Prepared {
            modulus: *m.as_limbs(),
            inv: inverse.wrapping_neg(),
            r2,
            // 1·R mod m = R mod m: a correct entry for the operand cache.
            converted: ([1, 0, 0, 0], *r.as_limbs()),
            shift,
            normalized,
            reciprocal,
        }
    }

    /// `a·b mod m` as two Montgomery products: `y = b·R² ·R⁻¹ = b·R mod m`, then `a·y ·R⁻¹`.
    /// The first is skipped when either operand is the one converted last (curve code
    /// multiplies one coordinate by several values in a row).
    #[inline(always)]
    fn mul_mod(&mut self, a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
        if let Some(product) = self.small_operand(&a, &b) {
            return product;
        }
        let (x, y) = if same_word(&self.converted.0, &b) {
            (a, self.converted.1)
        } else if same_word(&self.converted.0, &a) {
            (b, self.converted.1)
        } else {
            let y = montgomery_product(&b, &self.r2, &self.modulus, self.inv);
            self.converted = (b, y);
            (a, y)
        };
        montgomery_product(&x, &y, &self.modulus, self.inv)
    }

    /// `a·b mod m` when one operand is below 2⁶⁴ and the other below `m` (curve code scales by
    /// small constants: a third of weierstrudel's Montgomery MULMODs). The product then has five
    /// limbs and is below `m·2⁶⁴`, so one schoolbook division step reduces it: a quotient limb
    /// from its top three limbs (normalized) and the divisor's top two, which is right or one
    /// too large, and one add-back in the second case. About 11 limb multiplications where the
    /// Montgomery route takes 36 or 72. `None` for other operands.
    #[inline(always)]
    fn small_operand(&self, a: &[u64; 4], b: &[u64; 4]) -> Option<[u64; 4]> {
        // Moduli below 2¹⁹² (a shift of a limb or more) keep the Montgomery route.
        if self.shift >= 64 {
            return None;
        }
        let (x, y) = if b[1] | b[2] | b[3] == 0 {
            (a, b[0])
        } else if a[1] | a[2] | a[3] == 0 {
            (b, a[0])
        } else {
            return None;
        };
        if !below(x, &self.modulus) {
            return None;
        }
        let mut t = [0u64; 5];
        let mut carry = 0;
        for j in 0..4 {
            (t[j], carry) = multiply_add(0, x[j], y, carry);
        }
        t[4] = carry;
        // Normalize with the modulus: t·2ˢ < (m·2ˢ)·2⁶⁴ still fits five limbs.
        let s = self.shift;
        if s > 0 {
            for j in (1..5).rev() {
                t[j] = (t[j] << s) | (t[j - 1] >> (64 - s));
            }
            t[0] <<= s;
        }
        let n = &self.normalized;
        // The 3-by-2 step needs the top two limbs below the divisor's; equal is possible but rare.
        if (t[4], t[3]) >= (n[3], n[2]) {
            return None;
        }
        let q = quotient_3by2([t[4], t[3], t[2]], [n[3], n[2]], self.reciprocal);
        // t - q·n, over five limbs.
        let (mut carry, mut borrow) = (0u64, false);
        for j in 0..4 {
            let (product, c) = multiply_add(0, q, n[j], carry);
            carry = c;
            let (d, b1) = t[j].overflowing_sub(product);
            let (d, b2) = d.overflowing_sub(borrow as u64);
            t[j] = d;
            borrow = b1 | b2;
        }
        let (top, b1) = t[4].overflowing_sub(carry);
        let (_, b2) = top.overflowing_sub(borrow as u64);
        if b1 | b2 {
            // q was one too large: add n back (the carry out cancels the borrow).
            let mut carry = false;
            for j in 0..4 {
                let (d, c1) = t[j].overflowing_add(n[j]);
                let (d, c2) = d.overflowing_add(carry as u64);
                t[j] = d;
                carry = c1 | c2;
            }
        }
        // The remainder is below n: four limbs, shifted back.
        if s > 0 {
            for j in 0..3 {
                t[j] = (t[j] >> s) | (t[j + 1] << (64 - s));
            }
            t[3] >>= s;
        }
        Some([t[0], t[1], t[2], t[3]])
    }
}

/// `a < b` for little-endian limbs.
#[inline(always)]
fn below(a: &[u64; 4], b: &[u64; 4]) -> bool {
    (a[3], a[2], a[1], a[0]) < (b[3], b[2], b[1], b[0])
}

/// ⌊u / d⌋ for a three-limb `u = [u2, u1, u0]` and a two-limb `d = [d1, d0]` with its top bit
/// set and `[u2, u1] < d`, given `v = ⌊(2¹⁹² - 1) / d⌋ - 2⁶⁴`: Möller and Granlund's division
/// by an invariant integer ("Improved division by invariant integers", 2011, algorithm 5),
/// one multiplication estimate and at most two corrections, no hardware division.
#[inline(always)]
fn quotient_3by2([u2, u1, u0]: [u64; 3], [d1, d0]: [u64; 2], v: u64) -> u64 {
    let estimate = (v as u128 * u2 as u128).wrapping_add(((u2 as u128) << 64) | u1 as u128);
    let (mut q1, q0) = ((estimate >> 64) as u64, estimate as u64);
    let r1 = u1.wrapping_sub(q1.wrapping_mul(d1));
    let d = ((d1 as u128) << 64) | d0 as u128;
    let mut r = (((r1 as u128) << 64) | u0 as u128).wrapping_sub(d0 as u128 * q1 as u128).wrapping_sub(d);
    q1 = q1.wrapping_add(1);
    if (r >> 64) as u64 >= q0 {
        q1 = q1.wrapping_sub(1);
        r = r.wrapping_add(d);
    }
    if r >= d {
        q1 = q1.wrapping_add(1);
    }
    q1
}

/// `a·b mod (2²⁵⁶ - 1)`. Since 2²⁵⁶ ≡ 1, the product's high half adds to its low half, with
/// the carry wrapped around; Solidity and Huff code use this modulus to get a product's high
/// word (`mulmod(a, b, not(0))`), so it comes often.
fn mul_mod_all_ones(a: U256, b: U256) -> U256 {
    let product = a.widening_mul::<256, 4, 512, 8>(b);
    let t = product.as_limbs();
    let low = U256::from_limbs([t[0], t[1], t[2], t[3]]);
    let high = U256::from_limbs([t[4], t[5], t[6], t[7]]);
    let (sum, carry) = low.overflowing_add(high);
    // The wrapped carry cannot carry again: sum < 2²⁵⁶ - 1 whenever the addition overflowed.
    let sum = sum + U256::from(carry as u8);
    if sum == U256::MAX {
        U256::ZERO
    } else {
        sum
    }
}

/// `a + b mod m` (0 when `m` is 0). A power-of-two modulus keeps the sum's low bits:
/// blake2b_shifts adds 64-bit words as ADDMOD by 2⁶⁴, and ruint's `add_mod` (a comparison of
/// each operand with `m`, a division when one is above it) was 7-9% of its time (perf).
#[inline(always)]
pub(crate) fn add_mod(a: U256, b: U256, m: U256) -> U256 {
    if m.is_power_of_two() {
        // 2ᵏ divides 2²⁵⁶, so the sum wrapped at 2²⁵⁶ has the right low k bits.
        a.wrapping_add(b) & (m - U256::from(1u8))
    } else {
        // ruint's is out of line: read its result limb by limb (see `limbs_of`).
        U256::from_limbs(limbs_of(&a.add_mod(b, m)))
    }
}

/// A word's limbs by four 8-byte loads. The caller wrote the word with 8-byte stores (from
/// registers) or 16-byte ones (copies); a 16-byte load spanning two 8-byte stores cannot be
/// served from the store buffer and stalls (perf: 18% of MULMOD on weierstrudel, on one
/// `movdqu`), an 8-byte load inside either kind of store can. Volatile, so that the compiler
/// does not merge the loads back.
#[inline(always)]
fn limbs_of(word: &U256) -> [u64; 4] {
    let limbs = word.as_limbs().as_ptr();
    // SAFETY: `limbs` points to the word's four limbs, borrowed for this call.
    unsafe { [0, 1, 2, 3].map(|i| std::ptr::read_volatile(limbs.add(i))) }
}

/// `a == b` limb by limb: an array comparison becomes 16-byte loads of `b`, which was just
/// stored as 8-byte limbs, and stalls the same way.
#[inline(always)]
fn same_word(a: &[u64; 4], b: &[u64; 4]) -> bool {
    a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3]
}

/// `t + a·b + carry` as (low, high) limbs; never overflows 128 bits.
#[inline(always)]
fn multiply_add(t: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let wide = (a as u128) * (b as u128) + t as u128 + carry as u128;
    (wide as u64, (wide >> 64) as u64)
}

/// `a·b·R⁻¹ mod m` for any `a < R`, `b < m`, odd `m`, `inv = -m⁻¹ mod 2⁶⁴`; the result is
/// below `m`. Coarsely integrated operand scanning: each limb of `b` is multiplied in, then
/// one limb is cleared by adding a multiple of `m` and shifted out. The running value stays
/// below `2m` (`a·b < R·m`), so it fits four limbs and a carry bit.
#[inline(always)]
fn montgomery_product(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4], inv: u64) -> [u64; 4] {
    let mut t = [0u64; 5];
    for &b_i in b {
        let mut carry = 0;
        for j in 0..4 {
            (t[j], carry) = multiply_add(t[j], a[j], b_i, carry);
        }
        let (sum, overflow) = t[4].overflowing_add(carry);
        t[4] = sum;
        let u = t[0].wrapping_mul(inv);
        let (_, mut carry) = multiply_add(t[0], u, m[0], 0);
        for j in 1..4 {
            (t[j - 1], carry) = multiply_add(t[j], u, m[j], carry);
        }
        let (sum, top) = t[4].overflowing_add(carry);
        t[3] = sum;
        t[4] = overflow as u64 + top as u64;
    }
    let mut reduced = [0u64; 4];
    let mut borrow = false;
    for j in 0..4 {
        let (d, b1) = t[j].overflowing_sub(m[j]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        reduced[j] = d;
        borrow = b1 | b2;
    }
    if t[4] != 0 || !borrow {
        reduced
    } else {
        [t[0], t[1], t[2], t[3]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// Random words with the shapes that break carry handling: short, all ones, top limbs full.
    fn word(s: &mut u64) -> U256 {
        let mut l = [xorshift(s), xorshift(s), xorshift(s), xorshift(s)];
        match xorshift(s) % 8 {
            0 => l[3] = 0,
            1 => (l[3], l[2]) = (u64::MAX, u64::MAX),
            2 => l[3] >>= xorshift(s) % 64,
            3 => l = [u64::MAX; 4],
            4 => l = [xorshift(s) % 1000, 0, 0, 0],
            _ => {}
        }
        U256::from_limbs(l)
    }

    #[test]
    fn agrees_with_ruint_on_repeated_and_changing_moduli() {
        let bn254 =
            U256::from_str_radix("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", 16).unwrap();
        let bn254_order =
            U256::from_str_radix("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut cache = MulMod::default();
        let mut m = bn254;
        let mut previous = U256::from(1u8);
        for i in 0..400_000 {
            if i % 7 == 0 || i % 11 == 0 {
                m = match xorshift(&mut seed) % 5 {
                    0 => bn254,
                    1 => word(&mut seed) | U256::from(1u8),
                    2 => U256::MAX,
                    3 => bn254_order,
                    _ => word(&mut seed),
                };
            }
            // Operands repeat, as in curve code, to exercise the converted-operand cache.
            let (a, b) = match xorshift(&mut seed) % 4 {
                0 => (word(&mut seed), previous),
                1 => (previous, word(&mut seed)),
                _ => (word(&mut seed), word(&mut seed)),
            };
            previous = if i % 2 == 0 { a } else { b };
            assert_eq!(cache.mul_mod(a, b, m), a.mul_mod(b, m), "{a:#x} * {b:#x} mod {m:#x}");
        }
    }

    /// The one-step division for an operand below 2⁶⁴, on every modulus shape: top limb full
    /// (no normalization shift), nearly empty, one limb, low limbs zero or all ones.
    #[test]
    fn small_operand_products_agree_with_ruint() {
        let mut seed = 0x0dd_ba11_cafe_f00d;
        let (mut asked, mut answered) = (0u64, 0u64);
        for i in 0..20_000 {
            let mut m = word(&mut seed) | U256::from(1u8);
            match i % 5 {
                0 => m |= U256::from(1u8) << 255,
                1 => m = U256::from_limbs([xorshift(&mut seed) | 1, 0, 0, 0]),
                2 => m = U256::from_limbs([1, 0, 0, xorshift(&mut seed) >> (i % 64)]),
                3 => m = U256::from_limbs([u64::MAX, u64::MAX, 0, 1 + (xorshift(&mut seed) >> 40)]),
                _ => {}
            }
            if m <= U256::from(1u8) {
                continue;
            }
            let prepared = Prepared::new(m);
            for _ in 0..20 {
                let x = word(&mut seed) % m;
                let y = match xorshift(&mut seed) % 3 {
                    0 => u64::MAX,
                    1 => xorshift(&mut seed) % 16,
                    _ => xorshift(&mut seed),
                };
                let expected = x.mul_mod(U256::from(y), m);
                let (xl, yl) = (*x.as_limbs(), [y, 0, 0, 0]);
                // `None` for moduli below 2¹⁹², and where the top limbs tie with the divisor's
                // (rare); then the Montgomery path runs.
                for got in [prepared.small_operand(&xl, &yl), prepared.small_operand(&yl, &xl)].into_iter().flatten() {
                    assert_eq!(U256::from_limbs(got), expected, "{x:#x} * {y:#x} mod {m:#x}");
                    answered += 1;
                }
                asked += 2;
            }
        }
        assert!(answered * 2 > asked, "the one-step path answered {answered} of {asked}");
    }

    #[test]
    fn add_mod_agrees_with_ruint() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for i in 0..200_000u32 {
            let m = match i % 3 {
                0 => U256::from(1u8) << (xorshift(&mut seed) % 256) as usize,
                1 => U256::ZERO,
                _ => word(&mut seed),
            };
            let (a, b) = (word(&mut seed), word(&mut seed));
            assert_eq!(add_mod(a, b, m), a.add_mod(b, m), "{a:#x} + {b:#x} mod {m:#x}");
        }
    }

    #[test]
    fn power_of_two_moduli_agree_with_ruint() {
        let mut seed = 0x1234_5678_9abc_def1;
        let mut cache = MulMod::default();
        for _ in 0..100_000 {
            let m = U256::from(1u8) << (xorshift(&mut seed) % 256) as usize;
            let (a, b) = (word(&mut seed), word(&mut seed));
            assert_eq!(cache.mul_mod(a, b, m), a.mul_mod(b, m), "{a:#x} * {b:#x} mod {m:#x}");
        }
    }

    #[test]
    fn edge_moduli_follow_the_evm_rules() {
        let mut cache = MulMod::default();
        for m in [U256::ZERO, U256::from(1u8), U256::from(2u8), U256::from(3u8), U256::MAX] {
            for _ in 0..3 {
                assert_eq!(cache.mul_mod(U256::MAX, U256::MAX, m), U256::MAX.mul_mod(U256::MAX, m));
                assert_eq!(cache.mul_mod(U256::ZERO, U256::MAX, m), U256::ZERO);
            }
        }
    }
}
