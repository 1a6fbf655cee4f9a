//! Machine tests on hand-encoded programs wrapped in minimal ELF files.

use super::*;
use crate::csr;

const BASE: u32 = DEFAULT_MEM_BASE;

// ---- encoders -------------------------------------------------------------

fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, opc: u32) -> u32 {
    (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc
}
fn i(imm: i32, rs1: u32, f3: u32, rd: u32, opc: u32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc
}
fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5 & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23
}
fn b(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 12 & 1) << 31)
        | ((imm >> 5 & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (f3 << 12)
        | ((imm >> 1 & 0xf) << 8)
        | ((imm >> 11 & 1) << 7)
        | 0x63
}
fn jal(imm: i32, rd: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 20 & 1) << 31) | ((imm >> 1 & 0x3ff) << 21) | ((imm >> 11 & 1) << 20) | (imm & 0xff000) | (rd << 7) | 0x6f
}
fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}
fn lui(rd: u32, imm: u32) -> u32 {
    (imm & 0xffff_f000) | (rd << 7) | 0x37
}
/// `li` for any 32-bit value: lui + addi.
fn li(rd: u32, v: u32) -> [u32; 2] {
    let lo = ((v & 0xfff) as i32) << 20 >> 20;
    [lui(rd, v.wrapping_sub(lo as u32)), addi(rd, rd, lo)]
}
fn csrrw(rd: u32, csr: u16, rs1: u32) -> u32 {
    i(i32::from(csr), rs1, 1, rd, 0x73)
}
fn csrrs(rd: u32, csr: u16, rs1: u32) -> u32 {
    i(i32::from(csr), rs1, 2, rd, 0x73)
}
const ECALL: u32 = 0x0000_0073;
const EBREAK: u32 = 0x0010_0073;
const MRET: u32 = 0x3020_0073;
const FENCE_I: u32 = 0x0000_100f;

// ---- ELF builder ----------------------------------------------------------

/// An ELF32 RISC-V executable: one RWX PT_LOAD of `code` at `vaddr`, entry at `vaddr`,
/// plus a symbol table defining `tohost` when given.
fn elf_at(vaddr: u32, code: &[u32], tohost: Option<u32>) -> Vec<u8> {
    let text: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let text_off = 52 + 32;
    let mut f = vec![0u8; text_off];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&243u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..28].copy_from_slice(&vaddr.to_le_bytes());
    f[28..32].copy_from_slice(&52u32.to_le_bytes()); // phoff
    f[40..42].copy_from_slice(&52u16.to_le_bytes());
    f[42..44].copy_from_slice(&32u16.to_le_bytes());
    f[44..46].copy_from_slice(&1u16.to_le_bytes());
    f[46..48].copy_from_slice(&40u16.to_le_bytes());
    let ph = &mut f[52..84];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    ph[4..8].copy_from_slice(&(text_off as u32).to_le_bytes());
    ph[8..12].copy_from_slice(&vaddr.to_le_bytes());
    ph[12..16].copy_from_slice(&vaddr.to_le_bytes());
    ph[16..20].copy_from_slice(&(text.len() as u32).to_le_bytes());
    ph[20..24].copy_from_slice(&(text.len() as u32 + 0x100).to_le_bytes());
    ph[24..28].copy_from_slice(&7u32.to_le_bytes()); // RWX
    f.extend_from_slice(&text);
    if let Some(addr) = tohost {
        // strtab, symtab, then 3 section headers: null, symtab (link 2), strtab.
        let strtab_off = f.len() as u32;
        f.extend_from_slice(b"\0tohost\0");
        let symtab_off = f.len() as u32;
        f.extend_from_slice(&[0; 16]);
        let mut sym = [0u8; 16];
        sym[0..4].copy_from_slice(&1u32.to_le_bytes());
        sym[4..8].copy_from_slice(&addr.to_le_bytes());
        sym[14..16].copy_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&sym);
        let shoff = f.len() as u32;
        f.extend_from_slice(&[0; 40]);
        let mut sh = [0u8; 40];
        sh[4..8].copy_from_slice(&2u32.to_le_bytes());
        sh[16..20].copy_from_slice(&symtab_off.to_le_bytes());
        sh[20..24].copy_from_slice(&32u32.to_le_bytes());
        sh[24..28].copy_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&sh);
        let mut sh = [0u8; 40];
        sh[4..8].copy_from_slice(&3u32.to_le_bytes());
        sh[16..20].copy_from_slice(&strtab_off.to_le_bytes());
        sh[20..24].copy_from_slice(&8u32.to_le_bytes());
        f.extend_from_slice(&sh);
        f[32..36].copy_from_slice(&shoff.to_le_bytes());
        f[48..50].copy_from_slice(&3u16.to_le_bytes());
    }
    f
}

