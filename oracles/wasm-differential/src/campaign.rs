//! A seeded campaign: `count` modules, each with its own seed derived from the campaign's
//! seed and its index, compared in parallel (rayon); divergences minimized and saved as
//! `.wast` vectors; the report `differential-wasm.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::compare::{compare, Compared, Divergence, Tamper, RULES};
use crate::engines::{exports_of, CALL_DEPTH, OUR_FUEL, THEIR_FUEL};
use crate::generate::{case_seed, module, plan};
use crate::minimize::{minimize, Case};
use crate::vector;

/// The case of a seed: its module and invocations.
pub fn case(seed: u64) -> Case {
    let module = module(seed);
    let plan = match crate::compare::caught(|| exports_of(&module)) {
        Ok(Ok(exports)) => plan(seed, &exports),
        // wasmi refuses the module or panics reading it: the comparison reports it.
        _ => Vec::new(),
    };
    Case { module, plan }
}

/// A divergence of a campaign, minimized.
#[derive(Clone, Debug)]
pub struct Finding {
    pub index: u64,
    pub seed: u64,
    /// The divergence of the minimized case.
    pub divergence: Divergence,
    pub script: String,
    pub vector_path: Option<PathBuf>,
}

/// Cases the allow-list let through: how many, and the first few seeds with both sides.
#[derive(Clone, Debug, Default)]
pub struct Allowed {
    pub count: u64,
    pub examples: Vec<(u64, String, String)>,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub seed: u64,
    pub total: u64,
    /// Modules whose module bytes add up to this (a size figure).
    pub module_bytes: u64,
    pub instantiated: u64,
    /// Instantiation traps both sides agree on, by kind.
    pub instantiation_traps: BTreeMap<String, u64>,
    pub invocations: u64,
    pub returns: u64,
    /// Invocation traps both sides agree on, by kind.
    pub traps: BTreeMap<String, u64>,
    /// Cases stopped by running out of fuel (both sides, or one under the allow-list's
    /// `out-of-fuel`).
    pub exhausted: u64,
    pub exhausted_both: u64,
    /// Instructions executed on our side in agreeing cases.
    pub instructions: u64,
    pub allowed: BTreeMap<&'static str, Allowed>,
    pub divergences: Vec<Finding>,
    pub seconds: f64,
}

#[derive(Default)]
struct Acc {
    module_bytes: u64,
    instantiated: u64,
    instantiation_traps: BTreeMap<String, u64>,
    invocations: u64,
    returns: u64,
    traps: BTreeMap<String, u64>,
    exhausted: u64,
    exhausted_both: u64,
    instructions: u64,
    allowed: BTreeMap<&'static str, Allowed>,
    divergences: Vec<(u64, u64, Case, Divergence)>,
}

const EXAMPLES: usize = 5;

impl Acc {
    fn merge(mut self, other: Acc) -> Acc {
        self.module_bytes += other.module_bytes;
        self.instantiated += other.instantiated;
        for (k, v) in other.instantiation_traps {
            *self.instantiation_traps.entry(k).or_default() += v;
        }
        self.invocations += other.invocations;
        self.returns += other.returns;
        for (k, v) in other.traps {
            *self.traps.entry(k).or_default() += v;
        }
        self.exhausted += other.exhausted;
        self.exhausted_both += other.exhausted_both;
        self.instructions += other.instructions;
        for (k, v) in other.allowed {
            let a = self.allowed.entry(k).or_default();
            a.count += v.count;
            a.examples.extend(v.examples);
            a.examples.sort_by_key(|e| e.0);
            a.examples.truncate(EXAMPLES);
        }
        self.divergences.extend(other.divergences);
        self
    }

    fn add(mut self, index: u64, seed: u64, case: Case, result: Result<Compared, Divergence>) -> Acc {
        self.module_bytes += case.module.len() as u64;
        match result {
            Ok(c) => {
                match &c.instantiation {
                    Some(t) => *self.instantiation_traps.entry(t.name()).or_default() += 1,
                    None if c.stop.is_none() || !c.steps.is_empty() => self.instantiated += 1,
                    None => {}
                }
                self.instructions += c.fuel;
                for s in &c.steps {
                    self.invocations += 1;
                    match &s.outcome {
                        Ok(_) => self.returns += 1,
                        Err(t) => *self.traps.entry(t.name()).or_default() += 1,
                    }
                }
                if let Some(stop) = c.stop {
                    if stop.rule.is_none() || stop.rule == Some(RULES[0].name) {
                        self.exhausted += 1;
                    }
                    match stop.rule {
                        None => self.exhausted_both += 1,
                        Some(rule) => {
                            let a = self.allowed.entry(rule).or_default();
                            a.count += 1;
                            if a.examples.len() < EXAMPLES {
                                a.examples.push((seed, stop.ours, stop.theirs));
                            }
                        }
                    }
                }
            }
            Err(d) => self.divergences.push((index, seed, case, d)),
        }
        self
    }
}

