//! Instruction and word builders for hand-written and generated programs.

use ee_api::{Address, U256};
use ee_eravm::asm::assemble;
use ee_eravm::{Dst, Instruction, Modifiers, Op, Src};

pub const NONE: Modifiers = Modifiers::NONE;

pub fn ins(op: Op, src: Src, dst: Dst, m: Modifiers) -> Instruction {
    Instruction::new(op, src, dst, m).unwrap_or_else(|| panic!("no variant {op:?} {src:?} {dst:?} {m:?}"))
}

pub fn reg(op: Op) -> Instruction {
    ins(op, Src::Reg, Dst::Reg, NONE)
}

/// `nop r0, r0, r0, r0`: what minimization puts in place of an instruction.
pub fn nop() -> Instruction {
    reg(Op::Nop)
}

/// `add imm, r0, rN`
pub fn set(r: u8, imm: u16) -> Instruction {
    ins(Op::Add, Src::Imm, Dst::Reg, NONE).regs(0, 0, r, 0).imms(imm, 0)
}

/// Marks a code-page address as "constant k" for [`build`] to resolve.
pub const CONSTANT: u16 = 0x8000;

/// The code-page address of constant `k` of a hand-written program, resolved by [`build`].
pub const fn cst(k: u16) -> u16 {
    CONSTANT + k
}

/// Assembles a hand-written program, resolving `cst(k)` code addresses to the word where
/// `assemble` puts constant `k` (right after the text).
pub fn build(prog: &[Instruction], constants: &[[u8; 32]]) -> Vec<u8> {
    let text_words = prog.len().div_ceil(4) as u16;
    let resolved: Vec<Instruction> = prog
        .iter()
        .map(|i| match i.src {
            Src::Code if i.imm0 >= CONSTANT => i.imms(text_words + i.imm0 - CONSTANT, i.imm1),
            _ => *i,
        })
        .collect();
    assemble(&resolved, constants)
}

/// `add code[k], r0, rN` (k absolute, or `cst(k)` in hand-written programs)
pub fn load_const(r: u8, k: u16) -> Instruction {
    ins(Op::Add, Src::Code, Dst::Reg, NONE).regs(0, 0, r, 0).imms(k, 0)
}

/// `add code[k], r0, rN`: constant `k` of a program of `len` instructions (absolute address).
pub fn konst(r: u8, len: usize, k: usize) -> Instruction {
    load_const(r, (len.div_ceil(4) + k) as u16)
}

/// A return ABI word: a new slice [start, start+len) of the heap (source 0) or aux heap (2).
pub fn abi(start: u32, len: u32, source: u8) -> [u8; 32] {
    U256::from_limbs([0, ((len as u64) << 32) | start as u64, 0, (source as u64) << 32]).to_be_bytes::<32>()
}

/// A far-call ABI word: a new slice [start, start+len) of the heap (source 0), aux heap (2),
/// or a forwarded pointer (1); ergs to pass; the system-call flag.
pub fn call_abi(start: u32, len: u32, source: u8, ergs: u32, system: bool) -> [u8; 32] {
    let settings = source as u64 | (system as u64) << 24;
    U256::from_limbs([0, ((len as u64) << 32) | start as u64, 0, ergs as u64 | settings << 32]).to_be_bytes::<32>()
}

/// High bits that turn a pointer into a forwarding ABI word under `ptr.pack`.
pub fn forward_bits() -> [u8; 32] {
    U256::from_limbs([0, 0, 0, 1 << 32]).to_be_bytes::<32>()
}

/// High bits of a forwarding far-call ABI word (for `ptr.pack` onto a pointer): ergs to
/// pass, forward mode, the system-call flag.
pub fn forward_call_bits(ergs: u32, system: bool) -> [u8; 32] {
    let settings = 1u64 | (system as u64) << 24;
    U256::from_limbs([0, 0, 0, ergs as u64 | settings << 32]).to_be_bytes::<32>()
}

pub fn ret_with(op: Op, r: u8) -> Instruction {
    reg(op).regs(r, 0, 0, 0)
}

/// A far call of kind `op` (with `modifiers`: static, shard).
pub fn far(op: Op, modifiers: Modifiers) -> Instruction {
    ins(op, Src::Reg, Dst::Reg, modifiers)
}

pub fn sload(key: u8, dst: u8) -> Instruction {
    reg(Op::StorageRead).regs(key, 0, dst, 0)
}

pub fn sstore(key: u8, value: u8) -> Instruction {
    reg(Op::StorageWrite).regs(key, value, 0, 0)
}

pub fn tload(key: u8, dst: u8) -> Instruction {
    reg(Op::TransientStorageRead).regs(key, 0, dst, 0)
}

pub fn tstore(key: u8, value: u8) -> Instruction {
    reg(Op::TransientStorageWrite).regs(key, value, 0, 0)
}

/// `event` or `to_l1` (`op`), with `.i` when `first`.
pub fn log(op: Op, key: u8, value: u8, first: bool) -> Instruction {
    ins(op, Src::Reg, Dst::Reg, if first { Modifiers::FIRST } else { NONE }).regs(key, value, 0, 0)
}

/// `st [imm]`, the value in `r`.
pub fn store(addr: u16, r: u8) -> Instruction {
    ins(Op::HeapWrite, Src::Imm, Dst::Reg, NONE).regs(0, r, 0, 0).imms(addr, 0)
}

/// `ld [imm]` (or the aux heap's) into `r`.
pub fn load(op: Op, addr: u16, r: u8) -> Instruction {
    ins(op, Src::Imm, Dst::Reg, NONE).regs(0, 0, r, 0).imms(addr, 0)
}

pub fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

/// An address as a code word.
pub fn address_word(a: Address) -> [u8; 32] {
    a.to_word().to_be_bytes::<32>()
}

/// A precompile-call ABI word: input offset and length, output offset and length, the
/// pages to read and write (0: the frame's heap), the precompile's own word.
pub fn precompile_abi(input: (u32, u32), output: (u32, u32), pages: (u32, u32), aux: u64) -> [u8; 32] {
    word(U256::from_limbs([
        input.0 as u64 | (input.1 as u64) << 32,
        output.0 as u64 | (output.1 as u64) << 32,
        pages.0 as u64 | (pages.1 as u64) << 32,
        aux,
    ]))
}

/// A kernel address (below 2^16).
pub const fn low(n: u16) -> Address {
    let mut a = [0u8; 20];
    a[18] = (n >> 8) as u8;
    a[19] = n as u8;
    Address(a)
}

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    // Not an iterator: an endless stream is all a generator wants.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}
