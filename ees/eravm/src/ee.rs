//! EraVM as an execution environment of the bootloader: one [`EraFrame`] per far frame, each
//! a suspended [`Machine`]. A far call yields `Preemption::Call`; the bootloader runs the
//! callee in whatever EE its code belongs to and resumes the caller. ABI.md says what crosses.
//!
//! What EraVM keeps per transaction across frames (warm slots, decommitted hashes, page
//! numbers, the next call's `context_u128`) is one [`TxState`] per transaction, shared by the
//! EE's frames: an `EraVmEe` serves one transaction. Between two EraVM frames the callee also
//! gets what only EraVM knows (the calldata's page and start, the system-call registers,
//! `context_u128`) through a hand-off keyed by the very calldata buffer the caller lent, and
//! the caller gets the callee's return pointer back the same way, so a chain of EraVM frames
//! under the bootloader sees exactly what it sees under vm2.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use ee_api::{
    Address, Bytecode, Bytes, CallInput, CallModifier, CallRequest, CallResult, CreateScheme, DeploymentRequest,
    DeploymentResult, EeKind, ExecutionEnvironment, ExitStatus, Frame, FrameOutcome, HaltReason, Host, LaunchParams,
    Log, Preemption, B256, U256,
};

use crate::deploy::{self, ACCOUNT_CODE_STORAGE, CONTRACT_DEPLOYER, IMMUTABLE_SIMULATOR};
use crate::machine::world::{is_kernel, CodeInfo, Event, L2ToL1Log, TxState, World};
use crate::machine::{kernel_address, Entry, FarCall, FarReturn, Machine, ReturnKind, Status};
use crate::program::{stored_code, versioned_hash, Analysis, Program};

/// Instructions between two polls of the case's time bound.
const POLL_EVERY: u64 = 1 << 20;

/// EventWriter: the only contract whose `event` packets count (vm2), and the address the
/// bootloader's log of an EraVM event carries.
pub const EVENT_WRITER: Address = kernel_address(0x800d);
/// SystemContext: every slot is free to write (Era's rule, as the oracle world has it).
pub const SYSTEM_CONTEXT: Address = kernel_address(0x800b);

/// Where a world keeps the code vm2 runs at accounts without code (Era's DefaultAccount,
/// which vm2 finds by the hash in its settings and the bootloader finds here: 0x8000 holds no
/// system contract). A far call from EraVM to a codeless user address runs that code with
/// `this` the address, as vm2 does; a world without it answers such calls at once.
pub const DEFAULT_ACCOUNT_HOLDER: Address = kernel_address(0x8000);

/// L2BaseToken: balances in its storage (`balance` mapping at slot 0).
pub const L2_BASE_TOKEN: Address = kernel_address(0x800a);
/// The Era bootloader's address, whose base-token balance slot is free to write.
pub const ERA_BOOTLOADER: Address = kernel_address(0x8001);

/// The L2BaseToken slot of the Era bootloader's balance: keccak256(pad32(0x8001) ‖ pad32(0)).
fn bootloader_balance_key() -> U256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(&ERA_BOOTLOADER.to_word().to_be_bytes::<32>());
    B256::keccak(&preimage).to_word()
}

/// The first topic of the bootloader log that records an EraVM event packet (topics:
/// tag, key, value; data: is_first, tx_number as two big-endian bytes).
pub fn event_tag() -> B256 {
    B256::keccak(b"EraVM.event")
}

/// The first topic of the bootloader log that records an L2→L1 message (emitted by the
/// sending contract; topics: tag, key, value; data: is_service, tx_number).
pub fn l2_to_l1_tag() -> B256 {
    B256::keccak(b"EraVM.l2_to_l1")
}

/// A call between two EraVM frames: what the callee's entry must be beyond what a
/// `CallRequest` says.
struct HandOff {
    buffer: Arc<Vec<u8>>,
    entry: Entry,
}

/// A finished EraVM frame's return pointer, for an EraVM caller.
struct Returned {
    output: Bytes,
    at: (u32, u32),
}

#[derive(Default)]
struct Shared {
    tx: TxState,
    pending: Option<HandOff>,
    returned: Option<Returned>,
}

/// The EraVM EE for one transaction.
#[derive(Clone, Default)]
pub struct EraVmEe {
    shared: Rc<RefCell<Shared>>,
}

