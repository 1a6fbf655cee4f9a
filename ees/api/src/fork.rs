//! Ethereum hard forks, ordered, with the names the test vectors use.

use std::fmt;

/// A hard fork. Ordering follows activation: `Fork::Berlin < Fork::London`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fork {
    Frontier,
    Homestead,
    /// EIP-150 gas repricing ("Tangerine Whistle").
    Tangerine,
    /// EIP-155/158/161 ("Spurious Dragon").
    SpuriousDragon,
    Byzantium,
    Constantinople,
    /// Constantinople without EIP-1283 ("ConstantinopleFix").
    Petersburg,
    Istanbul,
    Berlin,
    London,
    /// The Merge.
    Paris,
    Shanghai,
    Cancun,
    /// Pectra: EIP-7702, EIP-2537, EIP-7623, EIP-7691.
    Prague,
    /// Fusaka: EIP-7939, EIP-7951, EIP-7823/7883, EIP-7825, EIP-7594.
    Osaka,
}

impl Fork {
    pub const ALL: [Fork; 15] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::Tangerine,
        Fork::SpuriousDragon,
        Fork::Byzantium,
        Fork::Constantinople,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::Berlin,
        Fork::London,
        Fork::Paris,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
    ];

    /// Parses the fork names used by ethereum/tests (and a few common aliases).
    pub fn from_name(name: &str) -> Option<Fork> {
        Some(match name {
            "Frontier" => Fork::Frontier,
            "Homestead" => Fork::Homestead,
            "EIP150" | "Tangerine" | "TangerineWhistle" => Fork::Tangerine,
            "EIP158" | "SpuriousDragon" => Fork::SpuriousDragon,
            "Byzantium" => Fork::Byzantium,
            "Constantinople" => Fork::Constantinople,
            "ConstantinopleFix" | "Petersburg" => Fork::Petersburg,
            "Istanbul" => Fork::Istanbul,
            "Berlin" => Fork::Berlin,
            "London" => Fork::London,
            "Paris" | "Merge" => Fork::Paris,
            "Shanghai" => Fork::Shanghai,
            "Cancun" => Fork::Cancun,
            "Prague" => Fork::Prague,
            "Osaka" => Fork::Osaka,
            _ => return None,
        })
    }

    /// The name ethereum/tests uses for this fork.
    pub fn name(self) -> &'static str {
        match self {
            Fork::Frontier => "Frontier",
            Fork::Homestead => "Homestead",
            Fork::Tangerine => "EIP150",
            Fork::SpuriousDragon => "EIP158",
            Fork::Byzantium => "Byzantium",
            Fork::Constantinople => "Constantinople",
            Fork::Petersburg => "ConstantinopleFix",
            Fork::Istanbul => "Istanbul",
            Fork::Berlin => "Berlin",
            Fork::London => "London",
            Fork::Paris => "Paris",
            Fork::Shanghai => "Shanghai",
            Fork::Cancun => "Cancun",
            Fork::Prague => "Prague",
            Fork::Osaka => "Osaka",
        }
    }

    /// True when this fork includes everything `other` introduced.
    pub fn is_at_least(self, other: Fork) -> bool {
        self >= other
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order() {
        for f in Fork::ALL {
            assert_eq!(Fork::from_name(f.name()), Some(f));
        }
        assert!(Fork::Cancun.is_at_least(Fork::Berlin));
        assert!(!Fork::Istanbul.is_at_least(Fork::Berlin));
        assert_eq!(Fork::from_name("BerlinToLondonAt5"), None);
    }
}
