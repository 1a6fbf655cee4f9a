//! Running one transaction-like call on vm2 and collecting what a differential test needs.
//!
//! vm2's `VirtualMachine::new` starts the entry frame directly on a program we hand it; this
//! module picks that program the way vm2's own far call would (AccountCodeStorage, then the
//! default account for accounts without code), sets the entry registers as a caller would
//! (r1 calldata pointer, r2 call flags, r3..r12 extra ABI words), runs, and reads the result
//! through vm2's public `StateInterface`/`WorldDiff`.

use std::collections::HashMap;

use ee_api::{Address, B256, U256};
use primitive_types::{H160, U256 as PU256};
use zksync_vm2::interface::{CallframeInterface, GlobalStateInterface, OpcodeType, ShouldStop, StateInterface, Tracer};
use zksync_vm2::{ExecutionEnd, Program, Settings, StorageSlot, VirtualMachine};

use crate::convert::{from_h160, from_pu256, to_h160, to_pu256};
use crate::world::{addresses, World};

/// One call to run as a transaction: the entry frame of a vm2 run.
#[derive(Debug, Clone)]
pub struct Tx {
    /// `msg.sender` of the entry frame.
    pub caller: Address,
    /// The account whose code runs (and whose storage is `this`).
    pub to: Address,
    pub calldata: Vec<u8>,
    /// Ergs given to the entry frame.
    pub ergs: u32,
    /// Call flag bit 1 in r2: a system call (needed for ContractDeployer's `create*`, for
    /// MsgValueSimulator, …).
    pub is_system: bool,
    /// Call flag bit 0 in r2: run the constructor. The code is then taken from an account
    /// whose AccountCodeStorage entry is marked "constructing", as vm2 requires.
    pub is_constructor: bool,
    /// The entry frame's `context_u128` (`msg.value` as the callee sees it). No balance
    /// moves: in Era the bootloader moves it through MsgValueSimulator; to move real balance,
    /// call MsgValueSimulator (0x8009) as a system call with `extra_abi` `[value, to, flags]`.
    pub value: u128,
    /// Extra ABI words placed in r3, r4, … (at most 10).
    pub extra_abi: Vec<U256>,
    /// Record a [`Step`] per instruction (slow; for diffing traces).
    pub trace: bool,
    /// Stop after this many instructions ([`Status::StepLimit`]).
    pub step_limit: Option<u64>,
}

impl Tx {
    /// A plain (non-system, non-constructor, no value) call.
    pub fn call(caller: Address, to: Address, calldata: Vec<u8>, ergs: u32) -> Tx {
        Tx {
            caller,
            to,
            calldata,
            ergs,
            is_system: false,
            is_constructor: false,
            value: 0,
            extra_abi: Vec::new(),
            trace: false,
            step_limit: None,
        }
    }

    /// Sets the system-call flag.
    pub fn system(mut self) -> Tx {
        self.is_system = true;
        self
    }

    /// Asks for a per-instruction trace.
    pub fn traced(mut self) -> Tx {
        self.trace = true;
        self
    }
}

/// How the entry frame ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `ret.ok` from the entry frame.
    Success,
    /// `ret.revert` from the entry frame (return data holds the revert payload).
    Revert,
    /// A panic in the entry frame (explicit `ret.panic`, out of ergs, invalid instruction,
    /// privilege violation, …) — or an entry to an account with nothing to run (a kernel
    /// address without code, or a world without a default account), which runs no
    /// instruction at all.
    Panic,
    /// [`Tx::step_limit`] was reached; the world diff is as far as execution got.
    StepLimit,
    /// vm2 stopped the whole machine on an instruction it does not implement (0.5.0: the
    /// static-memory opcodes), wherever it ran, printing `Unimplemented instruction` on
    /// stderr. Nothing after it is comparable; the world diff is as far as execution got.
    Unsupported,
}

/// One storage slot the run changed (before ≠ after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageWrite {
    pub address: Address,
    pub key: U256,
    pub before: U256,
    pub after: U256,
    /// Whether the world had never written the slot (vm2's "initial write").
    pub is_initial: bool,
}

/// A raw event packet as the `event` opcode records it (EventWriter emits a Solidity log as
/// several of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub key: U256,
    pub value: U256,
    pub is_first: bool,
    pub shard_id: u8,
    pub tx_number: u16,
}

/// An L2→L1 log as the `to_l1` opcode records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2ToL1Log {
    pub key: U256,
    pub value: U256,
    pub is_service: bool,
    pub address: Address,
    pub shard_id: u8,
    pub tx_number: u16,
}

