//! The hart: registers, privilege, CSRs, memory, the decode cache and the resumable
//! interpreter loop.
//!
//! Instructions are decoded once per address into compact `Insn`s kept in a `Vec`
//! that covers the program's executable segments; a store into that range clears the
//! slot it hits, so self-modifying code always sees its new instructions (`fence.i` has
//! nothing left to do). Code outside the range (e.g. copied to data memory) is decoded
//! at each fetch.
//!
//! Two loops share the work. `fast::run` executes cached instructions that cannot trap
//! (see `fast.rs`) and stops before anything else; `Machine::step` then executes that
//! one instruction with the full machine at hand — traps, CSRs, `ecall`/`mret`, empty
//! cache slots, misaligned or faulting accesses, stores into code or `tohost` — and the
//! fast loop resumes. Every trap is raised by `step`, and the step bound counts both
//! loops' instructions exactly.

use crate::csr::{Csrs, Privilege};
use crate::decode::{decode, CsrOp, Op};
use crate::elf::{self, ElfError, Program};
use crate::fast::{self, Core, Insn, REGS};
use crate::memory::Memory;
use crate::trap::{Trap, TrapCause};

#[cfg(test)]
use crate::fast::{div, divu, mulh, mulhsu, mulhu, rem, remu};

/// Where the riscv-tests `p` environment (and our `link.ld`) puts RAM.
pub const DEFAULT_MEM_BASE: u32 = 0x8000_0000;
/// Enough for every riscv-tests program and small contracts.
pub const DEFAULT_MEM_SIZE: u32 = 4 << 20;
/// `tohost` when the ELF has no symbol table: the page after `.text.init`, where the
/// upstream and our `link.ld` place the `.tohost` section.
pub const DEFAULT_TOHOST: u32 = 0x8000_1000;

/// Machine configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub mem_base: u32,
    pub mem_size: u32,
    /// `ecall` returns [`Exit::Ecall`] to the embedder (host ABI) instead of trapping to
    /// `mtvec` (the riscv-tests environment).
    pub ecall_yields: bool,
    /// Loads and stores at addresses that are not a multiple of their width are performed
    /// (as one access, little-endian) instead of raising an address-misaligned exception:
    /// hardware support for misaligned data, which the ISA allows and upstream riscv-tests'
    /// `ma_data` expects (spike runs it with `--misaligned`). Instruction addresses must
    /// stay 4-byte aligned either way.
    pub misaligned_access: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { mem_base: DEFAULT_MEM_BASE, mem_size: DEFAULT_MEM_SIZE, ecall_yields: false, misaligned_access: false }
    }
}

impl Config {
    /// The hart a riscv-tests program (and a machine-mode program under the bootloader)
    /// runs on: the default memory map, traps to the program's `mtvec`, and misaligned
    /// data accesses supported, as spike runs upstream's tests.
    pub fn riscv_tests() -> Self {
        Config { misaligned_access: true, ..Config::default() }
    }
}

/// Why [`Machine::run`] returned. The machine can be resumed after every exit but
/// `Halted`, which is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// An `ecall` with [`Config::ecall_yields`]: the PC is past the `ecall`; the embedder
    /// reads the arguments from the registers, does the work (possibly much later), sets
    /// the results, and calls `run` again.
    Ecall,
    /// The program wrote this non-zero word to `tohost`.
    Halted(u32),
    /// The step bound ran out; `run` again to continue.
    StepLimit,
    /// A trap with no handler to take it (no `mtvec` written, or `mtvec` outside memory).
    /// The PC still points at the faulting instruction.
    Trap(Trap),
}

/// One RV32IM hart with M and U modes and its memory.
#[derive(Clone, Debug)]
pub struct Machine {
    /// x0..x31, then the sink (32) that absorbs writes to x0; padded to 256 entries so
    /// that any `u8` register index needs no bounds check.
    regs: [u32; REGS],
    pc: u32,
    privilege: Privilege,
    csrs: Csrs,
    mem: Memory,
    /// Decoded instructions for `[code_base, code_base + 4 * cache.len())`.
    cache: Vec<Insn>,
    code_base: u32,
    /// Stores here go through `Machine::step`: the hull of the cache and `tohost`.
    watch_base: u32,
    watch_len: u32,
    tohost: Option<u32>,
    halted: Option<u32>,
    ecall_yields: bool,
    misaligned_access: bool,
    /// Whether `fast::run` is used; off, every instruction goes through `step` (the
    /// reference the fast loop is tested against).
    fast: bool,
    instret: u64,
    last_trap: Option<Trap>,
}

