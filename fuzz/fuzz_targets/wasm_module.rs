//! WASM binary decode → validate → instantiate → invoke (ees/wasm's public API), on raw bytes.
//! See `fuzz::exercise_wasm` for what must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() <= 64 << 10 {
        fuzz::exercise_wasm(data);
    }
});
