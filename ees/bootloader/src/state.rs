//! World state with a journal.
//!
//! Every write during a transaction pushes the value it overwrote onto the
//! journal. A frame checkpoint is the journal's length when the frame began;
//! reverting the frame pops and undoes entries down to it, so a reverted
//! frame rolls back exactly its own writes and nothing of its parent's.
//! Transient storage keeps its own undo record (`transient.rs`), and a checkpoint
//! holds its position too.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use ee_api::{Address, Bytecode, Log, B256, U256};

use crate::transient::{TransientCheckpoint, TransientStore};

/// The state's hash map: foldhash, because addresses and words are hashed on
/// every account access, SLOAD, SSTORE and warm check, where SipHash cost
/// about a tenth of the run; its per-process random seed still spreads
/// chosen keys. [`StateHasher`] feeds it the keys as 64-bit lanes.
pub type Map<K, V> = HashMap<K, V, StateHash>;
/// The state's hash set (see [`Map`]).
pub type Set<K> = HashSet<K, StateHash>;

/// Builds [`StateHasher`]s (foldhash's, randomly seeded per process).
#[derive(Clone, Debug, Default)]
pub struct StateHash(foldhash::fast::RandomState);

impl BuildHasher for StateHash {
    type Hasher = StateHasher;

    #[inline(always)]
    fn build_hasher(&self) -> StateHasher {
        StateHasher(self.0.build_hasher())
    }
}

/// foldhash with the state's keys taken as integers: a word (32 bytes) or an address (20)
/// arrives as a byte slice, which foldhash's byte path hashes with its long-input loop
/// (a tenth of an SLOAD-heavy run); as 64-bit lanes its integer path folds two per multiply.
pub struct StateHasher(foldhash::fast::FoldHasher<'static>);

impl Hasher for StateHasher {
    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        if bytes.len() != 32 && bytes.len() != 20 {
            return self.0.write(bytes);
        }
        let mut lanes = bytes.chunks_exact(8);
        for lane in &mut lanes {
            self.0.write_u64(u64::from_le_bytes(lane.try_into().expect("8 bytes")));
        }
        if let Ok(tail) = <[u8; 4]>::try_from(lanes.remainder()) {
            self.0.write_u32(u32::from_le_bytes(tail));
        }
    }

    #[inline(always)]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i)
    }

    #[inline(always)]
    fn write_u16(&mut self, i: u16) {
        self.0.write_u16(i)
    }

    #[inline(always)]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i)
    }

    #[inline(always)]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i)
    }

    #[inline(always)]
    fn write_u128(&mut self, i: u128) {
        self.0.write_u128(i)
    }

    #[inline(always)]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i)
    }
}

/// An account as stored in the world state.
#[derive(Clone, Debug)]
pub struct Account {
    pub balance: U256,
    pub nonce: u64,
    pub code: Arc<Bytecode>,
    /// Current storage values; a zero value means the slot is empty.
    pub storage: Map<U256, U256>,
}

impl Default for Account {
    fn default() -> Self {
        Account { balance: U256::ZERO, nonce: 0, code: Arc::new(Bytecode::empty()), storage: Map::default() }
    }
}

impl Account {
    /// EIP-161 emptiness: no code, zero nonce, zero balance.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code.is_empty()
    }

    /// Any non-zero storage slot.
    pub fn has_storage(&self) -> bool {
        self.storage.values().any(|v| !v.is_zero())
    }
}

/// The accounts of a chain at one point in time.
#[derive(Clone, Debug, Default)]
pub struct WorldState {
    pub accounts: Map<Address, Account>,
}

impl WorldState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert_account(&mut self, address: Address, account: Account) {
        self.accounts.insert(address, account);
    }

    pub fn get(&self, address: &Address) -> Option<&Account> {
        self.accounts.get(address)
    }
}

/// One undoable change.
#[derive(Debug)]
enum Entry {
    /// The last log was removed (an EE undoing its own inner frame); holds it.
    LogRemoved(Box<Log>),
    AccountCreated(Address),
    /// An account was replaced wholesale (destroyed-and-recreated); holds the old one.
    AccountReplaced(Address, Box<Account>),
    Balance(Address, U256),
    Nonce(Address, u64),
    Code(Address, Arc<Bytecode>),
    Storage(Address, U256, U256),
    WarmAccount(Address),
    WarmSlot(Address, U256),
    Log,
    Refund(i64),
    Destructed,
    CreatedInTx(Address),
    Touched(Address),
}

/// A frame checkpoint: where the journal stood when the frame began.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    journal_len: usize,
    transient: TransientCheckpoint,
}

