//! The WASM EE behind the bootloader's interface (`ee_api`).
//!
//! Code is `0xEF 0xEE 0x01 <mode> ...` (see `ABI.md`):
//! - [`MODE_CONTRACT`] `<module>`: a contract. A call instantiates the module with the
//!   `env` host services ([`ee_api::contract`]) and runs its export `call`; as init
//!   code, the constructor runs the export `deploy` when there is one and deploys
//!   the same module.
//! - [`MODE_CONTRACT_INIT`] `<u32 LE length> <module> <constructor input>`: init code
//!   whose constructor reads the trailing bytes as its calldata.
//! - [`crate::session`]'s spec-module and spec-instance modes, for `.wast` scripts.
//!
//! Every host service that needs another frame (a call, a deployment) ends the
//! interpreter's run with [`RunOutcome::HostCall`]; the frame yields it to the
//! bootloader as a [`Preemption`] and resumes the same [`Execution`] with the result.
//! Gas is fuel: one per instruction, plus each service's price.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use ee_api::contract::{deployment, ContractEnv, GuestMemory, Served, Service};
use ee_api::{
    Address, Bytecode, Bytes, CallModifier, CallResult, CreateScheme, DeploymentResult, EeKind, ExecutionEnvironment,
    ExitStatus, Frame, FrameOutcome, HaltReason, Host, LaunchParams, Preemption,
};

use crate::session::{self, SpecFailure, SpecRequest, SpecSession, MODE_SPEC_INSTANCE, MODE_SPEC_MODULE};
use crate::{
    Error, Execution, Extern, FuncType, InstanceId, Linker, MemAddr, Module, RunOutcome, StackLimits, Store,
    StoreLimits, Trap, ValType, Value,
};

/// Mode byte of contract code.
pub const MODE_CONTRACT: u8 = 0x01;
/// Mode byte of contract init code that carries constructor input.
pub const MODE_CONTRACT_INIT: u8 = 0x02;

/// A contract's resource bounds: 16 MiB of memory, and stacks as deep as the interpreter's defaults.
const CONTRACT_STORE_LIMITS: StoreLimits = StoreLimits { max_memory_pages: 256, max_table_elems: 65_536 };

/// The code of a contract.
pub fn contract_code(module: &[u8]) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x01, MODE_CONTRACT];
    code.extend_from_slice(module);
    code
}

/// Init code of a contract whose constructor reads `input` as its calldata.
pub fn contract_init_code(module: &[u8], input: &[u8]) -> Vec<u8> {
    let mut code = vec![0xEF, 0xEE, 0x01, MODE_CONTRACT_INIT];
    code.extend_from_slice(&(module.len() as u32).to_le_bytes());
    code.extend_from_slice(module);
    code.extend_from_slice(input);
    code
}

/// What a code object holds, parsed once per code (the bytecode's analysis cache).
enum Program {
    Contract {
        module: Module,
        /// The code to deploy when this is init code.
        deployed: Bytes,
        /// Constructor input carried by the init code.
        input: Bytes,
    },
    SpecModule(Bytes),
    SpecInstance(InstanceId),
    Invalid(String),
}

fn parse(code: &[u8]) -> Program {
    let compile = |module: &[u8]| Module::new(module).map_err(|e| e.to_string());
    let parsed = match code {
        [0xEF, 0xEE, 0x01, MODE_CONTRACT, module @ ..] => compile(module).map(|m| Program::Contract {
            module: m,
            deployed: Arc::from(code),
            input: Arc::from(&[][..]),
        }),
        [0xEF, 0xEE, 0x01, MODE_CONTRACT_INIT, len @ ..] if len.len() >= 4 => {
            let n = u32::from_le_bytes(len[..4].try_into().expect("4 bytes")) as usize;
            match len[4..].split_at_checked(n) {
                Some((module, input)) => compile(module).map(|m| Program::Contract {
                    module: m,
                    deployed: Arc::from(contract_code(module)),
                    input: Arc::from(input),
                }),
                None => Err(format!("module length {n} runs past the init code")),
            }
        }
        [0xEF, 0xEE, 0x01, MODE_SPEC_MODULE, module @ ..] => Ok(Program::SpecModule(Arc::from(module))),
        [0xEF, 0xEE, 0x01, MODE_SPEC_INSTANCE, ..] => session::spec_instance_of(code)
            .map(Program::SpecInstance)
            .ok_or_else(|| "truncated spec instance code".to_string()),
        [0xEF, 0xEE, 0x01, mode, ..] => Err(format!("unknown WASM code mode 0x{mode:02x}")),
        _ => Err("not WASM code (no 0xEF 0xEE 0x01 marker)".to_string()),
    };
    parsed.unwrap_or_else(Program::Invalid)
}

