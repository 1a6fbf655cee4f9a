//! EIP-4844's `verify_kzg_proof` on blst (the BLS12-381 library c-kzg itself
//! is built on), following the consensus specs' `verify_kzg_proof_impl`.
//!
//! Why not c-kzg's own verifier: loading its trusted setup precomputes the
//! PeerDAS (EIP-7594) tables, about 2.6 s of CPU in every process that meets
//! a point-evaluation call, while verifying one proof needs a single point of
//! the setup, `[τ]G2`. c-kzg stays as a dev-dependency: the tests check that
//! both agree.
//!
//! The `unsafe` blocks call blst's C functions on values owned by this module:
//! every pointer is to a live, initialized local of the matching blst type.

use blst::{
    blst_final_exp, blst_fp12, blst_fp12_is_one, blst_fp12_mul, blst_miller_loop, blst_p1, blst_p1_add_or_double,
    blst_p1_affine, blst_p1_affine_in_g1, blst_p1_cneg, blst_p1_from_affine, blst_p1_generator, blst_p1_mult,
    blst_p1_to_affine, blst_p1_uncompress, blst_p2, blst_p2_add_or_double, blst_p2_affine, blst_p2_cneg,
    blst_p2_from_affine, blst_p2_generator, blst_p2_mult, blst_p2_to_affine, blst_p2_uncompress, blst_scalar,
    blst_scalar_fr_check, blst_scalar_from_bendian, BLST_ERROR,
};
use std::sync::OnceLock;

/// `[τ]G2`, the second G2 point of the Ethereum KZG ceremony's monomial
/// setup (`g2_monomial[1]` of `trusted_setup.txt`), compressed.
const TAU_G2: [u8; 96] = [
    0xb5, 0xbf, 0xd7, 0xdd, 0x8c, 0xde, 0xb1, 0x28, 0x84, 0x3b, 0xc2, 0x87, 0x23, 0x0a, 0xf3, 0x89, 0x26, 0x18, 0x70,
    0x75, 0xcb, 0xfb, 0xef, 0xa8, 0x10, 0x09, 0xa2, 0xce, 0x61, 0x5a, 0xc5, 0x3d, 0x29, 0x14, 0xe5, 0x87, 0x0c, 0xb4,
    0x52, 0xd2, 0xaf, 0xaa, 0xab, 0x24, 0xf3, 0x49, 0x9f, 0x72, 0x18, 0x5c, 0xbf, 0xee, 0x53, 0x49, 0x27, 0x14, 0x73,
    0x44, 0x29, 0xb7, 0xb3, 0x86, 0x08, 0xe2, 0x39, 0x26, 0xc9, 0x11, 0xcc, 0xec, 0xea, 0xc9, 0xa3, 0x68, 0x51, 0x47,
    0x7b, 0xa4, 0xc6, 0x0b, 0x08, 0x70, 0x41, 0xde, 0x62, 0x10, 0x00, 0xed, 0xc9, 0x8e, 0xda, 0xda, 0x20, 0xc1, 0xde,
    0xf2,
];

/// Bits of a BLS12-381 scalar-field element.
const FR_BITS: usize = 255;

/// Why the inputs could not be verified (c-kzg's `C_KZG_BADARGS`).
#[derive(Debug, PartialEq, Eq)]
pub struct BadArgs;

/// Whether `proof` shows that the polynomial committed to by `commitment`
/// evaluates to `y` at `z`. Points are compressed G1 (the point at infinity
/// allowed); `z` and `y` are big-endian and must be below the field modulus.
pub fn verify_kzg_proof(commitment: &[u8; 48], z: &[u8; 32], y: &[u8; 32], proof: &[u8; 48]) -> Result<bool, BadArgs> {
    let commitment = g1(commitment)?;
    let proof = g1(proof)?;
    let z = field_element(z)?;
    let y = field_element(y)?;
    let tau = g2_setup_point();
    // SAFETY: see the module note; blst_p{1,2}_generator return pointers to static points.
    let ok = unsafe {
        // X - z = [τ - z]G2
        let mut z_g2 = blst_p2::default();
        blst_p2_mult(&mut z_g2, blst_p2_generator(), z.b.as_ptr(), FR_BITS);
        blst_p2_cneg(&mut z_g2, true);
        let mut x_minus_z = blst_p2::default();
        blst_p2_add_or_double(&mut x_minus_z, tau, &z_g2);
        // P - y = commitment - [y]G1
        let mut y_g1 = blst_p1::default();
        blst_p1_mult(&mut y_g1, blst_p1_generator(), y.b.as_ptr(), FR_BITS);
        blst_p1_cneg(&mut y_g1, true);
        let mut p_minus_y = blst_p1::default();
        blst_p1_add_or_double(&mut p_minus_y, &commitment, &y_g1);
        // e(P - y, -G2) · e(proof, X - z) == 1
        blst_p1_cneg(&mut p_minus_y, true);
        let (mut a1, mut b1) = (blst_p1_affine::default(), blst_p1_affine::default());
        let (mut a2, mut b2) = (blst_p2_affine::default(), blst_p2_affine::default());
        blst_p1_to_affine(&mut a1, &p_minus_y);
        blst_p1_to_affine(&mut b1, &proof);
        blst_p2_to_affine(&mut a2, blst_p2_generator());
        blst_p2_to_affine(&mut b2, &x_minus_z);
        let (mut left, mut right, mut product) = (blst_fp12::default(), blst_fp12::default(), blst_fp12::default());
        blst_miller_loop(&mut left, &a2, &a1);
        blst_miller_loop(&mut right, &b2, &b1);
        blst_fp12_mul(&mut product, &left, &right);
        let mut result = blst_fp12::default();
        blst_final_exp(&mut result, &product);
        blst_fp12_is_one(&result)
    };
    Ok(ok)
}

