//! The seeded generator: program `i` of campaign `S` comes from its own seed
//! ([`program_seed`]), so any program can be rebuilt from the seed a report names.

use crate::encode::{self, auipc, lui, BRANCHES, EBREAK, FENCE, FENCE_I, IMM_OPS, LOADS, REG_OPS, STORES};
use crate::program::{Item, Program, DATA_BASE, DATA_LEN, SLOTS, TEXT_BASE};

/// splitmix64's finalizer.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Program `index`'s own seed in campaign `seed`.
pub fn program_seed(seed: u64, index: u64) -> u64 {
    mix(seed ^ mix(index))
}

/// A small deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn word(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.word() % n
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Operand values at the edges of RV32 arithmetic: zero, one, minus one, INT_MIN,
/// INT_MAX, shift amounts at and past 32, and their neighbours.
pub const EDGE_VALUES: [u32; 16] = [
    0,
    1,
    0xffff_ffff,
    0x8000_0000,
    0x7fff_ffff,
    2,
    31,
    32,
    33,
    63,
    0xffff_ffe0,
    0x8000_0001,
    0xffff_fffe,
    0x0000_ffff,
    0xffff_8000,
    0x0000_0800,
];

/// Encodings illegal both on our RV32IM hart and on qemu's `rv32` CPU with C, F, D, A and
/// the B extensions disabled ([`crate::qemu::CPU`]): all-zero and all-one words, RV64 and
/// reserved load/store widths, reserved branch and `jalr` funct3, unknown funct7s of OP,
/// `slli` with shamt bit 5 (RV64 only), float, atomic and custom opcodes, and a CSR that
/// exists in neither (0x7c0 is custom machine-level: U-mode may not touch it on qemu, and our
/// hart has none).
pub const ILLEGAL: [u32; 16] = [
    0x0000_0000,
    0xffff_ffff,
    0x0002_b283, // ld t0, 0(t0)
    0x0002_e283, // lwu t0, 0(t0)
    0x0002_f283, // load funct3 7
    0x0052_b023, // sd t0, 0(t0)
    0x0000_2063, // branch funct3 2
    0x0000_3063, // branch funct3 3
    0x0000_10e7, // jalr funct3 1
    0x0420_02b3, // OP funct7 0x02
    0xfe00_02b3, // OP funct7 0x7f
    0x0202_9293, // slli t0, t0, 32 (shamt[5])
    0x0000_0053, // fadd.s
    0x1002_a2af, // lr.w
    0x0000_000b, // custom-0
    0x7c00_22f3, // csrrs t0, 0x7c0, x0
];

/// Unmapped in both machines: low memory (qemu maps nothing below its text, our memory
/// starts at 0x8000_0000) and just past our 4 MiB (qemu maps nothing there either).
const UNMAPPED: [(u32, u32); 2] = [(0, 0x1_0000), (0x8040_0000, 0x1_0000)];

struct Gen {
    rng: Rng,
    reserved: u8,
}

impl Gen {
    fn value(&mut self) -> u32 {
        match self.rng.below(4) {
            0 | 1 => self.rng.pick(&EDGE_VALUES),
            2 => self.rng.word() as u32,
            _ => (self.rng.below(64) as u32).wrapping_sub(32),
        }
    }

    /// Any register, as a source.
    fn src(&mut self) -> u8 {
        self.rng.below(32) as u8
    }

    /// A destination other than the reserved register (x0 now and then).
    fn dst(&mut self) -> u8 {
        loop {
            let r = if self.rng.chance(1, 40) { 0 } else { 1 + self.rng.below(31) as u8 };
            if r != self.reserved {
                return r;
            }
        }
    }

    /// A destination that is neither x0, the reserved register nor `avoid`.
    fn dst_nonzero(&mut self, avoid: u8) -> u8 {
        loop {
            let r = 1 + self.rng.below(31) as u8;
            if r != self.reserved && r != avoid {
                return r;
            }
        }
    }

    fn imm12(&mut self) -> i32 {
        match self.rng.below(4) {
            0 => self.rng.pick(&[0, 1, -1, 2047, -2048, 31, 32]),
            1 => self.rng.below(64) as i32 - 32,
            _ => (self.rng.below(4096) as i32) - 2048,
        }
    }

