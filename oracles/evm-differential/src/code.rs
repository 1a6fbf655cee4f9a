//! Stack-aware EVM bytecode generation: a contract body is a stream of snippets, each pushing
//! the arguments its opcode needs (interesting values: 0, 1, 2^255, the maximum, addresses of
//! the case's contracts and of precompiles) or reusing what the stack holds, with forward
//! JUMP/JUMPI to real JUMPDESTs, calls of every kind into the case's contracts, precompile calls
//! with valid and invalid inputs, CREATE/CREATE2 of generated init code, storage patterns for
//! refunds, transient storage, logs, memory expansion, return data, and a terminator.

use crate::crypto;
use crate::rng::Rng;

/// What the code of a case may refer to.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Index into [`crate::FORKS`] (0 Berlin … 6 Osaka).
    pub fork: usize,
    /// The contracts of the case (callable, with code).
    pub contracts: Vec<[u8; 20]>,
    /// Other addresses: the sender, EOAs, empty and delegated accounts, predicted CREATE addresses.
    pub others: Vec<[u8; 20]>,
}

pub const SHANGHAI: usize = 3;
pub const CANCUN: usize = 4;
pub const PRAGUE: usize = 5;
pub const OSAKA: usize = 6;

/// The precompiles a fork has (addresses as numbers).
pub fn precompiles(fork: usize) -> Vec<u16> {
    let mut p: Vec<u16> = (1..=9).collect();
    if fork >= CANCUN {
        p.push(0x0a);
    }
    if fork >= PRAGUE {
        p.extend(0x0b..=0x11);
    }
    if fork >= OSAKA {
        p.push(0x100);
    }
    p
}

/// Bytecode under construction: labels (JUMPDESTs and data blobs) patched at the end.
#[derive(Default)]
struct Asm {
    code: Vec<u8>,
    labels: Vec<Option<usize>>,
    /// (position of a PUSH2 operand, label)
    fixups: Vec<(usize, usize)>,
    blobs: Vec<(usize, Vec<u8>)>,
    depth: usize,
}

impl Asm {
    fn op(&mut self, op: u8, pops: usize, pushes: usize) {
        self.code.push(op);
        self.depth = self.depth.saturating_sub(pops) + pushes;
    }

    fn push(&mut self, v: &[u8], push0: bool) {
        let v = crypto::trim(v);
        if v.is_empty() {
            if push0 {
                self.code.push(0x5f);
            } else {
                self.code.extend([0x60, 0]);
            }
        } else {
            self.code.push(0x5f + v.len() as u8);
            self.code.extend_from_slice(v);
        }
        self.depth += 1;
    }

    fn new_label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
        self.code.push(0x5b);
    }

    fn push_label(&mut self, label: usize) {
        self.code.push(0x61);
        self.fixups.push((self.code.len(), label));
        self.code.extend([0, 0]);
        self.depth += 1;
    }

    fn blob(&mut self, data: Vec<u8>) -> usize {
        let l = self.new_label();
        self.blobs.push((l, data));
        l
    }

    fn finish(self) -> Vec<u8> {
        self.finish_parts().0
    }

    /// The code and where its data blobs begin.
    fn finish_parts(mut self) -> (Vec<u8>, usize) {
        let code_len = self.code.len();
        for (label, data) in std::mem::take(&mut self.blobs) {
            self.labels[label] = Some(self.code.len());
            self.code.extend(data);
        }
        for (pos, label) in &self.fixups {
            let at = self.labels[*label].unwrap_or(0) as u16;
            self.code[*pos..*pos + 2].copy_from_slice(&at.to_be_bytes());
        }
        (self.code, code_len)
    }
}

fn word_u64(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Generates one piece of code (a contract body, runtime or init code).
pub struct Gen<'a> {
    rng: &'a mut Rng,
    world: &'a World,
    asm: Asm,
    /// 0 for a pre-state contract, 1 for init code, 2 for its runtime (no deeper creates).
    nesting: u32,
    pending: Vec<usize>,
}

