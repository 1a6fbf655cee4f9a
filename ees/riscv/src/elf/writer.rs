//! The project's one ELF32 writer: a static little-endian RISC-V executable (ET_EXEC,
//! EM_RISCV, no RVC flag) with a PT_LOAD segment per section, section headers with names,
//! and a symbol table, so [`super::parse`], qemu-user and binutils' readelf/objdump all
//! read it. Used by the assembler (`ee_riscv::asm`), the riscv-tests build and the
//! RISC-V differential oracle.

/// One section: `data` at `address` (or, `nobits`, `size` zero bytes not stored in the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub address: u32,
    pub data: Vec<u8>,
    /// For `nobits` sections: the size in memory (ignored otherwise; `data.len()` is used).
    pub nobits_size: u32,
    pub nobits: bool,
    pub executable: bool,
    pub writable: bool,
    pub align: u32,
}

impl Section {
    /// A PROGBITS section.
    pub fn progbits(name: &str, address: u32, data: Vec<u8>, executable: bool, writable: bool) -> Section {
        Section { name: name.into(), address, data, nobits_size: 0, nobits: false, executable, writable, align: 4 }
    }

    pub fn size(&self) -> u32 {
        if self.nobits {
            self.nobits_size
        } else {
            self.data.len() as u32
        }
    }
}

/// A symbol: `value` in `section` (an index into [`Image::sections`]; `None`: absolute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub value: u32,
    pub section: Option<usize>,
    pub global: bool,
}

/// What to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    pub entry: u32,
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
}