/// One executed instruction: where it was, and the machine state right after it.
///
/// vm2 calls its tracer after charging an instruction's static cost and after its predicate
/// is checked; an instruction whose predicate fails is reported with opcode `Nop`. An
/// instruction that panics before that point (out of ergs for its static cost, kernel-only
/// or non-static-only instruction in the wrong mode) is not reported itself; the panic that
/// replaces it is, as `Ret(Panic)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index of the instruction in its code page (`None` if outside the program).
    pub pc: Option<u16>,
    /// vm2's opcode, as its `Debug` form (e.g. `Add`, `FarCall(Normal)`, `Ret(Revert)`).
    pub opcode: String,
    /// The running contract (`this`) when the instruction started.
    pub address: Address,
    /// Ergs of the running frame after the static cost was charged, before the rest.
    pub ergs_before: u32,
    /// r0..r15 after the instruction.
    pub registers: [U256; 16],
    /// Bit `i` set when r`i` holds a fat pointer.
    pub pointer_flags: u16,
    /// Flags (LT, EQ, GT) after the instruction.
    pub flags: (bool, bool, bool),
    /// Stack pointer of the running frame after the instruction.
    pub sp: u16,
    /// Ergs of the running frame after the instruction.
    pub ergs_after: u32,
    /// vm2's `number_of_callframes` after the instruction: far and near frames together.
    pub callframes: usize,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// The entry frame's return (or revert) data; empty on panic.
    pub return_data: Vec<u8>,
    pub ergs_given: u32,
    /// The entry frame's ergs when it ended.
    pub ergs_left: u32,
    /// Instructions the tracer saw (skipped predicated ones included).
    pub instructions: u64,
    /// Storage changes, ordered by (address, key); none for a reverted or panicked run (the
    /// entry frame's own changes are dropped, see the crate README).
    pub storage_changes: Vec<StorageWrite>,
    pub events: Vec<Event>,
    pub l2_to_l1_logs: Vec<L2ToL1Log>,
    /// Transient storage at the end of the run: (address, key, value).
    pub transient_storage: Vec<(Address, U256, U256)>,
    /// vm2's pubdata counter (from this world's simplified write costs: not Era's figure).
    pub pubdata: i32,
    /// Code hashes whose decommit this run paid for (or tried to, when out of ergs), sorted.
    /// The entry frame's own code is not among them (it is loaded free).
    pub decommits: Vec<B256>,
    /// The per-instruction trace, when [`Tx::trace`] asked for it.
    pub trace: Option<Vec<Step>>,
}

impl Outcome {
    /// Ergs the entry frame spent: given − left.
    pub fn ergs_used(&self) -> u32 {
        self.ergs_given - self.ergs_left
    }

    /// Whether the run ended with `ret.ok`.
    pub fn is_success(&self) -> bool {
        self.status == Status::Success
    }
}

/// The tracer every run uses: counts instructions, records steps on request, and stops at a
/// step limit.
#[derive(Debug, Default)]
pub(crate) struct OracleTracer {
    instructions: u64,
    limit: Option<u64>,
    trace: Option<Vec<Step>>,
    pending: Option<(Option<u16>, String, Address, u32)>,
}

fn read_registers<S: StateInterface>(state: &S) -> ([U256; 16], u16) {
    let mut regs = [U256::ZERO; 16];
    let mut ptr = 0u16;
    for (i, r) in regs.iter_mut().enumerate() {
        let (v, p) = state.read_register(i as u8);
        *r = from_pu256(v);
        ptr |= u16::from(p) << i;
    }
    (regs, ptr)
}

impl Tracer for OracleTracer {
    fn before_instruction<OP: OpcodeType, S: GlobalStateInterface>(&mut self, state: &mut S) {
        self.instructions += 1;
        if self.trace.is_some() {
            let frame = state.current_frame();
            self.pending =
                Some((frame.program_counter(), format!("{:?}", OP::VALUE), from_h160(frame.address()), frame.gas()));
        }
    }

