//! Far calls: the frame yields a [`FarCall`] (the callee's ready-made [`Entry`]) and is
//! resumed by [`Machine::finish_far_call`] with the callee's [`FarReturn`]. Whoever drives
//! the frames (the bootloader, or a test's loop) runs the callee; this frame never recurses.
//!
//! The checks, charges and their order are vm2 0.5.0's `far_call` (read, not copied): the
//! ABI word in src0, the destination in src1, the exception handler in imm0; the mandated
//! ergs of a system call to MsgValueSimulator; the decommit of the callee's code (free when
//! the transaction already decommitted it); the calldata slice (which may grow the heap
//! even when the call already failed); then 63/64 of what is left. A call that fails any of
//! these still enters a frame in vm2, one whose only instruction panics; the machine plays
//! that frame itself (two trace steps) and resumes at the exception handler.

use ee_api::{Address, U256};

use super::world::{is_kernel, CodeInfo, TxState, World};
use super::{cost, pointer, Entry, ForeignPage, Machine, Step, LT};
use crate::decode::Instruction;
use crate::table::{Modifiers, Op};

/// AccountCodeStorage: vm2 reads the callee's code hash from its storage, which warms the
/// slot for a later `sload`.
pub const ACCOUNT_CODE_STORAGE: Address = kernel_address(0x8002);
/// MsgValueSimulator: a system call to it is given [`cost::MSG_VALUE_SIMULATOR_MANDATED`]
/// ergs beyond 63/64.
pub const MSG_VALUE_SIMULATOR: Address = kernel_address(0x8009);

/// The address `n` (below 2^16).
pub const fn kernel_address(n: u16) -> Address {
    let mut a = [0u8; 20];
    a[18] = (n >> 8) as u8;
    a[19] = n as u8;
    Address(a)
}

/// Whose `this` and `msg.sender` the callee gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// `this` = destination, sender = the caller.
    Normal,
    /// The caller's `this`, sender and `context_u128`; the destination's code.
    Delegate,
    /// Like `Normal`, with the sender taken from r15 (kernel callers: system contracts
    /// acting on behalf of an account).
    Mimic,
}

/// A far call the frame is suspended on.
#[derive(Clone, Debug)]
pub struct FarCall {
    pub mode: CallMode,
    /// The account whose code runs.
    pub destination: Address,
    /// The code the decommit found (and paid for).
    pub code: CodeInfo,
    pub is_system: bool,
    pub is_constructor: bool,
    /// The callee's frame: ergs (63/64 of what was left, plus the mandated ergs), calldata
    /// slice, pages, registers, `this`, sender, `context_u128`, static flag.
    pub entry: Entry,
    /// The far call's pc and the caller's ergs after its static cost (for the trace step).
    pub pc: u16,
    pub ergs_before: u32,
}

/// How a callee ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnKind {
    Success,
    Revert,
    Panic,
}

/// A callee's result, as its caller takes it back.
#[derive(Clone, Debug)]
pub struct FarReturn {
    pub kind: ReturnKind,
    pub ergs_left: u32,
    /// Return or revert data (empty on panic).
    pub data: Vec<u8>,
    /// Where the data lives (page, start): the caller's r1 points there. A callee that is
    /// not an EraVM frame returns its data on a fresh page.
    pub at: (u32, u32),
}

