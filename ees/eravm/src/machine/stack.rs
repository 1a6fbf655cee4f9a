//! A far-call stack of EraVM frames over a [`MemoryWorld`], without the bootloader: what
//! tests, benchmarks and the differential use to run EraVM-only worlds the way vm2 runs them
//! (the bootloader drives the same [`Machine`] yields when EraVM shares a world with the other
//! EEs).

use std::collections::HashMap;
use std::sync::Arc;

use ee_api::U256;

use super::far_call::{FarReturn, ReturnKind};
use super::world::{MemoryWorld, TxState, World};
use super::{Entry, Machine, Status, Step};
use crate::program::Program;

/// How the entry frame ended, with the counts of the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackOutcome {
    /// `Success`, `Revert`, `Panic`, `StepLimit` or `Unsupported` (never `FarCall`).
    pub status: Status,
    pub return_data: Vec<u8>,
    /// The entry frame's ergs at the end.
    pub ergs_left: u32,
    /// Instructions executed in every frame.
    pub instructions: u64,
}

/// Runs `program` as the entry frame `entry` and every far call it leads to, at most
/// `step_limit` instructions in all. A frame that reverts or panics has its world changes
/// undone, the entry frame's included (vm2 leaves the entry frame to its caller; the oracle
/// rolls it back, and so does this). With `trace`, one [`Step`] per instruction in vm2's
/// order: a far call's step shows the callee's first state, a far return's the caller's
/// state after it.
pub fn run_stack(
    world: &mut MemoryWorld,
    tx: &mut TxState,
    program: Arc<Program>,
    entry: Entry,
    step_limit: u64,
    mut trace: Option<&mut Vec<Step>>,
) -> StackOutcome {
    let mut programs: HashMap<U256, Arc<Program>> = HashMap::new();
    // Each frame with the world and the transaction journal as they were when it started.
    let mut frames = vec![(Machine::new(program, entry), world.snapshot(), tx.checkpoint())];
    let mut count = 0u64;
    loop {
        let (machine, _, _) = frames.last_mut().expect("a frame runs");
        let left = step_limit.saturating_sub(count);
        let out = match trace.as_deref_mut() {
            Some(t) => machine.run_traced(world, tx, left, t),
            None => machine.run(world, tx, left),
        };
        count += out.instructions;
        match out.status {
            Status::FarCall => {
                let call = machine.take_far_call().expect("a far call is pending");
                let program = match programs.get(&call.code.key) {
                    Some(p) => p.clone(),
                    None => {
                        let code = world.code_by_hash(call.code.key).unwrap_or_default();
                        // Code a world installs is valid; anything else runs as one invalid slot.
                        let p = Arc::new(
                            Program::new(&code)
                                .unwrap_or_else(|_| Program::new(&[0u8; 32]).expect("one zero word is valid code")),
                        );
                        programs.insert(call.code.key, p.clone());
                        p
                    }
                };
                let callee = Machine::new(program, call.entry);
                if let Some(t) = trace.as_deref_mut() {
                    t.push(callee.step(Some(call.pc), call.ergs_before));
                }
                frames.push((callee, world.snapshot(), tx.checkpoint()));
            }
            Status::Success | Status::Revert | Status::Panic => {
                let (_, snapshot, checkpoint) = frames.pop().expect("the frame that ended");
                if out.status != Status::Success {
                    world.rollback(snapshot);
                    // The pubdata counter and paid changes (the world is restored above).
                    tx.rollback(checkpoint, None);
                }
                let Some((caller, _, _)) = frames.last_mut() else {
                    return StackOutcome {
                        status: out.status,
                        return_data: out.return_data,
                        ergs_left: out.ergs_left,
                        instructions: count,
                    };
                };
                let kind = match out.status {
                    Status::Success => ReturnKind::Success,
                    Status::Revert => ReturnKind::Revert,
                    _ => ReturnKind::Panic,
                };
                caller.finish_far_call(
                    FarReturn {
                        kind,
                        ergs_left: out.ergs_left,
                        data: out.return_data,
                        at: out.returned_at.unwrap_or((0, 0)),
                    },
                    tx,
                );
                if let Some(t) = trace.as_deref_mut() {
                    // vm2 shows a far return with the caller's state after it.
                    if let Some(ret) = t.pop() {
                        t.push(caller.step(ret.pc, ret.ergs_before));
                    }
                }
            }
            // Like vm2, the ergs reported are the running frame's.
            Status::StepLimit | Status::Unsupported(_) => {
                return StackOutcome {
                    status: out.status,
                    return_data: Vec::new(),
                    ergs_left: out.ergs_left,
                    instructions: count,
                };
            }
        }
    }
}
