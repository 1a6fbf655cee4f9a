//! BLS12-381 curve operations (EIP-2537, Prague): G1ADD 0x0b, G1MSM 0x0c,
//! G2ADD 0x0d, G2MSM 0x0e, PAIRING_CHECK 0x0f, MAP_FP_TO_G1 0x10 and
//! MAP_FP2_TO_G2 0x11, on blst (the library kzg.rs already uses).
//!
//! Encodings (EIP-2537, "Fine points and encoding of base elements"):
//! - an Fp element is 64 bytes big-endian; its top 16 bytes must be zero and
//!   the value must be below p, else the call fails;
//! - an Fp2 element `c0 + c1·v` is `encode(c0) ‖ encode(c1)` (128 bytes);
//! - a G1 point is `x ‖ y` (128 bytes), a G2 point `x ‖ y` (256 bytes); all
//!   zeros is the point at infinity, any other point must be on its curve;
//! - a scalar is 32 bytes big-endian and may be any value (not reduced-checked).
//!
//! Subgroup membership is required of MSM and pairing inputs, not of
//! G1ADD/G2ADD inputs (the EIP: "There is no subgroup check for the G1
//! addition precompile"). Variable-length inputs (MSM, pairing) must hold a
//! positive whole number of items. Every error consumes all gas ("Gas burning
//! on error").
//!
//! The `unsafe` blocks call blst's C functions on values owned here: every
//! pointer is to a live, initialized local of the matching blst type, and
//! byte pointers point at slices at least as long as blst reads or writes
//! (48 bytes for an Fp element, `nbits / 8` bytes for a scalar).

use super::{PrecompileError, PrecompileOutput, PrecompileResult};
use blst::{
    blst_bendian_from_fp, blst_final_exp, blst_fp, blst_fp12, blst_fp12_is_one, blst_fp12_mul, blst_fp2,
    blst_fp_from_bendian, blst_map_to_g1, blst_map_to_g2, blst_miller_loop, blst_p1, blst_p1_add_or_double,
    blst_p1_affine, blst_p1_affine_in_g1, blst_p1_affine_is_inf, blst_p1_affine_on_curve, blst_p1_from_affine,
    blst_p1_is_inf, blst_p1_mult, blst_p1_to_affine, blst_p2, blst_p2_add_or_double, blst_p2_affine,
    blst_p2_affine_in_g2, blst_p2_affine_is_inf, blst_p2_affine_on_curve, blst_p2_from_affine, blst_p2_is_inf,
    blst_p2_mult, blst_p2_to_affine,
};
use ee_api::CallInput;

/// G1ADD: 375 gas (EIP-2537 "Gas schedule": "G1 addition `375` gas").
const G1_ADD_GAS: u64 = 375;
/// G2ADD: 600 gas ("G2 addition `600` gas").
const G2_ADD_GAS: u64 = 600;
/// One G1 multiplication, the base of G1MSM's price ("G1 multiplication `12000` gas").
const G1_MUL_GAS: u64 = 12_000;
/// One G2 multiplication, the base of G2MSM's price ("G2 multiplication `22500` gas").
const G2_MUL_GAS: u64 = 22_500;
/// Pairing check: `32600 * k + 37700` gas for `k` pairs.
const PAIRING_PER_PAIR_GAS: u64 = 32_600;
const PAIRING_BASE_GAS: u64 = 37_700;
/// MAP_FP_TO_G1: 5500 gas.
const MAP_FP_TO_G1_GAS: u64 = 5_500;
/// MAP_FP2_TO_G2: 23800 gas.
const MAP_FP2_TO_G2_GAS: u64 = 23_800;
/// MSM price: `k * multiplication_cost * discount(k) / MSM_MULTIPLIER`.
const MSM_MULTIPLIER: u64 = 1_000;

/// One padded Fp element.
const FP_LEN: usize = 64;
/// The zero bytes that pad an Fp element's 48-byte value to 64.
const FP_PAD: usize = 16;
const G1_LEN: usize = 2 * FP_LEN;
const G2_LEN: usize = 4 * FP_LEN;
const SCALAR_LEN: usize = 32;
const G1_MSM_ITEM_LEN: usize = G1_LEN + SCALAR_LEN;
const G2_MSM_ITEM_LEN: usize = G2_LEN + SCALAR_LEN;
const PAIRING_ITEM_LEN: usize = G1_LEN + G2_LEN;

/// The only valid input lengths of the fixed-length operations.
pub(super) const G1_ADD_INPUT_LEN: usize = 2 * G1_LEN;
pub(super) const G2_ADD_INPUT_LEN: usize = 2 * G2_LEN;
pub(super) const MAP_FP_INPUT_LEN: usize = FP_LEN;
pub(super) const MAP_FP2_INPUT_LEN: usize = 2 * FP_LEN;

/// The base field modulus p, big-endian (EIP-2537 "Curve parameters").
const P: [u8; 48] = [
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7, 0x64, 0x77, 0x4b,
    0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24, 0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53,
    0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab,
];

