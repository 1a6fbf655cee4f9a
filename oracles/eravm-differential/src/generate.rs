//! Seeded program generators: single contracts (every addressing mode, flags and
//! conditions, near calls with handlers, heaps and fat pointers, storage, transient storage,
//! events, L2→L1 logs) and multi-contract worlds whose contracts far-call each other.

use ee_api::{Address, U256};
use ee_eravm::asm::assemble;
use ee_eravm::machine::is_kernel;
use ee_eravm::{Cond, Dst, Instruction, Modifiers, Op, Src};

use crate::builders::*;
use crate::compare::{Case, Contract, STEP_LIMIT};

/// A user (non-kernel) address: pointer metadata is erased and the heap stipend is 4 KiB.
pub const CONTRACT: Address = Address([0x11; 20]);
/// A kernel address (below 2^16): pointer metadata stays visible, the heap stipend is 2 MiB.
pub const KERNEL_CONTRACT: Address = low(0x9000);
/// EventWriter: the one address whose events the oracle records.
pub const EVENT_WRITER: Address = low(0x800d);
/// A kernel address that never has code: a far call to it makes a frame that panics at once.
pub const KERNEL_WITHOUT_CODE: Address = low(0x9abc);

/// The entry frame's `context_u128` of single-contract programs, so `ctx` reads something.
pub const VALUE: u128 = 0x1234_5678_9abc_def0_1122;

/// A user address that never has code: the default account runs there.
pub const USER_WITHOUT_CODE: Address = Address([0x66; 20]);

/// What [`generate_with`] may use besides the single-contract repertoire.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// One instruction in five acts on the world (storage, transient storage, events,
    /// L2→L1 logs, `meta`).
    pub world: bool,
    /// Kernel-only operations too: `ctx.set`, `auxmut`, `dcmt`, `callp`, and `callm` among
    /// the far calls (the contract runs at a kernel address).
    pub kernel_ops: bool,
    /// Addresses far calls may go to; none: no far calls. A program with far calls also
    /// ends in one of three ways: a fresh heap slice, or forwarding r1 (its calldata or the
    /// return data of its last call).
    pub far_targets: Vec<Address>,
}

/// The single-contract generator as the differential test has always run it: see
/// [`generate_with`].
pub fn generate(seed: u64, world: bool) -> (Vec<Instruction>, Vec<[u8; 32]>) {
    generate_with(seed, &Options { world, ..Options::default() })
}

