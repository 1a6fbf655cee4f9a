//! Gas formulas that depend on more than the opcode table.

use ee_api::{Fork, U256};

/// Total cost of `words` 32-byte words of memory (yellow paper C_mem).
#[inline]
pub fn memory_cost(words: u64) -> u64 {
    3 * words + words * words / 512
}

/// SSTORE gas (without the EIP-2929 cold surcharge) and refund delta for
/// writing `new` over `present`, given the slot's `original` value in the tx.
pub fn sstore_cost(fork: Fork, original: U256, present: U256, new: U256) -> (u64, i64) {
    if fork < Fork::Constantinople || fork == Fork::Petersburg {
        return if present.is_zero() && !new.is_zero() {
            (20000, 0)
        } else if !present.is_zero() && new.is_zero() {
            (5000, 15000)
        } else {
            (5000, 0)
        };
    }
    // (SLOAD_GAS, SSTORE_RESET_GAS, SSTORE_CLEARS_SCHEDULE) of EIP-1283/2200/2929/3529.
    let (sload, reset, clear): (u64, u64, i64) = match fork {
        Fork::Constantinople => (200, 5000, 15000),
        Fork::Istanbul => (800, 5000, 15000),
        Fork::Berlin => (100, 2900, 15000),
        _ => (100, 2900, 4800),
    };
    const SET: u64 = 20000;
    if present == new {
        return (sload, 0);
    }
    if original == present {
        if original.is_zero() {
            return (SET, 0);
        }
        return (reset, if new.is_zero() { clear } else { 0 });
    }
    let mut refund = 0i64;
    if !original.is_zero() {
        if present.is_zero() {
            refund -= clear;
        } else if new.is_zero() {
            refund += clear;
        }
    }
    if original == new {
        refund += if original.is_zero() { (SET - sload) as i64 } else { (reset - sload) as i64 };
    }
    (sload, refund)
}
