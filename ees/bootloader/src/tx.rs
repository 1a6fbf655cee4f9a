//! Transaction processing: validation, intrinsic gas, fees, refunds.

use std::time::Instant;

use ee_api::{Address, BlockEnv, Bytes, EeKind, ExitStatus, Fork, Log, B256, U256};

use ee_api::{CallInput, CallModifier, CallRequest, CreateScheme, DeploymentRequest, HaltReason, Tracer, TxEnd, TxEnv};

use crate::exec::{run, Context, TopLevel};
use crate::set_code;
use crate::state::JournaledState;
use crate::WorldState;
pub use ee_wasm::WasmEe;

/// A transaction as the state tests give it: the sender is known, no signature is checked.
#[derive(Clone, Debug, Default)]
pub struct Transaction {
    /// 0 legacy, 1 access list (EIP-2930), 2 dynamic fee (EIP-1559), 3 blob (EIP-4844),
    /// 4 set code (EIP-7702).
    pub tx_type: u8,
    pub sender: Address,
    /// `None` creates a contract.
    pub to: Option<Address>,
    pub nonce: U256,
    pub gas_limit: U256,
    /// Legacy and access-list transactions.
    pub gas_price: Option<U256>,
    pub max_fee_per_gas: Option<U256>,
    pub max_priority_fee_per_gas: Option<U256>,
    pub value: U256,
    pub data: Bytes,
    pub access_list: Vec<(Address, Vec<B256>)>,
    pub blob_hashes: Vec<B256>,
    pub max_fee_per_blob_gas: Option<U256>,
    /// EIP-7702 authorizations (type 4), in order.
    pub authorization_list: Vec<Authorization>,
    /// Raw EraVM bytecode published with the transaction (Era's factory deps), which EraVM
    /// deployments in it may name by versioned hash. Not part of any Ethereum transaction.
    pub factory_deps: Vec<Bytes>,
}

/// One EIP-7702 authorization tuple `[chain_id, address, nonce, y_parity, r, s]`, as signed by
/// its authority. The authority is recovered from the signature when the transaction runs;
/// fields are kept at full width because a vector may hold out-of-range values on purpose
/// (such a tuple is skipped, not an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorization {
    pub chain_id: U256,
    pub address: Address,
    pub nonce: U256,
    pub y_parity: U256,
    pub r: U256,
    pub s: U256,
}

/// Bounds on one transaction's execution.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecutionLimits {
    /// Past this instant the running frame is interrupted and the transaction fails.
    pub deadline: Option<Instant>,
}

/// What an included transaction did.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub status: ExitStatus,
    pub gas_used: u64,
    pub logs: Vec<Log>,
    pub output: Bytes,
    /// Address of the created contract, for a successful creation.
    pub created: Option<Address>,
}

