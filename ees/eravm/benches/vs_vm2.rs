//! Throughput side by side with `zksync_vm2` 0.5.0 (through `eravm-oracle`) on the same
//! programs: zksolc's Fib (`fib(20)`, from `../shared/eravm`, skipped with a note when the
//! data is absent) and a synthetic arithmetic loop assembled here.
//!
//! Before anything is timed, each workload runs once on both machines and the bench panics
//! unless they agree on status, return data, ergs left and instruction count, and unless the
//! result is the known one (vm2's recorded Fib facts; the loop's result computed in plain
//! Rust, its ergs and instruction count from the static prices). A workload our machine stops
//! on as `Unsupported` is skipped, naming the operation.
//!
//! What one timed run includes, on each side:
//! - ours: `run_stack` on a pre-decoded `Arc<Program>`: a fresh `Machine` (its 2^16-slot
//!   stack allocated), a `TxState`, the entry frame's world snapshot, the run, the outcome.
//! - vm2: `eravm_oracle::run`: its world adapter, vm2's `Program::new` on the entry code (vm2
//!   decodes per run here; both programs are tiny next to the instructions they run), a
//!   `VirtualMachine::new`, the run with the oracle's counting tracer, the outcome.
//!
//! The summary line per workload (printed to stderr before criterion's own figures) gives the
//! median and the fastest of 41 runs of each machine, taken alternately; `ours/vm2` is the
//! ratio of times per run (below 1 means ours is faster).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ee_api::{Address, U256};
use ee_eravm::asm::assemble;
use ee_eravm::machine::{run_stack, Entry, MemoryWorld, Status, TxState};
use ee_eravm::{Cond, Dst, Instruction, Modifiers, Op, Program, Src};
use eravm_oracle::abi::{self, Token};
use eravm_oracle::{Status as OStatus, Tx, World};

const CALLER: Address = Address([0x22; 20]);
const CONTRACT: Address = Address([0x11; 20]);
const ERGS: u32 = 80_000_000;
const STEP_LIMIT: u64 = 10_000_000;

/// What both machines must agree on.
#[derive(Debug, PartialEq, Eq)]
struct End {
    status: &'static str,
    return_data: Vec<u8>,
    ergs_left: u32,
    instructions: u64,
}

/// One program, the calldata to run it with, and what its run must produce.
struct Workload {
    name: &'static str,
    code: Vec<u8>,
    calldata: Vec<u8>,
    expected: End,
}

fn ours_status(s: Status) -> &'static str {
    match s {
        Status::Success => "success",
        Status::Revert => "revert",
        Status::Panic => "panic",
        Status::StepLimit => "step limit",
        Status::FarCall => "far call",
        Status::Unsupported(_) => "unsupported",
    }
}

fn vm2_status(s: OStatus) -> &'static str {
    match s {
        OStatus::Success => "success",
        OStatus::Revert => "revert",
        OStatus::Panic => "panic",
        OStatus::StepLimit => "step limit",
        OStatus::Unsupported => "unsupported",
    }
}

/// Our machine, ready to run a workload again and again.
struct Ours {
    program: Arc<Program>,
    world: MemoryWorld,
    calldata: Vec<u8>,
}

impl Ours {
    fn new(w: &Workload) -> Ours {
        let mut world = MemoryWorld::default();
        world.install(CONTRACT, &w.code);
        let program = Arc::new(Program::new(&w.code).expect("valid code"));
        Ours { program, world, calldata: w.calldata.clone() }
    }

    fn run(&mut self) -> (Status, End) {
        let entry = Entry::user(CONTRACT, CALLER, ERGS, self.calldata.clone());
        let out = run_stack(&mut self.world, &mut TxState::default(), self.program.clone(), entry, STEP_LIMIT, None);
        let end = End {
            status: ours_status(out.status),
            return_data: out.return_data,
            ergs_left: out.ergs_left,
            instructions: out.instructions,
        };
        (out.status, end)
    }
}

/// vm2, ready to run a workload again and again.
struct Vm2 {
    world: World,
    tx: Tx,
}

