//! A state-test case as revm 43 takes it (configuration, block, transaction, pre-state) and
//! revm's post-state as our `WorldState`, the way revme runs state tests.
//!
//! Shared by `--reference` (reference.rs) and the EVM benchmark
//! (`runner/benches/evm_vs_revm.rs`, which compiles it in by path), so both drive revm alike.

use std::sync::Arc;

use bootloader::{Account, Transaction, WorldState};
use ee_api::{Address, Bytecode, Fork, B256, U256};
use revm::bytecode::Bytecode as RevmBytecode;
use revm::context::{block::BlockEnv as RevmBlockEnv, cfg::CfgEnv, tx::TxEnv};
use revm::context_interface::transaction::{AccessList, AccessListItem, Authorization, SignedAuthorization};
use revm::database::{CacheState, State};
use revm::primitives::{hardfork::SpecId, TxKind, KECCAK_EMPTY};
use revm::state::AccountInfo;

use super::inputs::Inputs;

/// revm's spec for our fork; `None` for Constantinople, which revm does not implement.
pub fn spec_id(fork: Fork) -> Option<SpecId> {
    Some(match fork {
        Fork::Frontier => SpecId::FRONTIER,
        Fork::Homestead => SpecId::HOMESTEAD,
        Fork::Tangerine => SpecId::TANGERINE,
        Fork::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
        Fork::Byzantium => SpecId::BYZANTIUM,
        Fork::Constantinople => return None,
        Fork::Petersburg => SpecId::PETERSBURG,
        Fork::Istanbul => SpecId::ISTANBUL,
        Fork::Berlin => SpecId::BERLIN,
        Fork::London => SpecId::LONDON,
        Fork::Paris => SpecId::MERGE,
        Fork::Shanghai => SpecId::SHANGHAI,
        Fork::Cancun => SpecId::CANCUN,
        Fork::Prague => SpecId::PRAGUE,
        Fork::Osaka => SpecId::OSAKA,
    })
}

pub fn revm_address(a: Address) -> revm::primitives::Address {
    revm::primitives::Address::from(a.0)
}

pub fn revm_b256(h: B256) -> revm::primitives::B256 {
    revm::primitives::B256::from(h.0)
}

/// Values above revm's field widths saturate: such a transaction fails validation
/// on both sides (fee or gas above any balance or block limit).
fn saturate_u128(v: U256) -> u128 {
    v.saturating_to()
}

/// The configuration revme uses for state tests: mainnet gas parameters, the block's chain id
/// (1, or an EEST `config.chainid`), and its blob parameters: per transaction, 6 from Osaka on
/// (EIP-7594), else the block's maximum (6 in Cancun, 9 from Prague on, or the vector's
/// `config.blobSchedule`), whose update fraction also prices blob gas.
pub fn revm_cfg(spec: SpecId, inp: &Inputs<'_>) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(spec);
    cfg.chain_id = inp.block.chain_id.saturating_to();
    let schedule = inp.block.blob_schedule(inp.fork);
    let per_block = schedule.map_or(6, |s| s.max);
    cfg.set_max_blobs_per_tx(if inp.fork >= Fork::Osaka { per_block.min(6) } else { per_block });
    if let Some(s) = inp.block.blob_schedule {
        cfg.blob_base_fee_update_fraction = Some(s.base_fee_update_fraction);
    }
    cfg
}

pub fn revm_block(inp: &Inputs<'_>, cfg: &CfgEnv) -> RevmBlockEnv {
    let b = &inp.block;
    let mut block = RevmBlockEnv {
        number: b.number,
        beneficiary: revm_address(b.coinbase),
        timestamp: b.timestamp,
        gas_limit: b.gas_limit.saturating_to(),
        basefee: b.base_fee.saturating_to(),
        difficulty: b.difficulty,
        prevrandao: b.prevrandao.map(revm_b256),
        ..RevmBlockEnv::default()
    };
    block.set_blob_excess_gas_and_price(inp.excess_blob_gas, cfg.blob_base_fee_update_fraction());
    if cfg.spec.is_enabled_in(SpecId::MERGE) && block.prevrandao.is_none() {
        block.prevrandao = Some(revm::primitives::B256::ZERO);
    }
    block
}

/// An EIP-7702 authorization as revm takes it. Values revm cannot hold (a nonce of 2^64 or more,
/// a parity above 255) make the tuple invalid in either EVM, so they become a parity revm
/// rejects at recovery: the tuple still counts (and costs) in the list, and is skipped.
fn revm_authorization(a: &bootloader::Authorization) -> SignedAuthorization {
    const INVALID_PARITY: u8 = u8::MAX;
    let (nonce, parity) = match (u64::try_from(a.nonce), u8::try_from(a.y_parity)) {
        (Ok(n), Ok(p)) => (n, p),
        _ => (0, INVALID_PARITY),
    };
    let inner = Authorization { chain_id: a.chain_id, address: revm_address(a.address), nonce };
    SignedAuthorization::new_unchecked(inner, parity, a.r, a.s)
}

