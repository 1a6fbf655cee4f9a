//! The disassembler: a decoded instruction in the text syntax of zksolc's (LLVM EraVM
//! backend's) assembly listings, `mnemonic<TAB>operands`.
//!
//! What the listings show, and we follow: arithmetic is `name[.s][!][.cond]` with
//! `src0, r<src1>, dst0` (plus `, r<dst1>` for `mul`/`div`, which always print it);
//! immediates in decimal; `code[…]`, `stack[…]` (absolute), `stack-[…]` (relative to
//! `sp`) for memory operands; `ldm.h`/`stm.ah`/`ldmi.h`/… for heap accesses; `retl`,
//! `revl`, `pncl` for returns to a label; `callf[.st]`, `calld`, `callm` for far calls;
//! `incsp` for a nop that pushes. Where a listing has a label, we print the number it
//! stands for (an instruction index or a code word).
//!
//! Not in any listing we have, so spelled by us: `.sh` (shard far call), `.gtlt`,
//! `stack-=[…]`/`stack+=[…]` outside `incsp`/`decsp`, `decsp`, `pnc`, `inctx`,
//! `auxmut`, `ldm.st`/`stm.st` (static memory), an address with both a register and an
//! offset (`imm+rN`, the form `code[@JTI0_0+r3]` takes), and `invalid`.

use std::fmt;

use crate::decode::Instruction;
use crate::table::{Dst, Modifiers, Op, Src};

/// A memory address `reg + imm` as the listings print it.
struct Address {
    reg: u8,
    imm: u16,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reg, self.imm) {
            (0, imm) => write!(f, "{imm}"),
            (reg, 0) => write!(f, "r{reg}"),
            (reg, imm) => write!(f, "{imm}+r{reg}"),
        }
    }
}

/// The first source operand.
struct Source<'a>(&'a Instruction);

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        let at = Address { reg: i.src0, imm: i.imm0 };
        match i.src {
            Src::Reg => write!(f, "r{}", i.src0),
            Src::Imm => write!(f, "{}", i.imm0),
            Src::StackPop => write!(f, "stack-=[{at}]"),
            Src::StackRel => write!(f, "stack-[{at}]"),
            Src::StackAbs => write!(f, "stack[{at}]"),
            Src::Code => write!(f, "code[{at}]"),
        }
    }
}

/// The first destination operand.
struct Destination<'a>(&'a Instruction);

impl fmt::Display for Destination<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        let at = Address { reg: i.dst0, imm: i.imm1 };
        match i.dst {
            Dst::Reg => write!(f, "r{}", i.dst0),
            Dst::StackPush => write!(f, "stack+=[{at}]"),
            Dst::StackRel => write!(f, "stack-[{at}]"),
            Dst::StackAbs => write!(f, "stack[{at}]"),
        }
    }
}

