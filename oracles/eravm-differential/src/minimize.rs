//! Shrinking a diverging case while the divergence persists.

use ee_api::U256;

use ee_eravm::Op;

use crate::builders::{nop, ret_with};
use crate::compare::{compare_caught, Case, Kind, Tamper};

/// At most this many comparisons per minimization.
const BUDGET: usize = 3_000;

/// Shrinks `case`, which diverges with `kind`, keeping every change after which it still
/// diverges with the same kind: callee contracts replaced by a bare `ret`, storage and calldata dropped,
/// instruction slots of the text replaced with `nop` (in halving chunks, then one by one),
/// constant words zeroed or cut to their low bytes, the ergs halved. Returns the smallest
/// case found (the input itself if nothing could go).
pub fn minimize(case: &Case, kind: Kind, tamper: Option<Tamper>) -> Case {
    let budget = std::cell::Cell::new(BUDGET);
    let diverges = |c: &Case| {
        if budget.get() == 0 {
            return false;
        }
        budget.set(budget.get() - 1);
        matches!(compare_caught(c, tamper), Err(d) if d.kind == kind)
    };
    let mut best = case.clone();
    let nop = nop().encode().0.to_be_bytes();
    loop {
        let mut changed = false;
        // Callee contracts replaced by a bare `ret` (removing one would leave an address the
        // oracle's world cannot run).
        let bare = ee_eravm::asm::assemble(&[ret_with(Op::Ret, 0)], &[]);
        for i in 1..best.contracts.len() {
            if best.contracts[i].code != bare {
                let mut c = best.clone();
                c.contracts[i].code = bare.clone();
                c.contracts[i].text = 1;
                if diverges(&c) {
                    best = c;
                    changed = true;
                }
            }
        }
        for j in (0..best.storage.len()).rev() {
            let mut c = best.clone();
            c.storage.remove(j);
            if diverges(&c) {
                best = c;
                changed = true;
            }
        }
        if !best.calldata.is_empty() {
            let mut c = best.clone();
            c.calldata.clear();
            if diverges(&c) {
                best = c;
                changed = true;
            }
        }
        // Instruction slots → nop, in chunks of halving size.
        for ci in 0..best.contracts.len() {
            let text = best.contracts[ci].text;
            let mut chunk = text.div_ceil(2).max(1);
            while chunk >= 1 && text > 0 {
                let mut start = 0;
                while start < text {
                    let end = (start + chunk).min(text);
                    let code = &best.contracts[ci].code;
                    if (start..end).any(|s| code[8 * s..8 * s + 8] != nop) {
                        let mut c = best.clone();
                        for s in start..end {
                            c.contracts[ci].code[8 * s..8 * s + 8].copy_from_slice(&nop);
                        }
                        if diverges(&c) {
                            best = c;
                            changed = true;
                        }
                    }
                    start = end;
                }
                if chunk == 1 {
                    break;
                }
                chunk = chunk.div_ceil(2);
            }
            // Constants: zero, then the low 8, then the low 2 bytes.
            let first = text.div_ceil(4);
            let words = best.contracts[ci].code.len() / 32;
            if text == 0 {
                continue;
            }
            for w in first..words {
                for keep in [0usize, 8, 2] {
                    let cur = &best.contracts[ci].code[32 * w..32 * w + 32];
                    let mut shrunk = [0u8; 32];
                    shrunk[32 - keep..].copy_from_slice(&cur[32 - keep..]);
                    if shrunk[..] == *cur {
                        continue;
                    }
                    let mut c = best.clone();
                    c.contracts[ci].code[32 * w..32 * w + 32].copy_from_slice(&shrunk);
                    if diverges(&c) {
                        best = c;
                        changed = true;
                        break;
                    }
                }
            }
        }
        // The ergs, halved while it still diverges.
        while best.ergs > 1 {
            let mut c = best.clone();
            c.ergs /= 2;
            if !diverges(&c) {
                break;
            }
            best = c;
            changed = true;
        }
        if best.value != 0 {
            let mut c = best.clone();
            c.value = 0;
            if diverges(&c) {
                best = c;
                changed = true;
            }
        }
        if !changed || budget.get() == 0 {
            return best;
        }
    }
}

/// Instruction slots of the text that are not `nop` (the size minimization reduces).
pub fn live_instructions(case: &Case) -> usize {
    let nop = nop().encode().0.to_be_bytes();
    case.contracts.iter().map(|c| (0..c.text).filter(|s| c.code[8 * s..8 * s + 8] != nop).count()).sum()
}

/// Non-zero constant words of every contract.
pub fn live_constants(case: &Case) -> usize {
    case.contracts
        .iter()
        .filter(|c| c.text > 0)
        .map(|c| {
            (c.text.div_ceil(4)..c.code.len() / 32)
                .filter(|&w| U256::from_be_slice(&c.code[32 * w..32 * w + 32]) != U256::ZERO)
                .count()
        })
        .sum()
}
