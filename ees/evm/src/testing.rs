//! An in-memory [`Host`] for unit tests and benchmarks (feature `testing`).
//!
//! It models just enough world state to price and run single frames; it does
//! no journaling, so it must not be used to judge rollback behaviour.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ee_api::{
    Address, BlockEnv, Bytecode, Bytes, CallModifier, ExecutionEnvironment, Fork, Host, LaunchParams, Log, Preemption,
    SstoreSlot, Step, Tracer, TxEnv, B256, U256,
};

use crate::Evm;

#[derive(Clone, Debug, Default)]
pub struct MockAccount {
    pub balance: U256,
    pub nonce: u64,
    pub code: Option<Arc<Bytecode>>,
    pub storage: HashMap<U256, U256>,
}

/// World state in hash maps, with EIP-2929 warm sets and a refund counter.
pub struct MockHost {
    pub fork: Fork,
    pub block: BlockEnv,
    pub tx: TxEnv,
    pub accounts: HashMap<Address, MockAccount>,
    /// Slot values at the start of the "transaction", recorded on first write.
    pub original: HashMap<(Address, U256), U256>,
    pub transient: HashMap<(Address, U256), U256>,
    pub warm_accounts: HashSet<Address>,
    pub warm_slots: HashSet<(Address, U256)>,
    pub destroyed: HashSet<Address>,
    pub logs: Vec<Log>,
    pub refund: i64,
    /// Polls of `interrupted` answer true once this many have happened.
    pub interrupt_after: Option<u64>,
    polls: std::cell::Cell<u64>,
    /// When set, frames run traced and their steps are recorded here.
    pub recorder: Option<Recorder>,
}

/// A trace step with owned data, as [`Recorder`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedStep {
    pub pc: u64,
    pub op: u8,
    pub op_name: Option<&'static str>,
    pub gas: u64,
    pub gas_cost: u64,
    pub mem_size: u64,
    pub stack: Vec<U256>,
    pub return_data: Vec<u8>,
    pub depth: u64,
    pub refund: u64,
    pub error: Option<String>,
}

/// A [`Tracer`] that keeps every step.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub steps: Vec<RecordedStep>,
}

impl Tracer for Recorder {
    fn step(&mut self, s: &Step<'_>) {
        self.steps.push(RecordedStep {
            pc: s.pc,
            op: s.op,
            op_name: s.op_name,
            gas: s.gas,
            gas_cost: s.gas_cost,
            mem_size: s.mem_size,
            stack: s.stack.to_vec(),
            return_data: s.return_data.to_vec(),
            depth: s.depth,
            refund: s.refund,
            error: s.error.map(str::to_string),
        });
    }
}

impl MockHost {
    pub fn new(fork: Fork) -> MockHost {
        MockHost {
            fork,
            block: BlockEnv { chain_id: U256::from(1u8), gas_limit: U256::from(30_000_000u64), ..Default::default() },
            tx: TxEnv::default(),
            accounts: HashMap::new(),
            original: HashMap::new(),
            transient: HashMap::new(),
            warm_accounts: HashSet::new(),
            warm_slots: HashSet::new(),
            destroyed: HashSet::new(),
            logs: Vec::new(),
            refund: 0,
            interrupt_after: None,
            polls: std::cell::Cell::new(0),
            recorder: None,
        }
    }

    pub fn account(&mut self, address: Address) -> &mut MockAccount {
        self.accounts.entry(address).or_default()
    }

    pub fn set_storage(&mut self, address: Address, key: U256, value: U256) {
        self.account(address).storage.insert(key, value);
    }

    pub fn storage(&self, address: Address, key: U256) -> U256 {
        self.accounts.get(&address).and_then(|a| a.storage.get(&key).copied()).unwrap_or_default()
    }
}

/// The address test frames run at.
pub const CONTRACT: Address = Address([0xCC; 20]);
/// The caller of test frames.
pub const CALLER: Address = Address([0xCA; 20]);

