//! One world run on both machines, compared instruction by instruction and at the end.

use std::fmt;
use std::sync::Arc;

use ee_api::{Address, U256};
use ee_eravm::machine::{run_stack, Entry, MemoryWorld, StackOutcome, Status, Step, TxState};
use ee_eravm::Program;
use eravm_oracle::{addresses, Outcome, Status as OStatus, Tx, World};

/// The entry frame's caller.
pub const CALLER: Address = Address([0x22; 20]);
/// The default step bound of a run: every program ends (loops stop at it, on both sides).
pub const STEP_LIMIT: u64 = 5_000;

/// A contract of a world: its address and code, and how many instruction slots of the code
/// are text (the rest are constant words), which minimization may replace with `nop`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    pub address: Address,
    pub code: Vec<u8>,
    /// Instruction slots that are program text (0: unknown, minimization leaves the code).
    pub text: usize,
}

/// A world to run: contracts (the first is the entry frame's), storage set before the run,
/// and the transaction: ergs, calldata, value (`context_u128`), step bound. The caller is
/// [`CALLER`]; user addresses without code run [`default_account`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub contracts: Vec<Contract>,
    pub storage: Vec<(Address, U256, U256)>,
    pub ergs: u32,
    pub calldata: Vec<u8>,
    pub value: u128,
    pub step_limit: u64,
}

impl Case {
    /// One contract at `address`, nothing else in the world, [`STEP_LIMIT`], no value.
    pub fn single(address: Address, code: Vec<u8>, calldata: &[u8], ergs: u32) -> Case {
        Case {
            contracts: vec![Contract { address, code, text: 0 }],
            storage: Vec::new(),
            ergs,
            calldata: calldata.to_vec(),
            value: 0,
            step_limit: STEP_LIMIT,
        }
    }

    /// The entry contract's address.
    pub fn entry(&self) -> Address {
        self.contracts[0].address
    }

    /// Adds code at `address` (a callee, a decommit target).
    pub fn install(&mut self, address: Address, code: Vec<u8>) -> &mut Case {
        self.contracts.push(Contract { address, code, text: 0 });
        self
    }
}

/// Figures of one comparison.
#[derive(Clone, Debug)]
pub struct Compared {
    /// Instructions compared (trace steps, every frame).
    pub steps: usize,
    pub status: Status,
    pub return_data: Vec<u8>,
    /// Storage changes, events, L2→L1 logs, non-zero transient slots at the end.
    pub changes: (usize, usize, usize, usize),
    /// The registers after the last step.
    pub registers: [U256; 16],
    /// Executed storage, transient, event, L2→L1, precompile and decommit instructions.
    pub world_ops: usize,
    /// Executed far calls (every kind).
    pub far_calls: usize,
}

/// What differs, first: a step's state, or one part of the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// One of the machines panicked (a Rust panic, not an EraVM one).
    Crash,
    Unsupported,
    Step,
    TraceLength,
    Status,
    ReturnData,
    ErgsLeft,
    Instructions,
    Storage,
    Events,
    Logs,
    Transient,
    Pubdata,
}

/// The first difference of a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub kind: Kind,
    /// What differs, e.g. `step 12 (Add in 0x11…11)`, `status`, `storage changes`.
    pub what: String,
    pub ours: String,
    pub theirs: String,
    /// The step before a differing step, and the entry program's listing.
    pub context: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.kind == Kind::Crash { "" } else { " differs" };
        write!(f, "{}{verb}\n  ours:   {}\n  vm2:    {}\n{}", self.what, self.ours, self.theirs, self.context)
    }
}

/// One step, the registers that are not zero.
pub fn show(s: &Step) -> String {
    let regs: Vec<String> =
        s.registers.iter().enumerate().filter(|(_, v)| !v.is_zero()).map(|(i, v)| format!("r{i}={v:#x}")).collect();
    format!(
        "pc {:?} ergs {}→{} sp {} flags {:?} ptr {:#06x} {}",
        s.pc,
        s.ergs_before,
        s.ergs_after,
        s.sp,
        s.flags,
        s.pointer_flags,
        regs.join(" ")
    )
}

