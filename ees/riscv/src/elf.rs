//! ELF32 loading: validates the header and program headers of a little-endian RISC-V
//! executable and returns its loadable segments, entry point and `tohost` address.
//! Every offset and size is checked against the file, so a truncated or hostile file is
//! an [`ElfError`], never a panic.

use std::fmt;

pub mod writer;
pub use writer::{write, Image};

const EM_RISCV: u16 = 243;
const ET_EXEC: u16 = 2;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const SHT_SYMTAB: u32 = 2;
/// The object uses compressed instructions, which this hart does not implement.
const EF_RISCV_RVC: u32 = 1;
const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const SHDR_SIZE: usize = 40;
const SYM_SIZE: usize = 16;

/// Why a file cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// A structure (named) extends past the end of the file.
    Truncated(&'static str),
    NotElf,
    /// `EI_CLASS` is not ELFCLASS32.
    NotElf32,
    /// `EI_DATA` is not little-endian.
    NotLittleEndian,
    /// `e_machine` is not EM_RISCV (243).
    NotRiscv(u16),
    /// `e_type` is not ET_EXEC.
    NotExecutable(u16),
    /// The file is flagged as using the C extension.
    CompressedUnsupported,
    /// `e_phentsize` or `e_shentsize` is not the ELF32 size.
    BadHeaderSize,
    /// A PT_LOAD segment whose file size exceeds its memory size.
    BadSegment {
        vaddr: u32,
    },
    /// A PT_LOAD segment outside the memory region `[base, base + size)`.
    SegmentOutOfMemory {
        vaddr: u32,
        memsz: u32,
        base: u32,
        size: u64,
    },
    /// The entry point is misaligned or not inside a loaded executable segment.
    BadEntry(u32),
    /// The `tohost` symbol is misaligned or outside memory.
    BadTohost(u32),
    NoLoadableSegments,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Truncated(what) => write!(f, "truncated ELF: {what} extends past the end of the file"),
            ElfError::NotElf => f.write_str("not an ELF file (bad magic)"),
            ElfError::NotElf32 => f.write_str("not a 32-bit ELF (ELFCLASS32 expected)"),
            ElfError::NotLittleEndian => f.write_str("not a little-endian ELF"),
            ElfError::NotRiscv(m) => write!(f, "not a RISC-V ELF (e_machine {m}, expected 243)"),
            ElfError::NotExecutable(t) => write!(f, "not an executable ELF (e_type {t}, expected ET_EXEC)"),
            ElfError::CompressedUnsupported => f.write_str("ELF uses compressed (RVC) instructions, not supported"),
            ElfError::BadHeaderSize => f.write_str("ELF program/section header entry size is not the ELF32 size"),
            ElfError::BadSegment { vaddr } => write!(f, "segment at 0x{vaddr:08x}: file size exceeds memory size"),
            ElfError::SegmentOutOfMemory { vaddr, memsz, base, size } => {
                write!(f, "segment 0x{vaddr:08x}+0x{memsz:x} lies outside memory 0x{base:08x}+0x{size:x}")
            }
            ElfError::BadEntry(e) => write!(f, "entry point 0x{e:08x} is misaligned or not in an executable segment"),
            ElfError::BadTohost(a) => write!(f, "tohost symbol 0x{a:08x} is misaligned or outside memory"),
            ElfError::NoLoadableSegments => f.write_str("ELF has no loadable segments"),
        }
    }
}

impl std::error::Error for ElfError {}

/// One PT_LOAD segment: `data` at `vaddr`, zero-filled up to `memsz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u32,
    pub memsz: u32,
    pub data: Vec<u8>,
    pub executable: bool,
}

/// A parsed executable, independent of any memory region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub entry: u32,
    pub segments: Vec<Segment>,
    /// Address of the `tohost` symbol, if the symbol table has one.
    pub tohost_symbol: Option<u32>,
}

