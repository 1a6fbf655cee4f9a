//! EIP-7702 set-code authorizations: each valid tuple of a type-4 transaction writes a
//! delegation designator (`0xef0100 ++ address`) into its signer's account.
//!
//! They are applied after the sender is charged and before the first frame starts, so a
//! reverting transaction keeps them. An invalid tuple is skipped, never an error.

use ee_api::{delegation_designator, Address, Bytecode, B256, U256};
use ruint::uint;
use std::sync::Arc;

use crate::rlp;
use crate::state::JournaledState;
use crate::tx::Authorization;

/// Intrinsic gas per tuple, paid up front as if every authority were a new account
/// (EIP-7702 `PER_EMPTY_ACCOUNT_COST`).
pub(crate) const PER_EMPTY_ACCOUNT_COST: u64 = 25_000;
/// What a tuple costs when its authority already exists (EIP-7702 `PER_AUTH_BASE_COST`);
/// the difference to [`PER_EMPTY_ACCOUNT_COST`] goes to the refund counter.
const PER_AUTH_BASE_COST: u64 = 12_500;
/// Domain separator of the signed message `keccak(MAGIC || rlp([chain_id, address, nonce]))`.
const MAGIC: u8 = 0x05;

/// secp256k1's group order n, and n / 2: EIP-2 bounds s to the lower half.
const SECP256K1_N: U256 = uint!(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141_U256);
const SECP256K1_HALF_N: U256 = uint!(0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0_U256);

/// The account that signed `auth`, or `None` for a signature EIP-7702 does not accept
/// (`y_parity` not 0 or 1, `r` outside `[1, n)`, `s` outside `[1, n/2]`, no recoverable key).
pub fn recover_authority(auth: &Authorization) -> Option<Address> {
    if auth.y_parity > U256::from(1) {
        return None;
    }
    if auth.r.is_zero() || auth.r >= SECP256K1_N || auth.s.is_zero() || auth.s > SECP256K1_HALF_N {
        return None;
    }
    let hash = signing_hash(auth.chain_id, auth.address, auth.nonce).0;
    let r = auth.r.to_be_bytes::<32>();
    let s = auth.s.to_be_bytes::<32>();
    precompiles::recover_address(&hash, auth.y_parity == U256::from(1), &r, &s).map(Address)
}

/// Applies `authorizations` in order on chain `chain_id` and returns the refund they earn.
pub(crate) fn apply(js: &mut JournaledState, authorizations: &[Authorization], chain_id: U256) -> u64 {
    let mut refund = 0;
    for auth in authorizations {
        if !auth.chain_id.is_zero() && auth.chain_id != chain_id {
            continue;
        }
        // The authority's nonce is bumped, so 2^64 - 1 could never be used.
        let Ok(nonce) = u64::try_from(auth.nonce) else { continue };
        if nonce == u64::MAX {
            continue;
        }
        let Some(authority) = recover_authority(auth) else { continue };
        // Warm even when a later check skips the tuple.
        js.prewarm_account(authority);
        let code = js.code(&authority);
        if !code.is_empty() && code.delegation_target().is_none() {
            continue;
        }
        if js.nonce(&authority) != nonce {
            continue;
        }
        if js.exists(&authority) {
            refund += PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST;
        }
        // Delegating to the zero address clears the delegation.
        let code: Arc<[u8]> = if auth.address == Address::ZERO {
            Arc::from(&[][..])
        } else {
            Arc::from(&delegation_designator(auth.address)[..])
        };
        js.set_code(authority, Arc::new(Bytecode::new(code)));
        js.set_nonce(authority, nonce + 1);
    }
    refund
}

/// The message hash an authority signs: `keccak(MAGIC || rlp([chain_id, address, nonce]))`.
pub fn signing_hash(chain_id: U256, address: Address, nonce: U256) -> B256 {
    let mut payload = Vec::new();
    rlp::encode_u256(&mut payload, &chain_id);
    rlp::encode_bytes(&mut payload, &address.0);
    rlp::encode_u256(&mut payload, &nonce);
    let mut message = vec![MAGIC];
    rlp::encode_list(&mut message, &payload);
    B256::keccak(&message)
}