/// vm2's step in our machine's shape (the fields both traces have), so one `==` and one
/// `show` serve both sides.
pub fn as_ours(s: &eravm_oracle::Step) -> Step {
    Step {
        pc: s.pc,
        ergs_before: s.ergs_before,
        registers: s.registers,
        pointer_flags: s.pointer_flags,
        flags: s.flags,
        sp: s.sp,
        ergs_after: s.ergs_after,
    }
}

pub fn status_matches(ours: Status, theirs: OStatus) -> bool {
    matches!(
        (ours, theirs),
        (Status::Success, OStatus::Success)
            | (Status::Revert, OStatus::Revert)
            | (Status::Panic, OStatus::Panic)
            | (Status::StepLimit, OStatus::StepLimit)
            | (Status::Unsupported(_), OStatus::Unsupported)
    )
}

/// What both worlds run at user addresses without code (vm2's default account; Era's is
/// `DefaultAccount`, which these worlds do not hold): writes `this` to heap word 0 and
/// returns it.
pub fn default_account() -> Vec<u8> {
    use crate::builders::{abi, konst, reg, ret_with, store};
    use ee_eravm::Op;
    ee_eravm::asm::assemble(
        &[reg(Op::This).regs(0, 0, 2, 0), store(0, 2), konst(3, 4, 0), ret_with(Op::Ret, 3)],
        &[abi(0, 32, 0)],
    )
}

/// Our world with the oracle's storage rules: pubdata 65 for a slot's first write ever, 38
/// for a later one, nothing for a write back to the initial value; SystemContext's slots and
/// the bootloader's base-token balance free.
pub fn our_world(case: &Case) -> MemoryWorld {
    let mut w = MemoryWorld { pubdata_initial_write: 65, pubdata_repeated_write: 38, ..MemoryWorld::default() };
    w.free_addresses.insert(addresses::SYSTEM_CONTEXT);
    w.free_slots.insert((addresses::L2_BASE_TOKEN, World::balance_key(addresses::BOOTLOADER)));
    let code = default_account();
    let hash = U256::from_be_bytes(ee_eravm::versioned_hash(&code).expect("valid code"));
    w.codes.insert(hash, code);
    w.default_account = Some(hash);
    // Callees first, the entry's code last (an address named twice runs the entry's).
    for c in case.contracts.iter().skip(1).chain(case.contracts.first()) {
        w.install(c.address, &c.code);
    }
    for (a, k, v) in &case.storage {
        w.storage.insert((*a, *k), *v);
    }
    w
}

/// Our side alone: the outcome, the world after it, the transaction state and the trace.
pub fn run_ours(case: &Case) -> (StackOutcome, MemoryWorld, TxState, Vec<Step>) {
    let entry_code = &case.contracts[0].code;
    let program = Program::new(entry_code).unwrap_or_else(|_| Program::new(&[0u8; 32]).expect("one zero word"));
    let mut entry = Entry::user(case.entry(), CALLER, case.ergs, case.calldata.clone());
    entry.context_u128 = case.value;
    let mut world = our_world(case);
    let mut tx_state = TxState::default();
    let mut trace = Vec::new();
    let out = run_stack(&mut world, &mut tx_state, Arc::new(program), entry, case.step_limit, Some(&mut trace));
    (out, world, tx_state, trace)
}

/// vm2's side alone, traced.
pub fn run_theirs(case: &Case) -> Outcome {
    let mut world = World::new();
    world.set_default_account(&default_account());
    for c in case.contracts.iter().skip(1).chain(case.contracts.first()) {
        world.install(c.address, &c.code);
    }
    for (a, k, v) in &case.storage {
        world.set_storage(*a, *k, *v);
    }
    let mut tx = Tx::call(CALLER, case.entry(), case.calldata.clone(), case.ergs).traced();
    tx.value = case.value;
    tx.step_limit = Some(case.step_limit);
    eravm_oracle::run(&world, &tx)
}

/// A change to our side before it is compared: given vm2's step, it may alter ours. Tests
/// plant known differences with it (minimization and replay are then checked on them).
pub type Tamper<'a> = &'a (dyn Fn(&eravm_oracle::Step, &mut Step) + Sync);

