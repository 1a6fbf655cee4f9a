//! One generated state test per seed: a fork from Berlin to Osaka, a pre-state of 2–5 contracts
//! calling each other (plus EOAs, EIP-7702 delegated accounts, and accounts where the case's
//! CREATEs land: with code, with storage only (EIP-7610) or with a balance only), and one
//! transaction of any type the fork has, now and then one that must be rejected.
//!
//! The case is a state test in the EEST shape (`config` with the chain id, so a rejected
//! transaction leaves exactly the pre-state), with one post entry whose `hash` and `logs` are
//! placeholders: the verdict comes from the comparison with revm, not from an expectation.

use serde_json::{json, Map, Value};

use crate::code::{self, World, CANCUN, OSAKA, PRAGUE};
use crate::crypto::{self, create_address, key, KEYS};
use crate::rng::Rng;

/// The forks a case may run under, oldest first.
pub const FORKS: [&str; 7] = ["Berlin", "London", "Paris", "Shanghai", "Cancun", "Prague", "Osaka"];

/// The seed of case `index` of campaign `campaign`.
pub fn case_seed(campaign: u64, index: u64) -> u64 {
    let mut r = Rng::new(campaign.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next_u64()
}

/// The name of the generated test in its file.
pub fn test_name(seed: u64) -> String {
    format!("evmdiff_{seed:016x}")
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn num(bytes: &[u8]) -> String {
    let t = crypto::trim(bytes);
    if t.is_empty() {
        "0x00".to_string()
    } else {
        format!("0x{}", hex::encode(t))
    }
}

fn n(v: u64) -> String {
    format!("{v:#x}")
}

fn n128(v: u128) -> String {
    format!("{v:#x}")
}

fn contract_address(i: usize) -> [u8; 20] {
    let mut a = [0xcc; 20];
    a[18] = 0;
    a[19] = i as u8;
    a
}

const COINBASE: [u8; 20] = [
    0x2a, 0xdc, 0x25, 0x66, 0x50, 0x18, 0xaa, 0x1f, 0xe0, 0xe6, 0xbc, 0x66, 0x6d, 0xac, 0x8f, 0xc2, 0x69, 0x7f, 0xf9,
    0xba,
];

struct Pre(Map<String, Value>);

impl Pre {
    fn put(&mut self, a: &[u8; 20], balance: String, nonce: u64, code: &[u8], storage: Map<String, Value>) {
        self.0.insert(
            hex0x(a),
            json!({"balance": balance, "nonce": n(nonce), "code": hex0x(code), "storage": Value::Object(storage)}),
        );
    }

    fn has(&self, a: &[u8; 20]) -> bool {
        self.0.contains_key(&hex0x(a))
    }

    fn nonce(&self, a: &[u8; 20]) -> u64 {
        self.0
            .get(&hex0x(a))
            .and_then(|v| v["nonce"].as_str())
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0)
    }
}

fn storage(rng: &mut Rng) -> Map<String, Value> {
    let mut s = Map::new();
    for _ in 0..rng.below(4) {
        let k = rng.below(5);
        let v = match rng.below(4) {
            0 => 1,
            1 => 2,
            _ => rng.range(1, 1000),
        };
        s.insert(n(k), Value::String(n(v)));
    }
    s
}

/// The generated case of `seed`: `{"evmdiff_<seed>": {env, pre, transaction, post, config}}`.
pub fn case(seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let fork = rng.below(FORKS.len() as u64) as usize;
    let sender_key = rng.below(KEYS as u64) as usize;
    let (secret, sender) = *key(sender_key);
    let sender_nonce = *rng.pick(&[0u64, 0, 1, 2]);
    let contracts: Vec<[u8; 20]> = (0..rng.range(2, 5) as usize).map(contract_address).collect();
    let mut pre = Pre(Map::new());

    let contract_nonces: Vec<u64> = contracts.iter().map(|_| *rng.pick(&[0u64, 1, 1, 2])).collect();
    let mut others = vec![sender, [0xde; 20]];
    // The addresses of the contracts' first CREATEs and of a creating transaction.
    for (c, nonce) in contracts.iter().zip(&contract_nonces) {
        others.push(create_address(c, *nonce));
    }
    let tx_create_address = create_address(&sender, sender_nonce);
    others.push(tx_create_address);
    // Another key's account: an EOA, or (Prague+) delegated to a contract by EIP-7702.
    let other_key = (sender_key + 1 + rng.below(KEYS as u64 - 1) as usize) % KEYS;
    let other = key(other_key).1;
    others.push(other);
    let world = World { fork, contracts: contracts.clone(), others: others.clone() };

    for (i, c) in contracts.iter().enumerate() {
        let code = code::contract(&mut rng, &world);
        let balance = *rng.pick(&[0u64, 1, 1_000_000_000_000_000_000, 12345]);
        let st = storage(&mut rng);
        pre.put(c, n(balance), contract_nonces[i], &code, st);
    }
    // Accounts where CREATEs land: a collision (code or nonce), storage only (EIP-7610), or a balance.
    for target in others[2..].iter().take(contracts.len() + 1) {
        if pre.has(target) || !rng.chance(1, 3) {
            continue;
        }
        match rng.below(4) {
            0 => pre.put(target, n(0), 1, &[], Map::new()),
            1 => pre.put(target, n(0), 0, &[0x60, 0x00, 0x00], Map::new()),
            2 => {
                let mut s = Map::new();
                s.insert(n(rng.below(3)), Value::String(n(rng.range(1, 9))));
                pre.put(target, n(rng.below(2)), 0, &[], s)
            }
            _ => pre.put(target, n(rng.range(1, 100)), 0, &[], Map::new()),
        }
    }
    if !pre.has(&other) && rng.chance(3, 4) {
        let mut code = Vec::new();
        let mut nonce = rng.below(2);
        if fork >= PRAGUE && rng.chance(1, 2) {
            code = [&[0xef, 0x01, 0x00][..], &rng.pick(&contracts)[..]].concat();
            nonce = 1;
        }
        pre.put(&other, n(1_000_000_000_000_000_000), nonce, &code, Map::new());
    }

    // The block.
    let base_fee: u64 = *rng.pick(&[7u64, 10, 1000]);
    let mut block_gas_limit: u64 = 30_000_000;
    let excess_blob_gas: u64 = if rng.chance(3, 4) { 0 } else { rng.range(0, 5_000_000) };

    // The transaction.
    let max_type = match fork {
        0 => 1,
        1..=3 => 2,
        4 => 3,
        _ => 4,
    };
    let tx_type = rng.range(0, max_type) as u8;
    let create = tx_type <= 2 && rng.chance(1, 6);
    let to: Option<[u8; 20]> = if create {
        None
    } else {
        Some(match rng.below(10) {
            0..=6 => contracts[0],
            7 => *rng.pick(&contracts),
            8 => {
                let mut a = [0u8; 20];
                let p = *rng.pick(&code::precompiles(fork));
                a[18..].copy_from_slice(&p.to_be_bytes());
                a
            }
            _ => *rng.pick(&others),
        })
    };
    let data = if create {
        code::init_code(&mut rng, &world, 1)
    } else {
        let len = *rng.pick(&[0u64, 0, 4, 32, 36, 68, 100]) as usize;
        let mut d = rng.bytes(len);
        for b in d.iter_mut() {
            if rng.chance(1, 3) {
                *b = 0;
            }
        }
        d
    };
    let mut rejection = None;
    let mut gas_limit: u64 = match rng.below(80) {
        r @ (0 | 1) if r == 0 || fork < OSAKA => {
            rejection = Some("intrinsic gas");
            21_000 + rng.below(100)
        }
        1 if fork >= OSAKA => {
            rejection = Some("gas limit above the EIP-7825 cap");
            block_gas_limit = 45_000_000;
            (1 << 24) + 1
        }
        2 | 3 => {
            rejection = Some("gas limit above the block's");
            block_gas_limit = rng.range(21_000, 99_999);
            100_000
        }
        4..=12 => rng.range(21_000, 60_000),
        13..=75 => rng.range(100_000, 250_000),
        _ => rng.range(250_000, 600_000),
    };
    let value: Vec<u8> = match rng.below(60) {
        0..=29 => vec![0],
        30..=39 => vec![1],
        40..=49 => 1_000_000u64.to_be_bytes().to_vec(),
        50..=57 => rng.below(1 << 40).to_be_bytes().to_vec(),
        58 => {
            rejection = rejection.or(Some("value above the balance"));
            1_000_000_000_000_000_000_000u128.to_be_bytes().to_vec()
        }
        _ => {
            rejection = rejection.or(Some("fee arithmetic overflow"));
            vec![0xff; 32]
        }
    };
    let nonce: u64 = match rng.below(60) {
        0 => sender_nonce + 1,
        1 if sender_nonce > 0 => sender_nonce - 1,
        2 => u64::MAX,
        _ => sender_nonce,
    };
    let mut tx = Map::new();
    tx.insert("data".into(), json!([hex0x(&data)]));
    tx.insert("gasLimit".into(), json!([n(gas_limit)]));
    tx.insert("value".into(), json!([num(&value)]));
    tx.insert("nonce".into(), json!(n(nonce)));
    tx.insert("secretKey".into(), json!(hex0x(&secret)));
    tx.insert("sender".into(), json!(hex0x(&sender)));
    tx.insert("to".into(), json!(to.map_or(String::new(), |a| hex0x(&a))));
    let fee_base = if fork >= 1 { base_fee } else { 0 };
    let price = |rng: &mut Rng| -> u64 {
        match rng.below(40) {
            0 if fee_base > 0 => fee_base - 1,
            1..=20 => fee_base,
            _ => fee_base + rng.range(1, 20),
        }
    };
    let max_fee = price(&mut rng).max(if fork == 0 { 1 } else { 0 });
    if tx_type < 2 {
        tx.insert("gasPrice".into(), json!(n(max_fee)));
    } else {
        tx.insert("maxFeePerGas".into(), json!(n(max_fee)));
        let tip = match rng.below(30) {
            0 => max_fee + 1,
            1..=12 => 0,
            _ => rng.range(0, max_fee),
        };
        tx.insert("maxPriorityFeePerGas".into(), json!(n(tip)));
    }
    if tx_type >= 1 {
        let mut list = Vec::new();
        for _ in 0..rng.below(3) {
            let a = if rng.chance(3, 4) { *rng.pick(&contracts) } else { *rng.pick(&others) };
            let keys: Vec<String> = (0..rng.below(3))
                .map(|_| {
                    hex0x(&{
                        let mut k = [0u8; 32];
                        k[31] = rng.below(5) as u8;
                        k
                    })
                })
                .collect();
            list.push(json!({"address": hex0x(&a), "storageKeys": keys}));
        }
        tx.insert("accessLists".into(), json!([list]));
    }
    let mut blob_count = 0;
    if tx_type == 3 {
        blob_count = *rng.pick(&[0u64, 1, 1, 2, 3, 6, 7, 9, 10]);
        let hashes: Vec<String> = (0..blob_count)
            .map(|_| {
                let mut h = rng.word();
                h[0] = if rng.chance(1, 15) { 2 } else { 1 };
                hex0x(&h)
            })
            .collect();
        tx.insert("blobVersionedHashes".into(), json!(hashes));
        tx.insert("maxFeePerBlobGas".into(), json!(n(*rng.pick(&[0u64, 1, 2, 10, 1000]))));
    }
    if tx_type == 4 {
        let count = *rng.pick(&[0u64, 1, 1, 2, 3]);
        let mut auths = Vec::new();
        for _ in 0..count {
            let signer = rng.below(KEYS as u64) as usize;
            let authority = key(signer).1;
            let mut nonce = pre.nonce(&authority) + u64::from(authority == sender);
            if rng.chance(1, 6) {
                nonce += 1;
            }
            let chain_id = *rng.pick(&[0u64, 1, 1, 1, 2]);
            let target: [u8; 20] = match rng.below(6) {
                0 => [0; 20],
                1 => {
                    let mut a = [0u8; 20];
                    a[19] = rng.range(1, 0x11) as u8;
                    a
                }
                2 => *rng.pick(&others),
                _ => *rng.pick(&contracts),
            };
            let (mut parity, r, mut s) = crypto::sign_authorization(signer, chain_id, &target, nonce);
            match rng.below(15) {
                0 => parity = 2,
                1 => s = [0xff; 32],
                _ => {}
            }
            auths.push(json!({
                "chainId": n(chain_id), "address": hex0x(&target), "nonce": n(nonce),
                "v": n(parity as u64), "yParity": n(parity as u64), "r": num(&r), "s": num(&s),
                "signer": hex0x(&authority),
            }));
        }
        tx.insert("authorizationList".into(), json!(auths));
    }

    // Room for the intrinsic cost (calldata, creation, access list, authorizations), unless
    // the case is about too little gas.
    if rejection != Some("intrinsic gas") && gas_limit < (1 << 24) && block_gas_limit >= 30_000_000 {
        let auths = tx.get("authorizationList").and_then(Value::as_array).map_or(0, Vec::len) as u64;
        let listed = tx.get("accessLists").map_or(0, |l| l.to_string().matches("address").count()) as u64;
        gas_limit += 16 * data.len() as u64 + 25_000 * auths + 4_400 * listed + if create { 32_000 } else { 0 };
        tx.insert("gasLimit".into(), json!([n(gas_limit)]));
    }
    // The sender: rich, or short of what the transaction may cost.
    let gas_cost = gas_limit as u128 * max_fee as u128 + blob_count as u128 * 131_072 * 1000;
    let balance: String = if rejection.is_none() && rng.chance(1, 50) {
        n128(gas_cost.saturating_sub(1))
    } else {
        n128(*rng.pick(&[1_000_000_000_000_000_000u128, 100_000_000_000_000_000_000]))
    };
    let sender_code: Vec<u8> = if fork >= PRAGUE && rng.chance(1, 10) {
        [&[0xef, 0x01, 0x00][..], &rng.pick(&contracts)[..]].concat()
    } else if rng.chance(1, 80) {
        vec![0x00]
    } else {
        Vec::new()
    };
    pre.put(&sender, balance, sender_nonce, &sender_code, Map::new());

    let coinbase = match rng.below(10) {
        0 => contracts[1],
        1 => sender,
        _ => COINBASE,
    };
    let mut env = Map::new();
    env.insert("currentCoinbase".into(), json!(hex0x(&coinbase)));
    env.insert("currentNumber".into(), json!(n(rng.range(1, 300))));
    env.insert("currentTimestamp".into(), json!(n(1000)));
    env.insert("currentGasLimit".into(), json!(n(block_gas_limit)));
    env.insert("currentDifficulty".into(), json!(n(0x20000)));
    if fork >= 1 {
        env.insert("currentBaseFee".into(), json!(n(base_fee)));
    }
    if fork >= 2 {
        env.insert("currentRandom".into(), json!(hex0x(&rng.word())));
    }
    if fork >= CANCUN {
        env.insert("currentExcessBlobGas".into(), json!(n(excess_blob_gas)));
    }
    let zero = hex0x(&[0u8; 32]);
    let test = json!({
        "_info": {"comment": format!("conformance differential evm, case seed {seed:#018x}")},
        "config": {"chainid": "0x01"},
        "env": Value::Object(env),
        "pre": Value::Object(pre.0),
        "transaction": Value::Object(tx),
        "post": {FORKS[fork]: [{"hash": zero, "logs": zero, "indexes": {"data": 0, "gas": 0, "value": 0}}]},
    });
    let mut file = Map::new();
    file.insert(test_name(seed), test);
    Value::Object(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_case_and_always_the_same() {
        for seed in 0..50 {
            let a = case(seed);
            assert_eq!(a, case(seed));
            let test = &a[test_name(seed)];
            let forks: Vec<&String> = test["post"].as_object().unwrap().keys().collect();
            assert_eq!(forks.len(), 1);
            assert!(FORKS.contains(&forks[0].as_str()));
            assert!(test["pre"].as_object().unwrap().len() >= 3);
        }
        assert_ne!(case(1), case(2));
    }

    #[test]
    fn every_fork_and_transaction_type_comes_up() {
        let mut forks = std::collections::BTreeSet::new();
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..400 {
            let c = case(case_seed(9, seed));
            let t = c.as_object().unwrap().values().next().unwrap();
            forks.insert(t["post"].as_object().unwrap().keys().next().unwrap().clone());
            let tx = &t["transaction"];
            let kind = if tx.get("authorizationList").is_some() {
                4
            } else if tx.get("blobVersionedHashes").is_some() {
                3
            } else if tx.get("maxFeePerGas").is_some() {
                2
            } else if tx.get("accessLists").is_some() {
                1
            } else {
                0
            };
            kinds.insert(kind);
        }
        assert_eq!(forks.len(), FORKS.len());
        assert_eq!(kinds.len(), 5);
    }
}
