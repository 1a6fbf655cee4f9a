//! Why a transaction was rejected, and the exception names vectors expect.
//!
//! Every [`TxError`] (and a transaction that cannot be encoded) becomes a
//! [`Reason`]; each reason lists the names a vector may write for it, in EEST
//! spelling (`TransactionException.X`) and in the spelling of ethereum/tests
//! v13.3 (`TR_*`, `IntrinsicGas`, `SenderNotEOA`). A rejected case passes
//! only when its reason answers to the expected name, or to one of the names
//! of an EEST `A|B` alternative. A name no reason answers to is reported as
//! unmapped, never taken as a match.
//!
//! One name changed meaning between the two vector sets:
//! `TYPE_3_TX_BLOB_COUNT_EXCEEDED` named the per-block blob limit when
//! ethereum/tests v13.3 was filled (its `Pyspecs/cancun`), and names the
//! per-transaction limit of EIP-7594 in EEST, where the per-block limit is
//! `TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED`. So the v13.3 format also
//! accepts it for the per-block limit.

use bootloader::TxError;

use super::model::Format;

/// A rejection reason, as the exception tables tell reasons apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    NonceTooHigh,
    NonceTooLow,
    NonceMax,
    SenderNotEoa,
    InsufficientFunds,
    IntrinsicGasTooLow,
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
    TooManyBlobsInTx,
    GasLimitAboveCap,
    IntrinsicGasBelowFloor,
    EmptyAuthorizationList,
    SetCodeCreate,
    /// A transaction field whose value cannot be encoded (above 2^256, as in the
    /// `ValueOverflow*` vectors): no such transaction exists, so it counts as rejected. It
    /// answers to v13.3's `TR_RLP_WRONGVALUE` and to EEST's overflow name of that field.
    Unencodable(Field),
}

/// The transaction fields whose value can be out of range, by their vector names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Nonce,
    GasLimit,
    GasPrice,
    MaxFeePerGas,
    MaxPriorityFeePerGas,
    MaxFeePerBlobGas,
    Value,
    AuthorizationList,
}

impl Field {
    /// The field's name in a vector's `transaction`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Nonce => "nonce",
            Field::GasLimit => "gasLimit",
            Field::GasPrice => "gasPrice",
            Field::MaxFeePerGas => "maxFeePerGas",
            Field::MaxPriorityFeePerGas => "maxPriorityFeePerGas",
            Field::MaxFeePerBlobGas => "maxFeePerBlobGas",
            Field::Value => "value",
            Field::AuthorizationList => "authorizationList",
        }
    }

    const ALL: [Field; 8] = [
        Field::Nonce,
        Field::GasLimit,
        Field::GasPrice,
        Field::MaxFeePerGas,
        Field::MaxPriorityFeePerGas,
        Field::MaxFeePerBlobGas,
        Field::Value,
        Field::AuthorizationList,
    ];
}

/// Transaction types whose pre-fork rejection has a name (`TYPE_N_TX_PRE_FORK`).
const TX_TYPES: [u8; 4] = [1, 2, 3, 4];

impl Reason {
    /// The reason of a bootloader rejection; `None` for [`TxError::Interrupted`], a time-out
    /// and not a verdict on the transaction.
    pub fn of(e: &TxError) -> Option<Reason> {
        Some(match e {
            TxError::NonceMismatch { expected, got } => {
                if *got > ee_api::U256::from(*expected) {
                    Reason::NonceTooHigh
                } else {
                    Reason::NonceTooLow
                }
            }
            TxError::NonceMax => Reason::NonceMax,
            TxError::SenderNotEoa => Reason::SenderNotEoa,
            TxError::InsufficientFunds => Reason::InsufficientFunds,
            TxError::IntrinsicGasTooLow { .. } => Reason::IntrinsicGasTooLow,
            TxError::GasLimitAboveBlock => Reason::GasLimitAboveBlock,
            TxError::GasLimitTooHigh => Reason::GasLimitTooHigh,
            TxError::FeeCapBelowBaseFee => Reason::FeeCapBelowBaseFee,
            TxError::PriorityFeeAboveFeeCap => Reason::PriorityFeeAboveFeeCap,
            TxError::FeeTooHigh => Reason::FeeTooHigh,
            TxError::InitCodeTooLarge => Reason::InitCodeTooLarge,
            TxError::TypeNotSupported(t) => Reason::TypeNotSupported(*t),
            TxError::BlobGasPriceTooLow => Reason::BlobGasPriceTooLow,
            TxError::NoBlobs => Reason::NoBlobs,
            TxError::TooManyBlobs => Reason::TooManyBlobs,
            TxError::InvalidBlobVersion => Reason::InvalidBlobVersion,
            TxError::BlobCreate => Reason::BlobCreate,
            TxError::TooManyBlobsInTx => Reason::TooManyBlobsInTx,
            TxError::GasLimitAboveCap => Reason::GasLimitAboveCap,
            TxError::IntrinsicGasBelowFloor { .. } => Reason::IntrinsicGasBelowFloor,
            TxError::EmptyAuthorizationList => Reason::EmptyAuthorizationList,
            TxError::SetCodeCreate => Reason::SetCodeCreate,
            TxError::Interrupted => return None,
        })
    }