fn bytes<'a>(file: &'a [u8], off: usize, len: usize, what: &'static str) -> Result<&'a [u8], ElfError> {
    off.checked_add(len).and_then(|end| file.get(off..end)).ok_or(ElfError::Truncated(what))
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Parses and validates `file`.
pub fn parse(file: &[u8]) -> Result<Program, ElfError> {
    if file.len() < 4 || file[..4] != *b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let eh = bytes(file, 0, EHDR_SIZE, "ELF header")?;
    if eh[4] != 1 {
        return Err(ElfError::NotElf32);
    }
    if eh[5] != 1 {
        return Err(ElfError::NotLittleEndian);
    }
    let machine = u16_at(eh, 18);
    if machine != EM_RISCV {
        return Err(ElfError::NotRiscv(machine));
    }
    let e_type = u16_at(eh, 16);
    if e_type != ET_EXEC {
        return Err(ElfError::NotExecutable(e_type));
    }
    if u32_at(eh, 36) & EF_RISCV_RVC != 0 {
        return Err(ElfError::CompressedUnsupported);
    }
    let entry = u32_at(eh, 24);
    let phoff = u32_at(eh, 28) as usize;
    let shoff = u32_at(eh, 32) as usize;
    let (phentsize, phnum) = (u16_at(eh, 42) as usize, u16_at(eh, 44) as usize);
    let (shentsize, shnum) = (u16_at(eh, 46) as usize, u16_at(eh, 48) as usize);

    if phnum > 0 && phentsize != PHDR_SIZE {
        return Err(ElfError::BadHeaderSize);
    }
    let phdrs = bytes(file, phoff, phnum * PHDR_SIZE, "program header table")?;
    let mut segments = Vec::new();
    for ph in phdrs.chunks_exact(PHDR_SIZE) {
        if u32_at(ph, 0) != PT_LOAD {
            continue;
        }
        let (offset, vaddr) = (u32_at(ph, 4) as usize, u32_at(ph, 8));
        let (filesz, memsz, flags) = (u32_at(ph, 16), u32_at(ph, 20), u32_at(ph, 24));
        if filesz > memsz {
            return Err(ElfError::BadSegment { vaddr });
        }
        if memsz == 0 {
            continue;
        }
        let data = bytes(file, offset, filesz as usize, "segment data")?.to_vec();
        segments.push(Segment { vaddr, memsz, data, executable: flags & PF_X != 0 });
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegments);
    }
    let in_code =
        |a: u32| segments.iter().any(|s| s.executable && u64::from(a.wrapping_sub(s.vaddr)) + 4 <= u64::from(s.memsz));
    if entry & 3 != 0 || !in_code(entry) {
        return Err(ElfError::BadEntry(entry));
    }
    let tohost_symbol =
        if shoff != 0 && shnum != 0 { find_symbol(file, shoff, shentsize, shnum, b"tohost")? } else { None };
    Ok(Program { entry, segments, tohost_symbol })
}

/// Looks `name` up in the first SHT_SYMTAB section (a stripped file has none).
fn find_symbol(
    file: &[u8],
    shoff: usize,
    shentsize: usize,
    shnum: usize,
    name: &[u8],
) -> Result<Option<u32>, ElfError> {
    if shentsize != SHDR_SIZE {
        return Err(ElfError::BadHeaderSize);
    }
    let shdrs = bytes(file, shoff, shnum * SHDR_SIZE, "section header table")?;
    let section = |i: usize| shdrs.get(i * SHDR_SIZE..(i + 1) * SHDR_SIZE);
    let Some(symtab) = shdrs.chunks_exact(SHDR_SIZE).find(|sh| u32_at(sh, 4) == SHT_SYMTAB) else {
        return Ok(None);
    };
    let syms = bytes(file, u32_at(symtab, 16) as usize, u32_at(symtab, 20) as usize, "symbol table")?;
    let strtab_hdr = section(u32_at(symtab, 24) as usize).ok_or(ElfError::Truncated("symbol string table header"))?;
    let strtab = bytes(file, u32_at(strtab_hdr, 16) as usize, u32_at(strtab_hdr, 20) as usize, "string table")?;
    for sym in syms.chunks_exact(SYM_SIZE) {
        let start = u32_at(sym, 0) as usize;
        let Some(rest) = strtab.get(start..) else { continue };
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        // st_shndx 0 is an undefined symbol: it has no address.
        if &rest[..end] == name && u16_at(sym, 14) != 0 {
            return Ok(Some(u32_at(sym, 4)));
        }
    }
    Ok(None)
}
