//! The `eravm` vectors' expectations are vm2's: every vector's calls run on Matter Labs'
//! zksync_vm2 0.5.0 (through `eravm-oracle`), in the world the suite builds, and each call's
//! `expect` must be exactly what vm2 produces now: status, return data, ergs used, storage
//! changes, event packets.
//!
//! `RECORD_ERAVM_VECTORS=1 cargo test --release -p conformance --test eravm_vectors` writes
//! the expectations into the files instead (the vectors in `eravm-vectors/` and the CLI
//! test's fixtures in `runner/tests/fixtures/eravm/`). Without `shared/eravm` the vectors that
//! name a zksolc contract are skipped with a note (a failure when REQUIRE_ERAVM_CONTRACTS is
//! set); the assembly-only ones still run, in a world without system contracts, and with
//! the data they must give the same results in both worlds (the suite runs them in either).

#[path = "../src/suites/json_files.rs"]
mod json_files;
#[path = "../src/suites/eravm/model.rs"]
#[allow(dead_code)]
mod model;

use std::path::{Path, PathBuf};

use eravm_oracle::{Outcome, Status, Tx, World};
use model::{address_text, word, EventSpec, Expect, Shared, Vector, VectorFile};

const RECORD_ENV: &str = "RECORD_ERAVM_VECTORS";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// vm2's world for a vector: the system contracts (when `shared` is given), the contracts
/// installed, the storage set; checked to hold exactly the genesis the suite builds.
fn vm2_world(v: &Vector, shared: Option<&Shared>) -> Result<World, String> {
    let genesis = v.genesis(shared)?;
    let mut world = match shared {
        Some(s) => World::with_system_contracts(&s.system),
        None => World::new(),
    };
    for at in v.contracts.keys() {
        let at = model::address(at)?;
        world.install(at, &genesis.code[&at]);
    }
    for (at, slots) in &v.storage {
        for (k, val) in slots {
            world.set_storage(model::address(at)?, model::number(k)?, model::number(val)?);
        }
    }
    let slots: Vec<_> = world.storage_slots().collect();
    let expected: Vec<_> = genesis.storage.iter().map(|(&(a, k), &v)| (a, k, v)).collect();
    if slots != expected {
        return Err("vm2's world and the suite's genesis differ".into());
    }
    Ok(world)
}

fn expectation(out: &Outcome) -> Result<Expect, String> {
    let status = match out.status {
        Status::Success => "success",
        Status::Revert => "revert",
        Status::Panic => "panic",
        other => return Err(format!("vm2 ended with {other:?}: not a comparable outcome")),
    };
    Ok(Expect {
        status: status.into(),
        return_data: format!("0x{}", hex::encode(&out.return_data)),
        ergs_used: out.ergs_used(),
        storage_changes: out
            .storage_changes
            .iter()
            .map(|w| [address_text(w.address), word(w.key), word(w.after)])
            .collect(),
        events: out
            .events
            .iter()
            .map(|e| EventSpec { key: word(e.key), value: word(e.value), is_first: e.is_first })
            .collect(),
    })
}

/// vm2's expectation for each call of `v`, applied in sequence.
fn run_on_vm2(v: &Vector, shared: Option<&Shared>) -> Result<Vec<Expect>, String> {
    let mut world = vm2_world(v, shared)?;
    let mut out = Vec::new();
    for (i, call) in v.resolved_calls()?.iter().enumerate() {
        let outcome = world.execute(&Tx::call(call.from, call.to, call.calldata.clone(), call.ergs));
        out.push(expectation(&outcome).map_err(|e| format!("call {i}: {e}"))?);
    }
    Ok(out)
}

fn files() -> Vec<(String, PathBuf)> {
    let dirs = [repo().join("eravm-vectors"), repo().join("runner/tests/fixtures/eravm")];
    let dirs: Vec<PathBuf> = dirs.into_iter().filter(|d| d.is_dir()).collect();
    json_files::vector_files(&dirs).unwrap()
}

