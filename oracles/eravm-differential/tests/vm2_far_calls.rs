//! Far calls against `zksync_vm2` 0.5.0, instruction by instruction: worlds of several
//! hand-written contracts, each run by `run_stack` (our frames over a `MemoryWorld`) and by
//! the oracle, comparing every step (pc, registers with pointer tags, flags, sp, ergs before
//! and after) across frames, then status, return data, ergs left, the instruction count and
//! the world's changes (the comparison is this crate's library). Each world is run at several
//! ergs levels, so the decommit, 63/64 and failure paths all show. Each program's return data
//! is also checked against what it was written to compute.

use ee_api::{Address, U256};
use ee_eravm::asm::assemble;
use ee_eravm::machine::{kernel_address, Status};
use ee_eravm::{Dst, Instruction, Modifiers, Op, Src};
use eravm_differential::builders::{call_abi as abi, far, forward_bits, ins, konst, reg, set, store, NONE};
use eravm_differential::compare::{Case, Contract, CALLER};

const A: Address = Address([0x11; 20]);
const B: Address = Address([0x33; 20]);
const C: Address = Address([0x44; 20]);
const STEP_LIMIT: u64 = 20_000;

fn word(a: Address) -> [u8; 32] {
    a.to_word().to_be_bytes::<32>()
}

/// Runs the world (contracts at their addresses, entry at the first) on both sides and
/// compares; returns our status, return data and step count.
fn compare(name: &str, contracts: &[(Address, Vec<u8>)], ergs: u32, value: u128) -> (Status, Vec<u8>, usize) {
    let case = Case {
        contracts: contracts
            .iter()
            .map(|(address, code)| Contract { address: *address, code: code.clone(), text: 0 })
            .collect(),
        storage: Vec::new(),
        ergs,
        calldata: vec![0xab; 40],
        value,
        step_limit: STEP_LIMIT,
    };
    let c = eravm_differential::compare(&case).unwrap_or_else(|d| panic!("{name} at {ergs} ergs: {d}"));
    (c.status, c.return_data, c.steps)
}

/// The caller: writes 7 to heap[0], far-calls (mode `op`) the address in constant 1 with
/// the heap slice [0, 32) and ABI constant 0; on success returns the callee's return data
/// (forwarded); on failure (the handler) returns its own heap word 64 holding 0xee and r1.
fn caller(call: Instruction, extra: &[Instruction]) -> Vec<Instruction> {
    let mut prog = vec![set(2, 7), store(0, 2)];
    prog.extend_from_slice(extra);
    let base = prog.len();
    let len = base + 9;
    prog.extend([
        /* base+0 */ konst(1, len, 0),
        /* base+1 */ konst(2, len, 1),
        /* base+2 */ call.regs(1, 2, 0, 0).imms((base + 6) as u16, 0),
        /* base+3 */ konst(3, len, 2),
        /* base+4 */ ins(Op::PtrPack, Src::Reg, Dst::Reg, NONE).regs(1, 3, 1, 0),
        /* base+5 */ reg(Op::Ret).regs(1, 0, 0, 0),
        /* base+6 (handler) */ set(4, 0xee),
        /* base+7 */ store(64, 4),
        /* base+8 */ reg(Op::Revert).regs(0, 0, 0, 0),
    ]);
    assert_eq!(prog.len(), len);
    prog
}

fn callee_adds_one(end: Op) -> Vec<u8> {
    let mut prog = vec![
        reg(Op::FatPointerRead).regs(1, 0, 3, 0),
        ins(Op::Add, Src::Imm, Dst::Reg, NONE).regs(0, 3, 3, 0).imms(1, 0),
        store(0, 3),
        reg(Op::This).regs(0, 0, 4, 0),
        store(32, 4),
        reg(Op::Caller).regs(0, 0, 4, 0),
        store(64, 4),
        reg(Op::CodeAddress).regs(0, 0, 4, 0),
        store(96, 4),
        reg(Op::GetContextU128).regs(0, 0, 4, 0),
        store(128, 4),
    ];
    prog.extend([konst(5, prog.len() + 2, 0), reg(end).regs(5, 0, 0, 0)]);
    assemble(&prog, &[abi(0, 160, 0, 0, false)])
}

fn world(call: Instruction, pass: u32, dest: Address, callee: Vec<u8>) -> Vec<(Address, Vec<u8>)> {
    let a = assemble(&caller(call, &[]), &[abi(0, 32, 0, pass, false), word(dest), forward_bits()]);
    vec![(A, a), (B, callee)]
}

const ERGS: [u32; 6] = [150, 250, 600, 2_000, 30_000, 1_000_000];

