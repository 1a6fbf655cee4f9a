//! EraVM under the bootloader, end to end through `execute_transaction`: EVM → EraVM → EVM
//! calls with calldata and return data crossing both ways, a revert inside EraVM rolling
//! back only its frame, and an EraVM-only call chain giving the same return data and ergs
//! as `ee_eravm::machine::run_stack` (which is proven against vm2 instruction by
//! instruction in `ees/eravm/tests/vm2_far_calls.rs`).

use std::sync::Arc;

use bootloader::{execute_transaction, Account, ExecutionLimits, Transaction, TxOutcome, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, U256};
use ee_eravm::asm::assemble;
use ee_eravm::machine::{run_stack, Entry, MemoryWorld, Status, TxState};
use ee_eravm::{stored_code, Dst, Instruction, Modifiers, Op, Program, Src};

const SENDER: Address = Address([0xa0; 20]);
const ENTRY: Address = Address([0xe1; 20]);
const DOUBLER: Address = Address([0xe2; 20]);
const ERA: Address = Address([0xee; 20]);
const ERA2: Address = Address([0xef; 20]);
const GAS: u64 = 2_000_000;
/// 21,000 plus nothing for calldata the tests leave empty.
const INTRINSIC: u64 = 21_000;

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn code(bytes: &[u8]) -> Arc<Bytecode> {
    Arc::new(Bytecode::new(Arc::from(bytes)))
}

fn ins(op: Op, src: Src, m: Modifiers) -> Instruction {
    Instruction::new(op, src, Dst::Reg, m).unwrap()
}

fn reg(op: Op) -> Instruction {
    ins(op, Src::Reg, Modifiers::NONE)
}

/// `add code[k], r0, rN` for constant `k` after `len` instructions.
fn konst(r: u8, len: usize, k: usize) -> Instruction {
    ins(Op::Add, Src::Code, Modifiers::NONE).regs(0, 0, r, 0).imms((len.div_ceil(4) + k) as u16, 0)
}

fn store(addr: u16, r: u8) -> Instruction {
    ins(Op::HeapWrite, Src::Imm, Modifiers::NONE).regs(0, r, 0, 0).imms(addr, 0)
}

/// A far-call or return ABI word: a new heap slice [start, start+len), ergs to pass.
fn abi(start: u32, len: u32, ergs: u32) -> [u8; 32] {
    U256::from_limbs([0, ((len as u64) << 32) | start as u64, 0, ergs as u64]).to_be_bytes::<32>()
}

/// The EraVM contract: reads calldata word x, far-calls `callee` with x + 1 (32 bytes of
/// its heap), and returns the callee's first return word; if the call fails it `end`s
/// (revert or panic) at the handler.
fn era_relay(callee: Address, end: Op) -> Vec<u8> {
    let len = 12;
    let prog = vec![
        reg(Op::FatPointerRead).regs(1, 0, 3, 0),
        ins(Op::Add, Src::Imm, Modifiers::NONE).regs(0, 3, 3, 0).imms(1, 0),
        store(0, 3),
        konst(1, len, 0),
        konst(2, len, 1),
        reg(Op::FarCall).regs(1, 2, 0, 0).imms(11, 0),
        reg(Op::FatPointerRead).regs(1, 0, 4, 0),
        store(0, 4),
        konst(5, len, 2),
        reg(Op::Ret).regs(5, 0, 0, 0),
        reg(Op::Ret).regs(5, 0, 0, 0),
        /* 11: handler */ reg(end).regs(0, 0, 0, 0),
    ];
    assert_eq!(prog.len(), len);
    assemble(&prog, &[abi(0, 32, 200_000), callee.to_word().to_be_bytes::<32>(), abi(0, 32, 0)])
}

/// EVM: returns 2 × its first calldata word.
fn doubler() -> Vec<u8> {
    ee_evm::asm::assemble("PUSH1 0 CALLDATALOAD PUSH1 2 MUL PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN").unwrap()
}

/// EVM: calls `target` with the word 7, stores the first return word in slot 0, the call's
/// success in slot 1, and writes slot 2 before the call.
fn evm_entry(target: Address) -> Vec<u8> {
    let text = format!(
        "PUSH1 1 PUSH1 2 SSTORE PUSH1 7 PUSH1 0 MSTORE \
         PUSH1 32 PUSH1 0 PUSH1 32 PUSH1 0 PUSH1 0 PUSH20 {target} GAS CALL \
         PUSH1 1 SSTORE PUSH1 0 MLOAD PUSH1 0 SSTORE STOP"
    );
    ee_evm::asm::assemble(&text).unwrap()
}

