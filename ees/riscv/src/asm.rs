//! The project's RV32IM assembler, in GNU as syntax, so that hand-written contracts, the
//! cross-EE vectors and the riscv-tests suite need no RISC-V toolchain.
//!
//! Two entry points share one engine:
//! - [`assemble`] makes a flat program loaded at one address (contracts, cross vectors);
//!   section directives are ignored and `.align` pads with zeros. [`elf_image`] wraps the bytes.
//! - [`assemble_linked`] makes sections (`.text.init`, `.tohost`, `.text`, `.data`, `.bss`, ...)
//!   laid out by a linker script ([`LinkScript`], the subset `link.ld` uses), as GNU as +
//!   GNU ld would: the result is an [`elf::Image`](crate::elf::Image) for [`crate::elf::write`].
//!
//! What it reads (see `asm/source.rs`, `asm/expr.rs`, `asm/encode.rs`): several statements
//! per line separated by `;`, `#` comments and cpp line markers, labels including numeric
//! local ones (`1:`, `1f`, `1b`), `.macro`/`.endm`, expressions with GAS's operators and
//! precedence, `%hi/%lo/%pcrel_hi/%pcrel_lo`, RV32IM + Zicsr + Zifencei, `mret`/`wfi`, and
//! the pseudo-instructions GNU as has for them. Data and layout directives: `.byte .half
//! .short .2byte .word .long .4byte .dword .quad .8byte .ascii .asciz .string .zero .space
//! .skip .fill .align .p2align .balign .section .pushsection .popsection .previous .text
//! .data .bss .equ .set .globl .global .weak .option`; `.type .size .file .ident
//! .attribute .local .hidden` are accepted and ignored.
//!
//! Every statement's size is known before any label's address (see `asm/encode.rs`), so
//! one sizing pass lays the sections out and a final pass encodes; a statement whose size
//! would change between them is an error. `tests/asm_vs_binutils.rs` and the riscv-tests
//! build (`riscv-tests-build`) compare the results with GNU as and GNU ld.

mod encode;
mod expr;
pub mod link;
mod source;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt;

pub use link::LinkScript;

use crate::elf::writer::{Image, Section, Symbol};
use encode::Site;
use expr::Env;
use source::Statement;

/// An assembly error: the file (from a cpp line marker) and line, what is wrong, and the
/// statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    pub file: Option<String>,
    pub line: usize,
    pub message: String,
    pub statement: String,
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}:{}: {}", self.line, self.message)?,
            None => write!(f, "line {}: {}", self.line, self.message)?,
        }
        if !self.statement.is_empty() {
            write!(f, ": {}", self.statement)?;
        }
        Ok(())
    }
}

impl std::error::Error for AsmError {}

/// Assembles `text` as one flat piece loaded at `base`; returns the bytes, or the line
/// and what is wrong.
pub fn assemble(text: &str, base: u32) -> Result<Vec<u8>, String> {
    let mut a = Assembler::new(text, Mode::Flat).map_err(|e| e.to_string())?;
    a.run(&mut |_| Ok((vec![base], Vec::new()))).map_err(|e| e.to_string())?;
    Ok(std::mem::take(&mut a.sections[0].data))
}