impl EraVmEe {
    pub fn new() -> EraVmEe {
        EraVmEe::default()
    }
}

impl ExecutionEnvironment for EraVmEe {
    fn kind(&self) -> EeKind {
        EeKind::EraVm
    }

    fn supports_modifier(&self, _modifier: CallModifier) -> bool {
        true
    }

    fn callee_resources(&self, available: u64, requested: u64) -> u64 {
        requested.min(available)
    }

    /// Init code must be `deploy::init_code` around valid bytecode.
    fn check_init_code(&self, init_code: &[u8]) -> Result<(), HaltReason> {
        match deploy::split_init_code(init_code) {
            Some((code, _)) if crate::validate(code).is_ok() => Ok(()),
            _ => Err(HaltReason::InvalidProgram),
        }
    }

    /// Era's addresses: CREATE from the deployer's nonce (the bootloader's account nonce
    /// stands for NonceHolder's deployment nonce), CREATE2 from the salt, the versioned hash
    /// and the constructor input.
    fn deployment_address(&self, deployer: Address, nonce: u64, scheme: CreateScheme, init_code: &[u8]) -> Address {
        match (scheme, deploy::split_init_code(init_code)) {
            (CreateScheme::Create2 { salt }, Some((code, input))) => match versioned_hash(code) {
                Ok(hash) => deploy::create2_address(deployer, salt, hash, input),
                Err(_) => scheme.address(deployer, nonce, init_code),
            },
            (CreateScheme::Create, Some(_)) => deploy::create_address(deployer, nonce),
            _ => scheme.address(deployer, nonce, init_code),
        }
    }

    /// A constructor frame completes with the code to store (see [`EraFrame::run`]).
    fn finish_deployment(&self, output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        Ok((Bytecode::new(output.clone()), gas_left))
    }

    fn launch(&self, params: LaunchParams) -> Box<dyn Frame> {
        if params.modifier == CallModifier::Constructor {
            return self.launch_constructor(params);
        }
        let program = match &*Program::of(&params.code) {
            Ok(p) => Some(p.clone()),
            Err(_) => None,
        };
        let mut shared = self.shared.borrow_mut();
        let handed = shared.pending.take_if(|h| params.input.shares_buffer(&h.buffer));
        let entry = match handed {
            Some(h) => h.entry,
            None => {
                let calldata = params.input.to_cow().into_owned();
                let mut entry = Entry::user(params.address, params.caller, ergs_of(params.gas), calldata);
                entry_pages(&mut shared.tx, &mut entry);
                entry.code_address = params.code_address;
                entry.is_static = params.is_static;
                entry.context_u128 = low_u128(params.value);
                entry
            }
        };
        let is_static = entry.is_static;
        Box::new(EraFrame {
            shared: self.shared.clone(),
            machine: program.map(|p| Machine::new(p, entry)),
            lent: None,
            is_static,
            constructing: None,
        })
    }
}

impl EraVmEe {
    /// A constructor: the init code's bytecode runs with the constructor flag (r2 bit 0) and
    /// the init code's input as calldata, at the new address.
    fn launch_constructor(&self, params: LaunchParams) -> Box<dyn Frame> {
        let analysis: Arc<Analysis> = params.code.analysis(|init| {
            let code = deploy::split_init_code(init).map_or(&[][..], |(code, _)| code);
            Program::new(code).map(Arc::new)
        });
        let (bytecode, input) = deploy::split_init_code(&params.code.bytes).unwrap_or((&[], &[]));
        let mut shared = self.shared.borrow_mut();
        let mut entry = Entry::user(params.address, params.caller, ergs_of(params.gas), input.to_vec());
        entry_pages(&mut shared.tx, &mut entry);
        entry.context_u128 = low_u128(params.value);
        entry.registers[2] = U256::from(1);
        let machine = match &*analysis {
            Ok(p) => Some(Machine::new(p.clone(), entry)),
            Err(_) => None,
        };
        Box::new(EraFrame {
            shared: self.shared.clone(),
            machine,
            lent: None,
            is_static: false,
            constructing: Some((params.address, bytecode.to_vec())),
        })
    }
}