/// G1MSM discounts for k = 1..=128 (EIP-2537 "G1/G2 MSM"; the table ends at
/// `max_discount` 519, which also prices every k > 128).
const G1_DISCOUNT: [u16; 128] = [
    1000, 949, 848, 797, 764, 750, 738, 728, 719, 712, 705, 698, 692, 687, 682, 677, 673, 669, 665, 661, 658, 654, 651,
    648, 645, 642, 640, 637, 635, 632, 630, 627, 625, 623, 621, 619, 617, 615, 613, 611, 609, 608, 606, 604, 603, 601,
    599, 598, 596, 595, 593, 592, 591, 589, 588, 586, 585, 584, 582, 581, 580, 579, 577, 576, 575, 574, 573, 572, 570,
    569, 568, 567, 566, 565, 564, 563, 562, 561, 560, 559, 558, 557, 556, 555, 554, 553, 552, 551, 550, 549, 548, 547,
    547, 546, 545, 544, 543, 542, 541, 540, 540, 539, 538, 537, 536, 536, 535, 534, 533, 532, 532, 531, 530, 529, 528,
    528, 527, 526, 525, 525, 524, 523, 522, 522, 521, 520, 520, 519,
];

/// G2MSM discounts for k = 1..=128; the last entry, 524, is G2's `max_discount`.
const G2_DISCOUNT: [u16; 128] = [
    1000, 1000, 923, 884, 855, 832, 812, 796, 782, 770, 759, 749, 740, 732, 724, 717, 711, 704, 699, 693, 688, 683,
    679, 674, 670, 666, 663, 659, 655, 652, 649, 646, 643, 640, 637, 634, 632, 629, 627, 624, 622, 620, 618, 615, 613,
    611, 609, 607, 606, 604, 602, 600, 598, 597, 595, 593, 592, 590, 589, 587, 586, 584, 583, 582, 580, 579, 578, 576,
    575, 574, 573, 571, 570, 569, 568, 567, 566, 565, 563, 562, 561, 560, 559, 558, 557, 556, 555, 554, 553, 552, 552,
    551, 550, 549, 548, 547, 546, 545, 545, 544, 543, 542, 541, 541, 540, 539, 538, 537, 537, 536, 535, 535, 534, 533,
    532, 532, 531, 530, 530, 529, 528, 528, 527, 526, 526, 525, 524, 524,
];

/// `k * multiplication_cost * discount(k) / 1000`, with the table's last
/// value for k past its end; zero for k = 0 (whose call fails anyway).
fn msm_gas(k: usize, multiplication_cost: u64, discounts: &[u16; 128]) -> u64 {
    if k == 0 {
        return 0;
    }
    let discount = u64::from(discounts[(k - 1).min(discounts.len() - 1)]);
    (k as u64).saturating_mul(multiplication_cost).saturating_mul(discount) / MSM_MULTIPLIER
}

/// A padded 64-byte Fp element: top 16 bytes zero, value below p.
fn fp(bytes: &[u8]) -> Result<blst_fp, PrecompileError> {
    let (pad, value) = bytes[..FP_LEN].split_at(FP_PAD);
    // Big-endian byte strings of one length compare as the numbers they encode.
    if pad.iter().any(|b| *b != 0) || value >= &P[..] {
        return Err(PrecompileError::Failure);
    }
    let mut out = blst_fp::default();
    // SAFETY: see the module note; `value` is 48 bytes.
    unsafe { blst_fp_from_bendian(&mut out, value.as_ptr()) };
    Ok(out)
}

/// A 128-byte Fp2 element `c0 ‖ c1`.
fn fp2(bytes: &[u8]) -> Result<blst_fp2, PrecompileError> {
    Ok(blst_fp2 { fp: [fp(&bytes[..FP_LEN])?, fp(&bytes[FP_LEN..2 * FP_LEN])?] })
}

/// A G1 point (128 bytes) on the curve or at infinity; in G1 too when `in_subgroup`.
fn g1(bytes: &[u8], in_subgroup: bool) -> Result<blst_p1_affine, PrecompileError> {
    let point = blst_p1_affine { x: fp(&bytes[..FP_LEN])?, y: fp(&bytes[FP_LEN..G1_LEN])? };
    // blst reads the all-zero affine point (which the all-zero encoding decodes to) as
    // infinity, and counts it both on the curve and in the subgroup.
    // SAFETY: see the module note.
    let ok = unsafe { blst_p1_affine_on_curve(&point) && (!in_subgroup || blst_p1_affine_in_g1(&point)) };
    if ok {
        Ok(point)
    } else {
        Err(PrecompileError::Failure)
    }
}

/// A G2 point (256 bytes) on the twist or at infinity; in G2 too when `in_subgroup`.
fn g2(bytes: &[u8], in_subgroup: bool) -> Result<blst_p2_affine, PrecompileError> {
    let point = blst_p2_affine { x: fp2(&bytes[..2 * FP_LEN])?, y: fp2(&bytes[2 * FP_LEN..G2_LEN])? };
    // SAFETY: see the module note.
    let ok = unsafe { blst_p2_affine_on_curve(&point) && (!in_subgroup || blst_p2_affine_in_g2(&point)) };
    if ok {
        Ok(point)
    } else {
        Err(PrecompileError::Failure)
    }
}

/// Writes `value` as a padded 64-byte element into `out[..64]`.
fn put_fp(out: &mut [u8], value: &blst_fp) {
    // SAFETY: see the module note; `out[16..64]` is 48 bytes.
    unsafe { blst_bendian_from_fp(out[FP_PAD..FP_LEN].as_mut_ptr(), value) };
}