/// Runs `case` on both machines; the first difference, or the figures of the agreement.
pub fn compare(case: &Case) -> Result<Compared, Divergence> {
    compare_tampered(case, None)
}

thread_local! {
    static IN_COMPARE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics inside [`compare_caught`] (they
/// become [`Kind::Crash`] divergences carrying the message) and hands every other panic to
/// the hook installed before.
pub fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_COMPARE.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
}

/// [`compare_tampered`], with a Rust panic on either side caught and reported as a
/// [`Kind::Crash`] divergence (the campaign must go on, and a crash is a finding).
pub fn compare_caught(case: &Case, tamper: Option<Tamper>) -> Result<Compared, Divergence> {
    let was = IN_COMPARE.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compare_tampered(case, tamper)));
    IN_COMPARE.with(|c| c.set(was));
    result.unwrap_or_else(|e| {
        let message = |e: Box<dyn std::any::Any + Send>| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into())
        };
        // Which side: run ours alone (the panic may have come from either).
        let was = IN_COMPARE.with(|c| c.replace(true));
        let ours = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_ours(case))).err().map(message);
        IN_COMPARE.with(|c| c.set(was));
        let (what, ours, theirs) = match ours {
            Some(m) => ("our machine panicked (a Rust panic)", m, String::new()),
            None => ("vm2 panicked (a Rust panic)", String::new(), message(e)),
        };
        Err(Divergence {
            kind: Kind::Crash,
            what: what.into(),
            ours,
            theirs,
            context: format!("entry program:\n{}", listing(&case.contracts[0].code)),
        })
    })
}

