//! A seeded campaign: `count` programs, each with its own seed derived from the campaign's
//! seed and its index, run in parallel (rayon) on both machines; divergences minimized and
//! saved as vectors; the report `differential-eravm.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::compare::{compare_caught, Compared, Divergence, Tamper};
use crate::generate::{program, program_seed};
use crate::minimize::minimize;
use crate::vector;

/// A divergence of a campaign, minimized.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The program's index in the campaign and its own seed (`program_seed(seed, index)`).
    pub index: u64,
    pub seed: u64,
    /// The divergence of the minimized program.
    pub divergence: Divergence,
    /// The minimized program as a vector (written when the campaign has a report directory).
    pub vector: Value,
    pub vector_path: Option<PathBuf>,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub seed: u64,
    pub total: u64,
    /// Instructions compared step by step (every frame, both machines agreeing).
    pub instructions: u64,
    /// Far calls executed in agreeing programs.
    pub far_calls: u64,
    /// World operations executed in agreeing programs.
    pub world_ops: u64,
    /// How the agreeing programs ended.
    pub endings: BTreeMap<String, u64>,
    pub divergences: Vec<Finding>,
    pub seconds: f64,
}

/// The known vm2 0.5.0 divergences (oracles/vm2/README.md) and how the generator keeps
/// clear of each; written into every report.
pub const KNOWN_VM2_DIVERGENCES: [(u32, &str); 7] = [
    (1, "avoided: one-output instructions always name r0 as dst1"),
    (2, "avoided: heap reads with increment address through immediates or small integers, never pointers"),
    (3, "not avoided (far ret.panic; the EE follows vm2): none seen"),
    (4, "not avoided (reads of unallocated heaps; the EE follows vm2): none seen"),
    (5, "avoided: static-memory opcodes are never generated"),
    (
        6,
        "vm2 0.5.0 indexes its heaps by a precompile call's ABI page numbers unchecked (precompiles.rs: \
         `&vm.state.heaps[abi.memory_page_to_read]`) and panics (a Rust panic) on a page that does not exist; \
         avoided: precompile-call ABIs are r0 (page 0, the frame's heap)",
    ),
    (
        7,
        "vm2 0.5.0's `inctx` (IncrementTxNumber) clears the transient-storage journal that frame and near-call \
         snapshots index into: rolling back a frame that began before it panics vm2 (rollback.rs: `drain(snapshot..)` \
         out of range) or keeps transient writes the rollback should undo (found by this generator, seeds in the \
         crate README); avoided: `inctx` is not generated (the hand-written cases run it outside rollbacks)",
    ),
];

#[derive(Default)]
struct Acc {
    instructions: u64,
    far_calls: u64,
    world_ops: u64,
    endings: BTreeMap<String, u64>,
    divergences: Vec<(u64, u64, Divergence)>,
}

impl Acc {
    fn merge(mut self, other: Acc) -> Acc {
        self.instructions += other.instructions;
        self.far_calls += other.far_calls;
        self.world_ops += other.world_ops;
        for (k, v) in other.endings {
            *self.endings.entry(k).or_default() += v;
        }
        self.divergences.extend(other.divergences);
        self
    }

    fn add(mut self, index: u64, seed: u64, result: Result<Compared, Divergence>) -> Acc {
        match result {
            Ok(c) => {
                self.instructions += c.steps as u64;
                self.far_calls += c.far_calls as u64;
                self.world_ops += c.world_ops as u64;
                *self.endings.entry(format!("{:?}", c.status)).or_default() += 1;
            }
            Err(d) => self.divergences.push((index, seed, d)),
        }
        self
    }
}

/// Runs programs `0..count` of campaign `seed` in rayon's pool, calling `on_done` after each;
/// minimizes each divergence and, with `vector_dir`, saves it there as
/// `<program seed, hex>.json`. `tamper` alters our side (tests plant differences with it).
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
            let s = program_seed(seed, index);
            let result = compare_caught(&program(s), tamper);
            on_done();
            acc.add(index, s, result)
        })
        .reduce(Acc::default, Acc::merge);
    let mut divergences = acc.divergences;
    divergences.sort_by_key(|d| d.0);
    let mut findings = Vec::new();
    for (index, s, first) in divergences {
        let small = minimize(&program(s), first.kind, tamper);
        let divergence = compare_caught(&small, tamper).err().unwrap_or(first);
        let vector = vector::to_json(&small, s, &divergence.what);
        let vector_path = match vector_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{s:016x}.json"));
                std::fs::write(&path, serde_json::to_string_pretty(&vector)? + "\n")?;
                Some(path)
            }
            None => None,
        };
        findings.push(Finding { index, seed: s, divergence, vector, vector_path });
    }
    Ok(Summary {
        seed,
        total: count,
        instructions: acc.instructions,
        far_calls: acc.far_calls,
        world_ops: acc.world_ops,
        endings: acc.endings,
        divergences: findings,
        seconds: start.elapsed().as_secs_f64(),
    })
}

impl Summary {
    /// The report: `{"ee", "seed", "total", "instructions", "far_calls", "world_ops",
    /// "endings", "seconds", "divergences": [{"seed", "index", "what", "ours", "theirs",
    /// "vector"}], "known_vm2_divergences": [{"id", "handling"}]}`; `vector` is the vector
    /// file's path when saved, else the vector itself.
    pub fn to_json(&self) -> Value {
        let divergences: Vec<Value> = self
            .divergences
            .iter()
            .map(|f| {
                json!({
                    "seed": f.seed,
                    "index": f.index,
                    "what": f.divergence.what,
                    "ours": f.divergence.ours,
                    "theirs": f.divergence.theirs,
                    "vector": match &f.vector_path {
                        Some(p) => Value::String(p.display().to_string()),
                        None => f.vector.clone(),
                    },
                })
            })
            .collect();
        let known: Vec<Value> =
            KNOWN_VM2_DIVERGENCES.iter().map(|(id, how)| json!({"id": id, "handling": how})).collect();
        json!({
            "ee": "eravm",
            "oracle": "zksync_vm2 0.5.0",
            "seed": self.seed,
            "total": self.total,
            "instructions": self.instructions,
            "far_calls": self.far_calls,
            "world_ops": self.world_ops,
            "endings": self.endings,
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "divergences": divergences,
            "known_vm2_divergences": known,
        })
    }

    /// Writes `differential-eravm.json` into `dir` (through a temporary file); its path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("differential-eravm.json");
        let tmp = dir.join(format!(".differential-eravm.json.{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(&self.to_json())? + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

/// Replays a saved vector: both machines on it, compared.
pub fn replay(path: &Path) -> Result<Result<Compared, Divergence>, String> {
    let case = vector::load(path)?;
    Ok(compare_caught(&case, None))
}
