//! The runner loop over an explicit stack of suspended EE frames.
//!
//! A frame runs until it yields a [`Preemption`]. A call or deployment
//! request either completes at once (a precompile, empty code, a failed
//! pre-check) and the requesting frame is resumed, or a new frame is pushed
//! and started. A completed frame is popped, its writes are rolled back when
//! it did not succeed, and its parent resumes with the result. Nothing here
//! recurses, so a 1024-deep call chain costs heap, not Rust stack.

use std::sync::Arc;
use std::time::Instant;

use ee_api::{
    Address, BlockEnv, Bytecode, Bytes, CallInput, CallModifier, CallRequest, CallResult, DeploymentRequest,
    DeploymentResult, EeKind, ExecutionEnvironment, ExitStatus, Fork, Frame, FrameOutcome, HaltReason, Host,
    LaunchParams, Log, Preemption, SstoreSlot, Tracer, TxEnv, B256, MAX_CALL_DEPTH, U256,
};
use ee_eravm::EraVmEe;
use ee_evm::Evm;
use ee_wasm::WasmEe;

use crate::state::{Checkpoint, JournaledState};

/// Everything a transaction's frames share: the journaled state, the
/// environment, and the EEs configured for the fork.
pub struct Context<'a, 's> {
    pub js: JournaledState<'s>,
    pub block: &'a BlockEnv,
    pub tx: TxEnv,
    pub fork: Fork,
    pub deadline: Option<Instant>,
    /// Set when a frame was interrupted by the time bound: the whole
    /// transaction stops instead of letting the parents run on.
    aborted: bool,
    evm: Evm,
    wasm: WasmEe,
    /// One per transaction: it holds EraVM's transaction-wide state.
    eravm: EraVmEe,
    /// Receives the EEs' trace steps when set (see [`Host::tracer`]).
    pub tracer: Option<&'a mut dyn Tracer>,
}

impl<'a, 's> Context<'a, 's> {
    pub fn new(js: JournaledState<'s>, block: &'a BlockEnv, tx: TxEnv, fork: Fork, deadline: Option<Instant>) -> Self {
        Context {
            js,
            block,
            tx,
            fork,
            deadline,
            aborted: false,
            evm: Evm::new(fork),
            wasm: WasmEe::default(),
            eravm: EraVmEe::new(),
            tracer: None,
        }
    }

    /// Runs WASM code with `wasm` (e.g. one bound to a `.wast` script's session).
    pub fn with_wasm(mut self, wasm: WasmEe) -> Self {
        self.wasm = wasm;
        self
    }

    /// The EE that runs code of `kind`: the one place EEs are registered.
    /// Code of a kind without an EE is refused at launch (see [`HaltReason::UnsupportedEe`]).
    fn ee(&self, kind: EeKind) -> Option<&dyn ExecutionEnvironment> {
        match kind {
            EeKind::Evm => Some(&self.evm),
            EeKind::RiscV => Some(&ee_riscv::RiscvEe),
            EeKind::Wasm => Some(&self.wasm),
            EeKind::EraVm => Some(&self.eravm),
        }
    }

    /// The EVM answers deployment questions for deployments the transaction itself makes.
    pub fn evm(&self) -> &Evm {
        &self.evm
    }
}

/// A frame on the stack, with what the bootloader needs when it completes.
struct ActiveFrame {
    frame: Box<dyn Frame>,
    checkpoint: Checkpoint,
    /// Set for constructor frames: where the code goes.
    deploying: Option<(Address, EeKind)>,
}

/// A request either starts a frame or is answered at once.
enum Begun {
    Frame(ActiveFrame, Preemption),
    Call(CallResult),
    Deployment(DeploymentResult),
}

/// What the transaction's outermost frame ended with.
pub struct TopLevelOutcome {
    pub status: ExitStatus,
    pub gas_left: u64,
    pub output: Bytes,
    pub created: Option<Address>,
}

impl From<CallResult> for TopLevelOutcome {
    fn from(r: CallResult) -> Self {
        TopLevelOutcome { status: r.status, gas_left: r.gas_left, output: r.output, created: None }
    }
}

impl From<DeploymentResult> for TopLevelOutcome {
    fn from(r: DeploymentResult) -> Self {
        TopLevelOutcome { status: r.status, gas_left: r.gas_left, output: r.output, created: r.address }
    }
}

/// How the outermost frame is entered.
pub enum TopLevel {
    Call(CallRequest),
    /// A creation transaction: the sender's nonce was already bumped, `nonce` is the one before.
    Deploy(DeploymentRequest, u64),
}

fn failed_call(gas_left: u64) -> CallResult {
    FrameOutcome { status: ExitStatus::Revert, gas_left, output: empty_bytes() }
}

fn empty_bytes() -> Bytes {
    Arc::from(&[][..])
}

