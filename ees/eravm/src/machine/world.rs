//! What a frame needs beyond itself: the [`World`] it reads and writes (storage, transient
//! storage, events, L2→L1 logs, code), and the [`TxState`] that EraVM keeps for a whole
//! transaction across frames (vm2 keeps it in its `WorldDiff` and `State`).
//!
//! The split follows who decides what: the world only stores (the bootloader journals and
//! rolls back its writes), while every price, refund and warm/cold rule is the machine's and
//! lives in [`TxState`], which survives reverts as vm2's does.

use std::collections::{HashMap, HashSet};

use ee_api::{Address, U256};

/// The first memory page a transaction allocates after the entry frame's calldata (1), heap
/// (2) and aux heap (3); vm2 numbers pages in allocation order and never reuses one, and the
/// numbers are visible in fat pointers.
pub const FIRST_FREE_PAGE: u32 = 4;

/// One `event` packet as the `event` opcode records it (EventWriter emits a Solidity event
/// as several). Shard ids are always 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub key: U256,
    pub value: U256,
    pub is_first: bool,
    pub tx_number: u16,
}

/// One L2→L1 message as `to_l1` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L2ToL1Log {
    pub key: U256,
    pub value: U256,
    pub is_service: bool,
    pub address: Address,
    pub tx_number: u16,
}

/// What a far call finds at its destination: the versioned hash of the code that will run
/// (byte 1 cleared, the decommit cache key) and its length in words (what the decommit costs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    pub key: U256,
    pub words: u16,
}

/// The world a frame acts on. Writes are plain stores: rollback on revert or panic is the
/// caller's (the bootloader's journal, or [`MemoryWorld`]'s snapshot in tests).
pub trait World {
    fn storage_read(&mut self, address: Address, key: U256) -> U256;
    fn storage_write(&mut self, address: Address, key: U256, value: U256);
    fn transient_read(&mut self, address: Address, key: U256) -> U256;
    fn transient_write(&mut self, address: Address, key: U256, value: U256);
    fn event(&mut self, event: Event);
    fn l2_to_l1_log(&mut self, log: L2ToL1Log);
    /// Drops the last event recorded: a near call that reverts or panics undoes its own
    /// (far frames are the caller's to roll back).
    fn remove_last_event(&mut self);
    /// Drops the last L2→L1 log recorded (as [`World::remove_last_event`]).
    fn remove_last_l2_to_l1_log(&mut self);
    /// Empties transient storage (`inctx`: a new transaction starts).
    fn clear_transient(&mut self);
    /// The code a versioned hash names (for `decommit`), `None` when unknown.
    fn code_by_hash(&mut self, hash: U256) -> Option<Vec<u8>>;
    /// What a far call to `address` runs (vm2's decommit rules: AccountCodeStorage, the
    /// default account for addresses without code), `None` when nothing can run there (the
    /// far call then panics in the callee).
    fn code_info(&mut self, address: Address, is_constructor: bool) -> Option<CodeInfo>;
    /// Slots whose first write gets the warm refund (Era: SystemContext's, and the
    /// bootloader's base-token balance).
    fn is_free_slot(&self, _address: Address, _key: U256) -> bool {
        false
    }
    /// Pubdata bytes a write of `value` costs against the slot's value at the start of the
    /// transaction (it feeds only the pubdata counter that kernel `meta` shows).
    fn pubdata_cost(&mut self, _address: Address, _key: U256, _value: U256) -> u32 {
        0
    }
}

/// EraVM's transaction-wide state: survives frames and reverts (vm2 rolls these back only
/// with the whole VM).
#[derive(Debug)]
pub struct TxState {
    /// The next memory page number to allocate.
    pub(crate) next_page: u32,
    /// The `context_u128` the next far call passes (`ctx.set`, kernel only); a far call or
    /// far return clears it.
    pub(crate) context_u128: u128,
    /// The transaction number (`inctx`), carried by events and L2→L1 logs.
    pub(crate) tx_number: u16,
    /// Slots read or written this transaction: a repeated `sload` gets the warm refund.
    pub(crate) read_slots: HashSet<(Address, U256)>,
    /// Slots written this transaction: a repeated `sstore` gets the warm refund.
    pub(crate) written_slots: HashSet<(Address, U256)>,
    /// Code hashes decommitted (true) or attempted without the ergs to pay (false).
    pub(crate) decommitted: HashMap<U256, bool>,
    /// Pages 1–3 (the entry frame's calldata, heap, aux heap) were handed out.
    entry_pages_taken: bool,
    /// The pubdata each written slot was last charged (vm2's `paid_changes`): a later write
    /// pays only the difference. Rolled back with a failed frame.
    pub(crate) paid_changes: HashMap<(Address, U256), u32>,
    /// The transaction's pubdata counter (kernel `meta`, bits 0–31). Rolled back with a
    /// failed frame.
    pub(crate) pubdata: i32,
    /// What a failing near or far frame undoes, in order (vm2 snapshots its world diff at
    /// each call). Read and written slot sets and decommits are not in it: vm2 keeps them.
    pub(crate) journal: Vec<Undo>,
}

