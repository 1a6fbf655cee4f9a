//! Structured WASM: wasm-smith builds a valid module of the EE's feature set (core wasm-v2
//! without SIMD: multi-value, reference types, bulk memory, sign extension, saturating
//! conversions; no imports, small memories and tables) from the fuzzer's bytes.
//! Must hold, besides `fuzz::exercise_wasm`'s rules: the EE accepts every such module.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        max_memories: 1,
        max_tables: 1,
        max_memory32_bytes: 64 * 65536,
        max_table_elements: 10_000,
        memory64_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        export_everything: true,
        ..wasm_smith::Config::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(module) = wasm_smith::Module::new(config(), &mut u) else { return };
    let bytes = module.to_bytes();
    if let Err(e) = ee_wasm::Module::new(&bytes) {
        panic!("a valid module was rejected: {e}");
    }
    fuzz::exercise_wasm(&bytes);
});
