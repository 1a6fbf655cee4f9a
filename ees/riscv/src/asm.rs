//! A small RV32IM assembler for hand-written contracts and test vectors, so a
//! cross-EE vector can carry readable RISC-V source and need no toolchain.
//!
//! GNU syntax for the base instructions, the M extension, `ecall`/`ebreak`/`fence`,
//! the common pseudo-instructions (`li`, `la`, `mv`, `not`, `neg`, `j`, `jr`, `ret`,
//! `call`, `nop`, `beqz`, `bnez`, `seqz`, `snez`), labels (`name:`), and the data
//! directives `.byte`, `.half`, `.word`, `.ascii`, `.asciz`, `.zero`, `.align`.
//! Comments start with `#`. `li` with a number takes what GNU as emits (`addi` for a
//! 12-bit value, `lui` alone when the low 12 bits are zero, else `lui` + `addi`), `li` with
//! a label always `lui` + `addi`, and `la`/`call` are `auipc` + `addi`/`jalr`, so every
//! item's size is known before labels are. [`elf_image`] wraps the code in a minimal ELF32 executable.
//! `tests/asm_vs_binutils.rs` checks the encodings against GNU as.

use std::collections::HashMap;

/// Assembles `text` to be loaded at `base`; returns the bytes, or the line and what is wrong.
pub fn assemble(text: &str, base: u32) -> Result<Vec<u8>, String> {
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim())).collect();
    let mut labels: HashMap<String, u32> = HashMap::new();
    for pass in 0..2 {
        let mut out = Vec::new();
        for &(number, line) in &lines {
            let mut rest = line;
            // Leading labels.
            while let Some((label, tail)) = split_label(rest) {
                if pass == 0 && labels.insert(label.to_string(), base + out.len() as u32).is_some() {
                    return Err(format!("line {number}: label {label:?} defined twice"));
                }
                rest = tail.trim();
            }
            if rest.is_empty() {
                continue;
            }
            let ctx = Ctx { labels: &labels, pc: base + out.len() as u32, final_pass: pass == 1 };
            item(rest, &ctx, &mut out).map_err(|e| format!("line {number}: {e}: {line}"))?;
        }
        if pass == 1 {
            return Ok(out);
        }
    }
    unreachable!("the second pass returns")
}

fn split_label(s: &str) -> Option<(&str, &str)> {
    let (head, tail) = s.split_once(':')?;
    let ok = !head.is_empty() && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    ok.then_some((head, tail))
}

struct Ctx<'a> {
    labels: &'a HashMap<String, u32>,
    pc: u32,
    /// In the first pass labels are unknown and read as the current pc.
    final_pass: bool,
}

impl Ctx<'_> {
    fn label(&self, name: &str) -> Result<u32, String> {
        match self.labels.get(name) {
            Some(&a) => Ok(a),
            None if !self.final_pass => Ok(self.pc),
            None => Err(format!("unknown label {name:?}")),
        }
    }

    /// A number, or a label's address.
    fn value(&self, s: &str) -> Result<i64, String> {
        match number(s) {
            Some(v) => Ok(v),
            None if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '.') => {
                Ok(i64::from(self.label(s)?))
            }
            None => Err(format!("bad number {s:?}")),
        }
    }

    /// A branch or jump target relative to the current pc.
    fn offset(&self, s: &str) -> Result<i64, String> {
        Ok(match number(s) {
            Some(v) => v,
            None => i64::from(self.label(s)?) - i64::from(self.pc),
        })
    }
}