/// Assembles `text` into sections and places them with `script`, as GNU as followed by
/// GNU ld would (including ld's relaxation of `la` to an undefined weak symbol).
pub fn assemble_linked(text: &str, script: &LinkScript) -> Result<Image, AsmError> {
    let mut a = Assembler::new(text, Mode::Sections)?;
    let mut placement = None;
    a.run(&mut |inputs| {
        let p = script.place(inputs)?;
        let bases = p.input_addresses.iter().map(|a| a.unwrap_or(0)).collect();
        let symbols = p.symbols.clone();
        placement = Some(p);
        Ok((bases, symbols))
    })?;
    let placement = placement.expect("run places the sections");
    let whole = |message: String| AsmError { file: None, line: 0, message, statement: String::new() };

    let mut image = Image::default();
    let mut output_of = vec![None; a.sections.len()];
    for out in &placement.outputs {
        let members = || out.inputs.iter().map(|&i| &a.sections[i]);
        let nobits = members().all(|s| s.nobits);
        let mut data = vec![0u8; if nobits { 0 } else { out.size as usize }];
        for &i in &out.inputs {
            output_of[i] = Some(image.sections.len());
            let at = (a.bases[i] - out.address) as usize;
            data[at..at + a.sections[i].data.len()].copy_from_slice(&a.sections[i].data);
        }
        image.sections.push(Section {
            name: out.name.clone(),
            address: out.address,
            data,
            nobits_size: if nobits { out.size } else { 0 },
            nobits,
            executable: members().any(|s| s.executable),
            writable: members().any(|s| s.writable),
            align: out.align,
        });
    }
    let mut labels: Vec<(&String, &(usize, u32))> = a.symbols.labels.iter().collect();
    labels.sort_by_key(|(name, &(section, offset))| (a.bases[section] + offset, section, name.as_str()));
    for (name, &(section, offset)) in labels {
        if name.starts_with(".L") || name.starts_with("..L") {
            continue; // GAS keeps local labels out of the symbol table
        }
        image.symbols.push(Symbol {
            name: name.clone(),
            value: a.bases[section] + offset,
            section: output_of[section],
            global: a.symbols.globals.contains(name),
        });
    }
    for (name, value) in &placement.symbols {
        image.symbols.push(Symbol { name: name.clone(), value: *value, section: None, global: true });
    }
    let entry_name = script.entry.clone().unwrap_or_else(|| "_start".into());
    image.entry = match image.symbols.iter().find(|s| s.name == entry_name) {
        Some(s) => s.value,
        None if script.entry.is_some() => return Err(whole(format!("entry symbol {entry_name:?} is not defined"))),
        None => image.sections.first().map_or(0, |s| s.address),
    };
    Ok(image)
}

/// A minimal ELF32 RISC-V executable: one read/write/execute segment holding `code` at
/// `base`, entered at `base`, right after the headers (84 bytes more than the code: this is
/// what contracts store and pay for per byte).
pub fn elf_image(code: &[u8], base: u32) -> Vec<u8> {
    crate::elf::writer::write_packed(&Image {
        entry: base,
        sections: vec![Section::progbits(".text", base, code.to_vec(), true, true)],
        symbols: Vec::new(),
    })
}

/// The largest section: far beyond any program the EE loads (its memory is a few MiB),
/// and a `.zero`/`.fill` beyond it is an error rather than an allocation failure.
const MAX_SECTION_SIZE: usize = 64 << 20;

/// Checks that `n` more bytes keep section `s` within [`MAX_SECTION_SIZE`].
fn room(s: &InputSection, n: usize) -> Result<(), String> {
    if (s.size as usize).saturating_add(n) > MAX_SECTION_SIZE {
        return Err(format!("section {:?} would exceed {} MiB", s.name, MAX_SECTION_SIZE >> 20));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One section at one address; section directives are no-ops, `.align` pads with zeros.
    Flat,
    /// Sections as GNU as keeps them, placed by a link script.
    Sections,
}

/// One input section being assembled.
struct InputSection {
    name: String,
    data: Vec<u8>,
    /// Size so far (for `nobits` sections there is no data).
    size: u32,
    align: u32,
    executable: bool,
    writable: bool,
    nobits: bool,
    /// Bytes GNU as would have emitted here that GNU ld's relaxation deletes (alignment
    /// nops beyond what the final address needs, the `auipc` of `la` to an undefined weak
    /// symbol). GAS pads a code section's end to its alignment *before* ld deletes them,
    /// so the final size depends on this.
    relaxed: u32,
}

impl InputSection {
    fn new(name: &str, flags: Option<&str>, nobits: Option<bool>) -> InputSection {
        let by_name = |prefixes: &[&str]| prefixes.iter().any(|p| name == *p || name.starts_with(&format!("{p}.")));
        let default_nobits = by_name(&[".bss", ".sbss", ".tbss"]);
        let executable = flags.map_or(by_name(&[".text", ".init", ".fini"]), |f| f.contains('x'));
        let writable = flags.map_or(default_nobits || by_name(&[".data", ".sdata", ".tohost"]), |f| f.contains('w'));
        InputSection {
            name: name.to_string(),
            data: Vec::new(),
            size: 0,
            align: if executable { 4 } else { 1 },
            executable,
            writable,
            nobits: nobits.unwrap_or(default_nobits),
            relaxed: 0,
        }
    }
}

/// Symbols and what expressions are evaluated against.
#[derive(Default)]
struct Symbols {
    /// Label name to (input section, offset).
    labels: HashMap<String, (usize, u32)>,
    equs: HashMap<String, i64>,
    /// Symbols the link script assigns.
    script: HashMap<String, u32>,
    globals: HashSet<String>,
    weak: HashSet<String>,
    /// Every name some statement defines (label or `.equ`), known before the first pass.
    defined: HashSet<String>,
    /// The names `.equ`/`.set` define: absolute values, constants to `li`.
    equ_names: HashSet<String>,
    /// `%pcrel_hi` distances by the address of their `auipc`.
    pcrel_hi: RefCell<HashMap<i64, i64>>,
    missed_pcrel_lo: Cell<bool>,
}

/// The environment of one statement.
struct At<'a> {
    symbols: &'a Symbols,
    bases: &'a [u32],
    here: i64,
    sizing: bool,
    /// The last pass: a `%pcrel_lo` whose `auipc` was not seen is an error.
    strict: bool,
    /// `.option relax` (GNU as's default) is in force.
    relax: bool,
    /// Bytes the statement's relaxation removed.
    relaxed: Cell<u32>,
}

