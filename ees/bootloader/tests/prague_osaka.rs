//! Transaction-level rules of Prague and Osaka, end to end through `execute_transaction`:
//! EIP-7702 authorizations and delegated calls, the EIP-7623 calldata floor, the EIP-7825
//! gas-limit cap and the EIP-7594 / EIP-7691 blob limits.

use std::sync::Arc;

use bootloader::set_code::{recover_authority, signing_hash};
use bootloader::{
    execute_transaction, Account, Authorization, ExecutionLimits, Transaction, TxError, TxOutcome, WorldState,
};
use ee_api::{delegation_designator, Address, BlockEnv, Bytecode, ExitStatus, Fork, B256, U256};
use k256::ecdsa::SigningKey;
use sha3::{Digest, Keccak256};

const SENDER: Address = Address([0xa0; 20]);
const TARGET: Address = Address([0xc0; 20]);
const COINBASE: Address = Address([0xcb; 20]);

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_slice(&[n; 32]).unwrap()
}

fn address_of(key: &SigningKey) -> Address {
    let point = key.verifying_key().to_encoded_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    Address(hash[12..].try_into().unwrap())
}

/// An authorization signed by `key` (k256 signs with low s, as EIP-7702 requires).
fn sign(key: &SigningKey, chain_id: u64, address: Address, nonce: u64) -> Authorization {
    let hash = signing_hash(u(chain_id), address, u(nonce));
    let (sig, recid) = key.sign_prehash_recoverable(&hash.0).unwrap();
    let (r, s) = sig.split_bytes();
    Authorization {
        chain_id: u(chain_id),
        address,
        nonce: u(nonce),
        y_parity: u(recid.is_y_odd() as u64),
        r: U256::from_be_slice(&r),
        s: U256::from_be_slice(&s),
    }
}

fn code(bytes: &[u8]) -> Arc<Bytecode> {
    Arc::new(Bytecode::new(Arc::from(bytes)))
}

fn block() -> BlockEnv {
    BlockEnv {
        number: u(1),
        coinbase: COINBASE,
        gas_limit: u(100_000_000),
        base_fee: u(1),
        blob_base_fee: u(1),
        chain_id: u(1),
        ..BlockEnv::default()
    }
}

/// CALLER PUSH0 SSTORE ADDRESS PUSH1 1 SSTORE STOP: shows whose storage a call wrote and
/// who called.
const RECORDER: [u8; 8] = [0x33, 0x5f, 0x55, 0x30, 0x60, 0x01, 0x55, 0x00];
/// The gas RECORDER takes: two SSTOREs of fresh cold slots, five cheap opcodes.
const RECORDER_GAS: u64 = 2 * (20_000 + 2_100) + 2 + 2 + 3 + 2;

/// A world with a funded sender and RECORDER at TARGET.
fn world() -> WorldState {
    let mut state = WorldState::new();
    state.insert_account(SENDER, Account { balance: u(10u64.pow(18)), ..Account::default() });
    state.insert_account(TARGET, Account { code: code(&RECORDER), ..Account::default() });
    state
}

fn set_code_tx(to: Address, authorizations: Vec<Authorization>) -> Transaction {
    Transaction {
        tx_type: 4,
        sender: SENDER,
        to: Some(to),
        gas_limit: u(1_000_000),
        max_fee_per_gas: Some(u(10)),
        max_priority_fee_per_gas: Some(u(1)),
        authorization_list: authorizations,
        data: Arc::from(&[][..]),
        ..Transaction::default()
    }
}

fn run(state: &mut WorldState, tx: &Transaction, fork: Fork) -> Result<TxOutcome, TxError> {
    execute_transaction(state, &block(), tx, fork, ExecutionLimits::default())
}