const EHDR: usize = 52;
const PHDR: usize = 32;
const SHDR: usize = 40;
const SYM: usize = 16;
/// Segment file offsets are congruent to their addresses modulo a page (qemu-user mmaps them).
const PAGE: usize = 0x1000;
const SHN_ABS: u16 = 0xfff1;

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(f: &mut [u8], at: usize, v: u32) {
    f[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A string table: NUL-separated names after a leading NUL; returns each name's offset.
fn string_table<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<u8>, Vec<u32>) {
    let mut table = vec![0u8];
    let offsets = names
        .map(|n| {
            let at = table.len() as u32;
            table.extend_from_slice(n.as_bytes());
            table.push(0);
            at
        })
        .collect();
    (table, offsets)
}

/// Serializes `image`. Sections with no bytes in memory get no segment.
pub fn write(image: &Image) -> Vec<u8> {
    write_with(image, false)
}

/// The smallest file for `image`: its headers (a PT_LOAD per section), then the section
/// bytes back to back (4-aligned), without section headers or symbols. What contract code stores (every byte
/// of code costs gas); our loader reads it, qemu-user may not (offsets are not
/// page-congruent).
pub fn write_packed(image: &Image) -> Vec<u8> {
    write_with(image, true)
}

fn write_with(image: &Image, packed: bool) -> Vec<u8> {
    // Packed, an empty section still gets its (empty) segment, as contract code always had.
    let loadable: Vec<usize> = (0..image.sections.len()).filter(|&i| packed || image.sections[i].size() > 0).collect();
    let phnum = loadable.len();
    // Section data: each at an offset congruent to its address modulo the page size
    // (packed: just 4-aligned).
    let mut offset = EHDR + phnum * PHDR;
    let mut offsets = Vec::with_capacity(image.sections.len());
    for s in &image.sections {
        let at = if packed {
            offset.next_multiple_of(4)
        } else {
            let want = s.address as usize % PAGE;
            let page_start = offset - offset % PAGE;
            if page_start + want >= offset {
                page_start + want
            } else {
                page_start + PAGE + want
            }
        };
        offsets.push(at);
        if !s.nobits {
            offset = at + s.data.len();
        }
    }
    if packed {
        let mut f = vec![0u8; offset];
        header(&mut f, image, phnum, 0, 0, 0);
        segments(&mut f, image, &loadable, &offsets, 4);
        return f;
    }
    // Symbols: the null symbol, locals, then globals (sh_info is the first global's index).
    let mut symbols: Vec<&Symbol> = image.symbols.iter().filter(|s| !s.global).collect();
    let first_global = symbols.len() + 1;
    symbols.extend(image.symbols.iter().filter(|s| s.global));
    let (strtab, name_offsets) = string_table(symbols.iter().map(|s| s.name.as_str()));
    let section_names = image.sections.iter().map(|s| s.name.as_str()).chain([".symtab", ".strtab", ".shstrtab"]);
    let (shstrtab, shname) = string_table(section_names);

    let symtab_off = offset.next_multiple_of(4);
    let symtab_size = (symbols.len() + 1) * SYM;
    let strtab_off = symtab_off + symtab_size;
    let shstrtab_off = strtab_off + strtab.len();
    let shoff = (shstrtab_off + shstrtab.len()).next_multiple_of(4);
    let shnum = image.sections.len() + 4;
    let mut f = vec![0u8; shoff + shnum * SHDR];
    header(&mut f, image, phnum, shoff, shnum, shnum - 1); // .shstrtab last
    segments(&mut f, image, &loadable, &offsets, PAGE as u32);
    for (k, s) in symbols.iter().enumerate() {
        let at = symtab_off + (k + 1) * SYM;
        put32(&mut f, at, name_offsets[k]);
        put32(&mut f, at + 4, s.value);
        f[at + 12] = if s.global { 0x10 } else { 0 }; // STB_GLOBAL / STB_LOCAL, STT_NOTYPE
        put16(&mut f, at + 14, s.section.map_or(SHN_ABS, |i| (i + 1) as u16));
    }
    f[strtab_off..strtab_off + strtab.len()].copy_from_slice(&strtab);
    f[shstrtab_off..shstrtab_off + shstrtab.len()].copy_from_slice(&shstrtab);

    // Section headers: null, the image's sections, .symtab, .strtab, .shstrtab.
    let n = image.sections.len();
    let header = |f: &mut Vec<u8>, index: usize, fields: [u32; 10]| {
        for (j, v) in fields.into_iter().enumerate() {
            put32(f, shoff + index * SHDR + j * 4, v);
        }
    };
    for (i, s) in image.sections.iter().enumerate() {
        let flags = 2 | if s.writable { 1 } else { 0 } | if s.executable { 4 } else { 0 }; // ALLOC, WRITE, EXECINSTR
        let kind = if s.nobits { 8 } else { 1 }; // SHT_NOBITS / SHT_PROGBITS
        header(&mut f, i + 1, [shname[i], kind, flags, s.address, offsets[i] as u32, s.size(), 0, 0, s.align, 0]);
    }
    let (symtab_size, strtab_len, shstrtab_len) = (symtab_size as u32, strtab.len() as u32, shstrtab.len() as u32);
    let strtab_index = (n + 2) as u32;
    header(
        &mut f,
        n + 1,
        [shname[n], 2, 0, 0, symtab_off as u32, symtab_size, strtab_index, first_global as u32, 4, 16],
    );
    header(&mut f, n + 2, [shname[n + 1], 3, 0, 0, strtab_off as u32, strtab_len, 0, 0, 1, 0]);
    header(&mut f, n + 3, [shname[n + 2], 3, 0, 0, shstrtab_off as u32, shstrtab_len, 0, 0, 1, 0]);
    f
}

/// The ELF header.
fn header(f: &mut [u8], image: &Image, phnum: usize, shoff: usize, shnum: usize, shstrndx: usize) {
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    put16(f, 16, 2); // ET_EXEC
    put16(f, 18, 243); // EM_RISCV
    put32(f, 20, 1);
    put32(f, 24, image.entry);
    put32(f, 28, if phnum > 0 { EHDR as u32 } else { 0 });
    put32(f, 32, shoff as u32);
    put32(f, 36, 0); // e_flags: no RVC, soft float
    put16(f, 40, EHDR as u16);
    put16(f, 42, PHDR as u16);
    put16(f, 44, phnum as u16);
    put16(f, 46, SHDR as u16);
    put16(f, 48, shnum as u16);
    put16(f, 50, shstrndx as u16);
}

/// A PT_LOAD per loadable section, and the sections' bytes.
fn segments(f: &mut [u8], image: &Image, loadable: &[usize], offsets: &[usize], align: u32) {
    for (k, &i) in loadable.iter().enumerate() {
        let s = &image.sections[i];
        let ph = EHDR + k * PHDR;
        let flags = 4 | if s.writable { 2 } else { 0 } | if s.executable { 1 } else { 0 };
        put32(f, ph, 1); // PT_LOAD
        put32(f, ph + 4, offsets[i] as u32);
        put32(f, ph + 8, s.address);
        put32(f, ph + 12, s.address);
        put32(f, ph + 16, if s.nobits { 0 } else { s.size() });
        put32(f, ph + 20, s.size());
        put32(f, ph + 24, flags);
        put32(f, ph + 28, align);
    }
    for (i, s) in image.sections.iter().enumerate() {
        if !s.nobits {
            f[offsets[i]..offsets[i] + s.data.len()].copy_from_slice(&s.data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_reads_it_back() {
        let text: Vec<u8> = [0x13u32, 0x0010_0073].iter().flat_map(|w| w.to_le_bytes()).collect();
        let image = Image {
            entry: 0x8000_0000,
            sections: vec![
                Section::progbits(".text", 0x8000_0000, text.clone(), true, false),
                Section::progbits(".tohost", 0x8000_1000, vec![0; 8], false, true),
                Section {
                    nobits: true,
                    nobits_size: 64,
                    ..Section::progbits(".bss", 0x8000_2000, vec![], false, true)
                },
                Section::progbits(".empty", 0x8000_3000, vec![], false, true),
            ],
            symbols: vec![
                Symbol { name: "tohost".into(), value: 0x8000_1000, section: Some(1), global: true },
                Symbol { name: "local".into(), value: 0x8000_0004, section: Some(0), global: false },
            ],
        };
        let file = write(&image);
        let p = crate::elf::parse(&file).unwrap();
        assert_eq!(p.entry, 0x8000_0000);
        assert_eq!(p.tohost_symbol, Some(0x8000_1000));
        assert_eq!(p.segments.len(), 3, "the empty section has no segment");
        assert!(p.segments[0].executable && !p.segments[1].executable);
        assert_eq!(p.segments[0].data, text);
        assert_eq!((p.segments[2].memsz, p.segments[2].data.len()), (64, 0));
        // Every segment's offset is congruent to its address modulo the page.
        let phoff = 52;
        for k in 0..3 {
            let ph = &file[phoff + k * 32..];
            let (off, vaddr) =
                (u32::from_le_bytes(ph[4..8].try_into().unwrap()), u32::from_le_bytes(ph[8..12].try_into().unwrap()));
            assert_eq!(off % 0x1000, vaddr % 0x1000);
        }
    }
}