impl Instruction {
    /// The mnemonic with its modifiers and condition, e.g. `sub.s!`, `jump.ne`, `ldmi.h`.
    pub fn mnemonic(&self) -> String {
        let has = |m: Modifiers| self.modifiers.contains(m);
        let base: String = match self.op {
            Op::Invalid => "invalid".into(),
            Op::Nop => match (self.src, self.dst) {
                (Src::Reg, Dst::StackPush) => "incsp".into(),
                (Src::StackPop, Dst::Reg) => "decsp".into(),
                _ => "nop".into(),
            },
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Xor
            | Op::And
            | Op::Or
            | Op::Shl
            | Op::Shr
            | Op::Rol
            | Op::Ror => {
                let name = match self.op {
                    Op::Add => "add",
                    Op::Sub => "sub",
                    Op::Mul => "mul",
                    Op::Div => "div",
                    Op::Xor => "xor",
                    Op::And => "and",
                    Op::Or => "or",
                    Op::Shl => "shl",
                    Op::Shr => "shr",
                    Op::Rol => "rol",
                    _ => "ror",
                };
                let swap = if has(Modifiers::SWAP) { ".s" } else { "" };
                let set = if has(Modifiers::SET_FLAGS) { "!" } else { "" };
                format!("{name}{swap}{set}")
            }
            Op::PtrAdd | Op::PtrSub | Op::PtrPack | Op::PtrShrink => {
                let name = match self.op {
                    Op::PtrAdd => "addp",
                    Op::PtrSub => "subp",
                    Op::PtrPack => "pack",
                    _ => "shrnk",
                };
                format!("{name}{}", if has(Modifiers::SWAP) { ".s" } else { "" })
            }
            Op::Jump => "jump".into(),
            Op::NearCall => "call".into(),
            Op::This => "this".into(),
            Op::Caller => "par".into(),
            Op::CodeAddress => "code".into(),
            Op::Meta => "meta".into(),
            Op::ErgsLeft => "ergs".into(),
            Op::Sp => "sp".into(),
            Op::GetContextU128 => "ldvl".into(),
            Op::SetContextU128 => "stvl".into(),
            Op::AuxMutating0 => "auxmut".into(),
            Op::IncrementTxNumber => "inctx".into(),
            Op::StorageRead => "lds".into(),
            Op::StorageWrite => "sts".into(),
            Op::TransientStorageRead => "ldt".into(),
            Op::TransientStorageWrite => "stt".into(),
            Op::ToL1Message | Op::Event => {
                let name = if self.op == Op::Event { "log" } else { "logL1" };
                format!("{name}{}", if has(Modifiers::FIRST) { ".i" } else { "" })
            }
            Op::PrecompileCall => "callp".into(),
            Op::Decommit => "dcmt".into(),
            Op::FarCall | Op::FarCallDelegate | Op::FarCallMimic => {
                let name = match self.op {
                    Op::FarCall => "callf",
                    Op::FarCallDelegate => "calld",
                    _ => "callm",
                };
                let st = if has(Modifiers::STATIC) { ".st" } else { "" };
                let sh = if has(Modifiers::SHARD) { ".sh" } else { "" };
                format!("{name}{st}{sh}")
            }
            Op::Ret | Op::Revert | Op::Panic => {
                let name = match self.op {
                    Op::Ret => "ret",
                    Op::Revert => "rev",
                    _ => "pnc",
                };
                format!("{name}{}", if has(Modifiers::TO_LABEL) { "l" } else { "" })
            }
            Op::HeapRead
            | Op::HeapWrite
            | Op::AuxHeapRead
            | Op::AuxHeapWrite
            | Op::StaticMemoryRead
            | Op::StaticMemoryWrite => {
                let write = matches!(self.op, Op::HeapWrite | Op::AuxHeapWrite | Op::StaticMemoryWrite);
                let page = match self.op {
                    Op::HeapRead | Op::HeapWrite => "h",
                    Op::AuxHeapRead | Op::AuxHeapWrite => "ah",
                    _ => "st",
                };
                let inc = if has(Modifiers::INCREMENT) { "i" } else { "" };
                format!("{}{inc}.{page}", if write { "stm" } else { "ldm" })
            }
            Op::FatPointerRead => format!("ldp{}", if has(Modifiers::INCREMENT) { "i" } else { "" }),
        };
        base + self.cond.suffix()
    }
}

impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mnemonic())?;
        let inc = self.modifiers.contains(Modifiers::INCREMENT);
        let (src, dst) = (Source(self), Destination(self));
        let (r_src0, r_src1, r_dst0, r_dst1) = (self.src0, self.src1, self.dst0, self.dst1);
        match self.op {
            Op::Invalid => write!(f, "\t; variant {}", self.variant),
            Op::Nop => match (self.src, self.dst) {
                (Src::Reg, Dst::Reg) => Ok(()),
                (Src::Reg, Dst::StackPush) => write!(f, "\t{}", Address { reg: self.dst0, imm: self.imm1 }),
                (Src::StackPop, Dst::Reg) => write!(f, "\t{}", Address { reg: self.src0, imm: self.imm0 }),
                _ => write!(f, "\t{src}, {dst}"),
            },
            Op::Add | Op::Sub | Op::Xor | Op::And | Op::Or | Op::Shl | Op::Shr | Op::Rol | Op::Ror => {
                write!(f, "\t{src}, r{r_src1}, {dst}")
            }
            Op::PtrAdd | Op::PtrSub | Op::PtrPack | Op::PtrShrink => write!(f, "\t{src}, r{r_src1}, {dst}"),
            Op::Mul | Op::Div => write!(f, "\t{src}, r{r_src1}, {dst}, r{r_dst1}"),
            Op::Jump if self.dst0 == 0 => write!(f, "\t{src}"),
            Op::Jump => write!(f, "\t{src}, r{r_dst0}"),
            Op::NearCall => write!(f, "\tr{r_src0}, {}, {}", self.imm0, self.imm1),
            Op::This | Op::Caller | Op::CodeAddress | Op::Meta | Op::ErgsLeft | Op::Sp | Op::GetContextU128 => {
                write!(f, "\tr{r_dst0}")
            }
            Op::SetContextU128 | Op::AuxMutating0 => write!(f, "\tr{r_src0}"),
            Op::IncrementTxNumber => Ok(()),
            Op::StorageRead | Op::TransientStorageRead => write!(f, "\tr{r_src0}, r{r_dst0}"),
            Op::StorageWrite | Op::TransientStorageWrite | Op::ToL1Message | Op::Event => {
                write!(f, "\tr{r_src0}, r{r_src1}")
            }
            Op::PrecompileCall | Op::Decommit => write!(f, "\tr{r_src0}, r{r_src1}, r{r_dst0}"),
            Op::FarCall | Op::FarCallDelegate | Op::FarCallMimic => {
                write!(f, "\tr{r_src0}, r{r_src1}, {}", self.imm0)
            }
            Op::Ret | Op::Revert | Op::Panic => {
                // The listings leave out the returned register when it is r1, the ABI's.
                let reg = (self.op != Op::Panic && self.src0 != 1).then_some(self.src0);
                match (reg, self.modifiers.contains(Modifiers::TO_LABEL)) {
                    (None, false) => Ok(()),
                    (None, true) => write!(f, "\t{}", self.imm0),
                    (Some(r), false) => write!(f, "\tr{r}"),
                    (Some(r), true) => write!(f, "\tr{r}, {}", self.imm0),
                }
            }
            Op::HeapRead | Op::AuxHeapRead | Op::StaticMemoryRead if inc => {
                write!(f, "\t{src}, r{r_dst0}, r{r_dst1}")
            }
            Op::HeapRead | Op::AuxHeapRead | Op::StaticMemoryRead => write!(f, "\t{src}, r{r_dst0}"),
            Op::HeapWrite | Op::AuxHeapWrite | Op::StaticMemoryWrite if inc => {
                write!(f, "\t{src}, r{r_src1}, r{r_dst0}")
            }
            Op::HeapWrite | Op::AuxHeapWrite | Op::StaticMemoryWrite => write!(f, "\t{src}, r{r_src1}"),
            Op::FatPointerRead if inc => write!(f, "\tr{r_src0}, r{r_dst0}, r{r_dst1}"),
            Op::FatPointerRead => write!(f, "\tr{r_src0}, r{r_dst0}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::Instruction;
    use crate::encoding::Raw;

    fn text(variant: u16, cond: u8, regs: [u8; 4], imm0: u16, imm1: u16) -> String {
        Instruction::decode(Raw::encode(variant, cond, regs[0], regs[1], regs[2], regs[3], imm0, imm1)).to_string()
    }

    /// Words taken from the system contracts' bytecode, with their listing lines.
    #[test]
    fn listing_syntax() {
        assert_eq!(text(400, 0, [0, 2, 0, 0], 1, 0), "and!\t1, r2, r0");
        assert_eq!(text(317, 6, [0; 4], 4, 0), "jump.ne\t4");
        assert_eq!(text(1070, 0, [1, 0, 0, 0], 17, 0), "retl\t17");
        assert_eq!(text(1087, 0, [0, 1, 0, 0], 64, 0), "stm.h\t64, r1");
        assert_eq!(text(65, 0, [0, 0, 1, 0], 5, 0), "add\tcode[5], r0, r1");
        assert_eq!(text(2, 0, [0; 4], 0, 2), "incsp\t2");
        assert_eq!(text(2, 0, [0, 0, 1, 0], 0, 0), "incsp\tr1");
        assert_eq!(text(29, 0, [4, 0, 0, 0], 0, 1), "add\tr4, r0, stack-[1]");
        assert_eq!(text(1039, 0, [0; 4], 396, 401), "call\tr0, 396, 401");
        assert_eq!(text(1084, 0, [8, 0, 10, 8], 0, 0), "ldpi\tr8, r10, r8");
        assert_eq!(text(1078, 0, [9, 10, 9, 0], 0, 0), "stmi.h\tr9, r10, r9");
        assert_eq!(text(1059, 0, [1, 2, 0, 0], 399, 0), "callf.st\tr1, r2, 399");
        assert_eq!(text(1069, 0, [1, 0, 0, 0], 0, 0), "ret");
        assert_eq!(text(853, 0, [1, 3, 0, 0], 0, 1), "addp\tr1, r3, stack[1]");
        assert_eq!(text(282, 1, [0, 2, 4, 0], 5, 0), "div.s.gt\t5, r2, r4, r0");
        assert_eq!(text(318, 5, [3, 0, 0, 0], 91, 0), "jump.le\tcode[91+r3]");
        assert_eq!(text(1053, 0, [0, 2, 0, 0], 0, 0), "logL1.i\tr0, r2");
        assert_eq!(text(49, 0, [1, 0, 1, 0], 0, 0), "add\tstack[r1], r0, r1");
        assert_eq!(text(1074, 0, [0; 4], 16, 0), "pncl\t16");
    }

    /// Spellings of ours (no listing has them) stay stable and unambiguous.
    #[test]
    fn our_spellings() {
        assert_eq!(text(0, 0, [0; 4], 0, 0), "invalid\t; variant 0");
        assert_eq!(text(1, 7, [0; 4], 0, 0), "nop.gtlt");
        assert_eq!(text(5, 0, [0; 4], 3, 0), "decsp\t3");
        assert_eq!(text(1060, 0, [1, 2, 0, 0], 9, 0), "callf.st.sh\tr1, r2, 9");
        assert_eq!(text(1069, 0, [3, 0, 0, 0], 0, 0), "ret\tr3");
        assert_eq!(text(1099, 0, [0, 0, 5, 6], 7, 0), "ldmi.st\t7, r5, r6");
        assert_eq!(text(1049, 0, [0; 4], 0, 0), "inctx");
        assert_eq!(text(28, 3, [1, 2, 0, 0], 0, 4), "add!.eq\tr1, r2, stack+=[4]");
    }
}