/// The WASM execution environment. [`WasmEe::default`] runs contracts; one made
/// [`WasmEe::with_session`] also runs a `.wast` script's modules in that session.
#[derive(Clone, Default)]
pub struct WasmEe {
    session: Option<Rc<RefCell<SpecSession>>>,
}

impl WasmEe {
    pub fn with_session(session: Rc<RefCell<SpecSession>>) -> WasmEe {
        WasmEe { session: Some(session) }
    }
}

impl ExecutionEnvironment for WasmEe {
    fn kind(&self) -> EeKind {
        EeKind::Wasm
    }

    fn supports_modifier(&self, _modifier: CallModifier) -> bool {
        true
    }

    fn callee_resources(&self, available: u64, requested: u64) -> u64 {
        requested.min(available - available / 64)
    }

    fn check_init_code(&self, init_code: &[u8]) -> Result<(), HaltReason> {
        deployment::check_init_code(init_code)
    }

    fn deployment_address(&self, deployer: Address, nonce: u64, scheme: CreateScheme, init_code: &[u8]) -> Address {
        scheme.address(deployer, nonce, init_code)
    }

    fn finish_deployment(&self, output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason> {
        if session::spec_instance_of(output).is_some() {
            // A session instance's code is a reference, not a program: nothing to deposit.
            return Ok((Bytecode::new(output.clone()), gas_left));
        }
        deployment::finish(output, gas_left)
    }

    fn launch(&self, params: LaunchParams) -> Box<dyn Frame> {
        let program = params.code.analysis(parse);
        let constructor = params.modifier == CallModifier::Constructor;
        match program.as_ref() {
            Program::Contract { .. } => Box::new(ContractFrame::new(program, params)),
            Program::SpecModule(_) | Program::SpecInstance(_) => match &self.session {
                Some(session) => Box::new(SpecFrame { program, params, session: session.clone() }),
                None => Box::new(HaltedFrame { reason: HaltReason::InvalidProgram, constructor }),
            },
            Program::Invalid(_) => Box::new(HaltedFrame { reason: HaltReason::InvalidProgram, constructor }),
        }
    }
}

fn empty() -> Bytes {
    Arc::from(&[][..])
}

fn finished(constructor: bool, status: ExitStatus, gas_left: u64, output: Bytes) -> Preemption {
    Preemption::completed(constructor, FrameOutcome { status, gas_left, output })
}

/// A frame that cannot run (its code is not a program this EE can start).
struct HaltedFrame {
    reason: HaltReason,
    constructor: bool,
}

impl Frame for HaltedFrame {
    fn start(&mut self, _host: &mut dyn Host) -> Preemption {
        finished(self.constructor, ExitStatus::Halt(self.reason), 0, empty())
    }
    fn continue_after_call(&mut self, host: &mut dyn Host, _r: CallResult) -> Preemption {
        self.start(host)
    }
    fn continue_after_deployment(&mut self, host: &mut dyn Host, _r: DeploymentResult) -> Preemption {
        self.start(host)
    }
    fn is_static(&self) -> bool {
        false
    }
}

/// The host functions of module `env`, with their WASM types.
fn service_type(service: Service) -> FuncType {
    use ValType::{I32, I64};
    let (params, results): (&[ValType], &[ValType]) = match service {
        Service::CalldataSize | Service::ReturnDataSize => (&[], &[I32]),
        Service::GasLeft => (&[], &[I64]),
        Service::CalldataCopy | Service::ReturnDataCopy => (&[I32, I32, I32], &[]),
        Service::Return | Service::Revert | Service::StorageRead | Service::StorageWrite | Service::Balance => {
            (&[I32, I32], &[])
        }
        Service::Caller | Service::Address | Service::Value => (&[I32], &[]),
        Service::Log => (&[I32, I32, I32, I32], &[]),
        Service::Call => (&[I32, I64, I32, I32, I32, I32], &[I32]),
        Service::Create => (&[I32, I32, I32, I32], &[I32]),
        Service::Create2 => (&[I32, I32, I32, I32, I32], &[I32]),
    };
    FuncType::new(params.to_vec(), results.to_vec())
}

/// The exported memory of a contract's instance, as the host services see it.
struct InstanceMemory<'a>(Option<&'a mut [u8]>);