#[test]
fn every_expectation_is_what_vm2_does() {
    let record = std::env::var_os(RECORD_ENV).is_some_and(|v| !v.is_empty());
    let shared = Shared::load().unwrap();
    if shared.is_none() {
        let msg = model::shared_hint();
        assert!(std::env::var_os("REQUIRE_ERAVM_CONTRACTS").is_none(), "{msg} (REQUIRE_ERAVM_CONTRACTS is set)");
        assert!(!record, "{msg}: recording needs them");
        eprintln!("note: {msg}; only the assembly vectors are checked");
    }
    let files = files();
    assert!(!files.is_empty());
    let mut problems = Vec::new();
    let mut checked = 0;
    for (rel, path) in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut vectors: VectorFile = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for (name, v) in vectors.iter_mut() {
            if shared.is_none() && v.needs_shared() {
                continue;
            }
            let got = match run_on_vm2(v, shared.as_ref()) {
                Ok(got) => got,
                Err(e) => {
                    problems.push(format!("{rel}::{name}: {e}"));
                    continue;
                }
            };
            // An assembly-only vector runs without shared/eravm too: the same answers there.
            if shared.is_some() && !v.needs_shared() {
                match run_on_vm2(v, None) {
                    Ok(bare) if bare == got => {}
                    Ok(_) => problems.push(format!("{rel}::{name}: vm2 answers differently without system contracts")),
                    Err(e) => problems.push(format!("{rel}::{name}: without system contracts: {e}")),
                }
            }
            for (i, (call, expect)) in v.calls.iter_mut().zip(got).enumerate() {
                checked += 1;
                if record {
                    call.expect = Some(expect);
                } else if call.expect.as_ref() != Some(&expect) {
                    problems.push(format!(
                        "{rel}::{name}::call{i}: recorded {}, vm2 now gives {}",
                        serde_json::to_string(&call.expect).unwrap(),
                        serde_json::to_string(&expect).unwrap()
                    ));
                }
            }
        }
        if record {
            let out = compact(&serde_json::to_string_pretty(&vectors).unwrap());
            if out != text {
                std::fs::write(&path, out).unwrap();
                eprintln!("recorded {}", path.display());
            }
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    assert!(checked > 0, "no call was checked");
    eprintln!("{checked} calls match vm2");
}

/// serde_json's pretty form with every array or object of scalars on one line (arguments,
/// storage changes, events), so a vector file stays readable.
fn compact(pretty: &str) -> String {
    let mut lines: Vec<String> = pretty.lines().map(String::from).collect();
    let mut i = 0;
    while i < lines.len() {
        let open = lines[i].trim_end();
        // Assembly given as lines stays one line per line.
        if !(open.ends_with('[') || open.ends_with('{')) || open.trim_start().starts_with("\"eravm\"") {
            i += 1;
            continue;
        }
        let indent = lines[i].len() - lines[i].trim_start().len();
        let Some(end) = (i + 1..lines.len()).find(|&j| lines[j].len() - lines[j].trim_start().len() <= indent) else {
            break;
        };
        let inner = &lines[i + 1..end];
        let scalars = inner.iter().all(|l| {
            let t = l.trim_end().trim_end_matches(',');
            !(t.ends_with('[') || t.ends_with('{'))
        });
        let joined = format!(
            "{}{}{}",
            open,
            inner.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
            lines[end].trim_start()
        );
        if scalars && !inner.is_empty() && joined.len() <= 200 {
            lines.splice(i..=end, [joined]);
            // The enclosing block may now be all scalars too.
            i = i.saturating_sub(1);
            while i > 0
                && !{
                    let t = lines[i].trim_end();
                    t.ends_with('[') || t.ends_with('{')
                }
            {
                i -= 1;
            }
        } else {
            i += 1;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
