//! One case of a campaign, or a small campaign: `cargo run --release -p wasm-differential
//! --example seed -- CASE_SEED` prints the case's divergence (or agreement) and its vector;
//! `-- --campaign SEED COUNT` runs a campaign and prints its report.

use wasm_differential::{binary, campaign, compare, minimize, vector};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    compare::install_quiet_hook();
    if args.first().map(String::as_str) == Some("--campaign") {
        let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
        let count = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
        let summary = campaign::run(seed, count, None, None, &|| {}).expect("campaign");
        println!("{}", serde_json::to_string_pretty(&summary.to_json()).unwrap());
        return;
    }
    if args.first().map(String::as_str) == Some("--shrink-wasmi-panic") {
        // Shrinks a module on which wasmi panics (the allow-list's translator panic) while it
        // still panics there, and prints it as a script.
        let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).expect("seed");
        let panics = |m: &[u8]| {
            compare::caught(|| wasm_differential::engines::exports_of(m))
                .err()
                .is_some_and(|p| p.contains(compare::WASMI_STORE_PANIC_AT))
        };
        let mut m = campaign::case(seed).module;
        assert!(panics(&m), "no wasmi panic in case {seed}");
        if let Some(k) = binary::keep_exports(&m, |_| false).filter(|k| panics(k)) {
            m = k;
        }
        if let Some(k) = binary::drop_start(&m).filter(|k| panics(k)) {
            m = k;
        }
        for i in 0..binary::bodies(&m) {
            if let Some(k) = binary::stub_body(&m, i).filter(|k| panics(k)) {
                m = k;
            }
        }
        println!("{}", vector::to_wast(&m, &None, &[], &[format!("case seed {seed}")]));
        return;
    }
    let seed: u64 = match args.first() {
        Some(s) => s.strip_prefix("0x").map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok()),
        None => None,
    }
    .expect("usage: seed CASE_SEED | --campaign SEED COUNT");
    let case = campaign::case(seed);
    println!("module: {} bytes, {} invocations", case.module.len(), case.plan.len());
    match compare::compare(&case.module, &case.plan, None) {
        Ok(c) => println!("agrees: {} steps, stop {:?}, instantiation {:?}", c.steps.len(), c.stop, c.instantiation),
        Err(d) => {
            println!("{d}");
            let (small, d) = minimize::minimize(&case, &d, None);
            println!(
                "minimized:\n{}",
                vector::to_wast(&small.module, &d.instantiation, &d.steps, std::slice::from_ref(&d.what))
            );
        }
    }
}
