//! Merkle-Patricia trie roots.
use crate::WorldState;
use ee_api::{Log, B256};

/// Root of the state trie.
pub fn state_root(state: &WorldState) -> B256 {
    let _ = state;
    unimplemented!()
}

/// keccak256 of the RLP list of logs.
pub fn logs_hash(logs: &[Log]) -> B256 {
    let _ = logs;
    unimplemented!()
}