fn halted_deployment(reason: HaltReason) -> DeploymentResult {
    DeploymentResult { status: ExitStatus::Halt(reason), gas_left: 0, address: None, output: empty_bytes() }
}

/// Runs a transaction's outermost frame and every frame it leads to.
pub fn run(ctx: &mut Context, top: TopLevel) -> TopLevelOutcome {
    let mut stack: Vec<ActiveFrame> = Vec::new();
    let begun = match top {
        TopLevel::Call(req) => begin_call(ctx, req, 0),
        TopLevel::Deploy(req, nonce) => begin_deployment(ctx, req, 0, Some(nonce)),
    };
    let mut next = match begun {
        Begun::Frame(frame, p) => {
            stack.push(frame);
            p
        }
        Begun::Call(r) => return r.into(),
        Begun::Deployment(r) => return r.into(),
    };

    loop {
        if ctx.aborted {
            return TopLevelOutcome {
                status: ExitStatus::Halt(HaltReason::Interrupted),
                gas_left: 0,
                output: empty_bytes(),
                created: None,
            };
        }
        next = match next {
            Preemption::Call(req) => match begin_call(ctx, req, stack.len()) {
                Begun::Frame(frame, p) => {
                    stack.push(frame);
                    p
                }
                Begun::Call(result) => top_frame(&mut stack).continue_after_call(ctx, result),
                Begun::Deployment(_) => unreachable!("a call request never begins a deployment"),
            },
            Preemption::Deploy(req) => match begin_deployment(ctx, req, stack.len(), None) {
                Begun::Frame(frame, p) => {
                    stack.push(frame);
                    p
                }
                Begun::Deployment(result) => top_frame(&mut stack).continue_after_deployment(ctx, result),
                Begun::Call(_) => unreachable!("a deployment request never begins a call"),
            },
            Preemption::CallCompleted(outcome) => {
                let done = stack.pop().expect("a completed frame is on the stack");
                let result = complete_call(ctx, done, outcome);
                match stack.last_mut() {
                    Some(parent) => parent.frame.continue_after_call(ctx, result),
                    None => return result.into(),
                }
            }
            Preemption::DeploymentCompleted(outcome) => {
                let done = stack.pop().expect("a completed frame is on the stack");
                let result = complete_deployment(ctx, done, outcome);
                match stack.last_mut() {
                    Some(parent) => parent.frame.continue_after_deployment(ctx, result),
                    None => return result.into(),
                }
            }
        };
    }
}

fn top_frame(stack: &mut [ActiveFrame]) -> &mut dyn Frame {
    stack.last_mut().expect("an answered request came from a frame on the stack").frame.as_mut()
}

/// Prepares and starts a callee: depth and balance checks, value transfer,
/// precompiles, code lookup by the callee's EE.
fn begin_call(ctx: &mut Context, req: CallRequest, depth: usize) -> Begun {
    if depth > MAX_CALL_DEPTH {
        return Begun::Call(failed_call(req.gas));
    }
    if req.modifier.transfers_value() && ctx.js.balance(&req.caller) < req.value {
        return Begun::Call(failed_call(req.gas));
    }
    let checkpoint = ctx.js.checkpoint();
    // EIP-7702: an account whose code is a delegation designator runs its target's code,
    // one level deep; a precompile as the target runs as the (empty) code stored there. The
    // caller's EE has already paid for loading the target.
    let mut code = ctx.js.code(&req.code_address);
    let mut code_address = req.code_address;
    let mut delegated = false;
    if ctx.fork >= Fork::Prague {
        if let Some(target) = code.delegation_target() {
            code = ctx.js.code(&target);
            code_address = target;
            delegated = true;
        }
    }
    let is_precompile = !delegated && precompiles::is_precompile(&req.code_address, ctx.fork);
    match req.modifier {
        CallModifier::Call => {
            if !ctx.js.exists(&req.address) {
                if !is_precompile && ctx.fork >= Fork::SpuriousDragon && req.value.is_zero() {
                    // EIP-161: a zero-value call never brings an account into existence.
                    return Begun::Call(FrameOutcome {
                        status: ExitStatus::Success,
                        gas_left: req.gas,
                        output: empty_bytes(),
                    });
                }
                ctx.js.ensure_account(req.address);
            }
            ctx.js.touch(req.caller);
            ctx.js.touch(req.address);
            ctx.js.transfer(req.caller, req.address, req.value);
        }
        // A static call touches its target as a zero-value transfer would.
        CallModifier::Static => ctx.js.touch(req.address),
        CallModifier::CallCode | CallModifier::Delegate | CallModifier::Constructor => {}
    }

    if is_precompile {
        let deadline = ctx.deadline;
        let interrupted = move || deadline.is_some_and(|d| Instant::now() >= d);
        return Begun::Call(
            match precompiles::run_interruptible(&code_address, &req.input, req.gas, ctx.fork, &interrupted) {
                Ok(out) => FrameOutcome {
                    status: ExitStatus::Success,
                    gas_left: req.gas - out.gas_used,
                    output: Arc::from(out.output),
                },
                Err(err) => {
                    ctx.js.revert_to(checkpoint);
                    let reason = if err == precompiles::PrecompileError::Interrupted {
                        ctx.aborted = true;
                        HaltReason::Interrupted
                    } else {
                        HaltReason::PrecompileFailure
                    };
                    FrameOutcome { status: ExitStatus::Halt(reason), gas_left: 0, output: empty_bytes() }
                }
            },
        );
    }

    if code.is_empty() {
        return Begun::Call(FrameOutcome { status: ExitStatus::Success, gas_left: req.gas, output: empty_bytes() });
    }
    let Some(ee) = ctx.ee(code.kind) else {
        ctx.js.revert_to(checkpoint);
        return Begun::Call(FrameOutcome {
            status: ExitStatus::Halt(HaltReason::UnsupportedEe),
            gas_left: 0,
            output: empty_bytes(),
        });
    };
    let mut frame = ee.launch(LaunchParams {
        gas: req.gas,
        code,
        caller: req.caller,
        address: req.address,
        code_address,
        modifier: req.modifier,
        is_static: req.is_static,
        input: req.input,
        value: req.value,
        depth,
    });
    let first = frame.start(ctx);
    Begun::Frame(ActiveFrame { frame, checkpoint, deploying: None }, first)
}