/// One undoable change, with what it replaced.
#[derive(Clone, Debug)]
pub(crate) enum Undo {
    Storage(Address, U256, U256),
    Transient(Address, U256, U256),
    Event,
    L2ToL1Log,
    Paid((Address, U256), Option<u32>),
    Pubdata(i32),
    /// A transient write from before an `inctx` cleared transient storage: nothing to undo.
    Cleared,
}

impl Default for TxState {
    fn default() -> TxState {
        TxState {
            next_page: FIRST_FREE_PAGE,
            context_u128: 0,
            tx_number: 0,
            read_slots: HashSet::new(),
            written_slots: HashSet::new(),
            decommitted: HashMap::new(),
            entry_pages_taken: false,
            paid_changes: HashMap::new(),
            pubdata: 0,
            journal: Vec::new(),
        }
    }
}

impl TxState {
    /// A fresh page number.
    pub(crate) fn allocate_page(&mut self) -> u32 {
        let page = self.next_page;
        self.next_page += 1;
        page
    }

    /// True the first time only: the caller may give its frame pages 1–3 (vm2's first
    /// frame); later frames entered from outside EraVM allocate theirs.
    pub fn take_entry_pages(&mut self) -> bool {
        !std::mem::replace(&mut self.entry_pages_taken, true)
    }

    /// The `context_u128` the next far call would pass (set by `ctx.set`).
    pub fn context_u128(&self) -> u128 {
        self.context_u128
    }

    /// The transaction number (advanced by `inctx`).
    pub fn tx_number(&self) -> u16 {
        self.tx_number
    }

    /// The pubdata counter (what kernel `meta` shows in bits 0–31).
    pub fn pubdata(&self) -> i32 {
        self.pubdata
    }

    /// A point a failing frame rolls back to ([`TxState::rollback`]).
    pub fn checkpoint(&self) -> usize {
        self.journal.len()
    }

    /// Undoes everything recorded since `checkpoint`: the pubdata counter and paid changes
    /// always; storage, transient storage, events and logs through `world` when given (a
    /// near call's failure), or not at all when the caller restores the world itself (a far
    /// frame's, which [`super::run_stack`] undoes with the world's snapshot).
    pub fn rollback(&mut self, checkpoint: usize, mut world: Option<&mut dyn World>) {
        while self.journal.len() > checkpoint {
            let undo = self.journal.pop().expect("journal entry past the checkpoint");
            match (undo, world.as_deref_mut()) {
                (Undo::Paid(slot, old), _) => {
                    match old {
                        Some(v) => self.paid_changes.insert(slot, v),
                        None => self.paid_changes.remove(&slot),
                    };
                }
                (Undo::Pubdata(old), _) => self.pubdata = old,
                (Undo::Cleared, _) | (_, None) => {}
                (Undo::Storage(a, k, v), Some(w)) => w.storage_write(a, k, v),
                (Undo::Transient(a, k, v), Some(w)) => w.transient_write(a, k, v),
                (Undo::Event, Some(w)) => w.remove_last_event(),
                (Undo::L2ToL1Log, Some(w)) => w.remove_last_l2_to_l1_log(),
            }
        }
    }
}