fn machine(code: &[u32]) -> Machine {
    Machine::from_elf(&elf_at(BASE, code, None), Config::default()).expect("test ELF loads")
}

fn program(parts: &[&[u32]]) -> Vec<u32> {
    parts.concat()
}

// ---- M extension ----------------------------------------------------------

#[test]
fn m_extension_edge_cases() {
    const MIN: u32 = 0x8000_0000;
    const NEG1: u32 = u32::MAX;
    assert_eq!(div(MIN, NEG1), MIN);
    assert_eq!(rem(MIN, NEG1), 0);
    assert_eq!(div(7, 0), NEG1);
    assert_eq!(divu(7, 0), NEG1);
    assert_eq!(rem(-7i32 as u32, 0), -7i32 as u32);
    assert_eq!(remu(7, 0), 7);
    assert_eq!(div(-7i32 as u32, 2), -3i32 as u32);
    assert_eq!(rem(-7i32 as u32, 2), -1i32 as u32);
    assert_eq!(divu(-7i32 as u32, 2), 0x7fff_fffc);
    assert_eq!(mulh(NEG1, NEG1), 0);
    assert_eq!(mulh(MIN, MIN), 0x4000_0000);
    assert_eq!(mulh(MIN, 1), NEG1);
    assert_eq!(mulhu(NEG1, NEG1), 0xffff_fffe);
    assert_eq!(mulhsu(NEG1, NEG1), NEG1);
    assert_eq!(mulhsu(MIN, NEG1), 0x8000_0000);
    assert_eq!(mulhsu(1, NEG1), 0);
}

#[test]
fn m_extension_through_the_interpreter() {
    // a0 = MIN, a1 = -1; a2 = a0 / a1; a3 = a0 % a1; a4 = a0 / x0; a5 = mulh a1, a1; ebreak
    let code = program(&[
        &li(10, 0x8000_0000),
        &[
            addi(11, 0, -1),
            r(1, 11, 10, 4, 12, 0x33),
            r(1, 11, 10, 6, 13, 0x33),
            r(1, 0, 10, 4, 14, 0x33),
            r(1, 11, 11, 1, 15, 0x33),
            EBREAK,
        ],
    ]);
    let mut m = machine(&code);
    let exit = m.run(100);
    assert_eq!(exit, Exit::Trap(Trap { cause: TrapCause::Breakpoint, pc: BASE + 28, tval: BASE + 28 }));
    assert_eq!([m.reg(12), m.reg(13), m.reg(14), m.reg(15)], [0x8000_0000, 0, u32::MAX, 0]);
}

// ---- registers, traps, CSRs -----------------------------------------------

#[test]
fn x0_stays_zero() {
    let code = [addi(0, 0, 5), lui(0, 0x1000), jal(4, 0), i(0, 0, 2, 0, 0x03) /* lw x0, 0(x0) */];
    let mut m = machine(&code);
    // The load from address 0 faults (no memory there) after the writes to x0.
    assert!(matches!(m.run(10), Exit::Trap(Trap { cause: TrapCause::LoadAccessFault, tval: 0, .. })));
    assert_eq!(m.reg(0), 0);
    assert_eq!(m.reg(40), 0);
    m.set_reg(0, 9);
    assert_eq!(m.reg(0), 0);
}

#[test]
fn illegal_instruction_without_handler_is_a_verdict() {
    let mut m = machine(&[addi(1, 0, 1), 0xffff_ffff]);
    assert_eq!(m.run(10), Exit::Trap(Trap { cause: TrapCause::IllegalInstruction, pc: BASE + 4, tval: 0xffff_ffff }));
    assert_eq!(m.pc(), BASE + 4);
    assert_eq!(m.reg(1), 1);
}