impl InstanceMemory<'_> {
    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, HaltReason> {
        let size = self.0.as_ref().ok_or(HaltReason::Trap)?.len() as u64;
        let end = u64::from(ptr) + u64::from(len);
        if end > size {
            return Err(HaltReason::Trap);
        }
        Ok(ptr as usize..end as usize)
    }
}

impl GuestMemory for InstanceMemory<'_> {
    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], HaltReason> {
        let range = self.range(ptr, len)?;
        Ok(&self.0.as_deref().expect("checked by range")[range])
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), HaltReason> {
        let len = u32::try_from(bytes.len()).map_err(|_| HaltReason::Trap)?;
        let range = self.range(ptr, len)?;
        self.0.as_deref_mut().expect("checked by range")[range].copy_from_slice(bytes);
        Ok(())
    }
}

/// One activation of a contract: its own store and instance, the suspended execution.
struct ContractFrame {
    program: Arc<Program>,
    env: ContractEnv,
    constructor: bool,
    gas: u64,
    store: Store,
    memory: Option<MemAddr>,
    exec: Option<Execution>,
}

impl ContractFrame {
    fn new(program: Arc<Program>, params: LaunchParams) -> ContractFrame {
        let constructor = params.modifier == CallModifier::Constructor;
        let mut env = ContractEnv::new(&params);
        if let Program::Contract { input, .. } = program.as_ref() {
            if constructor {
                env.input = ee_api::CallInput::from(input.as_ref());
            }
        }
        ContractFrame {
            program,
            env,
            constructor,
            gas: params.gas,
            store: Store::new(CONTRACT_STORE_LIMITS),
            memory: None,
            exec: None,
        }
    }

    fn halt(&self, reason: HaltReason) -> Preemption {
        finished(self.constructor, ExitStatus::Halt(reason), 0, empty())
    }

    fn end(&self, status: ExitStatus, output: Bytes) -> Preemption {
        let Program::Contract { deployed, .. } = self.program.as_ref() else { unreachable!("a contract frame") };
        let output = if self.constructor && status.is_success() { deployed.clone() } else { output };
        finished(self.constructor, status, self.gas, output)
    }

    /// Instantiates the module and prepares the entry export; `Ok(None)` when a
    /// constructor has no `deploy` export (nothing to run).
    fn instantiate(&mut self) -> Result<Option<Execution>, HaltReason> {
        let Program::Contract { module, .. } = self.program.as_ref() else { unreachable!("a contract frame") };
        let mut linker = Linker::new();
        for (m, name, _) in module.imports() {
            if m != "env" {
                continue;
            }
            if let Some(s) = Service::from_name(name) {
                let f = self.store.alloc_host_func(service_type(s), s.number());
                linker.define("env", name, Extern::Func(f));
            }
        }
        let inst = linker.instantiate(&mut self.store, module).map_err(|e| match e {
            Error::Trap(_) => HaltReason::Trap,
            _ => HaltReason::InvalidProgram,
        })?;
        if inst.start.is_some() {
            // A start function would run outside the metered entry; contracts may not have one.
            return Err(HaltReason::InvalidProgram);
        }
        self.memory = match self.store.export(inst.instance, "memory") {
            Some(Extern::Memory(m)) => Some(m),
            _ => None,
        };
        let entry = if self.constructor { "deploy" } else { "call" };
        let func = match self.store.export(inst.instance, entry) {
            Some(Extern::Func(f)) => f,
            None if self.constructor => return Ok(None),
            _ => return Err(HaltReason::InvalidProgram),
        };
        Execution::new(&self.store, func, &[], StackLimits::default()).map(Some).map_err(|_| HaltReason::InvalidProgram)
    }

