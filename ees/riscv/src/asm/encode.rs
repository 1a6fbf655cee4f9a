//! One statement's instruction to machine words: RV32IM, Zicsr, Zifencei, `mret`/`wfi`,
//! and the pseudo-instructions GNU as expands, expanded the way GNU as (and, for `la` of an
//! undefined weak symbol, GNU ld's relaxation) leaves them in a linked executable.
//!
//! Every instruction's size depends only on its text and on which symbols are undefined
//! weak, never on a symbol's address, so the first pass can lay out sections before any
//! label is known (`li` of a constant takes GNU as's shortest form; `li` of a symbol
//! always `lui` + `addi`; `call`/`tail` are `auipc` + `jalr`, unrelaxed).

use super::expr::{self, hi_lo, Env, Expr};

/// What the encoder asks of the assembler around it.
pub(crate) trait Site: Env {
    /// In the sizing pass symbols are placeholders: range checks must not fail.
    fn sizing(&self) -> bool;
    /// Declared `.weak` and defined nowhere: its address is 0 (GNU ld).
    fn is_undefined_weak(&self, name: &str) -> bool;
    /// Set by `.equ`/`.set`: an assembly-time constant, not an address.
    fn is_absolute(&self, name: &str) -> bool;
    /// GNU as marks its relocations relaxable (`.option relax`, the default) and GNU ld
    /// relaxes them.
    fn relaxing(&self) -> bool;
    /// Told how many bytes a relaxation removed from what GNU as emitted.
    fn relaxed(&self, bytes: u32);
}

