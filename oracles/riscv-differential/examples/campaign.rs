//! `cargo run --release -p riscv-differential --example campaign -- SEED COUNT`: a campaign
//! without the runner (vectors under target/riscv-differential), printing its report.

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (seed, count) = (args.first().copied().unwrap_or(1), args.get(1).copied().unwrap_or(1000));
    let oracle = riscv_differential::qemu::check().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let dir = std::path::Path::new("target/riscv-differential");
    let s = riscv_differential::campaign::run(seed, count, &oracle, Some(dir), &|| {}).expect("campaign");
    println!("{}", serde_json::to_string_pretty(&s.to_json()).expect("json"));
}