/// A random program: setup of registers from constants, then arithmetic over every source
/// and destination mode, conditions, heap traffic, context reads, jumps and near calls
/// (mostly forward, some backward: loops and nested near calls), ending in a return of a
/// heap slice. Two-output ops may name any dst1; one-output ops name r0 there (vm2
/// divergence 1). Heap reads with increment address through immediates or small integers,
/// never pointers (vm2 divergence 2).
///
/// With `world`, one instruction in five acts on the world instead: `sload`/`sstore`/
/// `tload`/`tstore` with the key in r14, which holds 0–3 (so slots repeat: warm and cold
/// refunds, rewrites), `event` and `to_l1` (kernel only), `meta` (pubdata); with
/// `kernel_ops` also `ctx.set`, `auxmut`, `dcmt` and `callp` (not `inctx`: vm2 0.5.0 cannot
/// roll a frame back across it, known divergence 7).
///
/// With far targets, about one instruction in seven starts a far call block (`callf`,
/// `callf.st`, `calld`, `callm` from kernel code only): the ABI in r12 (a fresh heap or aux
/// heap slice, or a forwarded pointer packed from r1 or r11), the address in r13, ergs from
/// none through a few hundred (decommit unpayable) to all (63/64), the system-call flag one
/// time in three (r3–r12 pass), a handler forward.
pub fn generate_with(seed: u64, opts: &Options) -> (Vec<Instruction>, Vec<[u8; 32]>) {
    let world = opts.world;
    let far = !opts.far_targets.is_empty();
    let mut rng = Rng::new(seed);
    let n = 40usize;
    let mut constants = Vec::new();
    for _ in 0..6 {
        let mut w = [0u8; 32];
        for b in w.iter_mut() {
            *b = if rng.below(3) == 0 { 0 } else { rng.next() as u8 };
        }
        constants.push(w);
    }
    let text_words = n.div_ceil(4);
    let any_reg = |rng: &mut Rng| rng.below(16) as u8;
    let small_reg = |rng: &mut Rng| rng.pick(&[0u8, 0, 0, 2, 3]);
    let mut prog = Vec::with_capacity(n);
    for r in 2..8u8 {
        prog.push(load_const(r, (text_words + (r as usize - 2)) as u16));
    }
    let conds = [
        Cond::Always,
        Cond::Always,
        Cond::Always,
        Cond::Gt,
        Cond::Lt,
        Cond::Eq,
        Cond::Ge,
        Cond::Le,
        Cond::Ne,
        Cond::GtOrLt,
    ];
    // The ending: two instructions (three with far calls: it may forward a pointer).
    let ending = if far { 3 } else { 2 };
    // Jump targets and handlers stay inside the text (the constants after it would decode
    // as arbitrary, possibly unsupported, instructions).
    let last = (n - ending) as u16;
    while prog.len() < n - ending {
        let pc = prog.len() as u16;
        if far && rng.below(7) == 0 {
            let block = far_call_block(&mut rng, opts, pc, last, text_words, &mut constants);
            if prog.len() + block.len() <= n - ending {
                prog.extend(block);
                continue;
            }
        }
        let cond = rng.pick(&conds);
        let choice = rng.below(100);
        let i = if world && rng.below(5) == 0 {
            let any = any_reg(&mut rng);
            let dst = 1 + rng.below(13) as u8;
            let key = rng.pick(&[14u8, 14, 14, 0]);
            if opts.kernel_ops && rng.below(4) == 0 {
                // No `inctx`: vm2 0.5.0 cannot roll back across it (known divergence 7).
                match rng.below(5) {
                    0 => reg(Op::SetContextU128).regs(any, 0, 0, 0),
                    1 => reg(Op::AuxMutating0),
                    2 => reg(Op::Decommit).regs(any, rng.pick(&[0u8, 9, any]), dst, 0),
                    // The ABI from r0: page 0, the frame's heap (vm2 indexes its heaps by the
                    // ABI's pages unchecked, and crashes on others).
                    _ => reg(Op::PrecompileCall).regs(0, rng.pick(&[0u8, 9]), dst, 0),
                }
            } else {
                match rng.below(20) {
                    0..=3 => set(14, rng.below(4) as u16),
                    4..=7 => sload(key, dst),
                    8..=11 => sstore(key, any),
                    12..=13 => tload(key, dst),
                    14..=15 => tstore(key, any),
                    16..=17 => log(Op::Event, key, any, rng.below(2) == 0),
                    18 => log(Op::ToL1Message, key, any, rng.below(2) == 0),
                    _ => reg(Op::Meta).regs(0, 0, dst, 0),
                }
            }
        } else if choice < 60 {
            let op = rng.pick(&[
                Op::Add,
                Op::Sub,
                Op::Mul,
                Op::Div,
                Op::And,
                Op::Or,
                Op::Xor,
                Op::Shl,
                Op::Shr,
                Op::Rol,
                Op::Ror,
            ]);
            let src = rng.pick(&[Src::Reg, Src::Reg, Src::Imm, Src::Code, Src::StackAbs, Src::StackRel, Src::StackPop]);
            let dst = rng.pick(&[Dst::Reg, Dst::Reg, Dst::Reg, Dst::StackPush, Dst::StackRel, Dst::StackAbs]);
            let mut m = Modifiers::NONE;
            if rng.below(2) == 0 {
                m = m.union(Modifiers::SET_FLAGS);
            }
            if matches!(op, Op::Sub | Op::Div | Op::Shl | Op::Shr | Op::Rol | Op::Ror) && rng.below(2) == 0 {
                m = m.union(Modifiers::SWAP);
            }
            let two_outputs = matches!(op, Op::Mul | Op::Div);
            let src0 = if matches!(src, Src::Reg) { any_reg(&mut rng) } else { small_reg(&mut rng) };
            let dst0 = if matches!(dst, Dst::Reg) { 1 + rng.below(15) as u8 } else { small_reg(&mut rng) };
            let dst1 = if two_outputs { rng.below(16) as u8 } else { 0 };
            let imm0 = match src {
                Src::Code => rng.below(text_words as u64 + 8) as u16,
                Src::Imm => rng.next() as u16,
                _ => rng.below(8) as u16,
            };
            ins(op, src, dst, m).regs(src0, any_reg(&mut rng), dst0, dst1).imms(imm0, rng.below(8) as u16)
        } else if choice < 72 {
            let op = rng.pick(&[Op::HeapWrite, Op::HeapRead, Op::AuxHeapWrite, Op::AuxHeapRead]);
            let src = rng.pick(&[Src::Imm, Src::Imm, Src::Reg]);
            let m = if rng.below(3) == 0 { Modifiers::INCREMENT } else { NONE };
            let addr_reg = if src == Src::Reg { rng.pick(&[0u8, 9]) } else { 0 };
            ins(op, src, Dst::Reg, m)
                .regs(addr_reg, any_reg(&mut rng), 1 + rng.below(15) as u8, 1 + rng.below(15) as u8)
                .imms(rng.below(6000) as u16, 0)
        } else if choice < 73 {
            // Pointer ops, mostly on r1 (the calldata pointer) or registers that may hold
            // one by now; ldp through them.
            let op = rng.pick(&[Op::PtrAdd, Op::PtrSub, Op::PtrPack, Op::PtrShrink, Op::FatPointerRead]);
            let p = rng.pick(&[1u8, 1, 11, 12, 13]);
            let any = 1 + rng.below(15) as u8;
            let dst0 = rng.pick(&[11u8, 12, 13, any]);
            if op == Op::FatPointerRead {
                let m = if rng.below(2) == 0 { Modifiers::INCREMENT } else { NONE };
                ins(op, Src::Reg, Dst::Reg, m).regs(p, 0, 1 + rng.below(15) as u8, rng.pick(&[11u8, 12, 13]))
            } else {
                let swap = rng.below(3) == 0;
                let m = if swap { Modifiers::SWAP } else { NONE };
                let small = rng.pick(&[0u8, 9, any]);
                let (src0, src1) = if swap { (small, p) } else { (p, small) };
                ins(op, Src::Reg, Dst::Reg, m).regs(src0, src1, dst0, 0)
            }
        } else if choice < 76 {
            let op =
                rng.pick(&[Op::This, Op::Caller, Op::CodeAddress, Op::ErgsLeft, Op::Sp, Op::GetContextU128, Op::Meta]);
            reg(op).regs(0, 0, 1 + rng.below(15) as u8, 0)
        } else if choice < 80 {
            // A small heap address in r9 for register-addressed heap ops.
            set(9, rng.below(300) as u16)
        } else if choice < 86 {
            let src = rng.pick(&[Src::Reg, Src::StackPop]);
            let dst = rng.pick(&[Dst::Reg, Dst::StackPush]);
            ins(Op::Nop, src, dst, NONE).regs(0, 0, 0, 0).imms(rng.below(4) as u16, rng.below(4) as u16)
        } else if choice < 92 {
            // Mostly forward; one in four anywhere after the setup (loops end at the step
            // limit, on both sides).
            let target = if rng.below(4) == 0 {
                6 + rng.below(last as u64 - 5) as u16
            } else {
                (pc + 1 + rng.below(4) as u16).min(last)
            };
            ins(Op::Jump, Src::Imm, Dst::Reg, NONE).regs(0, 0, rng.below(16) as u8, 0).imms(target, 0)
        } else if choice < 96 {
            // Near call forward with a handler further forward; the callee's end is the
            // program's own return, which pops the near frame.
            let target = if rng.below(4) == 0 {
                6 + rng.below(last as u64 - 5) as u16
            } else {
                (pc + 1 + rng.below(3) as u16).min(last)
            };
            let handler = (target + rng.below(5) as u16).min(last);
            reg(Op::NearCall).regs(rng.pick(&[0u8, 9]), 0, 0, 0).imms(target, handler)
        } else {
            let op = rng.pick(&[Op::Ret, Op::Revert, Op::Panic]);
            ins(op, Src::Reg, Dst::Reg, NONE).regs(10, 0, 0, 0)
        };
        prog.push(i.when(if i.op == Op::NearCall { Cond::Always } else { cond }));
    }
    let k = constants.len() as u16;
    if far && rng.below(3) == 0 {
        // Forward r1 (the calldata, or the last call's return data) back to the caller.
        constants.push(forward_bits());
        prog.push(load_const(10, text_words as u16 + k));
        prog.push(ins(Op::PtrPack, Src::Reg, Dst::Reg, NONE).regs(1, 10, 10, 0));
    } else {
        let source = rng.pick(&[0u8, 2]);
        constants.push(abi(rng.below(200) as u32, rng.below(100) as u32, source));
        prog.push(load_const(10, text_words as u16 + k));
        if far {
            prog.push(nop());
        }
    }
    prog.push(ret_with(rng.pick(&[Op::Ret, Op::Ret, Op::Revert]), 10));
    (prog, constants)
}

