//! The interpreter frame: one `match` dispatch loop that runs until a
//! preemption point (a call, a deployment, or the frame's end).

use std::mem::MaybeUninit;
use std::sync::{Arc, OnceLock};

use ee_api::{
    Address, Bytecode, Bytes, CallInput, CallModifier, CallRequest, CallResult, CreateScheme, DeploymentRequest,
    DeploymentResult, ExitStatus, Fork, Frame, FrameOutcome, HaltReason, Host, LaunchParams, Log, Preemption, Step,
    B256, U256,
};

use crate::exp::exp;
use crate::gas::{memory_cost, sstore_cost};
use crate::modular::{add_mod, MulMod};
use crate::tables::{fork_index, op_name, OpInfo, OpTable, STACK_LIMIT};
use crate::MAX_INITCODE_SIZE;

/// Code padded with STOPs (so PUSH data and running off the end need no bounds
/// logic), its valid jump destinations and its basic blocks; computed once per code object.
pub(crate) struct Analysis {
    padded: Box<[u8]>,
    /// Per position `0..=code length`: the number of the basic block starting there (0 when
    /// none does), with [`JUMPDEST_BIT`] set at a valid jump destination. Four bytes per
    /// code byte, for every fork: a per-byte table of block costs (eight bytes per byte and
    /// fork) made a called 24 KiB contract cost 200 KiB, and a 2.9 MB init code run under
    /// four forks 92 MB.
    starts: Box<[u32]>,
    /// The first byte of each block by number (block 0 is none, see [`NO_BLOCK`]).
    block_starts: Box<[u32]>,
    /// Per fork (index in `Fork::ALL`; one code object can run under several forks), the
    /// cost of each block by number (see [`block_costs`]).
    blocks: [OnceLock<Box<[OpInfo]>>; Fork::ALL.len()],
}

/// Set in [`Analysis::starts`] at a JUMPDEST that is an instruction (not PUSH data).
const JUMPDEST_BIT: u32 = 1 << 31;

/// The cost of block number 0, given to every position where no block starts: its stack
/// check always fails, so entering it runs the code from there instruction by instruction.
const NO_BLOCK: OpInfo = OpInfo { gas: 0, min_stack: u16::MAX, stack_range: 0 };

impl Analysis {
    /// Blocks start at 0, at every JUMPDEST and after every instruction that ends a block
    /// but lets the run go on (JUMPI, GAS, SSTORE, the CALL and CREATE families): the
    /// interpreter enters blocks only there. Code after STOP, JUMP, RETURN, REVERT, INVALID
    /// or SELFDESTRUCT runs only from a JUMPDEST, so it starts no block of its own.
    fn new(code: &[u8]) -> Analysis {
        let mut padded = Vec::with_capacity(code.len() + 33);
        padded.extend_from_slice(code);
        padded.resize(code.len() + 33, 0);
        let mut starts = vec![0u32; code.len() + 1];
        let mut block_starts = vec![0u32, 0];
        starts[0] = 1;
        let mut begin_block = |starts: &mut [u32], at: usize| {
            if starts[at] & !JUMPDEST_BIT == 0 {
                starts[at] |= block_starts.len() as u32;
                block_starts.push(at as u32);
            }
        };
        let mut i = 0;
        while i < code.len() {
            // STOPs need nothing (no block starts after one), and init code is often mostly
            // zeros (CREATE of a large zeroed memory region): skip them 32 at a time.
            if let Some(chunk) = code.get(i..i + 32) {
                if chunk.iter().all(|&b| b == 0) {
                    i += 32;
                    continue;
                }
            }
            let op = code[i];
            if op == 0x5b {
                begin_block(&mut starts, i);
                starts[i] |= JUMPDEST_BIT;
            }
            i += 1 + push_len(op);
            if ends_block(op) && falls_through(op) && i <= code.len() {
                begin_block(&mut starts, i);
            }
        }
        Analysis {
            padded: padded.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            block_starts: block_starts.into_boxed_slice(),
            blocks: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    fn blocks(&self, fork: Fork, table: &OpTable) -> &[OpInfo] {
        self.blocks[fork_index(fork)].get_or_init(|| block_costs(self, table))
    }
}

/// The number of immediate bytes after `op` (PUSH1..PUSH32).
fn push_len(op: u8) -> usize {
    if (0x60..=0x7f).contains(&op) {
        (op - 0x5f) as usize
    } else {
        0
    }
}

/// Whether an instruction ends its basic block: it jumps, ends the frame, yields to the
/// bootloader, or reads the gas left (GAS, SSTORE's stipend check, the CALL and CREATE
/// families' 63/64 rule), which must then be exactly what a per-instruction charge would
/// leave. The same for every fork (an opcode a fork lacks makes its block fail its check).
fn ends_block(op: u8) -> bool {
    matches!(op, 0x00 | 0x55 | 0x56 | 0x57 | 0x5a | 0xf0..=0xff)
}

/// Whether the run can go on at the next instruction (all but STOP, JUMP, RETURN, REVERT,
/// INVALID and SELFDESTRUCT; an opcode no fork defines counts as going on, which only
/// starts a block that is never entered).
fn falls_through(op: u8) -> bool {
    !matches!(op, 0x00 | 0x56 | 0xf3 | 0xfd | 0xfe | 0xff)
}

/// The static gas and stack needs of every basic block, by block number. A block runs from
/// its start to the first instruction that [`ends_block`] or to the next JUMPDEST; running
/// off the code's end runs the padding's STOP. `gas` sums the instructions' table gas;
/// `min_stack ..= min_stack + stack_range` are the stack lengths at entry with which no
/// instruction of the block underflows or overflows. A block that cannot run at all (an
/// opcode this fork lacks, more pushes than the stack holds) costs [`NO_BLOCK`], so its
/// entry check always fails.
fn block_costs(analysis: &Analysis, table: &OpTable) -> Box<[OpInfo]> {
    let padded = &analysis.padded;
    let mut out = Vec::with_capacity(analysis.block_starts.len());
    out.push(NO_BLOCK);
    for &start in &analysis.block_starts[1..] {
        let mut i = start as usize;
        let (mut gas, mut height, mut lo, mut hi) = (0u64, 0i64, 0i64, STACK_LIMIT as i64);
        loop {
            let op = padded[i];
            let info = table[op as usize];
            gas += info.gas as u64;
            if info.valid() {
                lo = lo.max(info.min_stack as i64 - height);
                hi = hi.min(info.max_stack() as i64 - height);
                height += STACK_LIMIT as i64 - info.max_stack() as i64;
            } else {
                lo = i64::MAX;
            }
            i += 1 + push_len(op);
            if ends_block(op) || padded.get(i).is_none_or(|&next| next == 0x5b) {
                break;
            }
        }
        out.push(if lo > hi || lo >= u16::MAX as i64 {
            NO_BLOCK
        } else {
            OpInfo { gas: gas.min(u32::MAX as u64) as u32, min_stack: lo as u16, stack_range: (hi - lo) as u16 }
        });
    }
    out.into_boxed_slice()
}

/// Memory beyond this is refused (OutOfGas) even when the gas would pay for it.
const MEMORY_LIMIT: u64 = 1 << 34;
/// Taken jumps between polls of [`Host::interrupted`].
const INTERRUPT_JUMPS: u32 = 1024;

const SIGN_BIT: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);

/// The operand stack. Slots `..len` hold values; the others are uninitialized and never read:
/// a frame's stack is 32 KiB and most frames use a few slots, so zeroing it cost every call
/// about a microsecond, and buffers kept zeroed for reuse held every page resident.
struct Stack {
    data: Box<[MaybeUninit<U256>]>,
    len: usize,
}

/// Stack buffers kept per thread for the next frames (a few call depths' worth: a buffer holds
/// only the pages its frames touched, and taking one saves an allocation, not a zeroing).
const STACK_POOL_LEN: usize = 128;

thread_local! {
    static STACK_POOL: std::cell::RefCell<Vec<Box<[MaybeUninit<U256>]>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Stack {
    fn new() -> Stack {
        let data =
            STACK_POOL.with(|pool| pool.borrow_mut().pop()).unwrap_or_else(|| Box::new_uninit_slice(STACK_LIMIT));
        Stack { data, len: 0 }
    }
    #[inline(always)]
    fn pop(&mut self) -> U256 {
        self.len -= 1;
        load_word(self.data[self.len].as_ptr())
    }
    #[inline(always)]
    fn push(&mut self, v: U256) {
        self.data[self.len].write(v);
        self.len += 1;
    }
    #[inline(always)]
    fn top(&mut self) -> &mut U256 {
        // SAFETY: slots below `len` are initialized.
        unsafe { self.data[self.len - 1].assume_init_mut() }
    }
    /// The values, bottom first.
    fn values(&self) -> &[U256] {
        // SAFETY: slots below `len` are initialized; MaybeUninit<U256> has U256's layout.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr() as *const U256, self.len) }
    }
    /// The bottom slot, for the interpreter's pointer arithmetic (it reads only below `len`).
    fn base(&mut self) -> *mut U256 {
        self.data.as_mut_ptr() as *mut U256
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        if data.len() == STACK_LIMIT {
            STACK_POOL.with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < STACK_POOL_LEN {
                    pool.push(data);
                }
            });
        }
    }
}

