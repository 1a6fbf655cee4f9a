//! The EraVM machine, one far frame at a time: registers, flags, the frame's stack, heap and
//! aux heap, ergs, near-call frames; instructions dispatched on [`Instruction::op`].
//!
//! Semantics follow `zksync_vm2` 0.5.0, the executor Era runs (read, not copied), and are
//! checked instruction by instruction against it (`tests/vm2_differential.rs`). Far calls
//! yield to whoever drives the frames (`far_call.rs`); the operations on the world (storage,
//! transient storage, events, L2→L1 logs, precompile calls, decommit) are in `world_ops.rs`.
//! What the machine does not execute (static memory) stops the run with
//! [`Status::Unsupported`] before anything is charged; the precompiles not implemented yet
//! (modexp, ecadd, ecmul, ecpairing) stop it after the call's price — never silently.

pub mod cost;
mod far_call;
pub mod precompiles;
mod stack;
pub mod world;
mod world_ops;

use std::sync::Arc;

use ee_api::{Address, U256};

pub use far_call::{kernel_address, CallMode, FarCall, FarReturn, ReturnKind};
pub use stack::{run_stack, StackOutcome};
pub use world::{is_kernel, CodeInfo, Event, L2ToL1Log, MemoryWorld, TxState, World};

use crate::decode::Instruction;
use crate::program::Program;
use crate::table::{Dst, Modifiers, Op, Src};

/// Memory page numbers as vm2 numbers them for the first frame: fat pointers carry the page,
/// so the numbers are observable in registers (r1's calldata pointer names page 1).
pub const CALLDATA_PAGE: u32 = 1;
pub const HEAP_PAGE: u32 = 2;
pub const AUX_HEAP_PAGE: u32 = 3;

/// Heap bound a new user frame gets for free (`NEW_FRAME_MEMORY_STIPEND`, 4 KiB), and a
/// kernel frame (`NEW_KERNEL_FRAME_MEMORY_STIPEND`, 2 MiB). Growth past it costs ergs.
pub const USER_HEAP_STIPEND: u32 = 1 << 12;
pub const KERNEL_HEAP_STIPEND: u32 = 1 << 21;

/// The highest heap address a 32-byte access may start at (vm2: `u32::MAX - 32`); a larger
/// address (or any high bit set) panics and burns all ergs.
const LAST_ADDRESS: u32 = u32::MAX - 32;

/// Stack slots: addresses are u16, so the stack is a flat array of 2^16 words.
const STACK_SLOTS: usize = 1 << 16;

/// Flag bits, the index into [`crate::Cond::truth_table`].
const LT: u8 = 1;
const EQ: u8 = 2;
const GT: u8 = 4;

/// [`crate::Cond::truth_table`] of each condition, by its encoding: the hot loop tests a
/// condition with one load instead of recomputing the table.
const TRUTH_TABLES: [u8; 8] = {
    let mut t = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        t[i] = crate::Cond::ALL[i].truth_table();
        i += 1;
    }
    t
};

/// [`cost::static_cost`] by `Op` index, `NO_PRICE` where it is `None` (and past the last
/// `Op`): the hot loop pays one load instead of a jump table.
const NO_PRICE: u32 = u32::MAX;
static STATIC_COSTS: [u32; 256] = {
    let mut t = [NO_PRICE; 256];
    let mut i = 0;
    while i < crate::table::VARIANTS.len() {
        let op = crate::table::VARIANTS[i].op;
        if let Some(c) = cost::static_cost(op) {
            t[op as usize] = c;
        }
        i += 1;
    }
    t
};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `ret` from the frame.
    Success,
    /// `rev` from the frame; the return data is the revert payload.
    Revert,
    /// `pnc`, an invalid opcode, out of ergs, an out-of-range heap address, a bad return
    /// pointer.
    Panic,
    /// The step limit was reached.
    StepLimit,
    /// A far call: the frame is suspended; [`Machine::take_far_call`] says what to run, and
    /// [`Machine::finish_far_call`] resumes the frame with the callee's result.
    FarCall,
    /// An operation this machine does not execute yet (at the pc reported in the outcome).
    Unsupported(Op),
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// Return or revert data; empty on panic.
    pub return_data: Vec<u8>,
    /// Where the return data lives (page, start), for the caller's fat pointer; `None` on
    /// panic.
    pub returned_at: Option<(u32, u32)>,
    /// Ergs of the frame when it ended.
    pub ergs_left: u32,
    /// Instructions executed, skipped (condition false) ones included.
    pub instructions: u64,
    /// The pc of the last instruction looked at (the unsupported one, for `Unsupported`).
    pub pc: u16,
}

/// One executed instruction and the state right after it, in the shape of the oracle's
/// trace so the differential can compare field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The instruction's pc; `None` for vm2's synthetic panic that follows a heap access
    /// out of range (it executes outside the program).
    pub pc: Option<u16>,
    /// Ergs after the static cost (0 when it could not be paid).
    pub ergs_before: u32,
    pub registers: [U256; 16],
    pub pointer_flags: u16,
    /// (lt, eq, gt)
    pub flags: (bool, bool, bool),
    pub sp: u16,
    pub ergs_after: u32,
}

