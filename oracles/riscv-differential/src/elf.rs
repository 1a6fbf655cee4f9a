//! A static ELF32 executable (EM_RISCV, ET_EXEC) with a text and a data segment, as
//! qemu-user and `ee_riscv::elf` both load it. No section headers.

const EHDR: usize = 52;
const PHDR: usize = 32;
/// Segment file offsets are page-aligned (qemu-user maps them with mmap).
const PAGE: usize = 0x1000;

/// `text` at `text_addr` (R+X), `data` at `data_addr` (R+W), entry at `text_addr`.
pub fn write(text_addr: u32, text: &[u8], data_addr: u32, data: &[u8]) -> Vec<u8> {
    let text_off = PAGE;
    let data_off = text_off + text.len().div_ceil(PAGE) * PAGE;
    let mut f = vec![0u8; data_off + data.len()];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    let put16 = |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut f, 16, 2); // ET_EXEC
    put16(&mut f, 18, 243); // EM_RISCV
    put32(&mut f, 20, 1);
    put32(&mut f, 24, text_addr);
    put32(&mut f, 28, EHDR as u32); // e_phoff
    put32(&mut f, 32, 0); // e_shoff
    put32(&mut f, 36, 0); // e_flags: no RVC, soft float
    put16(&mut f, 40, EHDR as u16);
    put16(&mut f, 42, PHDR as u16);
    put16(&mut f, 44, 2);
    put16(&mut f, 46, 40);
    let segments = [(text_off, text_addr, text.len(), 5u32), (data_off, data_addr, data.len(), 6u32)];
    for (k, (off, addr, len, flags)) in segments.into_iter().enumerate() {
        let ph = EHDR + k * PHDR;
        put32(&mut f, ph, 1); // PT_LOAD
        put32(&mut f, ph + 4, off as u32);
        put32(&mut f, ph + 8, addr);
        put32(&mut f, ph + 12, addr);
        put32(&mut f, ph + 16, len as u32);
        put32(&mut f, ph + 20, len as u32);
        put32(&mut f, ph + 24, flags);
        put32(&mut f, ph + 28, PAGE as u32);
    }
    f[text_off..text_off + text.len()].copy_from_slice(text);
    f[data_off..].copy_from_slice(data);
    f
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_loader_reads_it() {
        let text: Vec<u8> = [0x13u32, 0x0010_0073].iter().flat_map(|w| w.to_le_bytes()).collect();
        let f = super::write(0x8000_0000, &text, 0x8010_0000, &[7; 16]);
        let p = ee_riscv::elf::parse(&f).unwrap();
        assert_eq!(p.entry, 0x8000_0000);
        assert_eq!(p.segments.len(), 2);
        assert!(p.segments[0].executable && !p.segments[1].executable);
        assert_eq!(p.segments[1].data, vec![7; 16]);
    }
}
