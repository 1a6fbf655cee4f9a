//! What a state-test case starts from, as both our run and a reference run take it:
//! the pre-state, the sender, the block and the transaction built from the vector.
//!
//! Free of the harness's reporting and scheduling (it needs only `model` and
//! `exceptions`), so the EVM benchmark (`runner/benches/evm_vs_revm.rs`) compiles it in
//! by path and runs exactly the transaction the state suite runs.

use std::sync::Arc;
#[cfg(feature = "reference-revm")]
use std::time::Instant;

use bootloader::{blob_base_fee, Account, Transaction, WorldState};
use ee_api::{Address, BlobSchedule, BlockEnv, Bytecode, Fork, U256};

use super::exceptions::Field;
#[cfg(feature = "reference-revm")]
use super::model::PostEntry;
use super::model::{Config, Env, Format, Indexes, NumError, StateTest, TxTemplate};

/// What the test provides to all its cases, built once and shared read-only.
pub struct Prepared {
    pub pre: Result<Arc<WorldState>, String>,
    pub sender: Result<Address, String>,
    /// ethereum/tests v13.3 or EEST conventions ([`StateTest::format`]).
    pub format: Format,
}

impl Prepared {
    pub fn new(test: &StateTest) -> Prepared {
        Prepared {
            pre: build_pre_state(test).map(Arc::new),
            sender: sender_of(&test.transaction),
            format: test.format(),
        }
    }
}

pub(super) fn build_pre_state(test: &StateTest) -> Result<WorldState, String> {
    let mut state = WorldState::new();
    for (addr, acc) in &test.pre {
        let err = |what: &str, e: NumError| format!("pre-state {what} of {}: {e}", addr.0);
        let mut storage = bootloader::Map::default();
        for (k, v) in &acc.storage {
            let v = v.to_u256().map_err(|e| err("storage value", e))?;
            if !v.is_zero() {
                storage.insert(k.to_u256().map_err(|e| err("storage key", e))?, v);
            }
        }
        let account = Account {
            balance: acc.balance.to_u256().map_err(|e| err("balance", e))?,
            nonce: acc.nonce.to_u64().map_err(|e| err("nonce", e))?,
            code: Arc::new(Bytecode::new(Arc::from(acc.code.0.as_slice()))),
            storage,
        };
        state.insert_account(addr.0, account);
    }
    Ok(state)
}

/// The `sender` field, or the address of `secretKey` when it is absent.
pub(super) fn sender_of(tx: &TxTemplate) -> Result<Address, String> {
    match (&tx.sender, &tx.secret_key) {
        (Some(a), _) => Ok(a.0),
        (None, Some(key)) => address_of_secret(&key.0 .0),
        (None, None) => Err("transaction has neither sender nor secretKey".to_string()),
    }
}

/// The Ethereum address of a secp256k1 secret key: the last 20 bytes of the
/// keccak256 of the uncompressed public key without its 0x04 prefix.
pub fn address_of_secret(key: &[u8; 32]) -> Result<Address, String> {
    let sk = k256::ecdsa::SigningKey::from_slice(key).map_err(|e| format!("invalid secretKey: {e}"))?;
    let point = sk.verifying_key().to_encoded_point(false);
    let hash = ee_api::B256::keccak(&point.as_bytes()[1..]).0;
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash[12..]);
    Ok(Address(a))
}

/// 4 with an authorization list (even empty), 3 with blob hashes, 2 with a
/// fee cap, 1 with an access list for this data index, else legacy.
pub fn tx_type(tx: &TxTemplate, data_index: usize) -> u8 {
    if tx.authorization_list.is_some() {
        4
    } else if tx.blob_versioned_hashes.is_some() {
        3
    } else if tx.max_fee_per_gas.is_some() {
        2
    } else if tx.access_lists.as_ref().and_then(|l| l.get(data_index)).is_some_and(Option::is_some) {
        1
    } else {
        0
    }
}

/// Why a case's transaction could not be built.
#[derive(Debug, PartialEq, Eq)]
pub enum BuildError {
    /// A value of `field` cannot be encoded (above 2^256): no valid
    /// transaction exists, so it counts as rejected, for [`Reason::Unencodable`].
    Unencodable(Field, String),
    /// The vector itself is inconsistent (index out of range, missing field).
    BadVector(String),
}

