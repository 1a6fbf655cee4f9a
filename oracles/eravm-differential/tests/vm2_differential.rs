//! The machine against `zksync_vm2` 0.5.0 (through `eravm-oracle`), instruction by
//! instruction: hand-written programs for each feature, then seeded generated ones (the
//! generator, the builders and the comparison are this crate's library). Every step compares
//! pc, r0–r15 with their pointer tags, flags, sp and ergs (before and after); the end
//! compares status, return data, ergs left and the instruction count. A divergence panics
//! printing the first differing step from both sides. `DUMP=<program name>` prints the
//! machine's whole trace of that program.
//!
//! Programs that act on the world are also compared on it at the end: storage changes,
//! events, L2→L1 logs, non-zero transient slots and the pubdata counter (our side: the
//! `MemoryWorld` and `TxState` after `run_stack`, under the oracle world's pubdata and
//! free-slot rules). Not expressible through the oracle, so not compared: a static entry
//! frame (static context is reached through `farcall.st`), the decommit list.
//!
//! Allowed differences, each a vm2 0.5.0 behaviour rather than the machine's:
//! - dst1 of one-output instructions (oracle README, divergence 1): the generator always
//!   names r0 there, so it never shows.

use ee_api::{Address, U256};
use ee_eravm::machine::Status;
use ee_eravm::{Cond, Dst, Instruction, Modifiers, Op, Src};
use eravm_differential::builders::*;
use eravm_differential::compare::{self, show, Case, Compared};
use eravm_differential::generate::{generate_single, CONTRACT, EVENT_WRITER, KERNEL_CONTRACT, VALUE};
use eravm_oracle::{addresses, World};

/// What a run's world holds besides the program: other code (callees, decommit targets) and
/// storage set before the run, on both sides.
#[derive(Default)]
struct Setup {
    installs: Vec<(Address, Vec<u8>)>,
    storage: Vec<(Address, U256, U256)>,
}

/// Runs `code` on both machines and compares; panics at the first difference.
fn compare(name: &str, code: &[u8], calldata: &[u8], ergs: u32, kernel: bool) -> Compared {
    let address = if kernel { KERNEL_CONTRACT } else { CONTRACT };
    compare_at(name, code, calldata, ergs, address, &Setup::default())
}

/// Runs `code` at `address` on both machines and compares every step, the end, and the
/// world's changes: storage, events, L2→L1 logs, transient storage, the pubdata counter.
fn compare_at(name: &str, code: &[u8], calldata: &[u8], ergs: u32, address: Address, setup: &Setup) -> Compared {
    let mut case = Case::single(address, code.to_vec(), calldata, ergs);
    case.value = VALUE;
    for (a, c) in &setup.installs {
        case.install(*a, c.clone());
    }
    case.storage = setup.storage.clone();
    run_case(name, &case)
}

/// Compares `case`, panicking at the first difference; rejects programs our machine stops
/// on as unsupported.
fn run_case(name: &str, case: &Case) -> Compared {
    if std::env::var("DUMP").as_deref() == Ok(name) {
        for st in &compare::run_ours(case).3 {
            eprintln!("{}", show(st));
        }
    }
    let c = compare::compare(case).unwrap_or_else(|d| panic!("{name}: {d}"));
    assert!(!matches!(c.status, Status::Unsupported(_)), "{name}: program uses an unsupported op: {:?}", c.status);
    c
}

