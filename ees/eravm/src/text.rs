//! The text assembler, the inverse of the disassembler: [`parse_instruction`] reads one
//! line in exactly the syntax `Display for Instruction` prints (zksolc's listing syntax, see
//! `disasm.rs`), and [`assemble_text`] turns a small program in that syntax — labels,
//! comments and `.word` constants — into valid EraVM bytecode. Test vectors use it to carry
//! contracts as readable assembly.
//!
//! # One instruction
//!
//! `mnemonic[.cond] operands`, the operands separated by commas, whitespace free:
//! - registers `r0`–`r15`;
//! - immediates in decimal or `0x` hex, 0–65,535, or `@label` (in [`assemble_text`]);
//! - memory operands `code[a]`, `stack[a]` (absolute), `stack-[a]` (relative to `sp`),
//!   `stack-=[a]` (pop, sources only), `stack+=[a]` (push, destinations only), where the
//!   address `a` is `imm`, `rN` or `imm+rN` (also `rN+imm`);
//! - the mnemonics and operand orders of the disassembler: `add code[5], r0, r1`,
//!   `div.s.gt 5, r2, r4, r0`, `jump.ne 4`, `call r0, 396, 401`, `ldmi.h r1, r2, r3`,
//!   `retl 17`, `incsp 2`, `invalid ; variant 1500`, …
//!
//! The listing syntax does not show every field of every instruction; those fields parse as
//! zero (see [`shown`], which lists them), so `parse_instruction(&i.to_string())` is
//! `Ok(shown(&i))` and prints the same text again. One default is not zero: `ret` and `rev`
//! without a register return `r1`, as the disassembler leaves `r1` out.
//!
//! # A program
//!
//! One item per line; `;` or `//` starts a comment (except `invalid ; variant N`, the
//! disassembler's own spelling). `name:` defines a label (alone on its line or before an
//! item), naming the next item: an instruction's index (for `jump @loop`, `call r0, @f,
//! @handler`, `callf r1, r2, @handler`, `retl @label`) or a constant's code-word index (for
//! `add code[@abi], r0, r1`); a label with nothing after it names the end of the text.
//! `.word v` adds a 32-byte constant, `v` in decimal (negative: two's complement), `0x` hex
//! (at most 64 digits) or `@label`. Constants go after the instructions, as
//! [`crate::asm::assemble`] places them: word `ceil(instructions / 4) + k`.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use ee_api::U256;

use crate::asm::assemble;
use crate::decode::{Cond, Instruction};
use crate::encoding::{Raw, INSTRUCTIONS_PER_WORD};
use crate::program::{MAX_INSTRUCTIONS, MAX_WORDS};
use crate::table::{Dst, Modifiers, Op, Src, DEFINED_VARIANTS, TABLE_SIZE, VARIANTS};

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No instruction has this mnemonic (condition suffix removed).
    UnknownMnemonic(String),
    /// Not `r0`–`r15`.
    BadRegister(String),
    /// An immediate or label value past 65,535, or a `.word` past 2^256.
    ImmediateOutOfRange(String),
    /// `@name` with no `name:` in the program (always, in [`parse_instruction`]).
    UndefinedLabel(String),
    /// `name:` twice.
    DuplicateLabel(String),
    /// The operands do not fit the mnemonic (count, kind, or addressing mode).
    BadOperand(String),
    /// An unknown directive or a malformed `.word`.
    BadDirective(String),
    /// The program does not fit in EraVM code (65,536 instructions, 65,535 words).
    TooLarge(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnknownMnemonic(m) => write!(f, "unknown mnemonic `{m}`"),
            ErrorKind::BadRegister(r) => write!(f, "bad register `{r}` (r0–r15)"),
            ErrorKind::ImmediateOutOfRange(v) => write!(f, "immediate out of range: {v}"),
            ErrorKind::UndefinedLabel(l) => write!(f, "undefined label `@{l}`"),
            ErrorKind::DuplicateLabel(l) => write!(f, "label `{l}` defined twice"),
            ErrorKind::BadOperand(m) => f.write_str(m),
            ErrorKind::BadDirective(m) => f.write_str(m),
            ErrorKind::TooLarge(m) => f.write_str(m),
        }
    }
}

/// A parse error: the line (1-based, in [`assemble_text`]; `None` from
/// [`parse_instruction`]) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: Option<usize>,
    pub kind: ErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<ErrorKind> for ParseError {
    fn from(kind: ErrorKind) -> ParseError {
        ParseError { line: None, kind }
    }
}

/// Parses one instruction in the disassembler's syntax. Labels (`@name`) are undefined here;
/// [`assemble_text`] resolves them.
pub fn parse_instruction(line: &str) -> Result<Instruction, ParseError> {
    parse_with(line, &|_| None).map_err(ParseError::from)
}