fn world(accounts: &[(Address, Vec<u8>)]) -> WorldState {
    let mut state = WorldState::new();
    state.insert_account(SENDER, Account { balance: u(10u64.pow(18)), ..Account::default() });
    for (at, bytes) in accounts {
        state.insert_account(*at, Account { code: code(bytes), ..Account::default() });
    }
    state
}

fn call(state: &mut WorldState, to: Address, data: Vec<u8>) -> TxOutcome {
    let block = BlockEnv { number: u(1), gas_limit: u(30_000_000), chain_id: u(1), ..BlockEnv::default() };
    let tx = Transaction {
        sender: SENDER,
        to: Some(to),
        gas_limit: u(GAS),
        gas_price: Some(u(0)),
        data: Arc::from(data),
        ..Transaction::default()
    };
    execute_transaction(state, &block, &tx, Fork::Cancun, ExecutionLimits::default()).expect("valid transaction")
}

fn slot(state: &WorldState, a: Address, k: u64) -> U256 {
    state.get(&a).and_then(|acc| acc.storage.get(&u(k)).copied()).unwrap_or_default()
}

#[test]
fn evm_calls_eravm_which_calls_evm() {
    let mut state =
        world(&[(ENTRY, evm_entry(ERA)), (ERA, stored_code(&era_relay(DOUBLER, Op::Revert))), (DOUBLER, doubler())]);
    let out = call(&mut state, ENTRY, vec![]);
    assert_eq!(out.status, ExitStatus::Success);
    assert_eq!(slot(&state, ENTRY, 0), u((7 + 1) * 2), "EVM → EraVM (+1) → EVM (×2) → back");
    assert_eq!(slot(&state, ENTRY, 1), u(1), "the call into EraVM succeeded");
}

#[test]
fn a_failure_inside_eravm_reaches_the_evm_caller_as_a_failed_call() {
    // The EraVM callee calls a kernel address without code: the far call fails, the
    // handler reverts (or panics), and the EVM caller sees a failed call and no data.
    for end in [Op::Revert, Op::Panic] {
        let nowhere = Address([0; 20]);
        let mut bogus = nowhere;
        bogus.0[19] = 0x77;
        bogus.0[18] = 0x90;
        let mut state = world(&[(ENTRY, evm_entry(ERA)), (ERA, stored_code(&era_relay(bogus, end)))]);
        let out = call(&mut state, ENTRY, vec![]);
        assert_eq!(out.status, ExitStatus::Success);
        assert_eq!(slot(&state, ENTRY, 1), U256::ZERO, "{end:?}: the call failed");
        assert_eq!(slot(&state, ENTRY, 0), u(7), "{end:?}: memory kept the input word");
        assert_eq!(slot(&state, ENTRY, 2), u(1), "{end:?}: the caller's own write stays");
    }
}

#[test]
fn an_eravm_only_chain_matches_run_stack() {
    // ERA (+1) → ERA2 (+1) → a doubler written in EraVM, all through the bootloader.
    let double = {
        let prog = vec![
            reg(Op::FatPointerRead).regs(1, 0, 3, 0),
            ins(Op::Add, Src::Reg, Modifiers::NONE).regs(3, 3, 3, 0),
            store(0, 3),
            konst(5, 5, 0),
            reg(Op::Ret).regs(5, 0, 0, 0),
        ];
        assemble(&prog, &[abi(0, 32, 0)])
    };
    let double_at = Address([0xd0; 20]);
    let entry_code = era_relay(ERA2, Op::Revert);
    let middle = era_relay(double_at, Op::Revert);
    let calldata = u(20).to_be_bytes::<32>().to_vec();

    let mut state =
        world(&[(ERA, stored_code(&entry_code)), (ERA2, stored_code(&middle)), (double_at, stored_code(&double))]);
    let out = call(&mut state, ERA, calldata.clone());
    assert_eq!(out.status, ExitStatus::Success);
    assert_eq!(U256::from_be_slice(&out.output), u((20 + 1 + 1) * 2), "{out:?}");

    let mut mem = MemoryWorld::default();
    mem.install(ERA, &entry_code);
    mem.install(ERA2, &middle);
    mem.install(double_at, &double);
    // The bootloader gives the first frame the gas left after the intrinsic cost (21,000
    // plus 16 per non-zero calldata byte, 4 per zero byte).
    let intrinsic = INTRINSIC + calldata.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum::<u64>();
    let ergs = (GAS - intrinsic) as u32;
    let entry = Entry::user(ERA, SENDER, ergs, calldata);
    let program = Arc::new(Program::new(&entry_code).unwrap());
    let alone = run_stack(&mut mem, &mut TxState::default(), program, entry, u64::MAX, None);
    assert_eq!(alone.status, Status::Success);
    assert_eq!(alone.return_data, out.output.to_vec());
    assert_eq!(out.gas_used, intrinsic + (ergs - alone.ergs_left) as u64, "the same ergs under the bootloader");
}