impl Drop for EvmFrame {
    fn drop(&mut self) {
        let written = self.mem_len.min(self.memory.len());
        crate::memory::give(std::mem::take(&mut self.memory), written);
    }
}

/// Why the loop stopped without halting.
enum Exit {
    Done(ExitStatus, Bytes),
    Call(CallRequest),
    Deploy(DeploymentRequest),
}

type R<T> = Result<T, HaltReason>;

/// A U256 as u64, or `u64::MAX` when it does not fit.
#[inline(always)]
fn sat_u64(v: U256) -> u64 {
    let l = v.as_limbs();
    if (l[1] | l[2] | l[3]) != 0 {
        u64::MAX
    } else {
        l[0]
    }
}

#[inline(always)]
fn u64_or_oog(v: U256) -> R<u64> {
    let l = v.as_limbs();
    if (l[1] | l[2] | l[3]) != 0 {
        Err(HaltReason::OutOfGas)
    } else {
        Ok(l[0])
    }
}

/// Writes an instruction's result into its stack slot limb by limb. Results computed limb by
/// limb (carries, SIGNEXTEND's masks, ruint's division) sit in memory as four 8-byte stores;
/// copying them with 16-byte vector loads, as a plain assignment compiles to, cannot be
/// served from the store buffer and stalls (perf: ~30% of SIGNEXTEND's time). Used where
/// measured to pay: for all results it slowed the shift-heavy benchmarks by a few percent. Volatile
/// accesses keep the compiler from merging the limbs back into vector moves.
#[inline(always)]
fn store_word(dst: &mut U256, v: U256) {
    let src = v.as_limbs().as_ptr();
    let dst = dst as *mut U256 as *mut u64;
    for i in 0..4 {
        // SAFETY: both point to four limbs.
        unsafe { std::ptr::write_volatile(dst.add(i), std::ptr::read_volatile(src.add(i))) };
    }
}

/// Reads a stack word limb by limb. Words reach the stack as 8-byte stores (results computed
/// in registers), 16-byte ones (copies) or a mix (PUSH's byte swap); a 16-byte load that
/// spans two stores cannot be served from the store buffer and stalls, while an 8-byte load
/// inside any one store can. Volatile, so that the compiler does not merge the limbs back.
#[inline(always)]
fn load_word(src: *const U256) -> U256 {
    let src = src as *const u64;
    // SAFETY: `src` points to a live stack word: four limbs.
    unsafe {
        U256::from_limbs([
            std::ptr::read_volatile(src),
            std::ptr::read_volatile(src.add(1)),
            std::ptr::read_volatile(src.add(2)),
            std::ptr::read_volatile(src.add(3)),
        ])
    }
}

/// The offset of a `size`-byte memory access (MLOAD, MSTORE, MSTORE8) as a u64; out of gas
/// when the range cannot be paid for.
#[inline(always)]
fn word_offset(offset: U256, size: u64) -> R<u64> {
    let offset = u64_or_oog(offset)?;
    if offset > MEMORY_LIMIT - size {
        return Err(HaltReason::OutOfGas);
    }
    Ok(offset)
}

/// Why an instruction failed the table's stack check: an undefined opcode, else too few
/// items, else too many (the order go-ethereum reports them in).
#[cold]
#[inline(never)]
fn precheck_error(op: u8, info: OpInfo, len: usize) -> HaltReason {
    if !info.valid() {
        HaltReason::InvalidOpcode(op)
    } else if len < info.min_stack as usize {
        HaltReason::StackUnderflow
    } else {
        debug_assert!(len > info.max_stack());
        HaltReason::StackOverflow
    }
}

#[inline(always)]
fn words(len: usize) -> u64 {
    (len as u64).div_ceil(32)
}

fn bool_word(b: bool) -> U256 {
    if b {
        U256::from(1u8)
    } else {
        U256::ZERO
    }
}

/// `(offset, size)` of a memory operand as u64s, `(0, 0)` for a zero size
/// whatever the offset; out of gas when the range cannot be paid for.
#[inline(always)]
fn checked_range(offset: U256, size: U256) -> R<(u64, u64)> {
    if size.is_zero() {
        return Ok((0, 0));
    }
    let size = u64_or_oog(size)?;
    let offset = u64_or_oog(offset)?;
    if offset.checked_add(size).is_none_or(|end| end > MEMORY_LIMIT) {
        return Err(HaltReason::OutOfGas);
    }
    Ok((offset, size))
}

/// Copies `src[src_off..src_off + dst.len()]` into `dst`, zero-filling past the end of `src`.
fn copy_padded(dst: &mut [u8], src: &[u8], src_off: u64) {
    let start = (src_off.min(src.len() as u64)) as usize;
    let n = (src.len() - start).min(dst.len());
    dst[..n].copy_from_slice(&src[start..start + n]);
    dst[n..].fill(0);
}

fn negate(v: U256) -> U256 {
    v.wrapping_neg()
}

fn is_neg(v: U256) -> bool {
    v.bit(255)
}

fn abs(v: U256) -> U256 {
    if is_neg(v) {
        negate(v)
    } else {
        v
    }
}

