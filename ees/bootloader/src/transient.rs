//! Transient storage (EIP-1153): slots that live for one transaction.
//!
//! A transaction can write a million distinct slots (EEST's `test_run_until_out_of_gas`:
//! TSTORE of GAS under 120M gas). A map from (address, key) to value plus a journal entry
//! per write held about 300 MB per such case. Here the slots sit in a vector in first-write
//! order with a table of their indices, and a revert drops the slots written after its
//! checkpoint by truncating; only overwrites keep the old value: 88 bytes per new slot, plus
//! five per table bucket.

use std::hash::BuildHasher;

use ee_api::{Address, U256};
use hashbrown::HashTable;

use crate::state::StateHash;

struct Slot {
    address: Address,
    key: U256,
    value: U256,
}

#[derive(Default)]
pub(crate) struct TransientStore {
    /// Every slot written in this transaction, in first-write order.
    slots: Vec<Slot>,
    /// Indices into `slots`, by the hash of (address, key).
    index: HashTable<u32>,
    /// Overwritten values, newest last: (index into `slots`, value before the write).
    overwritten: Vec<(u32, U256)>,
    hasher: StateHash,
}

/// Where the store stood at a frame's start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TransientCheckpoint {
    slots: usize,
    overwritten: usize,
}

impl TransientStore {
    fn hash(&self, address: &Address, key: &U256) -> u64 {
        self.hasher.hash_one((address, key))
    }

    fn find(&self, address: &Address, key: &U256) -> Option<u32> {
        let slots = &self.slots;
        let matches = |&i: &u32| {
            let slot = &slots[i as usize];
            slot.address == *address && slot.key == *key
        };
        self.index.find(self.hash(address, key), matches).copied()
    }

    pub(crate) fn get(&self, address: &Address, key: &U256) -> U256 {
        self.find(address, key).map_or(U256::ZERO, |i| self.slots[i as usize].value)
    }

    pub(crate) fn set(&mut self, address: Address, key: U256, value: U256) {
        if let Some(i) = self.find(&address, &key) {
            let old = std::mem::replace(&mut self.slots[i as usize].value, value);
            self.overwritten.push((i, old));
            return;
        }
        let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 transient slots in a transaction");
        let hash = self.hash(&address, &key);
        self.slots.push(Slot { address, key, value });
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            let slot = &slots[j as usize];
            hasher.hash_one((&slot.address, &slot.key))
        });
    }

    pub(crate) fn checkpoint(&self) -> TransientCheckpoint {
        TransientCheckpoint { slots: self.slots.len(), overwritten: self.overwritten.len() }
    }

    /// Undoes every write since `cp`: restores overwritten values, newest first, then drops
    /// the slots first written since (their table entries too).
    pub(crate) fn revert_to(&mut self, cp: TransientCheckpoint) {
        while self.overwritten.len() > cp.overwritten {
            let (i, old) = self.overwritten.pop().expect("longer than the checkpoint");
            self.slots[i as usize].value = old;
        }
        while self.slots.len() > cp.slots {
            let i = (self.slots.len() - 1) as u32;
            let hash = {
                let slot = &self.slots[i as usize];
                self.hash(&slot.address, &slot.key)
            };
            if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
                entry.remove();
            }
            self.slots.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address([n; 20])
    }

    fn w(v: u64) -> U256 {
        U256::from(v)
    }

    #[test]
    fn reverts_restore_overwrites_and_drop_new_slots() {
        let mut store = TransientStore::default();
        store.set(addr(1), w(1), w(10));
        store.set(addr(2), w(1), w(20));
        let outer = store.checkpoint();
        store.set(addr(1), w(1), w(11)); // overwrite of a slot from before
        store.set(addr(1), w(2), w(12)); // new slot
        let inner = store.checkpoint();
        store.set(addr(1), w(2), w(13)); // overwrite of a slot new since `outer`
        store.set(addr(3), w(7), w(30));
        store.set(addr(1), w(1), w(14));
        assert_eq!((store.get(&addr(1), &w(1)), store.get(&addr(1), &w(2))), (w(14), w(13)));

        store.revert_to(inner);
        assert_eq!((store.get(&addr(1), &w(1)), store.get(&addr(1), &w(2))), (w(11), w(12)));
        assert_eq!(store.get(&addr(3), &w(7)), U256::ZERO);

        store.revert_to(outer);
        assert_eq!(store.get(&addr(1), &w(1)), w(10));
        assert_eq!(store.get(&addr(1), &w(2)), U256::ZERO);
        assert_eq!(store.get(&addr(2), &w(1)), w(20));
        // The dropped slots are gone from the table too: writing them again starts afresh.
        store.set(addr(1), w(2), w(5));
        assert_eq!(store.get(&addr(1), &w(2)), w(5));
        assert_eq!(store.slots.len(), 3);
    }

    #[test]
    fn many_slots_survive_table_growth() {
        let mut store = TransientStore::default();
        for k in 0..10_000u64 {
            store.set(addr((k % 3) as u8), w(k), w(k + 1));
        }
        let cp = store.checkpoint();
        for k in 5_000..15_000u64 {
            store.set(addr((k % 3) as u8), w(k), w(2 * k));
        }
        store.revert_to(cp);
        for k in 0..15_000u64 {
            let want = if k < 10_000 { w(k + 1) } else { U256::ZERO };
            assert_eq!(store.get(&addr((k % 3) as u8), &w(k)), want, "slot {k}");
        }
    }
}
