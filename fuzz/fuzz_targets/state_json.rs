//! The state-test JSON loader (ethereum/tests GeneralStateTests and EEST fixtures): the
//! runner's own `model.rs` (compiled in by path; the runner has no library target) parses the
//! bytes as one vector file, and every number, hex string and address it holds is converted the
//! way the case builder does. Must hold: no panic, and a number's u64 and u256 readings agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../runner/src/suites/state/model.rs"]
#[allow(dead_code)]
mod model;

use ee_api::U256;
use model::{Num, PreAccount, StateFile, StateTest};

/// The u64 and u256 readings of one number agree: u64 succeeds exactly when the u256 fits.
fn num(n: &Num) {
    let wide = n.to_u256();
    let narrow = n.to_u64();
    match (&wide, &narrow) {
        (Ok(w), Ok(v)) => assert_eq!(*w, U256::from(*v), "{n:?}: u64 and u256 readings differ"),
        (Ok(w), Err(_)) => assert!(*w > U256::from(u64::MAX), "{n:?}: fits u64 but its u64 reading failed"),
        (Err(_), Ok(v)) => panic!("{n:?}: u64 reading {v} without a u256 reading"),
        (Err(_), Err(_)) => {}
    }
    let _ = model::decode_hex(&n.0);
}

fn opt(n: &Option<Num>) {
    if let Some(n) = n {
        num(n);
    }
}

fn account(a: &PreAccount) {
    num(&a.balance);
    num(&a.nonce);
    for (k, v) in &a.storage {
        num(k);
        num(v);
    }
}

fn test(t: &StateTest) {
    let format = t.format();
    let eest = t.config.is_some() || t.post.values().flatten().any(|e| e.state.is_some());
    assert_eq!(format == model::Format::Eest, eest);
    let e = &t.env;
    for n in [&e.current_number, &e.current_timestamp, &e.current_gas_limit] {
        num(n);
    }
    opt(&e.current_base_fee);
    opt(&e.current_difficulty);
    opt(&e.current_excess_blob_gas);
    if let Some(c) = &t.config {
        opt(&c.chainid);
        for p in c.blob_schedule.iter().flat_map(|s| s.values()) {
            num(&p.target);
            num(&p.max);
            num(&p.base_fee_update_fraction);
        }
    }
    t.pre.values().for_each(account);
    let tx = &t.transaction;
    tx.gas_limit.iter().chain(&tx.value).for_each(num);
    num(&tx.nonce);
    for n in [&tx.gas_price, &tx.max_fee_per_gas, &tx.max_priority_fee_per_gas, &tx.max_fee_per_blob_gas] {
        opt(n);
    }
    for a in tx.authorization_list.iter().flatten() {
        num(&a.chain_id);
        num(&a.nonce);
        num(&a.r);
        num(&a.s);
        opt(&a.y_parity);
        opt(&a.v);
    }
    for entry in t.post.values().flatten() {
        // An index out of range is the case builder's error to report, never a panic here.
        let _ = tx.data.get(entry.indexes.data);
        entry.state.iter().flat_map(|s| s.values()).for_each(account);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    if let Ok(file) = serde_json::from_slice::<StateFile>(data) {
        file.values().for_each(test);
    }
});