    fn after_instruction<OP: OpcodeType, S: GlobalStateInterface>(&mut self, state: &mut S) -> ShouldStop {
        if let (Some(trace), Some((pc, opcode, address, ergs_before))) = (&mut self.trace, self.pending.take()) {
            let (registers, pointer_flags) = read_registers(state);
            let f = state.flags();
            let callframes = state.number_of_callframes();
            let frame = state.current_frame();
            trace.push(Step {
                pc,
                opcode,
                address,
                ergs_before,
                registers,
                pointer_flags,
                flags: (f.less_than, f.equal, f.greater),
                sp: frame.stack_pointer(),
                ergs_after: frame.gas(),
                callframes,
            });
        }
        match self.limit {
            Some(limit) if self.instructions >= limit => ShouldStop::Stop,
            _ => ShouldStop::Continue,
        }
    }
}

/// vm2's view of a [`World`] for one run, with the run's decoded programs cached.
///
/// vm2 only asks to decommit hashes that storage names (AccountCodeStorage, the default
/// account, the EVM emulator); a world naming a hash it has no bytecode for is a broken
/// test setup, and decommitting it panics with that hash.
struct VmWorld<'a> {
    world: &'a World,
    programs: HashMap<PU256, Program<OracleTracer, VmWorld<'a>>>,
}

impl VmWorld<'_> {
    fn bytes(&self, hash: PU256) -> Option<&[u8]> {
        self.world.code(B256::from_word(from_pu256(hash)))
    }
}

impl zksync_vm2::StorageInterface for VmWorld<'_> {
    fn read_storage(&mut self, contract: H160, key: PU256) -> StorageSlot {
        match self.world.storage.get(&(from_h160(contract), from_pu256(key))) {
            Some(v) => StorageSlot { value: to_pu256(*v), is_write_initial: false },
            None => StorageSlot::EMPTY,
        }
    }

    /// Pubdata bytes of a write. Era compresses the value; this world charges the upper
    /// bound (32-byte key + 33-byte value for an initial write, 5 + 33 for a repeated one).
    /// It only feeds vm2's pubdata counter, never ergs.
    fn cost_of_writing_storage(&mut self, initial: StorageSlot, new_value: PU256) -> u32 {
        if initial.value == new_value {
            0
        } else if initial.is_write_initial {
            65
        } else {
            38
        }
    }

    /// Era's free slots: all of SystemContext, and the bootloader's base-token balance.
    /// These get warm refunds on write, so they affect ergs.
    fn is_free_storage_slot(&self, contract: &H160, key: &PU256) -> bool {
        let contract = from_h160(*contract);
        contract == addresses::SYSTEM_CONTEXT
            || (contract == addresses::L2_BASE_TOKEN && from_pu256(*key) == World::balance_key(addresses::BOOTLOADER))
    }
}

impl<'a> zksync_vm2::World<OracleTracer> for VmWorld<'a> {
    fn decommit(&mut self, hash: PU256) -> Program<OracleTracer, VmWorld<'a>> {
        if let Some(p) = self.programs.get(&hash) {
            return p.clone();
        }
        let bytes = self
            .bytes(hash)
            .unwrap_or_else(|| panic!("world has no bytecode for hash {:#066x} that its storage names", hash));
        let program = Program::new(bytes, false);
        self.programs.insert(hash, program.clone());
        program
    }

    fn decommit_code(&mut self, hash: PU256) -> Vec<u8> {
        self.bytes(hash).map(<[u8]>::to_vec).unwrap_or_default()
    }
}

fn is_kernel(a: Address) -> bool {
    a.0[..18].iter().all(|&b| b == 0)
}

/// The code hash vm2's far call would run at `to` (mirroring its decommit rules): the
/// account's code when its constructed state matches the call kind, else the default account
/// (non-kernel addresses only). `None` when nothing can run (kernel address without code).
fn entry_code_hash(world: &World, to: Address, is_constructor: bool) -> Option<B256> {
    let default_aa = (!is_kernel(to)).then_some(world.default_aa_hash);
    let Some(mut info) = world.code_hash_at(to) else { return default_aa };
    let is_constructed = match info.0[1] {
        0 => true,
        1 => false,
        _ => return None,
    };
    match info.0[0] {
        1 if is_constructed != is_constructor => {}
        2 if is_constructed != is_constructor => info = world.evm_emulator_hash,
        1 | 2 => return default_aa,
        _ => return None,
    }
    info.0[1] = 0;
    Some(info)
}