/// The operands of a division as (numerator as u128, divisor as u64) when the numerator fits
/// in 128 bits and the divisor in 64 (not zero): fixed-point code divides by small constants,
/// and a native division beats ruint's general one, whose 16-byte reloads of limbs just
/// written (by `abs`) stall store forwarding (half of SDIV's time in the snailtracer benchmark).
#[inline(always)]
fn narrow_division(a: &U256, b: &U256) -> Option<(u128, u64)> {
    let [a0, a1, a2, a3] = *a.as_limbs();
    let [b0, b1, b2, b3] = *b.as_limbs();
    (b1 | b2 | b3 | a2 | a3 == 0 && b0 != 0).then_some(((a1 as u128) << 64 | a0 as u128, b0))
}

/// `k` when `b` is 2^k. Code that shifts with DIV and masks with MOD (pre-Constantinople
/// style, as in the sha1_divs benchmark) divides by powers of two; a shift or a mask skips
/// the division, and testing limb by limb skips ruint's popcount.
#[inline(always)]
fn power_of_two_exponent(b: &U256) -> Option<usize> {
    let [l0, l1, l2, l3] = *b.as_limbs();
    let nonzero_limbs = (l0 != 0) as u32 + (l1 != 0) as u32 + (l2 != 0) as u32 + (l3 != 0) as u32;
    let limb = l0 | l1 | l2 | l3;
    if nonzero_limbs != 1 || limb & (limb - 1) != 0 {
        return None;
    }
    let base = if l0 != 0 {
        0
    } else if l1 != 0 {
        64
    } else if l2 != 0 {
        128
    } else {
        192
    };
    Some(base + limb.trailing_zeros() as usize)
}

/// a / b, zero when b is zero.
#[inline(always)]
fn udiv(a: U256, b: U256) -> U256 {
    if let Some(k) = power_of_two_exponent(&b) {
        return a.wrapping_shr(k);
    }
    match narrow_division(&a, &b) {
        Some((n, d)) if n >> 64 == 0 => U256::from(n as u64 / d),
        Some((n, d)) => U256::from(n / d as u128),
        None => a.checked_div(b).unwrap_or(U256::ZERO),
    }
}

/// a % b, zero when b is zero.
#[inline(always)]
fn urem(a: U256, b: U256) -> U256 {
    if power_of_two_exponent(&b).is_some() {
        return a & b.wrapping_sub(U256::ONE);
    }
    match narrow_division(&a, &b) {
        Some((n, d)) if n >> 64 == 0 => U256::from(n as u64 % d),
        Some((n, d)) => U256::from(n % d as u128),
        None => a.checked_rem(b).unwrap_or(U256::ZERO),
    }
}

fn sdiv(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    let q = udiv(abs(a), abs(b));
    if is_neg(a) != is_neg(b) {
        negate(q)
    } else {
        q
    }
}

fn smod(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    let r = urem(abs(a), abs(b));
    if is_neg(a) {
        negate(r)
    } else {
        r
    }
}

/// SIGNEXTEND on limbs: the limb holding the sign bit is masked, the ones above it filled
/// (a 256-bit mask built by shifting and subtracting cost twice revm's time on evmone's
/// `signextend` micro benchmark).
fn signextend(b: U256, x: U256) -> U256 {
    let b = sat_u64(b);
    if b >= 31 {
        return x;
    }
    let bit = b as usize * 8 + 7;
    let (limb, offset) = (bit / 64, bit % 64);
    let mut l = *x.as_limbs();
    // Bits 0..=offset of the sign's limb are kept.
    let keep = if offset == 63 { u64::MAX } else { (1u64 << (offset + 1)) - 1 };
    let fill = if (l[limb] >> offset) & 1 == 1 { u64::MAX } else { 0 };
    l[limb] = (l[limb] & keep) | (fill & !keep);
    for high in &mut l[limb + 1..] {
        *high = fill;
    }
    U256::from_limbs(l)
}

/// The instruction being traced: its state from before it ran, reported
/// once it has run (then its cost is known).
struct PendingStep {
    /// False once reported (the buffer is kept for the next instruction).
    live: bool,
    pc: u64,
    op: u8,
    gas: u64,
    mem_size: u64,
    refund: u64,
    stack: Vec<U256>,
}

/// A suspended or running EVM activation.
pub struct EvmFrame {
    fork: Fork,
    table: &'static OpTable,
    analysis: Arc<Analysis>,
    code: Arc<Bytecode>,
    pc: usize,
    gas: u64,
    stack: Stack,
    /// The stored bytes of memory, a buffer from [`crate::memory`]: every byte the code has not
    /// written is zero, past `mem_len` too. Taken at the first touch (a range only paid for, such
    /// as a call's input, is not stored); empty while lent to a callee (see `lent`).
    memory: Vec<u8>,
    /// Memory size as the EVM sees it (MSIZE, gas): a multiple of 32.
    mem_len: usize,
    /// `min(mem_len, memory.len())`: below it, memory is both paid for and stored, which is all
    /// MLOAD/MSTORE's fast path needs to know.
    mem_ready: usize,
    /// The memory, lent to the running callee as its calldata; taken back when the call returns.
    lent: Option<Arc<Vec<u8>>>,
    return_data: Bytes,
    /// Memory region (offset, len) awaiting a callee's output.
    ret_region: (usize, usize),
    caller: Address,
    address: Address,
    value: U256,
    input: CallInput,
    modifier: CallModifier,
    is_static: bool,
    /// `LaunchParams::depth`; traces print it 1-based.
    depth: usize,
    /// Only used while a tracer is set: the instruction awaiting its report.
    pending: Option<Box<PendingStep>>,
    /// MULMOD's Montgomery constants for the modulus in use (`crate::modular`).
    mul_mod: MulMod,
}

impl EvmFrame {
    pub(crate) fn new(fork: Fork, table: &'static OpTable, params: LaunchParams) -> EvmFrame {
        let analysis = params.code.analysis(Analysis::new);
        EvmFrame {
            fork,
            table,
            analysis,
            code: params.code,
            pc: 0,
            gas: params.gas,
            stack: Stack::new(),
            memory: Vec::new(),
            mem_len: 0,
            mem_ready: 0,
            lent: None,
            return_data: Arc::from(&[][..]),
            ret_region: (0, 0),
            caller: params.caller,
            address: params.address,
            value: params.value,
            input: params.input,
            modifier: params.modifier,
            is_static: params.is_static,
            depth: params.depth,
            pending: None,
            mul_mod: MulMod::default(),
        }
    }

    /// Gas the frame still holds.
    pub fn gas_left(&self) -> u64 {
        self.gas
    }

    #[inline(always)]
    fn charge(&mut self, amount: u64) -> R<()> {
        if self.gas < amount {
            return Err(HaltReason::OutOfGas);
        }
        self.gas -= amount;
        Ok(())
    }

    /// Expands memory to cover `[offset, offset + size)`, materializes those
    /// bytes and returns the range as usizes; a zero size touches nothing
    /// whatever the offset.
    #[inline(always)]
    fn mem_range(&mut self, offset: U256, size: U256) -> R<(usize, usize)> {
        let (offset, size) = checked_range(offset, size)?;
        if offset + size > self.mem_ready as u64 {
            self.materialize(offset + size)?;
        }
        Ok((offset as usize, size as usize))
    }

