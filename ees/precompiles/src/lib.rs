//! The precompiled contracts, reached by every EE's calls through the bootloader.
//!
//! Kept apart from the bootloader (state, transactions, frames) because the
//! cryptography behind them is a library of its own size.
//!
//! | address | contract            | since     | file                  |
//! |---------|---------------------|-----------|-----------------------|
//! | 0x01    | ecrecover           | Frontier  | `ecrecover.rs`        |
//! | 0x02    | sha256              | Frontier  | `hashes.rs`           |
//! | 0x03    | ripemd160           | Frontier  | `hashes.rs`           |
//! | 0x04    | identity            | Frontier  | `hashes.rs`           |
//! | 0x05    | modexp              | Byzantium | `modexp.rs`           |
//! | 0x06–08 | bn254 add/mul/pair  | Byzantium | `bn254.rs`            |
//! | 0x09    | blake2f             | Istanbul  | `blake2f.rs`          |
//! | 0x0a    | KZG point evaluation| Cancun    | `point_evaluation.rs` |
//! | 0x0b–11 | BLS12-381 (EIP-2537)| Prague    | `bls12_381.rs`        |
//! | 0x100   | P256VERIFY          | Osaka     | `p256verify.rs`       |
//!
//! In Osaka modexp also changes: EIP-7823 bounds its lengths and EIP-7883
//! reprices it (`modexp.rs`).
//!
//! No input makes a precompile panic: malformed input is
//! [`PrecompileError::Failure`] (or, for ecrecover and P256VERIFY, an empty
//! success).
use ee_api::{Address, CallInput, Fork};

mod blake2f;
mod bls12_381;
mod bn254;
mod ecrecover;
mod hashes;
mod kzg;
mod modexp;
mod p256verify;
mod point_evaluation;

pub use ecrecover::recover_address;
pub use point_evaluation::kzg_to_versioned_hash;

/// A precompile's successful result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecompileOutput {
    pub gas_used: u64,
    pub output: Vec<u8>,
}

/// A precompile failure: either way the call consumes all the gas given to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecompileError {
    OutOfGas,
    /// Malformed input (bad point, wrong length, ...).
    Failure,
    /// The caller's time bound ran out.
    Interrupted,
}

/// A precompile's result.
pub type PrecompileResult = Result<PrecompileOutput, PrecompileError>;

/// How many precompiles of the contiguous range 0x01..=n `fork` has.
fn count(fork: Fork) -> u8 {
    if fork >= Fork::Prague {
        0x11
    } else if fork >= Fork::Cancun {
        10
    } else if fork >= Fork::Istanbul {
        9
    } else if fork >= Fork::Byzantium {
        8
    } else {
        4
    }
}

/// P256VERIFY's address, 0x100 (EIP-7951): the first precompile whose address
/// does not fit in one byte, so it is kept out of the 0x01..=n range.
const P256VERIFY: u16 = 0x100;

/// The address as a number when it is below 2^16 (every precompile address is).
fn small_address(address: &Address) -> Option<u16> {
    if address.0[..18].iter().all(|b| *b == 0) {
        Some(u16::from_be_bytes([address.0[18], address.0[19]]))
    } else {
        None
    }
}

/// The precompile number of `address` when it is a precompile active in `fork`.
fn active(address: &Address, fork: Fork) -> Option<u16> {
    let n = small_address(address)?;
    let in_range = n >= 1 && n <= u16::from(count(fork));
    (in_range || (n == P256VERIFY && fork >= Fork::Osaka)).then_some(n)
}

/// True when `address` is a precompile active in `fork`.
pub fn is_precompile(address: &Address, fork: Fork) -> bool {
    active(address, fork).is_some()
}

/// The addresses of the precompiles active in `fork` (warm from the start of every tx since Berlin).
pub fn addresses(fork: Fork) -> Vec<Address> {
    let extra = (fork >= Fork::Osaka).then_some(P256VERIFY);
    (1..=u16::from(count(fork)))
        .chain(extra)
        .map(|n| {
            let mut a = [0u8; 20];
            a[18..].copy_from_slice(&n.to_be_bytes());
            Address(a)
        })
        .collect()
}

/// Runs the precompile at `address` with `gas_limit`.
pub fn run(address: &Address, input: &[u8], gas_limit: u64, fork: Fork) -> Result<PrecompileOutput, PrecompileError> {
    run_interruptible(address, &CallInput::from(input), gas_limit, fork, &|| false)
}

