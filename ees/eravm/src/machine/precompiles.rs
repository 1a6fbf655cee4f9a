//! The precompiles `precompile_call` reaches, chosen by the low 16 bits of `this`, as vm2
//! 0.5.0's legacy precompiles compute them (zk_evm_abstractions 0.153.12, read, not
//! copied). Inputs are read through the frame's pages; the output is up to three words.
//!
//! - keccak256 round function (0x8010): keccak256 of `length` bytes from byte `offset`;
//!   one word.
//! - sha256 round function (0x02): `rounds` (the ABI's last word) compressions of 64-byte
//!   blocks from word `offset`, without padding, from the standard initial state; the state
//!   as one word, or nothing for 0 rounds.
//! - ecrecover (0x01): words hash, v, r, s from word `offset`; [1, address] or [0, 0]. No
//!   high-s check (the caller's, as vm2).
//! - secp256r1 verify (0x100): words hash, r, s, x, y; [1, valid] or [0, 0] for a malformed
//!   signature or key.
//!
//! - modexp (0x05): words base, exponent, modulus; one word, base^exponent mod modulus (0 for
//!   a zero modulus).
//!
//! - ecadd (0x06): words x1, y1, x2, y2 (bn254 G1, (0, 0) the point at infinity); [1, x, y]
//!   or [0, 0, 0] when a coordinate is not below p or a point is off the curve.
//! - ecmul (0x07): words x, y, s (s reduced mod the group order); [1, x, y] or [0, 0, 0].
//!
//! - ecpairing (0x08): `rounds` (the ABI's last word) groups of six words from word
//!   `offset`, a G1 point (x, y) and a G2 point (x imaginary, x real, y imaginary, y real),
//!   zeros the point at infinity; [1, 1] when the product of the pairings is one (no
//!   rounds: one), [1, 0] when not, [0, 0] when a coordinate is not below p or a point is
//!   off its curve or (G2) outside the order-r subgroup.
//!
//! Any other address outputs nothing, as vm2.

use ee_api::{B256, U256};

pub const ECRECOVER: u16 = 0x01;
pub const SHA256: u16 = 0x02;
pub const KECCAK256: u16 = 0x8010;
pub const SECP256R1_VERIFY: u16 = 0x100;
pub const MODEXP: u16 = 0x05;
pub const ECADD: u16 = 0x06;
pub const ECMUL: u16 = 0x07;
pub const ECPAIRING: u16 = 0x08;