/// 128 bytes `x ‖ y`; all zeros for infinity.
fn encode_g1(point: &blst_p1) -> Vec<u8> {
    let mut out = vec![0u8; G1_LEN];
    let mut affine = blst_p1_affine::default();
    // SAFETY: see the module note.
    let infinity = unsafe { blst_p1_is_inf(point) };
    if !infinity {
        // SAFETY: see the module note.
        unsafe { blst_p1_to_affine(&mut affine, point) };
        put_fp(&mut out[..FP_LEN], &affine.x);
        put_fp(&mut out[FP_LEN..], &affine.y);
    }
    out
}

/// 256 bytes `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`; all zeros for infinity.
fn encode_g2(point: &blst_p2) -> Vec<u8> {
    let mut out = vec![0u8; G2_LEN];
    let mut affine = blst_p2_affine::default();
    // SAFETY: see the module note.
    let infinity = unsafe { blst_p2_is_inf(point) };
    if !infinity {
        // SAFETY: see the module note.
        unsafe { blst_p2_to_affine(&mut affine, point) };
        let coords = [&affine.x.fp[0], &affine.x.fp[1], &affine.y.fp[0], &affine.y.fp[1]];
        for (chunk, value) in out.chunks_exact_mut(FP_LEN).zip(coords) {
            put_fp(chunk, value);
        }
    }
    out
}

/// The projective form of an affine G1 point (infinity stays infinity).
fn p1(affine: &blst_p1_affine) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: see the module note.
    unsafe { blst_p1_from_affine(&mut out, affine) };
    out
}

fn p2(affine: &blst_p2_affine) -> blst_p2 {
    let mut out = blst_p2::default();
    // SAFETY: see the module note.
    unsafe { blst_p2_from_affine(&mut out, affine) };
    out
}

/// a + b, for any two points of the curve (blst's formula handles doubling and infinity).
fn add_p1(a: &blst_p1, b: &blst_p1) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: see the module note.
    unsafe { blst_p1_add_or_double(&mut out, a, b) };
    out
}

fn add_p2(a: &blst_p2, b: &blst_p2) -> blst_p2 {
    let mut out = blst_p2::default();
    // SAFETY: see the module note.
    unsafe { blst_p2_add_or_double(&mut out, a, b) };
    out
}

/// The scalar's 32 big-endian bytes as the little-endian bytes blst multiplies by.
/// Any 256-bit value is allowed: blst multiplies by scalars at or above the
/// group order with its generic ladder, which is exact for points of G1/G2.
fn scalar_le(bytes: &[u8]) -> [u8; SCALAR_LEN] {
    let mut out = [0u8; SCALAR_LEN];
    for (o, b) in out.iter_mut().zip(bytes[..SCALAR_LEN].iter().rev()) {
        *o = *b;
    }
    out
}

/// Fails with `OutOfGas` when `cost` exceeds `gas_limit`.
fn charge(cost: u64, gas_limit: u64) -> Result<(), PrecompileError> {
    if cost > gas_limit {
        Err(PrecompileError::OutOfGas)
    } else {
        Ok(())
    }
}

/// Fails unless the input is a positive whole number of `item_len`-byte items.
fn check_items(len: usize, item_len: usize) -> Result<(), PrecompileError> {
    if len == 0 || !len.is_multiple_of(item_len) {
        Err(PrecompileError::Failure)
    } else {
        Ok(())
    }
}

/// G1ADD (0x0b): two G1 points (256 bytes) → their sum (128 bytes). No subgroup check.
pub(super) fn g1_add(input: &[u8], gas_limit: u64) -> PrecompileResult {
    charge(G1_ADD_GAS, gas_limit)?;
    if input.len() != G1_ADD_INPUT_LEN {
        return Err(PrecompileError::Failure);
    }
    let a = g1(&input[..G1_LEN], false)?;
    let b = g1(&input[G1_LEN..], false)?;
    Ok(PrecompileOutput { gas_used: G1_ADD_GAS, output: encode_g1(&add_p1(&p1(&a), &p1(&b))) })
}

/// G2ADD (0x0d): two G2 points (512 bytes) → their sum (256 bytes). No subgroup check.
pub(super) fn g2_add(input: &[u8], gas_limit: u64) -> PrecompileResult {
    charge(G2_ADD_GAS, gas_limit)?;
    if input.len() != G2_ADD_INPUT_LEN {
        return Err(PrecompileError::Failure);
    }
    let a = g2(&input[..G2_LEN], false)?;
    let b = g2(&input[G2_LEN..], false)?;
    Ok(PrecompileOutput { gas_used: G2_ADD_GAS, output: encode_g2(&add_p2(&p2(&a), &p2(&b))) })
}