    /// As [`Self::mem_range`], but only pays for the expansion: the bytes stay
    /// unmaterialized (for a range that is only read, such as a call's input).
    fn mem_window(&mut self, offset: U256, size: U256) -> R<(usize, usize)> {
        let (offset, size) = checked_range(offset, size)?;
        if offset + size > self.mem_len as u64 {
            self.expand(offset + size)?;
        }
        Ok((offset as usize, size as usize))
    }

    /// Pays for memory up to `end` (at most [`MEMORY_LIMIT`]) and stores it: a bigger buffer
    /// when the one held is too short.
    #[cold]
    #[inline(never)]
    fn materialize(&mut self, end: u64) -> R<()> {
        let written = self.mem_len.min(self.memory.len());
        if end > self.mem_len as u64 {
            self.expand(end)?;
        }
        let end = end as usize;
        if end > self.memory.len() {
            let mut bigger = crate::memory::take(end.max(2 * self.memory.len()));
            bigger[..written].copy_from_slice(&self.memory[..written]);
            crate::memory::give(std::mem::replace(&mut self.memory, bigger), written);
        }
        self.mem_ready = self.mem_len.min(self.memory.len());
        Ok(())
    }

    /// MLOAD/MSTORE/MSTORE8 past `mem_ready`: pays for memory up to `end`, given the loop's gas,
    /// and returns the gas left. Inside the buffer held (the usual case: code that grows its
    /// memory a word at a time) that is only the charge; else [`Self::materialize`].
    #[inline(always)]
    fn grow_memory(&mut self, gas: u64, end: u64) -> R<u64> {
        if end > self.memory.len() as u64 {
            return self.grow_buffer(gas, end);
        }
        let new_words = end.div_ceil(32);
        let cost = memory_cost(new_words) - memory_cost(self.mem_len as u64 / 32);
        if gas < cost {
            return Err(HaltReason::OutOfGas);
        }
        self.mem_len = new_words as usize * 32;
        self.mem_ready = self.mem_len;
        Ok(gas - cost)
    }

    #[cold]
    #[inline(never)]
    fn grow_buffer(&mut self, gas: u64, end: u64) -> R<u64> {
        self.gas = gas;
        self.materialize(end)?;
        Ok(self.gas)
    }

    /// Charges for growing the memory to `end` bytes (rounded up to words).
    fn expand(&mut self, end: u64) -> R<()> {
        let new_words = end.div_ceil(32);
        let old_words = self.mem_len as u64 / 32;
        self.charge(memory_cost(new_words) - memory_cost(old_words))?;
        self.mem_len = new_words as usize * 32;
        self.mem_ready = self.mem_len.min(self.memory.len());
        Ok(())
    }

    /// Lends the memory to a callee as its input `[offset, offset + len)`, without copying.
    fn lend_memory(&mut self, offset: usize, len: usize) -> CallInput {
        let buf = Arc::new(std::mem::take(&mut self.memory));
        self.mem_ready = 0;
        self.lent = Some(Arc::clone(&buf));
        CallInput::window(buf, offset, len)
    }

    /// Takes back the memory lent to the callee that has ended. The callee's
    /// input is gone by then, so this does not copy (it would if a holder remained).
    fn reclaim_memory(&mut self) {
        if let Some(buf) = self.lent.take() {
            self.memory = Arc::try_unwrap(buf).unwrap_or_else(|shared| shared.as_ref().clone());
            self.mem_ready = self.mem_len.min(self.memory.len());
        }
    }

    fn outcome(&self, status: ExitStatus, output: Bytes) -> Preemption {
        let gas_left = if matches!(status, ExitStatus::Halt(_)) { 0 } else { self.gas };
        Preemption::completed(self.modifier == CallModifier::Constructor, FrameOutcome { status, gas_left, output })
    }

    fn run(&mut self, host: &mut dyn Host) -> Preemption {
        // Asked once per entry: without a tracer the loop is the untraced instantiation.
        let result =
            if host.tracer().is_some() { self.interpret_traced(host) } else { self.interpret::<false, false>(host) };
        match result {
            Ok(Exit::Done(status, output)) => self.outcome(status, output),
            Ok(Exit::Call(req)) => Preemption::Call(req),
            Ok(Exit::Deploy(req)) => Preemption::Deploy(req),
            Err(reason) => {
                self.gas = 0;
                self.outcome(ExitStatus::Halt(reason), Arc::from(&[][..]))
            }
        }
    }

    /// Account access cost beyond the table's warm cost (EIP-2929).
    #[inline]
    fn access_account(&mut self, host: &mut dyn Host, address: Address) -> R<()> {
        if self.fork >= Fork::Berlin && host.warm_account(address) {
            self.charge(2500)?;
        }
        Ok(())
    }

    fn interpret_traced(&mut self, host: &mut dyn Host) -> R<Exit> {
        let result = self.interpret::<true, true>(host);
        // The instruction that ended the run: its cost is what it took from the frame's
        // gas, less the gas a deployment hands to the constructor (go-ethereum leaves that
        // out of CREATE's cost but counts a call's gas in CALL's).
        let (handed_on, error) = match &result {
            Ok(Exit::Deploy(req)) => (req.gas, None),
            Ok(Exit::Done(ExitStatus::Revert, _)) => (0, Some("execution reverted".to_string())),
            Ok(_) => (0, None),
            Err(reason) => (0, Some(reason.to_string())),
        };
        self.trace_report(host, handed_on, error);
        result
    }

    /// Reports the pending instruction, if any, now that it has run. Out of
    /// line (as is `trace_begin`) to keep the traced loop close to the plain one.
    #[inline(never)]
    fn trace_report(&mut self, host: &mut dyn Host, handed_on: u64, error: Option<String>) {
        let Some(p) = self.pending.as_deref_mut().filter(|p| p.live) else { return };
        p.live = false;
        let Some(tracer) = host.tracer() else { return };
        tracer.step(&Step {
            pc: p.pc,
            op: p.op,
            op_name: op_name(p.op, self.fork),
            gas: p.gas,
            gas_cost: p.gas.saturating_sub(self.gas).saturating_sub(handed_on),
            mem_size: p.mem_size,
            stack: &p.stack,
            return_data: &self.return_data,
            depth: self.depth as u64 + 1,
            refund: p.refund,
            error: error.as_deref(),
        });
    }

    /// Traced path: reports the previous instruction and records the state
    /// before the one at `pc`.
    #[inline(never)]
    fn trace_begin(&mut self, host: &mut dyn Host, pc: usize, op: u8) {
        self.trace_report(host, 0, None);
        let refund = host.refund_counter().max(0) as u64;
        let p = self.pending.get_or_insert_with(|| {
            Box::new(PendingStep { live: false, pc: 0, op: 0, gas: 0, mem_size: 0, refund: 0, stack: Vec::new() })
        });
        p.live = true;
        p.pc = pc as u64;
        p.op = op;
        p.gas = self.gas;
        p.mem_size = self.mem_len as u64;
        p.refund = refund;
        p.stack.clear();
        p.stack.extend_from_slice(self.stack.values());
    }

