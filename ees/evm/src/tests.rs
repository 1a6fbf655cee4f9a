use std::sync::Arc;

use ee_api::{
    Address, CallModifier, CreateScheme, DeploymentResult, ExecutionEnvironment, ExitStatus, Fork, FrameOutcome,
    HaltReason, Preemption, B256, U256,
};

use crate::testing::*;
use crate::{sstore_cost, Evm};

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn neg(v: u64) -> U256 {
    U256::from(v).wrapping_neg()
}

fn push32(code: &mut Vec<u8>, v: U256) {
    code.push(0x7f);
    code.extend_from_slice(&v.to_be_bytes::<32>());
}

/// Runs `op` with `args[0]` on top of the stack and returns the single result.
fn eval(op: u8, args: &[U256]) -> U256 {
    let mut code = Vec::new();
    for a in args.iter().rev() {
        push32(&mut code, *a);
    }
    code.extend_from_slice(&[op, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    let mut host = MockHost::new(Fork::Cancun);
    match run(Fork::Cancun, &mut host, &code, 1_000_000) {
        Preemption::CallCompleted(out) => {
            assert_eq!(out.status, ExitStatus::Success);
            U256::from_be_slice(&out.output)
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn finish(p: Preemption) -> FrameOutcome {
    match p {
        Preemption::CallCompleted(out) | Preemption::DeploymentCompleted(out) => out,
        other => panic!("frame did not finish: {other:?}"),
    }
}

/// Gas used by `code` (which must succeed) under `fork`.
fn gas_used(fork: Fork, host: &mut MockHost, code: &[u8]) -> u64 {
    let gas = 1_000_000;
    let out = finish(run(fork, host, code, gas));
    assert_eq!(out.status, ExitStatus::Success, "{fork}");
    gas - out.gas_left
}

fn status(fork: Fork, code: &[u8]) -> ExitStatus {
    let mut host = MockHost::new(fork);
    finish(run(fork, &mut host, code, 1_000_000)).status
}

#[test]
fn signed_arithmetic_edges() {
    let min = U256::from(1u8) << 255;
    assert_eq!(eval(0x05, &[min, neg(1)]), min);
    assert_eq!(eval(0x05, &[neg(7), u(2)]), neg(3));
    assert_eq!(eval(0x05, &[u(7), neg(2)]), neg(3));
    assert_eq!(eval(0x05, &[u(7), u(0)]), u(0));
    assert_eq!(eval(0x07, &[neg(7), u(2)]), neg(1));
    assert_eq!(eval(0x07, &[u(7), neg(2)]), u(1));
    assert_eq!(eval(0x07, &[u(7), u(0)]), u(0));
    assert_eq!(eval(0x04, &[u(7), u(0)]), u(0));
    assert_eq!(eval(0x06, &[u(7), u(0)]), u(0));
    assert_eq!(eval(0x08, &[u(7), u(5), u(0)]), u(0));
    assert_eq!(eval(0x09, &[U256::MAX, U256::MAX, u(12)]), U256::MAX.mul_mod(U256::MAX, u(12)));
    assert_eq!(eval(0x08, &[U256::MAX, u(2), u(10)]), u(7)); // (2^256 + 1) mod 10
    assert_eq!(eval(0x12, &[neg(1), u(0)]), u(1));
    assert_eq!(eval(0x13, &[neg(1), u(0)]), u(0));
    assert_eq!(eval(0x0a, &[u(2), u(256)]), u(0));
    assert_eq!(eval(0x0a, &[u(3), u(3)]), u(27));
}

#[test]
fn signextend_byte_and_shifts() {
    assert_eq!(eval(0x0b, &[u(0), u(0xff)]), U256::MAX);
    assert_eq!(eval(0x0b, &[u(0), u(0x7f)]), u(0x7f));
    assert_eq!(eval(0x0b, &[u(1), u(0x1_80ff)]), neg(0x7f01));
    assert_eq!(eval(0x0b, &[u(31), u(0xff)]), u(0xff));
    assert_eq!(eval(0x0b, &[U256::MAX, u(0xff)]), u(0xff));
    assert_eq!(eval(0x1a, &[u(31), u(0x1234)]), u(0x34));
    assert_eq!(eval(0x1a, &[u(30), u(0x1234)]), u(0x12));
    assert_eq!(eval(0x1a, &[u(32), U256::MAX]), u(0));
    assert_eq!(eval(0x1a, &[U256::MAX, U256::MAX]), u(0));
    assert_eq!(eval(0x1b, &[u(4), u(1)]), u(16));
    assert_eq!(eval(0x1b, &[u(256), u(1)]), u(0));
    assert_eq!(eval(0x1c, &[u(4), u(0x100)]), u(0x10));
    assert_eq!(eval(0x1c, &[U256::MAX, U256::MAX]), u(0));
    assert_eq!(eval(0x1d, &[u(4), neg(16)]), neg(1));
    assert_eq!(eval(0x1d, &[u(300), neg(5)]), U256::MAX);
    assert_eq!(eval(0x1d, &[u(300), u(5)]), u(0));
    assert_eq!(eval(0x1d, &[u(1), u(5)]), u(2));
}

#[test]
fn opcodes_are_gated_by_fork() {
    let push0 = [0x5f, 0x00];
    assert_eq!(status(Fork::Paris, &push0), ExitStatus::Halt(HaltReason::InvalidOpcode(0x5f)));
    assert_eq!(status(Fork::Shanghai, &push0), ExitStatus::Success);
    let shl = [0x60, 1, 0x60, 1, 0x1b, 0x00];
    assert_eq!(status(Fork::Byzantium, &shl), ExitStatus::Halt(HaltReason::InvalidOpcode(0x1b)));
    assert_eq!(status(Fork::Constantinople, &shl), ExitStatus::Success);
    let revert = [0x60, 0, 0x60, 0, 0xfd];
    assert_eq!(status(Fork::Homestead, &revert), ExitStatus::Halt(HaltReason::InvalidOpcode(0xfd)));
    assert_eq!(status(Fork::Byzantium, &revert), ExitStatus::Revert);
    assert_eq!(status(Fork::Cancun, &[0xfe]), ExitStatus::Halt(HaltReason::InvalidOpcode(0xfe)));
    assert_eq!(status(Fork::Cancun, &[0x0c]), ExitStatus::Halt(HaltReason::InvalidOpcode(0x0c)));
    assert_eq!(status(Fork::Shanghai, &[0x60, 0, 0x5c]), ExitStatus::Halt(HaltReason::InvalidOpcode(0x5c)));
}

#[test]
fn halts_consume_gas_and_revert_keeps_it() {
    let mut host = MockHost::new(Fork::Cancun);
    let out = finish(run(Fork::Cancun, &mut host, &[0x01], 1000));
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::StackUnderflow));
    assert_eq!(out.gas_left, 0);
    let out = finish(run(Fork::Cancun, &mut host, &[0x60, 0, 0x60, 0, 0xfd], 1000));
    assert_eq!((out.status, out.gas_left), (ExitStatus::Revert, 994));
    // A loop pushing PC forever overflows the stack at 1025 items.
    let code = [0x5b, 0x58, 0x60, 0x00, 0x56];
    let out = finish(run(Fork::Cancun, &mut host, &code, 1_000_000));
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::StackOverflow));
}

#[test]
fn invalid_jumps() {
    // Jump into PUSH data that happens to hold a JUMPDEST byte.
    assert_eq!(status(Fork::Cancun, &[0x60, 0x03, 0x56, 0x60, 0x5b]), ExitStatus::Halt(HaltReason::InvalidJump));
    assert_eq!(status(Fork::Cancun, &[0x60, 0x04, 0x56, 0x00, 0x5b]), ExitStatus::Success);
    assert_eq!(status(Fork::Cancun, &[0x60, 0x63, 0x56]), ExitStatus::Halt(HaltReason::InvalidJump));
    // JUMPI with a false condition does not check the destination.
    assert_eq!(status(Fork::Cancun, &[0x60, 0x00, 0x60, 0x63, 0x57, 0x00]), ExitStatus::Success);
    let mut code = vec![0x60, 0x01];
    push32(&mut code, U256::MAX);
    code.push(0x57);
    assert_eq!(status(Fork::Cancun, &code), ExitStatus::Halt(HaltReason::InvalidJump));
}

#[test]
fn sload_gas_per_fork() {
    let code = [0x60, 0x00, 0x54, 0x50, 0x00];
    assert_eq!(gas_used(Fork::Frontier, &mut MockHost::new(Fork::Frontier), &code), 3 + 50 + 2);
    assert_eq!(gas_used(Fork::Tangerine, &mut MockHost::new(Fork::Tangerine), &code), 3 + 200 + 2);
    assert_eq!(gas_used(Fork::Istanbul, &mut MockHost::new(Fork::Istanbul), &code), 3 + 800 + 2);
    let mut host = MockHost::new(Fork::Berlin);
    assert_eq!(gas_used(Fork::Berlin, &mut host, &code), 3 + 2100 + 2);
    assert_eq!(gas_used(Fork::Berlin, &mut host, &code), 3 + 100 + 2, "warm now");
}

/// PUSH new, PUSH key(0), SSTORE.
fn sstore_code(values: &[u8]) -> Vec<u8> {
    let mut code = Vec::new();
    for v in values {
        code.extend_from_slice(&[0x60, *v, 0x60, 0x00, 0x55]);
    }
    code.push(0x00);
    code
}

#[test]
fn sstore_gas_and_refunds() {
    // Legacy rules (Petersburg drops EIP-1283).
    let mut host = MockHost::new(Fork::Petersburg);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::Petersburg, &mut host, &sstore_code(&[0])), 6 + 5000);
    assert_eq!(host.refund, 15000);
    let mut host = MockHost::new(Fork::Frontier);
    assert_eq!(gas_used(Fork::Frontier, &mut host, &sstore_code(&[1, 1])), 12 + 20000 + 5000);

    // EIP-1283: no-op store costs 200.
    let mut host = MockHost::new(Fork::Constantinople);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::Constantinople, &mut host, &sstore_code(&[1])), 6 + 200);

    // EIP-2200: fresh set, clear, and a dirty write restoring the original.
    let mut host = MockHost::new(Fork::Istanbul);
    assert_eq!(gas_used(Fork::Istanbul, &mut host, &sstore_code(&[1])), 6 + 20000);
    let mut host = MockHost::new(Fork::Istanbul);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::Istanbul, &mut host, &sstore_code(&[2, 1])), 12 + 5000 + 800);
    assert_eq!(host.refund, 4200);
    let mut host = MockHost::new(Fork::Istanbul);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::Istanbul, &mut host, &sstore_code(&[0, 2])), 12 + 5000 + 800);
    assert_eq!(host.refund, 0, "clear refund is taken back when the slot is refilled");

    // EIP-2929 + EIP-3529: cold surcharge, smaller reset and clear refund.
    let mut host = MockHost::new(Fork::London);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::London, &mut host, &sstore_code(&[0])), 6 + 2100 + 2900);
    assert_eq!(host.refund, 4800);
    let mut host = MockHost::new(Fork::London);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(gas_used(Fork::London, &mut host, &sstore_code(&[2, 1])), 12 + 2100 + 2900 + 100);
    assert_eq!(host.refund, 2800);
    let mut host = MockHost::new(Fork::Berlin);
    assert_eq!(gas_used(Fork::Berlin, &mut host, &sstore_code(&[1, 0])), 12 + 2100 + 20000 + 100);
    assert_eq!(host.refund, 19900);

    assert_eq!(sstore_cost(Fork::London, u(0), u(0), u(1)), (20000, 0));
    assert_eq!(sstore_cost(Fork::Berlin, u(1), u(0), u(2)), (100, -15000));
    assert_eq!(sstore_cost(Fork::London, u(1), u(0), u(1)), (100, -4800 + 2800));
}

