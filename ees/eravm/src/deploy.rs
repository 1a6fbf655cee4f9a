//! Deploying EraVM code: the init-code format the bootloader carries, Era's contract
//! addresses, and what a constructor leaves behind (immutables, the code hash entry).
//!
//! In Era, `new`/`create2` compile to a system far call to ContractDeployer (0x8006) with
//! `create`/`create2(salt, bytecodeHash, input)`: the code is named by its versioned hash and
//! must be among the transaction's factory deps. The EE intercepts that call as its
//! deployment request (`src/ee.rs`); the bootloader runs the constructor like any other EE's.

use ee_api::{Address, B256, U256};

use crate::program::MARKER;

/// ContractDeployer, whose `create*` calls the EE turns into deployments.
pub const CONTRACT_DEPLOYER: Address = crate::machine::kernel_address(0x8006);
/// ImmutableSimulator, whose storage holds the immutables a constructor returns.
pub const IMMUTABLE_SIMULATOR: Address = crate::machine::kernel_address(0x8005);
/// AccountCodeStorage: address → versioned hash of its code.
pub const ACCOUNT_CODE_STORAGE: Address = crate::machine::kernel_address(0x8002);

/// After [`MARKER`], the tag that makes bytes EraVM *init* code: `MARKER ‖ INIT_TAG ‖ u32 BE
/// bytecode length ‖ bytecode ‖ constructor input`. Stored code is `MARKER ‖ bytecode`; the
/// two are never confused because init code is only ever read as init code.
pub const INIT_TAG: [u8; 2] = [0xC0, 0xDE];

/// Init code for `bytecode` with constructor input `input`.
pub fn init_code(bytecode: &[u8], input: &[u8]) -> Vec<u8> {
    let mut out = MARKER.to_vec();
    out.extend_from_slice(&INIT_TAG);
    out.extend_from_slice(&(bytecode.len() as u32).to_be_bytes());
    out.extend_from_slice(bytecode);
    out.extend_from_slice(input);
    out
}

/// The bytecode and constructor input of EraVM init code, `None` when it is not that format.
pub fn split_init_code(init: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = init.strip_prefix(&MARKER[..])?.strip_prefix(&INIT_TAG[..])?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

fn pad(a: &Address) -> [u8; 32] {
    a.to_word().to_be_bytes::<32>()
}

fn address_of(hash: B256) -> Address {
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash.0[12..]);
    Address(a)
}

/// Era's CREATE2 address: `keccak256(keccak256("zksyncCreate2") ‖ pad32(sender) ‖ salt ‖
/// bytecodeHash ‖ keccak256(input))[12..]`.
pub fn create2_address(sender: Address, salt: B256, bytecode_hash: [u8; 32], input: &[u8]) -> Address {
    let mut pre = Vec::with_capacity(160);
    pre.extend_from_slice(&B256::keccak(b"zksyncCreate2").0);
    pre.extend_from_slice(&pad(&sender));
    pre.extend_from_slice(&salt.0);
    pre.extend_from_slice(&bytecode_hash);
    pre.extend_from_slice(&B256::keccak(input).0);
    address_of(B256::keccak(&pre))
}

/// Era's CREATE address: `keccak256(keccak256("zksyncCreate") ‖ pad32(sender) ‖
/// pad32(deployment nonce))[12..]`.
pub fn create_address(sender: Address, nonce: u64) -> Address {
    let mut pre = Vec::with_capacity(96);
    pre.extend_from_slice(&B256::keccak(b"zksyncCreate").0);
    pre.extend_from_slice(&pad(&sender));
    pre.extend_from_slice(&U256::from(nonce).to_be_bytes::<32>());
    address_of(B256::keccak(&pre))
}

/// A ContractDeployer call the EE serves itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployerCall {
    /// `Some(salt)` for `create2`/`create2Account`, `None` for `create`/`createAccount`
    /// (whose salt is ignored, as in Era).
    pub salt: Option<B256>,
    pub bytecode_hash: [u8; 32],
    pub input: Vec<u8>,
}