/// A named program: its instructions and the constant words after them.
type Named = (&'static str, Vec<Instruction>, Vec<[u8; 32]>);

fn hand_written() -> Vec<Named> {
    let sf = Modifiers::SET_FLAGS;
    let sw = Modifiers::SWAP;
    vec![
        (
            "arithmetic and flags",
            vec![
                set(1, 7),
                set(2, 5),
                ins(Op::Sub, Src::Reg, Dst::Reg, sf).regs(1, 2, 3, 0),
                ins(Op::Sub, Src::Reg, Dst::Reg, sf.union(sw)).regs(1, 2, 4, 0),
                ins(Op::Mul, Src::Code, Dst::Reg, sf).regs(0, 2, 5, 6).imms(cst(2), 0),
                ins(Op::Div, Src::Reg, Dst::Reg, sf).regs(1, 2, 7, 8),
                ins(Op::Div, Src::Reg, Dst::Reg, sf).regs(1, 0, 9, 10),
                ins(Op::Add, Src::Code, Dst::Reg, sf).regs(0, 0, 11, 0).imms(cst(2), 0),
                ins(Op::Add, Src::Reg, Dst::Reg, sf).regs(11, 11, 12, 0),
                ins(Op::Xor, Src::Reg, Dst::Reg, sf).regs(1, 1, 13, 0),
                ins(Op::Shl, Src::Imm, Dst::Reg, sf.union(sw)).regs(0, 1, 14, 0).imms(250, 0),
                ins(Op::Rol, Src::Imm, Dst::Reg, NONE).regs(0, 11, 15, 0).imms(4, 0),
                ins(Op::Ror, Src::Imm, Dst::Reg, NONE).regs(0, 15, 15, 0).imms(260, 0),
                load_const(1, cst(3)),
                ret_with(Op::Ret, 1),
            ],
            vec![[0; 32], [0; 32], [0xff; 32], abi(0, 0, 0)],
        ),
        (
            "conditions skip",
            vec![
                set(1, 3),
                ins(Op::Sub, Src::Imm, Dst::Reg, sf).regs(1, 1, 2, 0).imms(3, 0),
                set(3, 1).when(Cond::Eq),
                set(4, 1).when(Cond::Ne),
                set(5, 1).when(Cond::Gt),
                set(6, 1).when(Cond::Ge),
                set(7, 1).when(Cond::Le),
                set(8, 1).when(Cond::GtOrLt),
                set(9, 1).when(Cond::Lt),
                reg(Op::Ret).regs(0, 0, 0, 0),
            ],
            vec![],
        ),
        (
            "stack modes",
            vec![
                set(1, 11),
                ins(Op::Add, Src::Reg, Dst::StackPush, NONE).regs(1, 0, 0, 0).imms(0, 1),
                ins(Op::Add, Src::Imm, Dst::StackPush, NONE).regs(0, 0, 0, 0).imms(22, 3),
                ins(Op::Add, Src::StackRel, Dst::Reg, NONE).regs(0, 0, 2, 0).imms(4, 0),
                ins(Op::Add, Src::StackAbs, Dst::Reg, NONE).regs(0, 0, 3, 0).imms(1, 0),
                ins(Op::Add, Src::StackPop, Dst::Reg, NONE).regs(0, 0, 4, 0).imms(3, 0),
                ins(Op::Add, Src::Reg, Dst::StackAbs, NONE).regs(1, 0, 1, 0).imms(0, 100),
                ins(Op::Add, Src::StackAbs, Dst::StackRel, NONE).regs(1, 0, 0, 0).imms(100, 1),
                ins(Op::Nop, Src::StackPop, Dst::StackPush, NONE).regs(0, 0, 0, 0).imms(1, 5),
                ins(Op::Nop, Src::Reg, Dst::StackPush, NONE).regs(0, 0, 1, 0).imms(0, 2),
                ins(Op::Add, Src::StackPop, Dst::Reg, NONE).regs(1, 0, 5, 0).imms(0, 0),
                reg(Op::Ret).regs(0, 0, 0, 0),
            ],
            vec![],
        ),
        (
            "jump and near call",
            vec![
                /* 0 */ reg(Op::NearCall).regs(0, 0, 0, 0).imms(5, 9),
                /* 1 */ set(4, 11),
                /* 2 */ set(10, 40),
                /* 3 */ reg(Op::NearCall).regs(10, 0, 0, 0).imms(7, 9),
                /* 4 */ ins(Op::Jump, Src::Imm, Dst::Reg, NONE).regs(0, 0, 5, 0).imms(11, 0),
                /* 5 */ set(1, 1),
                /* 6 */ reg(Op::Ret),
                /* 7 */ ins(Op::Add, Src::Imm, Dst::StackPush, NONE).imms(1, 2),
                /* 8 */ reg(Op::Revert),
                /* 9 */ set(3, 3),
                /* 10 */ ins(Op::Jump, Src::Reg, Dst::Reg, NONE).regs(4, 0, 0, 0),
                /* 11 */ reg(Op::NearCall).regs(0, 0, 0, 0).imms(13, 16),
                /* 12 */ reg(Op::Panic),
                /* 13 */ ins(Op::Panic, Src::Reg, Dst::Reg, Modifiers::TO_LABEL).imms(14, 0),
                /* 14 */ set(4, 12),
                /* 15 */ reg(Op::Ret).regs(0, 0, 0, 0),
                /* 16 */ reg(Op::Panic),
            ],
            vec![],
        ),
        (
            "heap, aux heap, growth and return data",
            vec![
                set(1, 0xabc),
                ins(Op::HeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, 1, 0, 0).imms(32, 0),
                ins(Op::HeapWrite, Src::Imm, Dst::Reg, Modifiers::INCREMENT).regs(0, 1, 2, 0).imms(5000, 0),
                ins(Op::HeapRead, Src::Reg, Dst::Reg, Modifiers::INCREMENT).regs(2, 0, 3, 4),
                ins(Op::HeapRead, Src::Imm, Dst::Reg, NONE).regs(0, 0, 5, 0).imms(20, 0),
                ins(Op::AuxHeapWrite, Src::Reg, Dst::Reg, NONE).regs(0, 1, 0, 0),
                ins(Op::AuxHeapRead, Src::Imm, Dst::Reg, Modifiers::INCREMENT).regs(0, 0, 6, 7).imms(16, 0),
                load_const(8, cst(3)),
                ret_with(Op::Revert, 8),
            ],
            vec![[0; 32], [0; 32], [0; 32], abi(16, 64, 0)],
        ),
        (
            "return data from the aux heap, growing",
            vec![
                set(1, 0x77),
                ins(Op::AuxHeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, 1, 0, 0).imms(64, 0),
                load_const(2, cst(1)),
                ret_with(Op::Ret, 2),
            ],
            vec![[0; 32], abi(60, 8000, 2)],
        ),
        ("forwarding calldata panics in a user frame", vec![reg(Op::Ret).regs(1, 0, 0, 0)], vec![]),
        (
            "heap address out of range",
            vec![
                set(1, 1),
                ins(Op::Shl, Src::Imm, Dst::Reg, NONE).regs(0, 1, 1, 0).imms(40, 0),
                reg(Op::HeapRead).regs(1, 0, 2, 0),
            ],
            vec![],
        ),
        (
            "pointer erasure in user mode",
            vec![
                ins(Op::Add, Src::Reg, Dst::Reg, NONE).regs(1, 0, 2, 0),
                ins(Op::Add, Src::Reg, Dst::StackPush, NONE).regs(1, 0, 0, 0).imms(0, 1),
                ins(Op::HeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, 1, 0, 0).imms(0, 0),
                reg(Op::Ret),
            ],
            vec![],
        ),
        (
            "context",
            vec![
                reg(Op::This).regs(0, 0, 1, 0),
                reg(Op::Caller).regs(0, 0, 2, 0),
                reg(Op::CodeAddress).regs(0, 0, 3, 0),
                reg(Op::ErgsLeft).regs(0, 0, 4, 0),
                ins(Op::Nop, Src::Reg, Dst::StackPush, NONE).imms(0, 7),
                reg(Op::Sp).regs(0, 0, 5, 0),
                reg(Op::GetContextU128).regs(0, 0, 6, 0),
                ins(Op::HeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, 1, 0, 0).imms(4200, 0),
                reg(Op::Meta).regs(0, 0, 7, 0),
                reg(Op::ErgsLeft).regs(0, 0, 8, 0).when(Cond::Eq),
                reg(Op::Ret),
            ],
            vec![],
        ),
        (
            "fat pointers",
            vec![
                set(2, 2),
                ins(Op::PtrAdd, Src::Reg, Dst::Reg, NONE).regs(1, 2, 3, 0),
                reg(Op::FatPointerRead).regs(3, 0, 4, 0),
                ins(Op::FatPointerRead, Src::Reg, Dst::Reg, Modifiers::INCREMENT).regs(3, 0, 5, 6),
                reg(Op::FatPointerRead).regs(6, 0, 14, 0),
                ins(Op::PtrShrink, Src::Reg, Dst::Reg, NONE).regs(1, 2, 7, 0),
                ins(Op::PtrSub, Src::Reg, Dst::Reg, NONE).regs(3, 2, 8, 0),
                ins(Op::PtrAdd, Src::Reg, Dst::Reg, Modifiers::SWAP).regs(2, 1, 9, 0),
                ins(Op::PtrAdd, Src::Reg, Dst::StackPush, NONE).regs(1, 0, 0, 0).imms(0, 1),
                ins(Op::Add, Src::StackRel, Dst::Reg, NONE).regs(0, 0, 10, 0).imms(1, 0),
                ins(Op::PtrAdd, Src::StackRel, Dst::Reg, NONE).regs(0, 2, 11, 0).imms(1, 0),
                load_const(12, cst(4)),
                ins(Op::PtrPack, Src::Reg, Dst::Reg, NONE).regs(3, 12, 13, 0),
                // Forwarding the calldata: a panic in a user frame, its tail in a kernel one.
                ret_with(Op::Ret, 13),
            ],
            vec![[0; 32], [0; 32], [0; 32], [0; 32], U256::from_limbs([0, 0, 0, 1 << 32]).to_be_bytes::<32>()],
        ),
        (
            "pointer op on a non-pointer",
            vec![set(2, 2), ins(Op::PtrAdd, Src::Reg, Dst::Reg, NONE).regs(2, 1, 3, 0), reg(Op::Ret)],
            vec![],
        ),
        (
            "context setters (kernel only)",
            vec![
                set(1, 0x55),
                reg(Op::SetContextU128).regs(1, 0, 0, 0),
                reg(Op::AuxMutating0).when(Cond::Eq),
                reg(Op::IncrementTxNumber),
                reg(Op::Ret),
            ],
            vec![],
        ),
        ("invalid opcode", vec![set(1, 1), Instruction::INVALID.when(Cond::Eq)], vec![]),
        ("running off the end", vec![set(1, 1)], vec![]),
    ]
}

const CALLEE: Address = Address([0x33; 20]);

/// A check of the registers at the end of a run.
type RegisterCheck = Box<dyn Fn(&[U256; 16])>;

/// A hand-written program that acts on the world: where it runs, what the world holds, the
/// ergs it gets, and the ending it was written for.
struct WorldCase {
    name: String,
    prog: Vec<Instruction>,
    constants: Vec<[u8; 32]>,
    address: Address,
    setup: Setup,
    ergs: Vec<u32>,
    expected: Status,
    /// What the registers must hold at the end of the first run, computed independently.
    check: Option<RegisterCheck>,
}

fn world_case(name: &str, prog: Vec<Instruction>, constants: Vec<[u8; 32]>, address: Address) -> WorldCase {
    WorldCase {
        name: name.into(),
        prog,
        constants,
        address,
        setup: Setup::default(),
        ergs: vec![200_000],
        expected: Status::Success,
        check: None,
    }
}

/// keccak256 as the test computes it independently.
fn keccak(bytes: &[u8]) -> [u8; 32] {
    use sha3::Digest;
    sha3::Keccak256::digest(bytes).into()
}

fn world_cases() -> Vec<WorldCase> {
    let mut cases = Vec::new();
    // Storage: cold and warm reads, a write after a read, a warm write, a cold write, a
    // write to a slot set before the run (repeated-write pubdata) and back (paid pubdata
    // returned), transient storage; a near call that writes and reverts is undone (storage,
    // transient storage, pubdata) while the slots it touched stay warm.
    let storage = vec![
        /* 0 */ set(1, 1),
        /* 1 */ set(2, 5),
        /* 2 */ sload(1, 3),
        /* 3 */ sload(1, 4),
        /* 4 */ sstore(1, 2),
        /* 5 */ sstore(1, 2),
        /* 6 */ set(5, 2),
        /* 7 */ sstore(5, 2),
        /* 8 */ sload(5, 6),
        /* 9 */ set(7, 3),
        /* 10 */ sload(7, 8),
        /* 11 */ sstore(7, 0),
        /* 12 */ reg(Op::Meta).regs(0, 0, 9, 0),
        /* 13 */ sstore(7, 8),
        /* 14 */ tstore(1, 2),
        /* 15 */ reg(Op::NearCall).regs(0, 0, 0, 0).imms(21, 16),
        /* 16 */ sload(5, 10),
        /* 17 */ tload(1, 11),
        /* 18 */ reg(Op::Meta).regs(0, 0, 12, 0),
        /* 19 */ sload(13, 14),
        /* 20 */ reg(Op::Ret),
        /* 21 */ set(2, 9),
        /* 22 */ sstore(5, 2),
        /* 23 */ tstore(1, 2),
        /* 24 */ set(13, 4),
        /* 25 */ sstore(13, 2),
        /* 26 */ reg(Op::Meta).regs(0, 0, 9, 0),
        /* 27 */ reg(Op::Revert),
    ];
    for (label, address) in [("user", CONTRACT), ("kernel", KERNEL_CONTRACT)] {
        let mut c = world_case(&format!("storage ({label})"), storage.clone(), vec![], address);
        c.setup.storage.push((address, U256::from(3), U256::from(7)));
        c.ergs = vec![200_000, 0, 2_007, 2_008, 2_100, 5_000, 9_000, 12_000, 20_000, 30_000];
        cases.push(c);
    }
    // The same writes at SystemContext, whose slots are free: warm refunds, no pubdata.
    let mut c = world_case("storage at SystemContext (free slots)", storage.clone(), vec![], addresses::SYSTEM_CONTEXT);
    c.ergs = vec![200_000, 7_000];
    cases.push(c);
    // The bootloader's base-token balance slot is free, its neighbour is not.
    let mut c = world_case(
        "storage at L2BaseToken (one free slot)",
        vec![
            load_const(1, cst(0)),
            set(2, 9),
            sload(1, 3),
            sstore(1, 2),
            sstore(2, 2),
            sload(2, 4),
            reg(Op::Meta).regs(0, 0, 5, 0),
            reg(Op::Ret),
        ],
        vec![word(World::balance_key(addresses::BOOTLOADER))],
        addresses::L2_BASE_TOKEN,
    );
    c.setup.storage.push((addresses::L2_BASE_TOKEN, U256::from(9), U256::from(1)));
    cases.push(c);

    // Events (recorded at EventWriter only) and L2→L1 logs; a near call that logs and
    // panics is undone; inctx advances the transaction number and clears transient storage.
    let events = vec![
        /* 0 */ set(1, 0x11),
        /* 1 */ set(2, 0x22),
        /* 2 */ log(Op::Event, 1, 2, true),
        /* 3 */ log(Op::Event, 2, 1, false),
        /* 4 */ log(Op::ToL1Message, 1, 2, true),
        /* 5 */ log(Op::ToL1Message, 2, 2, false),
        /* 6 */ tstore(1, 2),
        /* 7 */ reg(Op::NearCall).regs(0, 0, 0, 0).imms(14, 8),
        /* 8 */ log(Op::Event, 1, 1, false),
        /* 9 */ reg(Op::IncrementTxNumber),
        /* 10 */ log(Op::Event, 2, 2, true),
        /* 11 */ log(Op::ToL1Message, 2, 1, true),
        /* 12 */ tload(1, 3),
        /* 13 */ reg(Op::Ret),
        /* 14 */ log(Op::Event, 1, 2, false),
        /* 15 */ log(Op::ToL1Message, 1, 1, false),
        /* 16 */ tstore(2, 2),
        /* 17 */ reg(Op::Panic),
    ];
    for (label, address, expected) in [
        ("EventWriter", EVENT_WRITER, Status::Success),
        ("another kernel address", KERNEL_CONTRACT, Status::Success),
        ("user: kernel only", CONTRACT, Status::Panic),
    ] {
        let mut c = world_case(&format!("events and L2→L1 logs ({label})"), events.clone(), vec![], address);
        c.expected = expected;
        c.ergs = vec![200_000, 0, 50, 200, 400];
        cases.push(c);
    }

    // Decommit: a known hash (fresh, then cached: the extra ergs come back), the same hash
    // marked "constructing" (another key, fresh), a malformed hash (0), an unknown but
    // well-formed one (an empty page), extra ergs that cannot be paid (0, then out of ergs).
    let target = build(&[set(1, 1), reg(Op::Ret)], &[]);
    let hash = U256::from_be_bytes(ee_eravm::versioned_hash(&target).expect("valid code"));
    let mut constructing = word(hash);
    constructing[1] = 1;
    let mut malformed = word(hash);
    malformed[0] = 3;
    let mut unknown = [0u8; 32];
    unknown[0] = 1;
    unknown[31] = 0x5a;
    let decommit = |h: u8, extra: u8, d: u8| reg(Op::Decommit).regs(h, extra, d, 0);
    let prog = vec![
        load_const(1, cst(0)),
        set(2, 100),
        decommit(1, 2, 3),
        reg(Op::FatPointerRead).regs(3, 0, 4, 0),
        decommit(1, 2, 5),
        load_const(6, cst(1)),
        decommit(6, 2, 7),
        load_const(8, cst(2)),
        decommit(8, 2, 9),
        load_const(10, cst(3)),
        decommit(10, 0, 11),
        reg(Op::FatPointerRead).regs(11, 0, 12, 0),
        reg(Op::ErgsLeft).regs(0, 0, 13, 0),
        load_const(14, cst(4)),
        decommit(1, 14, 15),
        reg(Op::Ret),
    ];
    let consts = vec![word(hash), constructing, malformed, unknown, word(U256::from(u32::MAX))];
    for (label, address, expected) in
        [("kernel", KERNEL_CONTRACT, Status::Panic), ("user: kernel only", CONTRACT, Status::Panic)]
    {
        let mut c = world_case(&format!("decommit ({label})"), prog.clone(), consts.clone(), address);
        c.setup.installs.push((CALLEE, target.clone()));
        c.expected = expected;
        c.ergs = vec![200_000, 5, 50, 110];
        cases.push(c);
    }
    // Without the last (unpayable) decommit: the run succeeds.
    let mut c = world_case(
        "decommit, paid",
        prog[..13].iter().copied().chain([reg(Op::Ret)]).collect(),
        consts,
        KERNEL_CONTRACT,
    );
    c.setup.installs.push((CALLEE, target));
    cases.push(c);

    // Precompiles, each at its address: input written to the heap, the call, the output
    // read back (from the heap, or the aux heap when the ABI names page 3).
    let input: Vec<[u8; 32]> = (0..6u8).map(|i| [0x31 ^ i.wrapping_mul(0x45); 32]).collect();
    let precompile = |abi_const: u16, extra_const: u16| {
        [load_const(1, cst(abi_const)), load_const(2, cst(extra_const)), reg(Op::PrecompileCall).regs(1, 2, 3, 0)]
    };
    let write_input = |n: usize| -> Vec<Instruction> {
        (0..n).flat_map(|i| [load_const(4, cst(10 + i as u16)), store(32 * i as u16, 4)]).collect()
    };
    let with_input = |consts: Vec<[u8; 32]>, words: &[[u8; 32]]| {
        let mut c = consts;
        c.resize(10, [0; 32]);
        c.extend_from_slice(words);
        c
    };
    // keccak256: 70 bytes from byte 5 (unaligned), output at word 4; again into the aux heap
    // at word 1 with 7 pubdata; then the output length 0 (nothing written).
    let mut keccak_prog = write_input(3);
    keccak_prog.extend(precompile(0, 1));
    keccak_prog.push(load(Op::HeapRead, 128, 5));
    keccak_prog.extend(precompile(2, 3));
    keccak_prog.push(load(Op::AuxHeapRead, 32, 6));
    keccak_prog.extend(precompile(4, 1));
    keccak_prog.push(load(Op::HeapRead, 192, 7));
    keccak_prog.push(reg(Op::Meta).regs(0, 0, 8, 0));
    keccak_prog.push(reg(Op::Ret));
    let keccak_consts = with_input(
        vec![
            precompile_abi((5, 70), (4, 1), (0, 0), 0),
            word(U256::from(40)),
            precompile_abi((5, 70), (1, 1), (0, 3), 0),
            word(U256::from(7u64 << 32 | 40)),
            precompile_abi((0, 64), (6, 0), (0, 0), 0),
        ],
        &input[..3],
    );
    let mut c = world_case("keccak256 precompile", keccak_prog.clone(), keccak_consts.clone(), low(0x8010));
    c.ergs = vec![200_000, 30, 60, 90];
    let bytes: Vec<u8> = input[..3].concat();
    let expected = U256::from_be_bytes(keccak(&bytes[5..75]));
    c.check = Some(Box::new(move |r| {
        assert_eq!((r[3], r[5], r[6], r[7]), (U256::from(1), expected, expected, U256::ZERO), "keccak");
        assert_eq!(r[8].as_limbs()[0], 7, "pubdata in kernel meta");
    }));
    cases.push(c);
    // The same call elsewhere: no precompile there, nothing written, still 1.
    cases.push(world_case("precompile call at a non-precompile address", keccak_prog, keccak_consts, KERNEL_CONTRACT));
    // sha256: two rounds over 4 words from word 1, output at word 8; then zero rounds.
    let mut sha_prog = write_input(5);
    sha_prog.extend(precompile(0, 1));
    sha_prog.push(load(Op::HeapRead, 256, 5));
    sha_prog.extend(precompile(2, 1));
    sha_prog.push(load(Op::HeapRead, 288, 6));
    sha_prog.push(reg(Op::Ret));
    let sha_consts = with_input(
        vec![
            precompile_abi((1, 4), (8, 1), (0, 0), 2),
            word(U256::from(14)),
            precompile_abi((1, 0), (9, 1), (0, 0), 0),
        ],
        &input[..5],
    );
    let mut c = world_case("sha256 precompile", sha_prog, sha_consts, low(0x02));
    // Two blocks without padding: sha256's compression from its initial state, computed by
    // hand-rolled padding-free use of sha2's block function.
    let blocks: Vec<u8> = input[1..5].concat();
    let mut state = [0x6a09e667u32, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for b in blocks.chunks(64) {
        let block: [u8; 64] = b.try_into().unwrap();
        sha2::compress256(&mut state, &[block.into()]);
    }
    let expected = U256::from_be_slice(&state.iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<u8>>());
    c.check = Some(Box::new(move |r| assert_eq!((r[5], r[6]), (expected, U256::ZERO), "sha256")));
    cases.push(c);
    // ecrecover of a real signature, and of one with r = 0 ([0, 0]).
    {
        use k256::ecdsa::SigningKey;
        let key = SigningKey::from_bytes(&[7u8; 32].into()).expect("a key");
        let digest = keccak(b"eravm");
        let (sig, recid) = key.sign_prehash_recoverable(&digest).expect("signs");
        let sig = sig.to_bytes();
        let words =
            [digest, word(U256::from(recid.to_byte())), sig[..32].try_into().unwrap(), sig[32..].try_into().unwrap()];
        let mut prog = write_input(4);
        prog.extend(precompile(0, 1));
        prog.push(load(Op::HeapRead, 128, 5));
        prog.push(load(Op::HeapRead, 160, 6));
        prog.push(store(64, 0));
        prog.extend(precompile(0, 1));
        prog.push(load(Op::HeapRead, 128, 7));
        prog.push(load(Op::HeapRead, 160, 8));
        prog.push(reg(Op::Ret));
        let consts = with_input(vec![precompile_abi((0, 4), (4, 2), (0, 0), 0), word(U256::from(1112))], &words);
        let mut c = world_case("ecrecover precompile", prog, consts, low(0x01));
        let point = key.verifying_key().to_encoded_point(false);
        let mut address = keccak(&point.as_bytes()[1..]);
        address[..12].fill(0);
        let address = U256::from_be_bytes(address);
        c.check = Some(Box::new(move |r| {
            assert_eq!((r[5], r[6], r[7], r[8]), (U256::from(1), address, U256::ZERO, U256::ZERO), "ecrecover")
        }));
        cases.push(c);
    }
    // secp256r1 verify: a valid signature, then a corrupted digest ([1, 0]).
    {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        use p256::ecdsa::{Signature, SigningKey};
        let key = SigningKey::from_bytes(&[9u8; 32].into()).expect("a key");
        let digest = keccak(b"era");
        let sig: Signature = key.sign_prehash(&digest).expect("signs");
        let sig = sig.to_bytes();
        let point = key.verifying_key().to_encoded_point(false);
        let words = [
            digest,
            sig[..32].try_into().unwrap(),
            sig[32..].try_into().unwrap(),
            (*point.x().unwrap()).into(),
            (*point.y().unwrap()).into(),
        ];
        let mut prog = write_input(5);
        prog.extend(precompile(0, 1));
        prog.push(load(Op::HeapRead, 160, 5));
        prog.push(load(Op::HeapRead, 192, 6));
        prog.push(store(0, 6));
        prog.extend(precompile(0, 1));
        prog.push(load(Op::HeapRead, 160, 7));
        prog.push(load(Op::HeapRead, 192, 8));
        prog.push(reg(Op::Ret));
        let consts = with_input(vec![precompile_abi((0, 5), (5, 2), (0, 0), 0), word(U256::from(100))], &words);
        let mut c = world_case("secp256r1 verify precompile", prog, consts, low(0x100));
        let one = U256::from(1);
        c.check =
            Some(Box::new(move |r| assert_eq!((r[5], r[6], r[7], r[8]), (one, one, one, U256::ZERO), "secp256r1")));
        cases.push(c);
    }
    // modexp: 3^(2^200 + 5) mod (2^255 - 19), then a zero modulus, then a zero exponent.
    {
        let base = U256::from(3);
        let exponent = (U256::from(1) << 200) + U256::from(5);
        let modulus = (U256::from(1) << 255) - U256::from(19);
        let words = [word(base), word(exponent), word(modulus), [0; 32], word(U256::from(7))];
        let mut prog = write_input(5);
        prog.extend(precompile(0, 1));
        prog.push(load(Op::HeapRead, 192, 5));
        prog.extend(precompile(2, 1));
        prog.push(load(Op::HeapRead, 224, 6));
        prog.extend(precompile(3, 1));
        prog.push(load(Op::HeapRead, 256, 7));
        prog.push(reg(Op::Ret));
        let consts = with_input(
            vec![
                precompile_abi((0, 3), (6, 1), (0, 0), 0),
                word(U256::from(500)),
                precompile_abi((1, 3), (7, 1), (0, 0), 0),
                precompile_abi((2, 3), (8, 1), (0, 0), 0),
            ],
            &words,
        );
        let mut c = world_case("modexp precompile", prog, consts, low(0x05));
        let expected = base.pow_mod(exponent, modulus);
        // [exponent, modulus, 0]: exponent^(2^255 - 19) mod 0 = 0; [modulus, 0, 7]: x^0 = 1.
        c.check =
            Some(Box::new(move |r| assert_eq!((r[5], r[6], r[7]), (expected, U256::ZERO, U256::from(1)), "modexp")));
        cases.push(c);
    }
    // ecadd and ecmul on bn254 G1: G + 2G, G + infinity, an off-curve point, a coordinate
    // not below p; 2G·(r + 5) (the scalar reduced), infinity·7, an off-curve point.
    {
        let p_mod =
            U256::from_str_radix("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", 16).unwrap();
        let r_mod =
            U256::from_str_radix("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16).unwrap();
        let g = (U256::from(1), U256::from(2));
        let g2 = (
            U256::from_str_radix("030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3", 16).unwrap(),
            U256::from_str_radix("15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4", 16).unwrap(),
        );
        // Inputs: G, 2G, (0, 0), (1, 3) off the curve, (p, 2) (p itself: not below p), then
        // r + 5 and 7.
        let words = [
            word(g.0),
            word(g.1),
            word(g2.0),
            word(g2.1),
            [0; 32],
            [0; 32],
            word(U256::from(1)),
            word(U256::from(3)),
            word(p_mod),
            word(U256::from(2)),
            word(r_mod + U256::from(5)),
            word(U256::from(7)),
        ];
        let mut prog = write_input(12);
        // ecadd over four-word windows from words 0, 2, 4, 6: G + 2G, 2G + infinity,
        // infinity + off-curve, off-curve + (p, 2).
        let calls: [(u16, u16); 4] = [(0, 1), (2, 1), (3, 1), (4, 1)];
        for (i, (abi_k, extra_k)) in calls.iter().enumerate() {
            prog.extend(precompile(*abi_k, *extra_k));
            prog.push(load(Op::HeapRead, 1024 + 96 * i as u16 + 32, 5 + i as u8));
        }
        prog.push(reg(Op::Ret));
        let consts = with_input(
            vec![
                precompile_abi((0, 4), (32, 3), (0, 0), 0),
                word(U256::from(200)),
                precompile_abi((2, 4), (35, 3), (0, 0), 0),
                precompile_abi((4, 4), (38, 3), (0, 0), 0),
                precompile_abi((6, 4), (41, 3), (0, 0), 0),
            ],
            &words,
        );
        let mut c = world_case("ecadd precompile", prog, consts, low(0x06));
        // x of 3G (computed apart from both machines), of 2G, then two failures.
        let three_g_x =
            U256::from_str_radix("0769bf9ac56bea3ff40232bcb1b6bd159315d84715b8e679f2d355961915abf0", 16).unwrap();
        let two_g_x = g2.0;
        c.check = Some(Box::new(move |r| {
            assert_eq!((r[5], r[6], r[7], r[8]), (three_g_x, two_g_x, U256::ZERO, U256::ZERO), "ecadd")
        }));
        cases.push(c);
        let mut prog = write_input(12);
        let mut consts = vec![word(U256::ZERO), word(U256::from(2_000))];
        // ecmul (x, y, s) from words 20–22, which the program fills before each call: 2G and
        // r + 5, infinity and 7, (1, 3) and 7.
        let steps: [(u16, u16); 3] = [(2, 10), (4, 11), (6, 11)];
        for (i, (point, scalar)) in steps.iter().enumerate() {
            // Copy the point and the scalar to words 20, 21, 22.
            prog.push(load(Op::HeapRead, 32 * point, 4));
            prog.push(store(640, 4));
            prog.push(load(Op::HeapRead, 32 * point + 32, 4));
            prog.push(store(672, 4));
            prog.push(load(Op::HeapRead, 32 * scalar, 4));
            prog.push(store(704, 4));
            consts.push(precompile_abi((20, 3), (32 + 3 * i as u32, 3), (0, 0), 0));
            prog.extend(precompile(2 + i as u16, 1));
            prog.push(load(Op::HeapRead, 1024 + 96 * i as u16 + 32, 5 + i as u8));
        }
        prog.push(reg(Op::Ret));
        let consts = with_input(consts, &words);
        let mut c = world_case("ecmul precompile", prog, consts, low(0x07));
        c.check = Some(Box::new(move |r| {
            // 2G·5 = 10G (its x computed apart from both machines); infinity·7 = infinity
            // (x 0); off the curve: 0.
            let ten_g_x =
                U256::from_str_radix("09d3a257b99f1ad804a9e2354ea71c72da7fa518f4ca7904c6951d924b4045b4", 16).unwrap();
            assert_eq!((r[5], r[6], r[7]), (ten_g_x, U256::ZERO, U256::ZERO), "ecmul");
        }));
        cases.push(c);
    }
    // ecpairing: e(G1, G2)·e(-G1, G2) = 1; e(G1, G2) alone ≠ 1; no rounds; a G2 point with
    // its coordinates swapped (off the curve).
    {
        let dec = |d: &str| U256::from_str_radix(d, 10).unwrap();
        let p_mod =
            U256::from_str_radix("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", 16).unwrap();
        let g2 = [
            dec("11559732032986387107991004021392285783925812861821192530917403151452391805634"),
            dec("10857046999023057135944570762232829481370756359578518086990519993285655852781"),
            dec("4082367875863433681332203403145435568316851327593401208105741076214120093531"),
            dec("8495653923123431417604973247489272438418190587263600148770280649306958101930"),
        ];
        let mut words = vec![word(U256::from(1)), word(U256::from(2))];
        words.extend(g2.iter().map(|v| word(*v)));
        words.extend([word(U256::from(1)), word(p_mod - U256::from(2))]);
        words.extend(g2.iter().map(|v| word(*v)));
        words.extend([word(U256::from(1)), word(U256::from(2)), word(g2[1]), word(g2[0]), word(g2[2]), word(g2[3])]);
        let mut prog = write_input(18);
        let outputs = [(0u16, 20u16), (2, 22), (3, 24), (4, 26)];
        for (i, (abi_k, out)) in outputs.iter().enumerate() {
            prog.extend(precompile(*abi_k, 1));
            prog.push(load(Op::HeapRead, 32 * out, 4 + 2 * i as u8));
            prog.push(load(Op::HeapRead, 32 * out + 32, 5 + 2 * i as u8));
        }
        prog.push(reg(Op::Ret));
        let consts = with_input(
            vec![
                precompile_abi((0, 12), (20, 2), (0, 0), 2),
                word(U256::from(40_000)),
                precompile_abi((0, 6), (22, 2), (0, 0), 1),
                precompile_abi((0, 0), (24, 2), (0, 0), 0),
                precompile_abi((12, 6), (26, 2), (0, 0), 1),
            ],
            &words,
        );
        let mut c = world_case("ecpairing precompile", prog, consts, low(0x08));
        // With 100,000 ergs the third call's extra ergs cannot be paid.
        c.ergs = vec![200_000, 100_000];
        let (zero, one) = (U256::ZERO, U256::from(1));
        c.check = Some(Box::new(move |r| {
            assert_eq!(r[4..12], [one, one, one, zero, one, one, zero, zero], "ecpairing");
        }));
        cases.push(c);
    }
    // Extra ergs the frame cannot pay: vm2's panic step follows.
    let mut c = world_case(
        "precompile call with unpayable extra ergs",
        vec![load_const(2, cst(0)), reg(Op::PrecompileCall).regs(1, 2, 3, 0), reg(Op::Ret)],
        vec![word(U256::from(u32::MAX))],
        low(0x8010),
    );
    c.expected = Status::Panic;
    cases.push(c);
    // Precompile calls are kernel only.
    let mut c = world_case(
        "precompile call (user: kernel only)",
        vec![reg(Op::PrecompileCall).regs(1, 2, 3, 0), reg(Op::Ret)],
        vec![],
        CONTRACT,
    );
    c.expected = Status::Panic;
    cases.push(c);

    // Static context, reached through a static far call: reads pass, writes panic the
    // callee (paid for, as vm2), and the caller goes on at the handler and writes itself.
    let far_abi = word(U256::from_limbs([0, 0, 0, 30_000]));
    // event and to_l1 run in kernel callees (EventWriter, so the event would be recorded),
    // so that only the static rule stops them; the same calls without `.st` succeed.
    for (label, write, callee_address) in [
        ("sstore", sstore(1, 1), CALLEE),
        ("tstore", tstore(1, 1), CALLEE),
        ("event", log(Op::Event, 1, 1, false), EVENT_WRITER),
        ("to_l1", log(Op::ToL1Message, 1, 1, false), low(0x9100)),
        ("reads only", set(4, 4), CALLEE),
    ] {
        for is_static in [true, false] {
            let callee = build(&[set(1, 1), sload(1, 2), tload(1, 3), write, reg(Op::Ret)], &[]);
            let m = if is_static { Modifiers::STATIC } else { NONE };
            let caller = vec![
                /* 0 */ load_const(1, cst(0)),
                /* 1 */ load_const(2, cst(1)),
                /* 2 */ ins(Op::FarCall, Src::Reg, Dst::Reg, m).regs(1, 2, 0, 0).imms(5, 0),
                /* 3 */ set(6, 6),
                /* 4 */ reg(Op::Ret),
                /* 5 */ set(5, 9),
                /* 6 */ sstore(5, 5),
                /* 7 */ tstore(5, 5),
                /* 8 */ reg(Op::Ret),
            ];
            let callee_word = word(U256::from_be_slice(&callee_address.0));
            let kind = if is_static { "static far call" } else { "far call" };
            let mut c = world_case(&format!("{kind}, callee {label}"), caller, vec![far_abi, callee_word], CONTRACT);
            c.setup.installs.push((callee_address, callee));
            c.ergs = vec![200_000, 3_000, 20_000];
            // The callee's write panics only in a static call: the caller is then at the
            // handler (r5 = 9), else past the call (r6 = 6).
            let panics = is_static && label != "reads only";
            c.check = Some(Box::new(move |r| {
                assert_eq!((r[5], r[6]), if panics { (U256::from(9), U256::ZERO) } else { (U256::ZERO, U256::from(6)) })
            }));
            cases.push(c);
        }
    }
    cases
}

#[test]
fn world_programs_match_vm2() {
    let mut runs = 0;
    let mut steps = 0;
    let mut changes = (0, 0, 0, 0);
    let mut world_ops = 0;
    for case in world_cases() {
        let code = build(&case.prog, &case.constants);
        for (i, ergs) in case.ergs.iter().enumerate() {
            let name = format!("{} with {ergs} ergs", case.name);
            let c = compare_at(&name, &code, &[], *ergs, case.address, &case.setup);
            runs += 1;
            steps += c.steps;
            world_ops += c.world_ops;
            changes =
                (changes.0 + c.changes.0, changes.1 + c.changes.1, changes.2 + c.changes.2, changes.3 + c.changes.3);
            // The first (ample) ergs: the ending the program was written for.
            if i == 0 {
                assert_eq!(c.status, case.expected, "{name}");
                if let Some(check) = &case.check {
                    check(&c.registers);
                }
            }
        }
    }
    eprintln!(
        "world programs: {runs} runs, {steps} steps compared ({world_ops} of world ops); at the end {} storage changes, {} events, {} L2→L1 logs, {} transient slots",
        changes.0, changes.1, changes.2, changes.3
    );
    assert!(changes.0 > 5 && changes.1 > 2 && changes.2 > 2 && changes.3 > 2, "{changes:?}");
}

#[test]
fn hand_written_programs_match_vm2() {
    let mut steps = 0;
    let cases = hand_written();
    let calldata: Vec<u8> = (1..=40).collect();
    for (name, prog, constants) in &cases {
        let user = compare(name, &build(prog, constants), &calldata, 10_000, false);
        steps += user.steps;
        // Agreement alone could hide a program that does not do what its name says.
        let expected = match *name {
            "arithmetic and flags" | "conditions skip" | "stack modes" | "context" | "pointer erasure in user mode" => {
                Some(Status::Success)
            }
            "jump and near call" | "return data from the aux heap, growing" => Some(Status::Success),
            "heap, aux heap, growth and return data" => Some(Status::Revert),
            "forwarding calldata panics in a user frame" | "heap address out of range" | "invalid opcode" => {
                Some(Status::Panic)
            }
            "fat pointers" | "pointer op on a non-pointer" | "running off the end" => Some(Status::Panic),
            // Kernel-only: a panic in a user frame (the kernel run succeeds, checked below).
            "context setters (kernel only)" => Some(Status::Panic),
            _ => None,
        };
        assert_eq!(Some(user.status), expected, "{name}");
        if *name == "return data from the aux heap, growing" {
            assert_eq!((user.return_data.len(), user.return_data[35]), (8000, 0x77));
        }
        if *name == "heap, aux heap, growth and return data" {
            // 0xabc written at 32 (bytes 32..64): the slice [16, 80) holds it at 46..48.
            assert_eq!(user.return_data.len(), 64);
            assert_eq!(&user.return_data[46..48], &[0x0a, 0xbc]);
        }
        let kernel = compare(&format!("{name} in kernel mode"), &build(prog, constants), &calldata, 10_000, true);
        steps += kernel.steps;
        if *name == "context setters (kernel only)" {
            assert_eq!(kernel.status, Status::Success);
        }
        if *name == "fat pointers" {
            // Both machines agree; check they agree on the intended thing: the calldata
            // forwarded from offset 2.
            assert_eq!((kernel.status, &kernel.return_data[..]), (Status::Success, &calldata[2..]));
        }
    }
    // Low ergs: the same programs running out part-way.
    for (name, prog, constants) in &cases {
        for ergs in [0, 5, 30, 200, 4100] {
            steps += compare(&format!("{name} with {ergs} ergs"), &build(prog, constants), &[], ergs, false).steps;
        }
    }
    eprintln!("hand-written: {} runs, {steps} steps compared", cases.len() * 7);
    assert!(steps > 100);
}

#[test]
fn generated_programs_match_vm2() {
    let programs = 2_000u64;
    let mut steps = 0;
    let mut statuses = std::collections::BTreeMap::new();
    let mut changes = (0usize, 0usize, 0usize, 0usize);
    let mut world_ops = 0;
    for seed in 0..programs {
        // Every other program acts on the world, a slot of which is set before the run; one
        // in four in a kernel frame, half of those of the world programs at EventWriter
        // (`generate_single`).
        let c = run_case(&format!("seed {seed}"), &generate_single(seed));

        changes.0 += c.changes.0;
        changes.1 += c.changes.1;
        changes.2 += c.changes.2;
        changes.3 += c.changes.3;
        world_ops += c.world_ops;
        steps += c.steps;
        *statuses.entry(format!("{:?}", c.status)).or_insert(0u32) += 1;
    }
    eprintln!(
        "generated: {programs} programs, {steps} steps compared ({world_ops} of world ops), endings {statuses:?}; at the end {} storage changes, {} events, {} L2→L1 logs, {} transient slots",
        changes.0, changes.1, changes.2, changes.3
    );
    assert!(changes.0 > 30 && changes.1 > 10 && changes.2 > 10 && changes.3 > 10, "{changes:?}");
    assert!(steps as u64 > programs * 5);
    // The generator must reach every ending, or part of the machine goes unchecked.
    for ending in ["Success", "Revert", "Panic"] {
        assert!(statuses.get(ending).copied().unwrap_or(0) > programs as u32 / 50, "{ending}: {statuses:?}");
    }
}
