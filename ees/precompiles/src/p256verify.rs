//! P256VERIFY (0x100, EIP-7951, Osaka): ECDSA signature verification over
//! secp256r1 (NIST P-256), on the RustCrypto `p256` crate.
//!
//! Input (exactly 160 bytes): `hash ‖ r ‖ s ‖ qx ‖ qy`, 32-byte big-endian
//! words. The call always costs 6900 gas (EIP-7951's `P256VERIFY_GAS`, the
//! execution specs' `GAS_P256VERIFY = 6900`), and never fails once that is
//! paid: a valid signature returns the 32-byte word 1, while every invalid
//! input (another length, `r` or `s` outside [1, n-1], a coordinate ≥ p, a
//! key off the curve or at infinity, a signature that does not verify)
//! returns no bytes.
//!
//! Verification is plain ECDSA: with `e` the hash read as an integer,
//! `R' = (e·s⁻¹)·G + (r·s⁻¹)·Q` must not be the point at infinity and
//! `R'.x mod n` must equal `r`. High `s` is accepted (no malleability rule).
use super::{PrecompileError, PrecompileOutput, PrecompileResult};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::{EncodedPoint, FieldBytes};

const GAS: u64 = 6_900;
/// The only length that can verify; any other returns no bytes.
pub(super) const INPUT_LEN: usize = 160;

pub(super) fn run(input: &[u8], gas_limit: u64) -> PrecompileResult {
    if GAS > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    let output = if verify(input) {
        let mut one = vec![0u8; 32];
        one[31] = 1;
        one
    } else {
        Vec::new()
    };
    Ok(PrecompileOutput { gas_used: GAS, output })
}