impl Env for At<'_> {
    fn symbol(&self, name: &str) -> Result<i64, String> {
        let s = self.symbols;
        if let Some(&v) = s.equs.get(name) {
            Ok(v)
        } else if let Some(&(section, offset)) = s.labels.get(name) {
            Ok(i64::from(self.bases[section]) + i64::from(offset))
        } else if let Some(&v) = s.script.get(name) {
            Ok(i64::from(v))
        } else if self.is_undefined_weak(name) {
            Ok(0)
        } else if self.sizing {
            Ok(self.here)
        } else {
            Err(format!("undefined symbol {name:?}"))
        }
    }

    fn here(&self) -> i64 {
        self.here
    }

    fn pcrel_hi_at(&self, address: i64) -> Result<i64, String> {
        match self.symbols.pcrel_hi.borrow().get(&address) {
            Some(&d) => Ok(d),
            None if self.sizing => Ok(0),
            None if !self.strict => {
                self.symbols.missed_pcrel_lo.set(true);
                Ok(0)
            }
            None => Err(format!("%pcrel_lo: no %pcrel_hi at 0x{address:x}")),
        }
    }

    fn record_pcrel_hi(&self, distance: i64) {
        if !self.sizing {
            self.symbols.pcrel_hi.borrow_mut().insert(self.here, distance);
        }
    }
}

impl Site for At<'_> {
    fn sizing(&self) -> bool {
        self.sizing
    }

    fn is_undefined_weak(&self, name: &str) -> bool {
        self.symbols.weak.contains(name) && !self.symbols.defined.contains(name)
    }

    fn is_absolute(&self, name: &str) -> bool {
        self.symbols.equ_names.contains(name)
    }

    fn relaxing(&self) -> bool {
        self.relax
    }

    fn relaxed(&self, bytes: u32) {
        self.relaxed.set(self.relaxed.get().saturating_add(bytes));
    }
}

/// The section state of one pass.
struct Cursor {
    current: usize,
    previous: usize,
    stack: Vec<usize>,
    relax: bool,
    /// `.option push` saves `relax`.
    options: Vec<bool>,
}

/// Lays out input sections (by their names, sizes and alignments) and returns each one's
/// address and the symbols the layout defines.
type Layout<'l> = dyn FnMut(&[link::InputSection]) -> Result<(Vec<u32>, Vec<(String, u32)>), String> + 'l;

struct Assembler {
    mode: Mode,
    statements: Vec<Statement>,
    sections: Vec<InputSection>,
    bases: Vec<u32>,
    symbols: Symbols,
    /// Each statement's (section, offset) in the sizing pass.
    starts: Vec<(usize, u32)>,
}