/// G1MSM (0x0c): k (G1 point, scalar) pairs of 160 bytes → Σ scalarᵢ·Pᵢ (128 bytes).
/// Priced by the input's length before any of it is read.
pub(super) fn g1_msm(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    let gas = msm_gas(input.len() / G1_MSM_ITEM_LEN, G1_MUL_GAS, &G1_DISCOUNT);
    charge(gas, gas_limit)?;
    check_items(input.len(), G1_MSM_ITEM_LEN)?;
    let input = input.to_cow();
    let mut sum = blst_p1::default(); // all zeros: the point at infinity
    for item in input.chunks_exact(G1_MSM_ITEM_LEN) {
        let point = g1(&item[..G1_LEN], true)?;
        let scalar = scalar_le(&item[G1_LEN..]);
        // SAFETY: see the module note.
        if unsafe { blst_p1_affine_is_inf(&point) } || scalar == [0; SCALAR_LEN] {
            continue;
        }
        let mut product = blst_p1::default();
        // SAFETY: see the module note; `scalar` holds the 32 bytes of 256 bits.
        unsafe { blst_p1_mult(&mut product, &p1(&point), scalar.as_ptr(), 8 * SCALAR_LEN) };
        sum = add_p1(&sum, &product);
    }
    Ok(PrecompileOutput { gas_used: gas, output: encode_g1(&sum) })
}

/// G2MSM (0x0e): k (G2 point, scalar) pairs of 288 bytes → Σ scalarᵢ·Qᵢ (256 bytes).
pub(super) fn g2_msm(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    let gas = msm_gas(input.len() / G2_MSM_ITEM_LEN, G2_MUL_GAS, &G2_DISCOUNT);
    charge(gas, gas_limit)?;
    check_items(input.len(), G2_MSM_ITEM_LEN)?;
    let input = input.to_cow();
    let mut sum = blst_p2::default();
    for item in input.chunks_exact(G2_MSM_ITEM_LEN) {
        let point = g2(&item[..G2_LEN], true)?;
        let scalar = scalar_le(&item[G2_LEN..]);
        // SAFETY: see the module note.
        if unsafe { blst_p2_affine_is_inf(&point) } || scalar == [0; SCALAR_LEN] {
            continue;
        }
        let mut product = blst_p2::default();
        // SAFETY: see the module note; `scalar` holds the 32 bytes of 256 bits.
        unsafe { blst_p2_mult(&mut product, &p2(&point), scalar.as_ptr(), 8 * SCALAR_LEN) };
        sum = add_p2(&sum, &product);
    }
    Ok(PrecompileOutput { gas_used: gas, output: encode_g2(&sum) })
}

/// PAIRING_CHECK (0x0f): k (G1, G2) pairs of 384 bytes → 32 bytes, 1 when
/// e(P₁, Q₁)·…·e(Pₖ, Qₖ) = 1 and else 0. Every point must be in its subgroup;
/// a pair with a point at infinity contributes 1.
pub(super) fn pairing(input: &CallInput, gas_limit: u64) -> PrecompileResult {
    let pairs = (input.len() / PAIRING_ITEM_LEN) as u64;
    let gas = PAIRING_PER_PAIR_GAS.saturating_mul(pairs).saturating_add(PAIRING_BASE_GAS);
    charge(gas, gas_limit)?;
    check_items(input.len(), PAIRING_ITEM_LEN)?;
    let input = input.to_cow();
    // Every point is decoded and checked before any pairing is computed.
    let mut points = Vec::with_capacity(input.len() / PAIRING_ITEM_LEN);
    for item in input.chunks_exact(PAIRING_ITEM_LEN) {
        let p = g1(&item[..G1_LEN], true)?;
        let q = g2(&item[G1_LEN..], true)?;
        // SAFETY: see the module note.
        if unsafe { !blst_p1_affine_is_inf(&p) && !blst_p2_affine_is_inf(&q) } {
            points.push((p, q));
        }
    }
    let mut product: Option<blst_fp12> = None;
    for (p, q) in &points {
        let mut miller = blst_fp12::default();
        // SAFETY: see the module note.
        unsafe { blst_miller_loop(&mut miller, q, p) };
        product = Some(match product {
            None => miller,
            Some(acc) => {
                let mut next = blst_fp12::default();
                // SAFETY: see the module note.
                unsafe { blst_fp12_mul(&mut next, &acc, &miller) };
                next
            }
        });
    }
    let is_one = match product {
        None => true,
        Some(acc) => {
            let mut result = blst_fp12::default();
            // SAFETY: see the module note.
            unsafe {
                blst_final_exp(&mut result, &acc);
                blst_fp12_is_one(&result)
            }
        }
    };
    let mut output = vec![0u8; 32];
    output[31] = u8::from(is_one);
    Ok(PrecompileOutput { gas_used: gas, output })
}

/// MAP_FP_TO_G1 (0x10): an Fp element (64 bytes) → a G1 point (128 bytes), by
/// the hash-to-curve draft's simplified SWU map to the 11-isogenous curve, the
/// isogeny, and cofactor clearing (blst's `map_to_g1` with one element).
pub(super) fn map_fp_to_g1(input: &[u8], gas_limit: u64) -> PrecompileResult {
    charge(MAP_FP_TO_G1_GAS, gas_limit)?;
    if input.len() != MAP_FP_INPUT_LEN {
        return Err(PrecompileError::Failure);
    }
    let u = fp(input)?;
    let mut point = blst_p1::default();
    // SAFETY: see the module note; a null second element asks for the single-element map.
    unsafe { blst_map_to_g1(&mut point, &u, std::ptr::null()) };
    Ok(PrecompileOutput { gas_used: MAP_FP_TO_G1_GAS, output: encode_g1(&point) })
}