impl Vm2 {
    fn new(w: &Workload) -> Vm2 {
        let mut world = World::new();
        world.install(CONTRACT, &w.code);
        let mut tx = Tx::call(CALLER, CONTRACT, w.calldata.clone(), ERGS);
        tx.step_limit = Some(STEP_LIMIT);
        Vm2 { world, tx }
    }

    fn run(&self) -> End {
        let out = eravm_oracle::run(&self.world, &self.tx);
        End {
            status: vm2_status(out.status),
            return_data: out.return_data,
            ergs_left: out.ergs_left,
            instructions: out.instructions,
        }
    }
}

/// zksolc's Fib: `fib(20)` returns 10,946 (the contract counts fib(0) = fib(1) = 1) in
/// 1,641,975 ergs and 207,987 instructions on vm2 (`oracles/vm2/tests/user_contracts.rs`).
fn fib_workload() -> Option<Workload> {
    let Some(dir) = eravm_oracle::artifacts::data_dir() else {
        eprintln!("vs_vm2: ../shared/eravm is absent; skipping the Fib workload");
        return None;
    };
    let fib = eravm_oracle::artifacts::load_user_contract(&dir, "Fib").expect("Fib.json loads");
    Some(Workload {
        name: "fib(20)",
        code: fib.bytecode,
        calldata: abi::call("fib(uint256)", &[Token::Uint(U256::from(20))]),
        expected: End {
            status: "success",
            return_data: U256::from(10_946).to_be_bytes::<32>().to_vec(),
            ergs_left: ERGS - 1_641_975,
            instructions: 207_987,
        },
    })
}

/// Iterations of the synthetic loop (an immediate, so at most 65,535).
const LOOP_ITERATIONS: u16 = 20_000;
const LOOP_MULTIPLIER: [u8; 32] = [0x9e; 32];
const LOOP_SEED: [u8; 32] = [0x37; 32];

fn ins(op: Op, src: Src, dst: Dst, m: Modifiers) -> Instruction {
    Instruction::new(op, src, dst, m).unwrap_or_else(|| panic!("no variant {op:?} {src:?} {dst:?} {m:?}"))
}

