//! Machine-readable output for other Ethereum tooling: EIP-3155 trace lines
//! (`--trace`) and go-ethereum `evm statetest`-style result lines (`--json`).
//!
//! Trace lines, one JSON object per executed instruction, fields in
//! go-ethereum's order:
//!
//! ```text
//! {"pc":0,"op":96,"gas":"0x5f5e100","gasCost":"0x3","memSize":0,"stack":["0x1"],"returnData":"0x..",
//!  "depth":1,"refund":0,"opName":"PUSH1","error":"..."}
//! ```
//!
//! `gas` is the gas before the instruction and `gasCost` what it took. For
//! CALL, CALLCODE, DELEGATECALL and STATICCALL `gasCost` includes the gas
//! handed to the callee (without the 2300 stipend), and for CREATE/CREATE2 it
//! excludes the constructor's gas, both as go-ethereum reports them.
//! `returnData` appears only when non-empty, `error` only on the instruction
//! that failed (or REVERT, as "execution reverted"); that instruction is
//! reported once, and when it ran out of gas `gasCost` is what it had been
//! charged before failing. `depth` is 1 for the transaction's first frame.
//!
//! After the last step, one summary line:
//!
//! ```text
//! {"output":"0x..","gasUsed":"0x..","error":"...","stateRoot":"0x..","pass":true,"fork":"Cancun"}
//! ```
//!
//! `output` and `gasUsed` are the outermost frame's (gas limit minus intrinsic
//! gas minus what it had left, before the refund: go-ethereum's top-level
//! `gasUsed`); `error` is present when that frame did not succeed, or when no
//! code ran at all (the transaction was rejected). `stateRoot`, `pass` and
//! `fork` give the case's verdict, as revm's summary line does.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use ee_api::{ExitStatus, Step, Tracer, TxEnd};
use serde::Serialize;

use crate::report::{CaseRecord, Verdict};

/// Where `--trace` writes.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// `--trace-out FILE`; standard error when `None`.
    pub out: Option<PathBuf>,
}

/// How the outermost frame ended, kept until the case's verdict is known.
struct End {
    output: String,
    gas_used: u64,
    error: Option<String>,
}

/// An EIP-3155 [`Tracer`] writing JSON lines to `W`.
pub struct JsonTracer<W: Write> {
    out: W,
    line: String,
    end: Option<End>,
    /// The first write error; later writes are skipped.
    failed: Option<io::Error>,
}

impl<W: Write> JsonTracer<W> {
    pub fn new(out: W) -> Self {
        JsonTracer { out, line: String::with_capacity(1024), end: None, failed: None }
    }

    fn emit(&mut self) {
        if self.failed.is_none() {
            self.line.push('\n');
            if let Err(e) = self.out.write_all(self.line.as_bytes()) {
                self.failed = Some(e);
            }
        }
        self.line.clear();
    }