/// The transaction of one case.
pub fn build_transaction(tx: &TxTemplate, idx: &Indexes, sender: Address) -> Result<Transaction, BuildError> {
    fn pick<'a, T>(list: &'a [T], i: usize, what: &str) -> Result<&'a T, BuildError> {
        list.get(i).ok_or_else(|| BuildError::BadVector(format!("{what} index {i} out of range ({})", list.len())))
    }
    let num = |n: &super::model::Num, field: Field| {
        n.to_u256().map_err(|e| BuildError::Unencodable(field, format!("transaction {}: {e}", field.name())))
    };
    let opt = |n: &Option<super::model::Num>, field: Field| n.as_ref().map(|n| num(n, field)).transpose();
    let tx_type = tx_type(tx, idx.data);
    let data = pick(&tx.data, idx.data, "data")?;
    let gas_limit = num(pick(&tx.gas_limit, idx.gas, "gasLimit")?, Field::GasLimit)?;
    let value = num(pick(&tx.value, idx.value, "value")?, Field::Value)?;
    let access_list = match (tx_type, &tx.access_lists) {
        (1.., Some(lists)) => lists
            .get(idx.data)
            .and_then(Option::as_ref)
            .map(|items| items.iter().map(|i| (i.address.0, i.storage_keys.iter().map(|k| k.0).collect())).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let gas_price = opt(&tx.gas_price, Field::GasPrice)?;
    if tx_type < 2 && gas_price.is_none() {
        return Err(BuildError::BadVector("legacy transaction without gasPrice".into()));
    }
    Ok(Transaction {
        tx_type,
        sender,
        to: tx.to.map(|a| a.0),
        nonce: num(&tx.nonce, Field::Nonce)?,
        gas_limit,
        gas_price: if tx_type < 2 { gas_price } else { None },
        max_fee_per_gas: opt(&tx.max_fee_per_gas, Field::MaxFeePerGas)?,
        max_priority_fee_per_gas: opt(&tx.max_priority_fee_per_gas, Field::MaxPriorityFeePerGas)?,
        value,
        data: Arc::from(data.0.as_slice()),
        access_list,
        blob_hashes: tx.blob_versioned_hashes.iter().flatten().map(|h| h.0).collect(),
        max_fee_per_blob_gas: opt(&tx.max_fee_per_blob_gas, Field::MaxFeePerBlobGas)?,
        authorization_list: authorizations(tx)?,
        factory_deps: Vec::new(),
    })
}

/// The EIP-7702 authorization list: `yParity`, else `v`, as the signature's parity. A value above
/// 2^256 cannot be encoded, so the transaction counts as rejected; anything that fits is passed on
/// for the bootloader to judge (it skips invalid tuples, as the EIP says).
fn authorizations(tx: &TxTemplate) -> Result<Vec<bootloader::Authorization>, BuildError> {
    let Some(list) = &tx.authorization_list else { return Ok(Vec::new()) };
    let field = Field::AuthorizationList;
    let num = |i: usize, n: &super::model::Num, what: &str| {
        n.to_u256().map_err(|e| BuildError::Unencodable(field, format!("authorizationList[{i}].{what}: {e}")))
    };
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let parity = match (&a.y_parity, &a.v) {
                (Some(p), _) => num(i, p, "yParity")?,
                (None, Some(v)) => num(i, v, "v")?,
                (None, None) => {
                    return Err(BuildError::BadVector(format!("authorizationList[{i}] has neither yParity nor v")))
                }
            };
            Ok(bootloader::Authorization {
                chain_id: num(i, &a.chain_id, "chainId")?,
                address: a.address.0,
                nonce: num(i, &a.nonce, "nonce")?,
                y_parity: parity,
                r: num(i, &a.r, "r")?,
                s: num(i, &a.s, "s")?,
            })
        })
        .collect()
}

/// The blob parameters of `fork` from an EEST `config.blobSchedule`, when it lists the fork.
pub fn blob_schedule(config: Option<&Config>, fork: Fork) -> Result<Option<BlobSchedule>, String> {
    let Some(schedule) = config.and_then(|c| c.blob_schedule.as_ref()) else { return Ok(None) };
    let Some((name, p)) = schedule.iter().find(|(name, _)| Fork::from_name(name) == Some(fork)) else {
        return Ok(None);
    };
    let num =
        |n: &super::model::Num, what: &str| n.to_u64().map_err(|e| format!("config.blobSchedule.{name}.{what}: {e}"));
    Ok(Some(BlobSchedule {
        target: num(&p.target, "target")?,
        max: num(&p.max, "max")?,
        base_fee_update_fraction: num(&p.base_fee_update_fraction, "baseFeeUpdateFraction")?,
    }))
}