/// A program that installs a handler at `BASE + 0x40` which stores mcause, mepc and mtval
/// into a0..a2 and ebreaks out (after clearing mtvec, so the ebreak leaves the machine).
fn with_handler(body: &[u32]) -> Machine {
    let mut code = program(&[&li(5, BASE + 0x40), &[csrrw(0, csr::MTVEC, 5)], body]);
    assert!(code.len() <= 16);
    code.resize(16, addi(0, 0, 0));
    code.extend_from_slice(&[
        csrrs(10, csr::MCAUSE, 0),
        csrrs(11, csr::MEPC, 0),
        csrrs(12, csr::MTVAL, 0),
        // mtvec = 0 (outside memory): the ebreak becomes an exit.
        csrrw(0, csr::MTVEC, 0),
        EBREAK,
    ]);
    machine(&code)
}

fn trapped(m: &mut Machine) -> (u32, u32, u32) {
    assert!(matches!(m.run(1000), Exit::Trap(Trap { cause: TrapCause::Breakpoint, .. })), "{:?}", m.last_trap());
    (m.reg(10), m.reg(11), m.reg(12))
}

#[test]
fn unimplemented_csr_write_traps_to_mtvec() {
    let satp_write = csrrw(0, 0x180, 0);
    let mut m = with_handler(&[satp_write]);
    assert_eq!(trapped(&mut m), (2, BASE + 12, satp_write));
    assert_eq!(m.privilege(), Privilege::Machine);
}

#[test]
fn read_only_csr_write_traps_and_read_works() {
    let write = csrrw(0, csr::MHARTID, 5);
    let mut m = with_handler(&[csrrs(6, csr::MHARTID, 0), csrrs(7, csr::MISA, 0), write]);
    assert_eq!(trapped(&mut m), (2, BASE + 20, write));
    assert_eq!(m.reg(6), 0);
    assert_eq!(m.reg(7), 0x4010_1100);
}

/// Installs the reporting handler, then `mret`s (MPP = U after reset) into `user` at BASE+0x80.
fn in_user_mode(user: &[u32]) -> Machine {
    let mut code = program(&[&li(5, BASE + 0x40), &[csrrw(0, csr::MTVEC, 5)], &li(6, BASE + 0x80)]);
    code.extend_from_slice(&[csrrw(0, csr::MEPC, 6), MRET]);
    code.resize(16, addi(0, 0, 0));
    code.extend_from_slice(&[
        csrrs(10, csr::MCAUSE, 0),
        csrrs(11, csr::MEPC, 0),
        csrrs(12, csr::MTVAL, 0),
        csrrw(0, csr::MTVEC, 0),
        EBREAK,
    ]);
    code.resize(32, addi(0, 0, 0));
    code.extend_from_slice(user);
    machine(&code)
}

#[test]
fn user_mode_ecall_csr_and_mret() {
    let user_csr = csrrs(6, csr::MSCRATCH, 0);
    let mut m = in_user_mode(&[addi(7, 0, 1), user_csr]);
    assert_eq!(trapped(&mut m), (2, BASE + 0x84, user_csr));
    assert_eq!(m.reg(7), 1);
    assert_eq!(m.csrs().mpp, Privilege::User, "the trap came from U-mode");

    let mut m = in_user_mode(&[ECALL]);
    assert_eq!(trapped(&mut m).0, 8);

    let mut m = in_user_mode(&[MRET]);
    assert_eq!(trapped(&mut m), (2, BASE + 0x80, MRET));
}

#[test]
fn misaligned_accesses_trap() {
    // t0 = BASE + 0x202; lw / sh / jalr through t0
    let lw = i(0, 5, 2, 6, 0x03);
    let mut m = with_handler(&[li(5, BASE + 0x202)[0], li(5, BASE + 0x202)[1], lw]);
    assert_eq!(trapped(&mut m), (4, BASE + 20, BASE + 0x202));

    let sw = s(1, 5, 5, 2);
    let mut m = with_handler(&[li(5, BASE + 0x200)[0], li(5, BASE + 0x200)[1], sw]);
    assert_eq!(trapped(&mut m), (6, BASE + 20, BASE + 0x201));

    let jalr = i(2, 5, 0, 1, 0x67);
    let mut m = with_handler(&[li(5, BASE + 0x200)[0], li(5, BASE + 0x200)[1], jalr]);
    assert_eq!(trapped(&mut m), (0, BASE + 20, BASE + 0x202));
    assert_eq!(m.reg(1), 0, "a trapping jalr does not link");

    // A branch to a misaligned target traps only when taken.
    let mut m = with_handler(&[b(6, 0, 5, 0) /* beq t0, x0, +6: not taken */, b(6, 0, 0, 0)]);
    assert_eq!(trapped(&mut m), (0, BASE + 16, BASE + 22));
}