/// The RV32 register number of an `x` or ABI name.
pub(crate) fn reg(s: &str) -> Result<u32, String> {
    const ABI: [&str; 32] = [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
        "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];
    if let Some(n) = s.strip_prefix('x').and_then(|n| n.parse::<u32>().ok()).filter(|&n| n < 32) {
        if !s[1..].starts_with('0') || s == "x0" {
            return Ok(n);
        }
    }
    if s == "fp" {
        return Ok(8);
    }
    ABI.iter().position(|&r| r == s).map(|i| i as u32).ok_or_else(|| format!("bad register {s:?}"))
}

fn is_reg(s: &str) -> bool {
    reg(s).is_ok()
}

/// The CSR names GNU as knows for RV32 machine/supervisor/user mode and the counters.
pub(crate) fn csr_number(name: &str) -> Option<u32> {
    const NAMED: [(&str, u32); 45] = [
        ("fflags", 0x001),
        ("frm", 0x002),
        ("fcsr", 0x003),
        ("cycle", 0xc00),
        ("time", 0xc01),
        ("instret", 0xc02),
        ("cycleh", 0xc80),
        ("timeh", 0xc81),
        ("instreth", 0xc82),
        ("sstatus", 0x100),
        ("sie", 0x104),
        ("stvec", 0x105),
        ("scounteren", 0x106),
        ("sscratch", 0x140),
        ("sepc", 0x141),
        ("scause", 0x142),
        ("stval", 0x143),
        ("sip", 0x144),
        ("satp", 0x180),
        ("mvendorid", 0xf11),
        ("marchid", 0xf12),
        ("mimpid", 0xf13),
        ("mhartid", 0xf14),
        ("mconfigptr", 0xf15),
        ("mstatus", 0x300),
        ("misa", 0x301),
        ("medeleg", 0x302),
        ("mideleg", 0x303),
        ("mie", 0x304),
        ("mtvec", 0x305),
        ("mcounteren", 0x306),
        ("mstatush", 0x310),
        ("mscratch", 0x340),
        ("mepc", 0x341),
        ("mcause", 0x342),
        ("mtval", 0x343),
        ("mip", 0x344),
        ("mcycle", 0xb00),
        ("minstret", 0xb02),
        ("mcycleh", 0xb80),
        ("minstreth", 0xb82),
        ("tselect", 0x7a0),
        ("tdata1", 0x7a1),
        ("dcsr", 0x7b0),
        ("dpc", 0x7b1),
    ];
    if let Some(&(_, n)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(n);
    }
    let indexed = |prefix: &str, base: u32, count: u32| {
        name.strip_prefix(prefix)
            .and_then(|i| i.parse::<u32>().ok())
            .filter(|&i| i < count && name.len() == prefix.len() + i.to_string().len())
            .map(|i| base + i)
    };
    indexed("pmpcfg", 0x3a0, 4).or_else(|| indexed("pmpaddr", 0x3b0, 16))
}

fn r_type(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

fn i_type(imm: i64, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

fn s_type(imm: i64, rs2: u32, rs1: u32, funct3: u32) -> u32 {
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | 0x23
}

fn b_type(off: i64, rs2: u32, rs1: u32, funct3: u32) -> u32 {
    let imm = off as u32;
    (((imm >> 12) & 1) << 31)
        | (((imm >> 5) & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (funct3 << 12)
        | (((imm >> 1) & 0xf) << 8)
        | (((imm >> 11) & 1) << 7)
        | 0x63
}

fn j_type(off: i64, rd: u32) -> u32 {
    let imm = off as u32;
    (((imm >> 20) & 1) << 31)
        | (((imm >> 1) & 0x3ff) << 21)
        | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xff) << 12)
        | (rd << 7)
        | 0x6f
}

fn u_type(imm20: i64, rd: u32, opcode: u32) -> u32 {
    (((imm20 as u32) & 0xfffff) << 12) | (rd << 7) | opcode
}

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
/// GNU as takes these register-register mnemonics with an immediate as the `i` form.
const R_WITH_IMMEDIATE: [(&str, &str); 9] = [
    ("add", "addi"),
    ("slt", "slti"),
    ("sltu", "sltiu"),
    ("xor", "xori"),
    ("or", "ori"),
    ("and", "andi"),
    ("sll", "slli"),
    ("srl", "srli"),
    ("sra", "srai"),
];
const LOAD: [(&str, u32); 5] = [("lb", 0), ("lh", 1), ("lw", 2), ("lbu", 4), ("lhu", 5)];
const STORE: [(&str, u32); 3] = [("sb", 0), ("sh", 1), ("sw", 2)];
const BRANCH: [(&str, u32); 6] = [("beq", 0), ("bne", 1), ("blt", 4), ("bge", 5), ("bltu", 6), ("bgeu", 7)];
/// `(pseudo, branch, swap operands)`: `bgt a, b` is `blt b, a`.
const BRANCH_SWAPPED: [(&str, &str); 4] = [("bgt", "blt"), ("ble", "bge"), ("bgtu", "bltu"), ("bleu", "bgeu")];
/// `(pseudo, branch, zero first)`: `bgez a` is `bge a, zero`, `bgtz a` is `blt zero, a`.
const BRANCH_ZERO: [(&str, &str, bool); 6] = [
    ("beqz", "beq", false),
    ("bnez", "bne", false),
    ("bltz", "blt", false),
    ("bgez", "bge", false),
    ("blez", "bge", true),
    ("bgtz", "blt", true),
];
const CSR: [(&str, u32); 6] = [("csrrw", 1), ("csrrs", 2), ("csrrc", 3), ("csrrwi", 5), ("csrrsi", 6), ("csrrci", 7)];
/// Fixed words: no operands.
const FIXED: [(&str, u32); 10] = [
    ("ecall", 0x0000_0073),
    ("ebreak", 0x0010_0073),
    ("fence.i", 0x0000_100f),
    ("fence.tso", 0x8330_000f),
    ("nop", 0x0000_0013),
    ("ret", 0x0000_8067),
    ("mret", 0x3020_0073),
    ("sret", 0x1020_0073),
    ("wfi", 0x1050_0073),
    // GNU as's `unimp` without the C extension: `csrrw zero, cycle, zero`.
    ("unimp", 0xc000_1073),
];

/// A parsed operand with what GNU as checks about it.
struct Operands<'a, 's> {
    op: &'a str,
    args: &'a [&'a str],
    site: &'s dyn Site,
}

impl Operands<'_, '_> {
    fn want(&self, n: usize) -> Result<(), String> {
        if self.args.len() == n {
            Ok(())
        } else {
            Err(format!("{} takes {n} operand(s), got {}", self.op, self.args.len()))
        }
    }

    fn arg(&self, i: usize) -> Result<&str, String> {
        self.args.get(i).copied().ok_or_else(|| format!("{}: operand {} is missing", self.op, i + 1))
    }

    fn reg(&self, i: usize) -> Result<u32, String> {
        reg(self.arg(i)?)
    }

    fn expr(&self, i: usize) -> Result<Expr, String> {
        expr::parse(self.arg(i)?)
    }

    fn value(&self, e: &Expr) -> Result<i64, String> {
        e.eval(self.site)
    }

    /// A signed immediate of `bits` bits (GNU as also takes the unsigned spelling of a
    /// 12-bit value for the `i` forms only through `%lo`; plain values must fit).
    fn signed(&self, v: i64, bits: u32, what: &str) -> Result<i64, String> {
        let half = 1i64 << (bits - 1);
        if self.site.sizing() || (-half..half).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{what} {v} out of range for {bits} signed bits"))
        }
    }

    fn unsigned(&self, v: i64, bits: u32, what: &str) -> Result<i64, String> {
        if self.site.sizing() || (0..1i64 << bits).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{what} {v} out of range for {bits} unsigned bits"))
        }
    }

    /// A branch or jump target: its distance from `.`, even and in range.
    fn target(&self, i: usize, bits: u32) -> Result<i64, String> {
        let off = self.value(&self.expr(i)?)?.wrapping_sub(self.site.here());
        if self.site.sizing() {
            return Ok(0);
        }
        if off % 2 != 0 {
            return Err(format!("branch/jump offset {off} is odd"));
        }
        self.signed(off, bits, "branch/jump offset")
    }

    /// `imm(reg)`, `(reg)`, or a bare `imm` (base x0 is not GNU's reading: that is the
    /// symbol form, which the caller handles), returning `None` for the symbol form.
    fn mem(&self, i: usize) -> Result<Option<(i64, u32)>, String> {
        let s = self.arg(i)?.trim();
        if let Some(inner) = s.strip_suffix(')') {
            if let Some(open) = inner.rfind('(') {
                let base = inner[open + 1..].trim();
                if is_reg(base) {
                    let offset = inner[..open].trim();
                    let imm = if offset.is_empty() { 0 } else { self.value(&expr::parse(offset)?)? };
                    return Ok(Some((self.signed(imm, 12, "offset")?, reg(base)?)));
                }
            }
        }
        Ok(None)
    }

    /// A CSR operand: a name or a 12-bit number.
    fn csr(&self, i: usize) -> Result<u32, String> {
        let name = self.arg(i)?;
        if let Some(n) = csr_number(name) {
            return Ok(n);
        }
        let v = self.value(&self.expr(i)?).map_err(|_| format!("unknown CSR {name:?}"))?;
        Ok(self.unsigned(v, 12, "CSR number")? as u32)
    }
}