/// Why a transaction is invalid and cannot be included (the state is left unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    NonceMismatch {
        expected: u64,
        got: U256,
    },
    NonceMax,
    SenderNotEoa,
    InsufficientFunds,
    IntrinsicGasTooLow {
        intrinsic: u64,
        limit: U256,
    },
    GasLimitAboveBlock,
    GasLimitTooHigh,
    FeeCapBelowBaseFee,
    PriorityFeeAboveFeeCap,
    FeeTooHigh,
    InitCodeTooLarge,
    TypeNotSupported(u8),
    BlobGasPriceTooLow,
    NoBlobs,
    TooManyBlobs,
    InvalidBlobVersion,
    BlobCreate,
    /// More blobs than one transaction may carry (EIP-7594: 6 from Osaka on).
    TooManyBlobsInTx,
    /// Gas limit above the EIP-7825 cap (2^24 from Osaka on).
    GasLimitAboveCap,
    /// Gas limit below the EIP-7623 calldata floor.
    IntrinsicGasBelowFloor {
        floor: u64,
        limit: U256,
    },
    /// A type-4 transaction with no authorizations (EIP-7702).
    EmptyAuthorizationList,
    /// A type-4 transaction cannot create a contract (EIP-7702).
    SetCodeCreate,
    /// The time bound ran out while the transaction ran.
    Interrupted,
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxError::NonceMismatch { expected, got } => {
                write!(f, "nonce mismatch: account has {expected}, tx has {got}")
            }
            TxError::NonceMax => f.write_str("sender nonce is at its maximum"),
            TxError::SenderNotEoa => f.write_str("sender has code (EIP-3607)"),
            TxError::InsufficientFunds => f.write_str("insufficient funds for gas * price + value"),
            TxError::IntrinsicGasTooLow { intrinsic, limit } => {
                write!(f, "intrinsic gas {intrinsic} above gas limit {limit}")
            }
            TxError::GasLimitAboveBlock => f.write_str("gas limit above block gas limit"),
            TxError::GasLimitTooHigh => f.write_str("gas limit above 2^64-1"),
            TxError::FeeCapBelowBaseFee => f.write_str("max fee per gas below base fee"),
            TxError::PriorityFeeAboveFeeCap => f.write_str("max priority fee above max fee"),
            TxError::FeeTooHigh => f.write_str("fee arithmetic overflows 256 bits"),
            TxError::InitCodeTooLarge => f.write_str("init code above 49152 bytes (EIP-3860)"),
            TxError::TypeNotSupported(t) => write!(f, "transaction type {t} not supported by this fork"),
            TxError::BlobGasPriceTooLow => f.write_str("max fee per blob gas below blob base fee"),
            TxError::NoBlobs => f.write_str("blob transaction without blobs"),
            TxError::TooManyBlobs => f.write_str("too many blobs"),
            TxError::InvalidBlobVersion => f.write_str("blob versioned hash with a version other than 0x01"),
            TxError::BlobCreate => f.write_str("blob transaction cannot create a contract"),
            TxError::TooManyBlobsInTx => f.write_str("more blobs than a transaction may carry (EIP-7594)"),
            TxError::GasLimitAboveCap => f.write_str("gas limit above the 2^24 transaction cap (EIP-7825)"),
            TxError::IntrinsicGasBelowFloor { floor, limit } => {
                write!(f, "gas limit {limit} below the calldata floor {floor} (EIP-7623)")
            }
            TxError::EmptyAuthorizationList => f.write_str("set-code transaction with no authorizations"),
            TxError::SetCodeCreate => f.write_str("set-code transaction cannot create a contract"),
            TxError::Interrupted => f.write_str("interrupted: per-case time bound"),
        }
    }
}

impl std::error::Error for TxError {}

/// EIP-4844 blob base fee from the block's excess blob gas and the schedule's
/// update fraction (3338477 in Cancun, 5007716 from Prague on: EIP-7691).
pub fn blob_base_fee(excess_blob_gas: u64, update_fraction: u64) -> U256 {
    fake_exponential(1, excess_blob_gas as u128, update_fraction as u128)
}

/// The EIP-4844 integer approximation of `factor * e^(numerator / denominator)`.
fn fake_exponential(factor: u128, numerator: u128, denominator: u128) -> U256 {
    let (factor, numerator, denominator) = (U256::from(factor), U256::from(numerator), U256::from(denominator));
    let mut i = U256::from(1);
    let mut output = U256::ZERO;
    let mut accum = factor * denominator;
    while !accum.is_zero() {
        output += accum;
        accum = accum * numerator / (denominator * i);
        i += U256::from(1);
    }
    output / denominator
}

/// Gas a transaction pays before any code runs.
pub fn intrinsic_gas(tx: &Transaction, fork: Fork) -> u64 {
    let mut gas: u64 = TX_BASE_COST;
    let nonzero_cost = if fork >= Fork::Istanbul { 16 } else { 68 };
    for b in tx.data.iter() {
        gas += if *b == 0 { 4 } else { nonzero_cost };
    }
    if tx.to.is_none() {
        if fork >= Fork::Homestead {
            gas += 32_000;
        }
        if fork >= Fork::Shanghai {
            gas += 2 * (tx.data.len() as u64).div_ceil(32);
        }
    }
    for (_, keys) in &tx.access_list {
        gas += 2_400 + 1_900 * keys.len() as u64;
    }
    gas + set_code::PER_EMPTY_ACCOUNT_COST * tx.authorization_list.len() as u64
}

/// EIP-7623 (Prague): the least gas a transaction pays, whatever its execution refunds:
/// `TX_BASE_COST + TOTAL_COST_FLOOR_PER_TOKEN * tokens`, where a zero byte of calldata is one
/// token and any other byte four. Zero before Prague.
fn calldata_floor(tx: &Transaction, fork: Fork) -> u64 {
    const TOTAL_COST_FLOOR_PER_TOKEN: u64 = 10;
    if fork < Fork::Prague {
        return 0;
    }
    let nonzero = tx.data.iter().filter(|b| **b != 0).count() as u64;
    let tokens = tx.data.len() as u64 + 3 * nonzero;
    TX_BASE_COST + TOTAL_COST_FLOOR_PER_TOKEN * tokens
}