/// A world in memory, for tests, benchmarks and the differential: storage, transient
/// storage, events and logs in maps and vectors, code by versioned hash, and each address's
/// code hash. [`MemoryWorld::snapshot`]/[`MemoryWorld::rollback`] undo a failed frame.
#[derive(Clone, Debug, Default)]
pub struct MemoryWorld {
    pub storage: HashMap<(Address, U256), U256>,
    pub transient: HashMap<(Address, U256), U256>,
    pub events: Vec<Event>,
    pub l2_to_l1_logs: Vec<L2ToL1Log>,
    /// Code by versioned hash (byte 1 cleared).
    pub codes: HashMap<U256, Vec<u8>>,
    /// Each deployed address's versioned hash.
    pub code_hashes: HashMap<Address, U256>,
    /// What runs at addresses without code (vm2's default account), if anything.
    pub default_account: Option<U256>,
    /// Addresses all of whose slots are free ([`World::is_free_slot`]), and single free slots.
    pub free_addresses: HashSet<Address>,
    pub free_slots: HashSet<(Address, U256)>,
    /// Pubdata a changed slot costs: the first write ever to it (absent from `storage` at
    /// the start), or a later one. 0 by default; a write back to the initial value is free.
    pub pubdata_initial_write: u32,
    pub pubdata_repeated_write: u32,
    /// Each written slot's value before its first write (`None`: absent), the basis of
    /// [`World::pubdata_cost`].
    pub initial: HashMap<(Address, U256), Option<U256>>,
}

impl MemoryWorld {
    /// Installs `code` at `address`; returns its versioned hash.
    pub fn install(&mut self, address: Address, code: &[u8]) -> U256 {
        let hash = U256::from_be_bytes(crate::versioned_hash(code).expect("valid EraVM code"));
        self.codes.insert(hash, code.to_vec());
        self.code_hashes.insert(address, hash);
        hash
    }

    /// Everything a failed frame must undo.
    pub fn snapshot(&self) -> MemoryWorld {
        self.clone()
    }

    pub fn rollback(&mut self, snapshot: MemoryWorld) {
        *self = snapshot;
    }
}

/// Addresses below 2^16 are kernel space (system contracts).
pub fn is_kernel(address: &Address) -> bool {
    address.0[..18].iter().all(|b| *b == 0)
}

impl World for MemoryWorld {
    fn storage_read(&mut self, address: Address, key: U256) -> U256 {
        self.storage.get(&(address, key)).copied().unwrap_or(U256::ZERO)
    }
    fn storage_write(&mut self, address: Address, key: U256, value: U256) {
        let before = self.storage.get(&(address, key)).copied();
        self.initial.entry((address, key)).or_insert(before);
        self.storage.insert((address, key), value);
    }
    fn transient_read(&mut self, address: Address, key: U256) -> U256 {
        self.transient.get(&(address, key)).copied().unwrap_or(U256::ZERO)
    }
    fn transient_write(&mut self, address: Address, key: U256, value: U256) {
        self.transient.insert((address, key), value);
    }
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn l2_to_l1_log(&mut self, log: L2ToL1Log) {
        self.l2_to_l1_logs.push(log);
    }
    fn remove_last_event(&mut self) {
        self.events.pop();
    }
    fn remove_last_l2_to_l1_log(&mut self) {
        self.l2_to_l1_logs.pop();
    }
    fn clear_transient(&mut self) {
        self.transient.clear();
    }
    /// The construction marker (byte 1) is ignored.
    fn code_by_hash(&mut self, hash: U256) -> Option<Vec<u8>> {
        let mut bytes = hash.to_be_bytes::<32>();
        bytes[1] = 0;
        self.codes.get(&U256::from_be_bytes(bytes)).cloned()
    }
    fn code_info(&mut self, address: Address, _is_constructor: bool) -> Option<CodeInfo> {
        let key = match self.code_hashes.get(&address) {
            Some(h) => *h,
            None if is_kernel(&address) => return None,
            None => self.default_account?,
        };
        let words = self.codes.get(&key).map(|c| (c.len() / 32) as u16)?;
        Some(CodeInfo { key, words })
    }
    fn is_free_slot(&self, address: Address, key: U256) -> bool {
        self.free_addresses.contains(&address) || self.free_slots.contains(&(address, key))
    }
    fn pubdata_cost(&mut self, address: Address, key: U256, value: U256) -> u32 {
        let current = self.storage.get(&(address, key)).copied();
        let initial = *self.initial.entry((address, key)).or_insert(current);
        match initial {
            Some(v) if v == value => 0,
            None if value.is_zero() => 0,
            None => self.pubdata_initial_write,
            Some(_) => self.pubdata_repeated_write,
        }
    }
}