/// How the frame is entered.
#[derive(Clone, Debug)]
pub struct Entry {
    pub ergs: u32,
    /// The calldata bytes: the slice `[calldata_start, calldata_start + len)` of page
    /// `calldata_page` (the caller's memory, or page 1 for a transaction's entry frame).
    pub calldata: Vec<u8>,
    pub calldata_page: u32,
    pub calldata_start: u32,
    /// Kernel frames (addresses below 2^16) see pointer metadata and get the larger stipend.
    pub is_kernel: bool,
    /// `this`: whose storage the frame acts on.
    pub address: Address,
    /// Whose code runs (differs from `address` in a delegate call).
    pub code_address: Address,
    /// `msg.sender`.
    pub caller: Address,
    /// The frame's `context_u128` (`msg.value` as the callee sees it).
    pub context_u128: u128,
    /// State changes panic (a static far call, or inside one).
    pub is_static: bool,
    /// The frame's heap and aux heap pages.
    pub heap_page: u32,
    pub aux_page: u32,
    /// Registers r2..r15 at entry: r2 holds the call flags (bit 0 constructor, bit 1 system
    /// call), a system call keeps r3..r12 of its caller; none is a pointer. r1 is always the
    /// calldata pointer.
    pub registers: [U256; 16],
}

impl Entry {
    /// A user frame at `address` called by `caller` with no value: the first frame of a
    /// transaction, on pages 1 (calldata), 2 (heap) and 3 (aux heap), as vm2 numbers them.
    pub fn user(address: Address, caller: Address, ergs: u32, calldata: Vec<u8>) -> Entry {
        Entry {
            ergs,
            calldata,
            calldata_page: CALLDATA_PAGE,
            calldata_start: 0,
            is_kernel: is_kernel(&address),
            address,
            code_address: address,
            caller,
            context_u128: 0,
            is_static: false,
            heap_page: HEAP_PAGE,
            aux_page: AUX_HEAP_PAGE,
            registers: [U256::ZERO; 16],
        }
    }
}

/// A fat pointer's low 128 bits: offset, page, start, length (32 bits each).
fn pointer(offset: u32, page: u32, start: u32, length: u32) -> U256 {
    U256::from_limbs([offset as u64 | (page as u64) << 32, start as u64 | (length as u64) << 32, 0, 0])
}

/// An address as a word: the 20 bytes in the low end.
fn address_word(a: &Address) -> U256 {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    U256::from_be_bytes(w)
}

/// A byte-addressed heap page and its paid-for bound. The bytes grow lazily: unwritten
/// bytes inside the bound read as zero.
#[derive(Debug, Default)]
struct Memory {
    bytes: Vec<u8>,
    bound: u32,
}

impl Memory {
    fn read(&self, addr: u32) -> U256 {
        let mut word = [0u8; 32];
        let a = addr as usize;
        if a < self.bytes.len() {
            let n = (self.bytes.len() - a).min(32);
            word[..n].copy_from_slice(&self.bytes[a..a + n]);
        }
        U256::from_be_bytes(word)
    }

    fn write(&mut self, addr: u32, value: U256) {
        let a = addr as usize;
        if self.bytes.len() < a + 32 {
            self.bytes.resize(a + 32, 0);
        }
        self.bytes[a..a + 32].copy_from_slice(&value.to_be_bytes::<32>());
    }

    fn range(&self, start: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0u8; len as usize];
        let s = start as usize;
        if s < self.bytes.len() {
            let n = (self.bytes.len() - s).min(out.len());
            out[..n].copy_from_slice(&self.bytes[s..s + n]);
        }
        out
    }
}

/// A near call in progress: what its return restores.
#[derive(Clone, Copy, Debug)]
struct NearFrame {
    return_pc: u16,
    exception_handler: u16,
    sp: u16,
    /// The caller's ergs minus what it passed.
    caller_ergs: u32,
    /// Where the transaction's journal stood: a revert or panic undoes what came after.
    checkpoint: usize,
}

/// A page this frame can read but does not own: its calldata, the return data of its
/// callees, decommitted code. Only the slice a pointer was made for is kept (`base` is its
/// start): pointers cannot be forged or widened, so nothing outside it is ever read.
#[derive(Clone, Debug)]
struct ForeignPage {
    id: u32,
    base: u32,
    bytes: Arc<[u8]>,
}

impl ForeignPage {
    fn range(&self, start: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0u8; len as usize];
        let from = start.saturating_sub(self.base) as usize;
        let skip = self.base.saturating_sub(start) as usize;
        if from < self.bytes.len() && skip < out.len() {
            let n = (self.bytes.len() - from).min(out.len() - skip);
            out[skip..skip + n].copy_from_slice(&self.bytes[from..from + n]);
        }
        out
    }
}

/// The state of one far frame.
pub struct Machine {
    program: Arc<Program>,
    /// r0..r15; r0 is never written, so it reads zero.
    regs: [U256; 16],
    /// Bit `i`: r`i` holds a fat pointer. A u32 though 16 bits are used: tested with 32-bit
    /// loads, a u16 field shared its word with `pc`, and the load then waited for two
    /// separate stores (a store-forwarding stall on every register read).
    ptr_tags: u32,
    /// lt | eq << 1 | gt << 2.
    flags: u8,
    pc: u16,
    sp: u16,
    ergs: u32,
    stack: Box<[U256]>,
    /// One bit per stack slot: the slot holds a fat pointer.
    stack_tags: Box<[u64]>,
    heap: Memory,
    aux: Memory,
    heap_page: u32,
    aux_page: u32,
    calldata_page: u32,
    /// Calldata first, then pages received from callees and decommits.
    foreign: Vec<ForeignPage>,
    near: Vec<NearFrame>,
    is_kernel: bool,
    is_static: bool,
    address: Address,
    code_address: Address,
    caller: Address,
    context_u128: u128,
    /// vm2 replaces the instruction after an out-of-range heap access by a panic costing
    /// [`cost::SPONTANEOUS_PANIC`]; set when that panic is due.
    spontaneous_panic: bool,
    /// The far call this frame is suspended on.
    pending: Option<FarCall>,
    /// The exception handler of the pending far call.
    far_handler: u16,
    /// Where the frame's return data lives (page, start), once it returned.
    returned_at: Option<(u32, u32)>,
}

