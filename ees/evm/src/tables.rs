//! Per-fork opcode tables: validity, static gas and stack bounds, so the
//! dispatch loop does one lookup instead of fork comparisons per instruction.

use std::sync::OnceLock;

use ee_api::Fork;

pub(crate) const STACK_LIMIT: usize = 1024;

#[derive(Clone, Copy, Debug)]
pub(crate) struct OpInfo {
    /// Gas charged before the instruction runs (dynamic parts are charged by the handler).
    pub gas: u32,
    /// Stack items the instruction needs; `u16::MAX` for an undefined opcode, so that the
    /// one stack check below also rejects it.
    pub min_stack: u16,
    /// Stack lengths `min_stack ..= min_stack + stack_range` are the ones at which the
    /// instruction neither underflows nor overflows: the loop tests both with one unsigned
    /// comparison, `len - min_stack > stack_range` (wrapping).
    pub stack_range: u16,
}

impl OpInfo {
    /// Whether some fork's instruction set defines this byte (at this table's fork).
    pub fn valid(&self) -> bool {
        self.min_stack != u16::MAX
    }

    /// Largest stack length at which the instruction cannot overflow.
    pub fn max_stack(&self) -> usize {
        self.min_stack as usize + self.stack_range as usize
    }
}

pub(crate) type OpTable = [OpInfo; 256];

const INVALID: OpInfo = OpInfo { gas: 0, min_stack: u16::MAX, stack_range: 0 };

fn build(fork: Fork) -> OpTable {
    let mut t = [INVALID; 256];
    let mut set = |op: u8, gas: u32, inputs: u16, outputs: u16| {
        let max = STACK_LIMIT as u16 + inputs - outputs;
        t[op as usize] = OpInfo { gas, min_stack: inputs, stack_range: max - inputs };
    };
    let at = |f: Fork| fork >= f;
    let tangerine = at(Fork::Tangerine);
    let istanbul = at(Fork::Istanbul);
    let berlin = at(Fork::Berlin);
    // Account access: Berlin charges the warm cost here and adds the cold surcharge in the handler.
    let ext_gas = if berlin {
        100
    } else if tangerine {
        700
    } else {
        20
    };
    let balance_gas = if berlin {
        100
    } else if istanbul {
        700
    } else if tangerine {
        400
    } else {
        20
    };
    let sload_gas = if berlin {
        100
    } else if istanbul {
        800
    } else if tangerine {
        200
    } else {
        50
    };
    let call_gas = if berlin {
        100
    } else if tangerine {
        700
    } else {
        40
    };

    set(0x00, 0, 0, 0);
    for (op, gas) in [(0x01, 3), (0x02, 5), (0x03, 3), (0x04, 5), (0x05, 5), (0x06, 5), (0x07, 5)] {
        set(op, gas, 2, 1);
    }
    set(0x08, 8, 3, 1);
    set(0x09, 8, 3, 1);
    set(0x0a, 10, 2, 1);
    set(0x0b, 5, 2, 1);
    for op in 0x10..=0x14 {
        set(op, 3, 2, 1);
    }
    set(0x15, 3, 1, 1);
    for op in 0x16..=0x18 {
        set(op, 3, 2, 1);
    }
    set(0x19, 3, 1, 1);
    set(0x1a, 3, 2, 1);
    if at(Fork::Constantinople) {
        for op in 0x1b..=0x1d {
            set(op, 3, 2, 1);
        }
    }
    if at(Fork::Osaka) {
        // EIP-7939 CLZ: 5 gas, the price of MUL.
        set(0x1e, 5, 1, 1);
    }
    set(0x20, 30, 2, 1);
    set(0x30, 2, 0, 1);
    set(0x31, balance_gas, 1, 1);
    for op in 0x32..=0x34 {
        set(op, 2, 0, 1);
    }
    set(0x35, 3, 1, 1);
    set(0x36, 2, 0, 1);
    set(0x37, 3, 3, 0);
    set(0x38, 2, 0, 1);
    set(0x39, 3, 3, 0);
    set(0x3a, 2, 0, 1);
    set(0x3b, ext_gas, 1, 1);
    set(0x3c, ext_gas, 4, 0);
    if at(Fork::Byzantium) {
        set(0x3d, 2, 0, 1);
        set(0x3e, 3, 3, 0);
    }
    if at(Fork::Constantinople) {
        let gas = if berlin {
            100
        } else if istanbul {
            700
        } else {
            400
        };
        set(0x3f, gas, 1, 1);
    }
    set(0x40, 20, 1, 1);
    for op in 0x41..=0x45 {
        set(op, 2, 0, 1);
    }
    if istanbul {
        set(0x46, 2, 0, 1);
        set(0x47, 5, 0, 1);
    }
    if at(Fork::London) {
        set(0x48, 2, 0, 1);
    }
    if at(Fork::Cancun) {
        set(0x49, 3, 1, 1);
        set(0x4a, 2, 0, 1);
    }
    set(0x50, 2, 1, 0);
    set(0x51, 3, 1, 1);
    set(0x52, 3, 2, 0);
    set(0x53, 3, 2, 0);
    set(0x54, sload_gas, 1, 1);
    set(0x55, 0, 2, 0);
    set(0x56, 8, 1, 0);
    set(0x57, 10, 2, 0);
    set(0x58, 2, 0, 1);
    set(0x59, 2, 0, 1);
    set(0x5a, 2, 0, 1);
    set(0x5b, 1, 0, 0);
    if at(Fork::Cancun) {
        set(0x5c, 100, 1, 1);
        set(0x5d, 100, 2, 0);
        set(0x5e, 3, 3, 0);
    }
    if at(Fork::Shanghai) {
        set(0x5f, 2, 0, 1);
    }
    for op in 0x60..=0x7f {
        set(op, 3, 0, 1);
    }
    for n in 1..=16u16 {
        set(0x7f + n as u8, 3, n, n + 1);
        set(0x8f + n as u8, 3, n + 1, n + 1);
    }
    for n in 0..=4u16 {
        set(0xa0 + n as u8, 375 + 375 * n as u32, n + 2, 0);
    }
    set(0xf0, 32000, 3, 1);
    set(0xf1, call_gas, 7, 1);
    set(0xf2, call_gas, 7, 1);
    set(0xf3, 0, 2, 0);
    if at(Fork::Homestead) {
        set(0xf4, call_gas, 6, 1);
    }
    if at(Fork::Constantinople) {
        set(0xf5, 32000, 4, 1);
    }
    if at(Fork::Byzantium) {
        set(0xfa, call_gas, 6, 1);
        set(0xfd, 0, 2, 0);
    }
    set(0xff, if tangerine { 5000 } else { 0 }, 1, 0);
    t
}