#[test]
fn sstore_sentry_and_static() {
    let code = sstore_code(&[1]);
    let mut host = MockHost::new(Fork::Istanbul);
    let out = finish(run(Fork::Istanbul, &mut host, &code, 2306));
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::OutOfGas));
    assert_eq!(host.storage(CONTRACT, u(0)), u(0), "sentry fires before the write");
    // Constantinople has no sentry: a no-op store with 206 gas succeeds.
    let mut host = MockHost::new(Fork::Constantinople);
    host.set_storage(CONTRACT, u(0), u(1));
    assert_eq!(finish(run(Fork::Constantinople, &mut host, &code, 206)).status, ExitStatus::Success);
}

#[test]
fn exp_gas_per_fork() {
    // PUSH2 0x0100 (exponent, 2 bytes) PUSH1 2 EXP POP
    let code = [0x61, 0x01, 0x00, 0x60, 0x02, 0x0a, 0x50, 0x00];
    assert_eq!(gas_used(Fork::Frontier, &mut MockHost::new(Fork::Frontier), &code), 6 + 10 + 20 + 2);
    assert_eq!(gas_used(Fork::Tangerine, &mut MockHost::new(Fork::Tangerine), &code), 6 + 10 + 20 + 2);
    assert_eq!(gas_used(Fork::SpuriousDragon, &mut MockHost::new(Fork::Cancun), &code), 6 + 10 + 100 + 2);
    let zero_exp = [0x60, 0x00, 0x60, 0x02, 0x0a, 0x50, 0x00];
    assert_eq!(gas_used(Fork::Cancun, &mut MockHost::new(Fork::Cancun), &zero_exp), 6 + 10 + 2);
}