/// [`run`] for long-running inputs: `interrupted` is polled while a
/// precompile works (blake2f with 2^32 rounds takes a minute), and a true
/// answer ends it with [`PrecompileError::Interrupted`].
pub fn run_interruptible(
    address: &Address,
    input: &CallInput,
    gas_limit: u64,
    fork: Fork,
    interrupted: &dyn Fn() -> bool,
) -> Result<PrecompileOutput, PrecompileError> {
    let Some(n) = active(address, fork) else {
        // Not a precompile in this fork: behaves like an account without code.
        return Ok(PrecompileOutput { gas_used: 0, output: Vec::new() });
    };
    // An input may carry a long implicit zero tail (a caller's untouched memory): it is only
    // materialized where a precompile needs every byte, and after the gas for it is known.
    match n {
        // Zero-padded reads only, so the stored prefix reads the same as the whole input.
        1 => ecrecover::run(input.stored(), gas_limit),
        5 => modexp::run(input.stored(), gas_limit, fork),
        6 => bn254::add(input.stored(), gas_limit, fork),
        7 => bn254::mul(input.stored(), gas_limit, fork),
        // Priced by length, then materialized.
        2 => hashes::sha256(input, gas_limit),
        3 => hashes::ripemd160(input, gas_limit),
        4 => hashes::identity(input, gas_limit),
        8 => bn254::pairing(input, gas_limit, fork),
        0x0c => bls12_381::g1_msm(input, gas_limit),
        0x0e => bls12_381::g2_msm(input, gas_limit),
        0x0f => bls12_381::pairing(input, gas_limit),
        // Fixed-length inputs: any other length fails the same way, so an empty slice stands for it.
        9 => blake2f::run(&of_length(input, blake2f::INPUT_LEN), gas_limit, interrupted),
        10 => point_evaluation::run(&of_length(input, point_evaluation::INPUT_LEN), gas_limit),
        0x0b => bls12_381::g1_add(&of_length(input, bls12_381::G1_ADD_INPUT_LEN), gas_limit),
        0x0d => bls12_381::g2_add(&of_length(input, bls12_381::G2_ADD_INPUT_LEN), gas_limit),
        0x10 => bls12_381::map_fp_to_g1(&of_length(input, bls12_381::MAP_FP_INPUT_LEN), gas_limit),
        0x11 => bls12_381::map_fp2_to_g2(&of_length(input, bls12_381::MAP_FP2_INPUT_LEN), gas_limit),
        P256VERIFY => p256verify::run(&of_length(input, p256verify::INPUT_LEN), gas_limit),
        _ => Ok(PrecompileOutput { gas_used: 0, output: Vec::new() }),
    }
}

/// The whole input when it is `len` bytes long, else no bytes (for precompiles that reject
/// every other length alike).
fn of_length(input: &CallInput, len: usize) -> std::borrow::Cow<'_, [u8]> {
    if input.len() == len {
        input.to_cow()
    } else {
        std::borrow::Cow::Borrowed(&[])
    }
}

/// Succeeds with `output` after charging `cost`, or fails with `OutOfGas`.
#[inline]
fn charged(cost: u64, gas_limit: u64, output: impl FnOnce() -> Vec<u8>) -> PrecompileResult {
    if cost > gas_limit {
        return Err(PrecompileError::OutOfGas);
    }
    Ok(PrecompileOutput { gas_used: cost, output: output() })
}

/// `base + per_word * ceil(len / 32)`, saturating.
#[inline]
fn linear_cost(len: usize, base: u64, per_word: u64) -> u64 {
    let words = (len as u64).div_ceil(32);
    base.saturating_add(per_word.saturating_mul(words))
}

/// `input[offset..offset + len]`, zero-padded on the right past the end of `input`.
fn padded<const N: usize>(input: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if offset < input.len() {
        let avail = &input[offset..];
        let n = avail.len().min(N);
        out[..n].copy_from_slice(&avail[..n]);
    }
    out
}

/// Test helper: decodes a hex string (optional `0x`), panicking on bad input.
#[cfg(test)]
pub(crate) fn test_hex(s: &str) -> Vec<u8> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).expect("test hex")
}

