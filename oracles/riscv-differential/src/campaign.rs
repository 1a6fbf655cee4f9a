//! A seeded campaign: `count` programs, each with its own seed, run on both machines in
//! parallel (rayon); divergences outside the allow-list minimized and saved as vectors
//! (ELF + JSON); the report `differential-riscv.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::compare::{run_both, run_many, Divergence, Outcome, ALLOW_LIST};
use crate::generate::{campaign_program, program_seed};
use crate::minimize::minimize;
use crate::program::{Program, SLOTS};

/// Allowed divergences listed one by one in the report (all are counted).
const ALLOWED_LISTED: usize = 50;

/// A divergence of a campaign, minimized.
#[derive(Clone, Debug)]
pub struct Finding {
    pub index: u64,
    pub seed: u64,
    pub divergence: Divergence,
    pub program: Program,
    pub vector_path: Option<PathBuf>,
}

/// An allowed divergence: which program, what, and the rule.
#[derive(Clone, Debug)]
pub struct Allowed {
    pub seed: u64,
    pub divergence: Divergence,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub seed: u64,
    pub total: u64,
    pub oracle: String,
    /// Instructions our machine executed, over all programs.
    pub instructions: u64,
    /// How the agreeing programs ended, by class.
    pub outcomes: BTreeMap<String, u64>,
    /// Allowed divergences by rule name.
    pub allowed_by_rule: BTreeMap<String, u64>,
    pub allowed: Vec<Allowed>,
    pub divergences: Vec<Finding>,
    pub seconds: f64,
}

#[derive(Default)]
struct Acc {
    instructions: u64,
    outcomes: BTreeMap<String, u64>,
    allowed_by_rule: BTreeMap<String, u64>,
    allowed: Vec<Allowed>,
    divergences: Vec<(u64, u64, Divergence)>,
}

impl Acc {
    fn merge(mut self, other: Acc) -> Acc {
        self.instructions += other.instructions;
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        for (k, v) in other.allowed_by_rule {
            *self.allowed_by_rule.entry(k).or_default() += v;
        }
        self.allowed.extend(other.allowed);
        self.allowed.sort_by_key(|a| a.seed);
        self.allowed.truncate(ALLOWED_LISTED);
        self.divergences.extend(other.divergences);
        self
    }

    fn add(mut self, index: u64, seed: u64, ours: &Outcome, d: Option<Divergence>) -> Acc {
        self.instructions += ours.instret;
        match d {
            None => *self.outcomes.entry(ours.class.name().to_string()).or_default() += 1,
            Some(d) => match d.rule {
                Some(rule) => {
                    *self.allowed_by_rule.entry(rule.name.to_string()).or_default() += 1;
                    if self.allowed.len() < ALLOWED_LISTED {
                        self.allowed.push(Allowed { seed, divergence: d });
                    }
                }
                None => self.divergences.push((index, seed, d)),
            },
        }
        self
    }
}

