//! `--reference` (cargo feature `reference-revm`): the same case on revm, compared with ours.
//!
//! A debugging aid: it finds *where* our run departs from an independent EVM,
//! which a wrong state root alone does not say. Both sides start from the
//! case's pre-state, block and transaction; the comparison covers the outcome
//! (included or rejected, and how the outermost frame ended), gas used, logs,
//! the post-state account by account and slot by slot, and the first
//! instruction at which the two traces diverge. Verdicts never depend on it.
//!
//! Traces are compared on what both implementations report the same way:
//! pc, opcode, depth, gas left *before* the step and the whole stack. Not
//! gasCost, whose convention for calls differs between tracers.
//!
//! A step is recorded compactly (the stack as a digest), up to
//! [`MAX_RECORDED_STEPS`] per side, so a long trace costs bounded memory; when
//! the traces diverge, both sides run once more to capture the full detail
//! of the diverging step and the one before it.
//!
//! revm's U256 is the same `ruint` type as ours, so words pass unconverted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bootloader::{execute_transaction_traced, ExecutionLimits, TxError, WorldState};
use ee_api::{Address, ExitStatus, Fork, HaltReason, Step, Tracer, B256, U256};
use revm::bytecode::OpCode;
use revm::context_interface::result::ExecutionResult;
use revm::context_interface::{ContextTr, JournalTr};
use revm::database::State;
use revm::interpreter::interpreter_types::Jumps;
use revm::interpreter::Interpreter;
use revm::primitives::hardfork::SpecId;
use revm::{Context, InspectCommitEvm, Inspector, MainBuilder, MainContext};

use super::case::Prepared;
use super::inputs::{inputs, Inputs};
use super::model::{PostEntry, StateTest};
use super::revm_env::{revm_block, revm_cfg, revm_log, revm_pre_state, revm_tx, revm_world, spec_id};
use crate::panics;
use crate::report::{CaseRecord, Verdict};
use crate::suites::RunOptions;

/// Steps recorded per side (32 bytes each); a longer trace is compared over this prefix.
pub(crate) const MAX_RECORDED_STEPS: usize = 1_000_000;
/// Lines of each list (accounts, slots of one account) before "... and N more".
const LISTED: usize = 12;
/// Stack items shown (top first) for a step around the divergence.
const STACK_SHOWN: usize = 4;

/// `--reference`: compares the case with revm when it failed, or when it is the one
/// `--case`. A failure gets the comparison appended to its `diff`; a `--case` run also
/// prints it on stderr (unless stderr carries the trace).
pub(crate) fn attach(
    rec: &mut CaseRecord,
    test: &StateTest,
    prep: &Prepared,
    entry: &PostEntry,
    fork: Fork,
    opts: &RunOptions,
) {
    let failing = rec.verdict != Verdict::Pass;
    if !opts.reference || !(failing || opts.case.is_some()) {
        return;
    }
    let text = panics::catch(|| compare_case(test, prep, entry, fork, opts.case_timeout))
        .unwrap_or_else(|panic| format!("revm comparison crashed: {panic}"));
    let trace_on_stderr = opts.trace.as_ref().is_some_and(|t| t.out.is_none());
    if opts.case.is_some() && !trace_on_stderr {
        eprintln!("{}:\n{text}", rec.id);
    }
    if failing {
        rec.diff = Some(match rec.diff.take() {
            Some(diff) => format!("{diff}\n{text}"),
            None => text,
        });
    }
}

/// Runs the case on both sides and renders the comparison (or why there is none).
pub(crate) fn compare_case(
    test: &StateTest,
    prep: &Prepared,
    entry: &PostEntry,
    fork: Fork,
    timeout: Duration,
) -> String {
    // The case's own time bound: it scales with the gas the transaction declares (case::time_bound).
    let gas = |n: Option<&super::model::Num>| n.and_then(|n| n.to_u256().ok()).map_or(0, |v| v.saturating_to::<u64>());
    let declared = gas(test.transaction.gas_limit.get(entry.indexes.gas)).min(gas(Some(&test.env.current_gas_limit)));
    let bound = super::case::time_bound(timeout, declared);
    let deadline = (!bound.is_zero()).then(|| Instant::now() + bound);
    match run_both(test, prep, entry, fork, deadline) {
        Ok(both) => render(&both),
        Err(why) => format!("revm reference: no comparison: {why}"),
    }
}

/// Both runs and their comparison.
pub(crate) struct Both {
    pub spec: SpecId,
    pub ours: Side,
    pub revm: Side,
    pub comparison: Comparison,
    /// Known reasons why revm may differ from ours on this case, shown with any difference.
    pub caveats: Vec<String>,
}

