//! ee-wasm against wasmi on the same compute-heavy modules, one criterion group per workload.
//!
//! `cargo bench -p ee-wasm --bench vs_wasmi` (add `-- --measurement-time 5 --warm-up-time 1`
//! for a quick run). Each group has three lines: `ee-wasm` (always fuel-metered), `wasmi`
//! (default config: no fuel metering) and `wasmi-fuel` (fuel metering on, the like-for-like
//! comparison). Before measuring, every engine's result is asserted equal to the value the
//! same algorithm computes natively, so the benchmark measures real work. At the end the
//! mean time per call and the ratio ee-wasm / wasmi of every workload are printed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};

/// Recursive Fibonacci: call-heavy (≈243k calls for n = 25).
const FIB_WAT: &str = r#"
(module
  (func $fib (export "run") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else
        (i64.add
          (call $fib (i64.sub (local.get $n) (i64.const 1)))
          (call $fib (i64.sub (local.get $n) (i64.const 2))))))))
"#;
const FIB_N: i64 = 25;

/// Sieve of Eratosthenes over a byte array in linear memory, `rounds` times; returns the
/// number of primes ≤ `n` summed over the rounds. Loads, stores and loops.
const SIEVE_WAT: &str = r#"
(module
  (memory 2)
  (func (export "run") (param $n i64) (result i64)
    (local $lim i32) (local $round i32) (local $i i32) (local $j i32) (local $count i64)
    (local.set $lim (i32.wrap_i64 (local.get $n)))
    (local.set $round (i32.const 4))
    (loop $rounds
      ;; Clear flags[0..=n] with a word loop: 0 = candidate prime.
      (local.set $i (i32.const 0))
      (block $cleared (loop $clear
        (br_if $cleared (i32.gt_u (local.get $i) (local.get $lim)))
        (i64.store (local.get $i) (i64.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $clear)))
      ;; Cross out the multiples of every prime i with i * i <= n.
      (local.set $i (i32.const 2))
      (block $sieved (loop $outer
        (br_if $sieved (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $lim)))
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $done (loop $inner
              (br_if $done (i32.gt_u (local.get $j) (local.get $lim)))
              (i32.store8 (local.get $j) (i32.const 1))
              (local.set $j (i32.add (local.get $j) (local.get $i)))
              (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
      ;; Count what is left.
      (local.set $i (i32.const 2))
      (block $counted (loop $count_loop
        (br_if $counted (i32.gt_u (local.get $i) (local.get $lim)))
        (local.set $count
          (i64.add (local.get $count) (i64.extend_i32_u (i32.eqz (i32.load8_u (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count_loop)))
      (local.set $round (i32.sub (local.get $round) (i32.const 1)))
      (br_if $rounds (local.get $round)))
    (local.get $count)))
"#;
const SIEVE_N: i64 = 100_000;
const SIEVE_ROUNDS: i64 = 4;

/// xorshift64 feeding an FNV-1a hash, `n` iterations: pure integer arithmetic in locals.
const HASH_WAT: &str = r#"
(module
  (func (export "run") (param $n i64) (result i64)
    (local $x i64) (local $h i64)
    (local.set $x (i64.const 0x9E3779B97F4A7C15))
    (local.set $h (i64.const 0xCBF29CE484222325))
    (block $done (loop $l
      (br_if $done (i64.eqz (local.get $n)))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $h
        (i64.mul
          (i64.xor (local.get $h) (i64.and (local.get $x) (i64.const 0xFF)))
          (i64.const 0x100000001B3)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br $l)))
    (local.get $h)))
"#;
const HASH_N: i64 = 10_000_000;

fn fib_native(n: i64) -> i64 {
    if n < 2 {
        n
    } else {
        fib_native(n - 1) + fib_native(n - 2)
    }
}

fn sieve_native(n: i64) -> i64 {
    let n = n as usize;
    let mut composite = vec![false; n + 1];
    let mut i = 2;
    while i * i <= n {
        if !composite[i] {
            (i * i..=n).step_by(i).for_each(|j| composite[j] = true);
        }
        i += 1;
    }
    SIEVE_ROUNDS * composite[2..].iter().filter(|c| !**c).count() as i64
}

fn hash_native(n: i64) -> i64 {
    let (mut x, mut h) = (0x9E37_79B9_7F4A_7C15u64, 0xCBF2_9CE4_8422_2325u64);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        h = (h ^ (x & 0xFF)).wrapping_mul(0x0100_0000_01B3);
    }
    h as i64
}

fn wat_to_wasm(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex WAT");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse WAT");
    module.encode().expect("encode WAT")
}

/// A module instantiated in ee-wasm, exporting `run: [i64] -> [i64]`.
struct Ours {
    store: ee_wasm::Store,
    func: ee_wasm::FuncAddr,
}

impl Ours {
    fn new(wasm: &[u8]) -> Ours {
        let module = ee_wasm::Module::new(wasm).expect("ee-wasm: module");
        let mut store = ee_wasm::Store::new(ee_wasm::StoreLimits::default());
        let inst = ee_wasm::Linker::new().instantiate(&mut store, &module).expect("ee-wasm: instantiate");
        assert!(inst.start.is_none());
        let Some(ee_wasm::Extern::Func(func)) = store.export(inst.instance, "run") else {
            panic!("ee-wasm: no `run` export")
        };
        Ours { store, func }
    }

    fn run(&mut self, arg: i64) -> i64 {
        let mut exec = ee_wasm::Execution::new(
            &self.store,
            self.func,
            &[ee_wasm::Value::I64(arg)],
            ee_wasm::StackLimits::default(),
        )
        .expect("ee-wasm: execution");
        // Enough fuel for any workload here: every op costs 1.
        let mut fuel = u64::MAX;
        match exec.run(&mut self.store, &mut fuel).expect("ee-wasm: trap") {
            ee_wasm::RunOutcome::Finished(values) => match values[..] {
                [ee_wasm::Value::I64(v)] => v,
                _ => panic!("ee-wasm: unexpected results {values:?}"),
            },
            other => panic!("ee-wasm: unexpected outcome {other:?}"),
        }
    }
}

/// The same module instantiated in wasmi, with or without fuel metering.
struct Wasmi {
    store: wasmi::Store<()>,
    func: wasmi::TypedFunc<i64, i64>,
    fuel: bool,
}

impl Wasmi {
    fn new(wasm: &[u8], fuel: bool) -> Wasmi {
        let mut config = wasmi::Config::default();
        config.consume_fuel(fuel);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm).expect("wasmi: module");
        let mut store = wasmi::Store::new(&engine, ());
        let instance =
            wasmi::Linker::<()>::new(&engine).instantiate_and_start(&mut store, &module).expect("wasmi: instantiate");
        let func = instance.get_typed_func::<i64, i64>(&store, "run").expect("wasmi: `run` export");
        Wasmi { store, func, fuel }
    }

    fn run(&mut self, arg: i64) -> i64 {
        if self.fuel {
            self.store.set_fuel(u64::MAX).expect("wasmi: set fuel");
        }
        self.func.call(&mut self.store, arg).expect("wasmi: trap")
    }
}

/// Time measured by the benchmark loops: `(workload, engine)` → (total time, iterations).
type Times = BTreeMap<(&'static str, &'static str), (Duration, u64)>;

static TIMES: Mutex<Times> = Mutex::new(BTreeMap::new());

fn record(workload: &'static str, engine: &'static str, elapsed: Duration, iters: u64) {
    let mut times = TIMES.lock().expect("times lock");
    let entry = times.entry((workload, engine)).or_default();
    entry.0 += elapsed;
    entry.1 += iters;
}

fn timed(iters: u64, mut f: impl FnMut() -> i64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    start.elapsed()
}

struct Workload {
    name: &'static str,
    wat: &'static str,
    arg: i64,
    expected: i64,
}

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let wasm = wat_to_wasm(w.wat);
    let mut ours = Ours::new(&wasm);
    let mut wasmi = Wasmi::new(&wasm, false);
    let mut wasmi_fuel = Wasmi::new(&wasm, true);
    assert_eq!(ours.run(w.arg), w.expected, "{}: ee-wasm result", w.name);
    assert_eq!(wasmi.run(w.arg), w.expected, "{}: wasmi result", w.name);
    assert_eq!(wasmi_fuel.run(w.arg), w.expected, "{}: wasmi (fuel) result", w.name);

    let mut group = c.benchmark_group(w.name);
    group.sample_size(10);
    let (name, arg) = (w.name, w.arg);
    group.bench_with_input(BenchmarkId::new("ee-wasm", arg), &arg, |b, &arg| {
        b.iter_custom(|iters| {
            let t = timed(iters, || ours.run(arg));
            record(name, "ee-wasm", t, iters);
            t
        })
    });
    group.bench_with_input(BenchmarkId::new("wasmi", arg), &arg, |b, &arg| {
        b.iter_custom(|iters| {
            let t = timed(iters, || wasmi.run(arg));
            record(name, "wasmi", t, iters);
            t
        })
    });
    group.bench_with_input(BenchmarkId::new("wasmi-fuel", arg), &arg, |b, &arg| {
        b.iter_custom(|iters| {
            let t = timed(iters, || wasmi_fuel.run(arg));
            record(name, "wasmi-fuel", t, iters);
            t
        })
    });
    group.finish();
}

/// Prints the table for the workloads in `order` that were measured (a filter may skip some).
fn print_ratios(order: &[&'static str]) {
    let times = TIMES.lock().expect("times lock");
    let mean = |w: &'static str, e: &'static str| {
        times.get(&(w, e)).filter(|(_, n)| *n > 0).map(|(t, n)| t.as_secs_f64() / *n as f64)
    };
    let workloads: Vec<&str> = order.iter().copied().filter(|w| times.keys().any(|(k, _)| k == w)).collect();
    if workloads.is_empty() {
        return;
    }
    println!("\nee-wasm vs wasmi (mean per call over all measured iterations, warm-up included)");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>14} {:>19}",
        "workload", "ee-wasm", "wasmi", "wasmi-fuel", "ours/wasmi", "ours/wasmi-fuel"
    );
    let ms = |t: Option<f64>| t.map_or_else(|| "-".to_string(), |t| format!("{:.3} ms", t * 1e3));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "-".to_string(),
    };
    for w in workloads {
        let (o, wi, wf) = (mean(w, "ee-wasm"), mean(w, "wasmi"), mean(w, "wasmi-fuel"));
        println!("{w:<10} {:>12} {:>12} {:>12} {:>14} {:>19}", ms(o), ms(wi), ms(wf), ratio(o, wi), ratio(o, wf));
    }
}

fn main() {
    let workloads = [
        Workload { name: "fib", wat: FIB_WAT, arg: FIB_N, expected: fib_native(FIB_N) },
        Workload { name: "sieve", wat: SIEVE_WAT, arg: SIEVE_N, expected: sieve_native(SIEVE_N) },
        Workload { name: "hash", wat: HASH_WAT, arg: HASH_N, expected: hash_native(HASH_N) },
    ];
    let mut c = Criterion::default().configure_from_args();
    for w in &workloads {
        bench_workload(&mut c, w);
    }
    c.final_summary();
    print_ratios(&workloads.iter().map(|w| w.name).collect::<Vec<_>>());
}
