//! Conversions between the project's plain types and vm2's `primitive_types` ones. Kept
//! private so that no vm2 type leaks through the crate's API.

use ee_api::{Address, U256};
use primitive_types::{H160, U256 as PU256};

pub(crate) fn to_pu256(x: U256) -> PU256 {
    PU256::from_big_endian(&x.to_be_bytes::<32>())
}

pub(crate) fn from_pu256(x: PU256) -> U256 {
    let mut bytes = [0u8; 32];
    x.to_big_endian(&mut bytes);
    U256::from_be_bytes(bytes)
}

pub(crate) fn to_h160(a: Address) -> H160 {
    H160(a.0)
}

pub(crate) fn from_h160(a: H160) -> Address {
    Address(a.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let x = U256::from_be_bytes([0xA5; 32]) - U256::from(7);
        assert_eq!(from_pu256(to_pu256(x)), x);
        assert_eq!(to_pu256(U256::from(0x1234)), PU256::from(0x1234));
        let a = Address([3; 20]);
        assert_eq!(from_h160(to_h160(a)), a);
    }
}