/// Clears the parts of a fat pointer a user frame may not see (`erase_fat_pointer_metadata`:
/// the memory page and start, bits 32–95), keeping offset and length.
fn erase_pointer_metadata(v: U256) -> U256 {
    let mut l = *v.as_limbs();
    l[0] &= 0x0000_0000_ffff_ffff;
    l[1] &= 0xffff_ffff_0000_0000;
    U256::from_limbs(l)
}

/// Whether `v` is zero, OR-ing the limbs in registers: ruint's `is_zero` compares the limbs
/// as vectors, which on a result just written to the stack stalls on store forwarding.
#[inline(always)]
fn zero(v: &U256) -> bool {
    let l = v.as_limbs();
    (l[0] | l[1] | l[2] | l[3]) == 0
}

fn low_u32(v: &U256) -> u32 {
    v.as_limbs()[0] as u32
}

/// The full 512-bit product as (low, high).
fn widening_mul(a: &U256, b: &U256) -> (U256, U256) {
    let (a, b) = (a.as_limbs(), b.as_limbs());
    let mut r = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = a[i] as u128 * b[j] as u128 + r[i + j] as u128 + carry;
            r[i + j] = t as u64;
            carry = t >> 64;
        }
        r[i + 4] = carry as u64;
    }
    (U256::from_limbs([r[0], r[1], r[2], r[3]]), U256::from_limbs([r[4], r[5], r[6], r[7]]))
}

const fn flag_bits(lt: bool, eq: bool, gt: bool) -> u8 {
    (lt as u8) | ((eq as u8) << 1) | ((gt as u8) << 2)
}

impl Machine {
    /// A frame at pc 0 with `entry.ergs`, r1 a fat pointer to the calldata, r2.. as the
    /// entry says, sp 0, flags clear, heap bounds at the stipend.
    pub fn new(program: Arc<Program>, entry: Entry) -> Machine {
        let stipend = if entry.is_kernel { KERNEL_HEAP_STIPEND } else { USER_HEAP_STIPEND };
        let mut regs = entry.registers;
        regs[0] = U256::ZERO;
        // Fat pointer layout, low 128 bits: offset, page, start, length (32 bits each).
        regs[1] = pointer(0, entry.calldata_page, entry.calldata_start, entry.calldata.len() as u32);
        Machine {
            program,
            regs,
            ptr_tags: 1 << 1,
            flags: 0,
            pc: 0,
            sp: 0,
            ergs: entry.ergs,
            stack: vec![U256::ZERO; STACK_SLOTS].into_boxed_slice(),
            stack_tags: vec![0u64; STACK_SLOTS / 64].into_boxed_slice(),
            heap: Memory { bytes: Vec::new(), bound: stipend },
            aux: Memory { bytes: Vec::new(), bound: stipend },
            heap_page: entry.heap_page,
            aux_page: entry.aux_page,
            calldata_page: entry.calldata_page,
            foreign: vec![ForeignPage {
                id: entry.calldata_page,
                base: entry.calldata_start,
                bytes: Arc::from(entry.calldata),
            }],
            near: Vec::new(),
            is_kernel: entry.is_kernel,
            is_static: entry.is_static,
            address: entry.address,
            code_address: entry.code_address,
            caller: entry.caller,
            context_u128: entry.context_u128,
            spontaneous_panic: false,
            pending: None,
            far_handler: 0,
            returned_at: None,
        }
    }

    /// Sets a register before the run (r2 call flags, r3.. extra ABI words); never a pointer.
    pub fn set_register(&mut self, r: u8, value: U256) {
        if r != 0 {
            self.regs[r as usize] = value;
            self.ptr_tags &= !(1 << r);
        }
    }

    /// The frame's ergs now.
    pub fn ergs(&self) -> u32 {
        self.ergs
    }

    /// The bytes `[start, start + len)` of page `page` as this frame sees them (its heaps
    /// live, other pages as received); zeros where the frame has no bytes.
    pub fn read_page(&self, page: u32, start: u32, len: u32) -> Vec<u8> {
        if page == self.heap_page {
            self.heap.range(start, len)
        } else if page == self.aux_page {
            self.aux.range(start, len)
        } else {
            match self.foreign.iter().rev().find(|p| p.id == page) {
                Some(p) => p.range(start, len),
                None => vec![0; len as usize],
            }
        }
    }

    /// Runs to the end of the frame, a far call, or `step_limit` instructions.
    pub fn run(&mut self, world: &mut dyn World, tx: &mut TxState, step_limit: u64) -> Outcome {
        self.run_inner::<false>(world, tx, step_limit, &mut Vec::new())
    }

