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
    /// Code hashes decommitted (true) or attempted without the ergs to pay (false).
    pub(crate) decommitted: HashMap<U256, bool>,
    /// Pages 1–3 (the entry frame's calldata, heap, aux heap) were handed out.
    entry_pages_taken: bool,
}

impl Default for TxState {
    fn default() -> TxState {
        TxState {
            next_page: FIRST_FREE_PAGE,
            context_u128: 0,
            tx_number: 0,
            read_slots: HashSet::new(),
            decommitted: HashMap::new(),
            entry_pages_taken: false,
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
    fn code_by_hash(&mut self, hash: U256) -> Option<Vec<u8>> {
        self.codes.get(&hash).cloned()
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
}