fn located(st: &Statement, message: String) -> AsmError {
    AsmError {
        file: st.loc.file.as_deref().map(str::to_string),
        line: st.loc.line,
        message,
        statement: st.text.clone(),
    }
}

impl Assembler {
    fn new(text: &str, mode: Mode) -> Result<Assembler, AsmError> {
        let statements = source::statements(text).map_err(|(loc, message)| AsmError {
            file: loc.file.as_deref().map(str::to_string),
            line: loc.line,
            message,
            statement: String::new(),
        })?;
        let mut symbols = Symbols::default();
        for st in &statements {
            symbols.defined.extend(st.labels.iter().cloned());
            if matches!(st.op.as_str(), ".equ" | ".set") {
                if let Some((name, _)) = st.operands.split_once(',') {
                    symbols.defined.insert(name.trim().to_string());
                    symbols.equ_names.insert(name.trim().to_string());
                }
            }
        }
        let first = if mode == Mode::Flat { "" } else { ".text" };
        Ok(Assembler {
            mode,
            statements,
            sections: vec![InputSection::new(first, None, None)],
            bases: vec![0],
            symbols,
            starts: Vec::new(),
        })
    }

    /// The sizing pass, `layout`, then the final pass (twice if a `%pcrel_lo` came before
    /// its `auipc`).
    fn run(&mut self, layout: &mut Layout) -> Result<(), AsmError> {
        self.pass(true, false)?;
        let inputs: Vec<link::InputSection> = self
            .sections
            .iter()
            .map(|s| link::InputSection { name: s.name.clone(), size: s.size, align: s.align })
            .collect();
        let (bases, script_symbols) =
            layout(&inputs).map_err(|message| AsmError { file: None, line: 0, message, statement: String::new() })?;
        self.bases = bases;
        self.symbols.script = script_symbols.into_iter().collect();
        self.pass(false, false)?;
        if self.symbols.missed_pcrel_lo.get() {
            self.pass(false, true)?;
        }
        Ok(())
    }

    fn pass(&mut self, sizing: bool, strict: bool) -> Result<(), AsmError> {
        for s in &mut self.sections {
            s.data.clear();
            s.size = 0;
            s.relaxed = 0;
        }
        let mut cursor = Cursor { current: 0, previous: 0, stack: Vec::new(), relax: true, options: Vec::new() };
        let statements = std::mem::take(&mut self.statements);
        let result = (|| {
            for (index, st) in statements.iter().enumerate() {
                let offset = self.sections[cursor.current].size;
                if sizing {
                    self.starts.push((cursor.current, offset));
                } else if self.starts[index] != (cursor.current, offset) {
                    return Err(located(st, "its address changed between passes (a size depends on a label)".into()));
                }
                for label in &st.labels {
                    let place = (cursor.current, offset);
                    if sizing
                        && (self.symbols.labels.insert(label.clone(), place).is_some()
                            || self.symbols.equs.contains_key(label))
                    {
                        return Err(located(st, format!("label {label:?} defined twice")));
                    }
                }
                if st.op.is_empty() {
                    continue;
                }
                self.statement(st, &mut cursor, sizing, strict).map_err(|e| located(st, e))?;
            }
            if self.mode == Mode::Sections {
                // GAS pads the end of a code section to the section's alignment (with
                // zeros), before ld's relaxation deletes bytes inside it.
                for i in 0..self.sections.len() {
                    let s = &self.sections[i];
                    if s.executable && s.size > 0 {
                        let with_relaxed = u64::from(s.size) + u64::from(s.relaxed);
                        let pad = with_relaxed.next_multiple_of(u64::from(s.align)) - with_relaxed;
                        self.emit(i, &vec![0; pad as usize]).map_err(|message| AsmError {
                            file: None,
                            line: 0,
                            message,
                            statement: String::new(),
                        })?;
                    }
                }
            }
            Ok(())
        })();
        self.statements = statements;
        result
    }