/// What one instruction on the general path leads to.
enum Step {
    /// Continue at this PC.
    Next(u32),
    /// Leave `run` with the PC at the given address.
    Exit(Exit, u32),
}

impl Machine {
    /// A machine with zeroed memory, the PC at the memory base, in M-mode, no `tohost`.
    pub fn new(config: Config) -> Self {
        Machine {
            regs: [0; REGS],
            pc: config.mem_base,
            privilege: Privilege::Machine,
            csrs: Csrs::default(),
            mem: Memory::new(config.mem_base, config.mem_size),
            cache: Vec::new(),
            code_base: 0,
            watch_base: 0,
            watch_len: 0,
            tohost: None,
            halted: None,
            ecall_yields: config.ecall_yields,
            misaligned_access: config.misaligned_access,
            fast: true,
            instret: 0,
            last_trap: None,
        }
    }

    /// Parses `elf` and loads it (see [`Machine::load`]).
    pub fn from_elf(elf: &[u8], config: Config) -> Result<Self, ElfError> {
        Self::load(&elf::parse(elf)?, config)
    }

    /// Loads `program` into a new machine: segments copied, PC at the entry, `tohost` at
    /// the symbol or else [`DEFAULT_TOHOST`] when that lies in memory.
    pub fn load(program: &Program, config: Config) -> Result<Self, ElfError> {
        let mut m = Machine::new(config);
        let (mut code_lo, mut code_hi) = (u64::MAX, 0u64);
        let size = m.mem.size();
        for seg in &program.segments {
            let out_of_memory =
                || ElfError::SegmentOutOfMemory { vaddr: seg.vaddr, memsz: seg.memsz, base: config.mem_base, size };
            let start = u64::from(seg.vaddr);
            let end = start + u64::from(seg.memsz);
            let base = u64::from(config.mem_base);
            if start < base || end > base + size {
                return Err(out_of_memory());
            }
            if !m.mem.write_bytes(seg.vaddr, &seg.data) {
                return Err(out_of_memory());
            }
            if seg.executable {
                code_lo = code_lo.min(start & !3);
                code_hi = code_hi.max(end);
            }
        }
        if code_lo < code_hi {
            m.code_base = code_lo as u32;
            m.cache = vec![Insn::UNDECODED; (code_hi - code_lo).div_ceil(4) as usize];
        }
        m.tohost = match program.tohost_symbol {
            Some(t) if t & 3 != 0 || !m.mem.contains(t, 4) => return Err(ElfError::BadTohost(t)),
            Some(t) => Some(t),
            None => m.mem.contains(DEFAULT_TOHOST, 4).then_some(DEFAULT_TOHOST),
        };
        m.update_watch();
        m.pc = program.entry;
        Ok(m)
    }

    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Moves the PC; a misaligned PC traps at the next [`Machine::run`].
    pub fn set_pc(&mut self, pc: u32) {
        self.pc = pc;
    }

    /// Register `x{i}`; 0 for x0 and for `i >= 32`.
    pub fn reg(&self, i: usize) -> u32 {
        if i < 32 {
            self.regs[i]
        } else {
            0
        }
    }

    /// Sets `x{i}`; writes to x0 and `i >= 32` are ignored.
    pub fn set_reg(&mut self, i: usize, value: u32) {
        if (1..32).contains(&i) {
            self.regs[i] = value;
        }
    }

    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// Copies `data` into guest memory (host-call results); false when it does not fit.
    /// Keeps the decode cache coherent.
    pub fn write_memory(&mut self, addr: u32, data: &[u8]) -> bool {
        if !self.mem.write_bytes(addr, data) {
            return false;
        }
        let (lo, hi) = (u64::from(addr), u64::from(addr) + data.len() as u64);
        let code_lo = u64::from(self.code_base);
        let code_hi = code_lo + 4 * self.cache.len() as u64;
        if hi > code_lo && lo < code_hi {
            let first = ((lo.max(code_lo) - code_lo) / 4) as usize;
            let last = (hi.min(code_hi) - code_lo).div_ceil(4) as usize;
            self.cache[first..last].fill(Insn::UNDECODED);
        }
        true
    }

    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    pub fn csrs(&self) -> &Csrs {
        &self.csrs
    }

