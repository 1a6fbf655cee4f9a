//! Machine-mode control and status registers: the subset the riscv-tests `p` environment
//! and a bare-metal program use. Every other CSR number does not exist, so touching it
//! raises an illegal-instruction trap, as on hardware; the env relies on that to probe
//! and skip optional features (satp, PMP). `medeleg`/`mideleg` exist but read as zero:
//! there is no S-mode to delegate to, and the `p` env before 2019 writes them without
//! probing.

/// Privilege levels this hart implements (M and U; no S-mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    User = 0,
    Machine = 3,
}

pub const MSTATUS: u16 = 0x300;
pub const MISA: u16 = 0x301;
pub const MEDELEG: u16 = 0x302;
pub const MIDELEG: u16 = 0x303;
pub const MIE: u16 = 0x304;
pub const MTVEC: u16 = 0x305;
pub const MCOUNTEREN: u16 = 0x306;
pub const MSTATUSH: u16 = 0x310;
pub const MSCRATCH: u16 = 0x340;
pub const MEPC: u16 = 0x341;
pub const MCAUSE: u16 = 0x342;
pub const MTVAL: u16 = 0x343;
pub const MIP: u16 = 0x344;
pub const CYCLE: u16 = 0xc00;
pub const INSTRET: u16 = 0xc02;
pub const CYCLEH: u16 = 0xc80;
pub const INSTRETH: u16 = 0xc82;
pub const MVENDORID: u16 = 0xf11;
pub const MARCHID: u16 = 0xf12;
pub const MIMPID: u16 = 0xf13;
pub const MHARTID: u16 = 0xf14;
pub const MCONFIGPTR: u16 = 0xf15;

const MSTATUS_MIE: u32 = 1 << 3;
const MSTATUS_MPIE: u32 = 1 << 7;
const MSTATUS_MPP_SHIFT: u32 = 11;
/// MSIE, MTIE, MEIE: writable even though no interrupt source exists.
const MIE_MASK: u32 = 0x888;
/// CY and IR: the counters U-mode may be allowed to read.
const MCOUNTEREN_MASK: u32 = 0b101;
/// RV32 (MXL = 1) with I, M and U.
const MISA_VALUE: u32 = (1 << 30) | (1 << 8) | (1 << 12) | (1 << 20);

/// The CSR file. Reset state: everything zero, MPP = U.
#[derive(Clone, Debug)]
pub struct Csrs {
    pub mie_bit: bool,
    pub mpie: bool,
    pub mpp: Privilege,
    /// Direct-mode trap vector base (4-byte aligned); `None` until the program writes mtvec.
    pub mtvec: Option<u32>,
    pub mepc: u32,
    pub mcause: u32,
    pub mtval: u32,
    pub mscratch: u32,
    pub mie: u32,
    pub mcounteren: u32,
}

impl Default for Csrs {
    fn default() -> Self {
        Csrs {
            mie_bit: false,
            mpie: false,
            mpp: Privilege::User,
            mtvec: None,
            mepc: 0,
            mcause: 0,
            mtval: 0,
            mscratch: 0,
            mie: 0,
            mcounteren: 0,
        }
    }
}

impl Csrs {
    pub fn mstatus(&self) -> u32 {
        (u32::from(self.mie_bit) * MSTATUS_MIE)
            | (u32::from(self.mpie) * MSTATUS_MPIE)
            | ((self.mpp as u32) << MSTATUS_MPP_SHIFT)
    }

    /// Reads `csr` as `privilege`, or `None` when the access is illegal (no such CSR, or
    /// too little privilege). `instret` backs the cycle/instret counters.
    pub fn read(&self, csr: u16, privilege: Privilege, instret: u64) -> Option<u32> {
        // Bits 9:8 of the number give the lowest privilege that may access it.
        if (csr >> 8) & 3 > privilege as u16 {
            return None;
        }
        let counter_allowed = |bit: u32| privilege == Privilege::Machine || self.mcounteren & (1 << bit) != 0;
        Some(match csr {
            MSTATUS => self.mstatus(),
            // No S-mode to delegate to: every bit is hardwired to zero (WARL). The spec
            // recommends leaving them out on such a hart, but riscv-tests' `p` env before
            // 2019 writes them unconditionally (on VexRiscv and others they read as zero).
            MSTATUSH | MEDELEG | MIDELEG => 0,
            MISA => MISA_VALUE,
            MIE => self.mie,
            MIP => 0,
            MTVEC => self.mtvec.unwrap_or(0),
            MCOUNTEREN => self.mcounteren,
            MSCRATCH => self.mscratch,
            MEPC => self.mepc,
            MCAUSE => self.mcause,
            MTVAL => self.mtval,
            MVENDORID | MARCHID | MIMPID | MHARTID | MCONFIGPTR => 0,
            CYCLE | CYCLEH if counter_allowed(0) => half(instret, csr == CYCLEH),
            INSTRET | INSTRETH if counter_allowed(2) => half(instret, csr == INSTRETH),
            _ => return None,
        })
    }

