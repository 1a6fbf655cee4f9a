//! alt_bn128 / bn254 addition (0x06), scalar multiplication (0x07) and
//! pairing check (0x08): EIP-196/197, repriced by EIP-1108 in Istanbul.
use super::{padded, PrecompileError, PrecompileOutput, PrecompileResult};
use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup};
use ark_ff::{BigInt, BigInteger, PrimeField, Zero};
use ee_api::{CallInput, Fork};

/// Gas prices (Byzantium, Istanbul).
const ADD_GAS: (u64, u64) = (500, 150);
const MUL_GAS: (u64, u64) = (40_000, 6_000);
const PAIRING_BASE_GAS: (u64, u64) = (100_000, 45_000);
const PAIRING_PER_PAIR_GAS: (u64, u64) = (80_000, 34_000);

fn price(fork: Fork, (byzantium, istanbul): (u64, u64)) -> u64 {
    if fork >= Fork::Istanbul {
        istanbul
    } else {
        byzantium
    }
}

/// 32 big-endian bytes as four little-endian limbs.
fn limbs(bytes: &[u8]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let at = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    }
    BigInt::new(limbs)
}

/// A base-field element from 32 big-endian bytes; values ≥ p are invalid.
fn fq(bytes: &[u8]) -> Result<Fq, PrecompileError> {
    Fq::from_bigint(limbs(bytes)).ok_or(PrecompileError::Failure)
}

/// A G1 point from 64 bytes (x, y); (0, 0) is the point at infinity. G1 has cofactor 1, so a
/// point on the curve is in the group.
fn g1(bytes: &[u8]) -> Result<G1Affine, PrecompileError> {
    let x = fq(&bytes[..32])?;
    let y = fq(&bytes[32..64])?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::identity());
    }
    let point = G1Affine::new_unchecked(x, y);
    if point.is_on_curve() {
        Ok(point)
    } else {
        Err(PrecompileError::Failure)
    }
}

/// A G2 point from 128 bytes (x_imag, x_real, y_imag, y_real); all-zero is
/// the point at infinity. Points must be on the curve and in the subgroup.
fn g2(bytes: &[u8]) -> Result<G2Affine, PrecompileError> {
    let x = Fq2::new(fq(&bytes[32..64])?, fq(&bytes[..32])?);
    let y = Fq2::new(fq(&bytes[96..128])?, fq(&bytes[64..96])?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::identity());
    }
    let point = G2Affine::new_unchecked(x, y);
    if point.is_on_curve() && point.is_in_correct_subgroup_assuming_on_curve() {
        Ok(point)
    } else {
        Err(PrecompileError::Failure)
    }
}

/// 64 bytes (x, y) of a G1 point; zeros for infinity.
fn encode_g1(p: G1Affine) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    if let Some((x, y)) = p.xy() {
        out[..32].copy_from_slice(&x.into_bigint().to_bytes_be());
        out[32..].copy_from_slice(&y.into_bigint().to_bytes_be());
    }
    out
}

pub(super) fn add(input: &[u8], gas_limit: u64, fork: Fork) -> PrecompileResult {
    let gas = price(fork, ADD_GAS);
    if gas > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    let data: [u8; 128] = padded(input, 0);
    let p = g1(&data[..64])?;
    let q = g1(&data[64..])?;
    Ok(PrecompileOutput { gas_used: gas, output: encode_g1((p + q).into_affine()) })
}

pub(super) fn mul(input: &[u8], gas_limit: u64, fork: Fork) -> PrecompileResult {
    let gas = price(fork, MUL_GAS);
    if gas > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    let data: [u8; 96] = padded(input, 0);
    let p = g1(&data[..64])?;
    // Any 256-bit scalar is allowed: multiplying by the integer is multiplying by it modulo
    // the group order.
    let s = limbs(&data[64..]);
    Ok(PrecompileOutput { gas_used: gas, output: encode_g1(p.mul_bigint(s).into_affine()) })
}