#[test]
fn memory_expansion() {
    let mut host = MockHost::new(Fork::Cancun);
    assert_eq!(gas_used(Fork::Cancun, &mut host, &[0x60, 1, 0x60, 0, 0x52, 0x00]), 6 + 3 + 3);
    // MSTORE at 4096 needs 129 words: 3*129 + 129^2/512.
    assert_eq!(gas_used(Fork::Cancun, &mut host, &[0x60, 1, 0x61, 0x10, 0x00, 0x52, 0x00]), 6 + 3 + 387 + 32);
    // Second touch of the same memory is free; MSIZE reports whole words.
    let code = [0x60, 1, 0x60, 0x21, 0x53, 0x60, 1, 0x60, 0, 0x53, 0x59, 0x60, 0, 0x52, 0x60, 0x20, 0x60, 0, 0xf3];
    let out = finish(run(Fork::Cancun, &mut host, &code, 100_000));
    assert_eq!(U256::from_be_slice(&out.output), u(64));
    assert_eq!(100_000 - out.gas_left, 6 + 3 + 6 + 6 + 3 + 2 + 3 + 3 + 6);
    // Huge offsets halt out of gas; a zero size never expands.
    let mut code = Vec::new();
    push32(&mut code, U256::MAX);
    code.push(0x51);
    assert_eq!(status(Fork::Cancun, &code), ExitStatus::Halt(HaltReason::OutOfGas));
    let mut code = vec![0x60, 0x00];
    push32(&mut code, U256::MAX);
    code.extend_from_slice(&[0x20, 0x50, 0x59, 0x00]);
    assert_eq!(gas_used(Fork::Cancun, &mut host, &code), 6 + 30 + 2 + 2);
    let code = [0x60, 0x00, 0x63, 0xff, 0xff, 0xff, 0xff, 0x60, 0x00, 0x37, 0x00];
    assert_eq!(gas_used(Fork::Cancun, &mut host, &code), 9 + 3);
    // MCOPY: 3 + 3/word + expansion to cover the destination.
    let code = [0x60, 0x20, 0x60, 0x00, 0x60, 0x20, 0x5e, 0x00];
    assert_eq!(gas_used(Fork::Cancun, &mut host, &code), 9 + 3 + 3 + 6);
}

/// CALL(gas, target, value, 0, 0, 0, 0x20) with the requested gas as PUSH4.
fn call_code(op: u8, requested: u32, target: Address, value: u8) -> Vec<u8> {
    let mut code = vec![0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00];
    if op == 0xf1 || op == 0xf2 {
        code.extend_from_slice(&[0x60, value]);
    }
    code.push(0x73);
    code.extend_from_slice(&target.0);
    code.push(0x63);
    code.extend_from_slice(&requested.to_be_bytes());
    code.push(op);
    code
}

fn expect_call(p: Preemption) -> ee_api::CallRequest {
    match p {
        Preemption::Call(req) => req,
        other => panic!("expected a call, got {other:?}"),
    }
}

#[test]
fn call_gas_63_64_rule_and_continue() {
    let target = Address([0x11; 20]);
    let evm = Evm::new(Fork::Berlin);
    let mut host = MockHost::new(Fork::Berlin);
    let mut code = call_code(0xf1, u32::MAX, target, 0);
    // After the call: flag at 0x20, RETURNDATASIZE at 0x40, return memory [0, 0x60).
    code.extend_from_slice(&[0x60, 0x20, 0x52, 0x3d, 0x60, 0x40, 0x52, 0x60, 0x60, 0x60, 0x00, 0xf3]);
    let gas = 100_000;
    let mut frame = evm.launch(params(&code, gas));
    let req = expect_call(frame.start(&mut host));
    // 7 pushes, warm cost 100 + cold 2500, one word of memory.
    let left = gas - 21 - 2600 - 3;
    assert_eq!(req.gas, left - left / 64);
    assert_eq!((req.address, req.code_address, req.caller), (target, target, CONTRACT));
    assert_eq!(req.modifier, CallModifier::Call);
    let output: ee_api::Bytes = Arc::from(&[0xaa; 40][..]);
    let result = FrameOutcome { status: ExitStatus::Success, gas_left: 1000, output };
    let out = finish(frame.continue_after_call(&mut host, result));
    assert_eq!(out.status, ExitStatus::Success);
    let mut expected = vec![0xaa; 32];
    expected.extend_from_slice(&u(1).to_be_bytes::<32>());
    expected.extend_from_slice(&u(40).to_be_bytes::<32>());
    assert_eq!(&out.output[..], &expected[..]);
    // 4 pushes, RETURNDATASIZE, 2 MSTOREs each growing memory by a word.
    let after = left / 64 + 1000 - (4 * 3 + 2 + 2 * (3 + 3));
    assert_eq!(out.gas_left, after);
}

