//! Shrinks a diverging case while a divergence of the same kind persists: fewer
//! invocations (the diverging one alone, then only its export's), fewer exports, function
//! bodies replaced by `unreachable`, the start function dropped.

use crate::binary;
use crate::compare::{compare, Divergence, Tamper};
use crate::Call;

/// A case: a module and its invocations.
#[derive(Clone, Debug)]
pub struct Case {
    pub module: Vec<u8>,
    pub plan: Vec<Call>,
}

fn diverges(case: &Case, kind: &str, tamper: Option<Tamper>) -> Option<Divergence> {
    compare(&case.module, &case.plan, tamper).err().filter(|d| d.kind == kind)
}

/// The smallest case found (at most `budget` comparisons) and its divergence.
pub fn minimize(case: &Case, first: &Divergence, tamper: Option<Tamper>) -> (Case, Divergence) {
    let kind = first.kind;
    let mut best = case.clone();
    let mut last = first.clone();
    // The plan: up to the diverging invocation, then the diverging one alone, or only the
    // invocations of its export.
    let n = first.steps.len().min(best.plan.len());
    if first.kind == "outcome" || first.kind == "state" || first.kind == "panic" {
        best.plan.truncate(n);
    }
    let try_case = |c: Case, best: &mut Case, last: &mut Divergence| -> bool {
        if let Some(d) = diverges(&c, kind, tamper) {
            *best = c;
            *last = d;
            true
        } else {
            false
        }
    };
    if let Some(target) = best.plan.last().cloned() {
        let alone = Case { module: best.module.clone(), plan: vec![target.clone()] };
        if !try_case(alone, &mut best, &mut last) {
            let same: Vec<Call> = best.plan.iter().filter(|c| c.export == target.export).cloned().collect();
            let c = Case { module: best.module.clone(), plan: same };
            try_case(c, &mut best, &mut last);
        }
        // Then drop invocations one by one from the front.
        let mut i = 0;
        while i + 1 < best.plan.len() {
            let mut plan = best.plan.clone();
            plan.remove(i);
            if !try_case(Case { module: best.module.clone(), plan }, &mut best, &mut last) {
                i += 1;
            }
        }
    }
    // Exports: functions not invoked go first, then each other export alone.
    let invoked: Vec<String> = best.plan.iter().map(|c| c.export.clone()).collect();
    if let Some(m) = binary::keep_exports(&best.module, |n| invoked.iter().any(|i| i == n)) {
        try_case(Case { module: m, plan: best.plan.clone() }, &mut best, &mut last);
    }
    for (name, _) in binary::exports(&best.module) {
        if invoked.contains(&name) {
            continue;
        }
        if let Some(m) = binary::keep_exports(&best.module, |n| n != name) {
            try_case(Case { module: m, plan: best.plan.clone() }, &mut best, &mut last);
        }
    }
    if let Some(m) = binary::drop_start(&best.module) {
        try_case(Case { module: m, plan: best.plan.clone() }, &mut best, &mut last);
    }
    // Bodies: each replaced by `unreachable` while the divergence persists.
    for i in 0..binary::bodies(&best.module) {
        if let Some(m) = binary::stub_body(&best.module, i) {
            if m != best.module {
                try_case(Case { module: m, plan: best.plan.clone() }, &mut best, &mut last);
            }
        }
    }
    (best, last)
}