/// Encodes one instruction (mnemonic `op`, operands `args` split at top-level commas).
pub(crate) fn encode(op: &str, args: &[&str], site: &dyn Site) -> Result<Vec<u32>, String> {
    let o = Operands { op, args, site };
    let mut out = Vec::with_capacity(2);
    if let Some(&(_, f7, f3)) = R.iter().find(|(n, _, _)| *n == op) {
        o.want(3)?;
        if !is_reg(args[2]) {
            if let Some(&(_, imm_form)) = R_WITH_IMMEDIATE.iter().find(|(n, _)| *n == op) {
                return encode(imm_form, args, site);
            }
        }
        out.push(r_type(f7, o.reg(2)?, o.reg(1)?, f3, o.reg(0)?, 0x33));
    } else if let Some(&(_, f3)) = I.iter().find(|(n, _)| *n == op) {
        o.want(3)?;
        let imm = o.signed(o.value(&o.expr(2)?)?, 12, "immediate")?;
        out.push(i_type(imm, o.reg(1)?, f3, o.reg(0)?, 0x13));
    } else if let Some(&(_, f7, f3)) = SHIFT.iter().find(|(n, _, _)| *n == op) {
        o.want(3)?;
        let sh = o.unsigned(o.value(&o.expr(2)?)?, 5, "shift amount")?;
        out.push(r_type(f7, (sh as u32) & 0x1f, o.reg(1)?, f3, o.reg(0)?, 0x13));
    } else if let Some(&(_, f3)) = LOAD.iter().find(|(n, _)| *n == op) {
        o.want(2)?;
        let rd = o.reg(0)?;
        match o.mem(1)? {
            Some((imm, base)) => out.push(i_type(imm, base, f3, rd, 0x03)),
            // `lw rd, symbol`: auipc rd, %pcrel_hi(symbol); lw rd, %pcrel_lo(...)(rd).
            None => {
                let (hi, lo) = pcrel(&o, 1)?;
                out.push(u_type(hi, rd, 0x17));
                out.push(i_type(lo, rd, f3, rd, 0x03));
            }
        }
    } else if let Some(&(_, f3)) = STORE.iter().find(|(n, _)| *n == op) {
        let rs2 = o.reg(0)?;
        match (args.len(), if args.len() == 2 { o.mem(1)? } else { None }) {
            (2, Some((imm, base))) => out.push(s_type(imm, rs2, base, f3)),
            // `sw rs, symbol, rt`: auipc rt, %pcrel_hi(symbol); sw rs, %pcrel_lo(...)(rt).
            (3, _) => {
                let rt = o.reg(2)?;
                let (hi, lo) = pcrel(&o, 1)?;
                out.push(u_type(hi, rt, 0x17));
                out.push(s_type(lo, rs2, rt, f3));
            }
            _ => return Err(format!("{op} takes rs, offset(base) or rs, symbol, temp")),
        }
    } else if let Some(&(_, f3)) = BRANCH.iter().find(|(n, _)| *n == op) {
        o.want(3)?;
        out.push(b_type(o.target(2, 13)?, o.reg(1)?, o.reg(0)?, f3));
    } else if let Some(&(_, real)) = BRANCH_SWAPPED.iter().find(|(n, _)| *n == op) {
        o.want(3)?;
        return encode(real, &[args[1], args[0], args[2]], site);
    } else if let Some(&(_, real, zero_first)) = BRANCH_ZERO.iter().find(|(n, _, _)| *n == op) {
        o.want(2)?;
        let operands = if zero_first { ["zero", args[0], args[1]] } else { [args[0], "zero", args[1]] };
        return encode(real, &operands, site);
    } else if let Some(&(_, f3)) = CSR.iter().find(|(n, _)| *n == op) {
        o.want(3)?;
        let source = if f3 >= 5 { o.unsigned(o.value(&o.expr(2)?)?, 5, "CSR immediate")? as u32 } else { o.reg(2)? };
        out.push(i_type(i64::from(o.csr(1)?), source, f3, o.reg(0)?, 0x73));
    } else if let Some(&(_, word)) = FIXED.iter().find(|(n, _)| *n == op) {
        o.want(0)?;
        out.push(word);
    } else {
        return pseudo(&o);
    }
    Ok(out)
}