/// Runs `tx` on vm2 in `world` (which it does not change; see [`World::execute`]).
///
/// The entry frame's code is loaded without a decommit charge, as vm2's `VirtualMachine::new`
/// does (in Era the bootloader's far call pays it). vm2 never rolls back the entry frame;
/// for a reverted or panicked run this function rolls the whole run back (vm2's external
/// snapshot), so the outcome reports no storage changes, events or logs.
pub fn run(world: &World, tx: &Tx) -> Outcome {
    assert!(tx.extra_abi.len() <= 10, "at most 10 extra ABI words (r3..r12)");
    let mut outcome = Outcome {
        status: Status::Panic,
        return_data: Vec::new(),
        ergs_given: tx.ergs,
        ergs_left: tx.ergs,
        instructions: 0,
        storage_changes: Vec::new(),
        events: Vec::new(),
        l2_to_l1_logs: Vec::new(),
        transient_storage: Vec::new(),
        pubdata: 0,
        decommits: Vec::new(),
        trace: tx.trace.then(Vec::new),
    };
    let Some(hash) = entry_code_hash(world, tx.to, tx.is_constructor).filter(|h| world.code(*h).is_some()) else {
        return outcome;
    };
    let mut vm_world = VmWorld { world, programs: HashMap::new() };
    let program = zksync_vm2::World::decommit(&mut vm_world, hash.to_word_pu256());
    let settings = Settings {
        default_aa_code_hash: world.default_aa_hash.0,
        evm_interpreter_code_hash: world.evm_emulator_hash.0,
        hook_address: 0,
    };
    let mut vm = VirtualMachine::new(to_h160(tx.to), program, to_h160(tx.caller), &tx.calldata, tx.ergs, settings);
    let flags = u8::from(tx.is_constructor) | (u8::from(tx.is_system) << 1);
    vm.set_register(2, PU256::from(flags), false);
    for (i, w) in tx.extra_abi.iter().enumerate() {
        vm.set_register(3 + i as u8, to_pu256(*w), false);
    }
    vm.current_frame().set_context_u128(tx.value);
    vm.make_snapshot();

    let mut tracer = OracleTracer { limit: tx.step_limit, trace: outcome.trace.take(), ..OracleTracer::default() };
    let end = vm.run(&mut vm_world, &mut tracer);
    outcome.instructions = tracer.instructions;
    outcome.trace = tracer.trace;
    outcome.ergs_left = vm.current_frame().gas();
    outcome.status = match end {
        ExecutionEnd::ProgramFinished(data) => {
            outcome.return_data = data;
            Status::Success
        }
        ExecutionEnd::Reverted(data) => {
            outcome.return_data = data;
            Status::Revert
        }
        // A panic of the entry frame leaves vm2's pc outside the program; its
        // unimplemented-instruction stop leaves it on that instruction.
        ExecutionEnd::Panicked if vm.current_frame().program_counter().is_some() => Status::Unsupported,
        ExecutionEnd::Panicked => Status::Panic,
        ExecutionEnd::StoppedByTracer => Status::StepLimit,
        ExecutionEnd::SuspendedOnHook(h) => unreachable!("hooks are disabled, yet hook {h} fired"),
    };
    // vm2's external rollback also forgets the decommits, so read them first.
    outcome.decommits = vm.world_diff().decommitted_hashes().map(|h| B256::from_word(from_pu256(h))).collect();
    outcome.decommits.sort();
    if matches!(outcome.status, Status::Revert | Status::Panic) {
        vm.rollback();
    }

    outcome.storage_changes = vm
        .world_diff()
        .get_storage_changes()
        .map(|((a, k), c)| StorageWrite {
            address: from_h160(a),
            key: from_pu256(k),
            before: from_pu256(c.before),
            after: from_pu256(c.after),
            is_initial: c.is_initial,
        })
        .collect();
    outcome.events = vm
        .events()
        .map(|e| Event {
            key: from_pu256(e.key),
            value: from_pu256(e.value),
            is_first: e.is_first,
            shard_id: e.shard_id,
            tx_number: e.tx_number,
        })
        .collect();
    outcome.l2_to_l1_logs = vm
        .l2_to_l1_logs()
        .map(|l| L2ToL1Log {
            key: from_pu256(l.key),
            value: from_pu256(l.value),
            is_service: l.is_service,
            address: from_h160(l.address),
            shard_id: l.shard_id,
            tx_number: l.tx_number,
        })
        .collect();
    outcome.transient_storage =
        vm.get_transient_storage_state().map(|((a, k), v)| (from_h160(a), from_pu256(k), from_pu256(v))).collect();
    outcome.pubdata = vm.pubdata();
    outcome
}

trait ToPu256 {
    fn to_word_pu256(self) -> PU256;
}

impl ToPu256 for B256 {
    fn to_word_pu256(self) -> PU256 {
        to_pu256(self.to_word())
    }
}