    /// The dispatch loop. Its state lives in locals (registers): the gas, the stack length and
    /// a pointer to the stack's bottom. Instructions that need more than that go through
    /// [`Self::slow_op`], with the locals written back before (`sync_out!`) and read again
    /// after (`sync_in!`).
    ///
    /// Safety of the unchecked stack and code accesses: the stack buffer holds `STACK_LIMIT`
    /// words, and every instruction runs only after the table's check that the stack length
    /// lies in `min_stack ..= min_stack + stack_range` (no underflow of the items it reads, no
    /// push beyond `STACK_LIMIT`), so it reads only slots below `len`, which hold values (the
    /// others are uninitialized: pushes write them through the pointer); `pc` always points into the padded code, which ends with 33
    /// STOPs after the last byte (a PUSH's data read stays inside, a jump lands only on a
    /// JUMPDEST, running off the end reaches a STOP).
    ///
    /// Two modes. `CHECKED` (traced runs, and the fallback below) checks the stack and
    /// charges the table gas per instruction. Otherwise both are done once per basic block on
    /// entering it (`enter_block!`, with [`block_costs`]): when the block's check fails, some
    /// instruction of it would fail, so the block is run again from its start in `CHECKED`
    /// mode, which halts at that instruction with its own reason. Paying a block's static gas
    /// up front changes no outcome: blocks end at every instruction that reads the gas left,
    /// and a dynamic charge the prepaid gas cannot cover means the block's remaining static
    /// gas could not have been paid either (only the halt's reason may differ then: an out of
    /// gas reported a few instructions early, with the same result, all gas gone).
    fn interpret<const TRACE: bool, const CHECKED: bool>(&mut self, host: &mut dyn Host) -> R<Exit> {
        let analysis = self.analysis.clone();
        let code: &[u8] = &analysis.padded;
        let starts: &[u32] = &analysis.starts;
        let table = self.table;
        let blocks: &[OpInfo] = if CHECKED { &[] } else { analysis.blocks(self.fork, table) };
        let mut pc = self.pc;
        let mut gas = self.gas;
        let mut len = self.stack.len;
        let mut stack_base: *mut U256 = self.stack.base();
        debug_assert_eq!(self.stack.data.len(), STACK_LIMIT);
        // Taken jumps since this entry: the host is polled every `INTERRUPT_JUMPS` of them
        // (every loop passes through a jump; straight-line code is bounded by the code size).
        let mut jumps: u32 = 0;

        macro_rules! sync_out {
            () => {{
                self.gas = gas;
                self.stack.len = len;
            }};
        }
        macro_rules! sync_in {
            () => {{
                gas = self.gas;
                len = self.stack.len;
                stack_base = self.stack.base();
            }};
        }
        // Ends the run with a halt; a traced run first writes the state back, so the tracer
        // reports the instruction's cost up to the failure.
        macro_rules! fail {
            ($e:expr) => {{
                if TRACE {
                    sync_out!();
                }
                return Err($e);
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => fail!(e),
                }
            };
        }
        macro_rules! charge {
            ($amount:expr) => {{
                let amount: u64 = $amount;
                if gas < amount {
                    fail!(HaltReason::OutOfGas);
                }
                gas -= amount;
            }};
        }
        macro_rules! slot {
            ($i:expr) => {
                // SAFETY: see the function's doc comment.
                unsafe { &mut *stack_base.add($i) }
            };
        }
        macro_rules! pop {
            () => {{
                len -= 1;
                load_word(slot!(len))
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                let v = $v;
                // SAFETY: see the function's doc comment; a write, as the slot may be uninitialized.
                unsafe { stack_base.add(len).write(v) };
                len += 1;
            }};
        }
        macro_rules! top {
            () => {
                slot!(len - 1)
            };
        }
        macro_rules! binop {
            (|$a:ident, $b:ident| $e:expr) => {{
                let $a = pop!();
                let top = top!();
                let $b = load_word(top);
                *top = $e;
            }};
        }
        macro_rules! unop {
            (|$a:ident| $e:expr) => {{
                let top = top!();
                let $a = load_word(top);
                *top = $e;
            }};
        }
        // Enters the basic block starting at `start` (unchecked mode): checks its stack needs
        // and pays its static gas, or reruns it instruction by instruction.
        macro_rules! enter_block {
            ($start:expr) => {{
                if !CHECKED {
                    let start: usize = $start;
                    let b = blocks[(starts[start] & !JUMPDEST_BIT) as usize];
                    if gas < b.gas as u64 || len.wrapping_sub(b.min_stack as usize) > b.stack_range as usize {
                        sync_out!();
                        self.pc = start;
                        return self.interpret_checked(host);
                    }
                    gas -= b.gas as u64;
                }
            }};
        }
        // Enters the block that starts at `pc` after an instruction that ends one (or at the
        // run's entry): a JUMPDEST there is its first instruction, paid with it, so it is
        // stepped over rather than run (running it would enter the block a second time).
        macro_rules! next_block {
            () => {{
                if !CHECKED {
                    enter_block!(pc);
                    if code[pc] == 0x5b {
                        pc += 1;
                    }
                }
            }};
        }
        macro_rules! jump {
            ($dest:expr) => {{
                let dest = sat_u64($dest);
                if dest < starts.len() as u64 && starts[dest as usize] & JUMPDEST_BIT != 0 {
                    // The JUMPDEST starts a block: unchecked, enter it and step over the
                    // JUMPDEST (its gas is in the block's); checked, run it.
                    if CHECKED {
                        pc = dest as usize;
                    } else {
                        enter_block!(dest as usize);
                        pc = dest as usize + 1;
                    }
                } else {
                    fail!(HaltReason::InvalidJump);
                }
                jumps = jumps.wrapping_add(1);
                if jumps % INTERRUPT_JUMPS == 0 && host.interrupted() {
                    fail!(HaltReason::Interrupted);
                }
            }};
        }

        // Every entry starts a block: the frame's start, or the instruction after a call or
        // a deployment (which end blocks).
        next_block!();
        loop {
            // SAFETY: see the function's doc comment.
            let op = unsafe { *code.get_unchecked(pc) };
            if TRACE {
                sync_out!();
                self.trace_begin(host, pc, op);
            }
            if CHECKED {
                let info = table[op as usize];
                if len.wrapping_sub(info.min_stack as usize) > info.stack_range as usize {
                    fail!(precheck_error(op, info, len));
                }
                charge!(info.gas as u64);
            }
            pc += 1;

            match op {
                0x00 => {
                    sync_out!();
                    return Ok(Exit::Done(ExitStatus::Success, Arc::from(&[][..])));
                }
                0x01 => binop!(|a, b| a.wrapping_add(b)),
                0x02 => binop!(|a, b| a.wrapping_mul(b)),
                0x03 => binop!(|a, b| a.wrapping_sub(b)),
                0x04 => binop!(|a, b| udiv(a, b)),
                0x05 => binop!(|a, b| sdiv(a, b)),
                0x06 => binop!(|a, b| urem(a, b)),
                0x07 => binop!(|a, b| smod(a, b)),
                0x08 => {
                    let a = pop!();
                    let b = pop!();
                    unop!(|m| add_mod(a, b, m));
                }
                0x09 => {
                    let a = pop!();
                    let b = pop!();
                    // Out of line, so the result comes back through memory: read it limb by limb.
                    unop!(|m| load_word(&self.mul_mod.mul_mod(a, b, m)));
                }
                0x0a => {
                    let b = pop!();
                    let exponent = *top!();
                    let per_byte = if self.fork >= Fork::SpuriousDragon { 50 } else { 10 };
                    charge!(per_byte * exponent.byte_len() as u64);
                    *top!() = exp(b, exponent);
                }
                0x0b => {
                    let b = pop!();
                    let top = top!();
                    let x = *top;
                    store_word(top, signextend(b, x));
                }
                0x10 => binop!(|a, b| bool_word(a < b)),
                0x11 => binop!(|a, b| bool_word(a > b)),
                0x12 => binop!(|a, b| bool_word((a ^ SIGN_BIT) < (b ^ SIGN_BIT))),
                0x13 => binop!(|a, b| bool_word((a ^ SIGN_BIT) > (b ^ SIGN_BIT))),
                0x14 => binop!(|a, b| bool_word(a == b)),
                0x15 => unop!(|a| bool_word(a.is_zero())),
                0x16 => binop!(|a, b| a & b),
                0x17 => binop!(|a, b| a | b),
                0x18 => binop!(|a, b| a ^ b),
                0x19 => unop!(|a| !a),
                0x1a => binop!(|i, x| {
                    let i = sat_u64(i);
                    if i < 32 {
                        U256::from(x.byte(31 - i as usize))
                    } else {
                        U256::ZERO
                    }
                }),
                0x1b => binop!(|s, x| {
                    let s = sat_u64(s);
                    if s < 256 {
                        x.wrapping_shl(s as usize)
                    } else {
                        U256::ZERO
                    }
                }),
                0x1c => binop!(|s, x| {
                    let s = sat_u64(s);
                    if s < 256 {
                        x.wrapping_shr(s as usize)
                    } else {
                        U256::ZERO
                    }
                }),
                0x1d => binop!(|s, x| {
                    let s = sat_u64(s);
                    if s < 256 {
                        x.arithmetic_shr(s as usize)
                    } else if is_neg(x) {
                        U256::MAX
                    } else {
                        U256::ZERO
                    }
                }),
                // EIP-7939: 256 for zero.
                0x1e => unop!(|x| U256::from(x.leading_zeros())),
                0x35 => {
                    let off = sat_u64(*top!());
                    let mut buf = [0u8; 32];
                    copy_padded(&mut buf, self.input.stored(), off);
                    *top!() = U256::from_be_bytes(buf);
                }
                0x50 => len -= 1,
                0x51 => {
                    let off = tri!(word_offset(*top!(), 32));
                    if off + 32 > self.mem_ready as u64 {
                        gas = tri!(self.grow_memory(gas, off + 32));
                    }
                    let off = off as usize;
                    let word: [u8; 32] = self.memory[off..off + 32].try_into().expect("32 bytes");
                    *top!() = U256::from_be_bytes(word);
                }
                0x52 => {
                    let off = tri!(word_offset(pop!(), 32));
                    let v = pop!();
                    if off + 32 > self.mem_ready as u64 {
                        gas = tri!(self.grow_memory(gas, off + 32));
                    }
                    let off = off as usize;
                    self.memory[off..off + 32].copy_from_slice(&v.to_be_bytes::<32>());
                }
                0x53 => {
                    let off = tri!(word_offset(pop!(), 1));
                    let v = pop!();
                    if off + 1 > self.mem_ready as u64 {
                        gas = tri!(self.grow_memory(gas, off + 1));
                    }
                    self.memory[off as usize] = v.as_limbs()[0] as u8;
                }
                0x56 => {
                    let dest = pop!();
                    jump!(dest);
                }
                0x57 => {
                    let dest = pop!();
                    let cond = pop!();
                    if !cond.is_zero() {
                        jump!(dest);
                    } else {
                        next_block!();
                    }
                }
                0x58 => push!(U256::from(pc - 1)),
                0x59 => push!(U256::from(self.mem_len)),
                0x5a => {
                    push!(U256::from(gas));
                    next_block!();
                }
                // Reached by falling through (a jump steps over it): it starts a block.
                0x5b => enter_block!(pc - 1),
                0x5f => push!(U256::ZERO),
                0x60 => {
                    push!(U256::from(code[pc]));
                    pc += 1;
                }
                0x61..=0x67 => {
                    // Short pushes read one big-endian u64; the padding keeps the read in bounds.
                    let n = (op - 0x5f) as usize;
                    let word: [u8; 8] = code[pc..pc + 8].try_into().expect("8 bytes");
                    push!(U256::from(u64::from_be_bytes(word) >> (64 - 8 * n)));
                    pc += n;
                }
                0x68..=0x7f => {
                    let n = (op - 0x5f) as usize;
                    let mut buf = [0u8; 32];
                    buf[32 - n..].copy_from_slice(&code[pc..pc + n]);
                    push!(U256::from_be_bytes(buf));
                    pc += n;
                }
                0x80..=0x8f => {
                    let n = (op - 0x7f) as usize;
                    let v = load_word(slot!(len - n));
                    push!(v);
                }
                0x90..=0x9f => {
                    let n = (op - 0x8f) as usize;
                    let (a, b) = (load_word(slot!(len - 1)), load_word(slot!(len - 1 - n)));
                    *slot!(len - 1) = b;
                    *slot!(len - 1 - n) = a;
                }
                _ => {
                    sync_out!();
                    if let Some(exit) = self.slow_op(host, op, pc)? {
                        return Ok(exit);
                    }
                    sync_in!();
                    if op == 0x55 {
                        // SSTORE reads the gas left (EIP-2200's stipend check): it ends a block.
                        next_block!();
                    }
                }
            }
        }
    }