/// `%pcrel_hi`/`%pcrel_lo` of operand `i` from `.`, as an `auipc` at `.` and its partner.
fn pcrel(o: &Operands, i: usize) -> Result<(i64, i64), String> {
    let distance = o.value(&o.expr(i)?)?.wrapping_sub(o.site.here());
    o.site.record_pcrel_hi(distance);
    Ok(hi_lo(distance))
}

fn pseudo(o: &Operands) -> Result<Vec<u32>, String> {
    let (op, args, site) = (o.op, o.args, o.site);
    let one = |w: u32| Ok(vec![w]);
    match op {
        "lui" | "auipc" => {
            o.want(2)?;
            let imm = o.value(&o.expr(1)?)?;
            // GNU as takes 0..=0xfffff (a %hi/%pcrel_hi result is already in that range).
            let imm = o.unsigned(imm, 20, &format!("{op} immediate"))?;
            one(u_type(imm, o.reg(0)?, if op == "lui" { 0x37 } else { 0x17 }))
        }
        "jal" => match args.len() {
            1 => one(j_type(o.target(0, 21)?, 1)),
            _ => {
                o.want(2)?;
                one(j_type(o.target(1, 21)?, o.reg(0)?))
            }
        },
        "j" => {
            o.want(1)?;
            one(j_type(o.target(0, 21)?, 0))
        }
        "jalr" | "jr" => {
            let link = if op == "jalr" { 1 } else { 0 };
            let (rd, imm, rs1) = match args.len() {
                1 => match o.mem(0)? {
                    Some((imm, base)) => (link, imm, base),
                    None => (link, 0, o.reg(0)?),
                },
                2 if op == "jr" => (0, o.signed(o.value(&o.expr(1)?)?, 12, "offset")?, o.reg(0)?),
                2 => match o.mem(1)? {
                    Some((imm, base)) => (o.reg(0)?, imm, base),
                    None => (o.reg(0)?, 0, o.reg(1)?),
                },
                3 if op == "jalr" => (o.reg(0)?, o.signed(o.value(&o.expr(2)?)?, 12, "offset")?, o.reg(1)?),
                n => return Err(format!("{op} does not take {n} operands")),
            };
            one(i_type(imm, rs1, 0, rd, 0x67))
        }
        "fence" => match args.len() {
            0 => one(0x0ff0_000f),
            2 => {
                let set = |s: &str| -> Result<u32, String> {
                    s.chars().try_fold(0, |acc, c| {
                        Ok(acc
                            | match c {
                                'i' => 8,
                                'o' => 4,
                                'r' => 2,
                                'w' => 1,
                                _ => return Err(format!("bad fence set {s:?}")),
                            })
                    })
                };
                one((set(args[0])? << 24) | (set(args[1])? << 20) | 0x0f)
            }
            n => Err(format!("fence takes 0 or 2 operands, got {n}")),
        },
        "mv" => {
            o.want(2)?;
            one(i_type(0, o.reg(1)?, 0, o.reg(0)?, 0x13))
        }
        "not" => {
            o.want(2)?;
            one(i_type(-1, o.reg(1)?, 4, o.reg(0)?, 0x13))
        }
        "neg" => {
            o.want(2)?;
            one(r_type(0x20, o.reg(1)?, 0, 0, o.reg(0)?, 0x33))
        }
        "seqz" => {
            o.want(2)?;
            one(i_type(1, o.reg(1)?, 3, o.reg(0)?, 0x13))
        }
        "snez" => {
            o.want(2)?;
            one(r_type(0, o.reg(1)?, 0, 3, o.reg(0)?, 0x33))
        }
        "sltz" => {
            o.want(2)?;
            one(r_type(0, 0, o.reg(1)?, 2, o.reg(0)?, 0x33))
        }
        "sgtz" => {
            o.want(2)?;
            one(r_type(0, o.reg(1)?, 0, 2, o.reg(0)?, 0x33))
        }
        "csrr" => {
            o.want(2)?;
            encode("csrrs", &[args[0], args[1], "zero"], site)
        }
        "csrw" | "csrs" | "csrc" | "csrwi" | "csrsi" | "csrci" => {
            o.want(2)?;
            let base = &op[..4];
            // GNU as takes `csrw csr, 3` as `csrwi`.
            let immediate = op.ends_with('i') || !is_reg(args[1]);
            let real = format!("csrr{}{}", &base[3..], if immediate { "i" } else { "" });
            encode(&real, &["zero", args[0], args[1]], site)
        }
        "rdcycle" | "rdtime" | "rdinstret" | "rdcycleh" | "rdtimeh" | "rdinstreth" => {
            o.want(1)?;
            encode("csrrs", &[args[0], &op[2..], "zero"], site)
        }
        "li" => {
            o.want(2)?;
            let rd = o.reg(0)?;
            let e = o.expr(1)?;
            let v = o.value(&e)?;
            if !site.sizing() && !(-(1i64 << 31)..(1i64 << 32)).contains(&v) {
                return Err(format!("li value {v} does not fit in 32 bits"));
            }
            let (hi, lo) = hi_lo(v);
            let small = i64::from(v as u32 as i32);
            // A constant takes GNU as's shortest form; an address always both instructions
            // (GNU as rejects `li` of an address; we take it for hand-written contracts).
            let constant = e.is_constant() || e.symbols().iter().all(|s| site.is_absolute(s)) && !e.has_here();
            Ok(match constant {
                true if (-2048..2048).contains(&small) => vec![i_type(small, 0, 0, rd, 0x13)],
                true if lo == 0 => vec![u_type(hi, rd, 0x37)],
                _ => vec![u_type(hi, rd, 0x37), i_type(lo, rd, 0, rd, 0x13)],
            })
        }
        "la" | "lla" => {
            o.want(2)?;
            let rd = o.reg(0)?;
            let e = o.expr(1)?;
            let symbols = e.symbols();
            if !symbols.is_empty() && symbols.iter().all(|s| site.is_undefined_weak(s)) {
                // GNU ld resolves the pc-relative pair to an undefined weak symbol (address 0)
                // absolutely: relaxing, to one `addi rd, zero, value` when the value fits;
                // otherwise the `auipc` becomes a `lui`.
                let v = o.value(&e)?;
                let (hi, lo) = hi_lo(v);
                return Ok(if site.relaxing() && (-2048..2048).contains(&v) {
                    site.relaxed(4);
                    vec![i_type(v, 0, 0, rd, 0x13)]
                } else {
                    vec![u_type(hi, rd, 0x37), i_type(lo, rd, 0, rd, 0x13)]
                });
            }
            let (hi, lo) = pcrel(o, 1)?;
            Ok(vec![u_type(hi, rd, 0x17), i_type(lo, rd, 0, rd, 0x13)])
        }
        "call" | "tail" => {
            o.want(1)?;
            let (link, scratch) = if op == "call" { (1, 1) } else { (0, 6) };
            let (hi, lo) = pcrel(o, 0)?;
            Ok(vec![u_type(hi, scratch, 0x17), i_type(lo, scratch, 0, link, 0x67)])
        }
        _ => Err(format!("unknown instruction {op:?}")),
    }
}