/// A far call: the ABI word in r12, the address in r13, the call with its handler.
fn far_call_block(
    rng: &mut Rng,
    opts: &Options,
    pc: u16,
    last: u16,
    text_words: usize,
    constants: &mut Vec<[u8; 32]>,
) -> Vec<Instruction> {
    let mut kinds =
        vec![(Op::FarCall, NONE), (Op::FarCall, NONE), (Op::FarCall, Modifiers::STATIC), (Op::FarCallDelegate, NONE)];
    if opts.kernel_ops {
        kinds.push((Op::FarCallMimic, NONE));
    }
    let (op, m) = rng.pick(&kinds);
    let dest = rng.pick(&opts.far_targets);
    let ergs = match rng.below(6) {
        0 => 0,
        1 => rng.below(400) as u32,
        2 => rng.below(5_000) as u32,
        3 => 20_000,
        _ => u32::MAX,
    };
    let system = rng.below(3) == 0;
    let mut constant = |w: [u8; 32]| {
        constants.push(w);
        (text_words + constants.len() - 1) as u16
    };
    let mut block = Vec::new();
    if rng.below(3) == 0 {
        // Forward a pointer: the calldata or the last return data (r1), or whatever r11 holds.
        let p = rng.pick(&[1u8, 1, 11]);
        let k = constant(forward_call_bits(ergs, system));
        block.push(load_const(12, k));
        block.push(ins(Op::PtrPack, Src::Reg, Dst::Reg, NONE).regs(p, 12, 12, 0));
    } else {
        let source = rng.pick(&[0u8, 0, 2]);
        let k = constant(call_abi(rng.below(300) as u32, rng.below(200) as u32, source, ergs, system));
        block.push(load_const(12, k));
    }
    let k = constant(address_word(dest));
    block.push(load_const(13, k));
    let at = pc + block.len() as u16;
    let handler = (at + 1 + rng.below(6) as u16).min(last);
    block.push(far(op, m).regs(12, 13, 0, 0).imms(handler, 0));
    block
}