/// Runs ours and revm; on a trace divergence, runs both again to capture the detail around it.
pub(crate) fn run_both(
    test: &StateTest,
    prep: &Prepared,
    entry: &PostEntry,
    fork: Fork,
    deadline: Option<Instant>,
) -> Result<Both, String> {
    let spec = spec_id(fork)
        .ok_or_else(|| format!("revm has no {fork} spec (it implements Petersburg, without EIP-1283, in its place)"))?;
    let inputs = inputs(test, prep, entry, fork, deadline)?;
    let (ours, _) = run_ours(&inputs, Recorder::new(deadline, MAX_RECORDED_STEPS, None))?;
    let (revm, _) = run_revm(&inputs, spec, Recorder::new(deadline, MAX_RECORDED_STEPS, None))?;
    let mut comparison = compare(&ours, &revm);
    if let Some(d) = &mut comparison.divergence {
        d.ours_detail = run_ours(&inputs, Recorder::new(deadline, 0, Some(d.index)))?.1;
        d.revm_detail = run_revm(&inputs, spec, Recorder::new(deadline, 0, Some(d.index)))?.1;
    }
    Ok(Both { spec, ours, revm, comparison, caveats: caveats(inputs.pre) })
}

/// Where revm 43 is known to depart from the spec the vectors follow (revme skips these vectors).
fn caveats(pre: &WorldState) -> Vec<String> {
    let mut with_storage_only: Vec<&Address> = pre
        .accounts
        .iter()
        .filter(|(_, a)| a.nonce == 0 && a.code.is_empty() && a.has_storage())
        .map(|(address, _)| address)
        .collect();
    with_storage_only.sort();
    with_storage_only
        .into_iter()
        .map(|a| {
            format!(
                "{a} has storage but no code or nonce: a deployment there is a collision (EIP-7610), \
                 which revm 43 does not detect (revme skips such vectors), so the two differ wherever one happens"
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// What each side produces
// ---------------------------------------------------------------------------

/// One side's run of the case.
#[derive(Clone, Debug)]
pub(crate) struct Side {
    pub outcome: Outcome,
    /// The world after the transaction and the block's coinbase touch.
    pub post: PostState,
    /// Its state root and the logs' hash, as a vector's post entry states them (a saved
    /// `differential evm` vector takes revm's).
    pub root: B256,
    pub logs_hash: B256,
    pub trace: Trace,
}

/// Whether the transaction was included, and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Included { status: Status, gas_used: u64, logs: Vec<LogEntry> },
    Rejected(String),
}

/// How the outermost frame ended. Halt reasons are spelled differently by
/// each side, so only the kind is compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Success,
    Revert,
    Halt(String),
}

impl Status {
    fn same_kind(&self, other: &Status) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Vec<u8>,
}

/// An account of the final world state, with only its non-zero slots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PostAccount {
    pub balance: U256,
    pub nonce: u64,
    pub code_hash: B256,
    pub storage: BTreeMap<U256, U256>,
}

pub(crate) type PostState = BTreeMap<Address, PostAccount>;

/// The comparable post-state of a world. The code hash is computed here from the bytes
/// (keccak256 of empty code is the empty-code hash), the same way for both sides.
fn post_state(world: &WorldState) -> PostState {
    world
        .accounts
        .iter()
        .map(|(address, a)| {
            let storage = a.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
            (
                *address,
                PostAccount { balance: a.balance, nonce: a.nonce, code_hash: B256::keccak(&a.code.bytes), storage },
            )
        })
        .collect()
}

/// One instruction, as compared between the sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepRec {
    pub pc: u64,
    /// Gas left before the instruction.
    pub gas: u64,
    /// Digest of the whole stack (see [`stack_digest`]).
    pub stack_digest: u64,
    pub stack_len: u32,
    pub depth: u16,
    pub op: u8,
}

impl StepRec {
    pub(crate) fn new(pc: u64, op: u8, gas: u64, depth: u64, stack: &[U256]) -> StepRec {
        StepRec {
            pc,
            gas,
            stack_digest: stack_digest(stack),
            stack_len: stack.len() as u32,
            depth: depth.min(u16::MAX as u64) as u16,
            op,
        }
    }

    /// The fields in which two steps differ.
    fn differing_fields(&self, other: &StepRec) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (differs, name) in [
            (self.depth != other.depth, "depth"),
            (self.pc != other.pc, "pc"),
            (self.op != other.op, "op"),
            (self.gas != other.gas, "gas"),
            (self.stack_len != other.stack_len || self.stack_digest != other.stack_digest, "stack"),
        ] {
            if differs {
                out.push(name);
            }
        }
        out
    }
}