/// The listing of the entry program (at most 64 slots).
pub fn listing(code: &[u8]) -> String {
    let Ok(program) = Program::new(code) else { return "  (invalid code)".into() };
    (0..program.instructions().len().min(64))
        .map(|pc| format!("  {pc:3}: {}", program.instruction(pc as u16)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`compare`] with our side altered by `tamper`.
pub fn compare_tampered(case: &Case, tamper: Option<Tamper>) -> Result<Compared, Divergence> {
    let (ours, our_world, tx_state, mut our_trace) = run_ours(case);
    let theirs = run_theirs(case);
    let their_trace = theirs.trace.as_ref().expect("traced");
    if let Some(t) = tamper {
        for (a, b) in our_trace.iter_mut().zip(their_trace.iter()) {
            t(b, a);
        }
    }
    let program_listing = || format!("entry program:\n{}", listing(&case.contracts[0].code));
    let diverge = |kind: Kind, what: String, ours: String, theirs: String| Divergence {
        kind,
        what,
        ours,
        theirs,
        context: program_listing(),
    };
    for (i, (a, b)) in our_trace.iter().zip(their_trace.iter()).enumerate() {
        if *a != as_ours(b) {
            let prev = if i > 0 { show(&our_trace[i - 1]) } else { "(start)".into() };
            return Err(Divergence {
                kind: Kind::Step,
                what: format!("step {i} ({} in {:?})", b.opcode, b.address),
                ours: show(a),
                theirs: show(&as_ours(b)),
                context: format!("  before: {prev}\n{}", program_listing()),
            });
        }
    }
    if let Status::Unsupported(op) = ours.status {
        if theirs.status != OStatus::Unsupported {
            return Err(diverge(
                Kind::Unsupported,
                "the program uses an operation our machine does not support".into(),
                format!("{op:?}"),
                format!("{:?}", theirs.status),
            ));
        }
    }
    if our_trace.len() != their_trace.len() {
        return Err(diverge(
            Kind::TraceLength,
            "trace length".into(),
            format!("{} steps, {:?}", our_trace.len(), ours.status),
            format!("{} steps, {:?}", their_trace.len(), theirs.status),
        ));
    }
    if !status_matches(ours.status, theirs.status) {
        return Err(diverge(
            Kind::Status,
            "status".into(),
            format!("{:?}", ours.status),
            format!("{:?}", theirs.status),
        ));
    }
    if ours.return_data != theirs.return_data {
        return Err(diverge(
            Kind::ReturnData,
            "return data".into(),
            format!("0x{}", hex::encode(&ours.return_data)),
            format!("0x{}", hex::encode(&theirs.return_data)),
        ));
    }
    if ours.ergs_left != theirs.ergs_left {
        return Err(diverge(
            Kind::ErgsLeft,
            "ergs left".into(),
            ours.ergs_left.to_string(),
            theirs.ergs_left.to_string(),
        ));
    }
    if ours.instructions != theirs.instructions {
        return Err(diverge(
            Kind::Instructions,
            "instruction count".into(),
            ours.instructions.to_string(),
            theirs.instructions.to_string(),
        ));
    }

    // The world: what changed, against what each side held before.
    let before = |a: Address, k: U256| {
        case.storage.iter().find(|(sa, sk, _)| (*sa, *sk) == (a, k)).map(|s| s.2).unwrap_or(U256::ZERO)
    };
    let mut our_changes: Vec<(Address, U256, U256, U256)> = our_world
        .storage
        .iter()
        .filter(|(&(a, k), &v)| v != before(a, k))
        .map(|(&(a, k), &v)| (a, k, before(a, k), v))
        .collect();
    let mut their_changes: Vec<_> =
        theirs.storage_changes.iter().map(|c| (c.address, c.key, c.before, c.after)).collect();
    our_changes.sort();
    their_changes.sort();
    if our_changes != their_changes {
        return Err(diverge(
            Kind::Storage,
            "storage changes".into(),
            format!("{our_changes:?}"),
            format!("{their_changes:?}"),
        ));
    }
    let our_events: Vec<_> = our_world.events.iter().map(|e| (e.key, e.value, e.is_first, e.tx_number)).collect();
    let their_events: Vec<_> = theirs.events.iter().map(|e| (e.key, e.value, e.is_first, e.tx_number)).collect();
    if our_events != their_events {
        return Err(diverge(Kind::Events, "events".into(), format!("{our_events:?}"), format!("{their_events:?}")));
    }
    let our_logs: Vec<_> =
        our_world.l2_to_l1_logs.iter().map(|l| (l.key, l.value, l.is_service, l.address, l.tx_number)).collect();
    let their_logs: Vec<_> =
        theirs.l2_to_l1_logs.iter().map(|l| (l.key, l.value, l.is_service, l.address, l.tx_number)).collect();
    if our_logs != their_logs {
        return Err(diverge(Kind::Logs, "L2→L1 logs".into(), format!("{our_logs:?}"), format!("{their_logs:?}")));
    }
    let mut our_transient: Vec<_> =
        our_world.transient.iter().filter(|(_, v)| !v.is_zero()).map(|(&(a, k), &v)| (a, k, v)).collect();
    let mut their_transient: Vec<_> = theirs.transient_storage.iter().filter(|t| !t.2.is_zero()).copied().collect();
    our_transient.sort();
    their_transient.sort();
    if our_transient != their_transient {
        return Err(diverge(
            Kind::Transient,
            "transient storage".into(),
            format!("{our_transient:?}"),
            format!("{their_transient:?}"),
        ));
    }
    if tx_state.pubdata() != theirs.pubdata {
        return Err(diverge(
            Kind::Pubdata,
            "pubdata".into(),
            tx_state.pubdata().to_string(),
            theirs.pubdata.to_string(),
        ));
    }
    Ok(Compared {
        steps: our_trace.len(),
        status: ours.status,
        return_data: ours.return_data,
        changes: (our_changes.len(), our_events.len(), our_logs.len(), our_transient.len()),
        registers: our_trace.last().map(|s| s.registers).unwrap_or_default(),
        // Counted on vm2's side, which names each step's opcode whatever frame it ran in (a
        // skipped instruction shows as Nop).
        world_ops: their_trace
            .iter()
            .filter(|s| {
                matches!(
                    s.opcode.as_str(),
                    "StorageRead"
                        | "StorageWrite"
                        | "TransientStorageRead"
                        | "TransientStorageWrite"
                        | "Event"
                        | "L2ToL1Message"
                        | "PrecompileCall"
                        | "Decommit"
                )
            })
            .count(),
        far_calls: their_trace.iter().filter(|s| s.opcode.starts_with("FarCall")).count(),
    })
}