/// Pages for a frame entered from outside EraVM: the transaction's first EraVM frame keeps
/// vm2's pages 1–3 (`Entry::user`'s), later ones get fresh ones.
fn entry_pages(tx: &mut TxState, entry: &mut Entry) {
    if !tx.take_entry_pages() {
        entry.calldata_page = tx.allocate_page();
        entry.heap_page = tx.allocate_page();
        entry.aux_page = tx.allocate_page();
    }
}

fn ergs_of(gas: u64) -> u32 {
    gas.min(u32::MAX as u64) as u32
}

fn low_u128(v: U256) -> u128 {
    let l = v.as_limbs();
    l[0] as u128 | (l[1] as u128) << 64
}

/// One far frame under the bootloader.
pub struct EraFrame {
    shared: Rc<RefCell<Shared>>,
    /// `None` when the code is not valid EraVM bytecode.
    machine: Option<Machine>,
    /// The calldata buffer lent to the pending call (to recognise an EraVM callee's result).
    lent: Option<Arc<Vec<u8>>>,
    is_static: bool,
    /// For a constructor: the new contract's address and bytecode.
    constructing: Option<(Address, Vec<u8>)>,
}

impl EraFrame {
    fn run(&mut self, host: &mut dyn Host) -> Preemption {
        let constructor = self.constructing.is_some();
        let Some(machine) = self.machine.as_mut() else {
            return Preemption::completed(
                constructor,
                FrameOutcome {
                    status: ExitStatus::Halt(HaltReason::InvalidProgram),
                    gas_left: 0,
                    output: Arc::from(&[][..]),
                },
            );
        };
        loop {
            let out = {
                let mut shared = self.shared.borrow_mut();
                let mut world = HostWorld { host: &mut *host };
                machine.run(&mut world, &mut shared.tx, POLL_EVERY)
            };
            let status = match out.status {
                Status::StepLimit if host.interrupted() => ExitStatus::Halt(HaltReason::Interrupted),
                Status::StepLimit => continue,
                Status::FarCall => {
                    let call = machine.take_far_call().expect("a far call is pending");
                    return self.yield_call(call, host);
                }
                Status::Success => ExitStatus::Success,
                Status::Revert => ExitStatus::Revert,
                Status::Panic => ExitStatus::Halt(HaltReason::Panic),
                Status::Unsupported(_) => ExitStatus::Halt(HaltReason::InvalidOpcode(0)),
            };
            let gas_left = out.ergs_left as u64;
            if let (Some((address, bytecode)), ExitStatus::Success) = (&self.constructing, status) {
                return Preemption::DeploymentCompleted(FrameOutcome {
                    status,
                    gas_left,
                    output: Arc::from(deployed(host, *address, bytecode, &out.return_data)),
                });
            }
            let output: Bytes = Arc::from(out.return_data);
            if let Some(at) = out.returned_at {
                self.shared.borrow_mut().returned = Some(Returned { output: output.clone(), at });
            }
            return Preemption::completed(constructor, FrameOutcome { status, gas_left, output });
        }
    }

    /// A far call as a bootloader call request. Between EraVM frames the value is only
    /// `context_u128` (Era moves balances through MsgValueSimulator); into another EE it is a
    /// real transfer, as that EE's contracts expect.
    fn yield_call(&mut self, call: FarCall, host: &mut dyn Host) -> Preemption {
        if call.destination == CONTRACT_DEPLOYER && call.is_system {
            if let Some(request) = deploy::decode_deployer_call(&call.entry.calldata) {
                return self.yield_deployment(call, request, host);
            }
        }
        let entry = &call.entry;
        let mut code_address = call.destination;
        let mut callee = host.code(code_address);
        if callee.is_empty() && !is_kernel(&code_address) {
            let default = host.code(DEFAULT_ACCOUNT_HOLDER);
            if default.kind == EeKind::EraVm {
                code_address = DEFAULT_ACCOUNT_HOLDER;
                callee = default;
            }
        }
        let callee_is_eravm = callee.kind == EeKind::EraVm;
        let buffer = Arc::new(entry.calldata.clone());
        let input = CallInput::window(buffer.clone(), 0, buffer.len());
        let modifier = match call.mode {
            crate::machine::CallMode::Delegate => CallModifier::Delegate,
            _ if entry.is_static => CallModifier::Static,
            _ => CallModifier::Call,
        };
        let value =
            if callee_is_eravm || modifier != CallModifier::Call { U256::ZERO } else { U256::from(entry.context_u128) };
        let request = CallRequest {
            modifier,
            caller: entry.caller,
            address: entry.address,
            code_address,
            value,
            input,
            gas: entry.ergs as u64,
            is_static: entry.is_static,
        };
        self.lent = Some(buffer.clone());
        self.shared.borrow_mut().pending = Some(HandOff { buffer, entry: call.entry });
        Preemption::Call(request)
    }
}