    /// Writes `value` to `csr`, which [`Csrs::read`] has already accepted. `None` when the
    /// CSR is read-only (number bits 11:10 = 3). WARL fields keep only legal values.
    pub fn write(&mut self, csr: u16, value: u32) -> Option<()> {
        if csr >> 10 == 3 {
            return None;
        }
        match csr {
            MSTATUS => {
                self.mie_bit = value & MSTATUS_MIE != 0;
                self.mpie = value & MSTATUS_MPIE != 0;
                match (value >> MSTATUS_MPP_SHIFT) & 3 {
                    0 => self.mpp = Privilege::User,
                    3 => self.mpp = Privilege::Machine,
                    _ => {} // S and reserved: not supported, keep the old value
                }
            }
            // Only direct mode exists (no interrupts to vector), so the mode bits read 0.
            MTVEC => self.mtvec = Some(value & !3),
            MIE => self.mie = value & MIE_MASK,
            MCOUNTEREN => self.mcounteren = value & MCOUNTEREN_MASK,
            MSCRATCH => self.mscratch = value,
            // IALIGN = 32: the low two bits of mepc are always zero.
            MEPC => self.mepc = value & !3,
            MCAUSE => self.mcause = value,
            MTVAL => self.mtval = value,
            MSTATUSH | MISA | MIP | MEDELEG | MIDELEG => {} // no writable fields
            _ => return None,
        }
        Some(())
    }
}

fn half(value: u64, high: bool) -> u32 {
    if high {
        (value >> 32) as u32
    } else {
        value as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_supervisor_csrs_do_not_exist() {
        let c = Csrs::default();
        // satp, pmpcfg0, pmpaddr0, stvec, a custom number, time
        for csr in [0x180, 0x3a0, 0x3b0, 0x105, 0x744, 0xc01] {
            assert_eq!(c.read(csr, Privilege::Machine, 0), None, "{csr:#x}");
        }
    }

    #[test]
    fn privilege_and_read_only_checks() {
        let mut c = Csrs::default();
        assert_eq!(c.read(MSCRATCH, Privilege::User, 0), None);
        assert_eq!(c.read(MHARTID, Privilege::Machine, 0), Some(0));
        assert_eq!(c.write(MHARTID, 1), None);
        assert_eq!(c.read(CYCLE, Privilege::User, 5), None);
        c.write(MCOUNTEREN, 0xffff_ffff).unwrap();
        assert_eq!(c.read(CYCLE, Privilege::User, 5), Some(5));
        assert_eq!(c.read(INSTRETH, Privilege::User, 7 << 32), Some(7));
        assert_eq!(c.write(CYCLE, 0), None);
    }

    #[test]
    fn warl_fields() {
        let mut c = Csrs::default();
        c.write(MSTATUS, 0xffff_ffff).unwrap();
        assert_eq!(c.read(MSTATUS, Privilege::Machine, 0), Some(0x1888));
        c.write(MSTATUS, 1 << 11).unwrap(); // MPP = S is not supported: keeps M
        assert_eq!(c.mpp, Privilege::Machine);
        c.write(MEPC, 0x8000_0007).unwrap();
        assert_eq!(c.mepc, 0x8000_0004);
        c.write(MTVEC, 0x8000_0101).unwrap();
        assert_eq!(c.read(MTVEC, Privilege::Machine, 0), Some(0x8000_0100));
        c.write(MISA, 0).unwrap();
        assert_eq!(c.read(MISA, Privilege::Machine, 0), Some(MISA_VALUE));
        for deleg in [MEDELEG, MIDELEG] {
            c.write(deleg, 0xffff_ffff).unwrap();
            assert_eq!(c.read(deleg, Privilege::Machine, 0), Some(0));
        }
    }
}