impl<'a> Gen<'a> {
    pub fn new(rng: &'a mut Rng, world: &'a World, nesting: u32) -> Gen<'a> {
        Gen { rng, world, asm: Asm::default(), nesting, pending: Vec::new() }
    }

    fn push(&mut self, v: &[u8]) {
        let push0 = self.world.fork >= SHANGHAI && self.rng.chance(1, 2);
        self.asm.push(v, push0);
    }

    fn push_u(&mut self, v: u64) {
        self.push(&word_u64(v));
    }

    /// Pushes the arguments last first, so the first is on top.
    fn args(&mut self, args: &[Vec<u8>]) {
        for a in args.iter().rev() {
            self.push(a);
        }
    }

    /// An interesting word.
    pub fn value(&mut self) -> Vec<u8> {
        let r = self.rng.below(16);
        match r {
            0 => vec![0],
            1 => vec![1],
            2 => vec![2],
            3 => {
                let mut w = vec![0u8; 32];
                w[0] = 0x80;
                w
            }
            4 => vec![0xff; 32],
            5 => {
                let mut w = vec![0xff; 32];
                w[31] = 0xfe;
                w
            }
            6 => self.address().to_vec(),
            7 => word_u64(self.rng.range(0, 300)),
            8 => vec![0x20],
            9 => {
                let mut w = vec![0u8; 32];
                w[0] = 0x7f;
                w[1..].fill(0xff);
                w
            }
            10 => word_u64(1 << self.rng.range(0, 63)),
            11 => vec![31],
            12 => {
                let n = self.rng_len(32);
                self.rng.bytes(n)
            }
            13 => word_u64(self.rng.next_u64()),
            _ => self.rng.word().to_vec(),
        }
    }

    fn rng_len(&mut self, max: u64) -> usize {
        self.rng.range(1, max) as usize
    }

    /// A memory offset: mostly small, sometimes an expansion, rarely an out-of-gas one.
    fn offset(&mut self) -> Vec<u8> {
        match self.rng.below(20) {
            0..=5 => word_u64(32 * self.rng.below(8)),
            6..=13 => word_u64(self.rng.below(256)),
            14..=17 => word_u64(self.rng.below(2048)),
            18 => word_u64(self.rng.below(20_000)),
            _ if self.rng.chance(1, 20) => self.value(),
            _ => word_u64(self.rng.below(64)),
        }
    }

    fn size(&mut self) -> Vec<u8> {
        match self.rng.below(20) {
            0..=3 => vec![0],
            4..=7 => vec![32],
            8..=15 => word_u64(self.rng.below(100)),
            16..=18 => word_u64(self.rng.below(1024)),
            _ if self.rng.chance(1, 20) => self.value(),
            _ => word_u64(self.rng.below(64)),
        }
    }

    /// An address the code may touch.
    pub fn address(&mut self) -> [u8; 20] {
        let mut a = [0u8; 20];
        match self.rng.below(10) {
            0..=3 if !self.world.contracts.is_empty() => return *self.rng.pick(&self.world.contracts),
            4..=5 if !self.world.others.is_empty() => return *self.rng.pick(&self.world.others),
            6 => {
                let p = *self.rng.pick(&precompiles(OSAKA));
                a[18..].copy_from_slice(&p.to_be_bytes());
            }
            7 => a[19] = self.rng.range(0x12, 0xff) as u8,
            8 => a = self.rng.bytes(20).try_into().unwrap(),
            _ => {
                return *self
                    .rng
                    .pick(&self.world.contracts.iter().chain(&self.world.others).copied().collect::<Vec<_>>())
            }
        }
        a
    }

    fn gas_arg(&mut self) -> Option<Vec<u8>> {
        Some(match self.rng.below(12) {
            0 => vec![0],
            1 => word_u64(1),
            2 => word_u64(2300),
            3 => word_u64(self.rng.range(100, 5000)),
            4 | 5 => word_u64(self.rng.range(5000, 60_000)),
            6 => vec![0xff; 32],
            7 => word_u64(u64::MAX),
            _ => return None, // GAS
        })
    }

    /// One snippet.
    fn snippet(&mut self) {
        // Place a pending forward label now and then.
        if !self.pending.is_empty() && self.rng.chance(1, 3) {
            let l = self.pending.remove(0);
            self.asm.place(l);
        }
        if self.asm.depth > 600 {
            for _ in 0..self.rng.range(1, 10) {
                self.asm.op(0x50, 1, 0);
            }
        }
        match self.rng.below(100) {
            0..=17 => self.arith(),
            18..=25 => self.env(),
            26..=31 => self.copy(),
            32..=39 => self.memory(),
            40..=49 => self.storage(),
            50..=53 => self.log(),
            54..=65 => self.call(),
            66..=72 => self.precompile_call(),
            73..=78 => self.create(),
            79..=84 => self.jump(),
            85..=91 => self.stack_op(),
            92..=95 => self.returndata(),
            96 => self.raw_op(),
            _ => self.conditional_end(),
        }
    }

    fn arith(&mut self) {
        const OPS: [(u8, usize); 27] = [
            (0x01, 2),
            (0x02, 2),
            (0x03, 2),
            (0x04, 2),
            (0x05, 2),
            (0x06, 2),
            (0x07, 2),
            (0x08, 3),
            (0x09, 3),
            (0x0a, 2),
            (0x0b, 2),
            (0x10, 2),
            (0x11, 2),
            (0x12, 2),
            (0x13, 2),
            (0x14, 2),
            (0x15, 1),
            (0x16, 2),
            (0x17, 2),
            (0x18, 2),
            (0x19, 1),
            (0x1a, 2),
            (0x1b, 2),
            (0x1c, 2),
            (0x1d, 2),
            (0x1e, 1),
            (0x0a, 2),
        ];
        let (mut op, n) = *self.rng.pick(&OPS);
        if op == 0x1e && self.world.fork < OSAKA && self.rng.chance(9, 10) {
            op = 0x19; // NOT: CLZ is an invalid opcode before Osaka
        }
        if self.asm.depth < n || self.rng.chance(1, 2) {
            let args: Vec<Vec<u8>> = (0..n).map(|_| self.value()).collect();
            self.args(&args);
        }
        self.asm.op(op, n, 1);
    }

    fn env(&mut self) {
        const ZERO: [u8; 21] = [
            0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x4a, 0x58,
            0x59, 0x5a, 0x5a,
        ];
        match self.rng.below(3) {
            0 => {
                let mut op = *self.rng.pick(&ZERO);
                if op == 0x4a && self.world.fork < CANCUN && self.rng.chance(9, 10) {
                    op = 0x5a;
                }
                self.asm.op(op, 0, 1);
            }
            1 => {
                let a = self.address().to_vec();
                self.push(&a);
                let op = *self.rng.pick(&[0x31, 0x3b, 0x3f]);
                self.asm.op(op, 1, 1);
            }
            _ => {
                let (op, arg) = match self.rng.below(3) {
                    0 => (0x35, self.offset()),
                    1 => (0x40, word_u64(self.rng.below(4))),
                    _ if self.world.fork >= CANCUN || self.rng.chance(1, 10) => (0x49, word_u64(self.rng.below(8))),
                    _ => (0x35, self.offset()),
                };
                self.push(&arg);
                self.asm.op(op, 1, 1);
            }
        }
    }

    fn copy(&mut self) {
        match self.rng.below(5) {
            0..=1 => {
                let op = *self.rng.pick(&[0x37, 0x39]);
                let args = [self.offset(), self.offset(), self.size()];
                self.args(&args);
                self.asm.op(op, 3, 0);
            }
            2 => {
                let args = [self.address().to_vec(), self.offset(), self.offset(), self.size()];
                self.args(&args);
                self.asm.op(0x3c, 4, 0);
            }
            3 if self.world.fork >= CANCUN || self.rng.chance(1, 10) => {
                let args = [self.offset(), self.offset(), self.size()];
                self.args(&args);
                self.asm.op(0x5e, 3, 0); // MCOPY
            }
            _ => {
                let args = [self.offset(), self.size()];
                self.args(&args);
                self.asm.op(0x20, 2, 1); // KECCAK256
            }
        }
    }

    fn memory(&mut self) {
        match self.rng.below(4) {
            0 | 1 => {
                let v = self.value();
                let off = self.offset();
                self.args(&[off, v]);
                let op = *self.rng.pick(&[0x52, 0x53]);
                self.asm.op(op, 2, 0);
            }
            2 => {
                let off = self.offset();
                self.push(&off);
                self.asm.op(0x51, 1, 1);
            }
            _ => self.asm.op(0x59, 0, 1),
        }
    }

    fn storage(&mut self) {
        let key = if self.rng.chance(7, 8) { word_u64(self.rng.below(5)) } else { self.value() };
        let transient = self.rng.chance(1, 4) && (self.world.fork >= CANCUN || self.rng.chance(1, 10));
        if self.rng.chance(1, 3) {
            self.push(&key);
            self.asm.op(if transient { 0x5c } else { 0x54 }, 1, 1);
        } else {
            let v = match self.rng.below(5) {
                0 => vec![0],
                1 => vec![1],
                2 => vec![2],
                3 => self.value(),
                _ => word_u64(self.rng.below(4)),
            };
            self.args(&[key, v]);
            self.asm.op(if transient { 0x5d } else { 0x55 }, 2, 0);
        }
    }

    fn log(&mut self) {
        let n = self.rng.below(5) as usize;
        let mut args = vec![self.offset(), self.size()];
        for _ in 0..n {
            args.push(self.value());
        }
        self.args(&args);
        self.asm.op(0xa0 + n as u8, 2 + n, 0);
    }

    /// CALL/CALLCODE/DELEGATECALL/STATICCALL with `input` of memory.
    fn call_to(&mut self, target: Vec<u8>, args_off: Vec<u8>, args_size: Vec<u8>) {
        let op = *self.rng.pick(&[0xf1, 0xf1, 0xf1, 0xf2, 0xf4, 0xfa, 0xfa]);
        let ret_off = self.offset();
        let ret_size = if self.rng.chance(1, 2) { word_u64(32 * self.rng.below(4)) } else { self.size() };
        let mut args = vec![target, args_off, args_size, ret_off, ret_size];
        if op == 0xf1 || op == 0xf2 {
            let value = match self.rng.below(6) {
                0..=2 => vec![0],
                3 => word_u64(1),
                4 => word_u64(self.rng.below(1_000_000)),
                _ => self.value(),
            };
            args.insert(1, value);
        }
        self.args(&args);
        match self.gas_arg() {
            Some(g) => self.push(&g),
            None => self.asm.op(0x5a, 0, 1),
        }
        let pops = args.len() + 1;
        self.asm.op(op, pops, 1);
        if self.rng.chance(1, 2) {
            self.asm.op(0x50, 1, 0);
        }
    }

    fn call(&mut self) {
        let target = self.address().to_vec();
        let off = self.offset();
        let size = self.size();
        self.call_to(target, off, size);
    }

    /// Copies `data` from this code into memory at a small offset; (offset, size) words.
    fn data_to_memory(&mut self, data: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
        let len = data.len() as u64;
        let off = word_u64(32 * self.rng.below(4));
        let label = self.asm.blob(data);
        self.push_u(len);
        self.asm.push_label(label);
        self.push(&off);
        self.asm.op(0x39, 3, 0);
        (off, word_u64(len))
    }

    fn precompile_call(&mut self) {
        let fork = if self.rng.chance(7, 8) { self.world.fork } else { OSAKA };
        let p = *self.rng.pick(&precompiles(fork));
        let input = precompile_input(self.rng, p);
        let (off, mut size) = self.data_to_memory(input);
        if self.rng.chance(1, 10) {
            size = self.size();
        }
        let mut a = [0u8; 20];
        a[18..].copy_from_slice(&p.to_be_bytes());
        self.call_to(a.to_vec(), off, size);
        if self.rng.chance(1, 2) {
            self.returndata();
        }
    }

    fn create(&mut self) {
        if self.nesting >= 2 {
            return self.storage();
        }
        let init = init_code(self.rng, self.world, self.nesting + 1);
        let (off, mut size) = self.data_to_memory(init);
        match self.rng.below(30) {
            0 => size = word_u64(49_153), // EIP-3860: above the init-code limit from Shanghai
            1 => size = word_u64(49_152),
            _ => {}
        }
        let value = match self.rng.below(4) {
            0 | 1 => vec![0],
            2 => word_u64(1),
            _ => self.value(),
        };
        if self.rng.chance(1, 2) {
            self.args(&[value, off, size]);
            self.asm.op(0xf0, 3, 1);
        } else {
            let salt = word_u64(self.rng.below(3));
            self.args(&[value, off, size, salt]);
            self.asm.op(0xf5, 4, 1);
        }
        match self.rng.below(3) {
            0 => self.asm.op(0x50, 1, 0),
            1 => {
                // Call what was created (or 0 on failure).
                let off = self.offset();
                let size = self.size();
                let gas = word_u64(self.rng.range(0, 50_000));
                self.args(&[off.clone(), size.clone(), off, size]);
                self.asm.op(0x84, 0, 1); // DUP5: the address
                self.push(&gas);
                self.asm.op(0xfa, 6, 1);
            }
            _ => {}
        }
    }

    fn jump(&mut self) {
        match self.rng.below(10) {
            0..=6 => {
                // Forward JUMPI (or JUMP) to a JUMPDEST placed later.
                let l = self.asm.new_label();
                if self.rng.chance(3, 4) {
                    let cond = if self.asm.depth > 0 && self.rng.chance(1, 2) { None } else { Some(self.value()) };
                    if let Some(c) = cond {
                        self.push(&c);
                    }
                    self.asm.push_label(l);
                    self.asm.op(0x57, 2, 0);
                } else {
                    self.asm.push_label(l);
                    self.asm.op(0x56, 1, 0);
                }
                self.pending.push(l);
            }
            7 => {
                // A jump to a non-JUMPDEST: halts.
                // (PUSH3, so that every PUSH2 before a jump is a label.)
                let t = self.rng.below(self.asm.code.len() as u64 + 2) as u16;
                self.asm.code.extend([0x62, 0]);
                self.asm.code.extend(t.to_be_bytes());
                self.asm.depth += 1;
                self.asm.op(0x56, 1, 0);
            }
            8 => {
                // A short backward loop on a counter in memory slot 0x3e0: bounded by the counter or gas.
                let l = self.asm.new_label();
                let n = self.rng.range(1, 5);
                self.push_u(n);
                self.push_u(0x3e0);
                self.asm.op(0x52, 2, 0);
                self.asm.place(l);
                self.storage();
                self.push_u(1);
                self.push_u(0x3e0);
                self.asm.op(0x51, 1, 1);
                self.asm.op(0x03, 2, 1); // counter - 1
                self.asm.op(0x80, 1, 2);
                self.push_u(0x3e0);
                self.asm.op(0x52, 2, 0);
                self.asm.push_label(l);
                self.asm.op(0x57, 2, 0);
            }
            _ => {
                // JUMPI not taken / taken on a stack value.
                self.asm.op(0x58, 0, 1);
                let l = self.asm.new_label();
                self.asm.push_label(l);
                self.asm.op(0x57, 2, 0);
                self.asm.place(l);
            }
        }
    }

    fn stack_op(&mut self) {
        let d = self.asm.depth;
        match self.rng.below(3) {
            0 if d >= 1 => self.asm.op(0x50, 1, 0),
            1 if d >= 1 => {
                let n = self.rng.range(1, d.min(16) as u64) as u8;
                self.asm.op(0x7f + n, 0, 1);
            }
            2 if d >= 2 => {
                let n = self.rng.range(1, (d - 1).min(16) as u64) as u8;
                self.asm.op(0x8f + n, 0, 0);
            }
            _ => {
                let v = self.value();
                self.push(&v);
            }
        }
    }

    fn returndata(&mut self) {
        if self.rng.chance(1, 3) {
            self.asm.op(0x3d, 0, 1);
        } else if self.rng.chance(7, 8) {
            // All of it: RETURNDATACOPY(dest, 0, RETURNDATASIZE).
            self.asm.op(0x3d, 0, 1);
            self.push_u(0);
            let dest = self.offset();
            self.push(&dest);
            self.asm.op(0x3e, 3, 0);
        } else {
            let off = if self.rng.chance(3, 4) { word_u64(self.rng.below(40)) } else { self.value() };
            let size = if self.rng.chance(3, 4) { word_u64(self.rng.below(40)) } else { self.size() };
            let dest = self.offset();
            self.args(&[dest, off, size]);
            self.asm.op(0x3e, 3, 0);
        }
    }

    fn raw_op(&mut self) {
        // Any byte: an undefined opcode halts; a PUSH swallows what follows.
        let b = self.rng.below(256) as u8;
        self.asm.code.push(b);
    }

    /// A JUMPI over a terminator: ends the frame only on some paths.
    fn conditional_end(&mut self) {
        let l = self.asm.new_label();
        self.asm.op(0x5a, 0, 1);
        let g = self.rng.range(1000, 200_000);
        self.push_u(g);
        self.asm.op(0x10, 2, 1); // LT: enough gas left
        self.asm.push_label(l);
        self.asm.op(0x57, 2, 0);
        self.terminator();
        self.asm.place(l);
    }

    fn terminator(&mut self) {
        match self.rng.below(12) {
            0..=2 => self.asm.op(0x00, 0, 0),
            3..=5 => {
                let args = [self.offset(), self.size()];
                self.args(&args);
                self.asm.op(0xf3, 2, 0);
            }
            6 | 7 => {
                let args = [self.offset(), self.size()];
                self.args(&args);
                self.asm.op(0xfd, 2, 0);
            }
            8 => self.asm.op(0xfe, 0, 0),
            9 | 10 => {
                let a = self.address().to_vec();
                self.push(&a);
                self.asm.op(0xff, 1, 0);
            }
            _ => {}
        }
    }

    /// A body of `snippets` snippets and a terminator.
    pub fn body(self, snippets: usize) -> Vec<u8> {
        self.body_parts(snippets).0
    }

    /// [`Gen::body`] and where its data (init code, precompile inputs) begins.
    pub fn body_parts(mut self, snippets: usize) -> (Vec<u8>, usize) {
        for _ in 0..snippets {
            self.snippet();
        }
        for l in std::mem::take(&mut self.pending) {
            self.asm.place(l);
        }
        self.terminator();
        self.asm.finish_parts()
    }
}