const TX_BASE_COST: u64 = 21_000;
/// Gas per blob (EIP-4844).
const GAS_PER_BLOB: u64 = 131_072;
/// EIP-7594 (Osaka): blobs one transaction may carry.
const MAX_BLOBS_PER_TX: usize = 6;
/// EIP-7825 (Osaka): the most gas one transaction may ask for, 2^24.
const TX_GAS_LIMIT_CAP: u64 = 1 << 24;

/// Prices the transaction settled on before execution.
struct Pricing {
    gas_limit: u64,
    /// Price per gas paid by the sender.
    effective_gas_price: U256,
    /// Price per gas the coinbase receives.
    priority_fee: U256,
    /// What the sender is charged up front (gas and blob gas).
    upfront_cost: U256,
    intrinsic: u64,
    floor: u64,
}

/// Every check that decides whether the transaction can be included at all.
///
/// The checks run in the order of the execution specs (`validate_transaction`, then
/// `check_transaction`), so a transaction with several faults is rejected for the one the
/// reference names: the vectors' expected exceptions depend on it.
fn validate(state: &WorldState, block: &BlockEnv, tx: &Transaction, fork: Fork) -> Result<Pricing, TxError> {
    let supported = match tx.tx_type {
        0 => true,
        1 => fork >= Fork::Berlin,
        2 => fork >= Fork::London,
        3 => fork >= Fork::Cancun,
        4 => fork >= Fork::Prague,
        _ => false,
    };
    if !supported {
        return Err(TxError::TypeNotSupported(tx.tx_type));
    }
    let gas_limit: u64 = tx.gas_limit.try_into().map_err(|_| TxError::GasLimitTooHigh)?;

    // Stateless checks (`validate_transaction`).
    let intrinsic = intrinsic_gas(tx, fork);
    if intrinsic > gas_limit {
        return Err(TxError::IntrinsicGasTooLow { intrinsic, limit: tx.gas_limit });
    }
    let floor = calldata_floor(tx, fork);
    if floor > gas_limit {
        return Err(TxError::IntrinsicGasBelowFloor { floor, limit: tx.gas_limit });
    }
    if tx.nonce >= U256::from(u64::MAX) {
        return Err(TxError::NonceMax);
    }
    // EIP-3860 bounds EVM init code; other EEs' init code is bounded by its EE at deployment.
    let evm_init_code = tx.to.is_none() && EeKind::of_code(&tx.data) == EeKind::Evm;
    if fork >= Fork::Shanghai && evm_init_code && tx.data.len() > MAX_INITCODE_SIZE {
        return Err(TxError::InitCodeTooLarge);
    }
    if fork >= Fork::Osaka && gas_limit > TX_GAS_LIMIT_CAP {
        return Err(TxError::GasLimitAboveCap);
    }

    // Checks against the block and the sender (`check_transaction`).
    if tx.gas_limit > block.gas_limit {
        return Err(TxError::GasLimitAboveBlock);
    }
    let blob_gas = GAS_PER_BLOB * tx.blob_hashes.len() as u64;
    if tx.tx_type == 3 {
        let max_blobs = block.blob_schedule(fork).map_or(0, |b| b.max);
        if blob_gas > GAS_PER_BLOB * max_blobs {
            return Err(TxError::TooManyBlobs);
        }
    }

    // Fee cap and priority fee per gas, whatever the transaction type.
    let (fee_cap, tip_cap) = match (tx.gas_price, tx.max_fee_per_gas) {
        (Some(price), _) => (price, price),
        (None, Some(max_fee)) => (max_fee, tx.max_priority_fee_per_gas.unwrap_or(U256::ZERO)),
        (None, None) => (U256::ZERO, U256::ZERO),
    };
    if tip_cap > fee_cap {
        return Err(TxError::PriorityFeeAboveFeeCap);
    }
    let (effective_gas_price, priority_fee) = if fork >= Fork::London {
        if fee_cap < block.base_fee {
            return Err(TxError::FeeCapBelowBaseFee);
        }
        let tip = tip_cap.min(fee_cap - block.base_fee);
        (block.base_fee + tip, tip)
    } else {
        (fee_cap, fee_cap)
    };
    let mut max_cost = U256::from(gas_limit).checked_mul(fee_cap).ok_or(TxError::FeeTooHigh)?;
    let mut upfront_cost = U256::from(gas_limit) * effective_gas_price;

    if tx.tx_type == 3 {
        if tx.blob_hashes.is_empty() {
            return Err(TxError::NoBlobs);
        }
        if fork >= Fork::Osaka && tx.blob_hashes.len() > MAX_BLOBS_PER_TX {
            return Err(TxError::TooManyBlobsInTx);
        }
        if tx.blob_hashes.iter().any(|h| h.0[0] != 0x01) {
            return Err(TxError::InvalidBlobVersion);
        }
        let max_blob_fee = tx.max_fee_per_blob_gas.unwrap_or(U256::ZERO);
        if max_blob_fee < block.blob_base_fee {
            return Err(TxError::BlobGasPriceTooLow);
        }
        let blob_gas = U256::from(blob_gas);
        max_cost =
            blob_gas.checked_mul(max_blob_fee).and_then(|c| c.checked_add(max_cost)).ok_or(TxError::FeeTooHigh)?;
        upfront_cost += blob_gas * block.blob_base_fee;
    }
    if tx.to.is_none() {
        match tx.tx_type {
            3 => return Err(TxError::BlobCreate),
            4 => return Err(TxError::SetCodeCreate),
            _ => {}
        }
    }
    if tx.tx_type == 4 && tx.authorization_list.is_empty() {
        return Err(TxError::EmptyAuthorizationList);
    }

    let sender = state.get(&tx.sender);
    let account_nonce = sender.map_or(0, |a| a.nonce);
    if tx.nonce != U256::from(account_nonce) {
        return Err(TxError::NonceMismatch { expected: account_nonce, got: tx.nonce });
    }
    max_cost = max_cost.checked_add(tx.value).ok_or(TxError::FeeTooHigh)?;
    if sender.map_or(U256::ZERO, |a| a.balance) < max_cost {
        return Err(TxError::InsufficientFunds);
    }
    // EIP-3607, and EIP-7702: a delegated account still sends transactions.
    let delegated = |code: &ee_api::Bytecode| fork >= Fork::Prague && code.delegation_target().is_some();
    if sender.is_some_and(|a| !a.code.is_empty() && !delegated(&a.code)) {
        return Err(TxError::SenderNotEoa);
    }
    Ok(Pricing { gas_limit, effective_gas_price, priority_fee, upfront_cost, intrinsic, floor })
}