/// The position of `fork` in `Fork::ALL` (per-fork caches are arrays indexed by it).
pub(crate) fn fork_index(fork: Fork) -> usize {
    Fork::ALL.iter().position(|f| *f == fork).expect("every fork is in Fork::ALL")
}

/// The shared table of `fork`, built on first use.
pub(crate) fn table(fork: Fork) -> &'static OpTable {
    static TABLES: OnceLock<Vec<OpTable>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| Fork::ALL.iter().map(|f| build(*f)).collect());
    &tables[fork_index(fork)]
}

/// Mnemonic of `op` as go-ethereum prints it in traces (fork-independent except
/// 0x44, DIFFICULTY before Paris and PREVRANDAO from Paris on). `None` for
/// bytes no fork defines.
pub(crate) fn op_name(op: u8, fork: Fork) -> Option<&'static str> {
    const PUSH: [&str; 33] = [
        "PUSH0", "PUSH1", "PUSH2", "PUSH3", "PUSH4", "PUSH5", "PUSH6", "PUSH7", "PUSH8", "PUSH9", "PUSH10", "PUSH11",
        "PUSH12", "PUSH13", "PUSH14", "PUSH15", "PUSH16", "PUSH17", "PUSH18", "PUSH19", "PUSH20", "PUSH21", "PUSH22",
        "PUSH23", "PUSH24", "PUSH25", "PUSH26", "PUSH27", "PUSH28", "PUSH29", "PUSH30", "PUSH31", "PUSH32",
    ];
    const DUP: [&str; 16] = [
        "DUP1", "DUP2", "DUP3", "DUP4", "DUP5", "DUP6", "DUP7", "DUP8", "DUP9", "DUP10", "DUP11", "DUP12", "DUP13",
        "DUP14", "DUP15", "DUP16",
    ];
    const SWAP: [&str; 16] = [
        "SWAP1", "SWAP2", "SWAP3", "SWAP4", "SWAP5", "SWAP6", "SWAP7", "SWAP8", "SWAP9", "SWAP10", "SWAP11", "SWAP12",
        "SWAP13", "SWAP14", "SWAP15", "SWAP16",
    ];
    const LOG: [&str; 5] = ["LOG0", "LOG1", "LOG2", "LOG3", "LOG4"];
    Some(match op {
        0x00 => "STOP",
        0x01 => "ADD",
        0x02 => "MUL",
        0x03 => "SUB",
        0x04 => "DIV",
        0x05 => "SDIV",
        0x06 => "MOD",
        0x07 => "SMOD",
        0x08 => "ADDMOD",
        0x09 => "MULMOD",
        0x0a => "EXP",
        0x0b => "SIGNEXTEND",
        0x10 => "LT",
        0x11 => "GT",
        0x12 => "SLT",
        0x13 => "SGT",
        0x14 => "EQ",
        0x15 => "ISZERO",
        0x16 => "AND",
        0x17 => "OR",
        0x18 => "XOR",
        0x19 => "NOT",
        0x1a => "BYTE",
        0x1b => "SHL",
        0x1c => "SHR",
        0x1d => "SAR",
        0x1e if fork >= Fork::Osaka => "CLZ",
        0x20 => "KECCAK256",
        0x30 => "ADDRESS",
        0x31 => "BALANCE",
        0x32 => "ORIGIN",
        0x33 => "CALLER",
        0x34 => "CALLVALUE",
        0x35 => "CALLDATALOAD",
        0x36 => "CALLDATASIZE",
        0x37 => "CALLDATACOPY",
        0x38 => "CODESIZE",
        0x39 => "CODECOPY",
        0x3a => "GASPRICE",
        0x3b => "EXTCODESIZE",
        0x3c => "EXTCODECOPY",
        0x3d => "RETURNDATASIZE",
        0x3e => "RETURNDATACOPY",
        0x3f => "EXTCODEHASH",
        0x40 => "BLOCKHASH",
        0x41 => "COINBASE",
        0x42 => "TIMESTAMP",
        0x43 => "NUMBER",
        0x44 if fork >= Fork::Paris => "PREVRANDAO",
        0x44 => "DIFFICULTY",
        0x45 => "GASLIMIT",
        0x46 => "CHAINID",
        0x47 => "SELFBALANCE",
        0x48 => "BASEFEE",
        0x49 => "BLOBHASH",
        0x4a => "BLOBBASEFEE",
        0x50 => "POP",
        0x51 => "MLOAD",
        0x52 => "MSTORE",
        0x53 => "MSTORE8",
        0x54 => "SLOAD",
        0x55 => "SSTORE",
        0x56 => "JUMP",
        0x57 => "JUMPI",
        0x58 => "PC",
        0x59 => "MSIZE",
        0x5a => "GAS",
        0x5b => "JUMPDEST",
        0x5c => "TLOAD",
        0x5d => "TSTORE",
        0x5e => "MCOPY",
        0x5f..=0x7f => PUSH[(op - 0x5f) as usize],
        0x80..=0x8f => DUP[(op - 0x80) as usize],
        0x90..=0x9f => SWAP[(op - 0x90) as usize],
        0xa0..=0xa4 => LOG[(op - 0xa0) as usize],
        0xf0 => "CREATE",
        0xf1 => "CALL",
        0xf2 => "CALLCODE",
        0xf3 => "RETURN",
        0xf4 => "DELEGATECALL",
        0xf5 => "CREATE2",
        0xfa => "STATICCALL",
        0xfd => "REVERT",
        0xfe => "INVALID",
        0xff => "SELFDESTRUCT",
        _ => return None,
    })
}
