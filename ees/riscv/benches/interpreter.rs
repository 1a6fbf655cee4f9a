//! Interpreter throughput (instructions per second) on compute-heavy RV32IM programs.
//!
//! The programs are assembled here, into machine-code words, by a tiny assembler that
//! encodes the handful of instructions they use; they are loaded as an in-memory
//! [`Program`] (no toolchain needed at run time). Each ends by writing 1 to `tohost`, and
//! its result is checked against a Rust model before anything is timed.
//!
//! `cargo bench -p ee-riscv` (criterion reports elem/s = instructions/s; a one-line MIPS
//! figure per program is printed first).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use ee_riscv::elf::{Program, Segment};
use ee_riscv::{Config, Exit, Machine, DEFAULT_MEM_BASE, DEFAULT_TOHOST};

/// Where the (non-executable) data segment starts: clear of the code and of `tohost`.
const DATA: u32 = DEFAULT_MEM_BASE + 0x2000;
/// A bound far above what the programs need, so a broken program fails instead of hanging.
const MAX_STEPS: u64 = 1_000_000_000;

// ---------------------------------------------------------------------------------------
// A tiny RV32IM assembler: R/I/S/B/U/J encoders and labels with fix-ups for branches.
// ---------------------------------------------------------------------------------------

type Reg = u32;
const ZERO: Reg = 0;
const T0: Reg = 5;
const T1: Reg = 6;
const T2: Reg = 7;
const S0: Reg = 8;
const S1: Reg = 9;
const A0: Reg = 10;
const A1: Reg = 11;
const A2: Reg = 12;
const A3: Reg = 13;
const A4: Reg = 14;
const S2: Reg = 18;
const S3: Reg = 19;
const S4: Reg = 20;
const S5: Reg = 21;
const T3: Reg = 28;
const T4: Reg = 29;
const T5: Reg = 30;
const T6: Reg = 31;

const OP: u32 = 0x33;
const OP_IMM: u32 = 0x13;
const LOAD: u32 = 0x03;
const STORE: u32 = 0x23;
const BRANCH: u32 = 0x63;
const LUI: u32 = 0x37;
const JAL: u32 = 0x6f;

fn r_type(funct7: u32, rs2: Reg, rs1: Reg, funct3: u32, rd: Reg, opcode: u32) -> u32 {
    funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode
}

