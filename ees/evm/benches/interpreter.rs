//! Interpreter throughput on a compute-heavy loop (MUL/ADD/EXP/KECCAK/MSTORE).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ee_api::{Bytecode, ExecutionEnvironment, Fork, Preemption};
use ee_evm::testing::{params, MockHost};
use ee_evm::Evm;

const ITERATIONS: u32 = 100_000;

/// counter = ITERATIONS; do { x = (c*c + 7) ** 3; mem[0] = x; mem[32] = keccak(mem[0..32]); c -= 1 } while c
fn loop_code() -> Vec<u8> {
    let n = ITERATIONS.to_be_bytes();
    vec![
        0x62, n[1], n[2], n[3], // PUSH3 counter
        0x5b, // 4: JUMPDEST
        0x80, 0x80, 0x02, // DUP1 DUP1 MUL
        0x60, 0x07, 0x01, // PUSH1 7 ADD
        0x60, 0x03, 0x90, 0x0a, // PUSH1 3 SWAP1 EXP
        0x60, 0x00, 0x52, // PUSH1 0 MSTORE
        0x60, 0x20, 0x60, 0x00, 0x20, // PUSH1 32 PUSH1 0 KECCAK256
        0x60, 0x20, 0x52, // PUSH1 32 MSTORE
        0x60, 0x01, 0x90, 0x03, // PUSH1 1 SWAP1 SUB
        0x80, 0x60, 0x04, 0x57, // DUP1 PUSH1 4 JUMPI
        0x00,
    ]
}

/// The same loop without KECCAK256, to see the dispatch loop without the hash cost.
fn arith_code() -> Vec<u8> {
    let mut code = loop_code();
    // Replace "PUSH1 32 PUSH1 0 KECCAK256" by "PUSH1 32 PUSH1 0 XOR".
    assert_eq!(code[22], 0x20);
    code[22] = 0x18;
    code
}

fn bench_code(c: &mut Criterion, name: &str, code: Vec<u8>) {
    let evm = Evm::new(Fork::Cancun);
    let code = Arc::new(Bytecode::new(Arc::from(code)));
    let gas = 100_000_000u64;
    let mut host = MockHost::new(Fork::Cancun);
    let run = |host: &mut MockHost| {
        let mut p = params(&[], gas);
        p.code = code.clone();
        match evm.launch(p).start(host) {
            Preemption::CallCompleted(out) => out.gas_left,
            other => panic!("unexpected {other:?}"),
        }
    };
    let used = gas - run(&mut host);
    eprintln!("{name}: gas used per run: {used}");
    c.bench_function(name, |b| b.iter(|| black_box(run(&mut host))));
}

fn bench(c: &mut Criterion) {
    bench_code(c, "loop_mul_add_exp_keccak_mstore_100k", loop_code());
    bench_code(c, "loop_mul_add_exp_mstore_100k", arith_code());
}

criterion_group!(benches, bench);
criterion_main!(benches);
