//! ELF load → run on the RISC-V EE (`Machine::from_elf` + `run(max_steps)`). Byte 0: bit 0
//! chooses whether the rest is an ELF file as is, or code the harness wraps in a minimal ELF
//! at the memory base (`ee_riscv::asm::elf_image`, so the fuzzer reaches the instructions);
//! bit 1 allows misaligned data accesses; bit 2 makes `ecall` yield to the embedder.
//! Must hold: no panic; a run of at most n steps retires at most n instructions; running the
//! same budget in one go or in small slices (resuming after each exit) ends in the same state.
#![no_main]

use ee_riscv::{Config, Exit, Machine, DEFAULT_MEM_BASE};
use libfuzzer_sys::fuzz_target;

const BUDGET: u64 = 20_000;
const MEM_SIZE: u32 = 1 << 20;

/// Runs `budget` steps in slices of `slice`, resuming after step limits and yielded ecalls.
fn drive(m: &mut Machine, slice: u64) -> Exit {
    let mut left = BUDGET;
    loop {
        let before = m.instret();
        let n = slice.min(left);
        let exit = m.run(n);
        let done = m.instret() - before;
        assert!(done <= n, "{done} instructions retired in a run of at most {n} ({exit:?})");
        left -= done;
        match exit {
            Exit::Halted(_) | Exit::Trap(_) => return exit,
            Exit::Ecall | Exit::StepLimit if left == 0 => return exit,
            Exit::Ecall | Exit::StepLimit => {}
        }
        if done == 0 {
            // A yield with no instruction retired: give up the slice rather than spin.
            left = left.saturating_sub(1);
            if left == 0 {
                return exit;
            }
        }
    }
}

/// What the machine looks like: PC, registers, retired count, halt, last trap, low memory.
fn state(m: &Machine) -> (u32, Vec<u32>, u64, Option<u32>, String, Vec<u32>) {
    let regs = (0..32).map(|i| m.reg(i)).collect();
    let base = m.memory().base();
    let mem = (0..2048u32).map(|w| m.memory().load_u32(base.wrapping_add(4 * w)).unwrap_or(0)).collect();
    (m.pc(), regs, m.instret(), m.halted(), format!("{:?}", m.last_trap()), mem)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if rest.len() > 64 << 10 {
        return;
    }
    let config = Config {
        mem_base: DEFAULT_MEM_BASE,
        mem_size: MEM_SIZE,
        ecall_yields: mode & 4 != 0,
        misaligned_access: mode & 2 != 0,
    };
    let elf = if mode & 1 == 0 { rest.to_vec() } else { ee_riscv::asm::elf_image(rest, DEFAULT_MEM_BASE) };
    let Ok(mut whole) = Machine::from_elf(&elf, config) else { return };
    let mut sliced = whole.clone();
    let a = drive(&mut whole, BUDGET);
    let b = drive(&mut sliced, 97);
    if matches!(a, Exit::Halted(_) | Exit::Trap(_)) {
        assert_eq!(a, b, "the same program ended differently in slices");
    }
    assert!(state(&whole) == state(&sliced), "one run and sliced runs left different machines ({a:?} / {b:?})");
});