#[test]
fn far_calls_match_vm2() {
    let mut steps = 0;
    let mut runs = 0;
    let mut check = |name: &str, contracts: Vec<(Address, Vec<u8>)>, expect: &dyn Fn(Status, &[u8])| {
        for ergs in ERGS {
            let (status, data, n) = compare(name, &contracts, ergs, 0x55);
            if ergs == 1_000_000 {
                expect(status, &data);
            }
            steps += n;
            runs += 1;
        }
    };
    let word_at = |data: &[u8], i: usize| U256::from_be_slice(&data[32 * i..32 * i + 32]);

    check("call returns", world(far(Op::FarCall, NONE), 5_000, B, callee_adds_one(Op::Ret)), &|s, d| {
        assert_eq!(s, Status::Success);
        assert_eq!(word_at(d, 0), U256::from(8));
        assert_eq!(word_at(d, 1), B.to_word(), "this");
        assert_eq!(word_at(d, 2), A.to_word(), "caller");
        assert_eq!(word_at(d, 4), U256::ZERO, "no value set");
    });
    check(
        "call passing everything (63/64)",
        world(far(Op::FarCall, NONE), u32::MAX, B, callee_adds_one(Op::Ret)),
        &|s, _| assert_eq!(s, Status::Success),
    );
    check("callee reverts: handler", world(far(Op::FarCall, NONE), 5_000, B, callee_adds_one(Op::Revert)), &|s, _| {
        assert_eq!(s, Status::Revert)
    });
    check("callee panics: handler", world(far(Op::FarCall, NONE), 5_000, B, callee_adds_one(Op::Panic)), &|s, _| {
        assert_eq!(s, Status::Revert)
    });
    check(
        "kernel address without code: panicking frame",
        world(far(Op::FarCall, NONE), 5_000, kernel_address(0x9abc), callee_adds_one(Op::Ret)),
        &|s, _| assert_eq!(s, Status::Revert),
    );
    check("delegate call", world(far(Op::FarCallDelegate, NONE), 5_000, B, callee_adds_one(Op::Ret)), &|s, d| {
        assert_eq!(s, Status::Success);
        assert_eq!(word_at(d, 1), A.to_word(), "this is the caller's");
        assert_eq!(word_at(d, 2), CALLER.to_word(), "sender is the caller's");
        assert_eq!(word_at(d, 3), B.to_word(), "code address");
        assert_eq!(word_at(d, 4), U256::from(0x55), "value is the caller's");
    });
    check("static call", world(far(Op::FarCall, Modifiers::STATIC), 5_000, B, callee_adds_one(Op::Ret)), &|s, _| {
        assert_eq!(s, Status::Success)
    });

    // A → B → C: B forwards C's return pointer back to A, which forwards it out.
    let b_forwards =
        assemble(&caller(far(Op::FarCall, NONE), &[]), &[abi(0, 32, 0, 3_000, false), word(C), forward_bits()]);
    let a = assemble(&caller(far(Op::FarCall, NONE), &[]), &[abi(0, 32, 0, 20_000, false), word(B), forward_bits()]);
    check(
        "nested, return data forwarded twice",
        vec![(A, a), (B, b_forwards), (C, callee_adds_one(Op::Ret))],
        &|s, d| {
            assert_eq!(s, Status::Success);
            assert_eq!(word_at(d, 0), U256::from(8));
            assert_eq!(word_at(d, 2), B.to_word(), "C was called by B");
        },
    );

    // A kernel caller sets the value and makes a system call to a kernel callee, which
    // sees r3..r12 and the value; and a mimic call whose sender is r15.
    let k = kernel_address(0x9001);
    let k2 = kernel_address(0x9002);
    let setup =
        [set(3, 0x33), set(12, 0x1212), set(15, 0x7777), set(6, 0x99), reg(Op::SetContextU128).regs(6, 0, 0, 0)];
    let kernel_callee = assemble(
        &[
            ins(Op::Add, Src::Reg, Dst::Reg, NONE).regs(3, 12, 3, 0),
            store(160, 3),
            reg(Op::FatPointerRead).regs(1, 0, 3, 0),
            ins(Op::Add, Src::Imm, Dst::Reg, NONE).regs(0, 3, 3, 0).imms(1, 0),
            store(0, 3),
            reg(Op::Caller).regs(0, 0, 4, 0),
            store(64, 4),
            reg(Op::GetContextU128).regs(0, 0, 4, 0),
            store(128, 4),
            konst(5, 11, 0),
            reg(Op::Ret).regs(5, 0, 0, 0),
        ],
        &[abi(0, 192, 0, 0, false)],
    );
    for (name, op) in [("system call with value", Op::FarCall), ("mimic call", Op::FarCallMimic)] {
        let kc = assemble(&caller(far(op, NONE), &setup), &[abi(0, 32, 0, 5_000, true), word(k2), forward_bits()]);
        check(name, vec![(k, kc), (k2, kernel_callee.clone())], &|s, d| {
            assert_eq!(s, Status::Success);
            assert_eq!(word_at(d, 5), U256::from(0x33 + 0x1212), "r3 + r12 passed");
            assert_eq!(word_at(d, 4), U256::from(0x99), "ctx.set value");
        });
    }
    eprintln!("far calls: {runs} runs, {steps} steps, no divergence");
}