/// Whether `input` is 160 bytes holding a valid signature of its hash.
fn verify(input: &[u8]) -> bool {
    if input.len() != INPUT_LEN {
        return false;
    }
    let word = |i: usize| {
        let mut bytes = FieldBytes::default();
        bytes.copy_from_slice(&input[32 * i..32 * (i + 1)]);
        bytes
    };
    let hash = &input[..32];
    // `from_scalars` rejects r or s that is zero or not below the group order n.
    let Ok(signature) = Signature::from_scalars(word(1), word(2)) else {
        return false;
    };
    // Decoding rejects a coordinate ≥ p and a point off the curve; (0, 0), the usual
    // stand-in for infinity, is off the curve (b ≠ 0), and the identity is refused as a key.
    let point = EncodedPoint::from_affine_coordinates(&word(3), &word(4), false);
    let Ok(key) = VerifyingKey::from_encoded_point(&point) else {
        return false;
    };
    // The 32-byte hash is the whole of `e` (P-256's order has 256 bits), reduced mod n;
    // `R'` at infinity has x = 0, which no accepted r (≥ 1) matches.
    key.verify_prehash(hash, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::{run, PrecompileError, PrecompileOutput};
    use crate::test_hex as hex;
    use ee_api::{Address, Fork, U256};

    fn p256() -> Address {
        let mut a = [0u8; 20];
        a[18] = 1;
        Address(a)
    }

    /// Wycheproof ecdsa_secp256r1_sha256_p1363 #1, the first vector of EIP-7951's
    /// assets/eip-7951/test-vectors.json (expected: valid).
    const VALID: &str = concat!(
        "bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023",
        "2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18",
        "4cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76",
        "2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838",
        "c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e",
    );
    /// The group order n and the field modulus p of secp256r1.
    const N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    const P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

    fn one() -> Vec<u8> {
        let mut v = vec![0u8; 32];
        v[31] = 1;
        v
    }

    /// VALID with the 32-byte word `i` (0 hash, 1 r, 2 s, 3 qx, 4 qy) replaced.
    fn with_word(i: usize, word: &str) -> Vec<u8> {
        let mut input = hex(VALID);
        input[32 * i..32 * (i + 1)].copy_from_slice(&hex(word));
        input
    }

    fn verify(input: &[u8]) -> Vec<u8> {
        let result = run(&p256(), input, 6_900, Fork::Osaka).expect("P256VERIFY never fails once paid");
        assert_eq!(result.gas_used, 6_900);
        result.output
    }

    #[test]
    fn eip_vectors_and_gas() {
        assert_eq!(
            run(&p256(), &hex(VALID), 6_900, Fork::Osaka),
            Ok(PrecompileOutput { gas_used: 6_900, output: one() })
        );
        assert_eq!(run(&p256(), &hex(VALID), 6_899, Fork::Osaka), Err(PrecompileError::OutOfGas));
        // Vector #3 ("Modified r or s"): (n - r, n - s) does not verify.
        let modified = concat!(
            "bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023",
            "d45c5740946b2a147f59262ee6f5bc90bd01ed280528b62b3aed5fc93f06f739",
            "b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db",
            "2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838",
            "c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e",
        );
        assert_eq!(verify(&hex(modified)), Vec::<u8>::new());
        // A different hash does not verify.
        let mut other = hex(VALID);
        other[31] ^= 1;
        assert_eq!(verify(&other), Vec::<u8>::new());
    }

    #[test]
    fn high_s_is_accepted() {
        // (r, n - s) verifies whenever (r, s) does: EIP-7951 has no low-s rule.
        let n = U256::from_str_radix(N, 16).unwrap();
        let s = U256::from_be_slice(&hex(VALID)[64..96]);
        let high = n - s;
        assert!(high > n >> 1);
        let input = with_word(2, &format!("{high:064x}"));
        assert_eq!(verify(&input), one());
    }

    #[test]
    fn r_is_compared_mod_n() {
        // R' = (e/s)·G + (r/s)·Q with e = 0, s = 1 and Q = r⁻¹·R, where R is a curve point with
        // x = n + 3 (x ≥ n is possible since p > n): R'.x = n + 3 ≠ r, but R'.x mod n = 3 = r.
        // Computed for this test with plain affine arithmetic.
        let input = concat!(
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000003",
            "0000000000000000000000000000000000000000000000000000000000000001",
            "02bc847e19ebbe40a367ced648068511bbc24dba56322fd52885604eddc09eaf",
            "815556a7b1bb4d14f4f42197daf62b07c1f30ffbbd9df15047f2b29c56da405e",
        );
        assert_eq!(verify(&hex(input)), one());
        // r = n + 3 itself is out of range.
        let mut too_big = hex(input);
        too_big[32..64].copy_from_slice(&hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632554"));
        assert_eq!(verify(&too_big), Vec::<u8>::new());
    }

    #[test]
    fn invalid_inputs_return_nothing_and_charge_the_gas() {
        let zero = "00".repeat(32);
        let n_minus_1 = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
        let cases = [
            // r and s must be in [1, n - 1].
            with_word(1, &zero),
            with_word(2, &zero),
            with_word(1, N),
            with_word(2, N),
            with_word(1, &"ff".repeat(32)),
            with_word(2, n_minus_1), // in range, but not this signature's s
            // Coordinates must be below p, the key on the curve and not (0, 0).
            with_word(3, P),
            with_word(4, P),
            with_word(3, &"ff".repeat(32)),
            {
                let mut v = with_word(3, &zero);
                v[128..].copy_from_slice(&[0; 32]);
                v
            },
            {
                let mut v = hex(VALID);
                v[159] ^= 1; // off the curve
                v
            },
        ];
        for input in &cases {
            assert_eq!(verify(input), Vec::<u8>::new(), "input {input:02x?}");
        }
        // Any length other than 160 returns nothing, even with a valid prefix.
        let valid = hex(VALID);
        let mut long = valid.clone();
        long.push(0);
        for input in [&valid[..0], &valid[..159], &long[..], &[valid.clone(), valid.clone()].concat()] {
            assert_eq!(verify(input), Vec::<u8>::new());
        }
    }

    #[test]
    fn only_from_osaka() {
        let none = Ok(PrecompileOutput { gas_used: 0, output: vec![] });
        assert_eq!(run(&p256(), &hex(VALID), 100_000, Fork::Prague), none);
        assert_eq!(run(&p256(), &hex(VALID), 100_000, Fork::Osaka).map(|o| o.output), Ok(one()));
    }
}
