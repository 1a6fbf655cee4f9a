//! KZG point evaluation (0x0a, EIP-4844).
//!
//! Input (exactly 192 bytes): versioned_hash (32), z (32), y (32),
//! commitment (48), proof (48). Succeeds when the versioned hash is
//! `0x01 ++ sha256(commitment)[1..]` and the proof shows that the polynomial
//! committed to evaluates to `y` at `z`. Output: FIELD_ELEMENTS_PER_BLOB and
//! BLS_MODULUS as two 32-byte words.
use super::kzg::verify_kzg_proof;
use super::{PrecompileError, PrecompileOutput, PrecompileResult};
use sha2::{Digest, Sha256};

const GAS: u64 = 50_000;
/// The only valid input length.
pub(super) const INPUT_LEN: usize = 192;
const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// FIELD_ELEMENTS_PER_BLOB (4096) ++ BLS_MODULUS, each a 32-byte big-endian word.
const RETURN_VALUE: [u8; 64] = {
    let mut out = [0u8; 64];
    out[30] = 0x10;
    let modulus: [u8; 32] = [
        0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd,
        0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
    ];
    let mut i = 0;
    while i < 32 {
        out[32 + i] = modulus[i];
        i += 1;
    }
    out
};

/// The versioned hash of a KZG commitment.
pub fn kzg_to_versioned_hash(commitment: &[u8]) -> [u8; 32] {
    let mut hash: [u8; 32] = Sha256::digest(commitment).into();
    hash[0] = VERSIONED_HASH_VERSION_KZG;
    hash
}

pub(super) fn run(input: &[u8], gas_limit: u64) -> PrecompileResult {
    if GAS > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    if input.len() != INPUT_LEN {
        return Err(PrecompileError::Failure);
    }
    let commitment = &input[96..144];
    if kzg_to_versioned_hash(commitment) != input[..32] {
        return Err(PrecompileError::Failure);
    }
    let word = |i: usize| -> &[u8; 32] { input[i..i + 32].try_into().expect("192-byte input") };
    let point = |i: usize| -> &[u8; 48] { input[i..i + 48].try_into().expect("192-byte input") };
    // Non-canonical field elements and invalid points are errors, as in c-kzg.
    match verify_kzg_proof(point(96), word(32), word(64), point(144)) {
        Ok(true) => Ok(PrecompileOutput { gas_used: GAS, output: RETURN_VALUE.to_vec() }),
        _ => Err(PrecompileError::Failure),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use super::{kzg_to_versioned_hash, RETURN_VALUE};
    use crate::test_hex as hex;
    use c_kzg::{Blob, Bytes32, BYTES_PER_BLOB};
    use ee_api::Fork;

    fn input(commitment: &[u8], z: &[u8], y: &[u8], proof: &[u8]) -> Vec<u8> {
        let mut v = kzg_to_versioned_hash(commitment).to_vec();
        v.extend_from_slice(z);
        v.extend_from_slice(y);
        v.extend_from_slice(commitment);
        v.extend_from_slice(proof);
        v
    }

    #[test]
    fn return_value() {
        assert_eq!(
            RETURN_VALUE.to_vec(),
            hex(concat!(
                "0000000000000000000000000000000000000000000000000000000000001000",
                "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001"
            ))
        );
    }

    #[test]
    fn zero_polynomial_at_zero() {
        // The commitment to the zero polynomial is the point at infinity
        // (compressed: 0xc0 followed by zeros); so is the proof, and y = 0.
        let mut inf = vec![0u8; 48];
        inf[0] = 0xc0;
        let good = input(&inf, &[0; 32], &[0; 32], &inf);
        assert_eq!(
            run(&addr(10), &good, 50_000, Fork::Cancun),
            Ok(PrecompileOutput { gas_used: 50_000, output: RETURN_VALUE.to_vec() })
        );
        assert_eq!(run(&addr(10), &good, 49_999, Fork::Cancun), Err(PrecompileError::OutOfGas));
        // Wrong y.
        let mut y = [0u8; 32];
        y[31] = 1;
        let bad = input(&inf, &[0; 32], &y, &inf);
        assert_eq!(run(&addr(10), &bad, 50_000, Fork::Cancun), Err(PrecompileError::Failure));
        // Wrong versioned hash.
        let mut bad = good.clone();
        bad[0] = 0x02;
        assert_eq!(run(&addr(10), &bad, 50_000, Fork::Cancun), Err(PrecompileError::Failure));
        // Wrong length.
        assert_eq!(run(&addr(10), &good[..191], 50_000, Fork::Cancun), Err(PrecompileError::Failure));
        assert_eq!(run(&addr(10), &[], 50_000, Fork::Cancun), Err(PrecompileError::Failure));
        // z not a canonical field element.
        let bad = input(&inf, &[0xff; 32], &[0; 32], &inf);
        assert_eq!(run(&addr(10), &bad, 50_000, Fork::Cancun), Err(PrecompileError::Failure));
        // Commitment not a valid point.
        let bad = input(&[0xaa; 48], &[0; 32], &[0; 32], &inf);
        assert_eq!(run(&addr(10), &bad, 50_000, Fork::Cancun), Err(PrecompileError::Failure));
    }

    #[test]
    fn proof_computed_by_c_kzg() {
        let settings = || c_kzg::ethereum_kzg_settings(0);
        // A blob whose field elements are small numbers, committed and opened
        // at z = 5 with c-kzg and the same trusted setup.
        let mut bytes = vec![0u8; BYTES_PER_BLOB];
        for (i, chunk) in bytes.chunks_mut(32).enumerate() {
            chunk[28..].copy_from_slice(&(i as u32 * 7 + 1).to_be_bytes());
        }
        let blob = Blob::from_bytes(&bytes).unwrap();
        let commitment = settings().blob_to_kzg_commitment(&blob).unwrap().to_bytes().into_inner();
        let mut z = [0u8; 32];
        z[31] = 5;
        let (proof, y) = settings().compute_kzg_proof(&blob, &Bytes32::new(z)).unwrap();
        let y: [u8; 32] = *y;
        let proof = proof.to_bytes().into_inner();
        let good = input(&commitment, &z, &y, &proof);
        assert_eq!(run(&addr(10), &good, 50_000, Fork::Cancun).unwrap().output, RETURN_VALUE.to_vec());
        let mut y2 = y;
        y2[31] ^= 1;
        let bad = input(&commitment, &z, &y2, &proof);
        assert_eq!(run(&addr(10), &bad, 50_000, Fork::Cancun), Err(PrecompileError::Failure));
    }
}