/// The world state during one transaction: state plus journal plus the
/// transaction-scoped sets (warm addresses and slots, transient storage,
/// logs, refund counter, destructed and created accounts, touched accounts).
pub struct JournaledState<'s> {
    pub state: &'s mut WorldState,
    journal: Vec<Entry>,
    warm_accounts: Set<Address>,
    warm_slots: Set<(Address, U256)>,
    transient: TransientStore,
    /// Storage values at the start of the transaction, for slots written since.
    original: Map<(Address, U256), U256>,
    pub logs: Vec<Log>,
    pub refund: i64,
    destructed: Vec<Address>,
    created: Set<Address>,
    touched: Set<Address>,
    /// Code deployed in this transaction, by hash: a deployment of code already deployed
    /// shares its `Bytecode`, and with it the EE's analysis (a test that deploys 500 copies
    /// of one 24 KiB contract and calls them all analysed it 500 times, ~100 MB). Not
    /// journaled: a shared object changes no outcome.
    deployed_code: Map<B256, Arc<Bytecode>>,
}

/// RIPEMD-160's precompile stays touched even when the touching frame reverts
/// (a consensus quirk from the 2016 Shanghai DoS clean-up; see geth's journal).
const RIPEMD: Address = Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);

impl<'s> JournaledState<'s> {
    pub fn new(state: &'s mut WorldState) -> Self {
        JournaledState {
            state,
            journal: Vec::new(),
            warm_accounts: Set::default(),
            warm_slots: Set::default(),
            transient: TransientStore::default(),
            original: Map::default(),
            logs: Vec::new(),
            refund: 0,
            destructed: Vec::new(),
            created: Set::default(),
            touched: Set::default(),
            deployed_code: Map::default(),
        }
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { journal_len: self.journal.len(), transient: self.transient.checkpoint() }
    }

    /// Commits nothing explicitly: entries stay so that an outer revert can undo them.
    pub fn revert_to(&mut self, cp: Checkpoint) {
        self.transient.revert_to(cp.transient);
        while self.journal.len() > cp.journal_len {
            let entry = self.journal.pop().expect("journal longer than checkpoint");
            match entry {
                Entry::AccountCreated(a) => {
                    self.state.accounts.remove(&a);
                }
                Entry::AccountReplaced(a, old) => {
                    self.state.accounts.insert(a, *old);
                }
                Entry::Balance(a, v) => self.account_mut(a).balance = v,
                Entry::Nonce(a, v) => self.account_mut(a).nonce = v,
                Entry::Code(a, c) => self.account_mut(a).code = c,
                Entry::Storage(a, k, v) => {
                    self.account_mut(a).storage.insert(k, v);
                }
                Entry::WarmAccount(a) => {
                    self.warm_accounts.remove(&a);
                }
                Entry::WarmSlot(a, k) => {
                    self.warm_slots.remove(&(a, k));
                }
                Entry::Log => {
                    self.logs.pop();
                }
                Entry::LogRemoved(log) => self.logs.push(*log),
                Entry::Refund(r) => self.refund = r,
                Entry::Destructed => {
                    self.destructed.pop();
                }
                Entry::CreatedInTx(a) => {
                    self.created.remove(&a);
                }
                Entry::Touched(a) => {
                    if a != RIPEMD {
                        self.touched.remove(&a);
                    }
                }
            }
        }
    }

    fn account_mut(&mut self, a: Address) -> &mut Account {
        self.state.accounts.get_mut(&a).expect("journal entry for a missing account")
    }

    pub fn account(&self, a: &Address) -> Option<&Account> {
        self.state.accounts.get(a)
    }

    pub fn exists(&self, a: &Address) -> bool {
        self.state.accounts.contains_key(a)
    }

    pub fn is_empty(&self, a: &Address) -> bool {
        self.state.accounts.get(a).is_none_or(Account::is_empty)
    }

    pub fn balance(&self, a: &Address) -> U256 {
        self.state.accounts.get(a).map_or(U256::ZERO, |acc| acc.balance)
    }

    pub fn nonce(&self, a: &Address) -> u64 {
        self.state.accounts.get(a).map_or(0, |acc| acc.nonce)
    }

    pub fn code(&self, a: &Address) -> Arc<Bytecode> {
        match self.state.accounts.get(a) {
            Some(acc) => acc.code.clone(),
            None => Arc::new(Bytecode::empty()),
        }
    }