    /// Every reason, for telling an unmapped name from one that is merely wrong.
    fn all() -> impl Iterator<Item = Reason> {
        use Reason::*;
        [
            NonceTooHigh,
            NonceTooLow,
            NonceMax,
            SenderNotEoa,
            InsufficientFunds,
            IntrinsicGasTooLow,
            GasLimitAboveBlock,
            GasLimitTooHigh,
            FeeCapBelowBaseFee,
            PriorityFeeAboveFeeCap,
            FeeTooHigh,
            InitCodeTooLarge,
            BlobGasPriceTooLow,
            NoBlobs,
            TooManyBlobs,
            InvalidBlobVersion,
            BlobCreate,
            TooManyBlobsInTx,
            GasLimitAboveCap,
            IntrinsicGasBelowFloor,
            EmptyAuthorizationList,
            SetCodeCreate,
        ]
        .into_iter()
        .chain(TX_TYPES.map(TypeNotSupported))
        .chain(Field::ALL.map(Unencodable))
    }

    /// The EEST name of the reason (without the `TransactionException.` prefix), canonical first.
    pub fn eest_names(self) -> Vec<String> {
        let names: &[&str] = match self {
            Reason::NonceTooHigh => &["NONCE_MISMATCH_TOO_HIGH"],
            Reason::NonceTooLow => &["NONCE_MISMATCH_TOO_LOW"],
            Reason::NonceMax => &["NONCE_IS_MAX"],
            Reason::SenderNotEoa => &["SENDER_NOT_EOA"],
            Reason::InsufficientFunds => &["INSUFFICIENT_ACCOUNT_FUNDS"],
            Reason::IntrinsicGasTooLow => &["INTRINSIC_GAS_TOO_LOW"],
            Reason::GasLimitAboveBlock => &["GAS_ALLOWANCE_EXCEEDED"],
            Reason::GasLimitTooHigh => &["GASLIMIT_OVERFLOW"],
            Reason::FeeCapBelowBaseFee => &["INSUFFICIENT_MAX_FEE_PER_GAS"],
            Reason::PriorityFeeAboveFeeCap => &["PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS"],
            Reason::FeeTooHigh => &["GASLIMIT_PRICE_PRODUCT_OVERFLOW"],
            Reason::InitCodeTooLarge => &["INITCODE_SIZE_EXCEEDED"],
            Reason::TypeNotSupported(t) => return vec![format!("TYPE_{t}_TX_PRE_FORK"), "TYPE_NOT_SUPPORTED".into()],
            Reason::BlobGasPriceTooLow => &["INSUFFICIENT_MAX_FEE_PER_BLOB_GAS"],
            Reason::NoBlobs => &["TYPE_3_TX_ZERO_BLOBS"],
            Reason::TooManyBlobs => &["TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED"],
            Reason::InvalidBlobVersion => &["TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH"],
            Reason::BlobCreate => &["TYPE_3_TX_CONTRACT_CREATION"],
            Reason::TooManyBlobsInTx => &["TYPE_3_TX_BLOB_COUNT_EXCEEDED"],
            Reason::GasLimitAboveCap => &["GAS_LIMIT_EXCEEDS_MAXIMUM"],
            Reason::IntrinsicGasBelowFloor => &["INTRINSIC_GAS_BELOW_FLOOR_GAS_COST"],
            Reason::EmptyAuthorizationList => &["TYPE_4_EMPTY_AUTHORIZATION_LIST"],
            Reason::SetCodeCreate => &["TYPE_4_TX_CONTRACT_CREATION"],
            Reason::Unencodable(field) => match field {
                Field::Nonce => &["NONCE_OVERFLOW"],
                Field::GasLimit => &["GASLIMIT_OVERFLOW"],
                Field::GasPrice | Field::MaxFeePerGas | Field::MaxFeePerBlobGas => &["GASPRICE_OVERFLOW"],
                Field::MaxPriorityFeePerGas => &["PRIORITY_OVERFLOW"],
                Field::Value => &["VALUE_OVERFLOW"],
                Field::AuthorizationList => &["TYPE_4_INVALID_AUTHORIZATION_FORMAT"],
            },
        };
        names.iter().map(|n| n.to_string()).collect()
    }