/// EIP-3860 limit on init code.
const MAX_INITCODE_SIZE: usize = 49_152;

/// Runs one transaction against `state`. On `Err` the state is unchanged.
pub fn execute_transaction(
    state: &mut WorldState,
    block: &BlockEnv,
    tx: &Transaction,
    fork: Fork,
    limits: ExecutionLimits,
) -> Result<TxOutcome, TxError> {
    execute_transaction_traced(state, block, tx, fork, limits, None)
}

/// [`execute_transaction`] with an optional tracer, which receives every
/// instruction the EEs run and then [`Tracer::tx_end`]. An invalid
/// transaction runs no code and traces nothing.
pub fn execute_transaction_traced(
    state: &mut WorldState,
    block: &BlockEnv,
    tx: &Transaction,
    fork: Fork,
    limits: ExecutionLimits,
    tracer: Option<&mut dyn Tracer>,
) -> Result<TxOutcome, TxError> {
    execute_transaction_with(state, block, tx, fork, limits, tracer, WasmEe::default())
}

/// [`execute_transaction_traced`] with the WASM EE to use: one bound to a spec-test
/// session runs a `.wast` script's modules (see `ee_wasm::session`).
pub fn execute_transaction_with(
    state: &mut WorldState,
    block: &BlockEnv,
    tx: &Transaction,
    fork: Fork,
    limits: ExecutionLimits,
    tracer: Option<&mut dyn Tracer>,
    wasm: WasmEe,
) -> Result<TxOutcome, TxError> {
    let pricing = validate(state, block, tx, fork)?;
    let intrinsic = pricing.intrinsic;
    let nonce = state.get(&tx.sender).map_or(0, |a| a.nonce);

    let tx_env = TxEnv {
        origin: tx.sender,
        gas_price: pricing.effective_gas_price,
        blob_hashes: tx.blob_hashes.clone(),
        factory_deps: tx.factory_deps.clone(),
    };
    let mut js = JournaledState::new(state);
    js.set_nonce(tx.sender, nonce + 1);
    let balance = js.balance(&tx.sender);
    js.set_balance(tx.sender, balance - pricing.upfront_cost);

    if fork >= Fork::Berlin {
        js.prewarm_account(tx.sender);
        if let Some(to) = tx.to {
            js.prewarm_account(to);
        }
        for p in precompiles::addresses(fork) {
            js.prewarm_account(p);
        }
        for (address, keys) in &tx.access_list {
            js.prewarm_account(*address);
            for k in keys {
                js.prewarm_slot(*address, k.to_word());
            }
        }
    }
    if fork >= Fork::Shanghai {
        js.prewarm_account(block.coinbase);
    }
    // EIP-7702: authorizations persist even if the transaction reverts; their refund is
    // capped with the execution's.
    let auth_refund = set_code::apply(&mut js, &tx.authorization_list, block.chain_id);
    js.add_refund(auth_refund as i64);
    if fork >= Fork::Prague {
        // A call to a delegated account loads the target's code, warm for free at the top.
        if let Some(target) = tx.to.and_then(|to| js.code(&to).delegation_target()) {
            js.prewarm_account(target);
        }
    }

    let gas = pricing.gas_limit - intrinsic;
    let mut ctx = Context::new(js, block, tx_env, fork, limits.deadline).with_wasm(wasm);
    ctx.tracer = tracer.map(|t| t as &mut dyn Tracer);
    let top = match tx.to {
        Some(to) => TopLevel::Call(CallRequest {
            modifier: CallModifier::Call,
            caller: tx.sender,
            address: to,
            code_address: to,
            value: tx.value,
            input: CallInput::from(tx.data.as_ref()),
            gas,
            is_static: false,
        }),
        None => TopLevel::Deploy(
            DeploymentRequest {
                deployer: tx.sender,
                value: tx.value,
                init_code: tx.data.clone(),
                scheme: CreateScheme::Create,
                gas,
            },
            nonce,
        ),
    };
    let outcome = run(&mut ctx, top);
    if let Some(t) = ctx.tracer.as_deref_mut() {
        t.tx_end(&TxEnd { output: &outcome.output, gas_used: gas - outcome.gas_left, status: outcome.status });
    }
    if outcome.status == ExitStatus::Halt(HaltReason::Interrupted) {
        // Dropping the context without finalizing leaves `state` partly
        // written; the caller discards it, as the case has failed anyway.
        return Err(TxError::Interrupted);
    }

    let mut js = ctx.js;
    let gas_used_before_refund = pricing.gas_limit - outcome.gas_left;
    let refund_quotient = if fork >= Fork::London { 5 } else { 2 };
    let refund = (js.refund.max(0) as u64).min(gas_used_before_refund / refund_quotient);
    // EIP-7623: never less than the calldata floor (zero before Prague).
    let gas_used = (gas_used_before_refund - refund).max(pricing.floor);
    let gas_left = pricing.gas_limit - gas_used;

    js.add_balance(tx.sender, U256::from(gas_left) * pricing.effective_gas_price);
    js.add_balance(block.coinbase, U256::from(gas_used) * pricing.priority_fee);

    let (logs, _) = js.finalize(fork >= Fork::SpuriousDragon);
    let logs = if outcome.status.is_success() { logs } else { Vec::new() };
    Ok(TxOutcome { status: outcome.status, gas_used, logs, output: outcome.output, created: outcome.created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_base_fee_matches_eip4844() {
        assert_eq!(blob_base_fee(0, 3_338_477), U256::from(1));
        // One target's worth of excess (393216) raises the fee by about e^(393216/3338477).
        assert_eq!(blob_base_fee(393_216, 3_338_477), U256::from(1));
        assert_eq!(blob_base_fee(10_000_000, 3_338_477), U256::from(19));
    }

    #[test]
    fn intrinsic_gas_per_fork() {
        let tx =
            Transaction { data: std::sync::Arc::from(&[0u8, 1, 2][..]), to: Some(Address::ZERO), ..Default::default() };
        assert_eq!(intrinsic_gas(&tx, Fork::Byzantium), 21_000 + 4 + 68 * 2);
        assert_eq!(intrinsic_gas(&tx, Fork::Istanbul), 21_000 + 4 + 16 * 2);
        let create = Transaction { to: None, ..tx };
        assert_eq!(intrinsic_gas(&create, Fork::Frontier), 21_000 + 4 + 68 * 2);
        assert_eq!(intrinsic_gas(&create, Fork::Shanghai), 53_000 + 4 + 16 * 2 + 2);
    }
}