impl EraFrame {
    /// Resumes the machine after its far call: `data` lives at `at` (an EraVM callee's
    /// page), or on a fresh page.
    fn resume(&mut self, kind: ReturnKind, ergs_left: u32, data: Vec<u8>, at: Option<(u32, u32)>) {
        let mut shared = self.shared.borrow_mut();
        let at = at.unwrap_or_else(|| (shared.tx.allocate_page(), 0));
        let machine = self.machine.as_mut().expect("a frame that called has a machine");
        machine.finish_far_call(FarReturn { kind, ergs_left, data, at }, &mut shared.tx);
    }

    /// A system call to ContractDeployer's `create*`: the code named by its versioned hash
    /// among the transaction's factory deps is deployed by the bootloader (Era's address,
    /// the constructor with r2 bit 0); the caller resumes with the address as return data.
    /// An unknown hash reverts the call, as ContractDeployer does (`UnknownCodeHash`). Value
    /// is not passed (Era moves it through MsgValueSimulator).
    fn yield_deployment(&mut self, call: FarCall, request: deploy::DeployerCall, host: &mut dyn Host) -> Preemption {
        let mut wanted = request.bytecode_hash;
        wanted[1] = 0;
        let code = host.tx().factory_deps.iter().find(|c| versioned_hash(c).is_ok_and(|h| h == wanted)).cloned();
        let Some(code) = code else {
            self.resume(ReturnKind::Revert, call.entry.ergs, Vec::new(), None);
            return self.run(host);
        };
        let scheme = match request.salt {
            Some(salt) => CreateScheme::Create2 { salt },
            None => CreateScheme::Create,
        };
        Preemption::Deploy(DeploymentRequest {
            deployer: call.entry.caller,
            value: U256::ZERO,
            init_code: Arc::from(deploy::init_code(&code, &request.input)),
            scheme,
            gas: call.entry.ergs as u64,
        })
    }
}

/// What a successful constructor leaves, as ContractDeployer would, in a world that has
/// Era's system contracts (code at their addresses): the immutables it returned in
/// ImmutableSimulator's storage, the versioned hash in AccountCodeStorage. The code to store
/// is returned.
fn deployed(host: &mut dyn Host, address: Address, bytecode: &[u8], output: &[u8]) -> Vec<u8> {
    if !host.code(IMMUTABLE_SIMULATOR).is_empty() {
        for (index, value) in deploy::decode_immutables(output) {
            host.sstore(IMMUTABLE_SIMULATOR, deploy::immutable_slot(address, index), value);
        }
    }
    if !host.code(ACCOUNT_CODE_STORAGE).is_empty() {
        if let Ok(hash) = versioned_hash(bytecode) {
            host.sstore(ACCOUNT_CODE_STORAGE, address.to_word(), U256::from_be_bytes(hash));
        }
    }
    stored_code(bytecode)
}

impl Frame for EraFrame {
    fn start(&mut self, host: &mut dyn Host) -> Preemption {
        self.run(host)
    }

    fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption {
        self.lent = None;
        let kind = match result.status {
            ExitStatus::Success => ReturnKind::Success,
            ExitStatus::Revert => ReturnKind::Revert,
            ExitStatus::Halt(_) => ReturnKind::Panic,
        };
        let at = {
            let mut shared = self.shared.borrow_mut();
            // A callee that was not an EraVM frame (or was answered at once) left the hand-off.
            shared.pending = None;
            shared.returned.take().filter(|r| Arc::ptr_eq(&r.output, &result.output)).map(|r| r.at)
        };
        self.resume(kind, ergs_of(result.gas_left), result.output.to_vec(), at);
        self.run(host)
    }