#[test]
fn access_faults_outside_memory() {
    let lw = i(0, 0, 2, 6, 0x03);
    let mut m = with_handler(&[lw]);
    assert_eq!(trapped(&mut m), (5, BASE + 12, 0));
    let sb = s(-1, 0, 0, 0);
    let mut m = with_handler(&[sb]);
    assert_eq!(trapped(&mut m), (7, BASE + 12, u32::MAX));
    // Jumping out of memory faults at the fetch.
    let mut m = machine(&[jal(-8, 0)]);
    assert_eq!(m.run(10), Exit::Trap(Trap { cause: TrapCause::InstructionAccessFault, pc: BASE - 8, tval: BASE - 8 }));
}

// ---- step bound, resumption, ecall host ABI ---------------------------------

#[test]
fn step_bound_and_resume() {
    let mut m = machine(&[addi(5, 5, 1), jal(-4, 0)]);
    assert_eq!(m.run(1001), Exit::StepLimit);
    assert_eq!(m.instret(), 1001);
    assert_eq!(m.reg(5), 501);
    assert_eq!(m.run(0), Exit::StepLimit);
    assert_eq!(m.run(1), Exit::StepLimit);
    assert_eq!(m.reg(5), 501);
    assert_eq!(m.run(1), Exit::StepLimit);
    assert_eq!(m.reg(5), 502);
    assert_eq!(m.instret(), 1003);
}

#[test]
fn ecall_yields_to_the_embedder_and_resumes() {
    // a0 = 20; ecall; a1 = a0 + 1; ecall
    let code = [addi(10, 0, 20), ECALL, addi(11, 10, 1), ECALL];
    let config = Config { ecall_yields: true, ..Config::default() };
    let mut m = Machine::from_elf(&elf_at(BASE, &code, None), config).unwrap();
    assert_eq!(m.run(100), Exit::Ecall);
    assert_eq!((m.pc(), m.reg(10)), (BASE + 8, 20));
    m.set_reg(10, 41); // the host's answer
    assert_eq!(m.run(100), Exit::Ecall);
    assert_eq!(m.reg(11), 42);
    // Without the flag and without a handler, an ecall is an unhandled trap.
    let mut m = machine(&code);
    assert_eq!(m.run(100), Exit::Trap(Trap { cause: TrapCause::EcallFromM, pc: BASE + 4, tval: 0 }));
}

#[test]
fn tohost_halts_and_stays_halted() {
    let tohost = BASE + 0x100;
    let code = program(&[&li(5, tohost), &[addi(6, 0, 7), s(4, 6, 5, 2), s(0, 0, 5, 2), s(0, 6, 5, 2), jal(0, 0)]]);
    let mut m = Machine::from_elf(&elf_at(BASE, &code, Some(tohost)), Config::default()).unwrap();
    assert_eq!(m.tohost(), Some(tohost));
    // Writing tohost+4 and writing zero do not halt; 7 does.
    assert_eq!(m.run(100), Exit::Halted(7));
    assert_eq!(m.halted(), Some(7));
    assert_eq!(m.run(100), Exit::Halted(7));
    // Without a symbol the default applies.
    assert_eq!(machine(&code).tohost(), Some(DEFAULT_TOHOST));
}

#[test]
fn self_modifying_code_sees_new_instructions() {
    // Loop twice over `target`; after the first pass, overwrite it with `addi a0, a0, 100`.
    //  0: li t0, &target (2)   8: li t1, new insn (2)   16: target: addi a0, a0, 1
    // 20: addi a1, a1, 1      24: sw t1, 0(t0)         28: fence.i
    // 32: addi t2, x0, 2      36: bne a1, t2, target   40: ebreak
    let new = addi(10, 10, 100);
    let code = program(&[
        &li(5, BASE + 16),
        &li(6, new),
        &[addi(10, 10, 1), addi(11, 11, 1), s(0, 6, 5, 2), FENCE_I, addi(7, 0, 2), b(-20, 7, 11, 1), EBREAK],
    ]);
    let mut m = machine(&code);
    assert!(matches!(m.run(100), Exit::Trap(Trap { cause: TrapCause::Breakpoint, .. })));
    assert_eq!(m.reg(10), 101);
    // The embedder's writes invalidate too.
    let mut m = machine(&code);
    assert!(m.write_memory(BASE + 16, &addi(10, 10, 5).to_le_bytes()));
    m.run(100);
    assert_eq!(m.reg(10), 105);
}