    /// Runs like [`Machine::run`], appending a [`Step`] per instruction to `trace`. A far
    /// call that yields records no step: its step shows the callee's first state, which
    /// whoever runs the callee records (see [`Machine::step`]).
    pub fn run_traced(
        &mut self,
        world: &mut dyn World,
        tx: &mut TxState,
        step_limit: u64,
        trace: &mut Vec<Step>,
    ) -> Outcome {
        self.run_inner::<true>(world, tx, step_limit, trace)
    }

    /// The frame's state as a trace step of the instruction at `pc`.
    pub fn step(&self, pc: Option<u16>, ergs_before: u32) -> Step {
        Step {
            pc,
            ergs_before,
            registers: self.regs,
            pointer_flags: self.ptr_tags as u16,
            flags: (self.flags & LT != 0, self.flags & EQ != 0, self.flags & GT != 0),
            sp: self.sp,
            ergs_after: self.ergs,
        }
    }

    fn outcome(&self, status: Status, return_data: Vec<u8>, instructions: u64, pc: u16) -> Outcome {
        let returned_at = if matches!(status, Status::Success | Status::Revert) { self.returned_at } else { None };
        Outcome { status, return_data, returned_at, ergs_left: self.ergs, instructions, pc }
    }

    /// Charges `amount`; when the frame cannot pay, its ergs drop to zero (vm2 `use_gas`).
    #[inline(always)]
    fn use_ergs(&mut self, amount: u32) -> bool {
        if self.ergs >= amount {
            self.ergs -= amount;
            true
        } else {
            self.ergs = 0;
            false
        }
    }

    fn run_inner<const TRACE: bool>(
        &mut self,
        world: &mut dyn World,
        tx: &mut TxState,
        step_limit: u64,
        trace: &mut Vec<Step>,
    ) -> Outcome {
        let mut count = 0u64;
        // The program never changes during a run: held here, its decoded slots stay in a
        // register instead of being reloaded through `self` after every instruction.
        let program = self.program.clone();
        let instructions = program.instructions();
        loop {
            if count >= step_limit {
                return self.outcome(Status::StepLimit, Vec::new(), count, self.pc);
            }
            count += 1;
            if self.spontaneous_panic {
                self.spontaneous_panic = false;
                self.use_ergs(cost::SPONTANEOUS_PANIC);
                let before = self.ergs;
                let end = self.ret(Op::Panic, None, 0, world, tx);
                if TRACE {
                    trace.push(self.step(None, before));
                }
                if let Some(status) = end {
                    return self.finish(status, count);
                }
                continue;
            }
            let pc = self.pc;
            let ins = instructions.get(pc as usize).unwrap_or(&Instruction::INVALID);
            // An invalid opcode burns everything whatever its condition.
            let payable = match ins.op {
                Op::Invalid => {
                    self.ergs = 0;
                    false
                }
                // A kernel-only operation in a user frame is paid for, then panics whatever
                // its condition (vm2 checks the mode with the price, before the condition).
                op => match STATIC_COSTS[op as usize] {
                    NO_PRICE => return self.outcome(Status::Unsupported(op), Vec::new(), count - 1, pc),
                    c => {
                        self.use_ergs(c)
                            && (self.is_kernel || !op.requires_kernel())
                            && !(self.is_static && op.forbidden_in_static())
                    }
                },
            };
            let before = self.ergs;
            let end = if !payable {
                // vm2's "free panic": no further charge, through the panic path.
                self.ret(Op::Panic, None, 0, world, tx)
            } else if (TRUTH_TABLES[ins.cond as usize] >> self.flags) & 1 == 0 {
                self.pc = pc.wrapping_add(1);
                None
            } else {
                self.pc = pc.wrapping_add(1);
                match ins.op {
                    Op::FarCall | Op::FarCallDelegate | Op::FarCallMimic => {
                        let Err(callee_ergs) = self.far_call::<TRACE>(ins, pc, before, world, tx, trace) else {
                            return self.outcome(Status::FarCall, Vec::new(), count, pc);
                        };
                        // The failed call's panicking frame ran one instruction, unless the
                        // step limit falls on the call: vm2 then stops inside that frame and
                        // reports its ergs (the run ends here, so the frame's resumed state
                        // no longer matters).
                        if count >= step_limit {
                            if TRACE {
                                trace.pop();
                            }
                            let mut out = self.outcome(Status::StepLimit, Vec::new(), count, pc);
                            out.ergs_left = callee_ergs;
                            return out;
                        }
                        count += 1;
                        continue;
                    }
                    _ => self.execute(ins, world, tx),
                }
            };
            if TRACE {
                trace.push(self.step(Some(pc), before));
            }
            if let Some(status) = end {
                return self.finish(status, count);
            }
        }
    }

    fn finish(&mut self, end: (Status, Vec<u8>), count: u64) -> Outcome {
        self.outcome(end.0, end.1, count, self.pc)
    }

    #[inline(always)]
    fn set_reg(&mut self, r: u8, value: U256) {
        if r != 0 {
            self.regs[r as usize] = value;
            self.ptr_tags &= !(1 << r);
        }
    }

    /// A register as a value: a pointer's metadata is erased outside kernel mode.
    #[inline(always)]
    fn reg_value(&self, r: u8) -> U256 {
        let v = self.regs[r as usize];
        if self.ptr_tags & (1 << r) != 0 && !self.is_kernel {
            erase_pointer_metadata(v)
        } else {
            v
        }
    }

    /// `reg + imm` modulo 2^16: the address of the stack and code modes.
    #[inline(always)]
    fn address(&self, r: u8, imm: u16) -> u16 {
        (low_u32(&self.regs[r as usize]) as u16).wrapping_add(imm)
    }