fn selector(signature: &str) -> [u8; 4] {
    let h = B256::keccak(signature.as_bytes());
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// Decodes ContractDeployer calldata: `create(bytes32,bytes32,bytes)`,
/// `create2(bytes32,bytes32,bytes)` and their `…Account(…,uint8)` forms. `None` for
/// anything else (such a call goes to whatever code is at 0x8006).
pub fn decode_deployer_call(calldata: &[u8]) -> Option<DeployerCall> {
    let (sel, args) = calldata.split_first_chunk::<4>()?;
    let is_create2 = if *sel == selector("create2(bytes32,bytes32,bytes)")
        || *sel == selector("create2Account(bytes32,bytes32,bytes,uint8)")
    {
        true
    } else if *sel == selector("create(bytes32,bytes32,bytes)")
        || *sel == selector("createAccount(bytes32,bytes32,bytes,uint8)")
    {
        false
    } else {
        return None;
    };
    let word = |i: usize| args.get(32 * i..32 * i + 32).map(U256::from_be_slice);
    let salt = B256::from_word(word(0)?);
    let bytecode_hash = word(1)?.to_be_bytes::<32>();
    let offset: usize = word(2)?.try_into().ok()?;
    let len: usize = args.get(offset..offset.checked_add(32)?).map(U256::from_be_slice)?.try_into().ok()?;
    let input = args.get(offset + 32..offset.checked_add(32)?.checked_add(len)?)?.to_vec();
    Some(DeployerCall { salt: is_create2.then_some(salt), bytecode_hash, input })
}

/// The ImmutableSimulator slot of `contract`'s immutable `index`: its
/// `mapping(uint256 => mapping(uint256 => bytes32))` at slot 0.
pub fn immutable_slot(contract: Address, index: U256) -> U256 {
    let mut inner = [0u8; 64];
    inner[..32].copy_from_slice(&pad(&contract));
    let mut outer = [0u8; 64];
    outer[..32].copy_from_slice(&index.to_be_bytes::<32>());
    outer[32..].copy_from_slice(&B256::keccak(&inner).0);
    B256::keccak(&outer).to_word()
}

/// The immutables a constructor returns: ABI `(uint256 index, bytes32 value)[]` (offset,
/// length, pairs). Anything else is no immutables.
pub fn decode_immutables(output: &[u8]) -> Vec<(U256, U256)> {
    let word = |i: usize| output.get(32 * i..32 * i + 32).map(U256::from_be_slice);
    let (Some(offset), Some(_)) = (word(0), word(1)) else { return Vec::new() };
    let Ok(offset) = usize::try_from(offset) else { return Vec::new() };
    if offset % 32 != 0 {
        return Vec::new();
    }
    let base = offset / 32;
    let Some(n) = word(base).and_then(|n| usize::try_from(n).ok()) else { return Vec::new() };
    (0..n.min(output.len() / 64)).map_while(|i| Some((word(base + 1 + 2 * i)?, word(base + 2 + 2 * i)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_code_round_trips() {
        let code = [7u8; 96];
        let init = init_code(&code, b"abc");
        assert_eq!(split_init_code(&init), Some((&code[..], &b"abc"[..])));
        assert_eq!(split_init_code(&init[..init.len() - 4]), None, "cut inside the bytecode");
        assert_eq!(split_init_code(&crate::stored_code(&code)), None, "stored code is not init code");
    }

    #[test]
    fn deployer_calldata_decodes() {
        let mut data = selector("create2(bytes32,bytes32,bytes)").to_vec();
        data.extend_from_slice(&[1u8; 32]);
        data.extend_from_slice(&[2u8; 32]);
        data.extend_from_slice(&U256::from(0x60).to_be_bytes::<32>());
        data.extend_from_slice(&U256::from(3).to_be_bytes::<32>());
        data.extend_from_slice(&[9, 9, 9]);
        let call = decode_deployer_call(&data).unwrap();
        assert_eq!(call, DeployerCall { salt: Some(B256([1; 32])), bytecode_hash: [2; 32], input: vec![9, 9, 9] });
        data[..4].copy_from_slice(&selector("create(bytes32,bytes32,bytes)"));
        assert_eq!(decode_deployer_call(&data).unwrap().salt, None);
        assert_eq!(decode_deployer_call(&data[..50]), None);
        assert_eq!(decode_deployer_call(&[0, 1, 2, 3]), None);
    }

    #[test]
    fn immutables_decode() {
        let mut out = Vec::new();
        for w in [0x20u64, 2, 0, 0xaa, 5, 0xbb] {
            out.extend_from_slice(&U256::from(w).to_be_bytes::<32>());
        }
        assert_eq!(decode_immutables(&out), vec![(U256::ZERO, U256::from(0xaa)), (U256::from(5), U256::from(0xbb))]);
        assert!(decode_immutables(&[]).is_empty());
    }
}
