//! Seeded generation: a module from wasm-smith (driven by a byte buffer filled from the
//! case's seed) restricted to ee-wasm's feature set, and a plan of invocations of its
//! exported functions with edge-value arguments.

use arbitrary::Unstructured;

use crate::engines::ExportKind;
use crate::{Call, Val};

/// splitmix64's finalizer.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Case `index` of campaign `seed` has this seed.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    mix(seed ^ mix(index))
}

/// A small deterministic generator (xorshift64*, seeded through splitmix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let w = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
}

/// Memories of at most this many pages (minimum and maximum).
pub const MAX_PAGES: u64 = 4;

/// The wasm-smith configuration: ee-wasm's feature set (v1 + v2 without SIMD: mutable
/// globals, sign extension, non-trapping float-to-int, multi-value, bulk memory, reference
/// types), no imports, memories and tables with maxima, NaNs canonicalized, everything
/// exported. Sizes vary with the seed.
pub fn config(rng: &mut Rng) -> wasm_smith::Config {
    wasm_smith::Config {
        // The feature set.
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        gc_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        multibyte_array_access_enabled: false,
        acquire_release_atomics_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        // Determinism and bounds.
        canonicalize_nans: true,
        max_imports: 0,
        max_memories: 1,
        max_memory32_bytes: MAX_PAGES * 65536,
        memory_max_size_required: true,
        max_tables: 1 + rng.below(3) as usize,
        max_table_elements: 200,
        table_max_size_required: true,
        min_funcs: 2,
        max_funcs: 4 + rng.below(16) as usize,
        max_instructions: 20 + rng.below(200) as usize,
        max_globals: rng.below(12) as usize,
        max_data_segments: rng.below(6) as usize,
        max_element_segments: rng.below(6) as usize,
        max_elements: 20,
        max_types: 20,
        max_values: 6,
        max_nesting_depth: 6,
        export_everything: true,
        allow_start_export: true,
        generate_custom_sections: false,
        ..wasm_smith::Config::default()
    }
}

/// The module of a case seed.
pub fn module(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let config = config(&mut rng);
    let mut len = 1024 + rng.below(8192) as usize;
    loop {
        let mut buf = vec![0u8; len];
        rng.fill(&mut buf);
        let mut u = Unstructured::new(&buf);
        if let Ok(m) = wasm_smith::Module::new(config.clone(), &mut u) {
            return m.to_bytes();
        }
        // Not enough bytes for this configuration: a longer buffer.
        len *= 2;
    }
}

const I32_EDGES: [i32; 8] = [0, 1, -1, i32::MIN, i32::MAX, 2, 31, 0x8000];
const I64_EDGES: [i64; 8] = [0, 1, -1, i64::MIN, i64::MAX, 63, 0x1_0000_0000, 0xFFFF_FFFF];
const F32_EDGES: [u32; 10] = [
    0x0000_0000, // 0.0
    0x8000_0000, // -0.0
    0x3F80_0000, // 1.0
    0xBF80_0000, // -1.0
    0x7F80_0000, // inf
    0xFF80_0000, // -inf
    0x7FC0_0000, // canonical NaN
    0x0000_0001, // smallest subnormal
    0x7F7F_FFFF, // largest finite
    0x4F00_0000, // 2^31
];
const F64_EDGES: [u64; 10] = [
    0,
    0x8000_0000_0000_0000,
    0x3FF0_0000_0000_0000,
    0xBFF0_0000_0000_0000,
    0x7FF0_0000_0000_0000,
    0xFFF0_0000_0000_0000,
    0x7FF8_0000_0000_0000,
    1,
    0x7FEF_FFFF_FFFF_FFFF,
    0x43E0_0000_0000_0000, // 2^63
];

/// An argument of type `ty`: an edge value half the time, else random bits (a NaN made canonical).
pub fn arg(rng: &mut Rng, ty: wasmi::ValType) -> Val {
    let edge = rng.below(2) == 0;
    match ty {
        wasmi::ValType::I32 if edge => Val::I32(I32_EDGES[rng.below(8) as usize]),
        wasmi::ValType::I32 => Val::I32(if rng.below(2) == 0 { rng.below(300) as i32 } else { rng.next_u64() as i32 }),
        wasmi::ValType::I64 if edge => Val::I64(I64_EDGES[rng.below(8) as usize]),
        wasmi::ValType::I64 => Val::I64(if rng.below(2) == 0 { rng.below(300) as i64 } else { rng.next_u64() as i64 }),
        wasmi::ValType::F32 if edge => Val::F32(F32_EDGES[rng.below(10) as usize]),
        wasmi::ValType::F32 => {
            let b = rng.next_u64() as u32;
            Val::F32(if f32::from_bits(b).is_nan() { 0x7FC0_0000 | (b & 0x8000_0000) } else { b })
        }
        wasmi::ValType::F64 if edge => Val::F64(F64_EDGES[rng.below(10) as usize]),
        wasmi::ValType::F64 => {
            let b = rng.next_u64();
            Val::F64(if f64::from_bits(b).is_nan() { 0x7FF8_0000_0000_0000 | (b & (1 << 63)) } else { b })
        }
        wasmi::ValType::FuncRef => Val::FuncRef(false),
        wasmi::ValType::ExternRef => Val::ExternRef(if edge { None } else { Some(rng.below(4) as u32) }),
        // No SIMD in the generated modules.
        wasmi::ValType::V128 => Val::I32(0),
    }
}

/// Rounds of invocations: every exported function is called this many times.
pub const ROUNDS: usize = 3;

/// Invocations of the exported functions: [`ROUNDS`] rounds, each export once per round in a
/// shuffled order, with fresh arguments.
pub fn plan(seed: u64, exports: &[(String, ExportKind)]) -> Vec<Call> {
    let mut rng = Rng::new(seed ^ 0x706C_616E);
    let funcs: Vec<(&String, &Vec<wasmi::ValType>)> = exports
        .iter()
        .filter_map(|(n, k)| match k {
            ExportKind::Func { params, .. } => Some((n, params)),
            _ => None,
        })
        .collect();
    let mut calls = Vec::new();
    for _round in 0..ROUNDS {
        let mut order: Vec<usize> = (0..funcs.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for i in order {
            let (name, params) = funcs[i];
            calls.push(Call { export: name.clone(), args: params.iter().map(|t| arg(&mut rng, *t)).collect() });
        }
    }
    calls
}