    #[inline(always)]
    fn stack_tag(&self, slot: u16) -> bool {
        self.stack_tags[slot as usize / 64] >> (slot % 64) & 1 != 0
    }

    #[inline(always)]
    fn write_stack(&mut self, slot: u16, value: U256) {
        self.stack[slot as usize] = value;
        self.stack_tags[slot as usize / 64] &= !(1 << (slot % 64));
    }

    /// The first source operand as a value (pointer metadata erased outside kernel mode).
    #[inline(always)]
    fn read_src(&mut self, ins: &Instruction) -> U256 {
        let (v, ptr) = self.read_src_tagged(ins);
        if ptr && !self.is_kernel {
            erase_pointer_metadata(v)
        } else {
            v
        }
    }

    /// The first source operand as stored, with its pointer tag (immediates and code words
    /// are never pointers). `StackPop` lowers sp first and reads at the new sp.
    #[inline(always)]
    fn read_src_tagged(&mut self, ins: &Instruction) -> (U256, bool) {
        match ins.src {
            Src::Reg => (self.regs[ins.src0 as usize], self.ptr_tags & (1 << ins.src0) != 0),
            Src::Imm => (U256::from(ins.imm0), false),
            Src::Code => (self.program.code_word(self.address(ins.src0, ins.imm0)), false),
            Src::StackPop => {
                self.sp = self.sp.wrapping_sub(self.address(ins.src0, ins.imm0));
                (self.stack[self.sp as usize], self.stack_tag(self.sp))
            }
            Src::StackRel => {
                let a = self.sp.wrapping_sub(self.address(ins.src0, ins.imm0));
                (self.stack[a as usize], self.stack_tag(a))
            }
            Src::StackAbs => {
                let a = self.address(ins.src0, ins.imm0);
                (self.stack[a as usize], self.stack_tag(a))
            }
        }
    }

    /// Writes the first destination (clearing its pointer tag). `StackPush` writes at the
    /// old sp, then raises sp (vm2's `AdvanceStackPointer`).
    #[inline(always)]
    fn write_dst(&mut self, ins: &Instruction, value: U256) {
        self.write_dst_tagged(ins, value, false)
    }

    /// Writes the first destination with the given pointer tag.
    #[inline(always)]
    fn write_dst_tagged(&mut self, ins: &Instruction, value: U256, pointer: bool) {
        let slot = match ins.dst {
            Dst::Reg => {
                self.set_reg(ins.dst0, value);
                if pointer && ins.dst0 != 0 {
                    self.ptr_tags |= 1 << ins.dst0;
                }
                return;
            }
            Dst::StackPush => {
                let a = self.sp;
                self.sp = self.sp.wrapping_add(self.address(ins.dst0, ins.imm1));
                a
            }
            Dst::StackRel => self.sp.wrapping_sub(self.address(ins.dst0, ins.imm1)),
            Dst::StackAbs => self.address(ins.dst0, ins.imm1),
        };
        self.write_stack(slot, value);
        if pointer {
            self.stack_tags[slot as usize / 64] |= 1 << (slot % 64);
        }
    }

