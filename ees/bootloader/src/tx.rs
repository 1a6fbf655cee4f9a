//! Transaction processing: validation, intrinsic gas, fees, refunds.

use std::time::Instant;

use ee_api::{Address, BlockEnv, Bytes, ExitStatus, Fork, Log, B256, U256};

use crate::WorldState;

/// A transaction as the state tests give it: the sender is known, no signature is checked.
#[derive(Clone, Debug, Default)]
pub struct Transaction {
    /// 0 legacy, 1 access list (EIP-2930), 2 dynamic fee (EIP-1559), 3 blob (EIP-4844).
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
            TxError::Interrupted => f.write_str("interrupted: per-case time bound"),
        }
    }
}

impl std::error::Error for TxError {}

/// EIP-4844 blob base fee from the block's excess blob gas.
pub fn blob_base_fee(excess_blob_gas: u64) -> U256 {
    fake_exponential(1, excess_blob_gas as u128, 3_338_477)
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

/// Runs one transaction against `state`. On `Err` the state is unchanged.
pub fn execute_transaction(
    state: &mut WorldState,
    block: &BlockEnv,
    tx: &Transaction,
    fork: Fork,
    limits: ExecutionLimits,
) -> Result<TxOutcome, TxError> {
    let _ = (state, block, tx, fork, limits);
    unimplemented!("transaction processing is being written")
}