/// Launch parameters for running `code` at [`CONTRACT`] with `gas`.
pub fn params(code: &[u8], gas: u64) -> LaunchParams {
    LaunchParams {
        gas,
        code: Arc::new(Bytecode::new(Arc::from(code))),
        caller: CALLER,
        address: CONTRACT,
        code_address: CONTRACT,
        modifier: CallModifier::Call,
        is_static: false,
        input: ee_api::CallInput::empty(),
        value: U256::ZERO,
        depth: 0,
    }
}

/// Runs `code` in a fresh frame to its first preemption point.
pub fn run(fork: Fork, host: &mut MockHost, code: &[u8], gas: u64) -> Preemption {
    Evm::new(fork).launch(params(code, gas)).start(host)
}

impl Host for MockHost {
    fn fork(&self) -> Fork {
        self.fork
    }
    fn block(&self) -> &BlockEnv {
        &self.block
    }
    fn tx(&self) -> &TxEnv {
        &self.tx
    }
    fn block_hash(&mut self, number: U256) -> B256 {
        B256::keccak(&number.to_be_bytes::<32>())
    }
    fn warm_account(&mut self, address: Address) -> bool {
        self.warm_accounts.insert(address)
    }
    fn warm_slot(&mut self, address: Address, key: U256) -> bool {
        self.warm_slots.insert((address, key))
    }
    fn account_exists(&mut self, address: Address) -> bool {
        self.accounts.contains_key(&address)
    }
    fn is_empty_account(&mut self, address: Address) -> bool {
        match self.accounts.get(&address) {
            None => true,
            Some(a) => a.balance.is_zero() && a.nonce == 0 && a.code.as_ref().is_none_or(|c| c.is_empty()),
        }
    }
    fn balance(&mut self, address: Address) -> U256 {
        self.accounts.get(&address).map(|a| a.balance).unwrap_or_default()
    }
    fn code(&mut self, address: Address) -> Arc<Bytecode> {
        self.accounts.get(&address).and_then(|a| a.code.clone()).unwrap_or_else(|| Arc::new(Bytecode::empty()))
    }
    fn sload(&mut self, address: Address, key: U256) -> U256 {
        self.storage(address, key)
    }
    fn sstore(&mut self, address: Address, key: U256, value: U256) -> SstoreSlot {
        let present = self.storage(address, key);
        let original = *self.original.entry((address, key)).or_insert(present);
        self.set_storage(address, key, value);
        SstoreSlot { original, present }
    }
    fn tload(&mut self, address: Address, key: U256) -> U256 {
        self.transient.get(&(address, key)).copied().unwrap_or_default()
    }
    fn tstore(&mut self, address: Address, key: U256, value: U256) {
        self.transient.insert((address, key), value);
    }
    fn log(&mut self, log: Log) {
        self.logs.push(log);
    }
    fn remove_last_log(&mut self) {
        self.logs.pop();
    }
    fn add_refund(&mut self, delta: i64) {
        self.refund += delta;
    }
    fn selfdestruct(&mut self, address: Address, beneficiary: Address) -> bool {
        let balance = self.balance(address);
        self.account(address).balance = U256::ZERO;
        let b = self.account(beneficiary);
        b.balance += balance;
        !self.destroyed.insert(address)
    }
    fn interrupted(&self) -> bool {
        let n = self.polls.get() + 1;
        self.polls.set(n);
        self.interrupt_after.is_some_and(|limit| n >= limit)
    }
    fn tracer(&mut self) -> Option<&mut dyn Tracer> {
        self.recorder.as_mut().map(|r| r as &mut dyn Tracer)
    }
    fn refund_counter(&self) -> i64 {
        self.refund
    }
}

/// Empty bytes, for building results.
pub fn no_bytes() -> Bytes {
    Arc::from(&[][..])
}