    /// Executes an instruction whose cost is paid and whose condition holds; `pc` already
    /// points past it. Returns the end of the frame, if it ended.
    fn execute(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) -> Option<(Status, Vec<u8>)> {
        match ins.op {
            Op::Nop => {
                if ins.src == Src::StackPop {
                    self.sp = self.sp.wrapping_sub(self.address(ins.src0, ins.imm0));
                }
                if ins.dst == Dst::StackPush {
                    self.sp = self.sp.wrapping_add(self.address(ins.dst0, ins.imm1));
                }
            }
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::And
            | Op::Or
            | Op::Xor
            | Op::Shl
            | Op::Shr
            | Op::Rol
            | Op::Ror => self.binop(ins),
            Op::Jump => {
                let target = low_u32(&self.read_src(ins)) as u16;
                self.set_reg(ins.dst0, U256::from(self.pc));
                self.pc = target;
            }
            Op::NearCall => {
                let passed = low_u32(&self.reg_value(ins.src0));
                let ergs = if passed == 0 { self.ergs } else { passed.min(self.ergs) };
                self.near.push(NearFrame {
                    return_pc: self.pc,
                    exception_handler: ins.imm1,
                    sp: self.sp,
                    caller_ergs: self.ergs - ergs,
                    checkpoint: tx.checkpoint(),
                });
                self.ergs = ergs;
                self.flags = 0;
                self.pc = ins.imm0;
            }
            Op::Ret | Op::Revert | Op::Panic => {
                let label = ins.has(Modifiers::TO_LABEL).then_some(ins.imm0);
                return self.ret(ins.op, label, ins.src0, world, tx);
            }
            // The frame's context into dst0 (a register): `ergs` reads what is left after
            // its own price; `meta` packs the heap bounds (bits 64–127) and, in kernel mode
            // only, the transaction's pubdata counter (bits 0–31, as u32); shard ids are 0.
            Op::This => self.set_reg(ins.dst0, address_word(&self.address)),
            Op::CodeAddress => self.set_reg(ins.dst0, address_word(&self.code_address)),
            Op::Caller => self.set_reg(ins.dst0, address_word(&self.caller)),
            Op::ErgsLeft => self.set_reg(ins.dst0, U256::from(self.ergs)),
            Op::Sp => self.set_reg(ins.dst0, U256::from(self.sp)),
            Op::GetContextU128 => self.set_reg(ins.dst0, U256::from(self.context_u128)),
            // Kernel only (checked before the condition). `ctx.set` stores the value the next
            // far call passes, not this frame's; `inctx` advances the transaction number and
            // clears transient storage (vm2's `start_new_tx`); `auxmut` does nothing.
            Op::SetContextU128 => {
                let l = self.reg_value(ins.src0);
                let l = l.as_limbs();
                tx.context_u128 = l[0] as u128 | (l[1] as u128) << 64;
            }
            Op::IncrementTxNumber => {
                tx.tx_number = tx.tx_number.wrapping_add(1);
                world.clear_transient();
                // What the transient writes replaced is gone; the journal keeps its length
                // (checkpoints are positions in it).
                for u in tx.journal.iter_mut().filter(|u| matches!(u, world::Undo::Transient(..))) {
                    *u = world::Undo::Cleared;
                }
            }
            Op::AuxMutating0 => {}
            Op::Meta => {
                let bounds = self.heap.bound as u64 | (self.aux.bound as u64) << 32;
                let pubdata = if self.is_kernel { tx.pubdata as u32 as u64 } else { 0 };
                self.set_reg(ins.dst0, U256::from_limbs([pubdata, bounds, 0, 0]));
            }
            Op::StorageRead => self.storage_read(ins, world, tx),
            Op::StorageWrite => self.storage_write(ins, world, tx),
            Op::TransientStorageRead => self.transient_read(ins, world),
            Op::TransientStorageWrite => self.transient_write(ins, world, tx),
            Op::Event | Op::ToL1Message => self.log(ins, world, tx),
            Op::Decommit => self.decommit(ins, world, tx),
            Op::PrecompileCall => {
                if !self.precompile_call(ins, tx) {
                    return Some((Status::Unsupported(Op::PrecompileCall), Vec::new()));
                }
            }
            Op::PtrAdd | Op::PtrSub | Op::PtrPack | Op::PtrShrink => self.ptr_op(ins),
            Op::FatPointerRead => self.load_pointer(ins),
            Op::HeapRead | Op::AuxHeapRead => self.load(ins),
            Op::HeapWrite | Op::AuxHeapWrite => self.store(ins),
            // `static_cost` admits only the operations above.
            op => return Some((Status::Unsupported(op), Vec::new())),
        }
        None
    }

    fn binop(&mut self, ins: &Instruction) {
        let a = self.read_src(ins);
        let b = self.reg_value(ins.src1);
        let (a, b) = if ins.has(Modifiers::SWAP) { (b, a) } else { (a, b) };
        let (result, second, flags) = match ins.op {
            Op::Add | Op::Sub => {
                let (r, overflow) = if ins.op == Op::Add { a.overflowing_add(b) } else { a.overflowing_sub(b) };
                (r, None, flag_bits(overflow, zero(&r), !overflow && !zero(&r)))
            }
            Op::Mul => {
                let (low, high) = widening_mul(&a, &b);
                (low, Some(high), flag_bits(!zero(&high), zero(&low), zero(&high) && !zero(&low)))
            }
            Op::Div => {
                if zero(&b) {
                    (U256::ZERO, Some(U256::ZERO), LT)
                } else {
                    let (q, r) = a.div_rem(b);
                    (q, Some(r), flag_bits(false, zero(&q), zero(&r)))
                }
            }
            _ => {
                let shift = (low_u32(&b) % 256) as usize;
                let r = match ins.op {
                    Op::And => a & b,
                    Op::Or => a | b,
                    Op::Xor => a ^ b,
                    Op::Shl => a << shift,
                    Op::Shr => a >> shift,
                    Op::Rol => a.rotate_left(shift),
                    _ => a.rotate_right(shift),
                };
                (r, None, flag_bits(false, zero(&r), false))
            }
        };
        self.write_dst(ins, result);
        // Two-output ops write dst1 after dst0. One-output ops leave dst1 alone, as vm2
        // 0.5.0 does (its divergence 1: the spec clears it); the differential avoids it.
        if let Some(second) = second {
            self.set_reg(ins.dst1, second);
        }
        if ins.has(Modifiers::SET_FLAGS) {
            self.flags = flags;
        }
    }

    /// A value operand as pointer ops see it: erased outside kernel mode, and its tag kept
    /// only in kernel mode (where a pointer there is an error).
    fn pointer_op_operand(&self, (v, ptr): (U256, bool)) -> (U256, bool) {
        if ptr && !self.is_kernel {
            (erase_pointer_metadata(v), false)
        } else {
            (v, ptr)
        }
    }