/// Addresses a world's contracts may have.
const USERS: [Address; 4] = [CONTRACT, Address([0x33; 20]), Address([0x44; 20]), Address([0x55; 20])];
const KERNELS: [Address; 4] = [low(0x9001), low(0x9002), EVENT_WRITER, low(0x9003)];

/// A multi-contract world: 2–4 contracts at user and kernel addresses, each a generated
/// program that far-calls the contracts after it (so calls nest at most four deep) or a
/// kernel address without code; the entry's ergs from a few hundred to a million, so
/// out-of-ergs falls on every kind of instruction.
pub fn generate_world(seed: u64) -> Case {
    let mut rng = Rng::new(seed ^ 0x005e_ed0f_3000_1d00);
    let n = 2 + rng.below(3) as usize;
    let mut addresses: Vec<Address> = Vec::new();
    while addresses.len() < n {
        let a = if rng.below(3) == 0 { rng.pick(&KERNELS) } else { rng.pick(&USERS) };
        if !addresses.contains(&a) {
            addresses.push(a);
        }
    }
    let mut contracts = Vec::new();
    for (i, &address) in addresses.iter().enumerate() {
        let mut far_targets: Vec<Address> = addresses[i + 1..].to_vec();
        if far_targets.is_empty() || rng.below(4) == 0 {
            far_targets.push(KERNEL_WITHOUT_CODE);
        }
        if rng.below(5) == 0 {
            far_targets.push(USER_WITHOUT_CODE);
        }
        // The last contract calls only the empty kernel address, and seldom.
        if i + 1 == n && rng.below(2) == 0 {
            far_targets.clear();
        }
        let opts = Options { world: rng.below(4) != 0, kernel_ops: is_kernel(&address), far_targets };
        let (prog, constants) = generate_with(rng.next(), &opts);
        contracts.push(Contract { address, code: assemble(&prog, &constants), text: prog.len() });
    }
    let mut storage = Vec::new();
    if rng.below(2) == 0 {
        storage.push((addresses[0], U256::from(2), U256::from(0x77)));
    }
    let ergs = match rng.below(5) {
        0 => 100 + rng.below(2_000) as u32,
        1 => rng.below(30_000) as u32,
        2 => 100_000,
        _ => 1_000_000,
    };
    let calldata = vec![9u8; rng.below(80) as usize];
    let value = if rng.below(3) == 0 { rng.next() as u128 } else { 0 };
    Case { contracts, storage, ergs, calldata, value, step_limit: STEP_LIMIT }
}

