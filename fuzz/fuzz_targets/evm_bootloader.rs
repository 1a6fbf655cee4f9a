//! Code executed through the bootloader: the fuzzed bytes are the code of the called account
//! (EVM, or another EE when they start with `0xEF 0xEE <kind>`), run by a call transaction with
//! bounded gas. Byte 0 picks the fork, byte 1 the calldata length (the next bytes).
//! Must hold: no panic; gas used ≤ the gas limit; an invalid transaction leaves the state
//! untouched; when the outermost frame reverted or halted, the post-state is the pre-state but
//! for the sender's nonce and fee and the coinbase's fee; the same input twice, the same result.
#![no_main]

use std::sync::Arc;

use bootloader::{execute_transaction, Account, ExecutionLimits, Transaction, TxOutcome, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, U256};
use libfuzzer_sys::fuzz_target;

const SENDER: Address = Address([0xa0; 20]);
const TARGET: Address = Address([0xc0; 20]);
/// A second account with the same code, at an address a PUSH1 reaches (CALL 0xc1).
const NEIGHBOUR: Address = Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc1]);
const COINBASE: Address = Address([0xcb; 20]);
const GAS_LIMIT: u64 = 300_000;
const GAS_PRICE: u64 = 10;
const BASE_FEE: u64 = 1;

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn world(code: &[u8]) -> WorldState {
    let code = Arc::new(Bytecode::new(Arc::from(code)));
    let mut storage = bootloader::Map::default();
    storage.insert(u(0), u(0x1234));
    storage.insert(u(1), u(1));
    let mut state = WorldState::new();
    state.insert_account(SENDER, Account { balance: u(10u64.pow(18)), ..Account::default() });
    state.insert_account(TARGET, Account { code: code.clone(), storage, balance: u(1000), nonce: 1 });
    state.insert_account(NEIGHBOUR, Account { code, nonce: 1, ..Account::default() });
    state.insert_account(COINBASE, Account { balance: u(1), ..Account::default() });
    state
}

/// An account as comparable values: balance, nonce, code, non-zero storage in key order.
type View = (U256, u64, Vec<u8>, Vec<(U256, U256)>);

fn view(a: &Account) -> View {
    let mut storage: Vec<(U256, U256)> =
        a.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
    storage.sort();
    (a.balance, a.nonce, a.code.bytes.to_vec(), storage)
}

fn views(s: &WorldState) -> Vec<(Address, View)> {
    let mut v: Vec<_> = s.accounts.iter().map(|(a, acc)| (*a, view(acc))).collect();
    v.sort_by_key(|(address, _)| *address);
    v
}

fn summary(r: &Result<TxOutcome, bootloader::TxError>) -> String {
    match r {
        Ok(o) => {
            format!("{:?} gas {} output {:?} logs {:?} created {:?}", o.status, o.gas_used, o.output, o.logs, o.created)
        }
        Err(e) => format!("invalid: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 || data.len() > 24 << 10 {
        return;
    }
    let fork = Fork::ALL[data[0] as usize % Fork::ALL.len()];
    let rest = &data[2..];
    let split = (data[1] as usize % 65).min(rest.len());
    let (calldata, code) = rest.split_at(split);
    let pre = world(code);
    let block = BlockEnv {
        number: u(1),
        coinbase: COINBASE,
        timestamp: u(1_000),
        gas_limit: u(30_000_000),
        base_fee: u(BASE_FEE),
        blob_base_fee: u(1),
        chain_id: u(1),
        ..BlockEnv::default()
    };
    let tx = Transaction {
        tx_type: 0,
        sender: SENDER,
        to: Some(TARGET),
        gas_limit: u(GAS_LIMIT),
        gas_price: Some(u(GAS_PRICE)),
        value: u(7),
        data: Arc::from(calldata),
        ..Transaction::default()
    };
    let mut state = pre.clone();
    let result = execute_transaction(&mut state, &block, &tx, fork, ExecutionLimits::default());
    let mut again = pre.clone();
    let second = execute_transaction(&mut again, &block, &tx, fork, ExecutionLimits::default());
    assert_eq!(summary(&result), summary(&second), "the same transaction twice differs");
    assert!(views(&state) == views(&again), "the same transaction twice leaves different states");

    let out = match result {
        Err(e) => {
            assert!(views(&state) == views(&pre), "invalid transaction ({e:?}) changed the state");
            return;
        }
        Ok(out) => out,
    };
    assert!(out.gas_used <= GAS_LIMIT, "gas used {} above the limit {GAS_LIMIT}", out.gas_used);
    if out.status == ExitStatus::Success {
        return;
    }
    assert!(out.logs.is_empty(), "{:?} with logs", out.status);
    // A failed outermost frame: only the sender's nonce and fee and the coinbase's fee changed.
    let fee = u(out.gas_used) * u(GAS_PRICE);
    let tip = if fork >= Fork::London { u(out.gas_used) * u(GAS_PRICE - BASE_FEE) } else { fee };
    let mut expected = pre.clone();
    let s = expected.accounts.get_mut(&SENDER).unwrap();
    s.nonce += 1;
    s.balance -= fee;
    expected.accounts.get_mut(&COINBASE).unwrap().balance += tip;
    let (got, want) = (views(&state), views(&expected));
    if got != want {
        let diff: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
        let gone: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        panic!("{fork:?}: {:?} left changes: got {diff:?}, expected {gone:?}", out.status);
    }
});
