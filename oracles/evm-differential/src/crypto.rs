//! Hashing, RLP of the few lists the generator needs, the fixed secret keys (senders and
//! EIP-7702 authorities) and valid signatures for ecrecover, P256VERIFY and authorizations.

use std::sync::OnceLock;

use k256::ecdsa::SigningKey;
use sha3::{Digest, Keccak256};

pub fn keccak(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Big-endian bytes without leading zeros (RLP's integer form).
pub fn trim(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// RLP of a byte string.
pub fn rlp_bytes(b: &[u8]) -> Vec<u8> {
    if b.len() == 1 && b[0] < 0x80 {
        return b.to_vec();
    }
    let mut out = rlp_len(0x80, b.len());
    out.extend_from_slice(b);
    out
}

fn rlp_len(base: u8, len: usize) -> Vec<u8> {
    if len < 56 {
        vec![base + len as u8]
    } else {
        let l = len.to_be_bytes();
        let l = trim(&l);
        let mut out = vec![base + 55 + l.len() as u8];
        out.extend_from_slice(l);
        out
    }
}

/// RLP of a list of already-encoded items.
pub fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut out = rlp_len(0xc0, body.len());
    out.extend_from_slice(&body);
    out
}

pub fn rlp_u64(v: u64) -> Vec<u8> {
    rlp_bytes(trim(&v.to_be_bytes()))
}

/// The address CREATE gives: keccak256(rlp([sender, nonce]))[12..].
pub fn create_address(sender: &[u8; 20], nonce: u64) -> [u8; 20] {
    let h = keccak(&rlp_list(&[rlp_bytes(sender), rlp_u64(nonce)]));
    h[12..].try_into().unwrap()
}

/// The address CREATE2 gives: keccak256(0xff ++ sender ++ salt ++ keccak256(init))[12..].
pub fn create2_address(sender: &[u8; 20], salt: &[u8; 32], init: &[u8]) -> [u8; 20] {
    let mut b = vec![0xff];
    b.extend_from_slice(sender);
    b.extend_from_slice(salt);
    b.extend_from_slice(&keccak(init));
    keccak(&b)[12..].try_into().unwrap()
}

/// Number of fixed secret keys.
pub const KEYS: usize = 4;

/// Fixed secret key `i` and its address.
pub fn key(i: usize) -> &'static ([u8; 32], [u8; 20]) {
    static TABLE: OnceLock<Vec<([u8; 32], [u8; 20])>> = OnceLock::new();
    &TABLE.get_or_init(|| {
        (0..KEYS)
            .map(|i| {
                let secret = keccak(format!("evm-differential key {i}").as_bytes());
                let sk = SigningKey::from_slice(&secret).expect("a valid key");
                let point = sk.verifying_key().to_encoded_point(false);
                let h = keccak(&point.as_bytes()[1..]);
                (secret, h[12..].try_into().unwrap())
            })
            .collect()
    })[i]
}

/// A recoverable secp256k1 signature of a 32-byte digest: (y parity, r, s).
pub fn sign(secret: &[u8; 32], digest: &[u8; 32]) -> (u8, [u8; 32], [u8; 32]) {
    let sk = SigningKey::from_slice(secret).expect("a valid key");
    let (sig, recid) = sk.sign_prehash_recoverable(digest).expect("signing a digest");
    let bytes = sig.to_bytes();
    (recid.to_byte(), bytes[..32].try_into().unwrap(), bytes[32..].try_into().unwrap())
}

/// Valid ecrecover inputs (hash, v = 27/28, r, s), a few, computed once.
pub fn ecrecover_inputs() -> &'static [Vec<u8>] {
    static TABLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..8u8)
            .map(|i| {
                let digest = keccak(&[i, 0xec]);
                let (parity, r, s) = sign(&key(i as usize % KEYS).0, &digest);
                let mut v = [0u8; 32];
                v[31] = 27 + parity;
                [digest.as_slice(), &v, &r, &s].concat()
            })
            .collect()
    })
}

/// Valid P256VERIFY inputs (hash, r, s, x, y), a few, computed once.
pub fn p256_inputs() -> &'static [Vec<u8>] {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    static TABLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..4u8)
            .map(|i| {
                let sk = p256::ecdsa::SigningKey::from_slice(&keccak(&[i, 0x25, 0x6a])).expect("a valid key");
                let digest = keccak(&[i, 0x25]);
                let sig: p256::ecdsa::Signature = sk.sign_prehash(&digest).expect("signing a digest");
                let point = sk.verifying_key().to_encoded_point(false);
                [digest.as_slice(), &sig.to_bytes(), &point.as_bytes()[1..]].concat()
            })
            .collect()
    })
}

