//! Synchronous exceptions: their `mcause` codes and how they read in a verdict.

use std::fmt;

/// The exceptions this hart raises (no interrupts: there is no timer or external line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapCause {
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EcallFromU = 8,
    EcallFromM = 11,
}

impl TrapCause {
    /// The value `mcause` takes (interrupt bit clear).
    pub fn code(self) -> u32 {
        self as u32
    }
}

impl fmt::Display for TrapCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapCause::InstructionAddressMisaligned => "instruction address misaligned",
            TrapCause::InstructionAccessFault => "instruction access fault",
            TrapCause::IllegalInstruction => "illegal instruction",
            TrapCause::Breakpoint => "breakpoint",
            TrapCause::LoadAddressMisaligned => "load address misaligned",
            TrapCause::LoadAccessFault => "load access fault",
            TrapCause::StoreAddressMisaligned => "store address misaligned",
            TrapCause::StoreAccessFault => "store access fault",
            TrapCause::EcallFromU => "environment call from U-mode",
            TrapCause::EcallFromM => "environment call from M-mode",
        })
    }
}

/// One raised exception: what, where, and the `mtval` it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Trap {
    pub cause: TrapCause,
    /// Address of the instruction that raised it (`mepc`).
    pub pc: u32,
    /// Faulting address, instruction bits, or 0 (`mtval`).
    pub tval: u32,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at pc 0x{:08x} (tval 0x{:08x})", self.cause, self.pc, self.tval)
    }
}