    /// Runs the interpreter (first resuming a host call with `results`, when given) until
    /// the frame must yield or ends.
    fn drive(&mut self, host: &mut dyn Host, results: Option<&[Value]>) -> Preemption {
        let mut outcome = self.step(host, results);
        loop {
            let (host_id, args) = match outcome {
                Ok(RunOutcome::Finished(_)) => return self.end(ExitStatus::Success, empty()),
                Ok(RunOutcome::HostCall { host_id, args, .. }) => (host_id, args),
                Err(Stop::Trap(Trap::OutOfFuel)) => return self.halt(HaltReason::OutOfGas),
                Err(Stop::Trap(_)) => return self.halt(HaltReason::Trap),
                Err(Stop::Interrupted) => return self.halt(HaltReason::Interrupted),
            };
            let service = Service::from_number(host_id).expect("only services are imported");
            let args: Vec<u64> = args.iter().map(|v| v.to_slot()).collect();
            let mut memory = InstanceMemory(self.memory.and_then(|m| self.store.memory_mut(m)));
            match self.env.serve(host, &mut self.gas, service, &args, &mut memory) {
                Ok(Served::Resume(result)) => {
                    let results: Vec<Value> = match (result, service_type(service).results.first()) {
                        (Some(v), Some(ValType::I64)) => vec![Value::I64(v as i64)],
                        (Some(v), _) => vec![Value::I32(v as u32 as i32)],
                        (None, _) => Vec::new(),
                    };
                    outcome = self.step(host, Some(&results));
                }
                Ok(Served::Yield(p)) => return p,
                Ok(Served::End(status, output)) => return self.end(status, output),
                Err(reason) => return self.halt(reason),
            }
        }
    }

    fn step(&mut self, host: &dyn Host, results: Option<&[Value]>) -> Result<RunOutcome, Stop> {
        let exec = self.exec.as_mut().expect("an execution");
        metered(exec, &mut self.store, &mut self.gas, results, &|| host.interrupted())
    }
}

impl Frame for ContractFrame {
    fn start(&mut self, host: &mut dyn Host) -> Preemption {
        match self.instantiate() {
            Ok(Some(exec)) => {
                self.exec = Some(exec);
                self.drive(host, None)
            }
            Ok(None) => self.end(ExitStatus::Success, empty()),
            Err(reason) => self.halt(reason),
        }
    }

    fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption {
        let status = self.env.call_returned(&mut self.gas, result);
        self.drive(host, Some(&[Value::I32(status as i32)]))
    }

    fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption {
        let mut memory = InstanceMemory(self.memory.and_then(|m| self.store.memory_mut(m)));
        match self.env.deployment_returned(&mut self.gas, result, &mut memory) {
            Ok(status) => self.drive(host, Some(&[Value::I32(status as i32)])),
            Err(reason) => self.halt(reason),
        }
    }

    fn is_static(&self) -> bool {
        self.env.is_static
    }
}

/// A deployment or call of a `.wast` script's module, in its session.
struct SpecFrame {
    program: Arc<Program>,
    params: LaunchParams,
    session: Rc<RefCell<SpecSession>>,
}

