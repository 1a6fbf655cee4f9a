//! The in-memory world the oracle runs in: bytecodes by versioned hash, and storage.
//!
//! Everything Era keeps about contracts lives in system-contract storage, and this world keeps
//! it the same way, so that the real system contracts read and write it unchanged:
//!
//! - **Deployed code**: AccountCodeStorage (0x8002), key = the address as a word, value = the
//!   versioned bytecode hash (byte 1 is 0 once constructed, 1 while constructing). vm2's far
//!   call reads this slot to find the code to decommit.
//! - **Known codes**: KnownCodesStorage (0x8004), key = the versioned hash itself, value = 1
//!   (its `getMarker(hash)` is a plain `sload(hash)`). ContractDeployer refuses to deploy a
//!   hash not marked here; the Era bootloader marks a transaction's factory deps.
//! - **Balances**: L2BaseToken (0x800a), `mapping(address => uint256) balance` at slot 0, so
//!   key = keccak256(pad32(address) ‖ pad32(0)) (checked in the tests through the contract's
//!   own `balanceOf`).
//!
//! The bytes behind a hash are kept apart from those marks: a bytecode that was only added
//! with [`World::add_code`] can be decommitted but not deployed by ContractDeployer.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use ee_api::{Address, B256, U256};
use sha2::{Digest, Sha256};

use ee_eravm::artifacts::Artifact;

/// Kernel addresses of the Era system contracts (v29 layout) and precompiles: the layout
/// lives in `ee_eravm::artifacts`, shared with the conformance suite.
pub use ee_eravm::artifacts::addresses;

/// Why a byte string is not EraVM bytecode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BytecodeError {
    /// Not a whole number of 32-byte words.
    NotWords(usize),
    /// An even number of words (EraVM requires an odd count).
    EvenWords(usize),
    /// More than 65,535 words.
    TooLong(usize),
}

impl fmt::Display for BytecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BytecodeError::NotWords(n) => write!(f, "bytecode of {n} bytes is not whole 32-byte words"),
            BytecodeError::EvenWords(n) => write!(f, "bytecode has an even number of words ({n})"),
            BytecodeError::TooLong(n) => write!(f, "bytecode has {n} words, more than 65535"),
        }
    }
}

impl std::error::Error for BytecodeError {}

/// The versioned bytecode hash Era uses everywhere: `[0x01, 0x00, words as u16 BE,
/// sha256(bytecode)[4..32]]`.
pub fn bytecode_hash(bytecode: &[u8]) -> Result<B256, BytecodeError> {
    if !bytecode.len().is_multiple_of(32) {
        return Err(BytecodeError::NotWords(bytecode.len()));
    }
    let words = bytecode.len() / 32;
    if words.is_multiple_of(2) {
        return Err(BytecodeError::EvenWords(words));
    }
    let words16 = u16::try_from(words).map_err(|_| BytecodeError::TooLong(words))?;
    let digest = Sha256::digest(bytecode);
    let mut h = [0u8; 32];
    h[0] = 1;
    h[2..4].copy_from_slice(&words16.to_be_bytes());
    h[4..].copy_from_slice(&digest[4..]);
    Ok(B256(h))
}

/// An in-memory EraVM world: bytecodes by versioned hash plus storage. Cheap to clone for
/// small worlds; clone it to branch a scenario.
#[derive(Clone, Default)]
pub struct World {
    pub(crate) codes: HashMap<B256, Arc<[u8]>>,
    pub(crate) storage: BTreeMap<(Address, U256), U256>,
    pub(crate) default_aa_hash: B256,
    pub(crate) evm_emulator_hash: B256,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("codes", &self.codes.len())
            .field("storage_slots", &self.storage.len())
            .field("default_aa_hash", &self.default_aa_hash)
            .finish()
    }
}

fn panic_bad_bytecode(e: BytecodeError) -> ! {
    panic!("not EraVM bytecode: {e}")
}

impl World {
    /// An empty world: no code anywhere, not even system contracts. Calls to addresses
    /// without code then fail (vm2 has no default account to run), so most callers want
    /// [`World::with_system_contracts`].
    pub fn new() -> World {
        World::default()
    }