pub(super) fn pairing(input: &CallInput, gas_limit: u64, fork: Fork) -> PrecompileResult {
    let pairs = input.len() / 192;
    let gas =
        price(fork, PAIRING_BASE_GAS).saturating_add(price(fork, PAIRING_PER_PAIR_GAS).saturating_mul(pairs as u64));
    if gas > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    if pairs * 192 != input.len() {
        return Err(PrecompileError::Failure);
    }
    let input = input.to_cow();
    let (mut ps, mut qs) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for chunk in input.chunks_exact(192) {
        ps.push(g1(&chunk[..64])?);
        qs.push(g2(&chunk[64..])?);
    }
    // The empty product is 1; pairs with a point at infinity contribute 1. The final
    // exponentiation has no answer only for a Miller-loop value of 0, which valid points
    // never give; it would not be 1 either.
    let ok = Bn254::final_exponentiation(Bn254::multi_miller_loop(ps, qs)).is_some_and(|gt| gt.is_zero());
    let mut output = vec![0u8; 32];
    output[31] = u8::from(ok);
    Ok(PrecompileOutput { gas_used: gas, output })
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use crate::test_hex as hex;
    use ee_api::Fork;

    const G: &str = concat!(
        "0000000000000000000000000000000000000000000000000000000000000001",
        "0000000000000000000000000000000000000000000000000000000000000002"
    );
    /// 2·G on alt_bn128.
    const G2X: &str = concat!(
        "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
        "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
    );

    #[test]
    fn add_generator_to_itself() {
        let input = hex(&format!("{G}{G}"));
        let out = run(&addr(6), &input, 500, Fork::Byzantium).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 500, output: hex(G2X) });
        let out = run(&addr(6), &input, 150, Fork::Istanbul).unwrap();
        assert_eq!(out.gas_used, 150);
        assert_eq!(run(&addr(6), &input, 499, Fork::Byzantium), Err(PrecompileError::OutOfGas));
        // Empty input: infinity + infinity.
        assert_eq!(run(&addr(6), &[], 150, Fork::Istanbul).unwrap().output, vec![0u8; 64]);
        // Not on the curve.
        let bad = hex(&format!("{G}{}", "00".repeat(31) + "01" + &"00".repeat(31) + "03"));
        assert_eq!(run(&addr(6), &bad, 150, Fork::Istanbul), Err(PrecompileError::Failure));
        // Coordinate ≥ p.
        let bad = hex(&format!("{G}{}", "ff".repeat(64)));
        assert_eq!(run(&addr(6), &bad, 150, Fork::Istanbul), Err(PrecompileError::Failure));
    }

    #[test]
    fn mul_by_two() {
        let input = hex(&format!("{G}{}", "00".repeat(31) + "02"));
        let out = run(&addr(7), &input, 40_000, Fork::Byzantium).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 40_000, output: hex(G2X) });
        assert_eq!(run(&addr(7), &input, 5_999, Fork::Istanbul), Err(PrecompileError::OutOfGas));
        // Multiplying by the group order gives infinity.
        let order = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        let input = hex(&format!("{G}{order}"));
        assert_eq!(run(&addr(7), &input, 6_000, Fork::Istanbul).unwrap().output, vec![0u8; 64]);
    }

    #[test]
    fn pairing_checks() {
        // Empty input: true, base cost only.
        let mut one = vec![0u8; 32];
        one[31] = 1;
        assert_eq!(
            run(&addr(8), &[], 100_000, Fork::Byzantium),
            Ok(PrecompileOutput { gas_used: 100_000, output: one.clone() })
        );
        assert_eq!(run(&addr(8), &[0; 191], 1_000_000, Fork::Istanbul), Err(PrecompileError::Failure));
        // e(G1, G2) · e(-G1, G2) = 1 (geth's "jeff"-style check with the generators).
        let g2 = concat!(
            "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
            "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
            "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
            "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
        );
        let neg_g1 = concat!(
            "0000000000000000000000000000000000000000000000000000000000000001",
            "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45"
        );
        let input = hex(&format!("{G}{g2}{neg_g1}{g2}"));
        let out = run(&addr(8), &input, 113_000, Fork::Istanbul).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 113_000, output: one });
        // e(G1, G2) alone is not 1.
        let input = hex(&format!("{G}{g2}"));
        assert_eq!(run(&addr(8), &input, 79_000, Fork::Istanbul).unwrap().output, vec![0u8; 32]);
        assert_eq!(run(&addr(8), &input, 78_999, Fork::Istanbul), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(8), &input, 179_999, Fork::Byzantium), Err(PrecompileError::OutOfGas));
        // A G2 point off the curve fails.
        let mut bad = hex(&format!("{G}{g2}"));
        bad[191] ^= 1;
        assert_eq!(run(&addr(8), &bad, 1_000_000, Fork::Istanbul), Err(PrecompileError::Failure));
    }
}