/// Prepares and starts a constructor. `tx_nonce` is set for a creation
/// transaction, whose sender nonce the transaction already bumped.
fn begin_deployment(ctx: &mut Context, req: DeploymentRequest, depth: usize, tx_nonce: Option<u64>) -> Begun {
    if depth > MAX_CALL_DEPTH || ctx.js.balance(&req.deployer) < req.value {
        return Begun::Deployment(DeploymentResult {
            status: ExitStatus::Revert,
            gas_left: req.gas,
            address: None,
            output: empty_bytes(),
        });
    }
    let nonce = match tx_nonce {
        Some(n) => n,
        None => {
            let n = ctx.js.nonce(&req.deployer);
            if n == u64::MAX {
                return Begun::Deployment(DeploymentResult {
                    status: ExitStatus::Revert,
                    gas_left: req.gas,
                    address: None,
                    output: empty_bytes(),
                });
            }
            ctx.js.set_nonce(req.deployer, n + 1);
            n
        }
    };
    let init_kind = EeKind::of_code(&req.init_code);
    let Some(ee) = ctx.ee(init_kind).filter(|ee| ee.supports_modifier(CallModifier::Constructor)) else {
        return Begun::Deployment(halted_deployment(HaltReason::UnsupportedEe));
    };
    // The EVM checks its own init code before it yields; this is every other EE's check.
    if let Err(reason) = ee.check_init_code(&req.init_code) {
        return Begun::Deployment(halted_deployment(reason));
    }
    let address = ee.deployment_address(req.deployer, nonce, req.scheme, &req.init_code);
    if ctx.fork >= Fork::Berlin {
        // Warm even when the deployment fails: this precedes the frame's checkpoint.
        ctx.js.warm_account(address);
    }
    // EIP-684 and EIP-7610: an address with a nonce, code or storage is taken.
    if let Some(acc) = ctx.js.account(&address) {
        if acc.nonce != 0 || !acc.code.is_empty() || acc.has_storage() {
            return Begun::Deployment(halted_deployment(HaltReason::CreateCollision));
        }
    }
    let checkpoint = ctx.js.checkpoint();
    ctx.js.reset_for_creation(address);
    ctx.js.mark_created(address);
    if ctx.fork >= Fork::SpuriousDragon {
        ctx.js.set_nonce(address, 1);
    }
    ctx.js.touch(req.deployer);
    ctx.js.transfer(req.deployer, address, req.value);

    let ee = ctx.ee(init_kind).expect("checked above");
    let mut frame = ee.launch(LaunchParams {
        gas: req.gas,
        code: Arc::new(Bytecode::new(req.init_code)),
        caller: req.deployer,
        address,
        code_address: address,
        modifier: CallModifier::Constructor,
        is_static: false,
        input: CallInput::empty(),
        value: req.value,
        depth,
    });
    let first = frame.start(ctx);
    Begun::Frame(ActiveFrame { frame, checkpoint, deploying: Some((address, init_kind)) }, first)
}

