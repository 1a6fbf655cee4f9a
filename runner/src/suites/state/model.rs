//! Serde types for state-test JSON files: ethereum/tests `GeneralStateTests`
//! (v13.3) and EEST fixtures (`state_tests/`), which add `config` (chain id,
//! blob schedule), `transaction.authorizationList` (EIP-7702) and the full
//! expected post-state (`post[fork][i].state`).
//!
//! Byte strings, addresses and hashes are checked while parsing, so a
//! malformed file fails with serde's line and column. Numbers are kept as
//! text ([`Num`]) and converted per case: a few vectors (`ValueOverflow*`)
//! hold values above 2^256 on purpose, and such a value must reject only its
//! own transaction, not make the whole file unreadable.

use std::collections::BTreeMap;
use std::fmt;

use ee_api::{Address, B256, U256};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// One JSON file: test name → test (a few files hold several tests).
pub type StateFile = BTreeMap<String, StateTest>;

/// One state test: a pre-state, a transaction template and, per fork, the
/// expected results of the transactions the template expands to.
#[derive(Debug, Deserialize)]
pub struct StateTest {
    /// Provenance: the filler that generated the test and the data labels,
    /// used to explain a failing case from the filler's `expect` section.
    #[serde(rename = "_info", default)]
    pub info: Info,
    pub env: Env,
    pub pre: BTreeMap<Addr, PreAccount>,
    pub transaction: TxTemplate,
    /// Fork name as written in the file → expected results.
    pub post: BTreeMap<String, Vec<PostEntry>>,
    /// EEST only: the chain configuration.
    #[serde(default)]
    pub config: Option<Config>,
}

/// Which conventions a vector follows; decided per test from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ethereum/tests v13.3 (retesteth-filled): a rejected transaction still gets the block's
    /// zero-value coinbase touch; exception names `TR_*` and friends.
    EthereumTests,
    /// EEST fixtures: a test with `config` or a post entry with `state`. A rejected transaction
    /// leaves the state exactly `pre`; exception names `TransactionException.*`.
    Eest,
}

impl StateTest {
    pub fn format(&self) -> Format {
        if self.config.is_some() || self.post.values().flatten().any(|e| e.state.is_some()) {
            Format::Eest
        } else {
            Format::EthereumTests
        }
    }
}

/// EEST `config`: `{"chainid": "0x01", "blobSchedule": {"Cancun": {...}, "Prague": {...}}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The chain id of the block (1 when absent).
    #[serde(default)]
    pub chainid: Option<Num>,
    /// Fork name → blob parameters (EIP-7840); a fork not listed uses its defaults.
    #[serde(default)]
    pub blob_schedule: Option<BTreeMap<String, BlobParams>>,
}

/// One fork's entry of `config.blobSchedule`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobParams {
    pub target: Num,
    pub max: Num,
    pub base_fee_update_fraction: Num,
}

/// The `_info` block of a generated test (only the fields the harness uses).
#[derive(Debug, Default, Deserialize)]
pub struct Info {
    /// The filler, relative to the ethereum/tests root.
    #[serde(default)]
    pub source: Option<String>,
    /// Data index (as a string key) → label.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The block the transaction runs in.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    pub current_coinbase: Addr,
    pub current_number: Num,
    pub current_timestamp: Num,
    pub current_gas_limit: Num,
    /// Absent only in vectors that stop before London.
    #[serde(default)]
    pub current_base_fee: Option<Num>,
    #[serde(default)]
    pub current_difficulty: Option<Num>,
    /// PREVRANDAO from Paris on; absent in pre-Paris-only vectors.
    #[serde(default)]
    pub current_random: Option<H256>,
    /// EIP-4844; absent in pre-Cancun-only vectors.
    #[serde(default)]
    pub current_excess_blob_gas: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct PreAccount {
    pub balance: Num,
    pub nonce: Num,
    #[serde(default)]
    pub code: HexBytes,
    #[serde(default)]
    pub storage: BTreeMap<Num, Num>,
}

/// The transaction template: `data`, `gasLimit` and `value` are lists that
/// each post entry indexes into.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxTemplate {
    pub data: Vec<HexBytes>,
    pub gas_limit: Vec<Num>,
    pub value: Vec<Num>,
    pub nonce: Num,
    #[serde(default)]
    pub gas_price: Option<Num>,
    #[serde(default)]
    pub max_fee_per_gas: Option<Num>,
    #[serde(default)]
    pub max_priority_fee_per_gas: Option<Num>,
    #[serde(default)]
    pub max_fee_per_blob_gas: Option<Num>,
    #[serde(default)]
    pub blob_versioned_hashes: Option<Vec<H256>>,
    /// One optional list per `data` entry.
    #[serde(default)]
    pub access_lists: Option<Vec<Option<Vec<AccessListItem>>>>,
    /// The sender; derived from `secret_key` when absent.
    #[serde(default, deserialize_with = "optional_address")]
    pub sender: Option<Addr>,
    #[serde(default)]
    pub secret_key: Option<H256>,
    /// Empty string: contract creation.
    #[serde(deserialize_with = "optional_address")]
    pub to: Option<Addr>,
    /// EIP-7702 (EEST): present, even empty, makes the transaction a set-code one (type 4).
    #[serde(default)]
    pub authorization_list: Option<Vec<AuthorizationItem>>,
}