/// An EIP-7702 authorization signed by key `signer`: (y parity, r, s) over
/// keccak256(0x05 ++ rlp([chain_id, address, nonce])).
pub fn sign_authorization(signer: usize, chain_id: u64, address: &[u8; 20], nonce: u64) -> (u8, [u8; 32], [u8; 32]) {
    let mut msg = vec![0x05];
    msg.extend(rlp_list(&[rlp_u64(chain_id), rlp_bytes(address), rlp_u64(nonce)]));
    sign(&key(signer).0, &keccak(&msg))
}

/// Valid KZG point-evaluation (0x0a) inputs — versioned hash, z, y, commitment, proof — for two
/// blobs, each opened at three points with c-kzg and Ethereum's trusted setup, so that the
/// precompile's success path is compared too, not only its rejections.
pub fn point_evaluation_inputs() -> &'static [Vec<u8>] {
    use c_kzg::{Blob, Bytes32, BYTES_PER_BLOB};
    use sha2::{Digest as _, Sha256};
    static TABLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let settings = c_kzg::ethereum_kzg_settings(0);
        // Field elements below the BLS12-381 scalar modulus: a zero top byte.
        let below_modulus = |seed: &str| {
            let mut w = keccak(seed.as_bytes());
            w[0] = 0;
            w
        };
        let mut inputs = Vec::new();
        for b in 0..2 {
            let mut bytes = vec![0u8; BYTES_PER_BLOB];
            for (i, chunk) in bytes.chunks_mut(32).enumerate() {
                let element = if b == 0 {
                    let mut w = [0u8; 32];
                    w[28..].copy_from_slice(&(i as u32 * 7 + 1).to_be_bytes());
                    w
                } else {
                    below_modulus(&format!("evm-differential blob {b} element {i}"))
                };
                chunk.copy_from_slice(&element);
            }
            let blob = Blob::from_bytes(&bytes).expect("elements below the modulus");
            let commitment = settings.blob_to_kzg_commitment(&blob).expect("a commitment").to_bytes().into_inner();
            let mut versioned: [u8; 32] = Sha256::digest(commitment).into();
            versioned[0] = 0x01;
            for z in [[0u8; 32], below_modulus("z 1"), below_modulus(&format!("z blob {b}"))] {
                let (proof, y) = settings.compute_kzg_proof(&blob, &Bytes32::new(z)).expect("a proof");
                let y: [u8; 32] = *y;
                let input = [&versioned[..], &z, &y, &commitment, &proof.to_bytes().into_inner()].concat();
                inputs.push(input);
            }
        }
        inputs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_address_of_a_known_sender() {
        // The first contract of 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0 (nonce 0), a classic example.
        let sender: [u8; 20] = hex::decode("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0").unwrap().try_into().unwrap();
        assert_eq!(hex::encode(create_address(&sender, 0)), "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d");
        assert_eq!(hex::encode(create_address(&sender, 1)), "343c43a37d37dff08ae8c4a11544c718abb4fcf8");
    }

    #[test]
    fn create2_address_of_eip_1014_example() {
        // EIP-1014 example 1: address 0, salt 0, init code 0x00.
        let a = create2_address(&[0; 20], &[0; 32], &[0]);
        assert_eq!(hex::encode(a), "4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38");
    }

    #[test]
    fn signatures_recover_to_their_keys() {
        use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
        let digest = keccak(b"x");
        let (parity, r, s) = sign(&key(1).0, &digest);
        let sig = Signature::from_slice(&[r, s].concat()).unwrap();
        let vk = VerifyingKey::recover_from_prehash(&digest, &sig, RecoveryId::from_byte(parity).unwrap()).unwrap();
        let h = keccak(&vk.to_encoded_point(false).as_bytes()[1..]);
        assert_eq!(&h[12..], key(1).1.as_slice());
        assert_eq!(ecrecover_inputs()[0].len(), 128);
        assert_eq!(p256_inputs()[0].len(), 160);
    }

    #[test]
    fn point_evaluation_inputs_verify_with_c_kzg() {
        use c_kzg::{Bytes32, Bytes48};
        let settings = c_kzg::ethereum_kzg_settings(0);
        let inputs = point_evaluation_inputs();
        assert_eq!(inputs.len(), 6);
        for v in inputs {
            assert_eq!(v.len(), 192);
            let (z, y) = (Bytes32::from_bytes(&v[32..64]).unwrap(), Bytes32::from_bytes(&v[64..96]).unwrap());
            let (c, proof) = (Bytes48::from_bytes(&v[96..144]).unwrap(), Bytes48::from_bytes(&v[144..]).unwrap());
            assert!(settings.verify_kzg_proof(&c, &z, &y, &proof).unwrap());
            let mut hash: [u8; 32] = sha2::Sha256::digest(&v[96..144]).into();
            hash[0] = 1;
            assert_eq!(&v[..32], &hash);
            let mut wrong_y = v[64..96].to_vec();
            wrong_y[31] ^= 1;
            let wrong_y = Bytes32::from_bytes(&wrong_y).unwrap();
            assert!(!settings.verify_kzg_proof(&c, &z, &wrong_y, &proof).unwrap());
        }
    }
}