fn complete_call(ctx: &mut Context, done: ActiveFrame, outcome: FrameOutcome) -> CallResult {
    ctx.aborted |= outcome.status == ExitStatus::Halt(HaltReason::Interrupted);
    match outcome.status {
        ExitStatus::Success => outcome,
        ExitStatus::Revert => {
            ctx.js.revert_to(done.checkpoint);
            outcome
        }
        // An EraVM panic hands its leftover back; every other halt consumes the frame's gas.
        ExitStatus::Halt(reason) => {
            ctx.js.revert_to(done.checkpoint);
            let gas_left = if reason == HaltReason::Panic { outcome.gas_left } else { 0 };
            FrameOutcome { status: outcome.status, gas_left, output: empty_bytes() }
        }
    }
}

fn complete_deployment(ctx: &mut Context, done: ActiveFrame, outcome: FrameOutcome) -> DeploymentResult {
    let (address, kind) = done.deploying.expect("a constructor frame records its address");
    ctx.aborted |= outcome.status == ExitStatus::Halt(HaltReason::Interrupted);
    match outcome.status {
        ExitStatus::Success => {
            let ee = ctx.ee(kind).expect("the constructor's EE exists");
            match ee.finish_deployment(&outcome.output, outcome.gas_left) {
                Ok((code, gas_left)) => {
                    ctx.js.set_deployed_code(address, code);
                    DeploymentResult {
                        status: ExitStatus::Success,
                        gas_left,
                        address: Some(address),
                        output: empty_bytes(),
                    }
                }
                Err(reason) => {
                    ctx.js.revert_to(done.checkpoint);
                    halted_deployment(reason)
                }
            }
        }
        ExitStatus::Revert => {
            ctx.js.revert_to(done.checkpoint);
            DeploymentResult {
                status: ExitStatus::Revert,
                gas_left: outcome.gas_left,
                address: None,
                output: outcome.output,
            }
        }
        ExitStatus::Halt(reason) => {
            ctx.js.revert_to(done.checkpoint);
            halted_deployment(reason)
        }
    }
}

impl Host for Context<'_, '_> {
    fn fork(&self) -> Fork {
        self.fork
    }

    fn block(&self) -> &BlockEnv {
        self.block
    }

    fn tx(&self) -> &TxEnv {
        &self.tx
    }

    /// State tests define block `n`'s hash as keccak256 of `n` in decimal.
    fn block_hash(&mut self, number: U256) -> B256 {
        let current = self.block.number;
        let lowest = current.saturating_sub(U256::from(256));
        if number >= current || number < lowest {
            return B256::ZERO;
        }
        B256::keccak(number.to_string().as_bytes())
    }

    fn warm_account(&mut self, address: Address) -> bool {
        self.js.warm_account(address)
    }

    fn warm_slot(&mut self, address: Address, key: U256) -> bool {
        self.js.warm_slot(address, key)
    }

    fn account_exists(&mut self, address: Address) -> bool {
        self.js.exists(&address)
    }

    fn is_empty_account(&mut self, address: Address) -> bool {
        self.js.is_empty(&address)
    }

    fn balance(&mut self, address: Address) -> U256 {
        self.js.balance(&address)
    }

    fn code(&mut self, address: Address) -> Arc<Bytecode> {
        self.js.code(&address)
    }

    fn sload(&mut self, address: Address, key: U256) -> U256 {
        self.js.sload(&address, &key)
    }

    fn sload_warming(&mut self, address: Address, key: U256) -> (U256, bool) {
        let cold = self.js.warm_slot(address, key);
        (self.js.sload(&address, &key), cold)
    }

    fn sstore(&mut self, address: Address, key: U256, value: U256) -> SstoreSlot {
        let original = self.js.original_storage(&address, &key);
        let present = self.js.sstore(address, key, value);
        SstoreSlot { original, present }
    }

    fn tload(&mut self, address: Address, key: U256) -> U256 {
        self.js.tload(&address, &key)
    }

    fn tstore(&mut self, address: Address, key: U256, value: U256) {
        self.js.tstore(address, key, value)
    }

    fn log(&mut self, log: Log) {
        self.js.push_log(log)
    }

    fn remove_last_log(&mut self) {
        self.js.remove_last_log()
    }

    fn add_refund(&mut self, delta: i64) {
        self.js.add_refund(delta)
    }

    fn selfdestruct(&mut self, address: Address, beneficiary: Address) -> bool {
        let balance = self.js.balance(&address);
        if self.fork >= Fork::Cancun && !self.js.created_in_tx(&address) {
            // EIP-6780: only the balance moves; the account survives.
            self.js.touch(beneficiary);
            self.js.transfer(address, beneficiary, balance);
            return self.js.is_destructed(&address);
        }
        self.js.add_balance(beneficiary, balance);
        self.js.set_balance(address, U256::ZERO);
        self.js.mark_destructed(address)
    }

    fn interrupted(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn tracer(&mut self) -> Option<&mut dyn Tracer> {
        match &mut self.tracer {
            Some(t) => Some(&mut **t),
            None => None,
        }
    }

    fn refund_counter(&self) -> i64 {
        self.js.refund
    }
}