#[test]
fn misaligned_pc_from_embedder_traps() {
    let mut m = machine(&[addi(0, 0, 0)]);
    m.set_pc(BASE + 2);
    assert_eq!(
        m.run(10),
        Exit::Trap(Trap { cause: TrapCause::InstructionAddressMisaligned, pc: BASE + 2, tval: BASE + 2 })
    );
}

// ---- loader -----------------------------------------------------------------

#[test]
fn loader_rejects_bad_files() {
    let good = elf_at(BASE, &[EBREAK], Some(BASE + 4));
    assert!(Machine::from_elf(&good, Config::default()).is_ok());
    let load = |f: &[u8]| Machine::from_elf(f, Config::default()).map(|_| ());

    // Every truncation is an error, never a panic.
    for len in 0..good.len() {
        assert!(load(&good[..len]).is_err(), "prefix of {len} bytes loaded");
    }
    assert_eq!(load(b"garbage, not an ELF at all"), Err(ElfError::NotElf));

    let patched = |at: usize, bytes: &[u8]| {
        let mut f = good.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        load(&f)
    };
    assert_eq!(patched(18, &62u16.to_le_bytes()), Err(ElfError::NotRiscv(62)));
    assert_eq!(patched(4, &[2]), Err(ElfError::NotElf32));
    assert_eq!(patched(5, &[2]), Err(ElfError::NotLittleEndian));
    assert_eq!(patched(16, &3u16.to_le_bytes()), Err(ElfError::NotExecutable(3)));
    assert_eq!(patched(36, &1u32.to_le_bytes()), Err(ElfError::CompressedUnsupported));
    assert_eq!(patched(42, &56u16.to_le_bytes()), Err(ElfError::BadHeaderSize));
    assert_eq!(patched(24, &(BASE + 2).to_le_bytes()), Err(ElfError::BadEntry(BASE + 2)));
    assert_eq!(patched(52 + 4, &0xffff_0000u32.to_le_bytes()), Err(ElfError::Truncated("segment data")));
    assert_eq!(patched(52 + 16, &0x1000u32.to_le_bytes()), Err(ElfError::BadSegment { vaddr: BASE }));

    // Segments outside memory: below the base, past the end, wrapping around.
    for vaddr in [0x1000, BASE + DEFAULT_MEM_SIZE - 8, 0xffff_fff0] {
        let f = elf_at(vaddr, &[EBREAK], None);
        assert!(matches!(load(&f), Err(ElfError::SegmentOutOfMemory { .. })), "{vaddr:#x}");
    }
    // tohost outside memory.
    let f = elf_at(BASE, &[EBREAK], Some(0x10));
    assert_eq!(load(&f), Err(ElfError::BadTohost(0x10)));
}

/// A tiny deterministic generator for the no-panic sweeps.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn corrupted_files_never_panic() {
    let good = elf_at(BASE, &[addi(5, 0, 1), EBREAK], Some(BASE + 8));
    let mut seed = 0x1234_5678_9abc_def0;
    for _ in 0..5000 {
        let mut f = good.clone();
        for _ in 0..1 + xorshift(&mut seed) % 4 {
            let at = (xorshift(&mut seed) % f.len() as u64) as usize;
            f[at] = xorshift(&mut seed) as u8;
        }
        if let Ok(mut m) = Machine::from_elf(&f, Config::default()) {
            let _ = m.run(1000);
        }
    }
}

#[test]
fn random_instruction_streams_never_panic() {
    let mut seed = 0xdead_beef_cafe_f00d;
    for round in 0..200 {
        let code: Vec<u32> = (0..256).map(|_| xorshift(&mut seed) as u32).collect();
        let mut m = machine(&code);
        if round % 2 == 0 {
            // Install a handler in the middle of the noise, so traps keep executing.
            m.csrs.mtvec = Some(BASE + 512);
        }
        for r in 1..32 {
            m.set_reg(r, BASE + (xorshift(&mut seed) as u32 % 0x800));
        }
        let _ = m.run(10_000);
    }
}

