//! ecrecover (0x01): secp256k1 public-key recovery.
use super::{padded, PrecompileError, PrecompileOutput, PrecompileResult};
use ee_api::B256;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

const GAS: u64 = 3000;

/// Input: hash, v, r, s as 32-byte words (zero-padded). Any invalid
/// signature gives an empty output, still charging 3000.
pub(super) fn run(input: &[u8], gas_limit: u64) -> PrecompileResult {
    if GAS > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    let data: [u8; 128] = padded(input, 0);
    let output = recover(&data).map(|a| {
        let mut out = vec![0u8; 32];
        out[12..].copy_from_slice(&a);
        out
    });
    Ok(PrecompileOutput { gas_used: GAS, output: output.unwrap_or_default() })
}

/// The address that signed `data[0..32]` with (v, r, s) = `data[32..128]`.
fn recover(data: &[u8; 128]) -> Option<[u8; 20]> {
    let (hash, v, r, s) = (&data[..32], &data[32..64], &data[64..96], &data[96..128]);
    if v[..31].iter().any(|b| *b != 0) || !(v[31] == 27 || v[31] == 28) {
        return None;
    }
    let hash: &[u8; 32] = hash.try_into().ok()?;
    recover_address(hash, v[31] == 28, r.try_into().ok()?, s.try_into().ok()?)
}

/// The address whose key signed the 32-byte `hash` with (`y_odd`, `r`, `s`), for any
/// `0 < r, s < n` (high s included: callers that require low s check it themselves).
/// Shared by the precompile and EIP-7702's authority recovery.
pub fn recover_address(hash: &[u8; 32], y_odd: bool, r: &[u8; 32], s: &[u8; 32]) -> Option<[u8; 20]> {
    let mut y_odd = y_odd;
    let (r, s) = (*r, *s);
    // Rejects r or s equal to zero or not below the group order.
    let mut sig = Signature::from_scalars(r, s).ok()?;
    // k256 verifies only low-s signatures; the precompile accepts any s < n.
    // Negating s flips the parity of the recovered point R's mirror image.
    if let Some(low) = sig.normalize_s() {
        sig = low;
        y_odd = !y_odd;
    }
    let key = VerifyingKey::recover_from_prehash(hash, &sig, RecoveryId::new(y_odd, false)).ok()?;
    let point = key.to_encoded_point(false);
    let digest = B256::keccak(&point.as_bytes()[1..]).0;
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[12..]);
    Some(address)
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run};
    use crate::test_hex as hex;
    use ee_api::Fork;

    /// The classic ecrecover test from ethereum/tests (CallEcrecover0):
    /// hash 0x456e9aea..., v = 28, recovering 0x7156526fbd7a3c72969b54f64e42c10fbb768c8a.
    fn vector() -> Vec<u8> {
        hex(concat!(
            "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3",
            "000000000000000000000000000000000000000000000000000000000000001c",
            "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
            "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada",
        ))
    }

    #[test]
    fn recovers_known_signature() {
        let out = run(&addr(1), &vector(), 3000, Fork::Frontier).unwrap();
        assert_eq!(out.gas_used, 3000);
        assert_eq!(out.output, hex("0000000000000000000000007156526fbd7a3c72969b54f64e42c10fbb768c8a"));
    }

    #[test]
    fn invalid_inputs_give_empty_output() {
        // v = 27 recovers a different key (not an error).
        let mut input = vector();
        input[63] = 27;
        let out = run(&addr(1), &input, 3000, Fork::Frontier).unwrap();
        assert_ne!(out.output, hex("0000000000000000000000007156526fbd7a3c72969b54f64e42c10fbb768c8a"));
        // v = 29, or v with a high byte set: empty.
        for (i, b) in [(63, 29u8), (32, 1), (63, 0)] {
            let mut input = vector();
            input[i] = b;
            let out = run(&addr(1), &input, 3000, Fork::Frontier).unwrap();
            assert_eq!((out.gas_used, out.output.len()), (3000, 0));
        }
        // r = 0, s = 0, s = n.
        let mut input = vector();
        input[64..96].fill(0);
        assert!(run(&addr(1), &input, 3000, Fork::Frontier).unwrap().output.is_empty());
        let mut input = vector();
        input[96..128].copy_from_slice(&hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
        assert!(run(&addr(1), &input, 3000, Fork::Frontier).unwrap().output.is_empty());
        // Empty and short input.
        assert!(run(&addr(1), &[], 3000, Fork::Frontier).unwrap().output.is_empty());
        assert_eq!(run(&addr(1), &[], 2999, Fork::Frontier), Err(super::PrecompileError::OutOfGas));
    }

    #[test]
    fn recovers_classic_high_s_signature() {
        // ethereum/tests CallEcrecover0: s > n/2, recovers the usual test sender.
        let input = hex(concat!(
            "18c547e4f7b0f325ad1e56f57e26c745b09a3e503d86e00e5255ff7f715d3d1c",
            "000000000000000000000000000000000000000000000000000000000000001c",
            "73b1693892219d736caba55bdb67216e485557ea6b6af75f37096c9aa6a5a75f",
            "eeb940b1d03b21e36b0e47e79769f095fe2ab855bd91e3a38756b7d75a9c4549",
        ));
        let out = run(&addr(1), &input, 5000, Fork::Istanbul).unwrap();
        assert_eq!(out.gas_used, 3000);
        assert_eq!(out.output, hex("000000000000000000000000a94f5374fce5edbc8e2a8697c15331677e6ebf0b"));
    }

    #[test]
    fn high_s_is_accepted() {
        // Same signature with s' = n - s and the other v recovers the same key.
        let mut input = vector();
        let n = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        let s = input[96..128].to_vec();
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = n[i] as i16 - s[i] as i16 - borrow;
            input[96 + i] = d.rem_euclid(256) as u8;
            borrow = i16::from(d < 0);
        }
        input[63] = 27;
        let out = run(&addr(1), &input, 3000, Fork::Frontier).unwrap();
        assert_eq!(out.output, hex("0000000000000000000000007156526fbd7a3c72969b54f64e42c10fbb768c8a"));
    }
}