#[test]
fn call_value_costs_and_stipend() {
    let target = Address([0x22; 20]);
    let evm = Evm::new(Fork::Cancun);
    let mut host = MockHost::new(Fork::Cancun);
    host.warm_accounts.insert(target);
    let mut frame = evm.launch(params(&call_code(0xf1, 1000, target, 1), 100_000));
    let req = expect_call(frame.start(&mut host));
    assert_eq!(req.gas, 1000 + 2300);
    assert_eq!(req.value, u(1));
    // Gas the caller keeps: all but pushes, warm 100, value 9000, new account 25000, memory 3, callee 1000.
    let frame_gas = 100_000 - 21 - 100 - 9000 - 25000 - 3 - 1000;
    let out =
        finish(frame.continue_after_call(
            &mut host,
            FrameOutcome { status: ExitStatus::Revert, gas_left: 0, output: no_bytes() },
        ));
    assert_eq!(out.gas_left, frame_gas);

    // Pre-Tangerine: requested gas must be available and is passed whole.
    let mut host = MockHost::new(Fork::Homestead);
    let out = finish(run(Fork::Homestead, &mut host, &call_code(0xf1, 100_000, target, 0), 100_000));
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::OutOfGas));
    let mut host = MockHost::new(Fork::Homestead);
    let req = expect_call(run(Fork::Homestead, &mut host, &call_code(0xf1, 50_000, target, 0), 100_000));
    assert_eq!(req.gas, 50_000);

    // DELEGATECALL keeps caller and value; STATICCALL forces static.
    let mut host = MockHost::new(Fork::Cancun);
    let req = expect_call(run(Fork::Cancun, &mut host, &call_code(0xf4, 10, target, 0), 100_000));
    assert_eq!(
        (req.modifier, req.caller, req.address, req.code_address),
        (CallModifier::Delegate, CALLER, CONTRACT, target)
    );
    let req = expect_call(run(Fork::Cancun, &mut host, &call_code(0xfa, 10, target, 0), 100_000));
    assert!(req.is_static);
    assert_eq!(req.gas, 10);
}

#[test]
fn static_context_violations() {
    let evm = Evm::new(Fork::Cancun);
    let target = Address([0x33; 20]);
    let cases: Vec<Vec<u8>> = vec![
        sstore_code(&[1]),
        vec![0x60, 0, 0x60, 0, 0xa0],
        vec![0x60, 1, 0x60, 0, 0x5d],
        vec![0x60, 0, 0xff],
        vec![0x60, 0, 0x60, 0, 0x60, 0, 0xf0],
        call_code(0xf1, 0, target, 1),
    ];
    for code in cases {
        let mut host = MockHost::new(Fork::Cancun);
        let mut p = params(&code, 100_000);
        p.is_static = true;
        let out = finish(evm.launch(p).start(&mut host));
        assert_eq!(out.status, ExitStatus::Halt(HaltReason::StaticStateChange), "{code:02x?}");
    }
    // A value-free CALL from a static frame is allowed and stays static.
    let mut host = MockHost::new(Fork::Cancun);
    let mut p = params(&call_code(0xf1, 0, target, 0), 100_000);
    p.is_static = true;
    assert!(expect_call(evm.launch(p).start(&mut host)).is_static);
}

#[test]
fn create_preemption_and_return_data() {
    let evm = Evm::new(Fork::Shanghai);
    let mut host = MockHost::new(Fork::Shanghai);
    // CREATE2(value 0, offset 0, size 0x40, salt 7), then RETURNDATASIZE; return [addr, rds].
    let code = [
        0x60, 0x07, 0x60, 0x40, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x60, 0x00, 0x52, 0x3d, 0x60, 0x20, 0x52, 0x60, 0x40,
        0x60, 0x00, 0xf3,
    ];
    let mut frame = evm.launch(params(&code, 100_000));
    let req = match frame.start(&mut host) {
        Preemption::Deploy(req) => req,
        other => panic!("{other:?}"),
    };
    assert_eq!(req.scheme, CreateScheme::Create2 { salt: B256::from_word(u(7)) });
    assert_eq!(req.init_code.len(), 64);
    // 4 pushes, 32000, memory 2 words, EIP-3860 2/word, hashing 6/word.
    let left = 100_000 - 12 - 32000 - 6 - 4 - 12;
    assert_eq!(req.gas, left - left / 64);
    let created = Address([0x44; 20]);
    let result =
        DeploymentResult { status: ExitStatus::Success, gas_left: 0, address: Some(created), output: no_bytes() };
    let out = finish(frame.continue_after_deployment(&mut host, result));
    assert_eq!(&out.output[..32], &created.to_word().to_be_bytes::<32>());
    assert_eq!(&out.output[32..], &[0u8; 32]);

    // Oversized init code halts the creating frame from Shanghai.
    let code = [0x61, 0xc0, 0x01, 0x60, 0x00, 0x60, 0x00, 0xf0];
    assert_eq!(status(Fork::Shanghai, &code), ExitStatus::Halt(HaltReason::InitCodeSizeLimit));
    let mut host = MockHost::new(Fork::Paris);
    assert!(matches!(run(Fork::Paris, &mut host, &code, 10_000_000), Preemption::Deploy(_)));
}

#[test]
fn returndatacopy_out_of_bounds() {
    let code = [0x60, 0x01, 0x60, 0x00, 0x60, 0x00, 0x3e, 0x00];
    assert_eq!(status(Fork::Cancun, &code), ExitStatus::Halt(HaltReason::ReturnDataOutOfBounds));
    let code = [0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x3e, 0x00];
    assert_eq!(status(Fork::Cancun, &code), ExitStatus::Success);
}