/// A contract's code.
pub fn contract(rng: &mut Rng, world: &World) -> Vec<u8> {
    let n = rng.range(5, 40) as usize;
    Gen::new(rng, world, 0).body(n)
}

/// Init code: a few snippets, then (mostly) returning runtime code, else one of the deployment
/// edge cases (0xEF prefix, 24,576 / 24,577 bytes, revert, empty, self-destruct).
pub fn init_code(rng: &mut Rng, world: &World, nesting: u32) -> Vec<u8> {
    let prefix_len = rng.below(6) as usize;
    let mut g = Gen::new(rng, world, nesting);
    for _ in 0..prefix_len {
        g.snippet();
    }
    for l in std::mem::take(&mut g.pending) {
        g.asm.place(l);
    }
    match g.rng.below(20) {
        0..=11 => {
            let n = g.rng.range(0, 8) as usize;
            let runtime = Gen::new(g.rng, world, nesting + 1).body(n);
            let (off, size) = g.data_to_memory(runtime);
            g.args(&[off, size]);
            g.asm.op(0xf3, 2, 0);
        }
        12 => {
            g.push_u(0xef);
            g.push_u(0);
            g.asm.op(0x53, 2, 0);
            let n = g.rng.range(1, 3);
            g.push_u(n);
            g.push_u(0);
            g.asm.op(0xf3, 2, 0);
        }
        13 => {
            let n = *g.rng.pick(&[24_576u64, 24_577]);
            g.push_u(n);
            g.push_u(0);
            g.asm.op(0xf3, 2, 0);
        }
        14..=15 => {
            let args = [g.offset(), g.size()];
            g.args(&args);
            g.asm.op(0xfd, 2, 0);
        }
        16 => g.asm.op(0x00, 0, 0),
        17 => {
            let a = g.address().to_vec();
            g.push(&a);
            g.asm.op(0xff, 1, 0);
        }
        _ => g.terminator(),
    }
    g.asm.finish()
}