    /// An ALU instruction (register or immediate form, shifts, `lui`, `auipc`) writing `rd`.
    fn alu(&mut self, rd: u8) -> u32 {
        match self.rng.below(20) {
            0..=9 => {
                let (f7, f3, _) = self.rng.pick(&REG_OPS);
                encode::r(f7, self.src(), self.src(), f3, rd, 0x33)
            }
            10..=14 => {
                let (f3, _) = self.rng.pick(&IMM_OPS);
                let imm = self.imm12();
                encode::i(imm, self.src(), f3, rd, 0x13)
            }
            15..=17 => {
                let shamt = self.rng.below(32) as i32;
                let (f3, hi) = self.rng.pick(&[(1, 0), (5, 0), (5, 0x400)]);
                encode::i(hi | shamt, self.src(), f3, rd, 0x13)
            }
            18 => lui(rd, if self.rng.chance(1, 2) { self.value() } else { self.rng.word() as u32 }),
            _ => auipc(rd, self.rng.word() as u32),
        }
    }

    /// An address in the data region for an access of `width` bytes: aligned three times
    /// in four, any byte otherwise.
    fn data_addr(&mut self, width: u32) -> u32 {
        let off = self.rng.below(u64::from(DATA_LEN - width + 1)) as u32;
        let off = if width > 1 && self.rng.chance(3, 4) { off & !(width - 1) } else { off };
        DATA_BASE + off
    }

    fn unmapped(&mut self) -> u32 {
        let (lo, len) = self.rng.pick(&UNMAPPED);
        lo + self.rng.below(u64::from(len)) as u32
    }

    fn load(&mut self, addr: u32, f3: u32) -> Item {
        let imm = self.imm12();
        Item::Load { f3, rd: self.dst(), base: self.dst_nonzero(0), addr, imm }
    }

    fn store(&mut self, addr: u32, f3: u32) -> Item {
        let imm = self.imm12();
        Item::Store { f3, rs2: self.src(), base: self.dst_nonzero(0), addr, imm }
    }

    fn skip(&mut self) -> u32 {
        if self.rng.chance(1, 4) {
            0
        } else {
            self.rng.below(6) as u32
        }
    }

    /// Items that never fault (in the configuration with misaligned data supported).
    fn items(&mut self, out: &mut Vec<Item>) {
        match self.rng.below(100) {
            0..=34 => {
                let rd = self.dst();
                out.push(Item::Insn(self.alu(rd)));
            }
            35..=42 => {
                let rd = self.dst();
                let value = self.value();
                out.push(Item::Li { rd, value });
            }
            43..=48 => {
                // Division and multiplication at the edges: INT_MIN / -1, x / 0, ...
                let (a, b) = (self.dst_nonzero(0), self.dst_nonzero(0));
                let pairs = [(0x8000_0000, 0xffff_ffff), (1, 0), (0xffff_ffff, 0), (0, 0), (0x7fff_ffff, 0xffff_ffff)];
                let (va, vb) = self.rng.pick(&pairs);
                out.push(Item::Li { rd: a, value: va });
                out.push(Item::Li { rd: b, value: vb });
                let (f7, f3, _) = self.rng.pick(&REG_OPS[10..]);
                let rd = self.dst();
                out.push(Item::Insn(encode::r(f7, b, a, f3, rd, 0x33)));
            }
            49..=61 => {
                let (f3, width, _) = self.rng.pick(&LOADS);
                let addr = self.data_addr(width);
                out.push(self.load(addr, f3));
            }
            62..=72 => {
                let (f3, width, _) = self.rng.pick(&STORES);
                let addr = self.data_addr(width);
                out.push(self.store(addr, f3));
            }
            73..=74 => {
                // Loads from the text (the prologue: 62 words at TEXT_BASE).
                let (f3, width, _) = self.rng.pick(&LOADS);
                let addr = TEXT_BASE + self.rng.below(u64::from(248 - width)) as u32;
                out.push(self.load(addr, f3));
            }
            75..=83 => {
                let (f3, _) = self.rng.pick(&BRANCHES);
                let skip = self.skip();
                out.push(Item::Branch { f3, rs1: self.src(), rs2: self.src(), skip, misalign: false });
            }
            84..=87 => {
                let skip = self.skip();
                out.push(Item::Jal { rd: self.dst(), skip, misalign: false });
            }
            88..=91 => {
                let skip = self.skip();
                let low = self.rng.pick(&[0, 0, 1]);
                out.push(Item::Jalr { rd: self.dst(), rt: self.dst_nonzero(0), skip, low });
            }
            92..=95 => {
                let counter = self.dst_nonzero(0);
                let count = 1 + self.rng.below(8) as u32;
                let body = (0..1 + self.rng.below(5)).map(|_| {
                    let rd = self.dst_nonzero(counter);
                    self.alu(rd)
                });
                let body = body.collect();
                out.push(Item::Loop { counter, count, body });
            }
            96 => out.push(Item::Insn(FENCE)),
            97 => out.push(Item::Insn(FENCE_I)),
            _ => {
                let rd = self.dst();
                out.push(Item::Insn(self.alu(rd)));
            }
        }
    }