#[test]
fn selfdestruct_gas_and_refund_once() {
    let beneficiary = Address([0x55; 20]);
    let mut code = vec![0x73];
    code.extend_from_slice(&beneficiary.0);
    code.push(0xff);
    let mut host = MockHost::new(Fork::Istanbul);
    host.account(CONTRACT).balance = u(5);
    assert_eq!(gas_used(Fork::Istanbul, &mut host, &code), 3 + 5000 + 25000);
    assert_eq!(host.refund, 24000);
    assert_eq!(gas_used(Fork::Istanbul, &mut host, &code), 3 + 5000);
    assert_eq!(host.refund, 24000, "second destruction gives no refund");
    let mut host = MockHost::new(Fork::London);
    assert_eq!(gas_used(Fork::London, &mut host, &code), 3 + 5000 + 2600);
    assert_eq!(host.refund, 0);
    let mut host = MockHost::new(Fork::Frontier);
    assert_eq!(gas_used(Fork::Frontier, &mut host, &code), 3);
    let mut host = MockHost::new(Fork::Tangerine);
    assert_eq!(gas_used(Fork::Tangerine, &mut host, &code), 3 + 5000 + 25000);
}

#[test]
fn environment_opcodes() {
    let mut host = MockHost::new(Fork::Cancun);
    host.block.prevrandao = Some(B256([9; 32]));
    host.block.difficulty = u(77);
    host.tx.blob_hashes = vec![B256([1; 32])];
    let ret = [0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let get = |host: &mut MockHost, fork: Fork, pre: &[u8]| {
        let mut code = pre.to_vec();
        code.extend_from_slice(&ret);
        U256::from_be_slice(&finish(run(fork, host, &code, 100_000)).output)
    };
    assert_eq!(get(&mut host, Fork::Cancun, &[0x44]), B256([9; 32]).to_word());
    assert_eq!(get(&mut host, Fork::London, &[0x44]), u(77));
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 0, 0x49]), B256([1; 32]).to_word());
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 1, 0x49]), u(0));
    assert_eq!(get(&mut host, Fork::Cancun, &[0x46]), u(1));
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 1, 0x60, 2, 0x5d, 0x60, 2, 0x5c]), u(1));
    // EXTCODEHASH of a non-existent account is 0.
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 0x99, 0x3f]), u(0));
    host.account(Address::from_word(u(0x99))).balance = u(1);
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 0x99, 0x3f]), ee_api::keccak_empty().to_word());
    assert_eq!(get(&mut host, Fork::Cancun, &[0x33]), CALLER.to_word());
    assert_eq!(get(&mut host, Fork::Cancun, &[0x60, 0x00, 0x60, 0x00, 0x20]), ee_api::keccak_empty().to_word());
}

#[test]
fn interrupted_frames_halt() {
    let mut host = MockHost::new(Fork::Cancun);
    host.interrupt_after = Some(1);
    let out = finish(run(Fork::Cancun, &mut host, &[0x5b, 0x60, 0x00, 0x56], u64::MAX));
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::Interrupted));
}