/// The header lines of a vector.
fn header(seed: u64, d: &Divergence) -> Vec<String> {
    vec![
        format!("wasm-differential: case seed {seed} ({seed:016x}); expected values are wasmi 2.0.0's"),
        format!("divergence ({}): {}", d.kind, d.what),
        format!("ee-wasm: {}", d.ours),
        format!("wasmi:   {}", d.theirs),
    ]
}

/// Runs cases `0..count` of campaign `seed` in rayon's pool, calling `on_done` after each;
/// minimizes each divergence and, with `vector_dir`, saves it there as
/// `<case seed, hex>.wast`. `tamper` alters our side (tests plant differences with it).
pub fn run(
    seed: u64,
    count: u64,
    vector_dir: Option<&Path>,
    tamper: Option<Tamper>,
    on_done: &(dyn Fn() + Sync),
) -> std::io::Result<Summary> {
    let start = Instant::now();
    let acc = (0..count)
        .into_par_iter()
        .fold(Acc::default, |acc, index| {
            let s = case_seed(seed, index);
            let case = case(s);
            let result = compare(&case.module, &case.plan, tamper);
            on_done();
            acc.add(index, s, case, result)
        })
        .reduce(Acc::default, Acc::merge);
    let mut divergences = acc.divergences;
    divergences.sort_by_key(|d| d.0);
    let mut findings = Vec::new();
    for (index, s, case, first) in divergences {
        let (small, divergence) = minimize(&case, &first, tamper);
        let script =
            vector::to_wast(&small.module, &divergence.instantiation, &divergence.steps, &header(s, &divergence));
        let vector_path = match vector_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{s:016x}.wast"));
                std::fs::write(&path, &script)?;
                Some(path)
            }
            None => None,
        };
        findings.push(Finding { index, seed: s, divergence, script, vector_path });
    }
    Ok(Summary {
        seed,
        total: count,
        module_bytes: acc.module_bytes,
        instantiated: acc.instantiated,
        instantiation_traps: acc.instantiation_traps,
        invocations: acc.invocations,
        returns: acc.returns,
        traps: acc.traps,
        exhausted: acc.exhausted,
        exhausted_both: acc.exhausted_both,
        instructions: acc.instructions,
        allowed: acc.allowed,
        divergences: findings,
        seconds: start.elapsed().as_secs_f64(),
    })
}

impl Summary {
    /// The report (see the crate README).
    pub fn to_json(&self) -> Value {
        let divergences: Vec<Value> = self
            .divergences
            .iter()
            .map(|f| {
                json!({
                    "seed": f.seed,
                    "index": f.index,
                    "kind": f.divergence.kind,
                    "what": f.divergence.what,
                    "ours": f.divergence.ours,
                    "theirs": f.divergence.theirs,
                    "vector": match &f.vector_path {
                        Some(p) => Value::String(p.display().to_string()),
                        None => Value::String(f.script.clone()),
                    },
                })
            })
            .collect();
        let allowed: Vec<Value> = RULES
            .iter()
            .map(|r| {
                let a = self.allowed.get(r.name).cloned().unwrap_or_default();
                json!({
                    "rule": r.name,
                    "reason": r.reason,
                    "count": a.count,
                    "examples": a.examples.iter().map(|(s, o, t)| json!({"seed": s, "ours": o, "theirs": t})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "ee": "wasm",
            "oracle": "wasmi 2.0.0",
            "generator": "wasm-smith 0.263",
            "seed": self.seed,
            "total": self.total,
            "module_bytes": self.module_bytes,
            "instantiated": self.instantiated,
            "instantiation_traps": self.instantiation_traps,
            "invocations": self.invocations,
            "returns": self.returns,
            "traps": self.traps,
            "exhausted": self.exhausted,
            "exhausted_both_sides": self.exhausted_both,
            "instructions": self.instructions,
            "limits": {"our_fuel": OUR_FUEL, "wasmi_fuel": THEIR_FUEL, "call_depth": CALL_DEPTH},
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "divergences": divergences,
            "allowed": allowed,
        })
    }

    /// Writes `differential-wasm.json` into `dir` (through a temporary file); its path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("differential-wasm.json");
        let tmp = dir.join(format!(".differential-wasm.json.{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(&self.to_json())? + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

/// Replays a saved vector: its module and invocations on both engines, compared.
#[allow(clippy::result_large_err)]
pub fn replay(path: &Path, tamper: Option<Tamper>) -> Result<Result<Compared, Divergence>, String> {
    let script = vector::load(path)?;
    Ok(compare(&script.module, &script.plan, tamper))
}