fn i_type(imm: i32, rs1: Reg, funct3: u32, rd: Reg, opcode: u32) -> u32 {
    assert!((-2048..2048).contains(&imm), "I-immediate {imm} out of range");
    (imm as u32 & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode
}

fn s_type(imm: i32, rs2: Reg, rs1: Reg, funct3: u32, opcode: u32) -> u32 {
    assert!((-2048..2048).contains(&imm), "S-immediate {imm} out of range");
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | (imm & 0x1f) << 7 | opcode
}

fn b_type(offset: i32, rs2: Reg, rs1: Reg, funct3: u32) -> u32 {
    assert!(offset % 2 == 0 && (-4096..4096).contains(&offset), "branch offset {offset} out of range");
    let o = offset as u32;
    (o >> 12 & 1) << 31
        | (o >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | funct3 << 12
        | (o >> 1 & 0xf) << 8
        | (o >> 11 & 1) << 7
        | BRANCH
}

fn u_type(imm20: u32, rd: Reg, opcode: u32) -> u32 {
    (imm20 & 0xf_ffff) << 12 | rd << 7 | opcode
}

fn j_type(offset: i32, rd: Reg) -> u32 {
    assert!(offset % 2 == 0 && (-(1 << 20)..1 << 20).contains(&offset), "jump offset {offset} out of range");
    let o = offset as u32;
    (o >> 20 & 1) << 31 | (o >> 1 & 0x3ff) << 21 | (o >> 11 & 1) << 20 | (o >> 12 & 0xff) << 12 | rd << 7 | JAL
}

#[derive(Clone, Copy)]
struct Label(usize);

#[derive(Clone, Copy)]
enum Fixup {
    Branch { funct3: u32, rs1: Reg, rs2: Reg },
    Jal { rd: Reg },
}

#[derive(Default)]
struct Asm {
    code: Vec<u32>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, Label, Fixup)>,
}

impl Asm {
    fn emit(&mut self, word: u32) {
        self.code.push(word);
    }

    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    fn bind(&mut self, l: Label) {
        assert!(self.labels[l.0].is_none(), "label bound twice");
        self.labels[l.0] = Some(self.code.len());
    }

    /// A label bound at the current position.
    fn here(&mut self) -> Label {
        let l = self.label();
        self.bind(l);
        l
    }

    fn add(&mut self, rd: Reg, rs1: Reg, rs2: Reg) {
        self.emit(r_type(0, rs2, rs1, 0, rd, OP));
    }
    fn xor(&mut self, rd: Reg, rs1: Reg, rs2: Reg) {
        self.emit(r_type(0, rs2, rs1, 4, rd, OP));
    }
    fn mul(&mut self, rd: Reg, rs1: Reg, rs2: Reg) {
        self.emit(r_type(1, rs2, rs1, 0, rd, OP));
    }
    fn divu(&mut self, rd: Reg, rs1: Reg, rs2: Reg) {
        self.emit(r_type(1, rs2, rs1, 5, rd, OP));
    }
    fn addi(&mut self, rd: Reg, rs1: Reg, imm: i32) {
        self.emit(i_type(imm, rs1, 0, rd, OP_IMM));
    }
    fn andi(&mut self, rd: Reg, rs1: Reg, imm: i32) {
        self.emit(i_type(imm, rs1, 7, rd, OP_IMM));
    }
    fn slli(&mut self, rd: Reg, rs1: Reg, shamt: u32) {
        self.emit(i_type((shamt & 31) as i32, rs1, 1, rd, OP_IMM));
    }
    fn srli(&mut self, rd: Reg, rs1: Reg, shamt: u32) {
        self.emit(i_type((shamt & 31) as i32, rs1, 5, rd, OP_IMM));
    }
    fn lw(&mut self, rd: Reg, offset: i32, rs1: Reg) {
        self.emit(i_type(offset, rs1, 2, rd, LOAD));
    }
    fn sw(&mut self, rs2: Reg, offset: i32, rs1: Reg) {
        self.emit(s_type(offset, rs2, rs1, 2, STORE));
    }
    fn lui(&mut self, rd: Reg, imm20: u32) {
        self.emit(u_type(imm20, rd, LUI));
    }

    /// `li rd, value` as `lui` + `addi` (the `addi` immediate is sign-extended, so the
    /// upper part is rounded).
    fn li(&mut self, rd: Reg, value: u32) {
        let lo = ((value << 20) as i32) >> 20;
        let hi = value.wrapping_sub(lo as u32) >> 12;
        if hi == 0 {
            self.addi(rd, ZERO, lo);
        } else {
            self.lui(rd, hi);
            if lo != 0 {
                self.addi(rd, rd, lo);
            }
        }
    }

    fn branch(&mut self, funct3: u32, rs1: Reg, rs2: Reg, target: Label) {
        self.fixups.push((self.code.len(), target, Fixup::Branch { funct3, rs1, rs2 }));
        self.emit(0);
    }
    fn beq(&mut self, rs1: Reg, rs2: Reg, target: Label) {
        self.branch(0, rs1, rs2, target);
    }
    fn bne(&mut self, rs1: Reg, rs2: Reg, target: Label) {
        self.branch(1, rs1, rs2, target);
    }
    fn bltu(&mut self, rs1: Reg, rs2: Reg, target: Label) {
        self.branch(6, rs1, rs2, target);
    }
    fn bgeu(&mut self, rs1: Reg, rs2: Reg, target: Label) {
        self.branch(7, rs1, rs2, target);
    }
    /// `j target` (`jal x0, target`).
    fn j(&mut self, target: Label) {
        self.fixups.push((self.code.len(), target, Fixup::Jal { rd: ZERO }));
        self.emit(0);
    }

    /// `*tohost = value`, then spin (the store halts the machine).
    fn exit(&mut self, value: u32) {
        self.li(T5, value);
        self.lui(T6, DEFAULT_TOHOST >> 12);
        self.sw(T5, (DEFAULT_TOHOST & 0xfff) as i32, T6);
        let spin = self.here();
        self.j(spin);
    }

    /// Resolves the fix-ups; the code words in order.
    fn finish(mut self) -> Vec<u32> {
        for &(at, label, fixup) in &self.fixups {
            let target = self.labels[label.0].expect("unbound label");
            let offset = (target as i32 - at as i32) * 4;
            self.code[at] = match fixup {
                Fixup::Branch { funct3, rs1, rs2 } => b_type(offset, rs2, rs1, funct3),
                Fixup::Jal { rd } => j_type(offset, rd),
            };
        }
        self.code
    }
}

/// Code at the memory base, a zero-filled data segment of `data_len` bytes at [`DATA`],
/// `tohost` at its default address.
fn program(code: Vec<u32>, data_len: u32) -> Program {
    let code: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert!(DEFAULT_MEM_BASE + code.len() as u32 <= DEFAULT_TOHOST, "code overlaps tohost");
    Program {
        entry: DEFAULT_MEM_BASE,
        segments: vec![
            Segment { vaddr: DEFAULT_MEM_BASE, memsz: code.len() as u32, data: code, executable: true },
            Segment { vaddr: DATA, memsz: data_len, data: Vec::new(), executable: false },
        ],
        tohost_symbol: Some(DEFAULT_TOHOST),
    }
}

// ---------------------------------------------------------------------------------------
// Program 1: a hash-like loop (mul/xor/shifts/add, divu, lw/sw to a 256-byte buffer).
// ---------------------------------------------------------------------------------------

const HASH_ITERATIONS: u32 = 2_000_000;
const HASH_SEED: u32 = 0x1234_5678;
const HASH_K: u32 = 0x9e37_79b9;
const HASH_DIV: u32 = 0x1_0003;
const HASH_BUF: u32 = 256;

fn hash_program() -> Program {
    let mut a = Asm::default();
    a.li(A0, HASH_ITERATIONS);
    a.li(A1, HASH_SEED);
    a.li(A2, HASH_K);
    a.li(A3, DATA);
    a.li(A4, HASH_DIV);
    let top = a.here();
    a.mul(T0, A1, A2); // t0 = h * K
    a.xor(A1, A1, T0); // h ^= t0
    a.srli(T1, A1, 15);
    a.xor(A1, A1, T1); // h ^= h >> 15
    a.slli(T2, A1, 5);
    a.add(A1, A1, T2); // h += h << 5
    a.andi(T3, A1, (HASH_BUF - 4) as i32); // word offset into the buffer
    a.add(T3, T3, A3);
    a.lw(T4, 0, T3);
    a.add(T4, T4, A1); // buf[i] += h
    a.xor(A1, A1, T4); // h ^= buf[i]
    a.sw(T4, 0, T3);
    a.divu(T5, A1, A4);
    a.add(A1, A1, T5); // h += h / DIV
    a.addi(A0, A0, -1);
    a.bne(A0, ZERO, top);
    a.exit(1);
    program(a.finish(), HASH_BUF)
}

/// What `a1` holds when the hash program halts.
fn hash_model() -> u32 {
    let mut buf = [0u32; (HASH_BUF / 4) as usize];
    let mut h = HASH_SEED;
    for _ in 0..HASH_ITERATIONS {
        h ^= h.wrapping_mul(HASH_K);
        h ^= h >> 15;
        h = h.wrapping_add(h << 5);
        let i = ((h & (HASH_BUF - 4)) / 4) as usize;
        buf[i] = buf[i].wrapping_add(h);
        h ^= buf[i];
        h = h.wrapping_add(h / HASH_DIV);
    }
    h
}

// ---------------------------------------------------------------------------------------
// Program 2: insertion sort of SORT_LEN pseudo-random words, SORT_ROUNDS times (refilled
// from an LCG each round), each round checked in-program (tohost = 3 if unsorted).
// ---------------------------------------------------------------------------------------

const SORT_LEN: u32 = 400;
const SORT_ROUNDS: u32 = 100;
const LCG_SEED: u32 = 0xdead_beef;
const LCG_MUL: u32 = 1_664_525;
const LCG_ADD: u32 = 1_013_904_223;

fn sort_program() -> Program {
    let mut a = Asm::default();
    a.li(S0, DATA); // s0 = &a[0]
    a.li(S1, DATA + 4 * SORT_LEN); // s1 = &a[n]
    a.li(S2, SORT_ROUNDS);
    a.li(S3, LCG_SEED);
    a.li(S4, LCG_MUL);
    a.li(S5, LCG_ADD);
    let (round, fill, outer, inner, place, check, fail) =
        (a.label(), a.label(), a.label(), a.label(), a.label(), a.label(), a.label());

    a.bind(round);
    a.addi(T0, S0, 0);
    a.bind(fill); // for p in a: x = x * MUL + ADD; *p = x
    a.mul(S3, S3, S4);
    a.add(S3, S3, S5);
    a.sw(S3, 0, T0);
    a.addi(T0, T0, 4);
    a.bne(T0, S1, fill);

    a.addi(T0, S0, 4); // t0 = &a[1]
    a.bind(outer);
    a.lw(T2, 0, T0); // key = a[i]
    a.addi(T3, T0, 0); // hole = &a[i]
    a.bind(inner);
    a.beq(T3, S0, place); // hole at a[0]
    a.lw(T4, -4, T3);
    a.bgeu(T2, T4, place); // key >= hole[-1]: stop
    a.sw(T4, 0, T3); // shift hole[-1] up
    a.addi(T3, T3, -4);
    a.j(inner);
    a.bind(place);
    a.sw(T2, 0, T3);
    a.addi(T0, T0, 4);
    a.bne(T0, S1, outer);

    a.addi(T0, S0, 4);
    a.bind(check); // a[i - 1] <= a[i] for all i
    a.lw(T1, -4, T0);
    a.lw(T2, 0, T0);
    a.bltu(T2, T1, fail);
    a.addi(T0, T0, 4);
    a.bne(T0, S1, check);

    a.addi(S2, S2, -1);
    a.bne(S2, ZERO, round);
    a.exit(1);
    a.bind(fail);
    a.exit(3);
    program(a.finish(), 4 * SORT_LEN)
}

/// The array the sort program leaves behind: the last round's LCG words, sorted.
fn sort_model() -> Vec<u32> {
    let mut x = LCG_SEED;
    let mut last = Vec::new();
    for _ in 0..SORT_ROUNDS {
        last = (0..SORT_LEN)
            .map(|_| {
                x = x.wrapping_mul(LCG_MUL).wrapping_add(LCG_ADD);
                x
            })
            .collect();
    }
    last.sort_unstable();
    last
}

fn words(m: &Machine, addr: u32, n: u32) -> Vec<u32> {
    let bytes = m.memory().slice(addr, 4 * n).expect("buffer in memory");
    bytes.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
}

// ---------------------------------------------------------------------------------------

/// Runs the program once to completion, checks it with `check`, and returns the machine.
fn run_checked(program: &Program, check: &dyn Fn(&Machine)) -> Machine {
    let mut m = Machine::load(program, Config::default()).expect("program loads");
    assert_eq!(m.run(MAX_STEPS), Exit::Halted(1), "last trap: {:?}", m.last_trap());
    check(&m);
    m
}

fn bench_program(c: &mut Criterion, name: &str, program: Program, check: &dyn Fn(&Machine)) {
    let fresh = Machine::load(&program, Config::default()).expect("program loads");
    let instructions = run_checked(&program, check).instret();

    // One-line figure: the best of three timed runs.
    let best = (0..3)
        .map(|_| {
            let mut m = fresh.clone();
            let start = Instant::now();
            assert_eq!(m.run(MAX_STEPS), Exit::Halted(1));
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::MAX);
    eprintln!(
        "{name}: {instructions} instructions in {:.1} ms = {:.0} MIPS (best of 3)",
        best.as_secs_f64() * 1e3,
        instructions as f64 / best.as_secs_f64() / 1e6
    );

    let mut group = c.benchmark_group("riscv");
    group.throughput(Throughput::Elements(instructions));
    // Each run takes ~0.1 s: a fixed number of runs per sample suits that better.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function(name, |b| {
        b.iter_batched(
            || fresh.clone(),
            |mut m| {
                assert_eq!(black_box(m.run(MAX_STEPS)), Exit::Halted(1));
                m
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_program(c, "hash_loop", hash_program(), &|m| {
        assert_eq!(m.reg(A1 as usize), hash_model(), "hash result");
    });
    bench_program(c, "insertion_sort", sort_program(), &|m| {
        assert_eq!(words(m, DATA, SORT_LEN), sort_model(), "sorted array");
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