    /// One deliberately faulting item (it faults when reached).
    fn fault(&mut self) -> Item {
        match self.rng.below(9) {
            0 | 1 => Item::Insn(self.rng.pick(&ILLEGAL)),
            2 => Item::Insn(EBREAK),
            3 => {
                let (f3, ..) = self.rng.pick(&LOADS);
                let addr = self.unmapped();
                self.load(addr, f3)
            }
            4 => {
                let (f3, ..) = self.rng.pick(&STORES);
                let addr = self.unmapped();
                self.store(addr, f3)
            }
            5 => Item::Jal { rd: self.dst(), skip: self.skip(), misalign: true },
            6 => {
                let (f3, _) = self.rng.pick(&BRANCHES);
                Item::Branch { f3, rs1: self.src(), rs2: self.src(), skip: self.skip(), misalign: true }
            }
            7 => {
                let low = self.rng.pick(&[2, 3]);
                Item::Jalr { rd: self.dst(), rt: self.dst_nonzero(0), skip: self.skip(), low }
            }
            _ => {
                let addr = self.unmapped() & !3;
                Item::JumpAbs { rd: self.dst(), rt: self.dst_nonzero(0), addr }
            }
        }
    }
}

/// The program of a program seed: 1 to 60 items, a fault item in one program in
/// twelve, our machine trapping on misaligned data in one in sixteen.
pub fn program(program_seed: u64) -> Program {
    let mut rng = Rng::new(program_seed);
    let reserved = 1 + rng.below(31) as u8;
    let mut g = Gen { rng, reserved };
    let mut init = [0u32; 32];
    for v in init.iter_mut().skip(1) {
        *v = g.value();
    }
    let mut data = vec![0u8; DATA_LEN as usize];
    for w in data.chunks_mut(4) {
        let v = if g.rng.chance(1, 4) { g.rng.pick(&EDGE_VALUES) } else { g.rng.word() as u32 };
        w.copy_from_slice(&v.to_le_bytes());
    }
    let n = 1 + g.rng.below(60) as usize;
    let mut items = Vec::new();
    while items.len() < n {
        g.items(&mut items);
    }
    let faulting = g.rng.chance(1, 12);
    if faulting {
        let at = g.rng.below(items.len() as u64 + 1) as usize;
        let fault = g.fault();
        items.insert(at, fault);
    }
    let misaligned_access = !g.rng.chance(1, 16);
    Program { init, reserved, data, items, slot: 0, faulting, misaligned_access }
}

/// Program `index` of campaign `seed`, in slot `index % SLOTS`.
pub fn campaign_program(seed: u64, index: u64) -> Program {
    let mut p = program(program_seed(seed, index));
    p.slot = (index % u64::from(SLOTS)) as u32;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_reproducible_and_load() {
        for i in 0..200 {
            let s = program_seed(3, i);
            let p = program(s);
            assert_eq!(p, program(s));
            let elf = p.elf();
            let m = ee_riscv::Machine::from_elf(&elf, ee_riscv::Config::riscv_tests()).expect("loads");
            assert_eq!(m.pc(), TEXT_BASE);
            for item in &p.items {
                match item {
                    Item::Li { rd, .. } | Item::Load { rd, .. } => assert_ne!(*rd, p.reserved),
                    Item::Loop { counter, count, .. } => assert!(*counter != p.reserved && *count >= 1),
                    _ => {}
                }
            }
        }
    }
}