    /// A world with the given system-contract artifacts (see
    /// [`crate::artifacts::load_system_contracts`]) installed as an Era genesis has them:
    /// each at its kernel address (see [`addresses::of_system_contract`]), `EmptyContract` at
    /// 0x0 and at the bootloader address 0x8001, `DefaultAccount` as the code of accounts
    /// without code, `EvmEmulator` as the EVM interpreter, every hash marked known in
    /// KnownCodesStorage. Artifacts with no Era address (the bootloaders, L1 contracts) are
    /// only added as decommittable code. No constructor runs, and SystemContext is left
    /// empty (chain id, block number, … all read 0).
    pub fn with_system_contracts(artifacts: &[Artifact]) -> World {
        let mut world = World::new();
        for a in artifacts {
            let hash = world.add_factory_dep(&a.bytecode);
            match a.name.as_str() {
                "DefaultAccount" => world.default_aa_hash = hash,
                "EvmEmulator" => world.evm_emulator_hash = hash,
                "EmptyContract" => {
                    world.install(Address::ZERO, &a.bytecode);
                    world.install(addresses::BOOTLOADER, &a.bytecode);
                }
                name => {
                    if let Some(at) = addresses::of_system_contract(name) {
                        world.install(at, &a.bytecode);
                    }
                }
            }
        }
        world
    }

    /// Makes `bytecode` decommittable by its versioned hash (which it returns), without
    /// marking it known. Panics if it is not EraVM bytecode.
    pub fn add_code(&mut self, bytecode: &[u8]) -> B256 {
        let hash = bytecode_hash(bytecode).unwrap_or_else(|e| panic_bad_bytecode(e));
        self.codes.insert(hash, Arc::from(bytecode));
        hash
    }

    /// Marks `hash` known in KnownCodesStorage, as the Era bootloader does for a
    /// transaction's factory deps.
    pub fn mark_known(&mut self, hash: B256) {
        self.set_storage(addresses::KNOWN_CODES_STORAGE, hash.to_word(), U256::from(1));
    }

    /// Whether KnownCodesStorage marks `hash` as known.
    pub fn is_known(&self, hash: B256) -> bool {
        !self.storage(addresses::KNOWN_CODES_STORAGE, hash.to_word()).is_zero()
    }

    /// A factory dependency: [`World::add_code`] plus [`World::mark_known`]. After this,
    /// ContractDeployer can deploy the bytecode by its hash.
    pub fn add_factory_dep(&mut self, bytecode: &[u8]) -> B256 {
        let hash = self.add_code(bytecode);
        self.mark_known(hash);
        hash
    }

    /// Puts `bytecode` at `address` as constructed code, without running a constructor: its
    /// hash goes into AccountCodeStorage and is marked known. Returns the hash. Panics if it
    /// is not EraVM bytecode.
    pub fn install(&mut self, address: Address, bytecode: &[u8]) -> B256 {
        let hash = self.add_factory_dep(bytecode);
        self.set_storage(addresses::ACCOUNT_CODE_STORAGE, address.to_word(), hash.to_word());
        hash
    }

    /// The versioned hash stored for `address` in AccountCodeStorage (byte 1 set while the
    /// contract is being constructed), or `None` for an account without code.
    pub fn code_hash_at(&self, address: Address) -> Option<B256> {
        let v = self.storage(addresses::ACCOUNT_CODE_STORAGE, address.to_word());
        (!v.is_zero()).then(|| B256::from_word(v))
    }

    /// The bytecode registered under `hash` (byte 1, the construction marker, is ignored).
    pub fn code(&self, hash: B256) -> Option<&[u8]> {
        let mut h = hash;
        h.0[1] = 0;
        self.codes.get(&h).map(|c| &c[..])
    }

    /// The hash of the code that runs for accounts without code (`DefaultAccount`); zero
    /// when no system contracts were installed.
    pub fn default_account_hash(&self) -> B256 {
        self.default_aa_hash
    }

    /// Makes `bytecode` the code of accounts without code (what `DefaultAccount` is in an Era
    /// world), for worlds without system contracts; returns its hash.
    pub fn set_default_account(&mut self, bytecode: &[u8]) -> B256 {
        let hash = self.add_factory_dep(bytecode);
        self.default_aa_hash = hash;
        hash
    }

    /// A storage slot (zero when never written).
    pub fn storage(&self, address: Address, key: U256) -> U256 {
        self.storage.get(&(address, key)).copied().unwrap_or(U256::ZERO)
    }

    /// Writes a storage slot directly (no execution). Writing zero keeps the slot as "once
    /// written", which matters for vm2's initial-write flag.
    pub fn set_storage(&mut self, address: Address, key: U256, value: U256) {
        self.storage.insert((address, key), value);
    }