/// One EIP-7702 authorization as EEST writes it. Numbers stay text ([`Num`]): a vector may hold
/// out-of-range values on purpose, which must reject only the case, never the file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationItem {
    pub chain_id: Num,
    pub address: Addr,
    pub nonce: Num,
    /// The signature's parity; `v` is the same value in older fixtures.
    #[serde(default)]
    pub y_parity: Option<Num>,
    #[serde(default)]
    pub v: Option<Num>,
    pub r: Num,
    pub s: Num,
    // `signer` (the authority the filler signed with, absent for deliberately bad signatures)
    // is informational and not read: the bootloader recovers the authority from the signature.
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItem {
    pub address: Addr,
    #[serde(default)]
    pub storage_keys: Vec<H256>,
}

/// Expected result of one (data, gas, value) combination under one fork.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostEntry {
    /// State root after the transaction.
    pub hash: H256,
    /// keccak256 of the RLP of the logs.
    pub logs: H256,
    pub indexes: Indexes,
    /// Present when the transaction is invalid and must be rejected; EEST may join several
    /// acceptable names with `|`.
    #[serde(default)]
    pub expect_exception: Option<String>,
    /// EEST only: the whole expected post-state (for a rejected transaction, the pre-state).
    #[serde(default)]
    pub state: Option<BTreeMap<Addr, PreAccount>>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Indexes {
    pub data: usize,
    pub gas: usize,
    pub value: usize,
}

/// Why a number from a vector cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Not a number at all.
    Syntax(String),
    /// A well-formed number that does not fit the target width.
    Overflow { value: String, bits: u32 },
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumError::Syntax(s) => write!(f, "not a number: {s:?}"),
            NumError::Overflow { value, bits } => write!(f, "value {value} does not fit in {bits} bits"),
        }
    }
}

/// A number as written in a vector: `"0x1f"`, decimal `"31"`, a JSON integer,
/// or `"0x:bigint 0x..."`. The syntax is checked while parsing; the range
/// only on conversion.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Num(pub String);

/// Splits a number into its digits and radix, or says why it is not one.
fn number_digits(s: &str) -> Result<(&str, u32), NumError> {
    let t = s.trim();
    let t = t.strip_prefix("0x:bigint ").unwrap_or(t);
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None if !t.is_empty() => (t, 10),
        None => return Err(NumError::Syntax(s.to_string())),
    };
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(NumError::Syntax(s.to_string()));
    }
    Ok((digits, radix))
}

/// Parses a number of any accepted form into 256 bits. `"0x"` is zero.
pub fn parse_u256(s: &str) -> Result<U256, NumError> {
    let (digits, radix) = number_digits(s)?;
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(digits, radix as u64).map_err(|_| NumError::Overflow { value: s.to_string(), bits: 256 })
}

/// Parses a number that must fit in 64 bits.
pub fn parse_u64(s: &str) -> Result<u64, NumError> {
    let v = parse_u256(s)?;
    u64::try_from(v).map_err(|_| NumError::Overflow { value: s.to_string(), bits: 64 })
}

impl Num {
    pub fn to_u256(&self) -> Result<U256, NumError> {
        parse_u256(&self.0)
    }

    pub fn to_u64(&self) -> Result<u64, NumError> {
        parse_u64(&self.0)
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number: hex \"0x..\", decimal, or a non-negative JSON integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                number_digits(v).map_err(E::custom)?;
                Ok(Num(v.to_string()))
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

/// Decodes `0x`-prefixed (or bare) hex.
pub fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    let t = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    hex::decode(t).map_err(|e| format!("bad hex {:?}: {e}", truncate(s, 40)))
}

/// `s` cut to at most `n` bytes for a message, at a character boundary (a vector's text may
/// hold any UTF-8).
fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_string()
    } else {
        let end = (0..=n).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &s[..end])
    }
}

/// Hex decoded into `N` bytes; shorter input is left-padded with zeros
/// (storage keys are sometimes written short).
fn decode_fixed<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let t = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    let padded;
    let t = if t.len() % 2 == 1 {
        padded = format!("0{t}");
        padded.as_str()
    } else {
        t
    };
    let bytes = decode_hex(t)?;
    if bytes.len() > N {
        return Err(format!("{:?} is longer than {N} bytes", truncate(s, 80)));
    }
    let mut out = [0u8; N];
    out[N - bytes.len()..].copy_from_slice(&bytes);
    Ok(out)
}

/// A byte string (calldata, code).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_hex(&s).map(HexBytes).map_err(de::Error::custom)
    }
}