/// The transaction as revm takes it, or why revm cannot take it (its rejection).
pub fn revm_tx(tx: &Transaction, chain_id: u64) -> Result<TxEnv, String> {
    let nonce = u64::try_from(tx.nonce).map_err(|_| "nonce does not fit in 64 bits".to_string())?;
    if tx.tx_type == 3 && tx.to.is_none() {
        // revme cannot build one either: EIP-4844 has no contract-creating form.
        return Err("a blob transaction needs a recipient".to_string());
    }
    let dynamic_fee = tx.tx_type >= 2;
    let gas_price = if dynamic_fee { tx.max_fee_per_gas } else { tx.gas_price };
    let access_list = tx
        .access_list
        .iter()
        .map(|(address, keys)| AccessListItem {
            address: revm_address(*address),
            storage_keys: keys.iter().copied().map(revm_b256).collect(),
        })
        .collect();
    let mut env = TxEnv {
        tx_type: tx.tx_type,
        caller: revm_address(tx.sender),
        gas_limit: tx.gas_limit.saturating_to(),
        gas_price: gas_price.map_or(0, saturate_u128),
        kind: tx.to.map_or(TxKind::Create, |to| TxKind::Call(revm_address(to))),
        value: tx.value,
        data: revm::primitives::Bytes::copy_from_slice(&tx.data),
        nonce,
        chain_id: Some(chain_id),
        access_list: AccessList(access_list),
        gas_priority_fee: if dynamic_fee { tx.max_priority_fee_per_gas.map(saturate_u128) } else { None },
        blob_hashes: tx.blob_hashes.iter().copied().map(revm_b256).collect(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas.map_or(u128::MAX, saturate_u128),
        ..TxEnv::default()
    };
    env.set_signed_authorization(tx.authorization_list.iter().map(revm_authorization).collect());
    Ok(env)
}

/// revm's cache holding the pre-state, every account loaded as it is. From Prague an EIP-7702
/// delegation designator is revm's `Eip7702` bytecode (as revme loads it), so revm follows it and
/// lets a delegated sender send; before Prague, and for any other code, the bytes are legacy code.
pub fn revm_pre_state(pre: &WorldState, fork: Fork) -> CacheState {
    let mut cache = CacheState::new();
    for (address, a) in &pre.accounts {
        let bytes = revm::primitives::Bytes::copy_from_slice(&a.code.bytes);
        let code = match fork >= Fork::Prague {
            true => RevmBytecode::new_raw_checked(bytes.clone()).unwrap_or_else(|_| RevmBytecode::new_legacy(bytes)),
            false => RevmBytecode::new_legacy(bytes),
        };
        let code_hash = code.hash_slow();
        cache.contracts.insert(code_hash, code.clone());
        let info =
            AccountInfo { balance: a.balance, nonce: a.nonce, code_hash, code: Some(code), ..Default::default() };
        let storage = a.storage.iter().map(|(k, v)| (*k, *v)).collect();
        cache.insert_account_with_storage(revm_address(*address), info, storage);
    }
    cache
}

/// Every account revm's cache holds as existing (as revme computes its state root), as our
/// `WorldState`; `Err` names an account whose code the cache lacks.
pub fn revm_world(db: &State<revm::database::EmptyDB>) -> Result<WorldState, String> {
    let mut world = WorldState::new();
    for (address, plain) in db.cache.trie_account() {
        let info = &plain.info;
        let code: &[u8] = match &info.code {
            _ if info.code_hash == KECCAK_EMPTY => &[],
            Some(code) => code.original_byte_slice(),
            None => match db.cache.contracts.get(&info.code_hash) {
                Some(code) => code.original_byte_slice(),
                None => return Err(format!("revm's post-state lacks the code of {address} ({})", info.code_hash)),
            },
        };
        let account = Account {
            balance: info.balance,
            nonce: info.nonce,
            code: Arc::new(Bytecode::new(Arc::from(code))),
            storage: plain.storage.iter().map(|(k, v)| (*k, *v)).collect(),
        };
        world.insert_account(Address(address.into()), account);
    }
    Ok(world)
}

/// A log of revm's result as ours.
pub fn revm_log(l: &revm::primitives::Log) -> ee_api::Log {
    ee_api::Log {
        address: Address(l.address.into()),
        topics: l.data.topics().iter().map(|t| B256(t.0)).collect(),
        data: l.data.data.to_vec().into(),
    }
}