    /// `addp`, `subp` (offset ± a u32), `pack` (the pointer's low 128 bits under the other
    /// operand's high 128, which must have zero low bits), `shrnk` (length − a u32). The
    /// first operand (second with `.s`) must be a pointer and the other must not; a
    /// violation or an overflow is followed by vm2's panic. The result is a pointer.
    fn ptr_op(&mut self, ins: &Instruction) {
        let reg2 = (self.regs[ins.src1 as usize], self.ptr_tags & (1 << ins.src1) != 0);
        let ((a, a_ptr), (b, b_ptr)) = if ins.has(Modifiers::SWAP) {
            let src = self.read_src_tagged(ins);
            (reg2, self.pointer_op_operand(src))
        } else {
            let src = self.read_src_tagged(ins);
            (src, self.pointer_op_operand(reg2))
        };
        if !a_ptr || b_ptr {
            self.spontaneous_panic = true;
            return;
        }
        let mut l = *a.as_limbs();
        let b_low = b.as_limbs()[0] as u32;
        let offset = l[0] as u32;
        let result = match ins.op {
            Op::PtrAdd | Op::PtrSub => {
                let fits = b <= U256::from(u32::MAX);
                let new = if ins.op == Op::PtrAdd { offset.checked_add(b_low) } else { offset.checked_sub(b_low) };
                match new {
                    Some(o) if fits => {
                        l[0] = (l[0] & !0xffff_ffff) | o as u64;
                        Some(U256::from_limbs(l))
                    }
                    _ => None,
                }
            }
            Op::PtrPack => {
                let bl = b.as_limbs();
                (bl[0] == 0 && bl[1] == 0).then(|| U256::from_limbs([l[0], l[1], bl[2], bl[3]]))
            }
            _ => {
                let length = (l[1] >> 32) as u32;
                length.checked_sub(b_low).map(|len| {
                    l[1] = (l[1] & 0xffff_ffff) | (len as u64) << 32;
                    U256::from_limbs(l)
                })
            }
        };
        match result {
            Some(r) => self.write_dst_tagged(ins, r, true),
            None => self.spontaneous_panic = true,
        }
    }

    /// `ldp`: 32 bytes through a fat pointer (register src0, which must be a pointer) at
    /// start + offset, cut at the pointer's end (the rest reads zero); with `.inc` the
    /// pointer advanced by 32 goes to dst1, still a pointer.
    fn load_pointer(&mut self, ins: &Instruction) {
        let input = self.regs[ins.src0 as usize];
        if self.ptr_tags & (1 << ins.src0) == 0 {
            self.spontaneous_panic = true;
            return;
        }
        let l = input.as_limbs();
        let (offset, page, start, length) = (l[0] as u32, (l[0] >> 32) as u32, l[1] as u32, (l[1] >> 32) as u32);
        if offset > LAST_ADDRESS {
            self.spontaneous_panic = true;
            return;
        }
        let from = start.wrapping_add(offset.min(length));
        let to = from.saturating_add(32).min(start.wrapping_add(length));
        let n = to.saturating_sub(from);
        let bytes = self.read_page(page, from, n);
        let mut word = [0u8; 32];
        word[..bytes.len()].copy_from_slice(&bytes);
        self.set_reg(ins.dst0, U256::from_be_bytes(word));
        if ins.has(Modifiers::INCREMENT) && ins.dst1 != 0 {
            self.regs[ins.dst1 as usize] = input + U256::from(32);
            self.ptr_tags |= 1 << ins.dst1;
        }
    }

    /// A heap address operand: register (raw, its pointer tag ignored) or immediate.
    fn heap_address(&self, ins: &Instruction) -> U256 {
        if ins.src == Src::Imm {
            U256::from(ins.imm0)
        } else {
            self.regs[ins.src0 as usize]
        }
    }

    fn mem(&mut self, aux: bool) -> &mut Memory {
        if aux {
            &mut self.aux
        } else {
            &mut self.heap
        }
    }

    /// Raises the bound of the heap (or aux heap) to `bound`, paying one erg per new byte.
    fn grow(&mut self, aux: bool, bound: u32) -> bool {
        let current = self.mem(aux).bound;
        if let Some(to_pay) = bound.checked_sub(current) {
            if !self.use_ergs(to_pay * cost::GROWTH_PER_BYTE) {
                return false;
            }
            self.mem(aux).bound = bound;
        }
        true
    }

    /// Checks a heap address and grows the heap to cover 32 bytes from it; on failure the
    /// frame's ergs are gone (out-of-range address) or spent, and vm2's panic is due next.
    fn heap_access(&mut self, pointer: &U256, aux: bool) -> Option<u32> {
        let l = pointer.as_limbs();
        if l[0] > LAST_ADDRESS as u64 || l[1] != 0 || l[2] != 0 || l[3] != 0 {
            self.use_ergs(u32::MAX);
            self.spontaneous_panic = true;
            return None;
        }
        let addr = l[0] as u32;
        if !self.grow(aux, addr + 32) {
            self.spontaneous_panic = true;
            return None;
        }
        Some(addr)
    }

    fn load(&mut self, ins: &Instruction) {
        let aux = ins.op == Op::AuxHeapRead;
        let pointer = self.heap_address(ins);
        let Some(addr) = self.heap_access(&pointer, aux) else { return };
        let value = self.mem(aux).read(addr);
        self.set_reg(ins.dst0, value);
        if ins.has(Modifiers::INCREMENT) {
            self.set_reg(ins.dst1, pointer + U256::from(32));
        }
    }

    fn store(&mut self, ins: &Instruction) {
        let aux = ins.op == Op::AuxHeapWrite;
        let pointer = self.heap_address(ins);
        let value = self.reg_value(ins.src1);
        let Some(addr) = self.heap_access(&pointer, aux) else { return };
        self.mem(aux).write(addr, value);
        if ins.has(Modifiers::INCREMENT) {
            self.set_reg(ins.dst0, pointer + U256::from(32));
        }
    }