fn number(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if digits.starts_with(|c: char| c.is_ascii_digit()) {
        digits.parse().ok()?
    } else if let Some(ch) = digits.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')) {
        let mut chars = ch.chars();
        let c = chars.next()?;
        if chars.next().is_some() {
            return None;
        }
        c as i64
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn reg(s: &str) -> Result<u32, String> {
    const ABI: [&str; 32] = [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
        "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];
    if let Some(i) = ABI.iter().position(|n| *n == s) {
        return Ok(i as u32);
    }
    if s == "fp" {
        return Ok(8);
    }
    s.strip_prefix('x')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n < 32)
        .ok_or_else(|| format!("bad register {s:?}"))
}

/// `imm(reg)` operands of loads, stores and `jalr`.
fn mem_operand(s: &str, ctx: &Ctx) -> Result<(i64, u32), String> {
    let (imm, rest) = s.split_once('(').ok_or_else(|| format!("expected imm(reg), got {s:?}"))?;
    let r = rest.strip_suffix(')').ok_or_else(|| format!("expected imm(reg), got {s:?}"))?;
    let imm = if imm.trim().is_empty() { 0 } else { ctx.value(imm.trim())? };
    Ok((imm, reg(r.trim())?))
}

fn check_signed(v: i64, bits: u32, what: &str) -> Result<u32, String> {
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    if v < lo || v > hi {
        return Err(format!("{what} {v} out of range for {bits} bits"));
    }
    Ok((v as u32) & ((1u32 << bits) - 1))
}

fn r_type(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

fn i_type(imm: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (imm << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

fn s_type(imm: u32, rs2: u32, rs1: u32, funct3: u32, opcode: u32) -> u32 {
    ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode
}

fn b_type(off: i64, rs2: u32, rs1: u32, funct3: u32) -> Result<u32, String> {
    if off % 2 != 0 {
        return Err(format!("branch offset {off} is odd"));
    }
    let imm = check_signed(off, 13, "branch offset")?;
    Ok((((imm >> 12) & 1) << 31)
        | (((imm >> 5) & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (funct3 << 12)
        | (((imm >> 1) & 0xf) << 8)
        | (((imm >> 11) & 1) << 7)
        | 0x63)
}

fn j_type(off: i64, rd: u32) -> Result<u32, String> {
    if off % 2 != 0 {
        return Err(format!("jump offset {off} is odd"));
    }
    let imm = check_signed(off, 21, "jump offset")?;
    Ok((((imm >> 20) & 1) << 31)
        | (((imm >> 1) & 0x3ff) << 21)
        | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xff) << 12)
        | (rd << 7)
        | 0x6f)
}

/// `hi`/`lo` parts so that `(hi << 12) + sign_extend(lo) == v` (for `lui`/`auipc` + `addi`).
fn hi_lo(v: i64) -> (u32, u32) {
    let v = v as u32;
    let lo = v & 0xfff;
    let hi = v.wrapping_add(0x800) >> 12;
    (hi & 0xfffff, lo)
}

fn split_operands(s: &str) -> Vec<&str> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    s.split(',').map(str::trim).collect()
}

fn item(line: &str, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), String> {
    let (op, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(o, r)| (o, r.trim()));
    if let Some(directive) = op.strip_prefix('.') {
        return data(directive, rest, ctx, out);
    }
    let a = split_operands(rest);
    let want = |n: usize| -> Result<(), String> {
        if a.len() == n {
            Ok(())
        } else {
            Err(format!("{op} takes {n} operand(s), got {}", a.len()))
        }
    };
    let mut emit = |w: u32| out.extend_from_slice(&w.to_le_bytes());

    const R: [(&str, u32, u32); 18] = [
        ("add", 0, 0),
        ("sub", 0x20, 0),
        ("sll", 0, 1),
        ("slt", 0, 2),
        ("sltu", 0, 3),
        ("xor", 0, 4),
        ("srl", 0, 5),
        ("sra", 0x20, 5),
        ("or", 0, 6),
        ("and", 0, 7),
        ("mul", 1, 0),
        ("mulh", 1, 1),
        ("mulhsu", 1, 2),
        ("mulhu", 1, 3),
        ("div", 1, 4),
        ("divu", 1, 5),
        ("rem", 1, 6),
        ("remu", 1, 7),
    ];
    const I: [(&str, u32); 6] = [("addi", 0), ("slti", 2), ("sltiu", 3), ("xori", 4), ("ori", 6), ("andi", 7)];
    const SHIFT: [(&str, u32, u32); 3] = [("slli", 0, 1), ("srli", 0, 5), ("srai", 0x20, 5)];
    const LOAD: [(&str, u32); 5] = [("lb", 0), ("lh", 1), ("lw", 2), ("lbu", 4), ("lhu", 5)];
    const STORE: [(&str, u32); 3] = [("sb", 0), ("sh", 1), ("sw", 2)];
    const BRANCH: [(&str, u32); 6] = [("beq", 0), ("bne", 1), ("blt", 4), ("bge", 5), ("bltu", 6), ("bgeu", 7)];

    if let Some(&(_, f7, f3)) = R.iter().find(|(n, _, _)| *n == op) {
        want(3)?;
        emit(r_type(f7, reg(a[2])?, reg(a[1])?, f3, reg(a[0])?, 0x33));
    } else if let Some(&(_, f3)) = I.iter().find(|(n, _)| *n == op) {
        want(3)?;
        let imm = check_signed(ctx.value(a[2])?, 12, "immediate")?;
        emit(i_type(imm, reg(a[1])?, f3, reg(a[0])?, 0x13));
    } else if let Some(&(_, f7, f3)) = SHIFT.iter().find(|(n, _, _)| *n == op) {
        want(3)?;
        let sh = ctx.value(a[2])?;
        if !(0..32).contains(&sh) {
            return Err(format!("shift amount {sh} out of range"));
        }
        emit(r_type(f7, sh as u32, reg(a[1])?, f3, reg(a[0])?, 0x13));
    } else if let Some(&(_, f3)) = LOAD.iter().find(|(n, _)| *n == op) {
        want(2)?;
        let (imm, base) = mem_operand(a[1], ctx)?;
        emit(i_type(check_signed(imm, 12, "offset")?, base, f3, reg(a[0])?, 0x03));
    } else if let Some(&(_, f3)) = STORE.iter().find(|(n, _)| *n == op) {
        want(2)?;
        let (imm, base) = mem_operand(a[1], ctx)?;
        emit(s_type(check_signed(imm, 12, "offset")?, reg(a[0])?, base, f3, 0x23));
    } else if let Some(&(_, f3)) = BRANCH.iter().find(|(n, _)| *n == op) {
        want(3)?;
        emit(b_type(ctx.offset(a[2])?, reg(a[1])?, reg(a[0])?, f3)?);
    } else {
        match op {
            "lui" | "auipc" => {
                want(2)?;
                let imm = ctx.value(a[1])?;
                if !(0..=0xfffff).contains(&imm) {
                    return Err(format!("{op} immediate {imm} out of range"));
                }
                emit(((imm as u32) << 12) | (reg(a[0])? << 7) | if op == "lui" { 0x37 } else { 0x17 });
            }
            "jal" => {
                let (rd, target) = match a.len() {
                    1 => (1, a[0]),
                    _ => {
                        want(2)?;
                        (reg(a[0])?, a[1])
                    }
                };
                emit(j_type(ctx.offset(target)?, rd)?);
            }
            "jalr" => {
                let (rd, imm, rs1) = match a.len() {
                    1 => (1, 0, reg(a[0])?),
                    _ => {
                        want(2)?;
                        let (imm, rs1) = mem_operand(a[1], ctx)?;
                        (reg(a[0])?, imm, rs1)
                    }
                };
                emit(i_type(check_signed(imm, 12, "offset")?, rs1, 0, rd, 0x67));
            }
            "ecall" => emit(0x0000_0073),
            "ebreak" => emit(0x0010_0073),
            "fence" => emit(0x0ff0_000f),
            "fence.i" => emit(0x0000_100f),
            "nop" => emit(0x0000_0013),
            "ret" => emit(i_type(0, 1, 0, 0, 0x67)),
            "jr" => {
                want(1)?;
                emit(i_type(0, reg(a[0])?, 0, 0, 0x67));
            }
            "j" => {
                want(1)?;
                emit(j_type(ctx.offset(a[0])?, 0)?);
            }
            "mv" => {
                want(2)?;
                emit(i_type(0, reg(a[1])?, 0, reg(a[0])?, 0x13));
            }
            "not" => {
                want(2)?;
                emit(i_type(0xfff, reg(a[1])?, 4, reg(a[0])?, 0x13));
            }
            "neg" => {
                want(2)?;
                emit(r_type(0x20, reg(a[1])?, 0, 0, reg(a[0])?, 0x33));
            }
            "seqz" => {
                want(2)?;
                emit(i_type(1, reg(a[1])?, 3, reg(a[0])?, 0x13));
            }
            "snez" => {
                want(2)?;
                emit(r_type(0, reg(a[1])?, 0, 3, reg(a[0])?, 0x33));
            }
            "beqz" | "bnez" => {
                want(2)?;
                emit(b_type(ctx.offset(a[1])?, 0, reg(a[0])?, if op == "beqz" { 0 } else { 1 })?);
            }
            "li" => {
                want(2)?;
                let v = ctx.value(a[1])?;
                if !(-(1i64 << 31)..(1i64 << 32)).contains(&v) {
                    return Err(format!("li value {v} does not fit in 32 bits"));
                }
                let rd = reg(a[0])?;
                let (hi, lo) = hi_lo(v);
                // A literal takes what GNU as emits for it (its size is known in the first
                // pass); a label's address always takes both, whatever it turns out to be.
                let small = v as u32 as i32;
                match number(a[1]) {
                    Some(_) if (-2048..2048).contains(&small) => emit(i_type(lo, 0, 0, rd, 0x13)),
                    Some(_) if lo == 0 => emit((hi << 12) | (rd << 7) | 0x37),
                    _ => {
                        emit((hi << 12) | (rd << 7) | 0x37);
                        emit(i_type(lo, rd, 0, rd, 0x13));
                    }
                }
            }
            "la" | "call" => {
                let (rd, target) = if op == "call" {
                    want(1)?;
                    (1, a[0])
                } else {
                    want(2)?;
                    (reg(a[0])?, a[1])
                };
                let (hi, lo) = hi_lo(i64::from(ctx.label(target)?) - i64::from(ctx.pc));
                emit((hi << 12) | (rd << 7) | 0x17);
                if op == "la" {
                    emit(i_type(lo, rd, 0, rd, 0x13));
                } else {
                    emit(i_type(lo, rd, 0, 1, 0x67));
                }
            }
            _ => return Err(format!("unknown instruction {op:?}")),
        }
    }
    Ok(())
}

fn data(directive: &str, rest: &str, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), String> {
    match directive {
        "byte" | "half" | "word" => {
            let size = match directive {
                "byte" => 1,
                "half" => 2,
                _ => 4,
            };
            for v in split_operands(rest) {
                let v = ctx.value(v)?;
                if v < -(1i64 << (8 * size - 1)) || v >= (1i64 << (8 * size)) {
                    return Err(format!(".{directive} value {v} out of range"));
                }
                out.extend_from_slice(&(v as u32).to_le_bytes()[..size]);
            }
        }
        "ascii" | "asciz" => {
            let s = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .ok_or_else(|| format!(".{directive} needs a quoted string"))?;
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                let byte = match c {
                    '\\' => match chars.next() {
                        Some('n') => b'\n',
                        Some('t') => b'\t',
                        Some('0') => 0,
                        Some('\\') => b'\\',
                        Some('"') => b'"',
                        other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
                    },
                    c if c.is_ascii() => c as u8,
                    c => return Err(format!("non-ASCII character {c:?}")),
                };
                out.push(byte);
            }
            if directive == "asciz" {
                out.push(0);
            }
        }
        "zero" => {
            let n = ctx.value(rest)?;
            let n = usize::try_from(n).map_err(|_| format!(".zero {n}"))?;
            out.resize(out.len() + n, 0);
        }
        "align" => {
            let p = ctx.value(rest)?;
            if !(0..=12).contains(&p) {
                return Err(format!(".align {p} out of range"));
            }
            let align = 1usize << p;
            let pad = (align - (ctx.pc as usize) % align) % align;
            out.resize(out.len() + pad, 0);
        }
        "text" | "data" | "globl" | "global" | "section" => {}
        _ => return Err(format!("unknown directive .{directive}")),
    }
    Ok(())
}

/// A minimal ELF32 RISC-V executable: one read/write/execute segment holding `code`
/// at `base`, entered at `base`.
pub fn elf_image(code: &[u8], base: u32) -> Vec<u8> {
    const EHSIZE: u32 = 52;
    const PHSIZE: u32 = 32;
    let offset = EHSIZE + PHSIZE;
    let mut elf = Vec::with_capacity(offset as usize + code.len());
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let half = |e: &mut Vec<u8>, v: u16| e.extend_from_slice(&v.to_le_bytes());
    let word = |e: &mut Vec<u8>, v: u32| e.extend_from_slice(&v.to_le_bytes());
    half(&mut elf, 2); // ET_EXEC
    half(&mut elf, 0xf3); // EM_RISCV
    word(&mut elf, 1); // EV_CURRENT
    word(&mut elf, base); // entry
    word(&mut elf, EHSIZE); // program headers
    word(&mut elf, 0); // no section headers
    word(&mut elf, 0); // flags
    half(&mut elf, EHSIZE as u16);
    half(&mut elf, PHSIZE as u16);
    half(&mut elf, 1);
    half(&mut elf, 40);
    half(&mut elf, 0);
    half(&mut elf, 0);
    word(&mut elf, 1); // PT_LOAD
    word(&mut elf, offset);
    word(&mut elf, base); // vaddr
    word(&mut elf, base); // paddr
    word(&mut elf, code.len() as u32); // filesz
    word(&mut elf, code.len() as u32); // memsz
    word(&mut elf, 7); // RWX
    word(&mut elf, 4); // align
    elf.extend_from_slice(code);
    elf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<u32> {
        assemble(text, 0x8000_0000).unwrap().chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn encodings_match_the_spec() {
        // Encodings as GNU as prints them (objdump -d).
        assert_eq!(words("add a0, a1, a2"), [0x00c5_8533]);
        assert_eq!(words("addi sp, sp, -16"), [0xff01_0113]);
        assert_eq!(words("lw a5, 8(s0)"), [0x0084_2783]);
        assert_eq!(words("sw ra, 12(sp)"), [0x0011_2623]);
        assert_eq!(words("srai t0, t1, 3"), [0x4033_5293]);
        assert_eq!(words("mul a0, a0, a1"), [0x02b5_0533]);
        assert_eq!(words("lui a0, 0x12345"), [0x1234_5537]);
        assert_eq!(words("ecall"), [0x0000_0073]);
        // li splits so that lo sign-extends: 0x12345fff = (0x12346 << 12) - 1.
        assert_eq!(words("li a0, 0x12345fff"), [0x1234_6537, 0xfff5_0513]);
        // Small values are one addi from x0, a multiple of 4096 one lui, as GNU as emits them.
        assert_eq!(words("li a0, 5"), [0x0050_0513]);
        assert_eq!(words("li a0, -1"), [0xfff0_0513]);
        assert_eq!(words("li a0, 0xffffffff"), [0xfff0_0513]);
        assert_eq!(words("li a0, 0x12345000"), [0x1234_5537]);
        assert_eq!(words("li a0, 2048"), [0x0000_1537, 0x8005_0513]);
    }

    #[test]
    fn li_sizes_are_the_same_in_both_passes() {
        // A label after an `li` of a small literal lands where the one-instruction form ends.
        let w = words("li a0, 7\nj end\nli a1, 0x1000\nend: li a2, end");
        assert_eq!(w.len(), 5);
        assert_eq!(w[1], 0x0080_006f); // j +8: over the one-word `lui`
        assert_eq!(w[3], 0x8000_0637); // li a2, end (= 0x8000000c): lui a2, 0x80000 ...
        assert_eq!(w[4], 0x00c6_0613); // ... addi a2, a2, 12
    }

    #[test]
    fn branches_and_jumps_reach_labels() {
        let w = words("start: nop\nbeq a0, a1, start\nj start\nbnez a0, end\nend: ret");
        assert_eq!(w[1], 0xfeb5_0ee3); // beq a0,a1,-4
        assert_eq!(w[2], 0xff9f_f06f); // j -8
        assert_eq!(w[3], 0x0005_1263); // bnez a0,+4
        assert_eq!(w[4], 0x0000_8067);
    }

    #[test]
    fn data_directives_and_la() {
        let code = assemble("la a0, msg\n.align 2\nmsg: .ascii \"hi\\n\"\n.byte 1, 255\n.word -1\n", 0x1000).unwrap();
        assert_eq!(&code[8..13], b"hi\n\x01\xff");
        assert_eq!(&code[13..17], &[0xff; 4]);
        // auipc a0, 0; addi a0, a0, 8
        assert_eq!(&code[..8], &[0x17, 0x05, 0, 0, 0x13, 0x05, 0x85, 0]);
    }

    #[test]
    fn errors_name_the_line() {
        assert!(assemble("nop\naddi a0, a0, 4096", 0).unwrap_err().starts_with("line 2: immediate 4096"));
        assert!(assemble("frob a0", 0).unwrap_err().contains("unknown instruction"));
        assert!(assemble("j nowhere", 0).unwrap_err().contains("unknown label"));
        assert!(assemble("add a0, a1", 0).unwrap_err().contains("takes 3 operand"));
        assert!(assemble("add a0, a1, x32", 0).unwrap_err().contains("bad register"));
    }

    #[test]
    fn elf_images_load() {
        let code = assemble("li a0, 1\nebreak", 0x8000_0000).unwrap();
        let program = crate::elf::parse(&elf_image(&code, 0x8000_0000)).unwrap();
        assert_eq!(program.entry, 0x8000_0000);
    }
}