    /// Instructions executed so far, including ones that trapped.
    pub fn instret(&self) -> u64 {
        self.instret
    }

    /// The most recent trap, taken by a handler or not: the explanation for a failure.
    pub fn last_trap(&self) -> Option<Trap> {
        self.last_trap
    }

    pub fn tohost(&self) -> Option<u32> {
        self.tohost
    }

    /// Sets or clears the word whose non-zero writes halt the machine.
    pub fn set_tohost(&mut self, tohost: Option<u32>) {
        self.tohost = tohost;
        self.update_watch();
    }

    /// The `tohost` value the machine halted with.
    pub fn halted(&self) -> Option<u32> {
        self.halted
    }

    /// Runs at most `max_steps` instructions (a trapping instruction counts as one).
    pub fn run(&mut self, max_steps: u64) -> Exit {
        if let Some(value) = self.halted {
            return Exit::Halted(value);
        }
        let (exit, steps) = self.run_inner(max_steps);
        self.instret += steps;
        exit
    }

    fn run_inner(&mut self, max_steps: u64) -> (Exit, u64) {
        let mut pc = self.pc;
        let mut steps: u64 = 0;

        // Only `set_pc` can misalign the PC: every jump checks its target, and traps and
        // `mret` go to aligned addresses, so neither loop ever needs the test.
        if pc & 3 != 0 && max_steps > 0 {
            steps = 1;
            match self.raise(TrapCause::InstructionAddressMisaligned, pc, pc) {
                Step::Next(handler) => pc = handler,
                Step::Exit(exit, at) => {
                    self.pc = at;
                    return (exit, steps);
                }
            }
        }

        let exit = loop {
            if self.fast {
                let core = Core {
                    regs: &mut self.regs,
                    code: &self.cache,
                    code_base: self.code_base,
                    mem_base: self.mem.base(),
                    mem: self.mem.bytes_mut(),
                    watch_base: self.watch_base,
                    watch_len: self.watch_len,
                };
                let (stopped_at, done) = fast::run(core, pc, max_steps - steps);
                pc = stopped_at;
                steps += done;
            }
            if steps == max_steps {
                break Exit::StepLimit;
            }
            // The fast loop stopped before this instruction: run it on the general path.
            steps += 1;
            match self.step(pc, steps) {
                Step::Next(next) => pc = next,
                Step::Exit(exit, at) => {
                    pc = at;
                    break exit;
                }
            }
        };
        self.pc = pc;
        (exit, steps)
    }

    /// Takes a trap: to the handler at `mtvec`, or out to the embedder when there is none
    /// (the PC stays at the faulting instruction).
    #[cold]
    fn raise(&mut self, cause: TrapCause, pc: u32, tval: u32) -> Step {
        let trap = Trap { cause, pc, tval };
        self.last_trap = Some(trap);
        match self.csrs.mtvec {
            Some(handler) if self.mem.contains(handler, 4) => {
                let c = &mut self.csrs;
                c.mepc = pc;
                c.mcause = cause.code();
                c.mtval = tval;
                c.mpie = c.mie_bit;
                c.mie_bit = false;
                c.mpp = self.privilege;
                self.privilege = Privilege::Machine;
                Step::Next(handler)
            }
            _ => Step::Exit(Exit::Trap(trap), pc),
        }
    }