/// FNV-1a over the stack's limbs: cheap per step, and a difference anywhere in the stack shows.
fn stack_digest(stack: &[U256]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for word in stack {
        for limb in word.as_limbs() {
            h = (h ^ limb).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A step around the divergence with the top of its stack (top first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StepDetail {
    pub index: usize,
    pub rec: StepRec,
    pub stack_top: Vec<U256>,
}

/// The steps of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// The first [`MAX_RECORDED_STEPS`] steps.
    pub steps: Vec<StepRec>,
    /// Every step the run made, recorded or not.
    pub total: usize,
}

impl Trace {
    fn complete(&self) -> bool {
        self.steps.len() == self.total
    }
}

/// Records the steps of a run, for our EVM (as a [`Tracer`]) and for revm (as an [`Inspector`]).
struct Recorder {
    steps: Vec<StepRec>,
    cap: usize,
    seen: usize,
    /// Capture the full detail of this step and the one before it.
    detail_at: Option<usize>,
    details: Vec<StepDetail>,
    deadline: Option<Instant>,
    /// revm ran past the deadline and was stopped (ours stops itself).
    interrupted: bool,
}

impl Recorder {
    fn new(deadline: Option<Instant>, cap: usize, detail_at: Option<usize>) -> Recorder {
        Recorder { steps: Vec::new(), cap, seen: 0, detail_at, details: Vec::new(), deadline, interrupted: false }
    }

    fn observe(&mut self, pc: u64, op: u8, gas: u64, depth: u64, stack: &[U256]) {
        let index = self.seen;
        self.seen += 1;
        let wanted = self.detail_at.is_some_and(|at| index == at || index + 1 == at);
        if index < self.cap || wanted {
            let rec = StepRec::new(pc, op, gas, depth, stack);
            if index < self.cap {
                self.steps.push(rec);
            }
            if wanted {
                let stack_top = stack.iter().rev().take(STACK_SHOWN).copied().collect();
                self.details.push(StepDetail { index, rec, stack_top });
            }
        }
    }

    /// The recorded trace and the captured details.
    fn finish(self) -> (Trace, Vec<StepDetail>) {
        (Trace { steps: self.steps, total: self.seen }, self.details)
    }

    fn past_deadline(&mut self) -> bool {
        // Checked every 4096 steps: Instant::now costs more than a step.
        if self.seen & 0xfff == 0 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.interrupted = true;
        }
        self.interrupted
    }
}

impl Tracer for Recorder {
    fn step(&mut self, step: &Step<'_>) {
        self.observe(step.pc, step.op, step.gas, step.depth, step.stack);
    }
}

impl<CTX: ContextTr> Inspector<CTX> for Recorder {
    fn step(&mut self, interp: &mut Interpreter, context: &mut CTX) {
        if self.past_deadline() {
            // Out of gas at every frame's next step unwinds the whole transaction (a fatal
            // halt would panic in revm); the result is discarded.
            interp.halt_oog();
            return;
        }
        let depth = context.journal().depth() as u64;
        self.observe(
            interp.bytecode.pc() as u64,
            interp.bytecode.opcode(),
            interp.gas.remaining(),
            depth,
            interp.stack.data(),
        );
    }
}

/// keccak256 of the RLP of the outcome's logs (none for a rejection).
fn outcome_logs_hash(outcome: &Outcome) -> B256 {
    let logs: Vec<ee_api::Log> = match outcome {
        Outcome::Included { logs, .. } => logs
            .iter()
            .map(|l| ee_api::Log { address: l.address, topics: l.topics.clone(), data: l.data.clone().into() })
            .collect(),
        Outcome::Rejected(_) => Vec::new(),
    };
    bootloader::logs_hash(&logs)
}

fn out_of_time(who: &str) -> String {
    format!("{who} run did not finish within the case time bound")
}

// ---------------------------------------------------------------------------
// Our run
// ---------------------------------------------------------------------------

/// Our bootloader and EVM, as the case runner runs them, with the coinbase touch after.
fn run_ours(inp: &Inputs<'_>, mut rec: Recorder) -> Result<(Side, Vec<StepDetail>), String> {
    let mut state = inp.pre.clone();
    let limits = ExecutionLimits { deadline: inp.deadline };
    let result = execute_transaction_traced(&mut state, &inp.block, &inp.tx, inp.fork, limits, Some(&mut rec));
    let outcome = match result {
        Err(TxError::Interrupted) => return Err(out_of_time("our")),
        Ok(out) if out.status == ExitStatus::Halt(HaltReason::Interrupted) => return Err(out_of_time("our")),
        Err(e) => Outcome::Rejected(e.to_string()),
        Ok(out) => Outcome::Included {
            status: match out.status {
                ExitStatus::Success => Status::Success,
                ExitStatus::Revert => Status::Revert,
                ExitStatus::Halt(h) => Status::Halt(h.to_string()),
            },
            gas_used: out.gas_used,
            logs: out
                .logs
                .iter()
                .map(|l| LogEntry { address: l.address, topics: l.topics.clone(), data: l.data.to_vec() })
                .collect(),
        },
    };
    inp.after(&mut state, matches!(outcome, Outcome::Included { .. }));
    let (trace, details) = rec.finish();
    let (root, logs_hash) = (bootloader::state_root(&state), outcome_logs_hash(&outcome));
    Ok((Side { outcome, post: post_state(&state), root, logs_hash, trace }, details))
}

// ---------------------------------------------------------------------------
// revm's run
// ---------------------------------------------------------------------------

/// revm's run, committed to its cache; the post-state is every account its cache
/// holds as existing (as revme computes its state root), with the coinbase touch after.
fn run_revm(inp: &Inputs<'_>, spec: SpecId, mut rec: Recorder) -> Result<(Side, Vec<StepDetail>), String> {
    let cfg = revm_cfg(spec, inp);
    let block = revm_block(inp, &cfg);
    let mut db = State::builder().with_cached_prestate(revm_pre_state(inp.pre, inp.fork)).build();
    let outcome = match revm_tx(&inp.tx, cfg.chain_id) {
        Err(why) => Outcome::Rejected(format!("revm cannot take the transaction: {why}")),
        Ok(tx) => {
            let result = {
                let mut evm = Context::mainnet()
                    .with_block(block)
                    .with_cfg(cfg)
                    .with_db(&mut db)
                    .build_mainnet_with_inspector(&mut rec);
                evm.inspect_tx_commit(tx)
            };
            if rec.interrupted {
                return Err(out_of_time("revm's"));
            }
            match result {
                Err(e) => Outcome::Rejected(e.to_string()),
                Ok(r) => {
                    let logs = r
                        .logs()
                        .iter()
                        .map(|l| {
                            let l = revm_log(l);
                            LogEntry { address: l.address, topics: l.topics, data: l.data.to_vec() }
                        })
                        .collect();
                    let status = match &r {
                        ExecutionResult::Success { .. } => Status::Success,
                        ExecutionResult::Revert { .. } => Status::Revert,
                        ExecutionResult::Halt { reason, .. } => Status::Halt(format!("{reason:?}")),
                    };
                    Outcome::Included { status, gas_used: r.tx_gas_used(), logs }
                }
            }
        }
    };
    let mut world = revm_world(&db)?;
    inp.after(&mut world, matches!(outcome, Outcome::Included { .. }));
    let (trace, details) = rec.finish();
    let (root, logs_hash) = (bootloader::state_root(&world), outcome_logs_hash(&outcome));
    Ok((Side { outcome, post: post_state(&world), root, logs_hash, trace }, details))
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/// Where the two runs differ; empty when revm agrees.
#[derive(Clone, Debug, Default)]
pub(crate) struct Comparison {
    /// The outcomes differ in kind (included vs rejected, or success/revert/halt).
    pub outcome: bool,
    /// Ours, revm's (both included).
    pub gas_used: Option<(u64, u64)>,
    /// Index of the first differing log and the log counts (ours, revm's).
    pub logs: Option<(usize, usize, usize)>,
    pub accounts: Vec<AccountDiff>,
    pub divergence: Option<Divergence>,
}

impl Comparison {
    pub(crate) fn is_empty(&self) -> bool {
        !self.outcome
            && self.gas_used.is_none()
            && self.logs.is_none()
            && self.accounts.is_empty()
            && self.divergence.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AccountDiff {
    OnlyOurs(Address, PostAccount),
    OnlyRevm(Address, PostAccount),
    Differs {
        address: Address,
        /// (ours, revm's) for each field that differs.
        balance: Option<(U256, U256)>,
        nonce: Option<(u64, u64)>,
        code_hash: Option<(B256, B256)>,
        slots: Vec<SlotDiff>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlotDiff {
    pub key: U256,
    pub ours: U256,
    pub revm: U256,
}

/// The first step at which the traces differ, or one ends before the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Divergence {
    pub index: usize,
    pub ours: Option<StepRec>,
    pub revm: Option<StepRec>,
    /// The step before, the same on both sides.
    pub previous: Option<StepRec>,
    /// Captured by a second run: the steps `index - 1` and `index` with their stack tops.
    pub ours_detail: Vec<StepDetail>,
    pub revm_detail: Vec<StepDetail>,
}

/// Compares two runs field by field.
pub(crate) fn compare(ours: &Side, revm: &Side) -> Comparison {
    let mut c = Comparison { accounts: compare_post(&ours.post, &revm.post), ..Comparison::default() };
    match (&ours.outcome, &revm.outcome) {
        (Outcome::Rejected(_), Outcome::Rejected(_)) => {}
        (
            Outcome::Included { status: s1, gas_used: g1, logs: l1 },
            Outcome::Included { status: s2, gas_used: g2, logs: l2 },
        ) => {
            c.outcome = !s1.same_kind(s2);
            c.gas_used = (g1 != g2).then_some((*g1, *g2));
            if l1 != l2 {
                let first = l1.iter().zip(l2).position(|(a, b)| a != b).unwrap_or(l1.len().min(l2.len()));
                c.logs = Some((first, l1.len(), l2.len()));
            }
            c.divergence = first_divergence(&ours.trace, &revm.trace);
        }
        _ => c.outcome = true,
    }
    c
}

/// Per-account, per-slot differences of two post-states, by address.
pub(crate) fn compare_post(ours: &PostState, revm: &PostState) -> Vec<AccountDiff> {
    let mut out = Vec::new();
    let addresses: std::collections::BTreeSet<&Address> = ours.keys().chain(revm.keys()).collect();
    for address in addresses {
        match (ours.get(address), revm.get(address)) {
            (Some(a), None) => out.push(AccountDiff::OnlyOurs(*address, a.clone())),
            (None, Some(b)) => out.push(AccountDiff::OnlyRevm(*address, b.clone())),
            (Some(a), Some(b)) if a != b => {
                let keys: std::collections::BTreeSet<&U256> = a.storage.keys().chain(b.storage.keys()).collect();
                let slots = keys
                    .into_iter()
                    .filter_map(|k| {
                        let (x, y) = (
                            a.storage.get(k).copied().unwrap_or_default(),
                            b.storage.get(k).copied().unwrap_or_default(),
                        );
                        (x != y).then_some(SlotDiff { key: *k, ours: x, revm: y })
                    })
                    .collect();
                out.push(AccountDiff::Differs {
                    address: *address,
                    balance: (a.balance != b.balance).then_some((a.balance, b.balance)),
                    nonce: (a.nonce != b.nonce).then_some((a.nonce, b.nonce)),
                    code_hash: (a.code_hash != b.code_hash).then_some((a.code_hash, b.code_hash)),
                    slots,
                });
            }
            _ => {}
        }
    }
    out
}

/// The first step where the recorded traces differ, or where the shorter complete one ends.
pub(crate) fn first_divergence(ours: &Trace, revm: &Trace) -> Option<Divergence> {
    let common = ours.steps.len().min(revm.steps.len());
    let index = match ours.steps.iter().zip(&revm.steps).position(|(a, b)| a != b) {
        Some(i) => i,
        // A prefix agrees: they diverge where a complete trace ends before the other.
        None if (ours.complete() && ours.total == common && revm.total > common)
            || (revm.complete() && revm.total == common && ours.total > common) =>
        {
            common
        }
        None => return None,
    };
    Some(Divergence {
        index,
        ours: ours.steps.get(index).copied(),
        revm: revm.steps.get(index).copied(),
        previous: index.checked_sub(1).map(|i| ours.steps[i]),
        ours_detail: Vec::new(),
        revm_detail: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

pub(crate) fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Rejected(why) => format!("rejected ({why})"),
        Outcome::Included { status: Status::Success, .. } => "included, success".to_string(),
        Outcome::Included { status: Status::Revert, .. } => "included, reverted".to_string(),
        Outcome::Included { status: Status::Halt(why), .. } => format!("included, halted ({why})"),
    }
}

fn op_name(op: u8) -> String {
    OpCode::new(op).map_or_else(|| format!("0x{op:02x}"), |o| o.as_str().to_string())
}

fn step_text(rec: &StepRec, detail: Option<&StepDetail>) -> String {
    let mut s =
        format!("depth {} pc {} {} gas {} stack({})", rec.depth, rec.pc, op_name(rec.op), rec.gas, rec.stack_len);
    if let Some(d) = detail {
        let top: Vec<String> = d.stack_top.iter().map(|w| format!("{w:#x}")).collect();
        let more = if rec.stack_len as usize > d.stack_top.len() { ", ..." } else { "" };
        s += &format!(" top [{}{more}]", top.join(", "));
    }
    s
}

fn account_text(a: &PostAccount) -> String {
    format!("balance {:#x}, nonce {}, code {}, {} slots", a.balance, a.nonce, a.code_hash, a.storage.len())
}

/// The human-readable report: "revm agrees" or the differences, each on one line.
pub(crate) fn render(both: &Both) -> String {
    let Both { spec, ours, revm, comparison: c, .. } = both;
    let mut out = String::new();
    let steps = |t: &Trace| {
        if t.complete() {
            format!("{} steps", t.total)
        } else {
            format!("{} steps, the first {} compared", t.total, t.steps.len())
        }
    };
    if c.is_empty() {
        let gas = match &ours.outcome {
            Outcome::Included { gas_used, .. } => format!(", gas used {gas_used}"),
            Outcome::Rejected(_) => String::new(),
        };
        let slots: usize = ours.post.values().map(|a| a.storage.len()).sum();
        // Both rejected: the reasons are worded differently, and either may be the one the vector expects.
        let outcome = match (&ours.outcome, &revm.outcome) {
            (Outcome::Rejected(a), Outcome::Rejected(b)) => format!("rejected (ours: {a}; revm: {b})"),
            _ => outcome_text(&ours.outcome),
        };
        let _ = write!(
            out,
            "revm agrees (revm 43, spec {spec:?}): {outcome}{gas}, post-state ({} accounts, {slots} slots), trace ({})",
            ours.post.len(),
            steps(&ours.trace),
        );
        return out;
    }
    let _ = writeln!(out, "revm differs (revm 43, spec {spec:?}):");
    if c.outcome {
        let _ = writeln!(out, "  outcome: ours {}, revm {}", outcome_text(&ours.outcome), outcome_text(&revm.outcome));
    }
    if let Some((g1, g2)) = c.gas_used {
        let _ = writeln!(out, "  gas used: ours {g1}, revm {g2} (ours {:+})", g1 as i128 - g2 as i128);
    }
    if let Some((i, n1, n2)) = c.logs {
        let _ = writeln!(out, "  logs: first difference at log {i} (ours {n1} logs, revm {n2})");
    }
    for d in c.accounts.iter().take(LISTED) {
        match d {
            AccountDiff::OnlyOurs(a, acc) => {
                let _ = writeln!(out, "  account {a}: only in ours ({})", account_text(acc));
            }
            AccountDiff::OnlyRevm(a, acc) => {
                let _ = writeln!(out, "  account {a}: only in revm's ({})", account_text(acc));
            }
            AccountDiff::Differs { address, balance, nonce, code_hash, slots } => {
                if let Some((x, y)) = balance {
                    let _ = writeln!(out, "  account {address}: balance ours {x:#x}, revm {y:#x}");
                }
                if let Some((x, y)) = nonce {
                    let _ = writeln!(out, "  account {address}: nonce ours {x}, revm {y}");
                }
                if let Some((x, y)) = code_hash {
                    let _ = writeln!(out, "  account {address}: code hash ours {x}, revm {y}");
                }
                for s in slots.iter().take(LISTED) {
                    let _ =
                        writeln!(out, "  account {address} slot {:#x}: ours {:#x}, revm {:#x}", s.key, s.ours, s.revm);
                }
                if slots.len() > LISTED {
                    let _ = writeln!(out, "  account {address}: ... and {} more slots", slots.len() - LISTED);
                }
            }
        }
    }
    if c.accounts.len() > LISTED {
        let _ = writeln!(out, "  ... and {} more accounts", c.accounts.len() - LISTED);
    }
    match &c.divergence {
        Some(d) => {
            let detail = |v: &[StepDetail], i: usize| v.iter().find(|s| s.index == i).cloned();
            let _ = writeln!(
                out,
                "  trace: first divergence at step {} (ours {}, revm {})",
                d.index,
                steps(&ours.trace),
                steps(&revm.trace)
            );
            if let Some(p) = &d.previous {
                let prev = detail(&d.ours_detail, d.index - 1);
                let _ = writeln!(out, "    step {} (same): {}", d.index - 1, step_text(p, prev.as_ref()));
            }
            let side = |rec: &Option<StepRec>, details: &[StepDetail]| match rec {
                Some(r) => step_text(r, detail(details, d.index).as_ref()),
                None => "(no such step: the trace ended)".to_string(),
            };
            let _ = writeln!(out, "    step {} ours: {}", d.index, side(&d.ours, &d.ours_detail));
            let _ = writeln!(out, "    step {} revm: {}", d.index, side(&d.revm, &d.revm_detail));
            if let (Some(a), Some(b)) = (&d.ours, &d.revm) {
                let _ = writeln!(out, "    differs in: {}", a.differing_fields(b).join(", "));
            }
        }
        None if matches!((&ours.outcome, &revm.outcome), (Outcome::Included { .. }, Outcome::Included { .. })) => {
            let _ = writeln!(out, "  trace: the same ({})", steps(&ours.trace));
        }
        None => {}
    }
    for note in &both.caveats {
        let _ = writeln!(out, "  note: {note}");
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::super::model::StateFile;
    use super::*;

    fn fixture(rel: &str) -> StateFile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state").join(rel);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// Every case of the file, and its first case again under each of `more_forks`: revm must agree on each.
    fn agrees_on(rel: &str, more_forks: &[Fork]) -> usize {
        let file = fixture(rel);
        let mut compared = 0;
        for (name, test) in &file {
            let prep = Prepared::new(test);
            let specs = super::super::case::expand(rel, name, test, &[]);
            let first = specs[0].entry;
            let runs = specs
                .iter()
                .map(|s| (s.id.clone(), s.entry, s.fork.unwrap()))
                .chain(more_forks.iter().map(|&f| (format!("{name} under {f}"), first, f)));
            for (id, entry, fork) in runs {
                let both = run_both(test, &prep, entry, fork, None).unwrap_or_else(|e| panic!("{id}: {e}"));
                let text = render(&both);
                assert!(both.comparison.is_empty(), "{id}: {text}");
                assert!(text.starts_with("revm agrees"), "{id}: {text}");
                compared += 1;
            }
        }
        compared
    }

    #[test]
    fn revm_agrees_on_add11() {
        // The vector's forks (Berlin to Cancun), and older ones: the coinbase is created before EIP-158.
        let older = [Fork::Frontier, Fork::Homestead, Fork::SpuriousDragon, Fork::Istanbul];
        assert_eq!(agrees_on("stExample/add11.json", &older), 9);
        let file = fixture("stExample/add11.json");
        let (name, test) = file.iter().next().unwrap();
        let spec = super::super::case::expand("add11", name, test, &[Fork::Cancun]).remove(0);
        let both = run_both(test, &Prepared::new(test), spec.entry, Fork::Cancun, None).unwrap();
        // PUSH1 1 PUSH1 1 ADD PUSH1 0 SSTORE STOP, seen by both sides.
        assert_eq!(both.ours.trace.total, 6);
        assert_eq!(both.ours.trace.steps, both.revm.trace.steps);
        assert!(matches!(both.revm.outcome, Outcome::Included { status: Status::Success, .. }));
        let text = render(&both);
        assert!(text.contains("included, success, gas used"), "{text}");
        assert!(text.contains("trace (6 steps)"), "{text}");
    }

    #[test]
    fn revm_agrees_on_a_rejected_transaction() {
        assert_eq!(agrees_on("stExample/invalidTr.json", &[Fork::Frontier]), 6);
    }

    #[test]
    fn no_comparison_where_revm_cannot_run() {
        let file = fixture("stExample/add11.json");
        let (_, test) = file.iter().next().unwrap();
        let entry = &test.post.values().next().unwrap()[0];
        let text = compare_case(test, &Prepared::new(test), entry, Fork::Constantinople, Duration::ZERO);
        assert!(text.contains("no comparison: revm has no Constantinople spec"), "{text}");
        let file = fixture("stTransactionTest/ValueOverflow.json");
        let (_, test) = file.iter().next().unwrap();
        let (fork, entries) = test.post.iter().next().unwrap();
        let fork = Fork::from_name(fork).unwrap();
        let texts: Vec<String> =
            entries.iter().map(|e| compare_case(test, &Prepared::new(test), e, fork, Duration::ZERO)).collect();
        assert!(texts.iter().any(|t| t.contains("no comparison: the transaction cannot be encoded")), "{texts:?}");
    }

    /// Paris without `currentRandom`: our EVM's PREVRANDAO falls back to the difficulty, revm
    /// (as revme sets it up) reads zero. A genuine divergence, from the vector, not a bug.
    const NO_RANDOM: &str = include_str!("../../../tests/fixtures/reference/noRandom.json");

    #[test]
    fn a_real_divergence_is_named_down_to_the_step() {
        let file: StateFile = serde_json::from_str(NO_RANDOM).unwrap();
        let test = &file["t"];
        let both = run_both(test, &Prepared::new(test), &test.post["Paris"][0], Fork::Paris, None).unwrap();
        let c = &both.comparison;
        let contract =
            Address::from_word(U256::from_str_radix("095e7baea6a6c7c4c2dfeb977efac326af552d87", 16).unwrap());
        let slot0 = c.accounts.iter().find_map(|d| match d {
            AccountDiff::Differs { address, slots, .. } if *address == contract => Some(slots.clone()),
            _ => None,
        });
        assert_eq!(slot0, Some(vec![SlotDiff { key: U256::ZERO, ours: U256::from(0x20000), revm: U256::ZERO }]));
        assert!(c.gas_used.is_some(), "SSTORE of a non-zero value costs more");
        let d = c.divergence.as_ref().unwrap();
        assert_eq!(d.index, 1, "PREVRANDAO runs alike; the PUSH1 after it sees different stacks");
        let text = render(&both);
        assert!(
            text.contains("account 0x095e7baea6a6c7c4c2dfeb977efac326af552d87 slot 0x0: ours 0x20000, revm 0x0"),
            "{text}"
        );
        assert!(text.contains("step 0 (same): depth 1 pc 0 DIFFICULTY gas"), "{text}");
        assert!(text.contains("step 1 ours: depth 1 pc 1 PUSH1 gas"), "{text}");
        assert!(text.contains("stack(1) top [0x20000]"), "{text}");
        assert!(text.contains("stack(1) top [0x0]"), "{text}");
        assert!(text.contains("differs in: stack"), "{text}");
    }

    #[test]
    fn a_run_past_its_time_bound_is_no_comparison() {
        let file = fixture("stExample/add11.json");
        let test = &file["add11"];
        let (prep, entry) = (Prepared::new(test), &test.post["Cancun"][0]);
        let past = Some(Instant::now());
        let inputs = inputs(test, &prep, entry, Fork::Cancun, past).unwrap();
        let revm = run_revm(&inputs, SpecId::CANCUN, Recorder::new(past, MAX_RECORDED_STEPS, None));
        assert_eq!(revm.unwrap_err(), "revm's run did not finish within the case time bound");
        let text = match run_both(test, &prep, entry, Fork::Cancun, past) {
            Err(e) => e,
            Ok(both) => render(&both),
        };
        assert!(text.contains("did not finish within the case time bound"), "{text}");
    }

    #[test]
    fn recorder_caps_the_trace_and_captures_around_one_step() {
        let mut r = Recorder::new(None, 2, Some(3));
        for i in 0..5u64 {
            let stack: Vec<U256> = (0..=i).map(U256::from).collect();
            r.observe(i, 0x01, 100 - i, 1, &stack);
        }
        let (trace, details) = r.finish();
        assert_eq!((trace.steps.len(), trace.total, trace.complete()), (2, 5, false));
        assert_eq!(details.iter().map(|d| d.index).collect::<Vec<_>>(), [2, 3]);
        let top: Vec<U256> = [3u64, 2, 1, 0].map(U256::from).to_vec();
        assert_eq!(details[1].stack_top, top, "top first, at most STACK_SHOWN");
        // A truncated prefix that agrees is no divergence.
        let other = Trace { steps: trace.steps.clone(), total: 7 };
        assert!(first_divergence(&trace, &other).is_none());
    }

    fn account(balance: u64, slots: &[(u64, u64)]) -> PostAccount {
        PostAccount {
            balance: U256::from(balance),
            nonce: 1,
            code_hash: ee_api::keccak_empty(),
            storage: slots.iter().map(|&(k, v)| (U256::from(k), U256::from(v))).collect(),
        }
    }

    fn side(post: PostState, steps: Vec<StepRec>) -> Side {
        let outcome = Outcome::Included { status: Status::Success, gas_used: 43_000, logs: Vec::new() };
        Side { outcome, post, root: B256::ZERO, logs_hash: B256::ZERO, trace: Trace { total: steps.len(), steps } }
    }

    #[test]
    fn comparison_names_the_slot_and_the_step() {
        let a = Address([0xaa; 20]);
        let b = Address([0xbb; 20]);
        let ours_post: PostState = [(a, account(5, &[(1, 2), (3, 4)])), (b, account(7, &[]))].into();
        let mut revm_post = ours_post.clone();
        revm_post.get_mut(&a).unwrap().storage.insert(U256::from(3), U256::from(9));
        let one = U256::from(1);
        let two = U256::from(2);
        let steps = vec![
            StepRec::new(0, 0x60, 100, 1, &[]),
            StepRec::new(2, 0x60, 97, 1, &[one]),
            StepRec::new(4, 0x01, 94, 1, &[one, one]),
            StepRec::new(5, 0x00, 91, 1, &[two]),
        ];
        let mut revm_steps = steps.clone();
        revm_steps[2] = StepRec::new(4, 0x01, 94, 1, &[one, two]);

        let c = compare(&side(ours_post.clone(), steps.clone()), &side(revm_post.clone(), revm_steps.clone()));
        assert!(!c.outcome && c.gas_used.is_none() && c.logs.is_none());
        assert_eq!(
            c.accounts,
            [AccountDiff::Differs {
                address: a,
                balance: None,
                nonce: None,
                code_hash: None,
                slots: vec![SlotDiff { key: U256::from(3), ours: U256::from(4), revm: U256::from(9) }],
            }]
        );
        let d = c.divergence.clone().unwrap();
        assert_eq!(d.index, 2);
        assert_eq!(d.previous, Some(steps[1]));
        assert_eq!(d.ours.unwrap().differing_fields(&d.revm.unwrap()), ["stack"]);

        let both = Both {
            spec: SpecId::CANCUN,
            ours: side(ours_post.clone(), steps.clone()),
            revm: side(revm_post, revm_steps),
            comparison: c,
            caveats: Vec::new(),
        };
        let text = render(&both);
        assert!(text.starts_with("revm differs"), "{text}");
        assert!(text.contains(&format!("account {a} slot 0x3: ours 0x4, revm 0x9")), "{text}");
        assert!(!text.contains(&b.to_string()), "an equal account is not listed: {text}");
        assert!(text.contains("first divergence at step 2"), "{text}");
        assert!(text.contains("step 1 (same): depth 1 pc 2 PUSH1 gas 97 stack(1)"), "{text}");
        assert!(text.contains("step 2 ours: depth 1 pc 4 ADD gas 94 stack(2)"), "{text}");
        assert!(text.contains("differs in: stack"), "{text}");

        // Equal runs compare empty; a trace that ends early diverges where it ends.
        assert!(compare(&side(ours_post.clone(), steps.clone()), &side(ours_post.clone(), steps.clone())).is_empty());
        let short = side(ours_post.clone(), steps[..3].to_vec());
        let d = compare(&short, &side(ours_post, steps)).divergence.unwrap();
        assert_eq!((d.index, d.ours, d.revm.map(|s| s.op)), (3, None, Some(0x00)));
    }

    #[test]
    fn accounts_only_on_one_side_and_outcomes() {
        let a = Address([1; 20]);
        let ours: PostState = [(a, account(1, &[]))].into();
        let diffs = compare_post(&ours, &PostState::new());
        assert_eq!(diffs, [AccountDiff::OnlyOurs(a, account(1, &[]))]);
        assert_eq!(compare_post(&PostState::new(), &ours), [AccountDiff::OnlyRevm(a, account(1, &[]))]);
        let mut rejected = side(PostState::new(), Vec::new());
        rejected.outcome = Outcome::Rejected("nonce too low".into());
        let c = compare(&side(PostState::new(), Vec::new()), &rejected);
        assert!(c.outcome && c.divergence.is_none());
    }
}