    /// The per-instruction mode, out of line: the fallback of a block whose entry check failed.
    #[cold]
    #[inline(never)]
    fn interpret_checked(&mut self, host: &mut dyn Host) -> R<Exit> {
        self.interpret::<false, true>(host)
    }

    /// Instructions that reach the host, copy memory or end the run: out of the hot loop, so
    /// that the loop stays small and keeps its state in registers. The caller has charged
    /// the static gas and synchronized `self.gas` and the stack; `pc` points past `op`.
    /// `None`: go on with the next instruction.
    #[inline(never)]
    fn slow_op(&mut self, host: &mut dyn Host, op: u8, pc: usize) -> R<Option<Exit>> {
        macro_rules! pop {
            () => {
                self.stack.pop()
            };
        }
        macro_rules! push {
            ($v:expr) => {{
                let v = $v;
                self.stack.push(v)
            }};
        }
        macro_rules! static_guard {
            () => {
                if self.is_static {
                    return Err(HaltReason::StaticStateChange);
                }
            };
        }

        match op {
            0x20 => {
                let offset = pop!();
                let size = *self.stack.top();
                let (off, n) = self.mem_range(offset, size)?;
                self.charge(6 * words(n))?;
                let hash = if n == 0 { ee_api::keccak_empty() } else { B256::keccak(&self.memory[off..off + n]) };
                *self.stack.top() = hash.to_word();
            }
            0x30 => push!(self.address.to_word()),
            0x31 => {
                let addr = Address::from_word(*self.stack.top());
                self.access_account(host, addr)?;
                *self.stack.top() = host.balance(addr);
            }
            0x32 => push!(host.tx().origin.to_word()),
            0x33 => push!(self.caller.to_word()),
            0x34 => push!(self.value),
            0x36 => push!(U256::from(self.input.len())),
            0x37 | 0x39 => {
                let dst = pop!();
                let src = sat_u64(pop!());
                let size = pop!();
                let (off, n) = self.mem_range(dst, size)?;
                self.charge(3 * words(n))?;
                if n > 0 {
                    let source: &[u8] = if op == 0x37 { self.input.stored() } else { &self.code.bytes };
                    copy_padded(&mut self.memory[off..off + n], source, src);
                }
            }
            0x38 => push!(U256::from(self.code.bytes.len())),
            0x3a => push!(host.tx().gas_price),
            0x3b => {
                let addr = Address::from_word(*self.stack.top());
                self.access_account(host, addr)?;
                *self.stack.top() = U256::from(host.code(addr).bytes.len());
            }
            0x3c => {
                let addr = Address::from_word(pop!());
                let dst = pop!();
                let src = sat_u64(pop!());
                let size = pop!();
                let (off, n) = self.mem_range(dst, size)?;
                self.charge(3 * words(n))?;
                self.access_account(host, addr)?;
                if n > 0 {
                    let ext = host.code(addr);
                    copy_padded(&mut self.memory[off..off + n], &ext.bytes, src);
                }
            }
            0x3d => push!(U256::from(self.return_data.len())),
            0x3e => {
                let dst = pop!();
                let src = pop!();
                let size = pop!();
                match src.checked_add(size) {
                    Some(end) if end <= U256::from(self.return_data.len()) => {}
                    _ => return Err(HaltReason::ReturnDataOutOfBounds),
                }
                let (off, n) = self.mem_range(dst, size)?;
                self.charge(3 * words(n))?;
                if n > 0 {
                    let s = sat_u64(src) as usize;
                    self.memory[off..off + n].copy_from_slice(&self.return_data[s..s + n]);
                }
            }
            0x3f => {
                let addr = Address::from_word(*self.stack.top());
                self.access_account(host, addr)?;
                *self.stack.top() =
                    if host.is_empty_account(addr) { U256::ZERO } else { host.code(addr).hash().to_word() };
            }
            0x40 => {
                let n = *self.stack.top();
                *self.stack.top() = host.block_hash(n).to_word();
            }
            0x41 => push!(host.block().coinbase.to_word()),
            0x42 => push!(host.block().timestamp),
            0x43 => push!(host.block().number),
            0x44 => {
                let block = host.block();
                let v = match block.prevrandao {
                    Some(r) if self.fork >= Fork::Paris => r.to_word(),
                    _ => block.difficulty,
                };
                push!(v)
            }
            0x45 => push!(host.block().gas_limit),
            0x46 => push!(host.block().chain_id),
            0x47 => push!(host.balance(self.address)),
            0x48 => push!(host.block().base_fee),
            0x49 => {
                let i = sat_u64(*self.stack.top());
                let hashes = &host.tx().blob_hashes;
                *self.stack.top() = if i < hashes.len() as u64 { hashes[i as usize].to_word() } else { U256::ZERO };
            }
            0x4a => push!(host.block().blob_base_fee),
            0x54 => {
                let key = *self.stack.top();
                *self.stack.top() = if self.fork >= Fork::Berlin {
                    let (value, cold) = host.sload_warming(self.address, key);
                    if cold {
                        self.charge(2000)?;
                    }
                    value
                } else {
                    host.sload(self.address, key)
                };
            }
            0x55 => {
                static_guard!();
                let key = pop!();
                let new = pop!();
                if self.fork >= Fork::Istanbul && self.gas <= 2300 {
                    return Err(HaltReason::OutOfGas);
                }
                let mut cost = 0;
                if self.fork >= Fork::Berlin && host.warm_slot(self.address, key) {
                    cost += 2100;
                }
                // Writing before charging is fine: a halt rolls the frame's writes back.
                let slot = host.sstore(self.address, key, new);
                let (gas, refund) = sstore_cost(self.fork, slot.original, slot.present, new);
                self.charge(cost + gas)?;
                if refund != 0 {
                    host.add_refund(refund);
                }
            }
            0x5c => {
                let key = *self.stack.top();
                *self.stack.top() = host.tload(self.address, key);
            }
            0x5d => {
                static_guard!();
                let key = pop!();
                let v = pop!();
                host.tstore(self.address, key, v);
            }
            0x5e => {
                let dst = pop!();
                let src = pop!();
                let size = pop!();
                let (d, n) = self.mem_range(dst, size)?;
                let (s, _) = self.mem_range(src, size)?;
                self.charge(3 * words(n))?;
                if n > 0 {
                    self.memory.copy_within(s..s + n, d);
                }
            }
            0xa0..=0xa4 => {
                static_guard!();
                let n = (op - 0xa0) as usize;
                let offset = pop!();
                let size = pop!();
                let (off, len) = self.mem_range(offset, size)?;
                self.charge(8 * len as u64)?;
                let topics = (0..n).map(|_| B256::from_word(pop!())).collect();
                let data: Bytes = Arc::from(&self.memory[off..off + len]);
                host.log(Log { address: self.address, topics, data });
            }
            0xf0 | 0xf5 => {
                static_guard!();
                let value = pop!();
                let offset = pop!();
                let size = pop!();
                let salt = if op == 0xf5 { Some(B256::from_word(pop!())) } else { None };
                let (off, n) = self.mem_range(offset, size)?;
                if self.fork >= Fork::Shanghai {
                    if n > MAX_INITCODE_SIZE {
                        return Err(HaltReason::InitCodeSizeLimit);
                    }
                    self.charge(2 * words(n))?;
                }
                if salt.is_some() {
                    self.charge(6 * words(n))?;
                }
                let child = if self.fork >= Fork::Tangerine { self.gas - self.gas / 64 } else { self.gas };
                self.gas -= child;
                let init_code: Bytes = Arc::from(&self.memory[off..off + n]);
                let scheme = match salt {
                    Some(salt) => CreateScheme::Create2 { salt },
                    None => CreateScheme::Create,
                };
                self.pc = pc;
                return Ok(Some(Exit::Deploy(DeploymentRequest {
                    deployer: self.address,
                    value,
                    init_code,
                    scheme,
                    gas: child,
                })));
            }
            0xf1 | 0xf2 | 0xf4 | 0xfa => {
                let req = self.call(host, op)?;
                self.pc = pc;
                return Ok(Some(Exit::Call(req)));
            }
            0xf3 | 0xfd => {
                let offset = pop!();
                let size = pop!();
                let (off, n) = self.mem_range(offset, size)?;
                let output: Bytes = Arc::from(&self.memory[off..off + n]);
                let status = if op == 0xf3 { ExitStatus::Success } else { ExitStatus::Revert };
                return Ok(Some(Exit::Done(status, output)));
            }
            0xff => {
                static_guard!();
                let beneficiary = Address::from_word(pop!());
                if self.fork >= Fork::Berlin && host.warm_account(beneficiary) {
                    self.charge(2600)?;
                }
                let new_account = if self.fork >= Fork::SpuriousDragon {
                    host.is_empty_account(beneficiary) && !host.balance(self.address).is_zero()
                } else if self.fork >= Fork::Tangerine {
                    !host.account_exists(beneficiary)
                } else {
                    false
                };
                if new_account {
                    self.charge(25000)?;
                }
                let already = host.selfdestruct(self.address, beneficiary);
                if !already && self.fork < Fork::London {
                    host.add_refund(24000);
                }
                return Ok(Some(Exit::Done(ExitStatus::Success, Arc::from(&[][..]))));
            }
            _ => return Err(HaltReason::InvalidOpcode(op)),
        }
        Ok(None)
    }

