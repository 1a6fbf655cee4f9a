//! Frames, launch parameters and the preemption points between an EE and the bootloader.

use std::fmt;
use std::sync::Arc;

use crate::{Address, Bytecode, Bytes, CallInput, EeKind, Host, B256, U256};

/// How a frame was entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallModifier {
    Call,
    CallCode,
    Delegate,
    Static,
    Constructor,
}

impl CallModifier {
    /// Calls that move value from caller to callee (CALLCODE moves it to itself).
    pub fn transfers_value(self) -> bool {
        matches!(self, CallModifier::Call | CallModifier::CallCode)
    }
}

/// Everything an EE needs to start a frame.
#[derive(Clone, Debug)]
pub struct LaunchParams {
    /// Resources (gas) the frame may spend.
    pub gas: u64,
    pub code: Arc<Bytecode>,
    /// `msg.sender` of the frame.
    pub caller: Address,
    /// The account whose storage and balance the frame acts on.
    pub address: Address,
    /// The account the code was loaded from (differs for DELEGATECALL/CALLCODE).
    pub code_address: Address,
    pub modifier: CallModifier,
    pub is_static: bool,
    /// Calldata; empty for constructors (their input is the code).
    pub input: CallInput,
    /// `msg.value` as the frame sees it (apparent value for DELEGATECALL).
    pub value: U256,
    /// 0 for the transaction's first frame.
    pub depth: usize,
}

/// Why a frame stopped abnormally. All of these consume the frame's gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HaltReason {
    OutOfGas,
    StackUnderflow,
    StackOverflow,
    InvalidOpcode(u8),
    InvalidJump,
    StaticStateChange,
    ReturnDataOutOfBounds,
    CreateCollision,
    CodeSizeLimit,
    InitCodeSizeLimit,
    InvalidCodePrefix,
    PrecompileFailure,
    NonceOverflow,
    /// The case's time bound ran out.
    Interrupted,
    /// The code belongs to an EE that is not available.
    UnsupportedEe,
    /// The code is not a valid program for its EE (e.g. a malformed ELF or WASM module).
    InvalidProgram,
    /// The EE's machine trapped with no handler (e.g. an illegal instruction).
    Trap,
    /// An EraVM panic: unlike every other halt, the frame's leftover gas goes back to the
    /// caller (EraVM returns it; a panic for want of ergs has none left anyway).
    Panic,
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HaltReason::OutOfGas => f.write_str("out of gas"),
            HaltReason::StackUnderflow => f.write_str("stack underflow"),
            HaltReason::StackOverflow => f.write_str("stack limit reached 1024"),
            HaltReason::InvalidOpcode(op) => write!(f, "invalid opcode: 0x{op:02x}"),
            HaltReason::InvalidJump => f.write_str("invalid jump destination"),
            HaltReason::StaticStateChange => f.write_str("write protection"),
            HaltReason::ReturnDataOutOfBounds => f.write_str("return data out of bounds"),
            HaltReason::CreateCollision => f.write_str("contract address collision"),
            HaltReason::CodeSizeLimit => f.write_str("max code size exceeded"),
            HaltReason::InitCodeSizeLimit => f.write_str("max initcode size exceeded"),
            HaltReason::InvalidCodePrefix => f.write_str("invalid code: must not begin with 0xef"),
            HaltReason::PrecompileFailure => f.write_str("precompile failed"),
            HaltReason::NonceOverflow => f.write_str("nonce uint64 overflow"),
            HaltReason::Interrupted => f.write_str("interrupted: per-case time bound"),
            HaltReason::UnsupportedEe => f.write_str("code of an unsupported execution environment"),
            HaltReason::InvalidProgram => f.write_str("invalid program for its execution environment"),
            HaltReason::Trap => f.write_str("unhandled trap"),
            HaltReason::Panic => f.write_str("panic"),
        }
    }
}

/// How a frame ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// Explicit revert: state rolled back, unused gas returned.
    Revert,
    Halt(HaltReason),
}

impl ExitStatus {
    pub fn is_success(self) -> bool {
        self == ExitStatus::Success
    }
}

/// The result of a finished frame, as the bootloader receives it.
#[derive(Clone, Debug)]
pub struct FrameOutcome {
    pub status: ExitStatus,
    /// Resources handed back to the parent.
    pub gas_left: u64,
    /// Return data, revert data, or (for a constructor) the code to deploy.
    pub output: Bytes,
}

/// A sub-call's result as the calling frame receives it.
pub type CallResult = FrameOutcome;

/// A request to call another account (an external call).
#[derive(Clone, Debug)]
pub struct CallRequest {
    pub modifier: CallModifier,
    /// `msg.sender` of the callee.
    pub caller: Address,
    /// The account whose storage the callee acts on.
    pub address: Address,
    /// The account whose code runs.
    pub code_address: Address,
    /// Value to transfer (CALL/CALLCODE) or to show (DELEGATECALL).
    pub value: U256,
    /// Calldata, possibly a window of the caller's memory lent for the call's duration.
    pub input: CallInput,
    /// Resources for the callee, already adjusted by the caller's EE
    /// (63/64 rule, call stipend).
    pub gas: u64,
    pub is_static: bool,
}