/// Runs precompile `address`: `read(start, len)` gives input bytes of the read page.
/// `None` where vm2 has no defined outcome (ecrecover with v ∉ {0, 1}: vm2 asserts).
pub fn call(address: u16, read: impl Fn(u32, u32) -> Vec<u8>, offset: u32, length: u32, aux: u64) -> Option<Vec<U256>> {
    let word = |i: u32| -> [u8; 32] {
        let b = read(offset.wrapping_add(i).wrapping_mul(32), 32);
        b.try_into().expect("32 bytes")
    };
    Some(match address {
        KECCAK256 => vec![U256::from_be_slice(&B256::keccak(&read(offset, length)).0)],
        SHA256 => {
            if aux == 0 {
                return Some(Vec::new());
            }
            let mut state =
                [0x6a09e667u32, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
            for round in 0..aux {
                let at = offset.wrapping_add(2 * round as u32);
                let mut block = [0u8; 64];
                block[..32].copy_from_slice(&word_at(&read, at));
                block[32..].copy_from_slice(&word_at(&read, at.wrapping_add(1)));
                sha2::compress256(&mut state, &[block.into()]);
            }
            let mut out = [0u8; 32];
            for (chunk, s) in out.chunks_mut(4).zip(state) {
                chunk.copy_from_slice(&s.to_be_bytes());
            }
            vec![U256::from_be_bytes(out)]
        }
        ECRECOVER => {
            let v = word(1)[31];
            if v > 1 {
                // vm2 asserts v ∈ {0, 1} (the process aborts): nothing to match.
                return None;
            }
            match ecrecover(&word(0), v, &word(2), &word(3)) {
                Some(address) => vec![U256::from(1), address],
                None => vec![U256::ZERO, U256::ZERO],
            }
        }
        SECP256R1_VERIFY => match secp256r1_verify(&word(0), &word(1), &word(2), &word(3), &word(4)) {
            Some(valid) => vec![U256::from(1), U256::from(valid as u8)],
            None => vec![U256::ZERO, U256::ZERO],
        },
        MODEXP => {
            vec![modexp(U256::from_be_bytes(word(0)), U256::from_be_bytes(word(1)), U256::from_be_bytes(word(2)))]
        }
        ECADD => bn_result(g1(&word(0), &word(1)).zip(g1(&word(2), &word(3))).map(|(a, b)| a + b)),
        ECMUL => {
            let order = U256::from_str_radix(BN254_ORDER, 16).expect("the order");
            let s = U256::from_be_bytes(word(2)) % order;
            let s = substrate_bn::Fr::from_slice(&s.to_be_bytes::<32>()).expect("reduced below the order");
            bn_result(g1(&word(0), &word(1)).map(|p| p * s))
        }
        ECPAIRING => {
            let mut pairs = Vec::new();
            let mut valid = true;
            for round in 0..aux {
                let base = offset.wrapping_add(6 * round as u32);
                let w: Vec<[u8; 32]> = (0..6).map(|k| word_at(&read, base.wrapping_add(k))).collect();
                match (g1(&w[0], &w[1]), g2(&w[2], &w[3], &w[4], &w[5])) {
                    (Some(a), Some(b)) => pairs.push((a, b)),
                    _ => valid = false,
                }
            }
            if valid {
                let one = substrate_bn::pairing_batch(&pairs) == substrate_bn::Gt::one();
                vec![U256::from(1), U256::from(one as u8)]
            } else {
                vec![U256::ZERO, U256::ZERO]
            }
        }
        _ => Vec::new(),
    })
}

fn word_at(read: &impl Fn(u32, u32) -> Vec<u8>, index: u32) -> [u8; 32] {
    read(index.wrapping_mul(32), 32).try_into().expect("32 bytes")
}

/// The bn254 group order r.
const BN254_ORDER: &str = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";

/// A G1 point from its coordinates: `None` when one is not below p or the point is off the
/// curve; (0, 0) is the point at infinity.
fn g1(x: &[u8; 32], y: &[u8; 32]) -> Option<substrate_bn::G1> {
    use substrate_bn::{AffineG1, Fq, Group, G1};
    let (x, y) = (Fq::from_slice(x).ok()?, Fq::from_slice(y).ok()?);
    if x.is_zero() && y.is_zero() {
        return Some(G1::zero());
    }
    AffineG1::new(x, y).ok().map(G1::from)
}

/// A G2 point from x = x_real + x_imag·i, y likewise: `None` when a coordinate is not below
/// p, the point is off the curve or outside the order-r subgroup; all zeros is infinity.
fn g2(x_imag: &[u8; 32], x_real: &[u8; 32], y_imag: &[u8; 32], y_real: &[u8; 32]) -> Option<substrate_bn::G2> {
    use substrate_bn::{AffineG2, Fq, Fq2, Group, G2};
    let f = |b: &[u8; 32]| Fq::from_slice(b).ok();
    let x = Fq2::new(f(x_real)?, f(x_imag)?);
    let y = Fq2::new(f(y_real)?, f(y_imag)?);
    if x.is_zero() && y.is_zero() {
        return Some(G2::zero());
    }
    AffineG2::new(x, y).ok().map(G2::from)
}

/// [1, x, y] for a point (infinity as (0, 0)), [0, 0, 0] for a failure.
fn bn_result(point: Option<substrate_bn::G1>) -> Vec<U256> {
    let Some(p) = point else { return vec![U256::ZERO; 3] };
    let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
    if let Some(a) = substrate_bn::AffineG1::from_jacobian(p) {
        a.x().to_big_endian(&mut x).expect("32 bytes");
        a.y().to_big_endian(&mut y).expect("32 bytes");
    }
    vec![U256::from(1), U256::from_be_bytes(x), U256::from_be_bytes(y)]
}

/// base^exponent mod modulus, with vm2's special cases spelled out (they agree with the
/// arithmetic: 0 for modulus 0 or 1, x^0 = 1).
fn modexp(base: U256, exponent: U256, modulus: U256) -> U256 {
    let one = U256::from(1);
    if modulus.is_zero() || modulus == one {
        return U256::ZERO;
    }
    if exponent.is_zero() {
        return one;
    }
    let mut acc = one;
    for i in (0..256).rev() {
        acc = acc.mul_mod(acc, modulus);
        if exponent.bit(i) {
            acc = acc.mul_mod(base, modulus);
        }
    }
    acc
}

/// The address whose key signed `hash` as (r, s) with recovery id `v` (0 or 1), without the
/// low-s rule; `None` when r or s is 0 or not below the order, r is no x coordinate, or the
/// key is the point at infinity.
fn ecrecover(hash: &[u8; 32], v: u8, r: &[u8; 32], s: &[u8; 32]) -> Option<U256> {
    use k256::ecdsa::{Signature, VerifyingKey};
    use k256::elliptic_curve::ops::{Invert, LinearCombination, Reduce};
    use k256::elliptic_curve::point::DecompressPoint;
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};

    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(r);
    rs[32..].copy_from_slice(s);
    let signature = Signature::try_from(&rs[..]).ok()?;
    let (r, s) = signature.split_scalars();
    let z = <Scalar as Reduce<k256::U256>>::reduce_bytes(&FieldBytes::from(*hash));
    let big_r = Option::<AffinePoint>::from(AffinePoint::decompress(&r.to_bytes(), (v & 1).into()))?;
    let r_inv: Scalar = *r.invert();
    let u1 = -(r_inv * z);
    let u2 = r_inv * *s;
    let pk = ProjectivePoint::lincomb(&ProjectivePoint::GENERATOR, &u1, &ProjectivePoint::from(big_r), &u2);
    let key = VerifyingKey::from_affine(pk.into()).ok()?;
    let point = key.as_affine().to_encoded_point(false);
    let digest = B256::keccak(&point.as_bytes()[1..]).0;
    let mut address = [0u8; 32];
    address[12..].copy_from_slice(&digest[12..]);
    Some(U256::from_be_bytes(address))
}

/// Whether (r, s) is a P-256 signature of `hash` by the key (x, y); `None` for a malformed
/// signature (r or s out of range) or a point off the curve.
fn secp256r1_verify(hash: &[u8; 32], r: &[u8; 32], s: &[u8; 32], x: &[u8; 32], y: &[u8; 32]) -> Option<bool> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    use p256::elliptic_curve::sec1::FromEncodedPoint;
    use p256::{AffinePoint, EncodedPoint, FieldBytes};

    let signature = Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s)).ok()?;
    let encoded = EncodedPoint::from_affine_coordinates(&FieldBytes::from(*x), &FieldBytes::from(*y), false);
    let point = Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))?;
    let key = VerifyingKey::from_affine(point).ok()?;
    Some(key.verify_prehash(hash, &signature).is_ok())
}
