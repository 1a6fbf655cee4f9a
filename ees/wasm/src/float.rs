//! Float semantics the hardware does not give directly: `min`/`max` (NaN and signed zero
//! rules), `nearest` (ties to even) and the trapping float-to-int conversions.
//!
//! Sign operations (`abs`, `neg`, `copysign`) are done on bit patterns by the interpreter
//! so that NaN payloads are preserved exactly.

use crate::error::Trap;

macro_rules! min_max {
    ($min:ident, $max:ident, $t:ty) => {
        /// Minimum; any NaN operand gives a NaN, and -0 < +0.
        pub fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b; // propagates a NaN (quieted), an arithmetic NaN
            }
            if a == b {
                // Equal values: only the signed zeros differ; prefer the negative one.
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b {
                a
            } else {
                b
            }
        }

        /// Maximum; any NaN operand gives a NaN, and +0 > -0.
        pub fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b {
                a
            } else {
                b
            }
        }
    };
}
min_max!(f32_min, f32_max, f32);
min_max!(f64_min, f64_max, f64);

/// Applies a rounding function, quieting NaN inputs (libm returns a signalling NaN unchanged;
/// wasm requires an arithmetic NaN).
pub fn f32_round(a: f32, f: fn(f32) -> f32) -> f32 {
    if a.is_nan() {
        return f32::from_bits(a.to_bits() | 0x0040_0000);
    }
    f(a)
}

/// [`f32_round`] for `f64`.
pub fn f64_round(a: f64, f: fn(f64) -> f64) -> f64 {
    if a.is_nan() {
        return f64::from_bits(a.to_bits() | 0x0008_0000_0000_0000);
    }
    f(a)
}

pub fn f32_nearest(a: f32) -> f32 {
    a.round_ties_even()
}

pub fn f64_nearest(a: f64) -> f64 {
    a.round_ties_even()
}

macro_rules! trunc {
    ($name:ident, $f:ty, $i:ty, $lo:expr, $hi:expr) => {
        /// Truncation that traps on NaN and on results outside the integer range.
        /// `lo < x < hi` (exclusive bounds, exact in the float type) is the valid range.
        pub fn $name(x: $f) -> Result<$i, Trap> {
            if x.is_nan() {
                return Err(Trap::InvalidConversionToInteger);
            }
            if !(x > $lo && x < $hi) {
                return Err(Trap::IntegerOverflow);
            }
            Ok(x as $i)
        }
    };
}
// Bounds: signed lower bound is -2^(n-1) - 1 where representable, else the next float below -2^(n-1).
trunc!(i32_trunc_f32_s, f32, i32, -2147483904.0f32, 2147483648.0f32);
trunc!(i32_trunc_f32_u, f32, u32, -1.0f32, 4294967296.0f32);
trunc!(i32_trunc_f64_s, f64, i32, -2147483649.0f64, 2147483648.0f64);
trunc!(i32_trunc_f64_u, f64, u32, -1.0f64, 4294967296.0f64);
trunc!(i64_trunc_f32_s, f32, i64, -9223373136366403584.0f32, 9223372036854775808.0f32);
trunc!(i64_trunc_f32_u, f32, u64, -1.0f32, 18446744073709551616.0f32);
trunc!(i64_trunc_f64_s, f64, i64, -9223372036854777856.0f64, 9223372036854775808.0f64);
trunc!(i64_trunc_f64_u, f64, u64, -1.0f64, 18446744073709551616.0f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_nan_and_zero() {
        assert!(f32_min(f32::NAN, 1.0).is_nan());
        assert!(f64_max(1.0, f64::NAN).is_nan());
        assert_eq!(f32_min(0.0, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_max(-0.0, 0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(f64_min(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(f64_max(0.0, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(f64_min(-1.0, 2.0), -1.0);
        // A signalling NaN input comes back quieted (arithmetic NaN).
        let snan = f32::from_bits(0x7F80_0001);
        assert_eq!(f32_min(snan, 1.0).to_bits() & 0x0040_0000, 0x0040_0000);
    }

    #[test]
    fn nearest_ties_to_even() {
        assert_eq!(f32_nearest(2.5), 2.0);
        assert_eq!(f32_nearest(3.5), 4.0);
        assert_eq!(f64_nearest(-0.5).to_bits(), (-0.0f64).to_bits());
        assert!(f64_nearest(f64::NAN).is_nan());
    }

    #[test]
    fn trapping_conversions() {
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32_s(2147483648.0), Err(Trap::IntegerOverflow));
        assert_eq!(i32_trunc_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_s(-2147483649.0), Err(Trap::IntegerOverflow));
        assert_eq!(i32_trunc_f32_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f32_u(-1.0), Err(Trap::IntegerOverflow));
        assert_eq!(i64_trunc_f64_u(18446744073709549568.0), Ok(18446744073709549568));
        assert_eq!(i64_trunc_f64_s(f64::NAN), Err(Trap::InvalidConversionToInteger));
        assert_eq!(i64_trunc_f32_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_f32_s(f32::INFINITY), Err(Trap::IntegerOverflow));
    }
}
