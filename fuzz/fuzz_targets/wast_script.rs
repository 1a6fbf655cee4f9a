//! `.wast` scripts the way the runner's wasm suite reads them: the `wast` crate's lexer and
//! parser (confusing unicode allowed), then every `module`, `register` and invocation through
//! the bootloader into an `ee_wasm::session` (a module is a deployment, an invocation a call).
//! Must hold: no panic; gas used ≤ the gas limit; a successful call returns decodable values
//! and a revert carries a failure record (the session's ABI); a failed deployment leaves the
//! world as it was (the sender's nonce aside).
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use bootloader::{execute_transaction_with, Account, ExecutionLimits, Transaction, WasmEe, WorldState};
use ee_api::{Address, BlockEnv, ExitStatus, Fork, U256};
use ee_wasm::session::{self, SpecSession};
use ee_wasm::Value;
use libfuzzer_sys::fuzz_target;
use wast::core::WastArgCore;
use wast::{WastArg, WastDirective, WastExecute, WastInvoke};

const SENDER: Address = Address([0x5e; 20]);
const GAS_LIMIT: u64 = 5_000_000;

struct Script {
    state: WorldState,
    session: Rc<RefCell<SpecSession>>,
    block: BlockEnv,
    named: HashMap<String, Address>,
    current: Option<Address>,
}

impl Script {
    fn transact(&mut self, to: Option<Address>, data: Vec<u8>) -> Option<(ExitStatus, Option<Address>, Vec<u8>)> {
        let nonce = self.state.get(&SENDER).map_or(0, |a| a.nonce);
        let tx = Transaction {
            sender: SENDER,
            to,
            nonce: U256::from(nonce),
            gas_limit: U256::from(GAS_LIMIT),
            gas_price: Some(U256::ZERO),
            data: Arc::from(data),
            ..Transaction::default()
        };
        let accounts_before = self.state.accounts.len();
        let wasm = WasmEe::with_session(self.session.clone());
        let limits = ExecutionLimits::default();
        let out = execute_transaction_with(&mut self.state, &self.block, &tx, Fork::Cancun, limits, None, wasm).ok()?;
        assert!(out.gas_used <= GAS_LIMIT, "gas used {} above the limit", out.gas_used);
        match out.status {
            ExitStatus::Success => {
                if out.created.is_none() {
                    if let Err(e) = session::decode_values(&out.output) {
                        panic!("a call succeeded with undecodable values: {e}");
                    }
                }
            }
            ExitStatus::Revert => {
                assert!(session::decode_failure(&out.output).is_some(), "a revert without a failure record");
                if to.is_none() {
                    assert_eq!(self.state.accounts.len(), accounts_before, "a failed deployment left an account");
                }
            }
            ExitStatus::Halt(_) => {}
        }
        Some((out.status, out.created, out.output.to_vec()))
    }

    fn target(&self, id: Option<wast::token::Id<'_>>) -> Option<Address> {
        match id {
            Some(id) => self.named.get(id.name()).copied(),
            None => self.current,
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) {
        let Some(to) = self.target(inv.module) else { return };
        let args: Option<Vec<Value>> = inv
            .args
            .iter()
            .map(|a| match a {
                WastArg::Core(WastArgCore::I32(v)) => Some(Value::I32(*v)),
                WastArg::Core(WastArgCore::I64(v)) => Some(Value::I64(*v)),
                WastArg::Core(WastArgCore::F32(f)) => Some(Value::F32(f.bits)),
                WastArg::Core(WastArgCore::F64(f)) => Some(Value::F64(f.bits)),
                WastArg::Core(WastArgCore::RefExtern(n)) => Some(Value::ExternRef(Some(*n))),
                _ => None,
            })
            .collect();
        if let Some(args) = args {
            self.transact(Some(to), session::encode_invoke(inv.name, &args));
        }
    }

    fn exec(&mut self, e: WastExecute<'_>) {
        match e {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => {
                if let Some(to) = self.target(module) {
                    self.transact(Some(to), session::encode_get(global));
                }
            }
            WastExecute::Wat(mut wat) => {
                if let Ok(bytes) = wat.encode() {
                    self.transact(None, session::spec_module_code(&bytes));
                }
            }
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) {
        match d {
            WastDirective::Module(mut qw) => {
                let name = qw.name().map(|n| n.name().to_string());
                let Ok(bytes) = qw.encode() else { return };
                if let Some((ExitStatus::Success, Some(address), _)) =
                    self.transact(None, session::spec_module_code(&bytes))
                {
                    self.current = Some(address);
                    if let Some(n) = name {
                        self.named.insert(n, address);
                    }
                }
            }
            WastDirective::Register { name, module, .. } => {
                let Some(address) = self.target(module) else { return };
                let code = self.state.get(&address).map(|a| a.code.clone());
                if let Some(instance) = code.and_then(|c| session::spec_instance_of(&c.bytes)) {
                    self.session.borrow_mut().register(name, instance);
                }
            }
            WastDirective::Invoke(inv) => self.invoke(&inv),
            WastDirective::AssertReturn { exec, .. } | WastDirective::AssertTrap { exec, .. } => self.exec(exec),
            WastDirective::AssertMalformed { mut module, .. } | WastDirective::AssertInvalid { mut module, .. } => {
                if let Ok(bytes) = module.encode() {
                    self.transact(None, session::spec_module_code(&bytes));
                }
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                if let Ok(bytes) = module.encode() {
                    self.transact(None, session::spec_module_code(&bytes));
                }
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 16 << 10 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else { return };
    let Ok(script) = wast::parser::parse::<wast::Wast<'_>>(&buf) else { return };
    let mut state = WorldState::new();
    state.insert_account(SENDER, Account { balance: U256::MAX, ..Account::default() });
    let block = BlockEnv {
        gas_limit: U256::from(u64::MAX),
        chain_id: U256::from(1),
        number: U256::from(1),
        ..BlockEnv::default()
    };
    let mut runner = Script {
        state,
        session: Rc::new(RefCell::new(SpecSession::new())),
        block,
        named: HashMap::new(),
        current: None,
    };
    for d in script.directives {
        runner.directive(d);
    }
});
