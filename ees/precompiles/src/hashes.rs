//! sha256 (0x02), ripemd160 (0x03) and identity (0x04).
use super::{charged, linear_cost, PrecompileResult};
use ee_api::CallInput;
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

/// sha256: 60 + 12 per word.
pub(super) fn sha256(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    charged(linear_cost(input.len(), 60, 12), gas_limit, || Sha256::digest(input.to_cow()).to_vec())
}

/// ripemd160: 600 + 120 per word; the 20-byte digest is left-padded to 32 bytes.
pub(super) fn ripemd160(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    charged(linear_cost(input.len(), 600, 120), gas_limit, || {
        let mut out = vec![0u8; 32];
        out[12..].copy_from_slice(&Ripemd160::digest(input.to_cow()));
        out
    })
}

/// identity: 15 + 3 per word.
pub(super) fn identity(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    charged(linear_cost(input.len(), 15, 3), gas_limit, || input.to_cow().into_owned())
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use crate::test_hex as hex;
    use ee_api::Fork;

    #[test]
    fn sha256_vectors() {
        let out = run(&addr(2), b"", 1000, Fork::Frontier).unwrap();
        assert_eq!(
            out,
            PrecompileOutput {
                gas_used: 60,
                output: hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            }
        );
        let out = run(&addr(2), b"abc", 1000, Fork::Frontier).unwrap();
        assert_eq!(out.gas_used, 72);
        assert_eq!(out.output, hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_eq!(run(&addr(2), &[0; 33], 83, Fork::Frontier), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(2), &[0; 33], 84, Fork::Frontier).unwrap().gas_used, 84);
    }

    #[test]
    fn ripemd_vectors() {
        let out = run(&addr(3), b"", 1000, Fork::Frontier).unwrap();
        assert_eq!(out.gas_used, 600);
        assert_eq!(out.output, hex("0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31"));
        let out = run(&addr(3), b"abc", 1000, Fork::Frontier).unwrap();
        assert_eq!(out.output, hex("0000000000000000000000008eb208f7e05d987a9b044a8e98c6b087f15a0bfc"));
        assert_eq!(run(&addr(3), b"", 599, Fork::Frontier), Err(PrecompileError::OutOfGas));
    }

    #[test]
    fn identity_vectors() {
        let out = run(&addr(4), b"hello", 1000, Fork::Frontier).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 18, output: b"hello".to_vec() });
        let out = run(&addr(4), b"", 15, Fork::Frontier).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 15, output: vec![] });
        assert_eq!(run(&addr(4), &[1; 64], 20, Fork::Frontier), Err(PrecompileError::OutOfGas));
        assert_eq!(run(&addr(4), &[1; 64], 21, Fork::Frontier).unwrap().gas_used, 21);
    }
}
