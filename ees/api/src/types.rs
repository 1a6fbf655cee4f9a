//! Primitive value types shared by every EE and the bootloader.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use keccak_asm::Keccak256;

pub use ruint::aliases::U256;

/// Immutable, cheaply clonable byte string (calldata, return data, code).
pub type Bytes = Arc<[u8]>;

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 20]);

/// The 20 bytes alone, inlined: the derived impl goes through the array's `Hash`, an
/// out-of-line call that adds a length prefix, for every account and warm-slot lookup
/// (perf: 2-3% of SLOAD-heavy runs).
impl std::hash::Hash for Address {
    #[inline(always)]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

/// A 32-byte word used for hashes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct B256(pub [u8; 32]);

impl Address {
    pub const ZERO: Address = Address([0; 20]);

    /// The low 20 bytes of a 256-bit word, as the EVM converts stack values to addresses.
    pub fn from_word(word: U256) -> Address {
        let bytes = word.to_be_bytes::<32>();
        let mut a = [0u8; 20];
        a.copy_from_slice(&bytes[12..]);
        Address(a)
    }

    /// The address as a 256-bit word (zero-extended).
    pub fn to_word(self) -> U256 {
        let mut bytes = [0u8; 32];
        bytes[12..].copy_from_slice(&self.0);
        U256::from_be_bytes(bytes)
    }

    /// Precompile addresses are small integers: `Some(n)` when the address is `n` (< 256).
    pub fn low_byte_if_small(&self) -> Option<u8> {
        if self.0[..19].iter().all(|b| *b == 0) {
            Some(self.0[19])
        } else {
            None
        }
    }
}

impl B256 {
    pub const ZERO: B256 = B256([0; 32]);

    pub fn to_word(self) -> U256 {
        U256::from_be_bytes(self.0)
    }

    pub fn from_word(w: U256) -> B256 {
        B256(w.to_be_bytes::<32>())
    }

    pub fn keccak(data: &[u8]) -> B256 {
        B256(Keccak256::digest(data).into())
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Debug for B256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Display for B256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

/// keccak256 of the empty string: the code hash of an account without code.
pub fn keccak_empty() -> B256 {
    B256([
        0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0, 0xe5, 0x00,
        0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
    ])
}

/// Which execution environment runs a piece of code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EeKind {
    Evm,
    Wasm,
    RiscV,
    /// ZKsync Era's EraVM: the marker, then raw EraVM bytecode (32-byte words).
    EraVm,
}

impl EeKind {
    /// Marker prefix of non-EVM code. EIP-3541 forbids EVM deployments whose code
    /// starts with 0xEF, so `0xEF 0xEE <kind>` can never be legacy EVM code that
    /// was deployed after London.
    pub const MARKER: [u8; 2] = [0xEF, 0xEE];

    /// The EE a piece of stored code belongs to.
    pub fn of_code(code: &[u8]) -> EeKind {
        match code {
            [0xEF, 0xEE, 1, ..] => EeKind::Wasm,
            [0xEF, 0xEE, 2, ..] => EeKind::RiscV,
            [0xEF, 0xEE, 3, ..] => EeKind::EraVm,
            _ => EeKind::Evm,
        }
    }
}

/// Code stored in an account, with its hash and a per-EE analysis cache.
///
/// The cache lets an EE analyse code once (EVM jump destinations, a WASM
/// module's translation) however many times the code is called in a run.
pub struct Bytecode {
    pub bytes: Bytes,
    pub kind: EeKind,
    /// Computed on first use: init code and most deployed code never need it.
    hash: OnceLock<B256>,
    cache: OnceLock<Arc<dyn Any + Send + Sync>>,
}

impl Bytecode {
    pub fn new(bytes: Bytes) -> Bytecode {
        let kind = EeKind::of_code(&bytes);
        Bytecode { bytes, kind, hash: OnceLock::new(), cache: OnceLock::new() }
    }

    /// keccak256 of the code (EXTCODEHASH, the account's code hash in the state root).
    pub fn hash(&self) -> B256 {
        *self.hash.get_or_init(|| if self.bytes.is_empty() { keccak_empty() } else { B256::keccak(&self.bytes) })
    }

    pub fn empty() -> Bytecode {
        Bytecode::new(Arc::from(&[][..]))
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The account this code delegates to, when it is an EIP-7702 delegation designator
    /// (`0xef0100 ++ address`, exactly 23 bytes). Calls into the account run the target's
    /// code (one level, never a chain); `EXTCODE*` still see the 23 bytes.
    pub fn delegation_target(&self) -> Option<Address> {
        delegation_target(&self.bytes)
    }

    /// The EE's analysis of this code, computed by `analyse` on first use.
    pub fn analysis<T: Any + Send + Sync>(&self, analyse: impl FnOnce(&[u8]) -> T) -> Arc<T> {
        let any = self.cache.get_or_init(|| Arc::new(analyse(&self.bytes)) as Arc<dyn Any + Send + Sync>).clone();
        any.downcast::<T>().expect("one EE analyses a given code object")
    }
}

/// EIP-7702: the prefix of a delegation designator. `0xef` cannot start deployed EVM code
/// (EIP-3541), so no contract is mistaken for one.
pub const DELEGATION_PREFIX: [u8; 3] = [0xef, 0x01, 0x00];

/// The target of an EIP-7702 delegation designator `0xef0100 ++ address`, or `None` for
/// any other code.
pub fn delegation_target(code: &[u8]) -> Option<Address> {
    if code.len() == 23 && code[..3] == DELEGATION_PREFIX {
        let mut a = [0u8; 20];
        a.copy_from_slice(&code[3..]);
        Some(Address(a))
    } else {
        None
    }
}

/// The designator that delegates an account to `target` (EIP-7702).
pub fn delegation_designator(target: Address) -> [u8; 23] {
    let mut code = [0u8; 23];
    code[..3].copy_from_slice(&DELEGATION_PREFIX);
    code[3..].copy_from_slice(&target.0);
    code
}

impl fmt::Debug for Bytecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytecode({} bytes, {:?}, {})", self.bytes.len(), self.kind, self.hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_of_empty_matches_constant() {
        assert_eq!(B256::keccak(&[]), keccak_empty());
    }

    /// The assembly keccak agrees with the portable sha3 crate at every length
    /// around the 136-byte rate (padding in the same block, the next, or alone).
    #[test]
    fn keccak_matches_portable_implementation() {
        use sha3::{Digest, Keccak256};
        let data: Vec<u8> = (0..1200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in (0..=600).chain([1087, 1088, 1089, 1200]) {
            let portable: [u8; 32] = Keccak256::digest(&data[..len]).into();
            assert_eq!(B256::keccak(&data[..len]).0, portable, "length {len}");
        }
    }

    #[test]
    fn address_word_round_trip() {
        let a = Address([7; 20]);
        assert_eq!(Address::from_word(a.to_word()), a);
        assert_eq!(Address::from_word(U256::from(9)).low_byte_if_small(), Some(9));
    }
}