    /// Creates an empty account if none exists (journaled).
    pub fn ensure_account(&mut self, a: Address) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.state.accounts.entry(a) {
            slot.insert(Account::default());
            self.journal.push(Entry::AccountCreated(a));
        }
        self.touch(a);
    }

    /// Marks an account touched for EIP-161 clean-up at the end of the transaction.
    pub fn touch(&mut self, a: Address) {
        if self.touched.insert(a) {
            self.journal.push(Entry::Touched(a));
        }
    }

    pub fn set_balance(&mut self, a: Address, value: U256) {
        self.ensure_account(a);
        let acc = self.account_mut(a);
        let old = std::mem::replace(&mut acc.balance, value);
        self.journal.push(Entry::Balance(a, old));
    }

    pub fn add_balance(&mut self, a: Address, value: U256) {
        let new = self.balance(&a).saturating_add(value);
        self.set_balance(a, new);
    }

    /// Moves value between accounts; false (and nothing changed) when `from` has too little.
    pub fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool {
        let from_balance = self.balance(&from);
        if from_balance < value {
            return false;
        }
        self.set_balance(from, from_balance - value);
        self.add_balance(to, value);
        true
    }

    pub fn set_nonce(&mut self, a: Address, nonce: u64) {
        self.ensure_account(a);
        let acc = self.account_mut(a);
        let old = std::mem::replace(&mut acc.nonce, nonce);
        self.journal.push(Entry::Nonce(a, old));
    }

    pub fn set_code(&mut self, a: Address, code: Arc<Bytecode>) {
        self.ensure_account(a);
        let acc = self.account_mut(a);
        let old = std::mem::replace(&mut acc.code, code);
        self.journal.push(Entry::Code(a, old));
    }

    /// Sets a deployment's code, sharing the object of identical code deployed before in
    /// this transaction (see `deployed_code`).
    pub fn set_deployed_code(&mut self, a: Address, code: Bytecode) {
        let code = self.deployed_code.entry(code.hash()).or_insert_with(|| Arc::new(code)).clone();
        self.set_code(a, code);
    }

    pub fn sload(&self, a: &Address, key: &U256) -> U256 {
        self.state.accounts.get(a).and_then(|acc| acc.storage.get(key)).copied().unwrap_or(U256::ZERO)
    }

    /// Storage value at the start of the transaction.
    pub fn original_storage(&self, a: &Address, key: &U256) -> U256 {
        match self.original.get(&(*a, *key)) {
            Some(v) => *v,
            None => self.sload(a, key),
        }
    }

    /// Writes a slot; returns the value it held.
    pub fn sstore(&mut self, a: Address, key: U256, value: U256) -> U256 {
        self.ensure_account(a);
        let acc = self.account_mut(a);
        let old = acc.storage.insert(key, value).unwrap_or(U256::ZERO);
        self.original.entry((a, key)).or_insert(old);
        self.journal.push(Entry::Storage(a, key, old));
        old
    }

    pub fn tload(&self, a: &Address, key: &U256) -> U256 {
        self.transient.get(a, key)
    }

    pub fn tstore(&mut self, a: Address, key: U256, value: U256) {
        self.transient.set(a, key, value);
    }

    /// Returns true when the account was cold.
    pub fn warm_account(&mut self, a: Address) -> bool {
        let cold = self.warm_accounts.insert(a);
        if cold {
            self.journal.push(Entry::WarmAccount(a));
        }
        cold
    }

    /// Warms without journaling: for the transaction's pre-warmed set, which no revert undoes.
    pub fn prewarm_account(&mut self, a: Address) {
        self.warm_accounts.insert(a);
    }

    pub fn prewarm_slot(&mut self, a: Address, key: U256) {
        self.warm_slots.insert((a, key));
    }

    /// Returns true when the slot was cold.
    pub fn warm_slot(&mut self, a: Address, key: U256) -> bool {
        let cold = self.warm_slots.insert((a, key));
        if cold {
            self.journal.push(Entry::WarmSlot(a, key));
        }
        cold
    }

    pub fn push_log(&mut self, log: Log) {
        self.logs.push(log);
        self.journal.push(Entry::Log);
    }

    /// Removes the most recent log, journaled so a revert puts it back.
    pub fn remove_last_log(&mut self) {
        if let Some(log) = self.logs.pop() {
            self.journal.push(Entry::LogRemoved(Box::new(log)));
        }
    }

    pub fn add_refund(&mut self, delta: i64) {
        self.journal.push(Entry::Refund(self.refund));
        self.refund += delta;
    }

    pub fn mark_created(&mut self, a: Address) {
        if self.created.insert(a) {
            self.journal.push(Entry::CreatedInTx(a));
        }
    }

    pub fn created_in_tx(&self, a: &Address) -> bool {
        self.created.contains(a)
    }

    /// Records a destruction to apply at the end of the transaction; true when it was already recorded.
    pub fn mark_destructed(&mut self, a: Address) -> bool {
        if self.destructed.contains(&a) {
            return true;
        }
        self.destructed.push(a);
        self.journal.push(Entry::Destructed);
        false
    }

    pub fn is_destructed(&self, a: &Address) -> bool {
        self.destructed.contains(a)
    }

    /// Prepares an address for a new contract: an account that exists only as
    /// a balance keeps it; anything else about it starts afresh (journaled).
    pub fn reset_for_creation(&mut self, a: Address) {
        match self.state.accounts.get(&a) {
            None => self.ensure_account(a),
            Some(old) => {
                let fresh = Account { balance: old.balance, ..Account::default() };
                let old = self.state.accounts.insert(a, fresh).expect("checked above");
                self.journal.push(Entry::AccountReplaced(a, Box::new(old)));
            }
        }
    }

    /// End of transaction: removes destructed accounts and (EIP-161) touched empty ones.
    pub fn finalize(mut self, clear_empty: bool) -> (Vec<Log>, i64) {
        for a in std::mem::take(&mut self.destructed) {
            self.state.accounts.remove(&a);
        }
        if clear_empty {
            for a in std::mem::take(&mut self.touched) {
                if self.state.accounts.get(&a).is_some_and(Account::is_empty) {
                    self.state.accounts.remove(&a);
                }
            }
        }
        (self.logs, self.refund)
    }

    /// The hash of an account's code, or zero when the account is absent.
    pub fn code_hash(&self, a: &Address) -> B256 {
        self.state.accounts.get(a).map_or(B256::ZERO, |acc| acc.code.hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        let mut a = [0u8; 20];
        a[19] = n;
        Address(a)
    }

    #[test]
    fn identical_deployed_code_is_one_object() {
        let mut world = WorldState::new();
        let mut js = JournaledState::new(&mut world);
        let code = |bytes: &[u8]| Bytecode::new(Arc::from(bytes));
        js.set_deployed_code(addr(1), code(&[0x60, 0x00, 0x00]));
        js.set_deployed_code(addr(2), code(&[0x60, 0x00, 0x00]));
        js.set_deployed_code(addr(3), code(&[0x60, 0x01, 0x00]));
        assert!(Arc::ptr_eq(&js.code(&addr(1)), &js.code(&addr(2))));
        assert!(!Arc::ptr_eq(&js.code(&addr(1)), &js.code(&addr(3))));
        assert_eq!(js.code(&addr(3)).bytes[..], [0x60, 0x01, 0x00]);
    }

    #[test]
    fn nested_revert_undoes_only_inner_writes() {
        let mut world = WorldState::new();
        world.insert_account(addr(1), Account { balance: U256::from(100), ..Account::default() });
        let mut js = JournaledState::new(&mut world);

        let outer = js.checkpoint();
        js.sstore(addr(1), U256::from(1), U256::from(11));
        js.transfer(addr(1), addr(2), U256::from(30));

        let inner = js.checkpoint();
        js.sstore(addr(1), U256::from(1), U256::from(22));
        js.sstore(addr(1), U256::from(2), U256::from(33));
        js.set_nonce(addr(3), 7);
        js.warm_slot(addr(1), U256::from(9));
        js.add_refund(4800);
        js.tstore(addr(1), U256::from(5), U256::from(55));
        js.revert_to(inner);

        assert_eq!(js.sload(&addr(1), &U256::from(1)), U256::from(11));
        assert_eq!(js.sload(&addr(1), &U256::from(2)), U256::ZERO);
        assert!(!js.exists(&addr(3)), "account created in the reverted frame is gone");
        assert!(js.warm_slot(addr(1), U256::from(9)), "warmth is rolled back too");
        assert_eq!(js.refund, 0);
        assert_eq!(js.tload(&addr(1), &U256::from(5)), U256::ZERO);
        assert_eq!(js.balance(&addr(2)), U256::from(30));
        assert_eq!(js.original_storage(&addr(1), &U256::from(1)), U256::ZERO);

        js.revert_to(outer);
        assert_eq!(js.balance(&addr(1)), U256::from(100));
        assert!(!js.exists(&addr(2)));
        assert_eq!(js.sload(&addr(1), &U256::from(1)), U256::ZERO);
    }

    #[test]
    fn transfer_fails_without_funds() {
        let mut world = WorldState::new();
        let mut js = JournaledState::new(&mut world);
        assert!(!js.transfer(addr(1), addr(2), U256::from(1)));
        assert!(!js.exists(&addr(2)));
    }

    #[test]
    fn finalize_clears_touched_empty_accounts() {
        let mut world = WorldState::new();
        world.insert_account(addr(1), Account::default());
        world.insert_account(addr(2), Account::default());
        let mut js = JournaledState::new(&mut world);
        js.touch(addr(1));
        js.finalize(true);
        assert!(!world.accounts.contains_key(&addr(1)));
        assert!(world.accounts.contains_key(&addr(2)));
    }
}