/// An address (ordered, so it can key the pre-state map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub Address);

impl Addr {
    fn parse(s: &str) -> Result<Addr, String> {
        let t = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
        if t.len() != 40 {
            return Err(format!("address {:?} is not 20 bytes", truncate(s, 80)));
        }
        decode_fixed::<20>(t).map(|a| Addr(Address(a)))
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Addr::parse(&s).map_err(de::Error::custom)
    }
}

/// `""` (or null) → `None`, else an address.
fn optional_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Addr>, D::Error> {
    let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Addr::parse(s).map(Some).map_err(de::Error::custom),
    }
}

/// A 32-byte hash or word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H256(pub B256);

impl<'de> Deserialize<'de> for H256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_fixed::<32>(&s).map(|b| H256(B256(b))).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_written_form() {
        assert_eq!(parse_u256("0x0a"), Ok(U256::from(10)));
        assert_eq!(parse_u256("0X0A"), Ok(U256::from(10)));
        assert_eq!(parse_u256("10"), Ok(U256::from(10)));
        assert_eq!(parse_u256("0x"), Ok(U256::ZERO));
        assert_eq!(parse_u256("0x00"), Ok(U256::ZERO));
        assert_eq!(parse_u256("0x:bigint 0x0100"), Ok(U256::from(256)));
        let max = format!("0x{}", "f".repeat(64));
        assert_eq!(parse_u256(&max), Ok(U256::MAX));
        assert_eq!(parse_u256(&format!("0x0000{}", "f".repeat(64))), Ok(U256::MAX), "leading zeros are fine");
    }

    /// Found by fuzz/state_json: a bad hex string with a multi-byte character across the
    /// 40-byte cut of its message panicked instead of being an error.
    #[test]
    fn bad_hex_with_multibyte_text_is_an_error() {
        let s = format!("0x{}c\u{35e}1a3d", "cd".repeat(18));
        assert!(!s.is_char_boundary(40));
        let e = decode_hex(&s).unwrap_err();
        assert!(e.starts_with("bad hex \"0xcdcd") && e.contains("..."), "{e}");
        assert!(serde_json::from_str::<HexBytes>(&format!("{s:?}")).is_err());
    }

    #[test]
    fn overflow_is_distinct_from_bad_syntax() {
        let big = "0x:bigint 0x10000000000000000000000000000000000000000000000000000000000000001";
        assert!(matches!(parse_u256(big), Err(NumError::Overflow { bits: 256, .. })));
        assert!(matches!(parse_u64("0x010000000000000000"), Err(NumError::Overflow { bits: 64, .. })));
        assert_eq!(parse_u64("0xffffffffffffffff"), Ok(u64::MAX));
        assert!(matches!(parse_u256("0xzz"), Err(NumError::Syntax(_))));
        assert!(matches!(parse_u256(""), Err(NumError::Syntax(_))));
        assert!(matches!(parse_u256("12a"), Err(NumError::Syntax(_))));
        assert!(matches!(parse_u256("-1"), Err(NumError::Syntax(_))));
    }

    #[test]
    fn num_accepts_strings_and_integers_but_keeps_big_values_as_text() {
        let n: Vec<Num> = serde_json::from_str(
            r#"["0x10", 16, "16", "0x:bigint 0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"]"#,
        )
        .unwrap();
        assert_eq!(n[0].to_u64(), Ok(16));
        assert_eq!(n[1].to_u64(), Ok(16));
        assert_eq!(n[2].to_u64(), Ok(16));
        assert!(n[3].to_u256().is_err());
        let err = serde_json::from_str::<Vec<Num>>("[\n\"0xnope\"]").unwrap_err();
        assert_eq!(err.line(), 2, "{err}");
    }

    #[test]
    fn addresses_hashes_and_bytes() {
        let a: Addr = serde_json::from_str(r#""0x095e7baea6a6c7c4c2dfeb977efac326af552d87""#).unwrap();
        assert_eq!(a.0 .0[0], 0x09);
        assert!(serde_json::from_str::<Addr>(r#""0x095e""#).is_err());
        let h: H256 = serde_json::from_str(r#""0x01""#).unwrap();
        assert_eq!(h.0.to_word(), U256::from(1));
        let b: HexBytes = serde_json::from_str(r#""0x6001""#).unwrap();
        assert_eq!(b.0, vec![0x60, 0x01]);
        assert!(serde_json::from_str::<HexBytes>(r#""0x600""#).is_err());
    }

    #[test]
    fn empty_to_means_create() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "optional_address")]
            to: Option<Addr>,
        }
        assert!(serde_json::from_str::<T>(r#"{"to": ""}"#).unwrap().to.is_none());
        assert!(serde_json::from_str::<T>(r#"{"to": "0x095e7baea6a6c7c4c2dfeb977efac326af552d87"}"#)
            .unwrap()
            .to
            .is_some());
    }
}