/// A compressed G1 point in the prime-order subgroup (or the point at infinity).
fn g1(bytes: &[u8; 48]) -> Result<blst_p1, BadArgs> {
    let mut affine = blst_p1_affine::default();
    let mut point = blst_p1::default();
    // SAFETY: see the module note; `bytes` holds the 48 bytes blst reads.
    unsafe {
        if blst_p1_uncompress(&mut affine, bytes.as_ptr()) != BLST_ERROR::BLST_SUCCESS {
            return Err(BadArgs);
        }
        // The infinity point passes the subgroup check.
        if !blst_p1_affine_in_g1(&affine) {
            return Err(BadArgs);
        }
        blst_p1_from_affine(&mut point, &affine);
    }
    Ok(point)
}

/// `[τ]G2` as a projective point, decoded once.
fn g2_setup_point() -> &'static blst_p2 {
    static POINT: OnceLock<blst_p2> = OnceLock::new();
    POINT.get_or_init(|| {
        let mut affine = blst_p2_affine::default();
        let mut point = blst_p2::default();
        // SAFETY: see the module note; TAU_G2 holds the 96 bytes blst reads.
        unsafe {
            let decoded = blst_p2_uncompress(&mut affine, TAU_G2.as_ptr());
            assert_eq!(decoded, BLST_ERROR::BLST_SUCCESS, "the ceremony's [τ]G2 constant decodes (tested)");
            blst_p2_from_affine(&mut point, &affine);
        }
        point
    })
}

/// A big-endian scalar-field element, rejected unless canonical (below the modulus).
fn field_element(bytes: &[u8; 32]) -> Result<blst_scalar, BadArgs> {
    let mut scalar = blst_scalar::default();
    // SAFETY: see the module note; `bytes` holds the 32 bytes blst reads.
    let canonical = unsafe {
        blst_scalar_from_bendian(&mut scalar, bytes.as_ptr());
        blst_scalar_fr_check(&scalar)
    };
    if canonical {
        Ok(scalar)
    } else {
        Err(BadArgs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use c_kzg::{Blob, Bytes32, Bytes48, BYTES_PER_BLOB};

    /// c-kzg's verdict on the same inputs: Err for bad arguments.
    fn c_kzg_verdict(c: &[u8; 48], z: &[u8; 32], y: &[u8; 32], p: &[u8; 48]) -> Result<bool, BadArgs> {
        let settings = c_kzg::ethereum_kzg_settings(0);
        let (c, p) = (Bytes48::new(*c), Bytes48::new(*p));
        settings.verify_kzg_proof(&c, &Bytes32::new(*z), &Bytes32::new(*y), &p).map_err(|_| BadArgs)
    }

    #[test]
    fn agrees_with_c_kzg_on_proofs_and_tampered_inputs() {
        let settings = c_kzg::ethereum_kzg_settings(0);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..3 {
            let mut bytes = vec![0u8; BYTES_PER_BLOB];
            for chunk in bytes.chunks_mut(32) {
                chunk[8..]
                    .copy_from_slice(&[next().to_be_bytes(), next().to_be_bytes(), next().to_be_bytes()].concat());
            }
            let blob = Blob::from_bytes(&bytes).unwrap();
            let commitment = settings.blob_to_kzg_commitment(&blob).unwrap().to_bytes().into_inner();
            let mut z = [0u8; 32];
            z[8..16].copy_from_slice(&next().to_be_bytes());
            z[31] = round;
            let (proof, y) = settings.compute_kzg_proof(&blob, &Bytes32::new(z)).unwrap();
            let (proof, y): ([u8; 48], [u8; 32]) = (proof.to_bytes().into_inner(), *y);
            assert_eq!(verify_kzg_proof(&commitment, &z, &y, &proof), Ok(true));
            let mut cases = Vec::new();
            let mut y2 = y;
            y2[31] ^= 1;
            cases.push((commitment, z, y2, proof));
            let mut z2 = z;
            z2[30] ^= 1;
            cases.push((commitment, z2, y, proof));
            cases.push((proof, z, y, commitment));
            cases.push((commitment, [0xff; 32], y, proof));
            let mut bad_point = commitment;
            bad_point[47] ^= 0x55;
            cases.push((bad_point, z, y, proof));
            for (c, z, y, p) in cases {
                assert_eq!(verify_kzg_proof(&c, &z, &y, &p), c_kzg_verdict(&c, &z, &y, &p));
            }
        }
    }

    #[test]
    fn infinity_commitment_and_proof_open_to_zero() {
        let mut inf = [0u8; 48];
        inf[0] = 0xc0;
        assert_eq!(verify_kzg_proof(&inf, &[0; 32], &[0; 32], &inf), Ok(true));
        assert_eq!(verify_kzg_proof(&inf, &[0; 32], &[0; 32], &inf), c_kzg_verdict(&inf, &[0; 32], &[0; 32], &inf));
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(verify_kzg_proof(&inf, &[0; 32], &one, &inf), Ok(false));
        assert_eq!(verify_kzg_proof(&[0xaa; 48], &[0; 32], &[0; 32], &inf), Err(BadArgs));
    }
}