/// How a new contract's address is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateScheme {
    /// From the deployer's address and nonce.
    Create,
    /// From the deployer, a salt and the init code's hash (EIP-1014).
    Create2 { salt: B256 },
}

impl CreateScheme {
    /// The address a deployment creates (the same derivation for every EE, so an
    /// address never depends on which VM the init code is for).
    pub fn address(self, deployer: Address, deployer_nonce: u64, init_code: &[u8]) -> Address {
        match self {
            CreateScheme::Create => address_from_hash(B256::keccak(&rlp_address_nonce(&deployer, deployer_nonce))),
            CreateScheme::Create2 { salt } => {
                let mut pre = Vec::with_capacity(85);
                pre.push(0xff);
                pre.extend_from_slice(&deployer.0);
                pre.extend_from_slice(&salt.0);
                pre.extend_from_slice(&B256::keccak(init_code).0);
                address_from_hash(B256::keccak(&pre))
            }
        }
    }
}

/// RLP of `[address, nonce]`, the CREATE address preimage.
fn rlp_address_nonce(address: &Address, nonce: u64) -> Vec<u8> {
    let mut payload = Vec::with_capacity(32);
    payload.push(0x80 + 20);
    payload.extend_from_slice(&address.0);
    if nonce == 0 {
        payload.push(0x80);
    } else if nonce < 0x80 {
        payload.push(nonce as u8);
    } else {
        let be = nonce.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        payload.push(0x80 + (8 - skip) as u8);
        payload.extend_from_slice(&be[skip..]);
    }
    // The payload is at most 30 bytes, so the short list form always applies.
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(0xc0 + payload.len() as u8);
    out.extend_from_slice(&payload);
    out
}

fn address_from_hash(hash: B256) -> Address {
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash.0[12..]);
    Address(a)
}

/// A request to deploy a contract.
#[derive(Clone, Debug)]
pub struct DeploymentRequest {
    pub deployer: Address,
    pub value: U256,
    pub init_code: Bytes,
    pub scheme: CreateScheme,
    /// Resources for the constructor, already adjusted by the deployer's EE.
    pub gas: u64,
}

/// A deployment's result as the deploying frame receives it.
#[derive(Clone, Debug)]
pub struct DeploymentResult {
    pub status: ExitStatus,
    pub gas_left: u64,
    /// The new contract's address, on success.
    pub address: Option<Address>,
    /// Revert data on revert; empty otherwise.
    pub output: Bytes,
}

/// Where a frame yields to the bootloader.
#[derive(Debug)]
pub enum Preemption {
    /// Run a callee frame, then resume with [`Frame::continue_after_call`].
    Call(CallRequest),
    /// Run a constructor frame, then resume with [`Frame::continue_after_deployment`].
    Deploy(DeploymentRequest),
    /// A call frame finished.
    CallCompleted(FrameOutcome),
    /// A constructor frame finished; `output` is the code to deploy.
    DeploymentCompleted(FrameOutcome),
}

impl Preemption {
    /// A finished frame's completion: `DeploymentCompleted` for a constructor, else `CallCompleted`.
    pub fn completed(constructor: bool, outcome: FrameOutcome) -> Preemption {
        if constructor {
            Preemption::DeploymentCompleted(outcome)
        } else {
            Preemption::CallCompleted(outcome)
        }
    }
}

/// One suspended or running activation of an EE.
pub trait Frame {
    /// Runs from the start to the first preemption point.
    fn start(&mut self, host: &mut dyn Host) -> Preemption;
    /// Takes back the callee's resources and result, and runs on.
    fn continue_after_call(&mut self, host: &mut dyn Host, result: CallResult) -> Preemption;
    /// Takes back the constructor's resources and result, and runs on.
    fn continue_after_deployment(&mut self, host: &mut dyn Host, result: DeploymentResult) -> Preemption;
    fn is_static(&self) -> bool;
}

/// An EE: its per-type answers for the bootloader, and a frame factory.
/// One instance serves one transaction under one fork.
pub trait ExecutionEnvironment {
    fn kind(&self) -> EeKind;
    fn supports_modifier(&self, modifier: CallModifier) -> bool;
    /// How much of `available` a callee gets when the caller asks for `requested`
    /// (EVM: at most all but one 64th).
    fn callee_resources(&self, available: u64, requested: u64) -> u64;
    /// Checks init code before a deployment (size limits).
    fn check_init_code(&self, init_code: &[u8]) -> Result<(), HaltReason>;
    /// The address a deployment creates.
    fn deployment_address(
        &self,
        deployer: Address,
        deployer_nonce: u64,
        scheme: CreateScheme,
        init_code: &[u8],
    ) -> Address;
    /// Turns a constructor's output into code to store, charging its deposit
    /// from `gas_left`. Returns the code and the gas that remains.
    fn finish_deployment(&self, output: &Bytes, gas_left: u64) -> Result<(Bytecode, u64), HaltReason>;
    /// Creates a frame ready to [`Frame::start`].
    fn launch(&self, params: LaunchParams) -> Box<dyn Frame>;
}