#[cfg(test)]
fn addr(n: u8) -> Address {
    let mut a = [0u8; 20];
    a[19] = n;
    Address(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn addr16(n: u16) -> Address {
        let mut a = [0u8; 20];
        a[18..].copy_from_slice(&n.to_be_bytes());
        Address(a)
    }

    #[test]
    fn activation() {
        assert_eq!(addresses(Fork::Frontier).len(), 4);
        assert_eq!(addresses(Fork::Homestead).len(), 4);
        assert_eq!(addresses(Fork::SpuriousDragon).len(), 4);
        assert_eq!(addresses(Fork::Byzantium).len(), 8);
        assert_eq!(addresses(Fork::Petersburg).len(), 8);
        assert_eq!(addresses(Fork::Istanbul).len(), 9);
        assert_eq!(addresses(Fork::Shanghai).len(), 9);
        assert_eq!(addresses(Fork::Cancun).len(), 10);
        assert_eq!(addresses(Fork::Cancun)[9], addr(10));
        // Prague: EIP-2537's 0x0b..=0x11; Osaka: EIP-7951's 0x100 on top.
        let prague: Vec<Address> = (1..=0x11).map(addr).collect();
        assert_eq!(addresses(Fork::Prague), prague);
        let mut osaka = prague.clone();
        osaka.push(addr16(0x100));
        assert_eq!(addresses(Fork::Osaka), osaka);
        for fork in Fork::ALL {
            for a in addresses(fork) {
                assert!(is_precompile(&a, fork), "{a} in {fork}");
            }
        }
        assert!(!is_precompile(&Address::ZERO, Fork::Cancun));
        assert!(is_precompile(&addr(1), Fork::Frontier));
        assert!(!is_precompile(&addr(5), Fork::Homestead));
        assert!(is_precompile(&addr(8), Fork::Byzantium));
        assert!(!is_precompile(&addr(9), Fork::Petersburg));
        assert!(!is_precompile(&addr(10), Fork::Shanghai));
        assert!(is_precompile(&addr(10), Fork::Cancun));
        assert!(!is_precompile(&addr(11), Fork::Cancun));
        assert!(is_precompile(&addr(0x0b), Fork::Prague));
        assert!(is_precompile(&addr(0x11), Fork::Prague));
        assert!(!is_precompile(&addr(0x12), Fork::Osaka));
        assert!(!is_precompile(&addr16(0x100), Fork::Prague));
        assert!(is_precompile(&addr16(0x100), Fork::Osaka));
        for n in [0x0ff, 0x101, 0x200, 0x1100] {
            assert!(!is_precompile(&addr16(n), Fork::Osaka), "{n:#x}");
        }
        let mut big = addr(1);
        big.0[0] = 1;
        assert!(!is_precompile(&big, Fork::Cancun));
        let mut big = addr16(0x100);
        big.0[17] = 1;
        assert!(!is_precompile(&big, Fork::Osaka));
    }

    /// An input whose tail is implicit zeros gives every precompile the same
    /// result as the same bytes stored in full.
    #[test]
    fn zero_tail_inputs_equal_stored_ones() {
        let mut prefix = vec![0u8; 100];
        prefix[0] = 0xc0;
        prefix[31] = 0x20;
        prefix[63] = 1;
        prefix[95] = 1;
        prefix[99] = 7;
        // An all-zero prefix too: all-zero BLS12-381 inputs are valid (points at infinity),
        // so the success paths of 0x0b..=0x11 are compared as well as the failures.
        let prefixes = [prefix, vec![0u8; 10]];
        let lens = [64, 100, 128, 160, 192, 213, 256, 288, 384, 512, 960, 5000];
        for prefix in &prefixes {
            for len in lens {
                let window = CallInput::window(Arc::new(prefix.clone()), 0, len);
                let mut full = prefix.clone();
                full.resize(len, 0);
                for fork in [Fork::Cancun, Fork::Osaka] {
                    for a in addresses(fork) {
                        for gas in [0, 3000, 200_000, 10_000_000] {
                            let lazy = run_interruptible(&a, &window, gas, fork, &|| false);
                            assert_eq!(lazy, run(&a, &full, gas, fork), "{a} in {fork}, {len} bytes, gas {gas}");
                        }
                    }
                }
            }
        }
        // The zero prefix did reach BLS success paths: a zero-tailed G1MSM of 6 infinity pairs.
        let window = CallInput::window(Arc::new(vec![0u8; 10]), 0, 960);
        let out = run_interruptible(&addr(0x0c), &window, 10_000_000, Fork::Prague, &|| false).unwrap();
        assert_eq!(out, PrecompileOutput { gas_used: 6 * 12_000 * 750 / 1000, output: vec![0u8; 128] });
    }

    #[test]
    fn no_panics_on_odd_inputs() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff; 1],
            vec![0xff; 31],
            vec![0xff; 64],
            vec![0xff; 96],
            vec![0xff; 128],
            vec![0xff; 160],
            vec![0xff; 192],
            vec![0xff; 213],
            vec![0xff; 256],
            vec![0xff; 288],
            vec![0xff; 300],
            vec![0xff; 384],
            vec![0xff; 512],
            vec![0x00; 213],
            vec![0x00; 384],
        ];
        for a in addresses(Fork::Osaka) {
            for input in &inputs {
                for gas in [0, 100, 3000, 100_000, 10_000_000] {
                    for fork in [Fork::Byzantium, Fork::Cancun, Fork::Prague, Fork::Osaka] {
                        let result = run(&a, input, gas, fork);
                        let n = a.0[19];
                        if fork >= Fork::Prague
                            && a.0[18] == 0
                            && (0x0b..=0x11).contains(&n)
                            && input.first() == Some(&0xff)
                        {
                            // 0xff bytes are never valid BLS12-381 padding.
                            assert!(result.is_err(), "{a} {} bytes", input.len());
                        }
                        if fork == Fork::Osaka && a == addr16(0x100) {
                            let expected = if gas >= 6900 {
                                Ok(PrecompileOutput { gas_used: 6900, output: vec![] })
                            } else {
                                Err(PrecompileError::OutOfGas)
                            };
                            assert_eq!(result, expected);
                        }
                    }
                }
            }
        }
    }
}