/// `i` with the fields its text does not show set to what [`parse_instruction`] gives them
/// (zero; `r1` for `ret`/`rev` without a register): the fields that survive a round trip
/// through text. Not shown, per operation:
/// - every register and immediate the operation's operands do not name (e.g. `src1`, `dst1`
///   of `add`, `imm1` of a `jump`, all of `inctx`), `src0` of an immediate source, `imm0`
///   of a register source, `imm1` of a register destination;
/// - `nop` with register source and destination: all registers and immediates; `incsp`:
///   the source; `decsp`: the destination;
/// - `pnc`/`pncl`: the register (the disassembler never prints it);
/// - `invalid`: everything but the table index and the condition.
pub fn shown(i: &Instruction) -> Instruction {
    let (mut src0, mut src1, mut dst0, mut dst1, mut imm0, mut imm1) = (0, 0, 0, 0, 0, 0);
    let inc = i.modifiers.contains(Modifiers::INCREMENT);
    let source = |src0: &mut u8, imm0: &mut u16| match i.src {
        Src::Reg => *src0 = i.src0,
        Src::Imm => *imm0 = i.imm0,
        _ => (*src0, *imm0) = (i.src0, i.imm0),
    };
    let destination = |dst0: &mut u8, imm1: &mut u16| match i.dst {
        Dst::Reg => *dst0 = i.dst0,
        _ => (*dst0, *imm1) = (i.dst0, i.imm1),
    };
    match i.op {
        Op::Invalid => {}
        Op::Nop => match (i.src, i.dst) {
            (Src::Reg, Dst::Reg) => {}
            (Src::Reg, Dst::StackPush) => destination(&mut dst0, &mut imm1),
            (Src::StackPop, Dst::Reg) => source(&mut src0, &mut imm0),
            _ => {
                source(&mut src0, &mut imm0);
                destination(&mut dst0, &mut imm1);
            }
        },
        Op::Add
        | Op::Sub
        | Op::Xor
        | Op::And
        | Op::Or
        | Op::Shl
        | Op::Shr
        | Op::Rol
        | Op::Ror
        | Op::PtrAdd
        | Op::PtrSub
        | Op::PtrPack
        | Op::PtrShrink
        | Op::Mul
        | Op::Div => {
            source(&mut src0, &mut imm0);
            src1 = i.src1;
            destination(&mut dst0, &mut imm1);
            if matches!(i.op, Op::Mul | Op::Div) {
                dst1 = i.dst1;
            }
        }
        Op::Jump => {
            source(&mut src0, &mut imm0);
            dst0 = i.dst0;
        }
        Op::NearCall => (src0, imm0, imm1) = (i.src0, i.imm0, i.imm1),
        Op::This | Op::Caller | Op::CodeAddress | Op::Meta | Op::ErgsLeft | Op::Sp | Op::GetContextU128 => {
            dst0 = i.dst0
        }
        Op::SetContextU128 | Op::AuxMutating0 => src0 = i.src0,
        Op::IncrementTxNumber => {}
        Op::StorageRead | Op::TransientStorageRead => (src0, dst0) = (i.src0, i.dst0),
        Op::StorageWrite | Op::TransientStorageWrite | Op::ToL1Message | Op::Event => (src0, src1) = (i.src0, i.src1),
        Op::PrecompileCall | Op::Decommit => (src0, src1, dst0) = (i.src0, i.src1, i.dst0),
        Op::FarCall | Op::FarCallDelegate | Op::FarCallMimic => (src0, src1, imm0) = (i.src0, i.src1, i.imm0),
        Op::Ret | Op::Revert | Op::Panic => {
            if i.op != Op::Panic {
                src0 = i.src0;
            }
            if i.modifiers.contains(Modifiers::TO_LABEL) {
                imm0 = i.imm0;
            }
        }
        Op::HeapRead | Op::AuxHeapRead | Op::StaticMemoryRead => {
            source(&mut src0, &mut imm0);
            dst0 = i.dst0;
            if inc {
                dst1 = i.dst1;
            }
        }
        Op::HeapWrite | Op::AuxHeapWrite | Op::StaticMemoryWrite => {
            source(&mut src0, &mut imm0);
            src1 = i.src1;
            if inc {
                dst0 = i.dst0;
            }
        }
        Op::FatPointerRead => {
            (src0, dst0) = (i.src0, i.dst0);
            if inc {
                dst1 = i.dst1;
            }
        }
    }
    Instruction::decode(Raw::encode(i.variant, i.cond as u8, src0, src1, dst0, dst1, imm0, imm1))
}

/// Mnemonic (condition suffix removed) → the table indices that print it.
fn mnemonics() -> &'static HashMap<String, Vec<u16>> {
    static MAP: OnceLock<HashMap<String, Vec<u16>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<String, Vec<u16>> = HashMap::new();
        for v in 1..DEFINED_VARIANTS as u16 {
            let mnemonic = Instruction::decode(Raw::encode(v, 0, 0, 0, 0, 0, 0, 0)).mnemonic();
            map.entry(mnemonic).or_default().push(v);
        }
        map
    })
}