    /// The range of stores the fast loop leaves to `Machine::step`: the hull of the
    /// decode cache and the `tohost` word (they are close together in every `p`-style
    /// layout, so one range check covers both).
    fn update_watch(&mut self) {
        let code = (!self.cache.is_empty()).then(|| {
            let lo = u64::from(self.code_base);
            (lo, lo + 4 * self.cache.len() as u64)
        });
        let tohost = self.tohost.map(|t| (u64::from(t), u64::from(t) + 4));
        let (lo, hi) = match (code, tohost) {
            (Some(a), Some(b)) => (a.0.min(b.0), a.1.max(b.1)),
            (Some(r), None) | (None, Some(r)) => r,
            (None, None) => (0, 0),
        };
        // Whole words, so that no aligned access straddles an edge (`set_tohost` may be
        // given a misaligned address).
        let (lo, hi) = (lo & !3, hi.div_ceil(4) * 4);
        self.watch_base = lo as u32;
        self.watch_len = u32::try_from(hi - lo).unwrap_or(u32::MAX);
    }

    /// The data at `[addr, addr + N)` (N = 1, 2, 4), or the cause of the trap.
    fn read<const N: usize>(&self, addr: u32) -> Result<[u8; N], TrapCause> {
        if addr as usize & (N - 1) != 0 && !self.misaligned_access {
            return Err(TrapCause::LoadAddressMisaligned);
        }
        let bytes = self.mem.slice(addr, N as u32).ok_or(TrapCause::LoadAccessFault)?;
        bytes.try_into().map_err(|_| TrapCause::LoadAccessFault)
    }