    fn statement(&mut self, st: &Statement, cursor: &mut Cursor, sizing: bool, strict: bool) -> Result<(), String> {
        let here = i64::from(self.bases.get(cursor.current).copied().unwrap_or(0))
            + i64::from(self.sections[cursor.current].size);
        let args = split_operands(&st.operands);
        let relax = cursor.relax && self.mode == Mode::Sections;
        let at = At { symbols: &self.symbols, bases: &self.bases, here, sizing, strict, relax, relaxed: Cell::new(0) };
        if !st.op.starts_with('.') {
            let words = encode::encode(&st.op, &args, &at)?;
            let s = &mut self.sections[cursor.current];
            s.relaxed = s.relaxed.saturating_add(at.relaxed.get());
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            return self.emit(cursor.current, &bytes);
        }
        let values = |at: &At| -> Result<Vec<i64>, String> { args.iter().map(|a| expr::parse(a)?.eval(at)).collect() };
        let d = &st.op[1..];
        match d {
            "byte" | "half" | "short" | "2byte" | "word" | "long" | "4byte" | "dword" | "quad" | "8byte" => {
                let size = match d {
                    "byte" => 1,
                    "half" | "short" | "2byte" => 2,
                    "word" | "long" | "4byte" => 4,
                    _ => 8,
                };
                let mut bytes = Vec::new();
                for v in values(&at)? {
                    if !sizing && size < 8 && (v < -(1i64 << (8 * size - 1)) || v >= (1i64 << (8 * size))) {
                        return Err(format!(".{d} value {v} out of range"));
                    }
                    bytes.extend_from_slice(&v.to_le_bytes()[..size]);
                }
                self.emit(cursor.current, &bytes)
            }
            "ascii" | "asciz" | "string" => {
                let mut bytes = Vec::new();
                for s in &args {
                    bytes.extend(string_literal(s)?);
                    if d != "ascii" {
                        bytes.push(0);
                    }
                }
                self.emit(cursor.current, &bytes)
            }
            "zero" | "space" | "skip" => {
                let v = values(&at)?;
                let (&n, fill) = v.split_first().ok_or(format!(".{d} needs a size"))?;
                let n = usize::try_from(n).map_err(|_| format!(".{d} {n}: negative size"))?;
                room(&self.sections[cursor.current], n)?;
                self.emit(cursor.current, &vec![fill.first().copied().unwrap_or(0) as u8; n])
            }
            "fill" => {
                let v = values(&at)?;
                let repeat =
                    usize::try_from(*v.first().ok_or(".fill needs a count")?).map_err(|_| ".fill: negative count")?;
                let size = v.get(1).copied().unwrap_or(1).clamp(0, 8) as usize;
                let value = v.get(2).copied().unwrap_or(0);
                room(&self.sections[cursor.current], repeat.saturating_mul(size))?;
                let unit = &value.to_le_bytes()[..size];
                self.emit(cursor.current, &unit.repeat(repeat))
            }
            "align" | "p2align" | "balign" => {
                let v = values(&at)?;
                let &n = v.first().ok_or(format!(".{d} needs an alignment"))?;
                let align = if d == "balign" {
                    n
                } else if (0..=16).contains(&n) {
                    1 << n
                } else {
                    -1
                };
                if align <= 0 || align & (align - 1) != 0 || align > 1 << 16 {
                    return Err(format!(".{d} {n}: not a power of two up to 65536"));
                }
                let align = align as u32;
                let section = &mut self.sections[cursor.current];
                section.align = section.align.max(align);
                let pad = (align - section.size % align) % align;
                let fill = v.get(1).map(|&f| f as u8);
                if relax && section.executable && fill.is_none() && align > 4 {
                    // GAS emits the worst case (align - 4 bytes of nops) for ld to trim.
                    section.relaxed = section.relaxed.saturating_add(align - 4 - pad);
                }
                let bytes: Vec<u8> = if self.mode == Mode::Sections && section.executable && fill.is_none() {
                    // GNU as pads code with nops (a ragged start with zeros).
                    let mut b = vec![0u8; (pad % 4) as usize];
                    b.extend((0..pad / 4).flat_map(|_| 0x13u32.to_le_bytes()));
                    b
                } else {
                    vec![fill.unwrap_or(0); pad as usize]
                };
                self.emit(cursor.current, &bytes)
            }
            "text" | "data" | "bss" | "section" | "pushsection" | "popsection" | "previous" => {
                if self.mode == Mode::Flat {
                    return Ok(());
                }
                let target = match d {
                    "popsection" => cursor.stack.pop().ok_or(".popsection without .pushsection")?,
                    "previous" => cursor.previous,
                    "text" | "data" | "bss" => self.section(&format!(".{d}"), None, None),
                    _ => {
                        let name = args.first().ok_or(format!(".{d} needs a name"))?.trim_matches('"');
                        let flags = args.get(1).map(|f| f.trim_matches('"'));
                        let nobits = args.get(2).map(|t| t.trim_start_matches(['@', '%']) == "nobits");
                        if d == "pushsection" {
                            cursor.stack.push(cursor.current);
                        }
                        self.section(name, flags, nobits)
                    }
                };
                if d != "popsection" {
                    cursor.previous = cursor.current;
                }
                cursor.current = target;
                Ok(())
            }
            "equ" | "set" => {
                let [name, value] = args[..] else { return Err(format!(".{d} takes a name and a value")) };
                let v = expr::parse(value)?.eval(&at)?;
                if self.symbols.labels.contains_key(name) {
                    return Err(format!("{name:?} is already a label"));
                }
                self.symbols.equs.insert(name.to_string(), v);
                Ok(())
            }
            "globl" | "global" | "weak" => {
                for name in args {
                    self.symbols.globals.insert(name.to_string());
                    if d == "weak" {
                        self.symbols.weak.insert(name.to_string());
                    }
                }
                Ok(())
            }
            "option" => {
                match st.operands.as_str() {
                    "rvc" => return Err("compressed instructions (.option rvc) are not supported".into()),
                    "relax" => cursor.relax = true,
                    "norelax" => cursor.relax = false,
                    "push" => cursor.options.push(cursor.relax),
                    "pop" => cursor.relax = cursor.options.pop().ok_or(".option pop without .option push")?,
                    _ => {} // norvc, pic/nopic, arch: nothing to change
                }
                Ok(())
            }
            "type" | "size" | "file" | "ident" | "attribute" | "local" | "hidden" | "protected" => Ok(()),
            _ => Err(format!("unknown directive {}", st.op)),
        }
    }

