//! Interpreter throughput on a compute-heavy loop (MUL/ADD/EXP/KECCAK/MSTORE).
//!
//! Each loop is checked before it is timed: the run must succeed, use exactly the gas the
//! fork's schedule gives for the loop (so every iteration ran, at its price), and return the
//! memory a plain Rust model of the loop computes (for the keccak loop a hash chain over
//! every iteration's value). A run that misses any of them aborts the bench, untimed.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ee_api::{Bytecode, ExecutionEnvironment, ExitStatus, Fork, FrameOutcome, Preemption, U256};
use ee_evm::testing::{params, MockHost};
use ee_evm::Evm;
use sha3::{Digest, Keccak256};

const ITERATIONS: u32 = 100_000;
/// Index of the KECCAK256 opcode in [`loop_code`] (replaced by XOR in [`arith_code`]).
const HASH_AT: usize = 22;

/// counter = ITERATIONS;
/// do { x = (c*c + 7) ** 3; mem[0] = x; mem[32] = keccak(mem[0..64]); c -= 1 } while c;
/// return mem[0..64]
///
/// mem[32] chains the hashes, so the returned value depends on every iteration.
fn loop_code() -> Vec<u8> {
    let n = ITERATIONS.to_be_bytes();
    let code = vec![
        0x62, n[1], n[2], n[3], // PUSH3 counter
        0x5b, // 4: JUMPDEST
        0x80, 0x80, 0x02, // DUP1 DUP1 MUL
        0x60, 0x07, 0x01, // PUSH1 7 ADD
        0x60, 0x03, 0x90, 0x0a, // PUSH1 3 SWAP1 EXP
        0x60, 0x00, 0x52, // PUSH1 0 MSTORE
        0x60, 0x40, 0x60, 0x00, 0x20, // PUSH1 64 PUSH1 0 KECCAK256
        0x60, 0x20, 0x52, // PUSH1 32 MSTORE
        0x60, 0x01, 0x90, 0x03, // PUSH1 1 SWAP1 SUB
        0x80, 0x60, 0x04, 0x57, // DUP1 PUSH1 4 JUMPI
        0x60, 0x40, 0x60, 0x00, 0xf3, // PUSH1 64 PUSH1 0 RETURN
    ];
    assert_eq!(code[HASH_AT], 0x20);
    code
}

/// The same loop without KECCAK256, to see the dispatch loop without the hash cost.
fn arith_code() -> Vec<u8> {
    let mut code = loop_code();
    // "PUSH1 64 PUSH1 0 KECCAK256" becomes "PUSH1 64 PUSH1 0 XOR": mem[32] = 64.
    code[HASH_AT] = 0x18;
    code
}

/// What the loop must return and the gas it must use, from a plain model of it and the
/// Cancun schedule (not from the interpreter).
fn expected(hash: bool) -> (Vec<u8>, u64) {
    let mut mem = [0u8; 64];
    for c in (1..=ITERATIONS).rev() {
        let c = U256::from(c);
        let x = (c.wrapping_mul(c).wrapping_add(U256::from(7))).wrapping_pow(U256::from(3));
        mem[..32].copy_from_slice(&x.to_be_bytes::<32>());
        let y = if hash { U256::from_be_slice(&Keccak256::digest(mem)) } else { U256::from(64) };
        mem[32..].copy_from_slice(&y.to_be_bytes::<32>());
    }
    // JUMPDEST 1, MUL 5, EXP 10 + 50 per exponent byte (3: one byte), JUMPI 10,
    // KECCAK256 30 + 6 per word (two words), and 3 for each of the other 17 opcodes.
    let step = 1 + 5 + 60 + 10 + if hash { 30 + 6 * 2 } else { 3 } + 17 * 3;
    // PUSH3 before the loop; PUSH1 PUSH1 RETURN after it; memory grown to two words once (3 per word).
    let gas = 3 + u64::from(ITERATIONS) * step + 3 + 3 + 2 * 3;
    (mem.to_vec(), gas)
}

fn bench_code(c: &mut Criterion, name: &str, code: Vec<u8>, hash: bool) {
    let evm = Evm::new(Fork::Cancun);
    let code = Arc::new(Bytecode::new(Arc::from(code)));
    let gas = 100_000_000u64;
    let mut host = MockHost::new(Fork::Cancun);
    let run = |host: &mut MockHost| -> FrameOutcome {
        let mut p = params(&[], gas);
        p.code = code.clone();
        match evm.launch(p).start(host) {
            Preemption::CallCompleted(out) => out,
            other => panic!("{name}: unexpected {other:?}"),
        }
    };
    // Correctness first: a wrong or short run is never timed.
    let out = run(&mut host);
    let (want_output, want_gas) = expected(hash);
    let used = gas - out.gas_left;
    assert_eq!(out.status, ExitStatus::Success, "{name}: the loop did not succeed");
    assert_eq!(used, want_gas, "{name}: gas used differs from the schedule's");
    assert_eq!(&out.output[..], &want_output[..], "{name}: returned memory differs from the model's");
    eprintln!("{name}: checked (status, {used} gas, returned memory)");
    c.bench_function(name, |b| b.iter(|| black_box(run(&mut host).gas_left)));
}

fn bench(c: &mut Criterion) {
    bench_code(c, "loop_mul_add_exp_keccak_mstore_100k", loop_code(), true);
    bench_code(c, "loop_mul_add_exp_mstore_100k", arith_code(), false);
}

criterion_group!(benches, bench);
criterion_main!(benches);