    /// The names ethereum/tests v13.3 writes for the reason (besides the EEST names its
    /// `Pyspecs` use). `TR_NoFundsOrGas` allows either funds or intrinsic gas, `TR_NoFundsX`
    /// (a gas price so high that price × gas overflows) either funds or the overflow.
    fn ethereum_tests_names(self) -> &'static [&'static str] {
        match self {
            Reason::NonceTooHigh => &["TR_NonceTooHigh"],
            Reason::NonceTooLow => &["TR_NonceTooLow"],
            Reason::NonceMax => &["TR_NonceHasMaxValue"],
            Reason::SenderNotEoa => &["SenderNotEOA"],
            Reason::InsufficientFunds => &["TR_NoFunds", "TR_NoFundsOrGas", "TR_NoFundsX"],
            Reason::IntrinsicGasTooLow => &["TR_IntrinsicGas", "IntrinsicGas", "TR_NoFundsOrGas"],
            Reason::GasLimitAboveBlock => &["TR_GasLimitReached"],
            Reason::FeeCapBelowBaseFee => &["TR_FeeCapLessThanBlocks"],
            Reason::PriorityFeeAboveFeeCap => &["TR_TipGtFeeCap"],
            Reason::FeeTooHigh => &["TR_NoFundsX"],
            Reason::InitCodeTooLarge => &["TR_InitCodeLimitExceeded"],
            Reason::TypeNotSupported(_) => &["TR_TypeNotSupported"],
            Reason::NoBlobs => &["TR_EMPTYBLOB"],
            Reason::TooManyBlobs => &["TR_BLOBLIST_OVERSIZE", "TransactionException.TYPE_3_TX_BLOB_COUNT_EXCEEDED"],
            Reason::InvalidBlobVersion => &["TR_BLOBVERSION_INVALID"],
            Reason::BlobCreate => &["TR_BLOBCREATE"],
            Reason::Unencodable(_) => &["TR_RLP_WRONGVALUE"],
            Reason::GasLimitTooHigh
            | Reason::BlobGasPriceTooLow
            | Reason::TooManyBlobsInTx
            | Reason::GasLimitAboveCap
            | Reason::IntrinsicGasBelowFloor
            | Reason::EmptyAuthorizationList
            | Reason::SetCodeCreate => &[],
        }
    }

    /// Whether a vector of `format` may name this reason `name` (one alternative).
    fn answers_to(self, format: Format, name: &str) -> bool {
        let eest = name
            .strip_prefix("TransactionException.")
            .is_some_and(|short| self.eest_names().iter().any(|n| n == short));
        eest || (format == Format::EthereumTests && self.ethereum_tests_names().contains(&name))
    }

    /// How reports name the reason: its EEST name.
    pub fn name(self) -> String {
        format!("TransactionException.{}", self.eest_names()[0])
    }
}

/// How a rejection compares with the vector's `expectException`.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// The reason answers to the expected name (or to one of its alternatives).
    Matches,
    /// The reason answers to none of them; all of them are known names.
    Wrong,
    /// These names (of the alternatives) answer to no reason at all: the table lacks them.
    Unmapped(Vec<String>),
}