/// The single-contract programs exactly as `generated_programs_match_vm2` runs them.
pub fn generate_single(seed: u64) -> Case {
    // Every other program acts on the world, a slot of which is set before the run.
    let world = seed % 2 == 1;
    let (prog, constants) = generate(seed, world);
    let ergs = if seed.is_multiple_of(5) { 150 + (seed % 100_000) as u32 * 3 } else { 100_000 };
    // One in four in a kernel frame, half of those of the world programs at EventWriter.
    let address = match seed % 8 {
        7 => EVENT_WRITER,
        3 => KERNEL_CONTRACT,
        _ if seed % 4 == 3 => KERNEL_CONTRACT,
        _ => CONTRACT,
    };
    let mut case = Case::single(address, assemble(&prog, &constants), &[9; 40], ergs);
    case.contracts[0].text = prog.len();
    case.value = VALUE;
    if world {
        case.storage.push((address, U256::from(2), U256::from(0x77)));
    }
    case
}

/// splitmix64: derives independent seeds.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e9b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Program `index` of a campaign seeded `seed`: its own seed.
pub fn program_seed(seed: u64, index: u64) -> u64 {
    mix(seed ^ mix(index))
}

/// The program of a program seed: three in ten a single contract (the generator of
/// [`generate_single`]), the others a multi-contract world ([`generate_world`]).
pub fn program(program_seed: u64) -> Case {
    if program_seed % 10 < 3 {
        generate_single(program_seed / 10)
    } else {
        generate_world(program_seed)
    }
}