/// A precompile's input: valid and edge inputs for each, some random.
pub fn precompile_input(rng: &mut Rng, p: u16) -> Vec<u8> {
    fn word(v: u64) -> [u8; 32] {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&v.to_be_bytes());
        w
    }
    if rng.chance(1, 12) {
        let n = rng.below(300) as usize;
        return rng.bytes(n);
    }
    const G1X: u64 = 1;
    const G1Y: u64 = 2;
    // BN254's field modulus minus 2: the y of -G1.
    let neg_g1_y = hex::decode("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45").unwrap();
    match p {
        1 => {
            let valid = crypto::ecrecover_inputs();
            let mut v = rng.pick(valid).clone();
            match rng.below(6) {
                0 => v[63] = 29,
                1 => v[96..].fill(0),
                2 => v[0] ^= 1,
                3 => v.truncate(rng.below(128) as usize),
                _ => {}
            }
            v
        }
        2..=4 => {
            let n = rng.below(200) as usize;
            rng.bytes(n)
        }
        5 => {
            let lens = [0u64, 1, 2, 31, 32, 33, 64, 65, 1024, 1025];
            let (b, e, m) = (*rng.pick(&lens), *rng.pick(&lens), *rng.pick(&lens));
            let e = if rng.chance(1, 10) { u64::MAX } else { e };
            let mut v = [word(b), word(e), word(m)].concat();
            let body = (b.min(70) + e.min(70) + m.min(70)) as usize;
            let k = rng.below(body as u64 + 1) as usize;
            v.extend(rng.bytes(k));
            v
        }
        6 => {
            let g = [word(G1X), word(G1Y)].concat();
            let neg: Vec<u8> = [word(G1X).to_vec(), neg_g1_y].concat();
            let zero = vec![0u8; 64];
            let pts = [g.clone(), neg, zero, [word(1), word(3)].concat()];
            [rng.pick(&pts).clone(), rng.pick(&pts).clone()].concat()
        }
        7 => {
            let g = [word(G1X), word(G1Y)].concat();
            let pts = [g, vec![0u8; 64], [word(5), word(7)].concat()];
            let k = [word(0).to_vec(), word(1).to_vec(), word(2).to_vec(), vec![0xff; 32], rng.bytes(32)];
            [rng.pick(&pts).clone(), rng.pick(&k).clone()].concat()
        }
        8 => match rng.below(4) {
            0 => Vec::new(),
            1 => vec![0u8; 192],
            2 => vec![0u8; 191],
            _ => [word(G1X).to_vec(), word(G1Y).to_vec(), vec![0u8; 128]].concat(),
        },
        9 => {
            let rounds = *rng.pick(&[0u32, 1, 2, 12, 30]);
            let mut v = rounds.to_be_bytes().to_vec();
            v.extend(rng.bytes(64 + 128 + 16));
            v.push(*rng.pick(&[0u8, 1, 1, 2]));
            if rng.chance(1, 8) {
                v.pop();
            }
            v
        }
        0x0a => {
            let mut v = rng.pick(crypto::point_evaluation_inputs()).clone();
            match rng.below(8) {
                // A valid opening with z or y changed: a well-formed proof that does not verify.
                0 => v[32 + rng.below(64) as usize] ^= 1,
                // A commitment that does not match the versioned hash.
                1 => v[1] ^= 1,
                // A proof with a changed coordinate byte (off the curve or the subgroup), a wrong length.
                2 => v[150] ^= 0x80,
                3 => v.truncate(191),
                4 => {
                    v = rng.bytes(192);
                    v[0] = 0x01;
                }
                _ => {}
            }
            v
        }
        0x0b..=0x11 => {
            let unit = match p {
                0x0b => 256,
                0x0c => 160,
                0x0d => 512,
                0x0e => 288,
                0x0f => 384,
                0x10 => 64,
                _ => 128,
            };
            let k = if matches!(p, 0x0c | 0x0e | 0x0f) { rng.range(0, 2) as usize } else { 1 };
            let mut v = vec![0u8; unit * k];
            match rng.below(4) {
                0 => {}
                1 => {
                    // Field elements below the modulus (top byte < 0x1a), rarely on the curve.
                    for chunk in v.chunks_mut(64) {
                        if chunk.len() == 64 {
                            chunk[16] = rng.below(0x1a) as u8;
                            let r = rng.bytes(47);
                            chunk[17..].copy_from_slice(&r);
                        }
                    }
                }
                2 => {
                    v.pop();
                }
                _ => {
                    let r = rng.bytes(v.len());
                    v.copy_from_slice(&r);
                }
            }
            v
        }
        _ => {
            let valid = crypto::p256_inputs();
            let mut v = rng.pick(valid).clone();
            match rng.below(4) {
                0 => v[0] ^= 1,
                1 => v.truncate(159),
                _ => {}
            }
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the code as the EVM does: (position, opcode) of each instruction.
    fn instructions(code: &[u8]) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        let mut pc = 0;
        while pc < code.len() {
            out.push((pc, code[pc]));
            pc += if (0x60..=0x7f).contains(&code[pc]) { code[pc] as usize - 0x5e } else { 1 };
        }
        out
    }

    #[test]
    fn push2_jump_targets_are_jumpdests() {
        let world = World { fork: OSAKA, contracts: vec![[0x10; 20], [0x11; 20]], others: vec![[0x20; 20]] };
        let (mut targets_checked, mut misses) = (0, 0);
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let (code, code_len) = Gen::new(&mut rng, &world, 0).body_parts(20);
            let ins = instructions(&code[..code_len]);
            for w in ins.windows(2) {
                let ((pc, op), (_, next)) = (w[0], w[1]);
                // A PUSH2 label feeding JUMP/JUMPI directly.
                if op == 0x61 && (next == 0x56 || next == 0x57) {
                    let target = u16::from_be_bytes([code[pc + 1], code[pc + 2]]) as usize;
                    // A random byte (raw_op) may make a PUSH2 of its own, rarely.
                    misses += usize::from(code.get(target) != Some(&0x5b));
                    targets_checked += 1;
                }
            }
        }
        assert!(targets_checked > 50, "{targets_checked}");
        assert!(misses * 100 <= targets_checked, "{misses} of {targets_checked}");
    }

    #[test]
    fn every_precompile_gets_inputs() {
        let mut rng = Rng::new(3);
        for p in precompiles(OSAKA) {
            let lens: Vec<usize> = (0..20).map(|_| precompile_input(&mut rng, p).len()).collect();
            assert!(lens.iter().any(|&l| l > 0), "{p:#x}");
        }
    }
}