/// MAP_FP2_TO_G2 (0x11): an Fp2 element (128 bytes) → a G2 point (256 bytes),
/// by the same construction over Fp2 (3-isogeny).
pub(super) fn map_fp2_to_g2(input: &[u8], gas_limit: u64) -> PrecompileResult {
    charge(MAP_FP2_TO_G2_GAS, gas_limit)?;
    if input.len() != MAP_FP2_INPUT_LEN {
        return Err(PrecompileError::Failure);
    }
    let u = fp2(input)?;
    let mut point = blst_p2::default();
    // SAFETY: see the module note; a null second element asks for the single-element map.
    unsafe { blst_map_to_g2(&mut point, &u, std::ptr::null()) };
    Ok(PrecompileOutput { gas_used: MAP_FP2_TO_G2_GAS, output: encode_g2(&point) })
}

#[cfg(test)]
mod tests {
    use super::super::{addr, run, PrecompileError, PrecompileOutput};
    use super::{msm_gas, G1_DISCOUNT, G1_MUL_GAS, G2_DISCOUNT, G2_MUL_GAS};
    use crate::test_hex as hex;
    use ee_api::{Fork, U256};

    /// A 48-byte (96 hex digits) value as a padded 64-byte field element.
    fn fp(h: &str) -> String {
        assert_eq!(h.len(), 96);
        format!("{}{h}", "00".repeat(16))
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn zeros(bytes: usize) -> String {
        "00".repeat(bytes)
    }

    /// A 32-byte big-endian scalar.
    fn scalar(v: U256) -> String {
        to_hex(&v.to_be_bytes::<32>())
    }

    // Points from the EIP-2537 curve parameters and its test vectors (assets/eip-2537).
    const G1_X: &str =
        "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
    const G1_Y: &str =
        "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1";
    const NEG_G1_Y: &str =
        "114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca";
    const P1_X: &str =
        "112b98340eee2777cc3c14163dea3ec97977ac3dc5c70da32e6e87578f44912e902ccef9efe28d4a78b8999dfbca9426";
    const P1_Y: &str =
        "186b28d92356c4dfec4b5201ad099dbdede3781f8998ddf929b4cd7756192185ca7b8f4ef7088f813270ac3d48868a21";
    /// G1 + P1 ("bls_g1add_g1+p1").
    const G1_P1_X: &str =
        "0a40300ce2dec9888b60690e9a41d3004fda4886854573974fab73b046d3147ba5b7a5bde85279ffede1b45b3918d82d";
    const G1_P1_Y: &str =
        "06d3d887e9f53b9ec4eb6cedf5607226754b07c01ace7834f57f3e7315faefb739e59018e22c492006190fba4a870025";
    /// 2·G1 ("bls_g1add_(g1+g1=2*g1)").
    const TWO_G1_X: &str =
        "0572cbea904d67468808c8eb50a9450c9721db309128012543902d0ac358a62ae28f75bb8f1c7c42c39a8c5529bf0f4e";
    const TWO_G1_Y: &str =
        "166a9d8cabc673a322fda673779d8e3822ba3ecb8670e461f73bb9021d5fd76a4c56d9d4cd16bd1bba86881979749d28";
    const G2_X0: &str =
        "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";
    const G2_X1: &str =
        "13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e";
    const G2_Y0: &str =
        "0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801";
    const G2_Y1: &str =
        "0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be";
    const NEG_G2_Y0: &str =
        "0d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa";
    const NEG_G2_Y1: &str =
        "13fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";
    /// The group order q and the field modulus p (EIP-2537 "Curve parameters").
    const Q: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";
    const P: &str = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
    /// (4, sqrt(4³ + 4)): on the G1 curve but, like almost every curve point, not in G1
    /// (computed for this test: 4 is the smallest x > 0 with x³ + 4 a square mod p).
    const OFF_G1_Y: &str =
        "0a989badd40d6212b33cffc3f3763e9bc760f988c9926b26da9dd85e928483446346b8ed00e1de5d5ea93e354abe706c";
    /// (2, sqrt(2³ + 4(1 + i))): on the G2 twist, not in G2 (computed the same way).
    const OFF_G2_Y0: &str =
        "18c6b864ae17dc9da64203ffefb966306425a7bc6aeb7c75247438372716284a4173830420cd476ba1a365b95bfcec38";
    const OFF_G2_Y1: &str =
        "172e93db764a8400a7d5071b6b6f5de0da2f0f4a063119abca014006b7c40a2cfe291a1924e65db0d6d0fcfbf3bf3d5c";

    fn small_fp(v: u8) -> String {
        format!("{}{v:02x}", "00".repeat(63))
    }
    fn g1() -> String {
        fp(G1_X) + &fp(G1_Y)
    }
    fn neg_g1() -> String {
        fp(G1_X) + &fp(NEG_G1_Y)
    }
    fn p1() -> String {
        fp(P1_X) + &fp(P1_Y)
    }
    fn g2() -> String {
        fp(G2_X0) + &fp(G2_X1) + &fp(G2_Y0) + &fp(G2_Y1)
    }
    fn neg_g2() -> String {
        fp(G2_X0) + &fp(G2_X1) + &fp(NEG_G2_Y0) + &fp(NEG_G2_Y1)
    }
    fn off_g1() -> String {
        small_fp(4) + &fp(OFF_G1_Y)
    }
    fn off_g2() -> String {
        small_fp(2) + &zeros(64) + &fp(OFF_G2_Y0) + &fp(OFF_G2_Y1)
    }

    fn call(n: u8, input: &str, gas: u64) -> Result<PrecompileOutput, PrecompileError> {
        run(&addr(n), &hex(input), gas, Fork::Prague)
    }
    fn out(n: u8, input: &str) -> Vec<u8> {
        call(n, input, 100_000_000).expect("valid input").output
    }
    fn fails(n: u8, input: &str) {
        assert_eq!(call(n, input, 100_000_000), Err(PrecompileError::Failure), "precompile {n:#x}, input {input}");
    }

    #[test]
    fn g1_add_eip_vectors_and_gas() {
        let sum = call(0x0b, &(g1() + &p1()), 375).unwrap();
        assert_eq!(sum, PrecompileOutput { gas_used: 375, output: hex(&(fp(G1_P1_X) + &fp(G1_P1_Y))) });
        assert_eq!(out(0x0b, &(p1() + &g1())), hex(&(fp(G1_P1_X) + &fp(G1_P1_Y))));
        assert_eq!(out(0x0b, &(g1() + &g1())), hex(&(fp(TWO_G1_X) + &fp(TWO_G1_Y))));
        assert_eq!(out(0x0b, &(g1() + &zeros(128))), hex(&g1()));
        assert_eq!(out(0x0b, &(zeros(128) + &zeros(128))), vec![0u8; 128]);
        assert_eq!(out(0x0b, &(g1() + &neg_g1())), vec![0u8; 128]);
        assert_eq!(call(0x0b, &(g1() + &p1()), 374), Err(PrecompileError::OutOfGas));
        // Lengths other than 256 fail, after the gas check.
        for len in [0, 128, 255, 257, 512] {
            fails(0x0b, &zeros(len));
            assert_eq!(call(0x0b, &zeros(len), 374), Err(PrecompileError::OutOfGas));
        }
    }

    #[test]
    fn g1_encoding_rules() {
        // A nonzero byte in the 16 bytes of padding fails, even where the value is fine.
        let mut padded = g1();
        padded.replace_range(0..2, "01");
        fails(0x0b, &(padded + &zeros(128)));
        let mut padded = zeros(128);
        padded.replace_range(30..32, "01"); // byte 15 of the infinity point's x
        fails(0x0b, &(g1() + &padded));
        // A coordinate equal to p fails (p reads as 0 only if one forgets the range check).
        fails(0x0b, &(fp(P) + &fp(G1_Y) + &zeros(128)));
        fails(0x0b, &(g1() + &fp(G1_X) + &fp(P)));
        // Not on the curve: G1 with y + 1.
        let mut bad_y = fp(G1_Y);
        bad_y.replace_range(126..128, "e2");
        fails(0x0b, &(fp(G1_X) + &bad_y + &zeros(128)));
        // (0, 2) is a real curve point (0³ + 4 = 2²), not infinity: only all zeros is infinity.
        let zero_two = zeros(64) + &small_fp(2);
        assert_eq!(out(0x0b, &(zero_two.clone() + &zeros(128))), hex(&zero_two));
        // (0, 1) is neither infinity nor on the curve.
        fails(0x0b, &(zeros(64) + &small_fp(1) + &zeros(128)));
    }

    #[test]
    fn additions_skip_the_subgroup_check_but_msm_and_pairing_do_not() {
        // A curve point outside G1 adds fine: off + 0 = off, off + off is a curve point.
        assert_eq!(out(0x0b, &(off_g1() + &zeros(128))), hex(&off_g1()));
        let doubled = out(0x0b, &(off_g1() + &off_g1()));
        assert_ne!(doubled, vec![0u8; 128]);
        assert_ne!(doubled, hex(&off_g1()));
        // The double is a curve point too: it reads back as a valid G1ADD input.
        assert_eq!(out(0x0b, &(zeros(128) + &to_hex(&doubled))), doubled);
        // The same for G2.
        assert_eq!(out(0x0d, &(off_g2() + &zeros(256))), hex(&off_g2()));
        // MSM and pairing refuse them.
        fails(0x0c, &(off_g1() + &scalar(U256::from(1))));
        fails(0x0e, &(off_g2() + &scalar(U256::from(1))));
        fails(0x0f, &(off_g1() + &g2()));
        fails(0x0f, &(g1() + &off_g2()));
        // ... even with a zero scalar, or when another pair would be skipped.
        fails(0x0c, &(g1() + &scalar(U256::from(1)) + &off_g1() + &scalar(U256::ZERO)));
        fails(0x0f, &(zeros(128) + &off_g2()));
    }

    #[test]
    fn g1_msm_values() {
        let one = scalar(U256::from(1));
        let two = scalar(U256::from(2));
        let g1_sum = hex(&(fp(G1_P1_X) + &fp(G1_P1_Y)));
        assert_eq!(
            call(0x0c, &(g1() + &two), 12_000),
            Ok(PrecompileOutput { gas_used: 12_000, output: hex(&(fp(TWO_G1_X) + &fp(TWO_G1_Y))) })
        );
        assert_eq!(out(0x0c, &(g1() + &one + &p1() + &one)), g1_sum);
        // q·G1 = 0, 0·G1 = 0, k·0 = 0.
        assert_eq!(out(0x0c, &(g1() + Q)), vec![0u8; 128]);
        assert_eq!(out(0x0c, &(g1() + &scalar(U256::ZERO))), vec![0u8; 128]);
        assert_eq!(out(0x0c, &(zeros(128) + &two)), vec![0u8; 128]);
        // Scalars are not reduced-checked: (q + 2)·G1 = 2·G1, and 2²⁵⁶ - 1 = (2²⁵⁶ - 1 mod q).
        let q: U256 = U256::from_str_radix(Q, 16).unwrap();
        assert_eq!(out(0x0c, &(g1() + &scalar(q + U256::from(2)))), out(0x0c, &(g1() + &two)));
        assert_eq!(out(0x0c, &(g1() + &scalar(U256::MAX))), out(0x0c, &(g1() + &scalar(U256::MAX % q))));
        // (q - 1)·G1 = -G1.
        assert_eq!(out(0x0c, &(g1() + &scalar(q - U256::from(1)))), hex(&neg_g1()));
        // Gas: 2 pairs cost 2 · 12000 · 949 / 1000 = 22776.
        let two_pairs = g1() + &one + &p1() + &one;
        assert_eq!(call(0x0c, &two_pairs, 22_776).map(|o| o.gas_used), Ok(22_776));
        assert_eq!(call(0x0c, &two_pairs, 22_775), Err(PrecompileError::OutOfGas));
        assert_eq!(call(0x0c, &(g1() + &two), 11_999), Err(PrecompileError::OutOfGas));
        // Empty input and partial items fail.
        for len in [0, 128, 159, 161, 319] {
            fails(0x0c, &zeros(len));
        }
    }

    #[test]
    fn msm_discount_tables() {
        // EIP-2537: k · multiplication_cost · discount(k) / 1000, the last entry (519 for G1,
        // 524 for G2) for k > 128.
        assert_eq!(G1_DISCOUNT.len(), 128);
        assert_eq!(G2_DISCOUNT.len(), 128);
        assert_eq!((G1_DISCOUNT[0], G1_DISCOUNT[1], G1_DISCOUNT[127]), (1000, 949, 519));
        assert_eq!((G2_DISCOUNT[0], G2_DISCOUNT[1], G2_DISCOUNT[2], G2_DISCOUNT[127]), (1000, 1000, 923, 524));
        assert!(G1_DISCOUNT.windows(2).all(|w| w[0] >= w[1]));
        assert!(G2_DISCOUNT.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(msm_gas(0, G1_MUL_GAS, &G1_DISCOUNT), 0);
        assert_eq!(msm_gas(1, G1_MUL_GAS, &G1_DISCOUNT), 12_000);
        assert_eq!(msm_gas(128, G1_MUL_GAS, &G1_DISCOUNT), 128 * 12_000 * 519 / 1000);
        assert_eq!(msm_gas(129, G1_MUL_GAS, &G1_DISCOUNT), 129 * 12_000 * 519 / 1000);
        assert_eq!(msm_gas(3, G2_MUL_GAS, &G2_DISCOUNT), 62_302); // 3 · 22500 · 923 / 1000, rounded down
        assert_eq!(msm_gas(1000, G2_MUL_GAS, &G2_DISCOUNT), 1000 * 22_500 * 524 / 1000);
        // Past the table, through the dispatcher: 129 infinity pairs.
        let input = zeros(129 * 160);
        let gas = 129 * 12_000 * 519 / 1000;
        assert_eq!(call(0x0c, &input, gas), Ok(PrecompileOutput { gas_used: gas, output: vec![0u8; 128] }));
        assert_eq!(call(0x0c, &input, gas - 1), Err(PrecompileError::OutOfGas));
    }

    #[test]
    fn g2_add_and_msm() {
        let two_g2 = out(0x0d, &(g2() + &g2()));
        assert_eq!(call(0x0d, &(g2() + &g2()), 600).map(|o| o.gas_used), Ok(600));
        assert_eq!(call(0x0d, &(g2() + &g2()), 599), Err(PrecompileError::OutOfGas));
        assert_eq!(out(0x0d, &(g2() + &neg_g2())), vec![0u8; 256]);
        assert_eq!(out(0x0d, &(zeros(256) + &g2())), hex(&g2()));
        assert_eq!(out(0x0e, &(g2() + &scalar(U256::from(2)))), two_g2);
        assert_eq!(call(0x0e, &(g2() + &scalar(U256::from(2))), 22_500).map(|o| o.gas_used), Ok(22_500));
        assert_eq!(call(0x0e, &(g2() + &scalar(U256::from(2))), 22_499), Err(PrecompileError::OutOfGas));
        let q: U256 = U256::from_str_radix(Q, 16).unwrap();
        assert_eq!(out(0x0e, &(g2() + &scalar(q - U256::from(1)))), hex(&neg_g2()));
        assert_eq!(out(0x0e, &(g2() + Q)), vec![0u8; 256]);
        // G2 + G2 really is 2·G2: e(2·G1, G2) · e(-G1, 2·G2) = 1.
        let input = fp(TWO_G1_X) + &fp(TWO_G1_Y) + &g2() + &neg_g1() + &to_hex(&two_g2);
        assert_eq!(out(0x0f, &input), one_word());
        for len in [0, 256, 511, 513] {
            fails(0x0d, &zeros(len));
        }
        for len in [0, 256, 287, 289] {
            fails(0x0e, &zeros(len));
        }
        // An Fp2 coordinate's second half ≥ p fails.
        fails(0x0d, &(fp(G2_X0) + &fp(P) + &fp(G2_Y0) + &fp(G2_Y1) + &zeros(256)));
    }

    fn one_word() -> Vec<u8> {
        let mut one = vec![0u8; 32];
        one[31] = 1;
        one
    }

    #[test]
    fn pairing_eip_vectors_and_gas() {
        // "bls_pairing_e(G1,-G2)=e(-G1,G2)"-style: e(G1, G2) · e(G1, -G2) = 1.
        let balanced = g1() + &g2() + &g1() + &neg_g2();
        assert_eq!(call(0x0f, &balanced, 102_900), Ok(PrecompileOutput { gas_used: 102_900, output: one_word() }));
        assert_eq!(call(0x0f, &balanced, 102_899), Err(PrecompileError::OutOfGas));
        // Non-degeneracy: e(G1, G2) ≠ 1.
        assert_eq!(
            call(0x0f, &(g1() + &g2()), 70_300),
            Ok(PrecompileOutput { gas_used: 70_300, output: vec![0u8; 32] })
        );
        // Bilinearity: e(G1, G2) · e(P1, G2) · e(G1 + P1, -G2) = 1.
        let sum = fp(G1_P1_X) + &fp(G1_P1_Y);
        assert_eq!(out(0x0f, &(g1() + &g2() + &p1() + &g2() + &sum + &neg_g2())), one_word());
        // Pairs with a point at infinity contribute 1.
        assert_eq!(out(0x0f, &(zeros(128) + &g2())), one_word());
        assert_eq!(out(0x0f, &(g1() + &zeros(256))), one_word());
        assert_eq!(out(0x0f, &zeros(384 * 3)), one_word());
        for len in [0, 383, 385, 767] {
            fails(0x0f, &zeros(len));
        }
    }

    #[test]
    fn map_eip_vectors() {
        // "bls_g1map_" and "bls_g2map_" of assets/eip-2537.
        let u = "156c8a6a2c184569d69a76be144b5cdc5141d2d2ca4fe341f011e25e3969c55ad9e9b9ce2eb833c81a908e5fa4ac5f03";
        let expected =
            fp("184bb665c37ff561a89ec2122dd343f20e0f4cbcaec84e3c3052ea81d1834e192c426074b02ed3dca4e7676ce4ce48ba")
                + &fp(
                    "04407b8d35af4dacc809927071fc0405218f1401a6d15af775810e4e460064bcc9468beeba82fdc751be70476c888bf3",
                );
        assert_eq!(call(0x10, &fp(u), 5_500), Ok(PrecompileOutput { gas_used: 5_500, output: hex(&expected) }));
        assert_eq!(call(0x10, &fp(u), 5_499), Err(PrecompileError::OutOfGas));
        let u2 = fp("07355d25caf6e7f2f0cb2812ca0e513bd026ed09dda65b177500fa31714e09ea0ded3a078b526bed3307f804d4b93b04")
            + &fp("02829ce3c021339ccb5caf3e187f6370e1e2a311dec9b75363117063ab2015603ff52c3d3b98f19c2f65575e99e8b78c");
        let expected2 =
            fp("00e7f4568a82b4b7dc1f14c6aaa055edf51502319c723c4dc2688c7fe5944c213f510328082396515734b6612c4e7bb7")
                + &fp(
                    "126b855e9e69b1f691f816e48ac6977664d24d99f8724868a184186469ddfd4617367e94527d4b74fc86413483afb35b",
                )
                + &fp(
                    "0caead0fd7b6176c01436833c79d305c78be307da5f6af6c133c47311def6ff1e0babf57a0fb5539fce7ee12407b0a42",
                )
                + &fp(
                    "1498aadcf7ae2b345243e281ae076df6de84455d766ab6fcdaad71fab60abb2e8b980a440043cd305db09d283c895e3d",
                );
        assert_eq!(call(0x11, &u2, 23_800), Ok(PrecompileOutput { gas_used: 23_800, output: hex(&expected2) }));
        assert_eq!(call(0x11, &u2, 23_799), Err(PrecompileError::OutOfGas));
        // The mapped points are in their subgroups: MSM accepts them.
        assert!(call(0x0c, &(expected + &scalar(U256::from(3))), 12_000).is_ok());
        assert!(call(0x0e, &(expected2 + &scalar(U256::from(3))), 22_500).is_ok());
        // Invalid encodings and lengths.
        fails(0x10, &fp(P));
        fails(0x10, &("01".to_string() + &zeros(63)));
        fails(0x11, &(fp(P) + &zeros(64)));
        fails(0x11, &(zeros(64) + &fp(P)));
        for len in [0, 63, 65, 128] {
            fails(0x10, &zeros(len));
        }
        for len in [0, 64, 127, 129] {
            fails(0x11, &zeros(len));
        }
    }

    #[test]
    fn inactive_before_prague() {
        let input = hex(&(g1() + &g1()));
        let none = Ok(PrecompileOutput { gas_used: 0, output: vec![] });
        for n in 0x0b..=0x11 {
            assert_eq!(run(&addr(n), &input, 1_000_000, Fork::Cancun), none);
        }
        assert_eq!(
            run(&addr(0x0b), &input, 1_000_000, Fork::Osaka).unwrap().output,
            hex(&(fp(TWO_G1_X) + &fp(TWO_G1_Y)))
        );
    }
}