/// A loop of 256-bit arithmetic and a near call per iteration, 16 instructions each:
///
/// ```text
///  0  add code[MUL], r0, r4      ; m
///  1  add code[SEED], r0, r3     ; x
///  2  add N, r0, r2              ; i = N
///  3  mul r3, r4, r5, r6         ; (lo, hi) = x * m
///  4  add r5, r6, r3             ; x = lo + hi
///  5  xor r3, r2, r3             ; x ^= i
///  6  shr.s 7, r3, r7            ; y = x >> 7
///  7  and r7, r4, r7             ; y &= m
///  8  or 1, r7, r7               ; y |= 1
///  9  div r3, r7, r8, r9         ; (q, r) = x / y
/// 10  add r8, r9, r8             ; t = q + r
/// 11  shl.s 5, r8, r8            ; t <<= 5
/// 12  sub r3, r8, r3             ; x -= t
/// 13  near_call r0, @19, @22
/// 14  sub.s! 1, r2, r2           ; i -= 1
/// 15  jump.ne @3
/// 16  st.1 0, r3                 ; heap[0..32] = x
/// 17  add code[ABI], r0, r10
/// 18  ret r10                    ; return heap[0..32]
/// 19  rol.s 13, r3, r3           ; x = rotl(x, 13)
/// 20  add r3, r9, r3             ; x += r
/// 21  ret                        ; near return
/// 22  pnc                        ; (exception handler, never reached)
/// ```
fn loop_code() -> Vec<u8> {
    let none = Modifiers::NONE;
    let sw = Modifiers::SWAP;
    let text_words = 23u16.div_ceil(4);
    let (k_mul, k_seed, k_abi) = (text_words, text_words + 1, text_words + 2);
    let prog = [
        ins(Op::Add, Src::Code, Dst::Reg, none).regs(0, 0, 4, 0).imms(k_mul, 0),
        ins(Op::Add, Src::Code, Dst::Reg, none).regs(0, 0, 3, 0).imms(k_seed, 0),
        ins(Op::Add, Src::Imm, Dst::Reg, none).regs(0, 0, 2, 0).imms(LOOP_ITERATIONS, 0),
        ins(Op::Mul, Src::Reg, Dst::Reg, none).regs(3, 4, 5, 6),
        ins(Op::Add, Src::Reg, Dst::Reg, none).regs(5, 6, 3, 0),
        ins(Op::Xor, Src::Reg, Dst::Reg, none).regs(3, 2, 3, 0),
        ins(Op::Shr, Src::Imm, Dst::Reg, sw).regs(0, 3, 7, 0).imms(7, 0),
        ins(Op::And, Src::Reg, Dst::Reg, none).regs(7, 4, 7, 0),
        ins(Op::Or, Src::Imm, Dst::Reg, none).regs(0, 7, 7, 0).imms(1, 0),
        ins(Op::Div, Src::Reg, Dst::Reg, none).regs(3, 7, 8, 9),
        ins(Op::Add, Src::Reg, Dst::Reg, none).regs(8, 9, 8, 0),
        ins(Op::Shl, Src::Imm, Dst::Reg, sw).regs(0, 8, 8, 0).imms(5, 0),
        ins(Op::Sub, Src::Reg, Dst::Reg, none).regs(3, 8, 3, 0),
        ins(Op::NearCall, Src::Reg, Dst::Reg, none).regs(0, 0, 0, 0).imms(19, 22),
        ins(Op::Sub, Src::Imm, Dst::Reg, Modifiers::SET_FLAGS.union(sw)).regs(0, 2, 2, 0).imms(1, 0),
        ins(Op::Jump, Src::Imm, Dst::Reg, none).regs(0, 0, 0, 0).imms(3, 0).when(Cond::Ne),
        ins(Op::HeapWrite, Src::Imm, Dst::Reg, none).regs(0, 3, 0, 0).imms(0, 0),
        ins(Op::Add, Src::Code, Dst::Reg, none).regs(0, 0, 10, 0).imms(k_abi, 0),
        ins(Op::Ret, Src::Reg, Dst::Reg, none).regs(10, 0, 0, 0),
        ins(Op::Rol, Src::Imm, Dst::Reg, sw).regs(0, 3, 3, 0).imms(13, 0),
        ins(Op::Add, Src::Reg, Dst::Reg, none).regs(3, 9, 3, 0),
        ins(Op::Ret, Src::Reg, Dst::Reg, none),
        ins(Op::Panic, Src::Reg, Dst::Reg, none),
    ];
    // The return ABI word: a new slice [0, 32) of the heap.
    let abi = U256::from_limbs([0, 32 << 32, 0, 0]).to_be_bytes::<32>();
    assemble(&prog, &[LOOP_MULTIPLIER, LOOP_SEED, abi])
}

/// The low 256 bits plus the high 256 bits of a 512-bit product, computed on 128-bit halves
/// (a different route from the machine's limb loop).
fn mul_fold(a: U256, b: U256) -> U256 {
    let lo_mask = U256::from(u128::MAX);
    let (a0, a1) = (a & lo_mask, a >> 128);
    let (b0, b1) = (b & lo_mask, b >> 128);
    // a·b = a1b1·2^256 + (a1b0 + a0b1)·2^128 + a0b0, each partial product < 2^256.
    let (p00, p01, p10, p11): (U256, U256, U256, U256) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let (mid, mid_carry) = p01.overflowing_add(p10);
    let (lo, c1) = p00.overflowing_add(mid << 128);
    let hi = p11 + (mid >> 128) + (U256::from(mid_carry as u8) << 128) + U256::from(c1 as u8);
    lo.wrapping_add(hi)
}