    /// Every slot this world holds, in order.
    pub fn storage_slots(&self) -> impl Iterator<Item = (Address, U256, U256)> + '_ {
        self.storage.iter().map(|(&(a, k), &v)| (a, k, v))
    }

    /// The L2BaseToken storage key holding `owner`'s balance.
    pub fn balance_key(owner: Address) -> U256 {
        let mut pre = [0u8; 64];
        pre[12..32].copy_from_slice(&owner.0);
        B256::keccak(&pre).to_word()
    }

    /// `owner`'s base-token balance, read from L2BaseToken storage.
    pub fn balance(&self, owner: Address) -> U256 {
        self.storage(addresses::L2_BASE_TOKEN, World::balance_key(owner))
    }

    /// Sets `owner`'s base-token balance in L2BaseToken storage (total supply untouched).
    pub fn set_balance(&mut self, owner: Address, amount: U256) {
        self.set_storage(addresses::L2_BASE_TOKEN, World::balance_key(owner), amount);
    }

    /// Commits a run's storage changes (a reverted or panicked run reports none).
    pub fn apply(&mut self, outcome: &crate::Outcome) {
        for w in &outcome.storage_changes {
            self.set_storage(w.address, w.key, w.after);
        }
    }

    /// Runs `tx` and commits its storage changes: [`crate::run`] then [`World::apply`].
    pub fn execute(&mut self, tx: &crate::Tx) -> crate::Outcome {
        let outcome = crate::run(self, tx);
        self.apply(&outcome);
        outcome
    }
}

/// The address ContractDeployer gives `create` from `sender` at deployment nonce `nonce`:
/// `keccak256(keccak256("zksyncCreate") ‖ pad32(sender) ‖ pad32(nonce))[12..]`.
pub fn create_address(sender: Address, nonce: U256) -> Address {
    let mut pre = Vec::with_capacity(96);
    pre.extend_from_slice(&B256::keccak(b"zksyncCreate").0);
    pre.extend_from_slice(&sender.to_word().to_be_bytes::<32>());
    pre.extend_from_slice(&nonce.to_be_bytes::<32>());
    Address::from_word(B256::keccak(&pre).to_word())
}

/// The address ContractDeployer gives `create2`: `keccak256(keccak256("zksyncCreate2") ‖
/// pad32(sender) ‖ salt ‖ bytecode_hash ‖ keccak256(input))[12..]`.
pub fn create2_address(sender: Address, salt: B256, bytecode_hash: B256, input: &[u8]) -> Address {
    let mut pre = Vec::with_capacity(160);
    pre.extend_from_slice(&B256::keccak(b"zksyncCreate2").0);
    pre.extend_from_slice(&sender.to_word().to_be_bytes::<32>());
    pre.extend_from_slice(&salt.0);
    pre.extend_from_slice(&bytecode_hash.0);
    pre.extend_from_slice(&B256::keccak(input).0);
    Address::from_word(B256::keccak(&pre).to_word())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytecode_hash_format() {
        let code = vec![0u8; 32 * 3];
        let h = bytecode_hash(&code).unwrap();
        assert_eq!(&h.0[..4], &[1, 0, 0, 3]);
        assert_eq!(&h.0[4..], &Sha256::digest(&code)[4..]);
        assert_eq!(bytecode_hash(&[0u8; 64]), Err(BytecodeError::EvenWords(2)));
        assert_eq!(bytecode_hash(&[0u8; 33]), Err(BytecodeError::NotWords(33)));
    }

    #[test]
    fn create_prefixes_match_era_constants() {
        // CREATE_PREFIX and CREATE2_PREFIX as Era's Constants.sol spells them.
        assert_eq!(
            hex::encode(B256::keccak(b"zksyncCreate").0),
            "63bae3a9951d38e8a3fbb7b70909afc1200610fc5bc55ade242f815974674f23"
        );
        assert_eq!(
            hex::encode(B256::keccak(b"zksyncCreate2").0),
            "2020dba91b30cc0006188af794c2fb30dd8520db7e2c088b7fc7c103c00ca494"
        );
    }

    #[test]
    fn install_writes_account_code_storage_and_known_codes() {
        let mut w = World::new();
        let code = vec![0u8; 32];
        let at = Address([9; 20]);
        let h = w.install(at, &code);
        assert_eq!(w.code_hash_at(at), Some(h));
        assert!(w.is_known(h));
        assert_eq!(w.code(h), Some(&code[..]));
        assert_eq!(w.code_hash_at(Address([8; 20])), None);
    }
}