    /// Prices a CALL-family instruction and builds the request (EIP-150/2929 rules).
    fn call(&mut self, host: &mut dyn Host, op: u8) -> R<CallRequest> {
        let requested = self.stack.pop();
        let to = Address::from_word(self.stack.pop());
        let value = if op == 0xf1 || op == 0xf2 { self.stack.pop() } else { U256::ZERO };
        let in_off = self.stack.pop();
        let in_size = self.stack.pop();
        let out_off = self.stack.pop();
        let out_size = self.stack.pop();
        let transfers = !value.is_zero();
        if op == 0xf1 && transfers && self.is_static {
            return Err(HaltReason::StaticStateChange);
        }
        self.access_account(host, to)?;
        if self.fork >= Fork::Prague {
            // EIP-7702: a call into a delegated account also pays for loading the target's
            // code (warm 100, cold 2600), before the 63/64 rule; the bootloader follows the
            // designator when it starts the callee.
            if let Some(target) = host.code(to).delegation_target() {
                let cold = host.warm_account(target);
                self.charge(if cold { 2600 } else { 100 })?;
            }
        }
        let (i_off, i_len) = self.mem_window(in_off, in_size)?;
        let ret_region = self.mem_range(out_off, out_size)?;
        let mut extra = 0u64;
        if transfers {
            extra += 9000;
        }
        if op == 0xf1 {
            let new_account = if self.fork >= Fork::SpuriousDragon {
                transfers && host.is_empty_account(to)
            } else {
                !host.account_exists(to)
            };
            if new_account {
                extra += 25000;
            }
        }
        self.charge(extra)?;
        let mut gas = if self.fork >= Fork::Tangerine {
            let cap = self.gas - self.gas / 64;
            sat_u64(requested).min(cap)
        } else {
            u64_or_oog(requested)?
        };
        self.charge(gas)?;
        if transfers {
            gas += 2300;
        }
        self.ret_region = ret_region;
        // Last, once nothing can fail: the memory stays lent until the callee ends.
        let input = if i_len == 0 { CallInput::empty() } else { self.lend_memory(i_off, i_len) };
        let (modifier, caller, address, value, is_static) = match op {
            0xf1 => (CallModifier::Call, self.address, to, value, self.is_static),
            0xf2 => (CallModifier::CallCode, self.address, self.address, value, self.is_static),
            0xf4 => (CallModifier::Delegate, self.caller, self.address, self.value, self.is_static),
            _ => (CallModifier::Static, self.address, to, U256::ZERO, true),
        };
        Ok(CallRequest { modifier, caller, address, code_address: to, value, input, gas, is_static })
    }
}