/// The loop's result in plain Rust.
fn loop_result() -> U256 {
    let m = U256::from_be_bytes(LOOP_MULTIPLIER);
    let mut x = U256::from_be_bytes(LOOP_SEED);
    for i in (1..=LOOP_ITERATIONS).rev() {
        x = mul_fold(x, m) ^ U256::from(i);
        let y = ((x >> 7) & m) | U256::from(1);
        let (q, r) = x.div_rem(y);
        x = x.wrapping_sub(q.wrapping_add(r) << 5);
        x = x.rotate_left(13).wrapping_add(r);
    }
    x
}

fn loop_workload() -> Workload {
    let n = LOOP_ITERATIONS as u64;
    // Setup 3 + 16 per iteration + store, load, ret.
    let instructions = 3 + 16 * n + 3;
    // Static prices: 6 for each arithmetic op and jump, 25 a near call, 5 a return, 13 a
    // heap write; the store is inside the 4 KiB stipend, so no growth.
    let per_iteration = 12 * 6 + 25 + 2 * 6 + 5;
    let ergs = 3 * 6 + per_iteration * n + 13 + 6 + 5;
    Workload {
        name: "arith loop",
        code: loop_code(),
        calldata: Vec::new(),
        expected: End {
            status: "success",
            return_data: loop_result().to_be_bytes::<32>().to_vec(),
            ergs_left: ERGS - ergs as u32,
            instructions,
        },
    }
}

/// Median and fastest time per run of `f` and of `g`, run alternately `rounds` times each.
fn timings(mut f: impl FnMut(), mut g: impl FnMut(), rounds: usize) -> [(Duration, Duration); 2] {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        a.push(t.elapsed());
        let t = Instant::now();
        g();
        b.push(t.elapsed());
    }
    a.sort();
    b.sort();
    [(a[rounds / 2], a[0]), (b[rounds / 2], b[0])]
}

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let mut ours = Ours::new(w);
    let vm2 = Vm2::new(w);

    let (status, our_end) = ours.run();
    if let Status::Unsupported(op) = status {
        eprintln!(
            "vs_vm2: {}: our machine stops on {op:?} as unsupported after {} instructions; skipping",
            w.name, our_end.instructions
        );
        return;
    }
    let vm2_end = vm2.run();
    assert_eq!(our_end, vm2_end, "{}: ours and vm2 disagree", w.name);
    assert_eq!(our_end, w.expected, "{}: not the expected result", w.name);

    // Warm up, then the summary.
    for _ in 0..3 {
        black_box(ours.run());
        black_box(vm2.run());
    }
    let [(t_ours, min_ours), (t_vm2, min_vm2)] =
        timings(|| drop(black_box(ours.run())), || drop(black_box(vm2.run())), 41);
    let n = our_end.instructions as f64;
    let mips = |t: Duration| n / t.as_secs_f64() / 1e6;
    let ms = |t: Duration| t.as_secs_f64() * 1e3;
    eprintln!(
        "vs_vm2: {:<10} {:>7} instructions {:>8} ergs | ours {:>7.3} ms (min {:.3}) {:>6.1} Minstr/s | vm2 {:>7.3} ms \
         (min {:.3}) {:>6.1} Minstr/s | ours/vm2 time {:.3} (min {:.3})",
        w.name,
        our_end.instructions,
        ERGS - our_end.ergs_left,
        ms(t_ours),
        ms(min_ours),
        mips(t_ours),
        ms(t_vm2),
        ms(min_vm2),
        mips(t_vm2),
        t_ours.as_secs_f64() / t_vm2.as_secs_f64(),
        min_ours.as_secs_f64() / min_vm2.as_secs_f64(),
    );

    let mut group = c.benchmark_group(w.name);
    group.throughput(criterion::Throughput::Elements(our_end.instructions));
    group.bench_function("ours", |b| b.iter(|| black_box(ours.run())));
    group.bench_function("vm2", |b| b.iter(|| black_box(vm2.run())));
    group.finish();
}

fn bench(c: &mut Criterion) {
    if let Some(w) = fib_workload() {
        bench_workload(c, &w);
    }
    bench_workload(c, &loop_workload());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