impl SpecFrame {
    fn run(&mut self, interrupted: &dyn Fn() -> bool) -> Result<(Vec<u8>, u64), Ended> {
        let mut gas = self.params.gas;
        let mut session = self.session.borrow_mut();
        let session = &mut *session;
        match self.program.as_ref() {
            Program::SpecModule(bytes) => {
                let module = Module::new(bytes).map_err(|e| Ended::Failed(e.into(), gas))?;
                let inst = session
                    .linker
                    .instantiate(&mut session.store, &module)
                    .map_err(|e| Ended::Failed(e.into(), gas))?;
                if let Some(start) = inst.start {
                    run_to_end(session, start, &[], &mut gas, interrupted)?;
                }
                Ok((session::spec_instance_code(inst.instance), gas))
            }
            Program::SpecInstance(instance) => {
                let request = session::decode_request(&self.params.input.to_cow())
                    .map_err(|m| Ended::Failed(SpecFailure::Request(m), gas))?;
                let values = match request {
                    SpecRequest::Invoke { name, args } => match session.store.export(*instance, &name) {
                        Some(Extern::Func(f)) => run_to_end(session, f, &args, &mut gas, interrupted)?,
                        _ => {
                            return Err(Ended::Failed(
                                SpecFailure::Request(format!("no exported function {name:?}")),
                                gas,
                            ))
                        }
                    },
                    SpecRequest::Get { name } => match session.store.export(*instance, &name) {
                        Some(Extern::Global(g)) => vec![session.store.global_get(g).expect("exported global")],
                        _ => {
                            return Err(Ended::Failed(
                                SpecFailure::Request(format!("no exported global {name:?}")),
                                gas,
                            ))
                        }
                    },
                };
                Ok((session::encode_values(&values), gas))
            }
            _ => unreachable!("a spec frame"),
        }
    }
}

/// How a session frame ended other than successfully.
enum Ended {
    /// Reverts with the failure; the gas left.
    Failed(SpecFailure, u64),
    OutOfGas,
    Interrupted,
}

/// Runs `func` in the session, serving `spectest` host calls.
fn run_to_end(
    session: &mut SpecSession,
    func: crate::FuncAddr,
    args: &[Value],
    gas: &mut u64,
    interrupted: &dyn Fn() -> bool,
) -> Result<Vec<Value>, Ended> {
    let mut exec = Execution::new(&session.store, func, args, StackLimits::default())
        .map_err(|t| Ended::Failed(SpecFailure::Request(t.to_string()), *gas))?;
    let mut results = None;
    loop {
        match metered(&mut exec, &mut session.store, gas, results.as_deref(), interrupted) {
            Ok(RunOutcome::Finished(values)) => return Ok(values),
            Ok(RunOutcome::HostCall { host_id, .. }) => match session.serve_host(host_id) {
                Some(r) => results = Some(r),
                None => return Err(Ended::Failed(SpecFailure::Request(format!("no host function {host_id}")), *gas)),
            },
            Err(Stop::Trap(Trap::OutOfFuel)) => return Err(Ended::OutOfGas),
            Err(Stop::Trap(t)) => return Err(Ended::Failed(t.into(), *gas)),
            Err(Stop::Interrupted) => return Err(Ended::Interrupted),
        }
    }
}

/// Fuel between two polls of the case's time bound.
const SLICE: u64 = 1 << 20;

/// Why a metered run stopped without an outcome.
enum Stop {
    Trap(Trap),
    Interrupted,
}

/// Runs `exec` on `gas` (first resuming a host call with `results`, when given) in slices
/// of [`SLICE`], polling `interrupted` between them. A slice too small for the next charge
/// (a long block, a large bulk op) is retried with all the gas, so slicing changes no cost.
fn metered(
    exec: &mut Execution,
    store: &mut Store,
    gas: &mut u64,
    mut results: Option<&[Value]>,
    interrupted: &dyn Fn() -> bool,
) -> Result<RunOutcome, Stop> {
    let mut whole = false;
    loop {
        let given = if whole { *gas } else { (*gas).min(SLICE) };
        let mut fuel = given;
        let r = match results.take() {
            Some(values) => exec.resume(store, values, &mut fuel),
            None => exec.run(store, &mut fuel),
        };
        let spent = given - fuel;
        *gas -= spent;
        match r {
            // The slice ran out, not the gas: the execution waits at the charge.
            Err(Trap::OutOfFuel) if given < *gas + spent => {
                whole = spent == 0;
                if interrupted() {
                    return Err(Stop::Interrupted);
                }
            }
            other => return other.map_err(Stop::Trap),
        }
    }
}