    /// `ret`/`rev`/`pnc` (and every panic): inside a near call, back to the caller (its
    /// sp, its ergs plus what is left, the return pc, the label, or the exception handler on
    /// failure) with flags (lt = panic); at the top, the end of the frame.
    fn ret(
        &mut self,
        kind: Op,
        label: Option<u16>,
        abi_reg: u8,
        world: &mut dyn World,
        tx: &mut TxState,
    ) -> Option<(Status, Vec<u8>)> {
        let leftover = self.ergs;
        if let Some(f) = self.near.pop() {
            if kind != Op::Ret {
                tx.rollback(f.checkpoint, Some(world));
            }
            self.sp = f.sp;
            self.ergs = f.caller_ergs + leftover;
            self.pc = match label {
                Some(l) => l,
                None if kind != Op::Ret => f.exception_handler,
                None => f.return_pc,
            };
            self.flags = if kind == Op::Panic { LT } else { 0 };
            return None;
        }
        if kind == Op::Panic {
            return Some((Status::Panic, Vec::new()));
        }
        match self.return_data(abi_reg) {
            Some(data) => Some((if kind == Op::Ret { Status::Success } else { Status::Revert }, data)),
            None => Some((Status::Panic, Vec::new())),
        }
    }

    /// The return data a top-level `ret`/`rev` names in its ABI register: the slice
    /// [`Machine::abi_slice`] makes, which in user mode may not point back into the
    /// calldata. `None` is a panic.
    fn return_data(&mut self, abi_reg: u8) -> Option<Vec<u8>> {
        let raw = self.regs[abi_reg as usize];
        let is_pointer = self.ptr_tags & (1 << abi_reg) != 0;
        let (page, start, length) = self.abi_slice(raw, is_pointer, false)?;
        if !self.is_kernel && page == self.calldata_page {
            return None;
        }
        self.returned_at = Some((page, start));
        Some(self.read_page(page, start, length))
    }

    /// The memory slice an ABI word names for a far call's calldata or a far return's data
    /// (vm2 `get_calldata`): byte 28 selects forwarding a fat pointer (1) or a new slice of
    /// the heap (0) or aux heap (2); a new slice grows its heap to the end. `None` is a
    /// failure: a forwarded non-pointer or offset past the length, a new slice from a
    /// pointer or with a non-zero offset (or when the call `already_failed`, checked after
    /// the bound), a slice past 2^32 (which still grows the heap to its limit), growth the
    /// frame cannot pay.
    fn abi_slice(&mut self, raw: U256, is_pointer: bool, already_failed: bool) -> Option<(u32, u32, u32)> {
        let l = raw.as_limbs();
        let (offset, page, start, length) = (l[0] as u32, (l[0] >> 32) as u32, l[1] as u32, (l[1] >> 32) as u32);
        match (l[3] >> 32) as u8 {
            1 => {
                if !is_pointer || offset > length {
                    return None;
                }
                Some((page, start.wrapping_add(offset), length - offset))
            }
            source => {
                let aux = source == 2;
                let Some(bound) = start.checked_add(length) else {
                    self.grow(aux, u32::MAX);
                    return None;
                };
                if is_pointer || offset != 0 || already_failed || !self.grow(aux, bound) {
                    return None;
                }
                Some((if aux { self.aux_page } else { self.heap_page }, start, length))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::assemble;
    use crate::table::{Dst, Modifiers, Op, Src};

    fn ins(op: Op, src: Src) -> Instruction {
        Instruction::new(op, src, Dst::Reg, Modifiers::NONE).unwrap()
    }

    /// What the vm2 differential cannot see (no far call or event reads them yet): the
    /// kernel-only setters' effects, and that a user frame panics on them after paying.
    #[test]
    fn context_setters_are_kernel_only_and_take_effect() {
        let code = assemble(
            &[
                ins(Op::Add, Src::Imm).regs(0, 0, 1, 0).imms(0x55, 0),
                ins(Op::SetContextU128, Src::Reg).regs(1, 0, 0, 0),
                ins(Op::IncrementTxNumber, Src::Reg),
                ins(Op::Ret, Src::Reg),
            ],
            &[],
        );
        let program = Arc::new(Program::new(&code).unwrap());
        let entry = Entry {
            ergs: 1000,
            calldata: vec![],
            is_kernel: true,
            ..Entry::user(Address([0; 20]), Address([0; 20]), 0, vec![])
        };
        let mut world = MemoryWorld::default();
        let mut tx = TxState::default();
        let mut kernel = Machine::new(program.clone(), entry.clone());
        assert_eq!(kernel.run(&mut world, &mut tx, 100).status, Status::Success);
        assert_eq!((tx.context_u128(), tx.tx_number()), (0x55, 1));

        let mut tx = TxState::default();
        let mut user = Machine::new(program, Entry { is_kernel: false, ..entry });
        let out = user.run(&mut world, &mut tx, 100);
        // add (6) and the setter's own price (5) are paid before the panic.
        assert_eq!((out.status, out.ergs_left, out.pc), (Status::Panic, 1000 - 6 - 5, 1));
        assert_eq!(tx.context_u128(), 0);
    }

    #[test]
    fn unsupported_operations_stop_before_charging() {
        let code = assemble(&[ins(Op::StaticMemoryRead, Src::Reg)], &[]);
        let program = Arc::new(Program::new(&code).unwrap());
        let mut m = Machine::new(program, Entry::user(Address([1; 20]), Address([2; 20]), 500, vec![]));
        let out = m.run(&mut MemoryWorld::default(), &mut TxState::default(), 10);
        assert_eq!(
            (out.status, out.ergs_left, out.instructions, out.pc),
            (Status::Unsupported(Op::StaticMemoryRead), 500, 0, 0)
        );
    }
}
