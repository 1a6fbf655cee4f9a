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

/// The child contract: its constructor (r2 bit 0) stores its first input word in slot 0 and
/// returns no immutables; at run time it returns slot 0.
fn child() -> Vec<u8> {
    let sf = Modifiers::SET_FLAGS;
    let len = 13;
    let prog = vec![
        /* 0 */ ins(Op::And, Src::Imm, sf).regs(0, 2, 0, 0).imms(1, 0),
        /* 1 */ ins(Op::Jump, Src::Imm, Modifiers::NONE).imms(8, 0).when(ee_eravm::Cond::Eq),
        /* 2 */ reg(Op::FatPointerRead).regs(1, 0, 3, 0),
        /* 3 */ reg(Op::StorageWrite).regs(0, 3, 0, 0),
        /* 4 */ ins(Op::Add, Src::Imm, Modifiers::NONE).regs(0, 0, 4, 0).imms(32, 0),
        /* 5 */ store(0, 4),
        /* 6 */ konst(1, len, 0),
        /* 7 */ reg(Op::Ret).regs(1, 0, 0, 0),
        /* 8: run time */ reg(Op::StorageRead).regs(0, 0, 3, 0),
        /* 9 */ store(0, 3),
        /* 10 */ konst(1, len, 1),
        /* 11 */ reg(Op::Ret).regs(1, 0, 0, 0),
        /* 12 */ reg(Op::Panic),
    ];
    assert_eq!(prog.len(), len);
    assemble(&prog, &[abi(0, 64, 0), abi(0, 32, 0)])
}

/// The factory: calls ContractDeployer's `create2(salt, hash, input)` as a system call with
/// the input word 0x1234, then calls the new contract and returns [address, its answer].
fn factory(salt: [u8; 32], hash: [u8; 32]) -> Vec<u8> {
    let mut selector = [0u8; 32];
    selector[..4].copy_from_slice(&keccak(b"create2(bytes32,bytes32,bytes)")[..4]);
    let mut deploy_abi = abi(0, 164, 1_000_000);
    deploy_abi[0] = 1; // settings byte 3: the system-call flag (bits 248..255)
    let words: [[u8; 32]; 9] = [
        selector,
        salt,
        hash,
        u(0x60).to_be_bytes::<32>(),
        u(32).to_be_bytes::<32>(),
        u(0x1234).to_be_bytes::<32>(),
        deploy_abi,
        kernel(0x8006).to_word().to_be_bytes::<32>(),
        abi(200, 0, 1_000_000),
    ];
    let len = 25;
    let mut prog = Vec::new();
    for (k, at) in [(0usize, 0u16), (1, 4), (2, 36), (3, 68), (4, 100), (5, 132)] {
        prog.push(konst(3, len, k));
        prog.push(store(at, 3));
    }
    prog.extend([
        /* 12 */ konst(1, len, 6),
        /* 13 */ konst(2, len, 7),
        /* 14 */ reg(Op::FarCall).regs(1, 2, 0, 0).imms(24, 0),
        /* 15 */ reg(Op::FatPointerRead).regs(1, 0, 5, 0),
        /* 16 */ store(0, 5),
        /* 17 */ konst(1, len, 8),
        /* 18 */ ins(Op::Add, Src::Reg, Modifiers::NONE).regs(5, 0, 2, 0),
        /* 19 */ reg(Op::FarCall).regs(1, 2, 0, 0).imms(24, 0),
        /* 20 */ reg(Op::FatPointerRead).regs(1, 0, 6, 0),
        /* 21 */ store(32, 6),
        /* 22 */ konst(1, len, 9),
        /* 23 */ reg(Op::Ret).regs(1, 0, 0, 0),
        /* 24: handler */ reg(Op::Revert).regs(0, 0, 0, 0),
    ]);
    assert_eq!(prog.len(), len);
    let mut constants = words.to_vec();
    constants.push(abi(0, 64, 0));
    assemble(&prog, &constants)
}

fn keccak(data: &[u8]) -> [u8; 32] {
    use sha3::{Digest, Keccak256};
    Keccak256::digest(data).into()
}

fn kernel(n: u16) -> Address {
    let mut a = [0u8; 20];
    a[18..].copy_from_slice(&n.to_be_bytes());
    Address(a)
}

#[test]
fn an_eravm_contract_deploys_through_contract_deployer() {
    let child = child();
    let hash = ee_eravm::versioned_hash(&child).unwrap();
    let salt = [0x5a; 32];
    // Some code at AccountCodeStorage: a world with Era's system contracts gets the entry.
    let mut state = world(&[(ERA, stored_code(&factory(salt, hash))), (kernel(0x8002), stored_code(&child))]);
    let block = BlockEnv { number: u(1), gas_limit: u(30_000_000), chain_id: u(1), ..BlockEnv::default() };
    let tx = Transaction {
        sender: SENDER,
        to: Some(ERA),
        gas_limit: u(GAS),
        gas_price: Some(u(0)),
        factory_deps: vec![Arc::from(child.clone())],
        ..Transaction::default()
    };
    let out = execute_transaction(&mut state, &block, &tx, Fork::Cancun, ExecutionLimits::default()).unwrap();
    assert_eq!(out.status, ExitStatus::Success, "{out:?}");

    // Era's CREATE2, derived here from its definition: keccak256(keccak256("zksyncCreate2")
    // ‖ pad32(sender) ‖ salt ‖ bytecodeHash ‖ keccak256(input))[12..].
    let mut pre = keccak(b"zksyncCreate2").to_vec();
    pre.extend_from_slice(&ERA.to_word().to_be_bytes::<32>());
    pre.extend_from_slice(&salt);
    pre.extend_from_slice(&hash);
    pre.extend_from_slice(&keccak(&u(0x1234).to_be_bytes::<32>()));
    let expected = Address(keccak(&pre)[12..].try_into().unwrap());
    assert_eq!(U256::from_be_slice(&out.output[..32]), expected.to_word(), "the address ContractDeployer returns");
    assert_eq!(U256::from_be_slice(&out.output[32..64]), u(0x1234), "the new contract answers from its storage");
    let acc = state.get(&expected).expect("the contract exists");
    assert_eq!(&acc.code.bytes[..], &stored_code(&child)[..]);
    assert_eq!(acc.storage.get(&U256::ZERO), Some(&u(0x1234)), "the constructor's write");
    let code_hash = state.get(&kernel(0x8002)).and_then(|a| a.storage.get(&expected.to_word()).copied());
    assert_eq!(code_hash, Some(U256::from_be_bytes(hash)), "AccountCodeStorage names the code");

    // The same hash without the factory dep: ContractDeployer refuses (the factory reverts).
    let mut state = world(&[(ERA, stored_code(&factory(salt, hash)))]);
    let tx = Transaction { factory_deps: Vec::new(), ..tx };
    let out = execute_transaction(&mut state, &block, &tx, Fork::Cancun, ExecutionLimits::default()).unwrap();
    assert_eq!(out.status, ExitStatus::Revert);
    assert!(state.get(&expected).is_none());
}
