//! Shrinking a diverging program while the divergence (of the same kind) persists.

use crate::compare::{run_both, Kind};
use crate::program::{Item, Program};

/// At most this many comparisons (each runs qemu) per minimization.
const BUDGET: usize = 400;

/// Shrinks `p`, which diverges with `kind`: items removed (in halving chunks, then one by
/// one), loop bodies cut, initial registers zeroed, the data region zeroed. Returns the
/// smallest program found.
pub fn minimize(p: &Program, kind: Kind) -> Program {
    shrink(p, |c| matches!(run_both(&c.elf(), c.misaligned_access).2, Some(d) if d.kind == kind && d.rule.is_none()))
}

/// The shrinking itself: the smallest program found for which `still` holds (`p` must
/// satisfy it), within [`BUDGET`] calls of `still`.
pub fn shrink(p: &Program, still: impl Fn(&Program) -> bool) -> Program {
    let budget = std::cell::Cell::new(BUDGET);
    let diverges = |c: &Program| {
        if budget.get() == 0 {
            return false;
        }
        budget.set(budget.get() - 1);
        still(c)
    };
    let mut best = p.clone();
    loop {
        let mut changed = false;
        let mut chunk = best.items.len().div_ceil(2).max(1);
        loop {
            let mut start = 0;
            while start < best.items.len() {
                let end = (start + chunk).min(best.items.len());
                let mut c = best.clone();
                c.items.drain(start..end);
                if diverges(&c) {
                    best = c;
                    changed = true;
                } else {
                    start = end;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        for k in 0..best.items.len() {
            if let Item::Loop { body, .. } = &best.items[k] {
                for j in (0..body.len()).rev() {
                    let mut c = best.clone();
                    if let Item::Loop { body, .. } = &mut c.items[k] {
                        if body.len() > 1 {
                            body.remove(j);
                        }
                    }
                    if c != best && diverges(&c) {
                        best = c;
                        changed = true;
                    }
                }
            }
        }
        for r in 1..32 {
            if best.init[r] != 0 {
                let mut c = best.clone();
                c.init[r] = 0;
                if diverges(&c) {
                    best = c;
                    changed = true;
                }
            }
        }
        if best.data.iter().any(|&b| b != 0) {
            let mut c = best.clone();
            c.data.iter_mut().for_each(|b| *b = 0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::campaign_program;

    #[test]
    fn shrinks_to_what_the_predicate_needs() {
        // A program "diverges" while it has a store item and register x5 starts non-zero.
        let mut p = (0..).map(|i| campaign_program(4, i)).find(|p| p.items.len() > 20).unwrap();
        p.init[5] = 0x1234;
        p.items.insert(7, Item::Store { f3: 2, rs2: 5, base: 6, addr: crate::program::DATA_BASE, imm: 0 });
        let still = |c: &Program| c.init[5] != 0 && c.items.iter().any(|i| matches!(i, Item::Store { .. }));
        let small = shrink(&p, still);
        assert!(still(&small));
        assert_eq!(small.items.len(), 1, "{:?}", small.items);
        assert!(small.init.iter().enumerate().all(|(r, &v)| (r == 5) == (v != 0)));
        assert!(small.data.iter().all(|&b| b == 0));
        assert_eq!((small.slot, small.reserved), (p.slot, p.reserved));
    }
}