/// The block of a case. Absent base fee, difficulty and excess blob gas
/// (vectors for forks before they existed) are zero. Chain id and blob
/// parameters come from an EEST `config` when it gives them, else chain id 1
/// and the fork's blob defaults.
pub fn block_env(env: &Env, config: Option<&Config>, fork: Fork) -> Result<BlockEnv, String> {
    let num = |n: &super::model::Num, what: &str| n.to_u256().map_err(|e| format!("env {what}: {e}"));
    let opt = |n: &Option<super::model::Num>, what: &str| n.as_ref().map_or(Ok(U256::ZERO), |n| num(n, what));
    let excess = match &env.current_excess_blob_gas {
        Some(n) => n.to_u64().map_err(|e| format!("env currentExcessBlobGas: {e}"))?,
        None => 0,
    };
    let schedule = blob_schedule(config, fork)?;
    let fraction = schedule.or_else(|| BlobSchedule::of(fork)).map_or(1, |b| b.base_fee_update_fraction);
    if fraction == 0 {
        return Err("config.blobSchedule: baseFeeUpdateFraction is 0".to_string());
    }
    let chain_id = match config.and_then(|c| c.chainid.as_ref()) {
        Some(n) => num(n, "config.chainid")?,
        None => U256::from(1),
    };
    Ok(BlockEnv {
        number: num(&env.current_number, "currentNumber")?,
        coinbase: env.current_coinbase.0,
        timestamp: num(&env.current_timestamp, "currentTimestamp")?,
        gas_limit: num(&env.current_gas_limit, "currentGasLimit")?,
        base_fee: opt(&env.current_base_fee, "currentBaseFee")?,
        difficulty: opt(&env.current_difficulty, "currentDifficulty")?,
        prevrandao: if fork.is_at_least(Fork::Paris) { env.current_random.map(|h| h.0) } else { None },
        blob_base_fee: blob_base_fee(excess, fraction),
        chain_id,
        blob_schedule: schedule,
    })
}

/// The block's zero-value reward to the coinbase, which the vectors' filler
/// applies after the transaction whether or not it was included: before
/// EIP-158 (Spurious Dragon) it creates the coinbase account if absent;
/// from EIP-158 on it touches it, so an empty coinbase is removed. This is a
/// block step of the state-test procedure, not part of the transaction.
pub fn touch_coinbase(state: &mut WorldState, coinbase: Address, fork: Fork) {
    if fork.is_at_least(Fork::SpuriousDragon) {
        if state.get(&coinbase).is_some_and(Account::is_empty) {
            state.accounts.remove(&coinbase);
        }
    } else {
        state.accounts.entry(coinbase).or_default();
    }
}

/// Everything a run starts from, shared by both sides.
#[cfg(feature = "reference-revm")]
pub struct Inputs<'a> {
    pub pre: &'a WorldState,
    pub block: BlockEnv,
    pub tx: Transaction,
    pub fork: Fork,
    /// The vector's `currentExcessBlobGas`: revm derives the blob base fee itself.
    pub excess_blob_gas: u64,
    pub deadline: Option<Instant>,
    /// Whether a rejected transaction still gets the coinbase touch (v13.3) or not (EEST).
    pub format: Format,
}

#[cfg(feature = "reference-revm")]
impl Inputs<'_> {
    /// The state-test procedure's step after the transaction, on either side's post-state:
    /// the coinbase touch, except after a rejection in an EEST vector (see `case::execute`).
    pub fn after(&self, state: &mut WorldState, included: bool) {
        if included || self.format == Format::EthereumTests {
            touch_coinbase(state, self.block.coinbase, self.fork);
        }
    }
}

/// The case's inputs as both sides take them.
#[cfg(feature = "reference-revm")]
pub fn inputs<'a>(
    test: &StateTest,
    prep: &'a Prepared,
    entry: &PostEntry,
    fork: Fork,
    deadline: Option<Instant>,
) -> Result<Inputs<'a>, String> {
    let pre = prep.pre.as_deref().map_err(|e| format!("bad vector: {e}"))?;
    let sender = prep.sender.clone().map_err(|e| format!("bad vector: {e}"))?;
    let block = block_env(&test.env, test.config.as_ref(), fork).map_err(|e| format!("bad vector: {e}"))?;
    let tx = match build_transaction(&test.transaction, &entry.indexes, sender) {
        Ok(tx) => tx,
        Err(BuildError::BadVector(e)) => return Err(format!("bad vector: {e}")),
        Err(BuildError::Unencodable(_, e)) => return Err(format!("the transaction cannot be encoded ({e})")),
    };
    let excess_blob_gas = test.env.current_excess_blob_gas.as_ref().and_then(|n| n.to_u64().ok()).unwrap_or(0);
    Ok(Inputs { pre, block, tx, fork, excess_blob_gas, deadline, format: prep.format })
}