impl Frame for EvmFrame {
    fn start(&mut self, host: &mut dyn Host) -> Preemption {
        self.run(host)
    }

    fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption {
        self.reclaim_memory();
        self.gas = self.gas.saturating_add(result.gas_left);
        self.stack.push(bool_word(result.status.is_success()));
        let (off, len) = self.ret_region;
        let n = len.min(result.output.len());
        self.memory[off..off + n].copy_from_slice(&result.output[..n]);
        self.return_data = result.output;
        self.run(host)
    }

    fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption {
        self.gas = self.gas.saturating_add(result.gas_left);
        let word = match (result.status, result.address) {
            (ExitStatus::Success, Some(a)) => a.to_word(),
            _ => U256::ZERO,
        };
        self.stack.push(word);
        self.return_data = result.output;
        self.run(host)
    }

    fn is_static(&self) -> bool {
        self.is_static
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The positions where a block starts, with whether each is a jump destination.
    fn block_starts(code: &[u8]) -> Vec<(usize, bool)> {
        let analysis = Analysis::new(code);
        let found: Vec<(usize, bool)> = (0..analysis.starts.len())
            .filter(|&at| analysis.starts[at] & !JUMPDEST_BIT != 0)
            .map(|at| (at, analysis.starts[at] & JUMPDEST_BIT != 0))
            .collect();
        let numbered: Vec<usize> = analysis.block_starts[1..].iter().map(|&at| at as usize).collect();
        assert_eq!(numbered, found.iter().map(|&(at, _)| at).collect::<Vec<_>>(), "block numbers follow positions");
        found
    }

    #[test]
    fn blocks_start_only_where_the_run_can_enter() {
        // 0 PUSH1 0x5b (data, not a destination), 2 JUMPI, 3 ADD, 4 STOP, 5 ADD (unreachable),
        // 6 JUMPDEST, 7 GAS, 8 JUMP, 9 MUL (unreachable), 10 JUMPDEST; the end (11) follows no
        // instruction that goes on.
        let code = [0x60, 0x5b, 0x57, 0x01, 0x00, 0x01, 0x5b, 0x5a, 0x56, 0x02, 0x5b];
        assert_eq!(block_starts(&code), vec![(0, false), (3, false), (6, true), (8, false), (10, true)]);
        // A JUMPDEST right after an instruction that goes on is one block, and a call as the
        // last instruction starts a block at the code's end (its padding's STOP).
        assert_eq!(block_starts(&[0x5a, 0x5b, 0xf1]), vec![(0, false), (1, true), (3, false)]);
        // Code of STOPs is one block, whatever its size; runs of STOPs are skipped 32 at a
        // time, but only at instruction boundaries (PUSH data of zeros is not code).
        assert_eq!(block_starts(&[0; 24_576]), vec![(0, false)]);
        let mut code = vec![0; 40];
        code.extend_from_slice(&[0x5b, 0x7f]);
        code.extend_from_slice(&[0; 31]);
        code.extend_from_slice(&[0x5b, 0x5b]);
        code.extend_from_slice(&[0; 33]);
        code.push(0x5b);
        assert_eq!(block_starts(&code), vec![(0, false), (40, true), (74, true), (108, true)]);
    }

    #[test]
    fn block_costs_sum_gas_and_fail_on_missing_opcodes() {
        let analysis = Analysis::new(&[0x60, 0x01, 0x60, 0x02, 0x01, 0x5b, 0x5f, 0x00]);
        let cancun = analysis.blocks(Fork::Cancun, crate::tables::table(Fork::Cancun));
        // PUSH1 PUSH1 ADD; then JUMPDEST PUSH0 STOP.
        assert_eq!((cancun[1].gas, cancun[1].min_stack), (9, 0));
        assert_eq!((cancun[2].gas, cancun[2].min_stack), (3, 0));
        // Before Shanghai PUSH0 is undefined: its block never runs unchecked.
        let paris = analysis.blocks(Fork::Paris, crate::tables::table(Fork::Paris));
        assert_eq!(paris[2].min_stack, u16::MAX);
        assert_eq!(paris[0].min_stack, u16::MAX, "block 0 stands for no block");
    }
}