impl Frame for SpecFrame {
    fn start(&mut self, host: &mut dyn Host) -> Preemption {
        let constructor = self.params.modifier == CallModifier::Constructor;
        let halt = |reason| finished(constructor, ExitStatus::Halt(reason), 0, empty());
        match self.run(&|| host.interrupted()) {
            Ok((output, gas_left)) => finished(constructor, ExitStatus::Success, gas_left, Arc::from(output)),
            Err(Ended::OutOfGas) => halt(HaltReason::OutOfGas),
            Err(Ended::Interrupted) => halt(HaltReason::Interrupted),
            Err(Ended::Failed(failure, gas_left)) => {
                finished(constructor, ExitStatus::Revert, gas_left, Arc::from(session::encode_failure(&failure)))
            }
        }
    }

    /// Never asked: a session frame does not call out.
    fn continue_after_call(&mut self, _host: &mut dyn Host, _r: CallResult) -> Preemption {
        finished(self.params.modifier == CallModifier::Constructor, ExitStatus::Halt(HaltReason::Trap), 0, empty())
    }

    fn continue_after_deployment(&mut self, host: &mut dyn Host, r: DeploymentResult) -> Preemption {
        self.continue_after_call(host, FrameOutcome { status: r.status, gas_left: 0, output: empty() })
    }

    fn is_static(&self) -> bool {
        self.params.is_static
    }
}

/// Why `code` cannot run as WASM code, or `None` when it can (a harness's explanation
/// for a frame that halted with [`HaltReason::InvalidProgram`]).
pub fn code_error(code: &[u8]) -> Option<String> {
    match parse(code) {
        Program::Invalid(why) => Some(why),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

    #[test]
    fn code_modes() {
        assert_eq!(code_error(&contract_code(EMPTY_MODULE)), None);
        assert_eq!(code_error(&contract_init_code(EMPTY_MODULE, b"args")), None);
        assert_eq!(code_error(&session::spec_module_code(b"anything")), None, "compiled in the session");
        let mut short = contract_init_code(EMPTY_MODULE, b"");
        short.truncate(short.len() - 1);
        assert!(code_error(&short).unwrap().contains("runs past the init code"));
        assert!(code_error(&[0xEF, 0xEE, 0x01, 0x7f]).unwrap().contains("unknown WASM code mode 0x7f"));
        assert!(code_error(&contract_code(b"\0asm\x02\0\0\0")).unwrap().contains("malformed"));
        assert!(code_error(&[0x60, 0x00]).unwrap().contains("not WASM code"));
    }

    #[test]
    fn init_code_with_input_deploys_the_bare_module() {
        let Program::Contract { deployed, input, .. } = parse(&contract_init_code(EMPTY_MODULE, b"args")) else {
            panic!("a contract")
        };
        assert_eq!(&*deployed, &contract_code(EMPTY_MODULE)[..]);
        assert_eq!(&*input, b"args");
    }

    #[test]
    fn deployment_deposit_and_size_limit() {
        let ee = WasmEe::default();
        let code: Bytes = Arc::from(contract_code(EMPTY_MODULE));
        let (stored, gas_left) = ee.finish_deployment(&code, 10_000).unwrap();
        assert_eq!(gas_left, 10_000 - deployment::CODE_DEPOSIT_GAS * code.len() as u64);
        assert_eq!(stored.kind, EeKind::Wasm);
        assert_eq!(ee.finish_deployment(&code, 100).unwrap_err(), HaltReason::OutOfGas);
        let huge: Bytes = Arc::from(vec![0u8; deployment::MAX_CODE_SIZE + 1]);
        assert_eq!(ee.finish_deployment(&huge, u64::MAX).unwrap_err(), HaltReason::CodeSizeLimit);
    }
}