/// A parsed operand.
#[derive(Clone, Copy, Debug)]
enum Operand {
    Reg(u8),
    Imm(u16),
    /// A memory operand: its form, register and immediate.
    Mem(Mem, u8, u16),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mem {
    Code,
    Stack,
    StackRel,
    StackPop,
    StackPush,
}

type Labels<'a> = &'a dyn Fn(&str) -> Option<u64>;

fn register(text: &str) -> Result<u8, ErrorKind> {
    text.strip_prefix('r')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0')))
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|r| *r < 16)
        .ok_or_else(|| ErrorKind::BadRegister(text.to_string()))
}

fn is_register_like(text: &str) -> bool {
    text.starts_with('r') && text[1..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An immediate: decimal, `0x` hex or `@label`, at most 65,535.
fn immediate(text: &str, labels: Labels) -> Result<u16, ErrorKind> {
    let out_of_range = || ErrorKind::ImmediateOutOfRange(format!("`{text}` (0–65535)"));
    if let Some(name) = text.strip_prefix('@') {
        let value = labels(name).ok_or_else(|| ErrorKind::UndefinedLabel(name.to_string()))?;
        return u16::try_from(value)
            .map_err(|_| ErrorKind::ImmediateOutOfRange(format!("label `@{name}` is {value} (0–65535)")));
    }
    let (digits, radix) = match text.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(ErrorKind::BadOperand(format!("`{text}` is not a register, number, label or memory operand")));
    }
    let digits = digits.trim_start_matches('0');
    if digits.len() > 5 {
        return Err(out_of_range());
    }
    u16::from_str_radix(if digits.is_empty() { "0" } else { digits }, radix).map_err(|_| out_of_range())
}

/// `imm`, `rN`, `imm+rN` or `rN+imm`.
fn address(text: &str, labels: Labels) -> Result<(u8, u16), ErrorKind> {
    let (mut reg, mut imm) = (None, None);
    for part in text.split('+') {
        let part = part.trim();
        if is_register_like(part) {
            if reg.replace(register(part)?).is_some() {
                return Err(ErrorKind::BadOperand(format!("two registers in the address `{text}`")));
            }
        } else if imm.replace(immediate(part, labels)?).is_some() {
            return Err(ErrorKind::BadOperand(format!("two offsets in the address `{text}`")));
        }
    }
    Ok((reg.unwrap_or(0), imm.unwrap_or(0)))
}

fn operand(text: &str, labels: Labels) -> Result<Operand, ErrorKind> {
    for (prefix, mem) in [
        ("code[", Mem::Code),
        ("stack[", Mem::Stack),
        ("stack-[", Mem::StackRel),
        ("stack-=[", Mem::StackPop),
        ("stack+=[", Mem::StackPush),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let inner =
                rest.strip_suffix(']').ok_or_else(|| ErrorKind::BadOperand(format!("`{text}`: missing `]`")))?;
            let (reg, imm) = address(inner, labels)?;
            return Ok(Operand::Mem(mem, reg, imm));
        }
    }
    if is_register_like(text) {
        return register(text).map(Operand::Reg);
    }
    immediate(text, labels).map(Operand::Imm)
}

/// The fields of the instruction being built.
#[derive(Default)]
struct Fields {
    src: Option<Src>,
    dst: Option<Dst>,
    src0: u8,
    src1: u8,
    dst0: u8,
    dst1: u8,
    imm0: u16,
    imm1: u16,
}

impl Fields {
    fn source(&mut self, op: Operand, text: &str) -> Result<(), ErrorKind> {
        let (src, reg, imm) = match op {
            Operand::Reg(r) => (Src::Reg, r, 0),
            Operand::Imm(n) => (Src::Imm, 0, n),
            Operand::Mem(Mem::Code, r, n) => (Src::Code, r, n),
            Operand::Mem(Mem::Stack, r, n) => (Src::StackAbs, r, n),
            Operand::Mem(Mem::StackRel, r, n) => (Src::StackRel, r, n),
            Operand::Mem(Mem::StackPop, r, n) => (Src::StackPop, r, n),
            Operand::Mem(Mem::StackPush, ..) => {
                return Err(ErrorKind::BadOperand(format!("`{text}`: a push (`stack+=`) is not a source")))
            }
        };
        (self.src, self.src0, self.imm0) = (Some(src), reg, imm);
        Ok(())
    }