#[test]
fn authorities_are_recovered_only_from_canonical_signatures() {
    let k = key(7);
    let auth = sign(&k, 1, TARGET, 0);
    assert_eq!(recover_authority(&auth), Some(address_of(&k)));
    // secp256k1's n: a high s (n - s, the other parity) is the same signature, refused.
    let n = U256::from_str_radix("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16).unwrap();
    let high_s = Authorization { s: n - auth.s, y_parity: u(1) - auth.y_parity, ..auth.clone() };
    assert_eq!(recover_authority(&high_s), None);
    assert_eq!(recover_authority(&Authorization { y_parity: u(2), ..auth.clone() }), None);
    assert_eq!(recover_authority(&Authorization { r: U256::ZERO, ..auth.clone() }), None);
    assert_eq!(recover_authority(&Authorization { r: n, ..auth.clone() }), None);
    assert_eq!(recover_authority(&Authorization { s: U256::ZERO, ..auth.clone() }), None);
    // A different message recovers some other key.
    assert_ne!(recover_authority(&Authorization { nonce: u(1), ..auth }), Some(address_of(&k)));
}

#[test]
fn a_delegated_account_runs_the_target_code_in_its_own_context() {
    let k = key(1);
    let authority = address_of(&k);
    let mut state = world();
    let out = run(&mut state, &set_code_tx(authority, vec![sign(&k, 1, TARGET, 0)]), Fork::Prague).unwrap();
    assert_eq!(out.status, ExitStatus::Success);
    let acc = state.get(&authority).expect("the authority exists now");
    assert_eq!(&acc.code.bytes[..], &delegation_designator(TARGET)[..]);
    assert_eq!(acc.nonce, 1);
    assert_eq!(acc.storage.get(&U256::ZERO), Some(&SENDER.to_word()), "CALLER is the sender");
    assert_eq!(acc.storage.get(&u(1)), Some(&authority.to_word()), "ADDRESS is the authority");
    assert!(state.get(&TARGET).unwrap().storage.is_empty(), "the target's own storage is untouched");
    // 21000 + 25000 per tuple + the code; a new authority earns no refund, and the
    // delegated target is warm at the top level for free.
    assert_eq!(out.gas_used, 21_000 + 25_000 + RECORDER_GAS);
}

#[test]
fn an_existing_authority_earns_a_refund_and_chain_id_zero_is_valid_everywhere() {
    let k = key(2);
    let authority = address_of(&k);
    let mut state = world();
    state.insert_account(authority, Account { balance: u(5), ..Account::default() });
    let out = run(&mut state, &set_code_tx(TARGET, vec![sign(&k, 0, TARGET, 0)]), Fork::Prague).unwrap();
    assert_eq!(out.gas_used, 21_000 + 25_000 + RECORDER_GAS - 12_500);
    assert_eq!(state.get(&authority).unwrap().nonce, 1);
}

#[test]
fn invalid_tuples_are_skipped_without_failing_the_transaction() {
    let k = key(3);
    let authority = address_of(&k);
    let cases: Vec<(&str, Authorization, Option<Account>)> = vec![
        ("wrong chain id", sign(&k, 5, TARGET, 0), None),
        ("wrong nonce", sign(&k, 1, TARGET, 1), None),
        ("nonce 2^64-1", sign(&k, 1, TARGET, u64::MAX), Some(Account { nonce: u64::MAX, ..Account::default() })),
        ("authority has code", sign(&k, 1, TARGET, 0), Some(Account { code: code(&[0x00]), ..Account::default() })),
    ];
    for (what, auth, pre) in cases {
        let mut state = world();
        if let Some(acc) = pre.clone() {
            state.insert_account(authority, acc);
        }
        let out = run(&mut state, &set_code_tx(TARGET, vec![auth]), Fork::Prague).unwrap();
        assert_eq!(out.status, ExitStatus::Success, "{what}");
        let after = state.get(&authority);
        match &pre {
            None => assert!(after.is_none(), "{what}: nothing written"),
            Some(acc) => {
                assert_eq!(after.unwrap().nonce, acc.nonce, "{what}");
                assert_eq!(after.unwrap().code.bytes, acc.code.bytes, "{what}");
            }
        }
        assert_eq!(out.gas_used, 21_000 + 25_000 + RECORDER_GAS, "{what}: no refund for a skipped tuple");
    }
}

#[test]
fn later_tuples_see_earlier_ones_and_the_zero_address_clears_a_delegation() {
    let k = key(4);
    let authority = address_of(&k);
    let mut state = world();
    run(&mut state, &set_code_tx(TARGET, vec![sign(&k, 1, TARGET, 0), sign(&k, 1, COINBASE, 1)]), Fork::Prague)
        .unwrap();
    let acc = state.get(&authority).unwrap();
    assert_eq!(&acc.code.bytes[..], &delegation_designator(COINBASE)[..]);
    assert_eq!(acc.nonce, 2);
    let reset = Transaction { nonce: u(1), ..set_code_tx(TARGET, vec![sign(&k, 1, Address::ZERO, 2)]) };
    run(&mut state, &reset, Fork::Prague).unwrap();
    let acc = state.get(&authority).unwrap();
    assert!(acc.code.is_empty());
    assert_eq!(acc.nonce, 3);
}

#[test]
fn a_delegation_survives_a_reverting_transaction() {
    let k = key(5);
    let authority = address_of(&k);
    let mut state = world();
    // PUSH0 PUSH0 REVERT
    state.insert_account(TARGET, Account { code: code(&[0x5f, 0x5f, 0xfd]), ..Account::default() });
    let out = run(&mut state, &set_code_tx(authority, vec![sign(&k, 1, TARGET, 0)]), Fork::Prague).unwrap();
    assert_eq!(out.status, ExitStatus::Revert);
    assert_eq!(&state.get(&authority).unwrap().code.bytes[..], &delegation_designator(TARGET)[..]);
}

#[test]
fn a_delegated_sender_may_still_send_but_a_contract_may_not() {
    let mut state = world();
    let funded =
        |code_bytes: &[u8]| Account { balance: u(10u64.pow(18)), code: code(code_bytes), ..Account::default() };
    state.insert_account(SENDER, funded(&delegation_designator(TARGET)));
    let call = Transaction { tx_type: 2, ..set_code_tx(TARGET, Vec::new()) };
    assert!(run(&mut state.clone(), &call, Fork::Prague).is_ok());
    assert_eq!(run(&mut state.clone(), &call, Fork::Cancun).unwrap_err(), TxError::SenderNotEoa);
    state.insert_account(SENDER, funded(&[0x00]));
    assert_eq!(run(&mut state, &call, Fork::Prague).unwrap_err(), TxError::SenderNotEoa);
}

#[test]
fn set_code_transaction_rejections() {
    let tx = set_code_tx(TARGET, vec![sign(&key(6), 1, TARGET, 0)]);
    assert_eq!(run(&mut world(), &tx, Fork::Cancun).unwrap_err(), TxError::TypeNotSupported(4));
    let empty = set_code_tx(TARGET, Vec::new());
    assert_eq!(run(&mut world(), &empty, Fork::Prague).unwrap_err(), TxError::EmptyAuthorizationList);
    let create = Transaction { to: None, ..tx.clone() };
    assert_eq!(run(&mut world(), &create, Fork::Prague).unwrap_err(), TxError::SetCodeCreate);
    let short = Transaction { gas_limit: u(21_000 + 25_000 - 1), ..tx };
    assert!(matches!(
        run(&mut world(), &short, Fork::Prague),
        Err(TxError::IntrinsicGasTooLow { intrinsic: 46_000, .. })
    ));
}

/// A call to a delegated account whose target is a precompile runs the (empty) code stored
/// at the precompile's address, not the precompile.
#[test]
fn a_delegation_to_a_precompile_runs_no_precompile() {
    let k = key(8);
    let authority = address_of(&k);
    let mut identity = [0u8; 20];
    identity[19] = 4;
    let mut state = world();
    let tx = Transaction {
        data: Arc::from(&[1u8, 2, 3][..]),
        ..set_code_tx(authority, vec![sign(&k, 1, Address(identity), 0)])
    };
    let out = run(&mut state, &tx, Fork::Prague).unwrap();
    assert_eq!(out.status, ExitStatus::Success);
    assert!(out.output.is_empty(), "identity would have echoed the calldata");
}

fn plain_tx(to: Address, gas_limit: u64, data: Vec<u8>) -> Transaction {
    Transaction {
        tx_type: 2,
        sender: SENDER,
        to: Some(to),
        gas_limit: u(gas_limit),
        max_fee_per_gas: Some(u(10)),
        max_priority_fee_per_gas: Some(u(1)),
        data: Arc::from(data),
        ..Transaction::default()
    }
}

/// EIP-7623: from Prague a transaction pays at least 21000 + 10 per calldata token (a zero
/// byte is one token, any other byte four), and a gas limit below that is rejected.
#[test]
fn calldata_floor() {
    let mut state = world();
    state.insert_account(TARGET, Account { code: code(&[0x00]), ..Account::default() });
    let data: Vec<u8> = [vec![0u8; 10], vec![1u8; 20]].concat();
    let tx = plain_tx(TARGET, 100_000, data);
    let standard = 21_000 + 10 * 4 + 20 * 16;
    let floor = 21_000 + 10 * (10 + 4 * 20);
    assert_eq!(run(&mut state.clone(), &tx, Fork::Cancun).unwrap().gas_used, standard);
    assert_eq!(run(&mut state.clone(), &tx, Fork::Prague).unwrap().gas_used, floor);
    let below = Transaction { gas_limit: u(floor - 1), ..tx.clone() };
    assert_eq!(
        run(&mut state.clone(), &below, Fork::Prague).unwrap_err(),
        TxError::IntrinsicGasBelowFloor { floor, limit: u(floor - 1) }
    );
    assert!(run(&mut state.clone(), &below, Fork::Cancun).is_ok());
    let too_low = Transaction { gas_limit: u(standard - 1), ..tx };
    assert!(matches!(run(&mut state, &too_low, Fork::Prague), Err(TxError::IntrinsicGasTooLow { .. })));
}

/// EIP-7825: from Osaka no transaction may ask for more than 2^24 gas.
#[test]
fn osaka_gas_limit_cap() {
    let tx = plain_tx(TARGET, (1 << 24) + 1, Vec::new());
    assert_eq!(run(&mut world(), &tx, Fork::Osaka).unwrap_err(), TxError::GasLimitAboveCap);
    assert!(run(&mut world(), &tx, Fork::Prague).is_ok());
    assert!(run(&mut world(), &plain_tx(TARGET, 1 << 24, Vec::new()), Fork::Osaka).is_ok());
}

/// EIP-7691 raises the block's blob maximum to 9 in Prague; EIP-7594 caps one transaction
/// at 6 blobs from Osaka on; a chain configuration's schedule overrides the fork's.
#[test]
fn blob_limits_per_block_and_per_transaction() {
    let blob_tx = |n: usize| Transaction {
        tx_type: 3,
        max_fee_per_blob_gas: Some(u(10)),
        blob_hashes: vec![B256([1; 32]); n],
        ..plain_tx(TARGET, 100_000, Vec::new())
    };
    assert_eq!(run(&mut world(), &blob_tx(7), Fork::Cancun).unwrap_err(), TxError::TooManyBlobs);
    assert!(run(&mut world(), &blob_tx(9), Fork::Prague).is_ok());
    assert_eq!(run(&mut world(), &blob_tx(10), Fork::Prague).unwrap_err(), TxError::TooManyBlobs);
    assert!(run(&mut world(), &blob_tx(6), Fork::Osaka).is_ok());
    assert_eq!(run(&mut world(), &blob_tx(7), Fork::Osaka).unwrap_err(), TxError::TooManyBlobsInTx);
    assert_eq!(run(&mut world(), &blob_tx(10), Fork::Osaka).unwrap_err(), TxError::TooManyBlobs);
    let schedule = ee_api::BlobSchedule { target: 1, max: 2, base_fee_update_fraction: 1_000_000 };
    let small = BlockEnv { blob_schedule: Some(schedule), ..block() };
    let res = execute_transaction(&mut world(), &small, &blob_tx(3), Fork::Prague, ExecutionLimits::default());
    assert_eq!(res.unwrap_err(), TxError::TooManyBlobs);
}