    /// The index of the section `name`, created on first use.
    fn section(&mut self, name: &str, flags: Option<&str>, nobits: Option<bool>) -> usize {
        if let Some(i) = self.sections.iter().position(|s| s.name == name) {
            return i;
        }
        self.sections.push(InputSection::new(name, flags, nobits));
        self.bases.push(0);
        self.sections.len() - 1
    }

    fn emit(&mut self, section: usize, bytes: &[u8]) -> Result<(), String> {
        room(&self.sections[section], bytes.len())?;
        let s = &mut self.sections[section];
        if s.nobits {
            if bytes.iter().any(|&b| b != 0) {
                return Err(format!("non-zero data in the nobits section {}", s.name));
            }
        } else {
            s.data.extend_from_slice(bytes);
        }
        s.size += bytes.len() as u32; // within MAX_SECTION_SIZE
        Ok(())
    }
}

/// Splits at the commas outside parentheses and quotes.
fn split_operands(s: &str) -> Vec<&str> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// The bytes of a `"..."` literal: C escapes, `\NNN` octal, `\xHH`.
fn string_literal(s: &str) -> Result<Vec<u8>, String> {
    let inner = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or("expected a quoted string")?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if !c.is_ascii() {
                return Err(format!("non-ASCII character {c:?}"));
            }
            out.push(c as u8);
            continue;
        }
        let e = chars.next().ok_or("string ends in a backslash")?;
        if e.is_digit(8) {
            let mut v = e.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match chars.peek().and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        v = v * 8 + d;
                        chars.next();
                    }
                    None => break,
                }
            }
            out.push(v as u8);
        } else if e == 'x' {
            let mut v = 0u32;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(16)) {
                v = v * 16 + d;
                chars.next();
            }
            out.push(v as u8);
        } else {
            out.push(expr::escape(e).ok_or_else(|| format!("unknown escape \\{e}"))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