    /// Stores `bytes` at `addr`, or the cause of the trap (and nothing written).
    fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), TrapCause> {
        if addr as usize & (bytes.len() - 1) != 0 && !self.misaligned_access {
            return Err(TrapCause::StoreAddressMisaligned);
        }
        if !self.mem.write_bytes(addr, bytes) {
            return Err(TrapCause::StoreAccessFault);
        }
        Ok(())
    }

    /// After a store to `[addr, addr + len)`: drops stale decoded instructions, and
    /// reports a halt when the store made `tohost` non-zero.
    fn after_store(&mut self, addr: u32, len: u32) -> Option<u32> {
        let first = addr.wrapping_sub(self.code_base) >> 2;
        let last = addr.wrapping_add(len - 1).wrapping_sub(self.code_base) >> 2;
        for idx in [first, last] {
            if let Some(slot) = self.cache.get_mut(idx as usize) {
                *slot = Insn::UNDECODED;
            }
        }
        let tohost = self.tohost?;
        // The store overlaps the tohost word when either start lies inside the other range.
        if addr.wrapping_sub(tohost) >= 4 && tohost.wrapping_sub(addr) >= len {
            return None;
        }
        let value = self.mem.load_u32(tohost).ok().filter(|&v| v != 0)?;
        self.halted = Some(value);
        Some(value)
    }

    #[inline(always)]
    fn x(&self, r: u8) -> u32 {
        self.regs[usize::from(r)]
    }

    #[inline(always)]
    fn set(&mut self, r: u8, value: u32) {
        self.regs[usize::from(r)] = value;
    }

    /// Executes the one instruction at `pc` (4-byte aligned), the `steps`-th of this run,
    /// with everything the fast loop leaves out: decoding and caching it, traps, CSRs,
    /// privilege changes, misaligned and faulting accesses, stores into code and `tohost`.
    #[inline(never)]
    fn step(&mut self, pc: u32, steps: u64) -> Step {
        let next = pc.wrapping_add(4);
        macro_rules! trap {
            ($cause:expr, $tval:expr) => {
                return self.raise($cause, pc, $tval)
            };
        }
        macro_rules! alu {
            ($rd:expr, $value:expr) => {{
                let v = $value;
                self.set($rd, v);
                next
            }};
        }
        macro_rules! branch {
            ($cond:expr, $target:expr) => {
                if $cond {
                    $target
                } else {
                    next
                }
            };
        }
        macro_rules! load {
            ($rd:expr, $rs1:expr, $imm:expr, $n:literal, $conv:expr) => {{
                let addr = self.x($rs1).wrapping_add($imm as u32);
                match self.read::<$n>(addr) {
                    Ok(bytes) => alu!($rd, $conv(bytes)),
                    Err(cause) => trap!(cause, addr),
                }
            }};
        }
        macro_rules! store {
            ($rs1:expr, $imm:expr, $bytes:expr) => {{
                let addr = self.x($rs1).wrapping_add($imm as u32);
                let bytes = $bytes;
                if let Err(cause) = self.write(addr, &bytes) {
                    trap!(cause, addr);
                }
                if let Some(value) = self.after_store(addr, bytes.len() as u32) {
                    return Step::Exit(Exit::Halted(value), next);
                }
                next
            }};
        }

        // Fetch: the word must lie in memory; its decoded form fills an empty cache slot.
        let Ok(raw) = self.mem.load_u32(pc) else {
            trap!(TrapCause::InstructionAccessFault, pc);
        };
        let op = decode(raw, pc);
        if let Some(slot) = self.cache.get_mut((pc.wrapping_sub(self.code_base) >> 2) as usize) {
            if *slot == Insn::UNDECODED {
                *slot = Insn::new_at(op, self.code_base);
            }
        }

        Step::Next(match op {
            Op::Li { rd, value } => alu!(rd, value),
            Op::Jal { rd, target } => {
                self.set(rd, next);
                target
            }
            Op::Jalr { rd, rs1, imm } => {
                let target = self.x(rs1).wrapping_add(imm as u32) & !1;
                if target & 3 != 0 {
                    trap!(TrapCause::InstructionAddressMisaligned, target);
                }
                self.set(rd, next);
                target
            }
            Op::Beq { rs1, rs2, target } => branch!(self.x(rs1) == self.x(rs2), target),
            Op::Bne { rs1, rs2, target } => branch!(self.x(rs1) != self.x(rs2), target),
            Op::Blt { rs1, rs2, target } => branch!((self.x(rs1) as i32) < (self.x(rs2) as i32), target),
            Op::Bge { rs1, rs2, target } => branch!((self.x(rs1) as i32) >= (self.x(rs2) as i32), target),
            Op::Bltu { rs1, rs2, target } => branch!(self.x(rs1) < self.x(rs2), target),
            Op::Bgeu { rs1, rs2, target } => branch!(self.x(rs1) >= self.x(rs2), target),
            Op::BranchMisaligned { cond, rs1, rs2, target } => {
                if cond.holds(self.x(rs1), self.x(rs2)) {
                    trap!(TrapCause::InstructionAddressMisaligned, target);
                }
                next
            }
            Op::Lb { rd, rs1, imm } => load!(rd, rs1, imm, 1, |b: [u8; 1]| b[0] as i8 as u32),
            Op::Lh { rd, rs1, imm } => load!(rd, rs1, imm, 2, |b| i16::from_le_bytes(b) as u32),
            Op::Lw { rd, rs1, imm } => load!(rd, rs1, imm, 4, u32::from_le_bytes),
            Op::Lbu { rd, rs1, imm } => load!(rd, rs1, imm, 1, |b: [u8; 1]| u32::from(b[0])),
            Op::Lhu { rd, rs1, imm } => load!(rd, rs1, imm, 2, |b| u32::from(u16::from_le_bytes(b))),
            Op::Sb { rs1, rs2, imm } => store!(rs1, imm, [self.x(rs2) as u8]),
            Op::Sh { rs1, rs2, imm } => store!(rs1, imm, (self.x(rs2) as u16).to_le_bytes()),
            Op::Sw { rs1, rs2, imm } => store!(rs1, imm, self.x(rs2).to_le_bytes()),
            Op::Addi { rd, rs1, imm } => alu!(rd, self.x(rs1).wrapping_add(imm as u32)),
            Op::Slti { rd, rs1, imm } => alu!(rd, u32::from((self.x(rs1) as i32) < imm)),
            Op::Sltiu { rd, rs1, imm } => alu!(rd, u32::from(self.x(rs1) < imm as u32)),
            Op::Xori { rd, rs1, imm } => alu!(rd, self.x(rs1) ^ imm as u32),
            Op::Ori { rd, rs1, imm } => alu!(rd, self.x(rs1) | imm as u32),
            Op::Andi { rd, rs1, imm } => alu!(rd, self.x(rs1) & imm as u32),
            Op::Slli { rd, rs1, shamt } => alu!(rd, self.x(rs1) << (shamt & 31)),
            Op::Srli { rd, rs1, shamt } => alu!(rd, self.x(rs1) >> (shamt & 31)),
            Op::Srai { rd, rs1, shamt } => alu!(rd, ((self.x(rs1) as i32) >> (shamt & 31)) as u32),
            Op::Add { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_add(self.x(rs2))),
            Op::Sub { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_sub(self.x(rs2))),
            Op::Sll { rd, rs1, rs2 } => alu!(rd, self.x(rs1) << (self.x(rs2) & 31)),
            Op::Slt { rd, rs1, rs2 } => alu!(rd, u32::from((self.x(rs1) as i32) < (self.x(rs2) as i32))),
            Op::Sltu { rd, rs1, rs2 } => alu!(rd, u32::from(self.x(rs1) < self.x(rs2))),
            Op::Xor { rd, rs1, rs2 } => alu!(rd, self.x(rs1) ^ self.x(rs2)),
            Op::Srl { rd, rs1, rs2 } => alu!(rd, self.x(rs1) >> (self.x(rs2) & 31)),
            Op::Sra { rd, rs1, rs2 } => alu!(rd, ((self.x(rs1) as i32) >> (self.x(rs2) & 31)) as u32),
            Op::Or { rd, rs1, rs2 } => alu!(rd, self.x(rs1) | self.x(rs2)),
            Op::And { rd, rs1, rs2 } => alu!(rd, self.x(rs1) & self.x(rs2)),
            Op::Mul { rd, rs1, rs2 } => alu!(rd, self.x(rs1).wrapping_mul(self.x(rs2))),
            Op::Mulh { rd, rs1, rs2 } => alu!(rd, fast::mulh(self.x(rs1), self.x(rs2))),
            Op::Mulhsu { rd, rs1, rs2 } => alu!(rd, fast::mulhsu(self.x(rs1), self.x(rs2))),
            Op::Mulhu { rd, rs1, rs2 } => alu!(rd, fast::mulhu(self.x(rs1), self.x(rs2))),
            Op::Div { rd, rs1, rs2 } => alu!(rd, fast::div(self.x(rs1), self.x(rs2))),
            Op::Divu { rd, rs1, rs2 } => alu!(rd, fast::divu(self.x(rs1), self.x(rs2))),
            Op::Rem { rd, rs1, rs2 } => alu!(rd, fast::rem(self.x(rs1), self.x(rs2))),
            Op::Remu { rd, rs1, rs2 } => alu!(rd, fast::remu(self.x(rs1), self.x(rs2))),
            Op::Fence | Op::FenceI | Op::Wfi => next,
            Op::Ecall => {
                if self.ecall_yields {
                    return Step::Exit(Exit::Ecall, next);
                }
                let cause = match self.privilege {
                    Privilege::User => TrapCause::EcallFromU,
                    Privilege::Machine => TrapCause::EcallFromM,
                };
                trap!(cause, 0);
            }
            Op::Ebreak => trap!(TrapCause::Breakpoint, pc),
            Op::Mret => {
                if self.privilege != Privilege::Machine {
                    trap!(TrapCause::IllegalInstruction, raw);
                }
                let c = &mut self.csrs;
                self.privilege = c.mpp;
                c.mie_bit = c.mpie;
                c.mpie = true;
                c.mpp = Privilege::User;
                c.mepc
            }
            Op::Csr { op, rd, src, csr } => {
                let Some(old) = self.csrs.read(csr, self.privilege, self.instret + steps) else {
                    trap!(TrapCause::IllegalInstruction, raw);
                };
                let (writes, new) = match op {
                    CsrOp::Rw => (true, self.x(src)),
                    CsrOp::Rs => (src != 0, old | self.x(src)),
                    CsrOp::Rc => (src != 0, old & !self.x(src)),
                    CsrOp::Rwi => (true, u32::from(src)),
                    CsrOp::Rsi => (src != 0, old | u32::from(src)),
                    CsrOp::Rci => (src != 0, old & !u32::from(src)),
                };
                if writes && self.csrs.write(csr, new).is_none() {
                    trap!(TrapCause::IllegalInstruction, raw);
                }
                alu!(rd, old)
            }
            Op::Fault { cause, tval } => trap!(cause, tval),
            Op::Illegal { raw } => trap!(TrapCause::IllegalInstruction, raw),
        })
    }
}

#[cfg(test)]
mod tests;