#[test]
fn ee_level_rules() {
    let evm = Evm::new(Fork::Cancun);
    let deployer = Address([
        0x6a, 0xc7, 0xea, 0x33, 0xf8, 0x83, 0x1e, 0xa9, 0xdc, 0xc5, 0x33, 0x93, 0xaa, 0xa8, 0x8b, 0x25, 0xa7, 0x85,
        0xdb, 0xf0,
    ]);
    let hex = |a: Address| format!("{a}");
    assert_eq!(
        hex(evm.deployment_address(deployer, 0, CreateScheme::Create, &[])),
        "0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    );
    assert_eq!(
        hex(evm.deployment_address(deployer, 1, CreateScheme::Create, &[])),
        "0x343c43a37d37dff08ae8c4a11544c718abb4fcf8"
    );
    // EIP-1014 example 0 and example 5.
    let z = CreateScheme::Create2 { salt: B256::ZERO };
    assert_eq!(hex(evm.deployment_address(Address::ZERO, 0, z, &[0x00])), "0x4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38");
    let deadbeef = Address::from_word(U256::from(0xdeadbeefu64));
    let salt = CreateScheme::Create2 { salt: B256::from_word(U256::from(0xcafebabeu64)) };
    assert_eq!(
        hex(evm.deployment_address(deadbeef, 0, salt, &[0xde, 0xad, 0xbe, 0xef])),
        "0x60f3f640a8508fc6a86d45df051962668e1e8ac7"
    );
    // Nonce encodings of 0x80+ and multi-byte values parse as RLP strings.
    assert_ne!(evm.deployment_address(deployer, 0x80, CreateScheme::Create, &[]), Address::ZERO);

    assert_eq!(evm.callee_resources(6400, 10_000), 6300);
    assert_eq!(Evm::new(Fork::Homestead).callee_resources(6400, 10_000), 10_000);
    assert!(!Evm::new(Fork::Frontier).supports_modifier(CallModifier::Delegate));
    assert!(Evm::new(Fork::Homestead).supports_modifier(CallModifier::Delegate));
    assert!(!Evm::new(Fork::SpuriousDragon).supports_modifier(CallModifier::Static));
    assert_eq!(evm.check_init_code(&[0; 49153]), Err(HaltReason::InitCodeSizeLimit));
    assert_eq!(Evm::new(Fork::Paris).check_init_code(&[0; 49153]), Ok(()));

    let code: ee_api::Bytes = Arc::from(&[1u8; 10][..]);
    let (deployed, left) = evm.finish_deployment(&code, 5000).unwrap();
    assert_eq!((deployed.bytes.len(), left), (10, 3000));
    assert_eq!(evm.finish_deployment(&code, 1999).unwrap_err(), HaltReason::OutOfGas);
    let (deployed, left) = Evm::new(Fork::Frontier).finish_deployment(&code, 1999).unwrap();
    assert_eq!((deployed.bytes.len(), left), (0, 1999));
    let ef: ee_api::Bytes = Arc::from(&[0xef, 0][..]);
    assert_eq!(evm.finish_deployment(&ef, 5000).unwrap_err(), HaltReason::InvalidCodePrefix);
    assert!(Evm::new(Fork::Berlin).finish_deployment(&ef, 5000).is_ok());
    let big: ee_api::Bytes = Arc::from(vec![0u8; 24577]);
    assert_eq!(evm.finish_deployment(&big, u64::MAX).unwrap_err(), HaltReason::CodeSizeLimit);
    assert!(Evm::new(Fork::Tangerine).finish_deployment(&big, u64::MAX).is_ok());
}

/// Runs `code` traced under Cancun and returns the finished frame's outcome and steps.
fn traced(code: &[u8], gas: u64) -> (FrameOutcome, Vec<RecordedStep>) {
    let mut host = MockHost::new(Fork::Cancun);
    host.recorder = Some(Recorder::default());
    let out = finish(run(Fork::Cancun, &mut host, code, gas));
    (out, host.recorder.take().unwrap().steps)
}

#[test]
fn trace_steps_of_a_tiny_program() {
    // PUSH1 1 PUSH1 2 ADD STOP
    let (out, steps) = traced(&[0x60, 0x01, 0x60, 0x02, 0x01, 0x00], 100);
    assert_eq!(out.status, ExitStatus::Success);
    let expected = [
        (0, 0x60, "PUSH1", 100, 3, vec![]),
        (2, 0x60, "PUSH1", 97, 3, vec![u(1)]),
        (4, 0x01, "ADD", 94, 3, vec![u(1), u(2)]),
        (5, 0x00, "STOP", 91, 0, vec![u(3)]),
    ];
    assert_eq!(steps.len(), expected.len());
    for (s, (pc, op, name, gas, cost, stack)) in steps.iter().zip(expected) {
        assert_eq!((s.pc, s.op, s.op_name, s.gas, s.gas_cost, &s.stack), (pc, op, Some(name), gas, cost, &stack));
        assert_eq!(s.depth, 1, "the first frame is depth 1");
        assert_eq!((s.error.as_deref(), s.mem_size, s.refund, s.return_data.len()), (None, 0, 0, 0));
    }
    assert_eq!(out.gas_left, 91);
}

#[test]
fn untraced_and_traced_runs_agree() {
    let code = [0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let mut host = MockHost::new(Fork::Cancun);
    let plain = finish(run(Fork::Cancun, &mut host, &code, 10_000));
    let (traced_out, steps) = traced(&code, 10_000);
    assert_eq!(
        (plain.status, plain.gas_left, &plain.output),
        (traced_out.status, traced_out.gas_left, &traced_out.output)
    );
    // MSTORE grows memory by one word: 3 static + 3 expansion; memSize is the size before.
    let mstore = &steps[2];
    assert_eq!((mstore.op_name, mstore.gas_cost, mstore.mem_size), (Some("MSTORE"), 6, 0));
    assert_eq!(steps[3].mem_size, 32);
    let total: u64 = steps.iter().map(|s| s.gas_cost).sum();
    assert_eq!(total, 10_000 - plain.gas_left, "step costs add up to the gas used");
}

#[test]
fn trace_marks_failing_and_reverting_instructions() {
    // PUSH1 1 ADD: stack underflow on ADD.
    let (out, steps) = traced(&[0x60, 0x01, 0x01], 100);
    assert_eq!(out.status, ExitStatus::Halt(HaltReason::StackUnderflow));
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].error.as_deref(), Some("stack underflow"));
    assert_eq!(steps[1].stack, [u(1)]);
    // Out of gas on the second push.
    let (_, steps) = traced(&[0x60, 0x01, 0x60, 0x01], 5);
    assert_eq!(steps.last().unwrap().error.as_deref(), Some("out of gas"));
    // An undefined opcode has no name.
    let (_, steps) = traced(&[0x0c], 5);
    assert_eq!((steps[0].op_name, steps[0].error.as_deref()), (None, Some("invalid opcode: 0x0c")));
    // PUSH1 0 PUSH1 0 REVERT
    let (out, steps) = traced(&[0x60, 0x00, 0x60, 0x00, 0xfd], 100);
    assert_eq!(out.status, ExitStatus::Revert);
    assert_eq!(steps[2].error.as_deref(), Some("execution reverted"));
}

#[test]
fn trace_call_cost_includes_callee_gas_and_depth_is_one_based() {
    let target = Address([0x11; 20]);
    let evm = Evm::new(Fork::Cancun);
    let mut host = MockHost::new(Fork::Cancun);
    host.recorder = Some(Recorder::default());
    let mut code = call_code(0xf1, 5000, target, 0);
    code.push(0x00);
    let mut p = params(&code, 100_000);
    p.depth = 2;
    let mut frame = evm.launch(p);
    let req = expect_call(frame.start(&mut host));
    let steps = &host.recorder.as_ref().unwrap().steps;
    let call = steps.last().unwrap().clone();
    assert_eq!(call.op_name, Some("CALL"));
    // Warm 100 + cold 2500 + one word of memory + the gas handed to the callee.
    assert_eq!(call.gas_cost, 2600 + 3 + req.gas);
    assert_eq!(call.depth, 3);
    let result = FrameOutcome { status: ExitStatus::Success, gas_left: 5000, output: Arc::from(&[7u8][..]) };
    finish(frame.continue_after_call(&mut host, result));
    let steps = &host.recorder.as_ref().unwrap().steps;
    let stop = steps.last().unwrap();
    assert_eq!(stop.op_name, Some("STOP"));
    assert_eq!(stop.gas, call.gas - call.gas_cost + 5000, "the callee's unused gas is back");
    assert_eq!(stop.stack.last(), Some(&u(1)));
    assert_eq!(stop.return_data, [7]);

    // CREATE: the constructor's gas is not part of the instruction's cost (go-ethereum's convention).
    let mut host = MockHost::new(Fork::Cancun);
    host.recorder = Some(Recorder::default());
    // PUSH1 0 PUSH1 0 PUSH1 0 CREATE
    let deploy = run(Fork::Cancun, &mut host, &[0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0xf0], 100_000);
    let Preemption::Deploy(req) = deploy else { panic!("expected a deployment, got {deploy:?}") };
    let create = host.recorder.as_ref().unwrap().steps.last().unwrap().clone();
    assert_eq!(create.op_name, Some("CREATE"));
    assert_eq!(create.gas_cost, 32_000);
    assert_eq!(create.gas - create.gas_cost - req.gas, (create.gas - 32_000) / 64);
}