// ---- fast loop vs general path ------------------------------------------------

/// A random but mostly valid instruction over x1..x7 (x31 belongs to the handler): ALU,
/// M, loads and stores through x1..x4 (data, misaligned data, code, tohost), short
/// branches and jumps, CSR reads of the counters, and the odd trap.
fn random_insn(seed: &mut u64, at: usize, len: usize) -> u32 {
    let mut next = || xorshift(seed);
    let reg = |v: u64| (v % 7 + 1) as u32;
    let (rd, rs1, rs2) = (reg(next()), reg(next()), reg(next()));
    let imm = (next() % 64) as i32 - 32;
    // A branch or jump offset that stays inside the program (and is 4-byte aligned).
    let target = (next() % len as u64) as i32;
    let off = (target - at as i32) * 4;
    match next() % 40 {
        0..=5 => addi(rd, rs1, imm),
        6 => r(0, rs2, rs1, 0, rd, 0x33),
        7 => r(0x20, rs2, rs1, 0, rd, 0x33),
        8 => r(0, rs2, rs1, 4, rd, 0x33),
        9 => i((next() % 32) as i32, rs1, 1, rd, 0x13),
        10 => i(0x400 | (next() % 32) as i32, rs1, 5, rd, 0x13),
        11 => r(0, rs2, rs1, 3, rd, 0x33),
        12 => r(0, rs2, rs1, 2, rd, 0x33),
        13 => r(1, rs2, rs1, (next() % 8) as u32, rd, 0x33),
        14 => lui(rd, (next() as u32) << 12),
        15..=19 => i(imm, (next() % 4 + 1) as u32, [0, 1, 2, 4, 5][(next() % 5) as usize], rd, 0x03),
        20..=23 => s(imm, rs2, (next() % 4 + 1) as u32, (next() % 3) as u32),
        24..=28 => b(off, rs2, rs1, [0, 1, 4, 5, 6, 7][(next() % 6) as usize]),
        29 => jal(off, rd),
        30 => i(imm & !3, rs1, 0, rd, 0x67), // jalr: mostly a misaligned or far target
        31 => csrrs(rd, [csr::CYCLE, csr::INSTRET, csr::MCAUSE][(next() % 3) as usize], 0),
        32 => ECALL,
        33 => EBREAK,
        34 => next() as u32, // usually illegal
        35 => FENCE_I,
        _ => addi(rd, rd, 1),
    }
}

/// Machine state that must agree between the two loops.
#[derive(PartialEq)]
struct Snapshot {
    regs: Vec<u32>,
    pc: u32,
    instret: u64,
    last_trap: Option<Trap>,
    halted: Option<u32>,
    privilege: Privilege,
    csrs: [u32; 4],
    mem: Vec<u8>,
}

fn snapshot(m: &Machine) -> Snapshot {
    let c = m.csrs();
    Snapshot {
        regs: (0..32).map(|r| m.reg(r)).collect(),
        pc: m.pc(),
        instret: m.instret(),
        last_trap: m.last_trap(),
        halted: m.halted(),
        privilege: m.privilege(),
        csrs: [c.mepc, c.mcause, c.mtval, c.mstatus()],
        mem: m.memory().slice(BASE, 0x3000).expect("in memory").to_vec(),
    }
}

