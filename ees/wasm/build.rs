//! Sets `ee_wasm_tail_calls` when the interpreter's handlers may call each other in tail
//! position (`src/exec/handlers.rs`): LLVM turns those calls into jumps (sibling-call
//! optimisation) at opt-level 2, 3, `s` and `z` on x86-64 and AArch64, where all six
//! handler arguments travel in registers. Anywhere else the handlers return to a loop
//! instead, so the native stack cannot grow with the number of executed ops.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ee_wasm_tail_calls)");
    println!("cargo::rerun-if-changed=build.rs");
    let opt_level = std::env::var("OPT_LEVEL").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let optimising = matches!(opt_level.as_str(), "2" | "3" | "s" | "z");
    if optimising && matches!(arch.as_str(), "x86_64" | "aarch64") {
        println!("cargo::rustc-cfg=ee_wasm_tail_calls");
    }
}
