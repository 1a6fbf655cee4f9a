//! EraVM decode → run: the fuzzed bytes, padded to whole 32-byte words with an odd count, are
//! decoded (`Program::new`, every instruction listed) and run as the entry frame of
//! `run_stack` over a `MemoryWorld` that holds the same code at a user and a kernel-range
//! address (so far calls reach it), with bounded ergs and steps.
//! Must hold: no panic; ergs left ≤ ergs given; at most the step limit executed; a reverted
//! or panicked entry frame leaves the world as it was; the same input twice, the same result.
#![no_main]

use std::sync::Arc;

use ee_api::{Address, U256};
use ee_eravm::machine::{run_stack, Entry, MemoryWorld, StackOutcome, Status, TxState};
use ee_eravm::Program;
use libfuzzer_sys::fuzz_target;

const ENTRY: Address = Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x01]);
const OTHER: Address = Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x02]);
const CALLER: Address = Address([0xca; 20]);
const ERGS: u32 = 2_000_000;
const STEPS: u64 = 20_000;

fn world(code: &[u8]) -> MemoryWorld {
    let mut w = MemoryWorld { pubdata_initial_write: 65, pubdata_repeated_write: 38, ..MemoryWorld::default() };
    w.install(OTHER, code);
    w.install(ENTRY, code);
    for k in 0..4u64 {
        w.storage.insert((ENTRY, U256::from(k)), U256::from(k * 7 + 1));
    }
    w
}

fn run(program: &Arc<Program>, code: &[u8], calldata: &[u8]) -> (StackOutcome, MemoryWorld) {
    let mut w = world(code);
    let mut tx = TxState::default();
    let entry = Entry::user(ENTRY, CALLER, ERGS, calldata.to_vec());
    let out = run_stack(&mut w, &mut tx, program.clone(), entry, STEPS, None);
    (out, w)
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    if rest.len() > 32 << 10 {
        return;
    }
    let (calldata, code) = rest.split_at((n as usize % 65).min(rest.len()));
    let mut code = code.to_vec();
    code.resize(code.len().div_ceil(32).max(1) * 32, 0);
    if (code.len() / 32).is_multiple_of(2) {
        code.extend_from_slice(&[0; 32]);
    }
    let Ok(program) = Program::new(&code) else { return };
    for i in program.instructions() {
        let _ = i.to_string();
    }
    let program = Arc::new(program);
    let (out, after) = run(&program, &code, calldata);
    assert!(out.ergs_left <= ERGS, "ergs went up: {} > {ERGS}", out.ergs_left);
    assert!(out.instructions <= STEPS, "{} instructions, limit {STEPS}", out.instructions);
    let (again, after_again) = run(&program, &code, calldata);
    assert_eq!(out, again, "the same program twice differs");
    assert!(after.storage == after_again.storage && after.events.len() == after_again.events.len());
    if matches!(out.status, Status::Revert | Status::Panic) {
        let pre = world(&code);
        assert!(after.storage == pre.storage, "a failed entry frame left storage changes");
        assert!(after.code_hashes == pre.code_hashes, "a failed entry frame left deployments");
        assert!(after.events.is_empty() && after.l2_to_l1_logs.is_empty(), "a failed entry frame left events");
    }
});