#[test]
fn fast_loop_matches_the_general_path() {
    const LEN: usize = 96;
    const HANDLER: u32 = BASE + 0x800;
    const DATA: u32 = BASE + 0x1000;
    let mut seed = 0x5eed_0123_4567_89ab;
    for round in 0..300 {
        let mut code: Vec<u32> = (0..LEN).map(|at| random_insn(&mut seed, at, LEN)).collect();
        // The handler skips the trapping instruction: mepc += 4; mret.
        code.resize(((HANDLER - BASE) / 4) as usize, addi(0, 0, 0));
        code.extend_from_slice(&[csrrs(31, csr::MEPC, 0), addi(31, 31, 4), csrrw(0, csr::MEPC, 31), MRET]);
        let tohost = DATA + 0x40;
        let config = Config { misaligned_access: round % 2 == 0, ..Config::default() };
        let mut fast = Machine::from_elf(&elf_at(BASE, &code, Some(tohost)), config).unwrap();
        if round % 3 != 0 {
            fast.csrs.mtvec = Some(HANDLER);
        }
        fast.set_reg(1, DATA + (xorshift(&mut seed) % 64) as u32 * 4);
        fast.set_reg(2, DATA + (xorshift(&mut seed) % 256) as u32); // often misaligned
        fast.set_reg(3, BASE + (xorshift(&mut seed) % LEN as u64) as u32 * 4); // into the code
        fast.set_reg(4, tohost - 32 + (xorshift(&mut seed) % 8) as u32 * 4);
        for r in 5..8 {
            fast.set_reg(r, xorshift(&mut seed) as u32);
        }
        let mut reference = fast.clone();
        reference.fast = false;

        let total = 3000;
        let want = reference.run(total);
        let mut got = Exit::StepLimit;
        let mut left = total;
        while left > 0 {
            let chunk = (1 + xorshift(&mut seed) % 40).min(left);
            got = fast.run(chunk);
            left -= chunk;
            if got != Exit::StepLimit {
                break;
            }
        }
        assert_eq!(got, want, "round {round}");
        assert!(snapshot(&fast) == snapshot(&reference), "round {round}: states differ");
    }
}

#[test]
fn misaligned_accesses_work_when_supported() {
    // t0 = BASE + 0x202; sw t1 to t0+1; lw / lh / lhu back; a store straddling into code
    // (BASE + 0x2e..0x32) invalidates both words it touches.
    let config = Config { misaligned_access: true, ..Config::default() };
    let code = program(&[
        &li(5, BASE + 0x201),
        &li(6, 0x8485_8687),
        &[
            s(0, 6, 5, 2),     // sw t1, 0(t0)
            i(0, 5, 2, 7, 3),  // lw t2, 0(t0)
            i(1, 5, 1, 28, 3), // lh t3, 1(t0)
            i(1, 5, 5, 29, 3), // lhu t4, 1(t0)
            EBREAK,
        ],
    ]);
    let mut m = Machine::from_elf(&elf_at(BASE, &code, None), config).unwrap();
    assert!(matches!(m.run(100), Exit::Trap(Trap { cause: TrapCause::Breakpoint, .. })));
    assert_eq!([m.reg(7), m.reg(28), m.reg(29)], [0x8485_8687, 0xffff_8586, 0x8586]);
    assert_eq!(m.memory().slice(BASE + 0x200, 6), Some(&[0, 0x87, 0x86, 0x85, 0x84, 0][..]));
    // Out of memory is still an access fault, misaligned or not.
    let mut m = Machine::from_elf(&elf_at(BASE, &[i(1, 0, 2, 6, 0x03)], None), config).unwrap();
    assert_eq!(m.run(10), Exit::Trap(Trap { cause: TrapCause::LoadAccessFault, pc: BASE, tval: 1 }));
}

#[test]
fn misaligned_store_into_code_invalidates_both_words() {
    // A call runs (and caches) `addi a0, a0, 1` at +24; then `sw t1, 22(x0+BASE)` rewrites
    // bytes +22..+26: the high half of the word at +20 (unchanged) and the low half of the
    // word at +24, whose rd becomes a1. The second call must see `addi a1, a0, 1`.
    let config = Config { misaligned_access: true, ..Config::default() };
    let skip = jal(12, 0);
    let patched = (addi(11, 10, 1) & 0xffff) << 16 | skip >> 16;
    let code = program(&[
        &li(5, BASE + 22),
        &li(6, patched),
        &[
            jal(8, 1),           // +16: call +24
            skip,                // +20: to +32
            addi(10, 10, 1),     // +24
            i(0, 1, 0, 0, 0x67), // +28: ret
            s(0, 6, 5, 2),       // +32: sw t1, 0(t0)
            jal(-12, 1),         // +36: call +24 again
            EBREAK,              // +40
        ],
    ]);
    let mut m = Machine::from_elf(&elf_at(BASE, &code, None), config).unwrap();
    assert!(matches!(m.run(100), Exit::Trap(Trap { cause: TrapCause::Breakpoint, .. })));
    assert_eq!((m.reg(10), m.reg(11)), (1, 2));
    let mut reference = Machine::from_elf(&elf_at(BASE, &code, None), config).unwrap();
    reference.fast = false;
    reference.run(100);
    assert!(snapshot(&m) == snapshot(&reference));
}