/// A call's input is the caller's memory, lent without a copy: paid-for but
/// never-written memory is an implicit zero tail, MSIZE counts it, and the
/// caller gets its memory back intact when the callee returns.
#[test]
fn call_input_is_lent_memory_with_zero_tail() {
    let target = Address([0x33; 20]);
    let mut host = MockHost::new(Fork::Cancun);
    host.warm_accounts.insert(target);
    // MSTORE8(1, 0x77); STATICCALL(gas 1000, target, in [0, 0x100000), out [0, 0)); then return MSIZE and mem[0..32).
    let mut code = vec![0x60, 0x77, 0x60, 0x01, 0x53];
    code.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0x62, 0x10, 0x00, 0x00, 0x60, 0x00, 0x73]);
    code.extend_from_slice(&target.0);
    code.extend_from_slice(&[0x61, 0x03, 0xe8, 0xfa]);
    code.extend_from_slice(&[0x50, 0x59, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3]);
    let mut frame = Evm::new(Fork::Cancun).launch(params(&code, 10_000_000));
    let req = expect_call(frame.start(&mut host));
    assert_eq!(req.input.len(), 0x100000, "the whole paid-for window is the input");
    assert!(req.input.stored().len() <= 4096, "the paid-for, never-touched megabyte is not stored");
    assert_eq!(&req.input.stored()[..3], &[0, 0x77, 0]);
    assert!(req.input.to_cow()[32..].iter().all(|b| *b == 0));
    drop(req);
    let result = FrameOutcome { status: ExitStatus::Success, gas_left: 0, output: no_bytes() };
    let out = finish(frame.continue_after_call(&mut host, result));
    assert_eq!(out.status, ExitStatus::Success);
    assert_eq!(out.output[1], 0x77, "the caller's memory came back");
    assert_eq!(U256::from_be_slice(&out.output[32..64]), u(0x100000), "MSIZE counts the unwritten tail");
}