/// Compares our rejection `reason` with the expected `expected` (`A|B` = either).
pub fn check(format: Format, expected: &str, reason: Reason) -> Check {
    let alternatives: Vec<&str> = expected.split('|').map(str::trim).collect();
    if alternatives.iter().any(|name| reason.answers_to(format, name)) {
        return Check::Matches;
    }
    let unmapped: Vec<String> = alternatives
        .iter()
        .filter(|name| !Reason::all().any(|r| r.answers_to(format, name)))
        .map(|name| name.to_string())
        .collect();
    if unmapped.is_empty() {
        Check::Wrong
    } else {
        Check::Unmapped(unmapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee_api::U256;

    const EEST: Format = Format::Eest;
    const V13: Format = Format::EthereumTests;

    #[test]
    fn every_tx_error_has_a_reason_with_an_eest_name() {
        let errors = [
            TxError::NonceMismatch { expected: 1, got: U256::from(2) },
            TxError::NonceMismatch { expected: 2, got: U256::from(1) },
            TxError::NonceMax,
            TxError::SenderNotEoa,
            TxError::InsufficientFunds,
            TxError::IntrinsicGasTooLow { intrinsic: 21000, limit: U256::from(1) },
            TxError::GasLimitAboveBlock,
            TxError::GasLimitTooHigh,
            TxError::FeeCapBelowBaseFee,
            TxError::PriorityFeeAboveFeeCap,
            TxError::FeeTooHigh,
            TxError::InitCodeTooLarge,
            TxError::TypeNotSupported(4),
            TxError::BlobGasPriceTooLow,
            TxError::NoBlobs,
            TxError::TooManyBlobs,
            TxError::InvalidBlobVersion,
            TxError::BlobCreate,
            TxError::TooManyBlobsInTx,
            TxError::GasLimitAboveCap,
            TxError::IntrinsicGasBelowFloor { floor: 1, limit: U256::ZERO },
            TxError::EmptyAuthorizationList,
            TxError::SetCodeCreate,
        ];
        let mut names = std::collections::HashSet::new();
        for e in &errors {
            let r = Reason::of(e).unwrap_or_else(|| panic!("{e:?} has no reason"));
            assert!(names.insert(r.name()), "{e:?}: name {} given twice", r.name());
            assert_eq!(check(EEST, &r.name(), r), Check::Matches);
        }
        assert_eq!(Reason::of(&TxError::Interrupted), None, "a time-out is no rejection reason");
        assert_eq!(Reason::of(&errors[0]), Some(Reason::NonceTooHigh));
        assert_eq!(Reason::of(&errors[1]), Some(Reason::NonceTooLow));
    }

    #[test]
    fn eest_names_alternatives_and_wrong_reasons() {
        let x = |s: &str| format!("TransactionException.{s}");
        assert_eq!(check(EEST, &x("INTRINSIC_GAS_TOO_LOW"), Reason::IntrinsicGasTooLow), Check::Matches);
        assert_eq!(
            check(EEST, &x("INTRINSIC_GAS_BELOW_FLOOR_GAS_COST"), Reason::IntrinsicGasBelowFloor),
            Check::Matches
        );
        assert_eq!(check(EEST, &x("GAS_LIMIT_EXCEEDS_MAXIMUM"), Reason::GasLimitAboveCap), Check::Matches);
        assert_eq!(check(EEST, &x("GAS_ALLOWANCE_EXCEEDED"), Reason::GasLimitAboveBlock), Check::Matches);
        assert_eq!(check(EEST, &x("GAS_ALLOWANCE_EXCEEDED"), Reason::GasLimitAboveCap), Check::Wrong);
        assert_eq!(check(EEST, &x("TYPE_4_TX_PRE_FORK"), Reason::TypeNotSupported(4)), Check::Matches);
        assert_eq!(check(EEST, &x("TYPE_4_TX_PRE_FORK"), Reason::TypeNotSupported(3)), Check::Wrong);
        assert_eq!(check(EEST, &x("NONCE_IS_MAX"), Reason::InsufficientFunds), Check::Wrong);
        let either = format!("{}|{}", x("INSUFFICIENT_ACCOUNT_FUNDS"), x("INTRINSIC_GAS_TOO_LOW"));
        assert_eq!(check(EEST, &either, Reason::IntrinsicGasTooLow), Check::Matches);
        assert_eq!(check(EEST, &either, Reason::InsufficientFunds), Check::Matches);
        assert_eq!(check(EEST, &either, Reason::NonceMax), Check::Wrong);
        // EEST's blob limits: per block vs per transaction (EIP-7594).
        let per_block = x("TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED");
        let per_tx = x("TYPE_3_TX_BLOB_COUNT_EXCEEDED");
        assert_eq!(check(EEST, &per_block, Reason::TooManyBlobs), Check::Matches);
        assert_eq!(check(EEST, &per_tx, Reason::TooManyBlobsInTx), Check::Matches);
        assert_eq!(check(EEST, &per_tx, Reason::TooManyBlobs), Check::Wrong);
        // ... while v13.3's Pyspecs used the per-transaction name for the per-block limit.
        assert_eq!(check(V13, &per_tx, Reason::TooManyBlobs), Check::Matches);
        // Unencodable values.
        assert_eq!(check(EEST, &x("VALUE_OVERFLOW"), Reason::Unencodable(Field::Value)), Check::Matches);
        assert_eq!(check(EEST, &x("VALUE_OVERFLOW"), Reason::Unencodable(Field::Nonce)), Check::Wrong);
    }

    #[test]
    fn ethereum_tests_names() {
        for (name, reason) in [
            ("TR_IntrinsicGas", Reason::IntrinsicGasTooLow),
            ("IntrinsicGas", Reason::IntrinsicGasTooLow),
            ("TR_NoFundsOrGas", Reason::IntrinsicGasTooLow),
            ("TR_NoFundsOrGas", Reason::InsufficientFunds),
            ("TR_NoFunds", Reason::InsufficientFunds),
            ("TR_NoFundsX", Reason::InsufficientFunds),
            ("TR_NoFundsX", Reason::FeeTooHigh),
            ("SenderNotEOA", Reason::SenderNotEoa),
            ("TR_TypeNotSupported", Reason::TypeNotSupported(2)),
            ("TR_NonceHasMaxValue", Reason::NonceMax),
            ("TR_TipGtFeeCap", Reason::PriorityFeeAboveFeeCap),
            ("TR_FeeCapLessThanBlocks", Reason::FeeCapBelowBaseFee),
            ("TR_GasLimitReached", Reason::GasLimitAboveBlock),
            ("TR_InitCodeLimitExceeded", Reason::InitCodeTooLarge),
            ("TR_BLOBCREATE", Reason::BlobCreate),
            ("TR_BLOBLIST_OVERSIZE", Reason::TooManyBlobs),
            ("TR_BLOBVERSION_INVALID", Reason::InvalidBlobVersion),
            ("TR_EMPTYBLOB", Reason::NoBlobs),
            ("TR_RLP_WRONGVALUE", Reason::Unencodable(Field::Value)),
            ("TransactionException.INSUFFICIENT_ACCOUNT_FUNDS", Reason::InsufficientFunds),
        ] {
            assert_eq!(check(V13, name, reason), Check::Matches, "{name} / {reason:?}");
        }
        assert_eq!(check(V13, "TR_NoFunds", Reason::IntrinsicGasTooLow), Check::Wrong);
        assert_eq!(check(EEST, "TR_NoFunds", Reason::InsufficientFunds), Check::Unmapped(vec!["TR_NoFunds".into()]));
    }

    #[test]
    fn unknown_names_are_unmapped_not_matched() {
        assert_eq!(
            check(EEST, "TransactionException.SOMETHING_NEW", Reason::InsufficientFunds),
            Check::Unmapped(vec!["TransactionException.SOMETHING_NEW".into()])
        );
        assert_eq!(check(V13, "TR_Mystery", Reason::NonceMax), Check::Unmapped(vec!["TR_Mystery".into()]));
        // One known alternative that matches is enough.
        assert_eq!(
            check(EEST, "TransactionException.NONCE_IS_MAX|TransactionException.NEW", Reason::NonceMax),
            Check::Matches
        );
    }
}
