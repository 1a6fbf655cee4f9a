//! Far calls against `zksync_vm2` 0.5.0, instruction by instruction: worlds of several
//! hand-written contracts, each run by `run_stack` (our frames over a `MemoryWorld`) and by
//! the oracle, comparing every step (pc, registers with pointer tags, flags, sp, ergs before
//! and after) across frames, then status, return data, ergs left and the instruction count.
//! Each world is run at several ergs levels, so the decommit, 63/64 and failure paths all
//! show. Each program's return data is also checked against what it was written to compute.

use std::sync::Arc;

use ee_api::{Address, U256};
use ee_eravm::asm::assemble;
use ee_eravm::machine::{kernel_address, run_stack, Entry, MemoryWorld, Status, Step, TxState};
use ee_eravm::{Dst, Instruction, Modifiers, Op, Program, Src};
use eravm_oracle::{Status as OStatus, Tx, World};

const CALLER: Address = Address([0x22; 20]);
const A: Address = Address([0x11; 20]);
const B: Address = Address([0x33; 20]);
const C: Address = Address([0x44; 20]);
const STEP_LIMIT: u64 = 20_000;
const NONE: Modifiers = Modifiers::NONE;

fn ins(op: Op, src: Src, dst: Dst, m: Modifiers) -> Instruction {
    Instruction::new(op, src, dst, m).unwrap_or_else(|| panic!("no variant {op:?} {src:?} {dst:?} {m:?}"))
}

fn reg(op: Op) -> Instruction {
    ins(op, Src::Reg, Dst::Reg, NONE)
}

/// `add imm, r0, rN`
fn set(r: u8, imm: u16) -> Instruction {
    ins(Op::Add, Src::Imm, Dst::Reg, NONE).regs(0, 0, r, 0).imms(imm, 0)
}

/// `add code[k], r0, rN`: constant `k` of the program (placed right after `len` instructions).
fn konst(r: u8, len: usize, k: usize) -> Instruction {
    ins(Op::Add, Src::Code, Dst::Reg, NONE).regs(0, 0, r, 0).imms((len.div_ceil(4) + k) as u16, 0)
}

/// `st.1 imm, rV`: a heap word.
fn store(addr: u16, r: u8) -> Instruction {
    ins(Op::HeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, r, 0, 0).imms(addr, 0)
}

/// A far-call or return ABI word: a new slice [start, start+len) of the heap (source 0), aux
/// heap (2), or a forwarded pointer (1); ergs to pass; system-call flag.
fn abi(start: u32, len: u32, source: u8, ergs: u32, system: bool) -> [u8; 32] {
    let settings = source as u64 | (system as u64) << 24;
    U256::from_limbs([0, ((len as u64) << 32) | start as u64, 0, ergs as u64 | settings << 32]).to_be_bytes::<32>()
}

fn word(a: Address) -> [u8; 32] {
    a.to_word().to_be_bytes::<32>()
}

/// High bits that turn a pointer into a forwarding ABI word under `ptr.pack`.
fn forward_bits() -> [u8; 32] {
    U256::from_limbs([0, 0, 0, 1 << 32]).to_be_bytes::<32>()
}

/// A far call of kind `op` (with `modifiers`: static, shard).
fn far(op: Op, modifiers: Modifiers) -> Instruction {
    ins(op, Src::Reg, Dst::Reg, modifiers)
}

fn show(s: &Step) -> String {
    let regs: Vec<String> =
        s.registers.iter().enumerate().filter(|(_, v)| !v.is_zero()).map(|(i, v)| format!("r{i}={v:#x}")).collect();
    format!(
        "pc {:?} ergs {}→{} sp {} flags {:?} ptr {:#06x} {}",
        s.pc,
        s.ergs_before,
        s.ergs_after,
        s.sp,
        s.flags,
        s.pointer_flags,
        regs.join(" ")
    )
}

fn as_ours(s: &eravm_oracle::Step) -> Step {
    Step {
        pc: s.pc,
        ergs_before: s.ergs_before,
        registers: s.registers,
        pointer_flags: s.pointer_flags,
        flags: s.flags,
        sp: s.sp,
        ergs_after: s.ergs_after,
    }
}

fn ostatus(s: OStatus) -> Status {
    match s {
        OStatus::Success => Status::Success,
        OStatus::Revert => Status::Revert,
        OStatus::Panic => Status::Panic,
        OStatus::StepLimit => Status::StepLimit,
        OStatus::Unsupported => Status::Unsupported(Op::Invalid),
    }
}

/// Runs the world (contracts at their addresses, entry at the first) on both sides and
/// compares; returns our status, return data and step count.
fn compare(name: &str, contracts: &[(Address, Vec<u8>)], ergs: u32, value: u128) -> (Status, Vec<u8>, usize) {
    let mut ours_world = MemoryWorld::default();
    let mut theirs_world = World::new();
    for (at, code) in contracts {
        ours_world.install(*at, code);
        theirs_world.install(*at, code);
    }
    let (entry_at, entry_code) = &contracts[0];
    let mut entry = Entry::user(*entry_at, CALLER, ergs, vec![0xab; 40]);
    entry.context_u128 = value;
    let program = Arc::new(Program::new(entry_code).unwrap());
    let mut trace = Vec::new();
    let ours = run_stack(&mut ours_world, &mut TxState::default(), program, entry, STEP_LIMIT, Some(&mut trace));

    let mut tx = Tx::call(CALLER, *entry_at, vec![0xab; 40], ergs).traced();
    tx.value = value;
    tx.step_limit = Some(STEP_LIMIT);
    let theirs = eravm_oracle::run(&theirs_world, &tx);
    let their_trace = theirs.trace.as_ref().expect("traced");
    for (i, (a, b)) in trace.iter().zip(their_trace).enumerate() {
        if *a != as_ours(b) {
            let prev = if i > 0 { show(&trace[i - 1]) } else { "(start)".into() };
            panic!(
                "{name} at {ergs} ergs: step {i} differs\n  before: {prev}\n  ours:   {}\n  vm2:    {} ({} at {})",
                show(a),
                show(&as_ours(b)),
                b.opcode,
                b.address
            );
        }
    }
    assert_eq!(trace.len(), their_trace.len(), "{name} at {ergs} ergs: trace lengths ({:?} vs {:?})", ours, theirs);
    assert_eq!(ours.status, ostatus(theirs.status), "{name} at {ergs} ergs: status");
    assert_eq!(ours.return_data, theirs.return_data, "{name} at {ergs} ergs: return data");
    assert_eq!(ours.ergs_left, theirs.ergs_left, "{name} at {ergs} ergs: ergs left");
    assert_eq!(ours.instructions, theirs.instructions, "{name} at {ergs} ergs: instruction count");
    (ours.status, ours.return_data, trace.len())
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