impl Machine {
    /// Executes a far call whose static cost is paid and whose condition holds. Returns Ok
    /// when the frame yields (the call is in [`Machine::take_far_call`]); Err when the call
    /// failed before a callee could start and the frame has already resumed at its exception
    /// handler, with the ergs vm2's panicking frame started with.
    pub(super) fn far_call<const TRACE: bool>(
        &mut self,
        ins: &Instruction,
        pc: u16,
        ergs_before: u32,
        world: &mut dyn World,
        tx: &mut TxState,
        trace: &mut Vec<Step>,
    ) -> Result<(), u32> {
        let raw_abi = self.regs[ins.src0 as usize];
        let abi_is_pointer = self.ptr_tags & (1 << ins.src0) != 0;
        let destination = Address::from_word(self.reg_value(ins.src1));
        let handler = ins.imm0;
        let settings = self_settings(&raw_abi);
        let gas_to_pass = raw_abi.as_limbs()[3] as u32;
        let is_constructor = settings.constructor && self.is_kernel;
        let is_system = settings.system && is_kernel(&destination);
        let shard_fails = ins.has(Modifiers::SHARD) && settings.shard != 0;
        let mut mandated =
            if is_system && destination == MSG_VALUE_SIMULATOR { cost::MSG_VALUE_SIMULATOR_MANDATED } else { 0 };

        tx.read_slots.insert((ACCOUNT_CODE_STORAGE, destination.to_word()));
        let code = world.code_info(destination, is_constructor);
        let calldata = self.abi_slice(raw_abi, abi_is_pointer, code.is_none() || shard_fails);
        let entered = (|| {
            if self.ergs >= mandated {
                self.ergs -= mandated;
            } else {
                self.ergs = 0;
                mandated = 0;
                return None;
            }
            if shard_fails {
                return None;
            }
            let calldata = calldata?;
            let code = code?;
            let price = if tx.decommitted.get(&code.key) == Some(&true) {
                0
            } else {
                code.words as u32 * cost::DECOMMIT_PER_WORD
            };
            if price > self.ergs {
                tx.decommitted.entry(code.key).or_insert(false);
                return None;
            }
            tx.decommitted.insert(code.key, true);
            self.ergs -= price;
            Some((calldata, code))
        })();

        let passed = gas_to_pass.min(self.ergs / 64 * 63);
        self.ergs -= passed;
        let ergs = passed + mandated;
        let (page, start, length) = entered.map(|(c, _)| c).unwrap_or((0, 0, 0));
        let mut registers = [U256::ZERO; 16];
        if is_system {
            registers[3..13].copy_from_slice(&self.regs[3..13]);
        }
        registers[2] = U256::from((is_system as u8) << 1 | is_constructor as u8);
        let (address, caller, context_u128) = match ins.op {
            Op::FarCallDelegate => (self.address, self.caller, self.context_u128),
            Op::FarCallMimic => (destination, Address::from_word(self.regs[15]), tx.context_u128),
            _ => (destination, self.address, tx.context_u128),
        };
        tx.context_u128 = 0;
        self.flags = 0;
        let entry = Entry {
            ergs,
            calldata: self.read_page(page, start, length),
            calldata_page: page,
            calldata_start: start,
            is_kernel: is_kernel(&address),
            address,
            code_address: destination,
            caller,
            context_u128,
            is_static: ins.has(Modifiers::STATIC) || self.is_static,
            heap_page: tx.allocate_page(),
            aux_page: tx.allocate_page(),
            registers,
        };
        let mode = match ins.op {
            Op::FarCallDelegate => CallMode::Delegate,
            Op::FarCallMimic => CallMode::Mimic,
            _ => CallMode::Normal,
        };
        match entered {
            Some((_, code)) => {
                self.far_handler = handler;
                self.pending =
                    Some(FarCall { mode, destination, code, is_system, is_constructor, entry, pc, ergs_before });
                Ok(())
            }
            None => {
                // vm2's panicking frame: its first state, then its one instruction (a panic
                // costing a return), which hands what is left back to this frame.
                let started_with = entry.ergs;
                let mut callee_ergs = entry.ergs;
                if TRACE {
                    let mut step = self.step(Some(pc), ergs_before);
                    step.registers = entry.registers;
                    step.registers[1] = U256::ZERO;
                    step.pointer_flags = 1 << 1;
                    step.sp = 0;
                    step.ergs_after = callee_ergs;
                    trace.push(step);
                }
                callee_ergs = callee_ergs.saturating_sub(cost::AVERAGE);
                self.far_handler = handler;
                self.resume(ReturnKind::Panic, callee_ergs, None, tx);
                if TRACE {
                    trace.push(self.step(Some(0), callee_ergs));
                }
                Err(started_with)
            }
        }
    }

    /// The far call the frame yielded on (once).
    pub fn take_far_call(&mut self) -> Option<FarCall> {
        self.pending.take()
    }

    /// Resumes the frame after its far call: r1 a fat pointer to the return data (unless
    /// the callee panicked), every other register zero, flags lt on panic, the exception
    /// handler on revert or panic, the callee's leftover ergs added.
    pub fn finish_far_call(&mut self, result: FarReturn, tx: &mut TxState) {
        let data = (result.kind != ReturnKind::Panic).then_some((result.at, result.data));
        self.resume(result.kind, result.ergs_left, data, tx);
    }

    fn resume(&mut self, kind: ReturnKind, ergs_left: u32, data: Option<((u32, u32), Vec<u8>)>, tx: &mut TxState) {
        self.regs = [U256::ZERO; 16];
        self.ptr_tags = 1 << 1;
        if let Some(((page, start), bytes)) = data {
            self.regs[1] = pointer(0, page, start, bytes.len() as u32);
            if page != self.heap_page && page != self.aux_page {
                self.foreign.push(ForeignPage { id: page, base: start, bytes: bytes.into() });
            }
        }
        self.flags = if kind == ReturnKind::Panic { LT } else { 0 };
        if kind != ReturnKind::Success {
            self.pc = self.far_handler;
        }
        self.ergs = self.ergs.saturating_add(ergs_left);
        tx.context_u128 = 0;
    }
}

/// The far-call ABI's settings byte fields (bits 224–255: gas to pass is 192–223).
struct Settings {
    shard: u8,
    constructor: bool,
    system: bool,
}

fn self_settings(abi: &U256) -> Settings {
    let [_, shard, constructor, system] = ((abi.as_limbs()[3] >> 32) as u32).to_le_bytes();
    Settings { shard, constructor: constructor != 0, system: system != 0 }
}