    fn destination(&mut self, op: Operand, text: &str) -> Result<(), ErrorKind> {
        let (dst, reg, imm) = match op {
            Operand::Reg(r) => (Dst::Reg, r, 0),
            Operand::Mem(Mem::Stack, r, n) => (Dst::StackAbs, r, n),
            Operand::Mem(Mem::StackRel, r, n) => (Dst::StackRel, r, n),
            Operand::Mem(Mem::StackPush, r, n) => (Dst::StackPush, r, n),
            _ => return Err(ErrorKind::BadOperand(format!("`{text}` is not a destination"))),
        };
        (self.dst, self.dst0, self.imm1) = (Some(dst), reg, imm);
        Ok(())
    }
}

fn parse_with(line: &str, labels: Labels) -> Result<Instruction, ErrorKind> {
    let line = line.trim();
    let (full, rest) = match line.find(char::is_whitespace) {
        Some(at) => (&line[..at], line[at..].trim()),
        None => (line, ""),
    };
    let (base, cond) = Cond::ALL[1..]
        .iter()
        .find_map(|c| full.strip_suffix(c.suffix()).map(|b| (b, *c)))
        .unwrap_or((full, Cond::Always));

    if base == "invalid" {
        let variant = match rest.strip_prefix(';').map(str::trim) {
            None if rest.is_empty() => 0,
            Some(v) if v.starts_with("variant") => {
                let n = v["variant".len()..].trim();
                n.parse::<u16>()
                    .ok()
                    .filter(|n| (*n as usize) < TABLE_SIZE)
                    .ok_or_else(|| ErrorKind::BadOperand(format!("`{n}` is not a table index (0–2047)")))?
            }
            _ => {
                return Err(ErrorKind::BadOperand(format!(
                    "`invalid` takes no operands or `; variant N`, not `{rest}`"
                )))
            }
        };
        if variant != 0 && (variant as usize) < DEFINED_VARIANTS {
            return Err(ErrorKind::BadOperand(format!(
                "variant {variant} is defined (`{}`), not invalid",
                Instruction::decode(Raw::encode(variant, 0, 0, 0, 0, 0, 0, 0)).mnemonic()
            )));
        }
        return Ok(Instruction::decode(Raw::encode(variant, cond as u8, 0, 0, 0, 0, 0, 0)));
    }

    let candidates = mnemonics().get(base).ok_or_else(|| ErrorKind::UnknownMnemonic(full.to_string()))?;
    let first = VARIANTS[candidates[0] as usize];
    let (op, modifiers) = (first.op, first.modifiers);
    let inc = modifiers.contains(Modifiers::INCREMENT);
    let texts: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split(',').map(str::trim).collect() };
    let count = |allowed: &[usize], shape: &str| -> Result<(), ErrorKind> {
        if allowed.contains(&texts.len()) {
            Ok(())
        } else {
            Err(ErrorKind::BadOperand(format!("`{base}` takes {shape}, found {} operand(s)", texts.len())))
        }
    };
    // `incsp`/`decsp` take a bare address (`imm+rN`); everything else operands.
    let bare_address = matches!(base, "incsp" | "decsp");
    let ops: Vec<Operand> =
        if bare_address { Vec::new() } else { texts.iter().map(|t| operand(t, labels)).collect::<Result<_, _>>()? };
    let reg_at = |k: usize| register(texts[k]);
    let imm_at = |k: usize| match ops[k] {
        Operand::Imm(n) => Ok(n),
        _ => Err(ErrorKind::BadOperand(format!("`{}`: expected an immediate or label", texts[k]))),
    };
    let mut f = Fields::default();
    match op {
        Op::Invalid => unreachable!("handled above"),
        Op::Nop => match base {
            "incsp" | "decsp" => {
                count(&[1], "one address (`imm`, `rN` or `imm+rN`)")?;
                let (reg, imm) = address(texts[0], labels)?;
                if base == "incsp" {
                    (f.src, f.dst, f.dst0, f.imm1) = (Some(Src::Reg), Some(Dst::StackPush), reg, imm);
                } else {
                    (f.src, f.dst, f.src0, f.imm0) = (Some(Src::StackPop), Some(Dst::Reg), reg, imm);
                }
            }
            _ => {
                count(&[0, 2], "no operands or `source, destination`")?;
                if ops.is_empty() {
                    (f.src, f.dst) = (Some(Src::Reg), Some(Dst::Reg));
                } else {
                    f.source(ops[0], texts[0])?;
                    f.destination(ops[1], texts[1])?;
                }
            }
        },
        Op::Add
        | Op::Sub
        | Op::Xor
        | Op::And
        | Op::Or
        | Op::Shl
        | Op::Shr
        | Op::Rol
        | Op::Ror
        | Op::PtrAdd
        | Op::PtrSub
        | Op::PtrPack
        | Op::PtrShrink => {
            count(&[3], "`source, rN, destination`")?;
            f.source(ops[0], texts[0])?;
            f.src1 = reg_at(1)?;
            f.destination(ops[2], texts[2])?;
        }
        Op::Mul | Op::Div => {
            count(&[4], "`source, rN, destination, rM`")?;
            f.source(ops[0], texts[0])?;
            f.src1 = reg_at(1)?;
            f.destination(ops[2], texts[2])?;
            f.dst1 = reg_at(3)?;
        }
        Op::Jump => {
            count(&[1, 2], "`target` or `target, rN`")?;
            f.source(ops[0], texts[0])?;
            f.dst = Some(Dst::Reg);
            if ops.len() == 2 {
                f.dst0 = reg_at(1)?;
            }
        }
        Op::NearCall => {
            count(&[3], "`rN, target, handler`")?;
            (f.src0, f.imm0, f.imm1) = (reg_at(0)?, imm_at(1)?, imm_at(2)?);
        }
        Op::This | Op::Caller | Op::CodeAddress | Op::Meta | Op::ErgsLeft | Op::Sp | Op::GetContextU128 => {
            count(&[1], "one register")?;
            f.dst0 = reg_at(0)?;
        }
        Op::SetContextU128 | Op::AuxMutating0 => {
            count(&[1], "one register")?;
            f.src0 = reg_at(0)?;
        }
        Op::IncrementTxNumber => count(&[0], "no operands")?,
        Op::StorageRead | Op::TransientStorageRead => {
            count(&[2], "`rKey, rDst`")?;
            (f.src0, f.dst0) = (reg_at(0)?, reg_at(1)?);
        }
        Op::StorageWrite | Op::TransientStorageWrite | Op::ToL1Message | Op::Event => {
            count(&[2], "two registers")?;
            (f.src0, f.src1) = (reg_at(0)?, reg_at(1)?);
        }
        Op::PrecompileCall | Op::Decommit => {
            count(&[3], "three registers")?;
            (f.src0, f.src1, f.dst0) = (reg_at(0)?, reg_at(1)?, reg_at(2)?);
        }
        Op::FarCall | Op::FarCallDelegate | Op::FarCallMimic => {
            count(&[3], "`rAbi, rAddress, handler`")?;
            (f.src0, f.src1, f.imm0) = (reg_at(0)?, reg_at(1)?, imm_at(2)?);
        }
        Op::Ret | Op::Revert | Op::Panic => {
            // The disassembler leaves out r1, the ABI register (and a panic's register).
            f.src0 = if op == Op::Panic { 0 } else { 1 };
            let label = modifiers.contains(Modifiers::TO_LABEL);
            if label {
                count(&[1, 2], "`label` or `rN, label`")?;
                if ops.len() == 2 {
                    f.src0 = reg_at(0)?;
                }
                f.imm0 = imm_at(ops.len() - 1)?;
            } else {
                count(&[0, 1], "no operands or one register")?;
                if ops.len() == 1 {
                    f.src0 = reg_at(0)?;
                }
            }
        }
        Op::HeapRead | Op::AuxHeapRead | Op::StaticMemoryRead => {
            if inc {
                count(&[3], "`address, rDst, rNextAddress`")?;
                f.dst1 = reg_at(2)?;
            } else {
                count(&[2], "`address, rDst`")?;
            }
            f.source(ops[0], texts[0])?;
            f.dst0 = reg_at(1)?;
        }
        Op::HeapWrite | Op::AuxHeapWrite | Op::StaticMemoryWrite => {
            if inc {
                count(&[3], "`address, rValue, rNextAddress`")?;
                f.dst0 = reg_at(2)?;
            } else {
                count(&[2], "`address, rValue`")?;
            }
            f.source(ops[0], texts[0])?;
            f.src1 = reg_at(1)?;
        }
        Op::FatPointerRead => {
            if inc {
                count(&[3], "`rPointer, rDst, rNextPointer`")?;
                f.dst1 = reg_at(2)?;
            } else {
                count(&[2], "`rPointer, rDst`")?;
            }
            (f.src0, f.dst0) = (reg_at(0)?, reg_at(1)?);
        }
    }
    let (src, dst) = (f.src.unwrap_or(Src::Reg), f.dst.unwrap_or(Dst::Reg));
    let variant = candidates
        .iter()
        .copied()
        .find(|v| VARIANTS[*v as usize].src == src && VARIANTS[*v as usize].dst == dst)
        .ok_or_else(|| {
            ErrorKind::BadOperand(format!("`{base}` has no form with a {src:?} source and a {dst:?} destination"))
        })?;
    Ok(Instruction::decode(Raw::encode(variant, cond as u8, f.src0, f.src1, f.dst0, f.dst1, f.imm0, f.imm1)))
}