/// EIP-7939: CLZ counts leading zero bits (256 for zero), costs 5, and exists from Osaka on.
#[test]
fn clz_osaka() {
    let clz = |x: U256| {
        let mut code = Vec::new();
        push32(&mut code, x);
        code.extend_from_slice(&[0x1e, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
        let mut host = MockHost::new(Fork::Osaka);
        let out = finish(run(Fork::Osaka, &mut host, &code, 1_000_000));
        assert_eq!(out.status, ExitStatus::Success);
        U256::from_be_slice(&out.output)
    };
    assert_eq!(clz(U256::ZERO), u(256));
    assert_eq!(clz(u(1)), u(255));
    assert_eq!(clz(U256::MAX), u(0));
    assert_eq!(clz(U256::from(1) << 255), u(0));
    assert_eq!(clz(u(0x6ff)), u(245));
    assert_eq!(clz(U256::MAX >> 100), u(100));
    let code = [0x60, 0x01, 0x1e, 0x00];
    assert_eq!(gas_used(Fork::Osaka, &mut MockHost::new(Fork::Osaka), &code), 3 + 5);
    assert_eq!(status(Fork::Prague, &code), ExitStatus::Halt(HaltReason::InvalidOpcode(0x1e)));
}

/// EIP-7702: a CALL-family instruction into a delegated account pays for the target's
/// account access too (cold 2600, warm 100), before the 63/64 rule, from Prague on; the
/// request still names the delegating account (the bootloader follows the designator).
#[test]
fn calls_into_delegated_accounts_pay_for_the_target() {
    let authority = Address([0x11; 20]);
    let target = Address([0x22; 20]);
    let designator = Arc::new(ee_api::Bytecode::new(Arc::from(&ee_api::delegation_designator(target)[..])));
    for op in [0xf1, 0xf2, 0xf4, 0xfa] {
        let pushes = if op == 0xf1 || op == 0xf2 { 7 } else { 6 };
        let request = |fork: Fork, target_warm: bool| {
            let mut host = MockHost::new(fork);
            host.account(authority).code = Some(designator.clone());
            if target_warm {
                host.warm_accounts.insert(target);
            }
            let gas = 100_000;
            let mut frame = Evm::new(fork).launch(params(&call_code(op, u32::MAX, authority, 0), gas));
            let req = expect_call(frame.start(&mut host));
            (gas - 3 * pushes - 3 - 2600, req, host.warm_accounts.contains(&target))
        };
        for (warm, cost) in [(false, 2600), (true, 100)] {
            let (left, req, warmed) = request(Fork::Prague, warm);
            let left = left - cost;
            assert_eq!(req.gas, left - left / 64, "op {op:#x}, target warm {warm}");
            assert_eq!(req.code_address, authority);
            assert!(warmed);
        }
        let (left, req, warmed) = request(Fork::Cancun, false);
        assert_eq!(req.gas, left - left / 64, "op {op:#x} before Prague");
        assert!(!warmed);
    }
}

/// Untraced runs pay static gas and check the stack per basic block; traced runs do both per
/// instruction. Every program, at every gas amount, must end the same way in both (status,
/// gas left, output; a halt's reason may differ, see `interpret`): hand-written programs
/// at the block seams (a JUMPDEST right after the entry, a JUMPI not taken, GAS, SSTORE;
/// underflow, overflow and out of gas inside a block) and seeded random ones.
#[test]
fn block_charging_matches_per_instruction_charging() {
    fn outcome(code: &[u8], gas: u64, traced: bool) -> (bool, ExitStatus, u64, Vec<u8>) {
        let mut host = MockHost::new(Fork::Cancun);
        if traced {
            host.recorder = Some(Recorder::default());
        }
        let out = finish(run(Fork::Cancun, &mut host, code, gas));
        let halted = matches!(out.status, ExitStatus::Halt(_));
        let status = if halted { ExitStatus::Halt(HaltReason::OutOfGas) } else { out.status };
        (halted, status, out.gas_left, out.output.to_vec())
    }
    let mut programs: Vec<Vec<u8>> = vec![
        // JUMPDEST first; a loop counting down from 3 with GAS inside; STOP.
        vec![0x5b, 0x60, 0x03, 0x5b, 0x5a, 0x50, 0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x03, 0x57, 0x00],
        // JUMPI not taken into a JUMPDEST, then MSTORE and RETURN of 32 bytes.
        vec![0x60, 0x00, 0x60, 0x09, 0x57, 0x5b, 0x5a, 0x5b, 0x5b, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3],
        // SSTORE then a JUMPDEST, SLOAD, RETURN.
        vec![0x60, 0x07, 0x60, 0x01, 0x55, 0x5b, 0x60, 0x01, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3],
        // Underflow in the middle of a block, after work.
        vec![0x60, 0x01, 0x60, 0x02, 0x01, 0x01, 0x00],
        // Memory expansion in a block whose static gas is small.
        vec![0x60, 0x01, 0x62, 0x01, 0x00, 0x00, 0x52, 0x5a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3],
        // An undefined opcode after work, and PUSH data running off the end.
        vec![0x60, 0x01, 0x60, 0x02, 0x0c],
        vec![0x60, 0x01, 0x7f, 0x01],
    ];
    // 1,030 pushes: overflow inside one block.
    programs.push([0x5f].repeat(1030));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const OPS: &[u8] = &[
        0x01, 0x02, 0x03, 0x04, 0x0a, 0x10, 0x14, 0x15, 0x16, 0x1b, 0x20, 0x50, 0x51, 0x52, 0x54, 0x55, 0x56, 0x57,
        0x58, 0x59, 0x5a, 0x5b, 0x5b, 0x5f, 0x60, 0x60, 0x60, 0x61, 0x80, 0x81, 0x90, 0x91, 0xa0, 0xf3, 0xfd, 0xfe,
    ];
    for _ in 0..300 {
        let len = 4 + next() % 60;
        let mut code = Vec::new();
        for _ in 0..len {
            let op = OPS[(next() % OPS.len() as u64) as usize];
            code.push(op);
            if op == 0x60 {
                // Small operands, so that jumps often land on a JUMPDEST.
                code.push((next() % 64) as u8);
            } else if op == 0x61 {
                code.extend_from_slice(&[0, (next() % 64) as u8]);
            }
        }
        programs.push(code);
    }
    let mut compared = 0;
    for code in &programs {
        for gas in (0..200).chain([1_000, 5_000, 25_000, 100_000]) {
            let plain = outcome(code, gas, false);
            let traced = outcome(code, gas, true);
            assert_eq!(plain, traced, "code {code:02x?} with {gas} gas");
            compared += 1;
        }
    }
    assert!(compared > 60_000);
}

/// SIGNEXTEND against its definition (bit `8b + 7` copied into every higher bit), for every
/// byte position, with the sign bit set and clear, across limb boundaries.
#[test]
fn signextend_matches_its_definition() {
    let patterns = [
        U256::ZERO,
        U256::MAX,
        U256::from_limbs([0x8000_0000_0000_0080, 0x7f00_0000_0000_0001, 0x8080_8080_8080_8080, 0x0101_0101_0101_0101]),
        U256::from_limbs([0x7fff_ffff_ffff_ff7f, 0x8000_0000_0000_0000, 0x7f7f_7f7f_7f7f_7f7f, 0xfefe_fefe_fefe_fefe]),
    ];
    for x in patterns {
        for b in 0..=32u64 {
            let expected = if b >= 31 {
                x
            } else {
                let bit = b as usize * 8 + 7;
                let mut e = x;
                for i in bit + 1..256 {
                    e.set_bit(i, x.bit(bit));
                }
                e
            };
            assert_eq!(eval(0x0b, &[u(b), x]), expected, "b = {b}, x = {x:#x}");
        }
    }
}

/// DIV, MOD, SDIV and SMOD against ruint's general division, on operands that reach each of
/// the EVM's shortcuts (powers of two, 64- and 128-bit numerators over 64-bit divisors) and
/// miss them by one, with both signs, zero and the most negative number.
#[test]
fn division_matches_ruint() {
    let mut operands = vec![U256::ZERO, U256::ONE, U256::MAX, SIGN_BIT_FOR_TESTS];
    for k in [0usize, 1, 5, 31, 63, 64, 65, 100, 127, 128, 129, 191, 192, 200, 254, 255] {
        let p: U256 = U256::ONE << k;
        operands.extend([p, p - U256::ONE, p + U256::ONE, p.wrapping_neg()]);
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for bits in [16u32, 64, 100, 128, 200, 256] {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let wide = U256::from_limbs([x, x.rotate_left(17), x.rotate_left(31), x.rotate_left(47)]);
        let v = wide >> (256 - bits as usize);
        operands.extend([v, v.wrapping_neg()]);
    }
    let neg = |v: U256| v.bit(255);
    let abs = |v: U256| if neg(v) { v.wrapping_neg() } else { v };
    for &a in &operands {
        for &b in &operands {
            let div = a.checked_div(b).unwrap_or_default();
            let rem = a.checked_rem(b).unwrap_or_default();
            let q = abs(a).checked_div(abs(b)).unwrap_or_default();
            let sdiv = if neg(a) != neg(b) { q.wrapping_neg() } else { q };
            let r = abs(a).checked_rem(abs(b)).unwrap_or_default();
            let smod = if neg(a) { r.wrapping_neg() } else { r };
            for (op, expected) in [(0x04, div), (0x06, rem), (0x05, sdiv), (0x07, smod)] {
                assert_eq!(eval(op, &[a, b]), expected, "op {op:#04x}, a = {a:#x}, b = {b:#x}");
            }
        }
    }
}

const SIGN_BIT_FOR_TESTS: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
