//! Two ELF executables compared the way it matters for running them: the entry point,
//! and each allocated section's name, address, size and bytes (a NOBITS section by size).
//! Differences are reported precisely: the section, the first differing address and both
//! words there, and how many bytes differ in all.

use anyhow::{bail, Context, Result};

/// An allocated (SHF_ALLOC) section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedSection {
    pub name: String,
    pub address: u32,
    pub size: u32,
    /// Empty for NOBITS.
    pub data: Vec<u8>,
}

fn u16_at(f: &[u8], at: usize) -> Result<u16> {
    let b = f.get(at..at + 2).context("truncated ELF")?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(f: &[u8], at: usize) -> Result<u32> {
    let b = f.get(at..at + 4).context("truncated ELF")?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The entry point and allocated sections of an ELF32 file, in address order.
pub fn sections(file: &[u8]) -> Result<(u32, Vec<LoadedSection>)> {
    if !file.starts_with(b"\x7fELF\x01\x01") {
        bail!("not a little-endian ELF32 file");
    }
    let entry = u32_at(file, 24)?;
    let shoff = u32_at(file, 32)? as usize;
    let (shentsize, shnum, shstrndx) =
        (u16_at(file, 46)? as usize, u16_at(file, 48)? as usize, u16_at(file, 50)? as usize);
    if shnum == 0 || shentsize != 40 {
        bail!("no ELF32 section headers");
    }
    let header = |i: usize| -> Result<[u32; 10]> {
        let mut h = [0u32; 10];
        for (j, v) in h.iter_mut().enumerate() {
            *v = u32_at(file, shoff + i * 40 + j * 4)?;
        }
        Ok(h)
    };
    let names = header(shstrndx)?;
    let name_of = |offset: u32| -> Result<String> {
        let start = names[4] as usize + offset as usize;
        let rest = file.get(start..).context("section name outside the file")?;
        let end = rest.iter().position(|&b| b == 0).context("unterminated section name")?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let mut out = Vec::new();
    for i in 1..shnum {
        let h = header(i)?;
        let (kind, flags, address, offset, size) = (h[1], h[2], h[3], h[4] as usize, h[5]);
        if flags & 2 == 0 {
            continue; // not SHF_ALLOC
        }
        let data = if kind == 8 {
            Vec::new()
        } else {
            file.get(offset..offset + size as usize).context("section data outside the file")?.to_vec()
        };
        out.push(LoadedSection { name: name_of(h[0])?, address, size, data });
    }
    out.sort_by_key(|s| s.address);
    Ok((entry, out))
}

/// What differs between `ours` and `theirs` (empty: the same program).
pub fn differences(ours: &[u8], theirs: &[u8]) -> Result<Vec<String>> {
    let (entry_a, a) = sections(ours).context("ours")?;
    let (entry_b, b) = sections(theirs).context("theirs")?;
    let mut diffs = Vec::new();
    if entry_a != entry_b {
        diffs.push(format!("entry point 0x{entry_a:08x} vs 0x{entry_b:08x}"));
    }
    for s in &a {
        if !b.iter().any(|t| t.name == s.name) {
            diffs.push(format!("section {} (0x{:08x}, {} bytes) only in ours", s.name, s.address, s.size));
        }
    }
    for t in &b {
        let Some(s) = a.iter().find(|s| s.name == t.name) else {
            diffs.push(format!("section {} (0x{:08x}, {} bytes) only in theirs", t.name, t.address, t.size));
            continue;
        };
        if s.address != t.address || s.size != t.size {
            diffs.push(format!(
                "section {}: at 0x{:08x} size 0x{:x} vs at 0x{:08x} size 0x{:x}",
                s.name, s.address, s.size, t.address, t.size
            ));
        }
        let differing: Vec<usize> =
            (0..s.data.len().max(t.data.len())).filter(|&i| s.data.get(i) != t.data.get(i)).collect();
        if let Some(&first) = differing.first() {
            let word = |d: &[u8]| {
                let at = first & !3;
                d.get(at..at + 4)
                    .map_or("(none)".to_string(), |w| format!("{:08x}", u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
            };
            diffs.push(format!(
                "section {}: {} byte(s) differ, the first at 0x{:08x}: word {} vs {}",
                s.name,
                differing.len(),
                s.address as usize + first,
                word(&s.data),
                word(&t.data)
            ));
        }
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee_riscv::elf::writer::{Image, Section};

    fn elf(text: &[u8], data_address: u32) -> Vec<u8> {
        ee_riscv::elf::write(&Image {
            entry: 0x8000_0000,
            sections: vec![
                Section::progbits(".text", 0x8000_0000, text.to_vec(), true, false),
                Section::progbits(".data", data_address, vec![1, 2, 3, 4], false, true),
            ],
            symbols: Vec::new(),
        })
    }

    #[test]
    fn finds_each_kind_of_difference() {
        let text = [0x13, 0, 0, 0, 0x73, 0, 0x10, 0];
        let a = elf(&text, 0x8000_1000);
        assert!(differences(&a, &a).unwrap().is_empty());
        let (entry, sections) = sections(&a).unwrap();
        assert_eq!(entry, 0x8000_0000);
        assert_eq!(
            sections.iter().map(|s| (s.name.as_str(), s.address, s.size)).collect::<Vec<_>>(),
            [(".text", 0x8000_0000, 8), (".data", 0x8000_1000, 4)]
        );

        let mut changed = text;
        changed[6] = 0x20; // ebreak
        let d = differences(&elf(&changed, 0x8000_1000), &a).unwrap();
        assert_eq!(d, ["section .text: 1 byte(s) differ, the first at 0x80000006: word 00200073 vs 00100073"]);
        let d = differences(&elf(&text, 0x8000_2000), &a).unwrap();
        assert_eq!(d, ["section .data: at 0x80002000 size 0x4 vs at 0x80001000 size 0x4"]);
        let d = differences(&elf(&text[..4], 0x8000_1000), &a).unwrap();
        assert!(d[0].contains("size 0x4 vs at 0x80000000 size 0x8"), "{d:?}");
        assert!(d[1].contains("the first at 0x80000004: word (none) vs 00100073"), "{d:?}");
        assert!(differences(b"not an elf", &a).is_err());
        assert!(differences(&a[..60], &a).is_err());
    }
}