    /// Writes the summary line for the case's record and flushes; returns the
    /// first write error of the whole trace, if any.
    pub fn finish(mut self, rec: &CaseRecord) -> io::Result<W> {
        let end = self.end.take().unwrap_or_else(|| End {
            output: "0x".into(),
            gas_used: 0,
            error: Some(match &rec.error {
                Some(e) => format!("no code ran: {e}"),
                None => "no code ran: the transaction was rejected".into(),
            }),
        });
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Summary<'a> {
            output: &'a str,
            gas_used: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            state_root: Option<&'a str>,
            pass: bool,
            fork: &'a str,
        }
        let summary = Summary {
            output: &end.output,
            gas_used: format!("{:#x}", end.gas_used),
            error: end.error.as_deref(),
            state_root: rec.actual_root.as_deref(),
            pass: rec.verdict == Verdict::Pass,
            fork: rec.fork.as_deref().unwrap_or(""),
        };
        self.line = serde_json::to_string(&summary).expect("a summary serializes");
        self.emit();
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn hex_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl<W: Write> Tracer for JsonTracer<W> {
    fn step(&mut self, s: &Step<'_>) {
        let l = &mut self.line;
        let _ = write!(
            l,
            r#"{{"pc":{},"op":{},"gas":"{:#x}","gasCost":"{:#x}","memSize":{},"stack":["#,
            s.pc, s.op, s.gas, s.gas_cost, s.mem_size
        );
        for (i, v) in s.stack.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(l, r#"{sep}"{v:#x}""#);
        }
        l.push(']');
        if !s.return_data.is_empty() {
            let _ = write!(l, r#","returnData":"{}""#, hex_bytes(s.return_data));
        }
        let _ = write!(l, r#","depth":{},"refund":{},"opName":"#, s.depth, s.refund);
        match s.op_name {
            Some(name) => {
                let _ = write!(l, r#""{name}""#);
            }
            // go-ethereum's name for a byte that is no opcode.
            None => {
                let _ = write!(l, r#""opcode {:#x} not defined""#, s.op);
            }
        }
        if let Some(e) = s.error {
            let _ = write!(l, r#","error":{}"#, serde_json::Value::from(e));
        }
        l.push('}');
        self.emit();
    }

    fn tx_end(&mut self, end: &TxEnd<'_>) {
        let error = match end.status {
            ExitStatus::Success => None,
            ExitStatus::Revert => Some("execution reverted".to_string()),
            ExitStatus::Halt(reason) => Some(reason.to_string()),
        };
        self.end = Some(End { output: hex_bytes(end.output), gas_used: end.gas_used, error });
    }
}

/// One `--json` result line, in the shape of go-ethereum's `evm statetest`
/// results (`name`, `pass`, `stateRoot` when known, `fork`, `error` when
/// failing), plus `id`, the full case id (a test has several cases per fork).
pub fn result_line(rec: &CaseRecord) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Result<'a> {
        name: &'a str,
        pass: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        state_root: Option<&'a str>,
        fork: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
        id: &'a str,
    }
    let pass = rec.verdict == Verdict::Pass;
    let error = match (&rec.error, rec.verdict) {
        (Some(e), _) => Some(e.as_str()),
        (None, Verdict::Pass) => None,
        (None, Verdict::Fail) => Some("failed"),
        (None, Verdict::Skip) => Some("skipped"),
        (None, Verdict::Crash) => Some("crashed"),
        (None, Verdict::WrongException) => Some("wrong exception"),
    };
    let r = Result {
        name: test_name(&rec.id),
        pass,
        state_root: rec.actual_root.as_deref(),
        fork: rec.fork.as_deref().unwrap_or(""),
        error,
        id: &rec.id,
    };
    serde_json::to_string(&r).expect("a result serializes")
}

/// The test name inside a case id `file::test::fork::dD:gG:vV`; a file-level
/// record's id is the file path, returned whole.
fn test_name(id: &str) -> &str {
    let mut parts = id.rsplitn(3, "::");
    let (Some(_index), Some(_fork), Some(file_and_test)) = (parts.next(), parts.next(), parts.next()) else {
        return id;
    };
    file_and_test.split_once("::").map_or(id, |(_, test)| test)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee_api::{HaltReason, U256};
    use serde_json::Value;

    fn step<'a>(stack: &'a [U256], error: Option<&'a str>) -> Step<'a> {
        Step {
            pc: 4,
            op: 0x01,
            op_name: Some("ADD"),
            gas: 94,
            gas_cost: 3,
            mem_size: 32,
            stack,
            return_data: &[],
            depth: 1,
            refund: 0,
            error,
        }
    }

    fn lines(bytes: &[u8]) -> Vec<Value> {
        std::str::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn step_and_summary_lines_are_eip3155_json() {
        let mut t = JsonTracer::new(Vec::new());
        let big = U256::MAX;
        t.step(&step(&[U256::from(1), U256::ZERO, big], None));
        let mut s = step(&[], Some("out of \"gas\""));
        s.op = 0x0c;
        s.op_name = None;
        s.return_data = &[0xab, 0x01];
        t.step(&s);
        t.tx_end(&TxEnd { output: &[0xde, 0xad], gas_used: 0x5208, status: ExitStatus::Halt(HaltReason::OutOfGas) });
        let mut rec = CaseRecord::new("f.json::t::Cancun::d0:g0:v0".into(), Some("Cancun".into()), Verdict::Pass, None);
        rec.actual_root = Some("0x12".into());
        let out = t.finish(&rec).unwrap();
        let v = lines(&out);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0]["pc"], 4);
        assert_eq!(v[0]["op"], 1);
        assert_eq!(v[0]["gas"], "0x5e");
        assert_eq!(v[0]["gasCost"], "0x3");
        assert_eq!(v[0]["memSize"], 32);
        assert_eq!(v[0]["stack"], serde_json::json!(["0x1", "0x0", format!("0x{}", "f".repeat(64))]));
        assert_eq!(v[0]["depth"], 1);
        assert_eq!(v[0]["refund"], 0);
        assert_eq!(v[0]["opName"], "ADD");
        assert!(v[0].get("error").is_none() && v[0].get("returnData").is_none());
        assert_eq!(v[1]["opName"], "opcode 0xc not defined");
        assert_eq!(v[1]["error"], "out of \"gas\"");
        assert_eq!(v[1]["returnData"], "0xab01");
        assert_eq!(v[2]["output"], "0xdead");
        assert_eq!(v[2]["gasUsed"], "0x5208");
        assert_eq!(v[2]["error"], "out of gas");
        assert_eq!(v[2]["stateRoot"], "0x12");
        assert_eq!(v[2]["pass"], true);
        assert_eq!(v[2]["fork"], "Cancun");
    }

    #[test]
    fn summary_without_execution_says_so() {
        let t = JsonTracer::new(Vec::new());
        let rec = CaseRecord::new("f.json::t::Cancun::d0:g0:v0".into(), Some("Cancun".into()), Verdict::Pass, None);
        let v = lines(&t.finish(&rec).unwrap());
        assert_eq!(v[0]["output"], "0x");
        assert_eq!(v[0]["gasUsed"], "0x0");
        assert_eq!(v[0]["error"], "no code ran: the transaction was rejected");
    }

    #[test]
    fn result_lines_have_the_geth_shape() {
        let mut rec = CaseRecord::new(
            "stExample/add11.json::add11::Cancun::d0:g0:v0".into(),
            Some("Cancun".into()),
            Verdict::Pass,
            None,
        );
        rec.actual_root = Some("0xab".into());
        let v: Value = serde_json::from_str(&result_line(&rec)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "add11", "pass": true, "stateRoot": "0xab", "fork": "Cancun",
                               "id": "stExample/add11.json::add11::Cancun::d0:g0:v0"})
        );
        let broken = CaseRecord::new("x/broken.json".into(), None, Verdict::Fail, Some("parse".into()));
        let v: Value = serde_json::from_str(&result_line(&broken)).unwrap();
        assert_eq!(
            (&v["name"], &v["pass"], &v["fork"], &v["error"]),
            (&"x/broken.json".into(), &false.into(), &"".into(), &"parse".into())
        );
        assert!(v.get("stateRoot").is_none());
    }
}