    /// Back from a ContractDeployer deployment: the new address as a 32-byte word on
    /// success, the constructor's revert data on revert, a panic otherwise.
    fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption {
        let (kind, data) = match (result.status, result.address) {
            (ExitStatus::Success, Some(a)) => (ReturnKind::Success, a.to_word().to_be_bytes::<32>().to_vec()),
            (ExitStatus::Revert, _) => (ReturnKind::Revert, result.output.to_vec()),
            _ => (ReturnKind::Panic, Vec::new()),
        };
        self.resume(kind, ergs_of(result.gas_left), data, None);
        self.run(host)
    }

    fn is_static(&self) -> bool {
        self.is_static
    }
}

/// The bootloader's world as EraVM sees it.
struct HostWorld<'h> {
    host: &'h mut dyn Host,
}

impl World for HostWorld<'_> {
    fn storage_read(&mut self, address: Address, key: U256) -> U256 {
        self.host.sload(address, key)
    }

    fn storage_write(&mut self, address: Address, key: U256, value: U256) {
        self.host.sstore(address, key, value);
    }

    fn transient_read(&mut self, address: Address, key: U256) -> U256 {
        self.host.tload(address, key)
    }

    fn transient_write(&mut self, address: Address, key: U256, value: U256) {
        self.host.tstore(address, key, value)
    }

    fn event(&mut self, event: Event) {
        let mut data = vec![event.is_first as u8];
        data.extend_from_slice(&event.tx_number.to_be_bytes());
        self.host.log(Log {
            address: EVENT_WRITER,
            topics: vec![event_tag(), B256::from_word(event.key), B256::from_word(event.value)],
            data: Arc::from(data),
        });
    }

    fn l2_to_l1_log(&mut self, log: L2ToL1Log) {
        let mut data = vec![log.is_service as u8];
        data.extend_from_slice(&log.tx_number.to_be_bytes());
        self.host.log(Log {
            address: log.address,
            topics: vec![l2_to_l1_tag(), B256::from_word(log.key), B256::from_word(log.value)],
            data: Arc::from(data),
        });
    }

    fn remove_last_event(&mut self) {
        self.host.remove_last_log();
    }

    fn remove_last_l2_to_l1_log(&mut self) {
        self.host.remove_last_log();
    }

    /// `inctx` starts a new transaction inside Era's own bootloader program, which this
    /// bootloader does not run: transient storage ends with the bootloader's transaction
    /// instead, so nothing is cleared here (README: out of scope).
    fn clear_transient(&mut self) {}

    /// The bootloader keeps code by account, not by hash: a `decommit` finds nothing yet.
    fn code_by_hash(&mut self, _hash: U256) -> Option<Vec<u8>> {
        None
    }

    /// EraVM code is priced by its versioned hash; other EEs' code by its keccak hash and
    /// length in words; an account without code runs the default account
    /// ([`DEFAULT_ACCOUNT_HOLDER`]) or, in a world without one, costs nothing (the bootloader
    /// answers the call at once) — unless it is a kernel address, where vm2 finds nothing
    /// to run.
    fn code_info(&mut self, address: Address, _is_constructor: bool) -> Option<CodeInfo> {
        let mut code = self.host.code(address);
        if code.is_empty() {
            if address == CONTRACT_DEPLOYER {
                // The EE serves `create*` itself; a world need not hold ContractDeployer.
                return Some(CodeInfo { key: U256::ZERO, words: 0 });
            }
            if is_kernel(&address) {
                return None;
            }
            code = self.host.code(DEFAULT_ACCOUNT_HOLDER);
            if code.kind != EeKind::EraVm {
                return Some(CodeInfo { key: U256::ZERO, words: 0 });
            }
        }
        if code.kind == EeKind::EraVm {
            if let Ok(p) = &*Program::of(&code) {
                return Some(CodeInfo { key: p.versioned_hash(), words: p.word_count() as u16 });
            }
        }
        Some(CodeInfo { key: code.hash().to_word(), words: code.bytes.len().div_ceil(32).min(0xffff) as u16 })
    }

    /// Era's free slots: all of SystemContext's, and the bootloader's base-token balance.
    fn is_free_slot(&self, address: Address, key: U256) -> bool {
        address == SYSTEM_CONTEXT || (address == L2_BASE_TOKEN && key == bootloader_balance_key())
    }
}
