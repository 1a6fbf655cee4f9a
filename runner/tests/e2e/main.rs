//! The runner's end-to-end tests as one test binary. Each module was its own binary
//! until linking 18 release executables (thin LTO) took about two minutes of every CI run;
//! the modules share nothing but `common`, and each keeps its own temporary directories.

mod common;

mod cli;
mod cross;
mod diff;
mod differential;
mod differential_evm;
mod differential_riscv;
mod differential_wasm;
mod eest;
mod eravm;
mod eravm_deploy;
mod fetch;
mod reference;
mod reports;
mod riscv;
mod shard;
mod trace;
mod wasm;