/// Runs programs `0..count` of campaign `seed`, calling `on_done` after each; minimizes each
/// divergence outside the allow-list and, with `vector_dir`, saves it there as
/// `<program seed, hex>.elf` and `.json`. `oracle` is qemu's version line.
pub fn run(
    seed: u64,
    count: u64,
    oracle: &str,
    vector_dir: Option<&Path>,
    on_done: &(dyn Fn() + Sync),
) -> std::io::Result<Summary> {
    let start = Instant::now();
    let slots = u64::from(SLOTS);
    let acc = (0..count.div_ceil(slots))
        .into_par_iter()
        .fold(Acc::default, |mut acc, chunk| {
            let indices = chunk * slots..((chunk + 1) * slots).min(count);
            let programs: Vec<Program> = indices.clone().map(|i| campaign_program(seed, i)).collect();
            for (index, (ours, _, d)) in indices.zip(run_many(&programs)) {
                acc = acc.add(index, program_seed(seed, index), &ours, d);
                on_done();
            }
            acc
        })
        .reduce(Acc::default, Acc::merge);
    let mut divergences = acc.divergences;
    divergences.sort_by_key(|d| d.0);
    let mut findings = Vec::new();
    for (index, s, first) in divergences {
        let small = minimize(&campaign_program(seed, index), first.kind);
        let divergence = match run_both(&small.elf(), small.misaligned_access).2 {
            Some(d) if d.rule.is_none() => d,
            _ => first,
        };
        let vector_path = match vector_dir {
            Some(dir) => Some(save_vector(dir, s, &small, &divergence)?),
            None => None,
        };
        findings.push(Finding { index, seed: s, divergence, program: small, vector_path });
    }
    crate::qemu::clean_scratch();
    Ok(Summary {
        seed,
        total: count,
        oracle: oracle.to_string(),
        instructions: acc.instructions,
        outcomes: acc.outcomes,
        allowed_by_rule: acc.allowed_by_rule,
        allowed: acc.allowed,
        divergences: findings,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The vector's JSON: the program seed, the divergence, our machine's configuration and
/// the program's items (for reading; the ELF beside it is what runs).
pub fn vector_json(seed: u64, p: &Program, d: &Divergence) -> Value {
    json!({
        "seed": format!("{seed:016x}"),
        "what": d.what,
        "ours": d.ours,
        "theirs": d.theirs,
        "misaligned_access": p.misaligned_access,
        "slot": p.slot,
        "reserved_register": p.reserved,
        "items": p.items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>(),
    })
}

/// Writes `<dir>/<seed>.elf` and `<dir>/<seed>.json`; the ELF's path.
pub fn save_vector(dir: &Path, seed: u64, p: &Program, d: &Divergence) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let elf = dir.join(format!("{seed:016x}.elf"));
    std::fs::write(&elf, p.elf())?;
    std::fs::write(elf.with_extension("json"), serde_json::to_string_pretty(&vector_json(seed, p, d))? + "\n")?;
    Ok(elf)
}

impl Summary {
    /// The report: `{"ee", "oracle", "seed", "total", "instructions", "outcomes", "seconds",
    /// "divergences": [{"seed", "index", "what", "ours", "theirs", "vector"}], "allowed":
    /// [{"seed", "what", "ours", "theirs", "rule", "reason"}] (the first 50), "allowed_by_rule",
    /// "allow_list": [{"rule", "reason"}]}`.
    pub fn to_json(&self) -> Value {
        let divergences: Vec<Value> = self
            .divergences
            .iter()
            .map(|f| {
                json!({
                    "seed": format!("{:016x}", f.seed),
                    "index": f.index,
                    "what": f.divergence.what,
                    "ours": f.divergence.ours,
                    "theirs": f.divergence.theirs,
                    "vector": match &f.vector_path {
                        Some(p) => Value::String(p.display().to_string()),
                        None => vector_json(f.seed, &f.program, &f.divergence),
                    },
                })
            })
            .collect();
        let allowed: Vec<Value> = self
            .allowed
            .iter()
            .map(|a| {
                let rule = a.divergence.rule.expect("allowed divergences have a rule");
                json!({
                    "seed": format!("{:016x}", a.seed),
                    "what": a.divergence.what,
                    "ours": a.divergence.ours,
                    "theirs": a.divergence.theirs,
                    "rule": rule.name,
                    "reason": rule.reason,
                })
            })
            .collect();
        let rules: Vec<Value> = ALLOW_LIST.iter().map(|r| json!({"rule": r.name, "reason": r.reason})).collect();
        json!({
            "ee": "riscv",
            "oracle": self.oracle,
            "seed": self.seed,
            "total": self.total,
            "instructions": self.instructions,
            "outcomes": self.outcomes,
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "divergences": divergences,
            "allowed": allowed,
            "allowed_by_rule": self.allowed_by_rule,
            "allow_list": rules,
        })
    }

    /// Writes `differential-riscv.json` into `dir` (through a temporary file); its path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("differential-riscv.json");
        let tmp = dir.join(format!(".differential-riscv.json.{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(&self.to_json())? + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

/// The ELF files a replay runs: `.elf` files as given (a `.json` names its `.elf`), and
/// every `*.elf` of a directory, sorted.
pub fn replay_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "elf"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else if p.extension().is_some_and(|e| e == "json") {
            files.push(p.with_extension("elf"));
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Replays one saved vector: the ELF on both machines, our machine configured as the
/// `.json` beside it says (`misaligned_access`, default true). `Err` when it cannot be read.
pub fn replay(elf_path: &Path) -> Result<(Outcome, Outcome, Option<Divergence>), String> {
    let elf = std::fs::read(elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let json_path = elf_path.with_extension("json");
    let misaligned_access = match std::fs::read_to_string(&json_path) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json_path.display()))?;
            v["misaligned_access"].as_bool().unwrap_or(true)
        }
        Err(_) => true,
    };
    ee_riscv::elf::parse(&elf).map_err(|e| format!("{}: not a loadable ELF: {e}", elf_path.display()))?;
    Ok(run_both(&elf, misaligned_access))
}
