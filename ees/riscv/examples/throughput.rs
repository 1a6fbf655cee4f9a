//! Interpreter throughput on a compute-heavy RV32IM loop (mul, divu, loads, stores, branch).
//!
//! `cargo run --release -p ee-riscv --example throughput [iterations]`

use std::time::Instant;

use ee_riscv::elf::{Program, Segment};
use ee_riscv::{Config, Exit, Machine, TrapCause, DEFAULT_MEM_BASE};

/// `a0 = iterations` is patched into the first two words (lui + addi).
const LOOP: [u32; 21] = [
    0x0131_3537,
    0xd005_0513, // li a0, 20000000
    0x0010_0593, // li a1, 1
    0x9e37_8637,
    0x9b96_0613, // li a2, 0x9e3779b9
    0x8000_12b7, // li t0, 0x80001000
    // loop:
    0x02c5_86b3, // mul a3, a1, a2
    0x00d5_85b3, // add a1, a1, a3
    0x00a5_c733, // xor a4, a1, a0
    0x0077_5793, // srli a5, a4, 7
    0x40f5_85b3, // sub a1, a1, a5
    0x0fc5_f813, // andi a6, a1, 0xfc
    0x0058_0833, // add a6, a6, t0
    0x00b8_2023, // sw a1, 0(a6)
    0x0048_2883, // lw a7, 4(a6)
    0x0115_85b3, // add a1, a1, a7
    0x02c5_d333, // divu t1, a1, a2
    0x0065_85b3, // add a1, a1, t1
    0xfff5_0513, // addi a0, a0, -1
    0xfc05_16e3, // bnez a0, loop
    0x0010_0073, // ebreak
];

fn main() {
    let iterations: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000_000);
    let mut code = LOOP;
    let lo = ((iterations & 0xfff) as i32) << 20 >> 20;
    code[0] = (iterations.wrapping_sub(lo as u32) & 0xffff_f000) | 0x537;
    code[1] = ((lo as u32) << 20) | 0x0005_0513;
    let program = Program {
        entry: DEFAULT_MEM_BASE,
        segments: vec![Segment {
            vaddr: DEFAULT_MEM_BASE,
            memsz: 0x2000,
            data: code.iter().flat_map(|w| w.to_le_bytes()).collect(),
            executable: true,
        }],
        tohost_symbol: None,
    };
    let mut m = Machine::load(&program, Config::default()).expect("program loads");
    m.set_tohost(None);
    let start = Instant::now();
    let exit = m.run(u64::MAX);
    let secs = start.elapsed().as_secs_f64();
    assert!(matches!(exit, Exit::Trap(t) if t.cause == TrapCause::Breakpoint), "{exit:?}");
    let n = m.instret();
    println!("{n} instructions in {secs:.3} s: {:.0} MIPS (a1 = {:#x})", n as f64 / secs / 1e6, m.reg(11));
}