/// One item of a program, before labels are resolved.
enum Item<'a> {
    Instruction(&'a str),
    Word(&'a str),
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || matches!(c, '_' | '.' | '$'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
}

/// The code part of a line: without its comment, except the `; variant N` of `invalid`.
fn strip_comment(line: &str) -> &str {
    let cut = [line.find(';'), line.find("//")].into_iter().flatten().min();
    match cut {
        Some(at) => {
            let code = line[..at].trim();
            let mnemonic = code.rsplit(|c: char| c.is_whitespace() || c == ':').next().unwrap_or("");
            if mnemonic.starts_with("invalid") && line[at..].trim_start_matches(';').trim().starts_with("variant") {
                line
            } else {
                &line[..at]
            }
        }
        None => line,
    }
}

/// A `.word` value: decimal (negative: two's complement), `0x` hex or `@label`.
fn word(text: &str, labels: Labels) -> Result<[u8; 32], ErrorKind> {
    let value = if let Some(name) = text.strip_prefix('@') {
        U256::from(labels(name).ok_or_else(|| ErrorKind::UndefinedLabel(name.to_string()))?)
    } else {
        let (digits, radix, negative) = match (text.strip_prefix("0x"), text.strip_prefix('-')) {
            (Some(hex), _) => (hex, 16, false),
            (None, Some(dec)) => (dec, 10, true),
            _ => (text, 10, false),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return Err(ErrorKind::BadDirective(format!("`.word {text}`: not a decimal, 0x hex or @label value")));
        }
        let v = U256::from_str_radix(digits, radix as u64)
            .map_err(|_| ErrorKind::ImmediateOutOfRange(format!("`.word {text}` does not fit 256 bits")))?;
        if negative {
            v.wrapping_neg()
        } else {
            v
        }
    };
    Ok(value.to_be_bytes::<32>())
}

/// Assembles a program (see the module documentation for the format) into raw EraVM
/// bytecode: the instructions four per word, the `.word` constants after them, padded to
/// an odd word count ([`crate::asm::assemble`]).
pub fn assemble_text(source: &str) -> Result<Vec<u8>, ParseError> {
    let at = |line: usize| move |kind: ErrorKind| ParseError { line: Some(line), kind };
    // Pass 1: items and labels (a label names the next item).
    let mut items: Vec<(usize, Item)> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    enum Target {
        Instruction(usize),
        Word(usize),
    }
    let mut labels: HashMap<&str, Target> = HashMap::new();
    let (mut instructions, mut words) = (0usize, 0usize);
    let mut defined: HashMap<&str, usize> = HashMap::new();
    for (k, raw) in source.lines().enumerate() {
        let number = k + 1;
        let mut line = strip_comment(raw).trim();
        while let Some(colon) = line.find(':') {
            let name = line[..colon].trim();
            if !is_label_name(name) {
                break;
            }
            if defined.insert(name, number).is_some() {
                return Err(at(number)(ErrorKind::DuplicateLabel(name.to_string())));
            }
            pending.push(name);
            line = line[colon + 1..].trim();
        }
        if line.is_empty() {
            continue;
        }
        if let Some(directive) = line.strip_prefix('.') {
            let name = directive.split_whitespace().next().unwrap_or("");
            if name != "word" {
                return Err(at(number)(ErrorKind::BadDirective(format!("unknown directive `.{name}` (only `.word`)"))));
            }
            let value = directive["word".len()..].trim();
            if value.is_empty() || value.contains(char::is_whitespace) {
                return Err(at(number)(ErrorKind::BadDirective("`.word` takes one value".into())));
            }
            labels.extend(pending.drain(..).map(|name| (name, Target::Word(words))));
            items.push((number, Item::Word(value)));
            words += 1;
        } else {
            labels.extend(pending.drain(..).map(|name| (name, Target::Instruction(instructions))));
            items.push((number, Item::Instruction(line)));
            instructions += 1;
        }
    }
    labels.extend(pending.drain(..).map(|name| (name, Target::Instruction(instructions))));

    let last_line = source.lines().count().max(1);
    if instructions > MAX_INSTRUCTIONS {
        return Err(at(last_line)(ErrorKind::TooLarge(format!(
            "{instructions} instructions (the pc reaches {MAX_INSTRUCTIONS})"
        ))));
    }
    let text_words = instructions.div_ceil(INSTRUCTIONS_PER_WORD);
    if text_words + words > MAX_WORDS {
        return Err(at(last_line)(ErrorKind::TooLarge(format!(
            "{} words of code (at most {MAX_WORDS})",
            text_words + words
        ))));
    }
    let resolve = |name: &str| -> Option<u64> {
        labels.get(name).map(|t| match t {
            Target::Instruction(i) => *i as u64,
            Target::Word(k) => (text_words + k) as u64,
        })
    };

    // Pass 2: instructions and constants.
    let mut code = Vec::with_capacity(instructions);
    let mut constants = Vec::with_capacity(words);
    for (number, item) in items {
        match item {
            Item::Instruction(text) => code.push(parse_with(text, &resolve).map_err(at(number))?),
            Item::Word(text) => constants.push(word(text, &resolve).map_err(at(number))?),
        }
    }
    Ok(assemble(&code, &constants))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Variant;

    fn parse(s: &str) -> Instruction {
        parse_instruction(s).unwrap_or_else(|e| panic!("`{s}`: {e}"))
    }

    /// Every one of the 1,104 defined table variants (and a spread of undefined ones), built
    /// with `Instruction::new`, with several register, immediate and condition choices:
    /// the text parses back to the same instruction up to the fields it does not show, and
    /// prints the same text again.
    #[test]
    fn every_variant_round_trips_through_text() {
        let mut checked = 0;
        for v in 0..TABLE_SIZE as u16 {
            if (v as usize) >= DEFINED_VARIANTS && v % 37 != 0 && v != 2047 {
                continue;
            }
            let Variant { op, src, dst, modifiers } = VARIANTS[v as usize];
            let base = if (v as usize) < DEFINED_VARIANTS {
                let b = Instruction::new(op, src, dst, modifiers).unwrap();
                assert_eq!(b.variant, v);
                b
            } else {
                Instruction::decode(Raw::encode(v, 0, 0, 0, 0, 0, 0, 0))
            };
            for (k, cond) in Cond::ALL.iter().enumerate() {
                let k = k as u8;
                for (regs, imms) in [
                    ([0, 0, 0, 0], (0, 0)),
                    ([1, 2, 3, 4], (5, 6)),
                    ([15, 14, 13, 12], (65535, 1)),
                    ([k, (k * 3) % 16, (k * 5 + 1) % 16, (k * 7 + 2) % 16], (1000 * k as u16, 65535 - k as u16)),
                ] {
                    let i = base.when(*cond).regs(regs[0], regs[1], regs[2], regs[3]).imms(imms.0, imms.1);
                    let text = i.to_string();
                    let back = parse(&text);
                    assert_eq!(back, shown(&i), "`{text}` ({i:?})");
                    assert_eq!(back.to_string(), text);
                    assert_eq!(shown(&back), back);
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_104 * 32);
    }

    /// `shown` says exactly which fields the text shows: changing one field changes the
    /// text if and only if it changes `shown`.
    #[test]
    fn shown_fields_are_the_printed_ones() {
        for v in 0..DEFINED_VARIANTS as u16 + 2 {
            let i = Instruction::decode(Raw::encode(v, 3, 1, 2, 3, 4, 7, 9));
            let Raw(word) = i.encode();
            // Registers (bits 16–31) and immediates (32–63), one field at a time.
            for (shift, width) in [(16, 4), (20, 4), (24, 4), (28, 4), (32, 16), (48, 16)] {
                for value in [0u64, 1, 5] {
                    let mask = ((1u64 << width) - 1) << shift;
                    let j = Instruction::decode(Raw((word & !mask) | (value << shift)));
                    assert_eq!(
                        i.to_string() == j.to_string(),
                        shown(&i) == shown(&j),
                        "variant {v}, field at bit {shift} = {value}: `{i}` / `{j}`"
                    );
                }
            }
        }
    }

    #[test]
    fn listing_lines_parse() {
        for line in [
            "and!\t1, r2, r0",
            "jump.ne\t4",
            "retl\t17",
            "stm.h\t64, r1",
            "add\tcode[5], r0, r1",
            "incsp\t2",
            "add\tr4, r0, stack-[1]",
            "call\tr0, 396, 401",
            "ldpi\tr8, r10, r8",
            "callf.st\tr1, r2, 399",
            "div.s.gt\t5, r2, r4, r0",
            "jump.le\tcode[91+r3]",
            "add!.eq\tr1, r2, stack+=[4]",
            "nop.gtlt",
            "decsp\t3",
            "invalid\t; variant 1500",
            "sub.s!\tstack-=[2+r3], r4, stack[r5]",
        ] {
            assert_eq!(parse(line).to_string(), line);
        }
        // Spaces instead of tabs, hex, the other address order.
        assert_eq!(parse("  add   0x10 ,r1,  r2 ").to_string(), "add\t16, r1, r2");
        assert_eq!(parse("jump code[r3+91]").to_string(), "jump\tcode[91+r3]");
        assert_eq!(parse("ret").src0, 1);
        assert_eq!(parse("invalid"), Instruction::INVALID);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |s: &str| parse_instruction(s).unwrap_err().kind;
        assert_eq!(err("mov r1, r2"), ErrorKind::UnknownMnemonic("mov".into()));
        assert_eq!(err("add.s r1, r2, r3"), ErrorKind::UnknownMnemonic("add.s".into()));
        assert_eq!(err("add r16, r2, r3"), ErrorKind::BadRegister("r16".into()));
        assert_eq!(err("add r1, 7, r3"), ErrorKind::BadRegister("7".into()));
        assert!(matches!(err("add 65536, r2, r3"), ErrorKind::ImmediateOutOfRange(_)));
        assert_eq!(err("jump @loop"), ErrorKind::UndefinedLabel("loop".into()));
        assert!(matches!(err("add r1, r2"), ErrorKind::BadOperand(_)));
        assert!(matches!(err("add r1, r2, code[3]"), ErrorKind::BadOperand(_)));
        assert!(matches!(err("jump r1, stack+=[1]"), ErrorKind::BadRegister(_)));
        assert!(matches!(err("ldm.h stack[1], r2"), ErrorKind::BadOperand(_)));
        assert!(matches!(err("invalid ; variant 25"), ErrorKind::BadOperand(_)));
    }

    #[test]
    fn programs_with_labels_comments_and_words() {
        let source = "\
            ; a comment line
            start:  add code[@two], r0, r1   // r1 = 2
            loop:
                    sub.s! 1, r1, r1          ; r1 -= 1
                    jump.ne @loop
                    call r0, @end, @end
            end:    ret
            two:    .word 2
                    .word 0xff
                    .word -1
                    .word @loop
        ";
        let code = assemble_text(source).unwrap();
        let p = crate::Program::new(&code).unwrap();
        // 5 instructions → 2 words, 4 constants → 6, padded to 7.
        assert_eq!(code.len(), 7 * 32);
        assert_eq!(p.instruction(0).to_string(), "add\tcode[2], r0, r1");
        assert_eq!(p.instruction(2).to_string(), "jump.ne\t1");
        assert_eq!(p.instruction(3).to_string(), "call\tr0, 4, 4");
        assert_eq!(p.instruction(4).to_string(), "ret");
        assert_eq!(p.code_word(2), U256::from(2));
        assert_eq!(p.code_word(3), U256::from(0xff));
        assert_eq!(p.code_word(4), U256::MAX);
        assert_eq!(p.code_word(5), U256::from(1));

        let err = |s: &str| assemble_text(s).unwrap_err();
        assert_eq!(err("ret\n\n  jump @nowhere").to_string(), "line 3: undefined label `@nowhere`");
        assert_eq!(err("ret\nmov r1, r2").line, Some(2));
        assert_eq!(err("x: ret\nx: ret").kind, ErrorKind::DuplicateLabel("x".into()));
        assert_eq!(err("add r1, r2, r99").to_string(), "line 1: bad register `r99` (r0–r15)");
        assert!(matches!(err("add 70000, r0, r1").kind, ErrorKind::ImmediateOutOfRange(_)));
        assert!(matches!(err(".byte 1").kind, ErrorKind::BadDirective(_)));
        assert!(matches!(err(".word 0x1g").kind, ErrorKind::BadDirective(_)));
        assert!(matches!(err(&format!(".word 0x1{}", "0".repeat(64))).kind, ErrorKind::ImmediateOutOfRange(_)));
        // The disassembler's own `invalid ; variant N` survives comment stripping.
        let code = assemble_text("invalid ; variant 1500\ninvalid ; just a comment").unwrap();
        let p = crate::Program::new(&code).unwrap();
        assert_eq!((p.instruction(0).variant, p.instruction(1).variant), (1500, 0));
        // An empty program is one zero word.
        assert_eq!(assemble_text("; nothing").unwrap(), vec![0u8; 32]);
    }

    /// The example of README.md's "Text assembly" section, taken from the README itself,
    /// run over a `MemoryWorld`: calldata 41 returns 42; calldata 0 reverts with no data.
    #[test]
    fn readme_example_runs() {
        use crate::machine::{run_stack, Entry, MemoryWorld, Status, TxState};
        use ee_api::Address;
        use std::sync::Arc;

        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Text assembly").unwrap()..];
        let start = section.find("```asm\n").unwrap() + "```asm\n".len();
        let source = &section[start..start + section[start..].find("```").unwrap()];
        let code = assemble_text(source).unwrap();
        assert_eq!(code.len(), 3 * 32, "8 instructions in 2 words, 1 constant");

        let run = |input: u64| {
            let (contract, caller) = (Address([0x11; 20]), Address([0x22; 20]));
            let mut world = MemoryWorld::default();
            world.install(contract, &code);
            let program = Arc::new(crate::Program::new(&code).unwrap());
            let calldata = U256::from(input).to_be_bytes::<32>().to_vec();
            let entry = Entry::user(contract, caller, 100_000, calldata);
            run_stack(&mut world, &mut TxState::default(), program, entry, 1_000, None)
        };
        let out = run(41);
        assert_eq!(out.status, Status::Success, "{out:?}");
        assert_eq!(out.return_data, U256::from(42).to_be_bytes::<32>().to_vec());
        assert_eq!(out.instructions, 7);
        let out = run(0);
        assert_eq!((out.status, out.return_data.len(), out.instructions), (Status::Revert, 0, 4), "{out:?}");
    }
}
