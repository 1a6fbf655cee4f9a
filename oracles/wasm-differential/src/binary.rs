//! Just enough of the binary format to shrink a module: its sections, the entries of the
//! export and code sections, and re-encoding them with some entries dropped or replaced.

use std::ops::Range;

const EXPORT: u8 = 7;
const CODE: u8 = 10;
const START: u8 = 8;

fn leb(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result = 0u64;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return u32::try_from(result).ok();
        }
    }
    None
}

fn put_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The sections: id and the range of the content.
pub fn sections(bytes: &[u8]) -> Option<Vec<(u8, Range<usize>)>> {
    if bytes.len() < 8 {
        return None;
    }
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let len = leb(bytes, &mut pos)? as usize;
        let end = pos.checked_add(len).filter(|&e| e <= bytes.len())?;
        out.push((id, pos..end));
        pos = end;
    }
    Some(out)
}

/// The entries of a vector section: ranges of each entry (parsed with `entry`).
fn entries(content: &[u8], entry: impl Fn(&[u8], &mut usize) -> Option<()>) -> Option<Vec<Range<usize>>> {
    let mut pos = 0;
    let n = leb(content, &mut pos)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let start = pos;
        entry(content, &mut pos)?;
        out.push(start..pos);
    }
    Some(out)
}

fn export_entry(c: &[u8], pos: &mut usize) -> Option<()> {
    let len = leb(c, pos)? as usize;
    *pos += len + 1; // name, kind
    leb(c, pos)?;
    (*pos <= c.len()).then_some(())
}

fn code_entry(c: &[u8], pos: &mut usize) -> Option<()> {
    let len = leb(c, pos)? as usize;
    *pos += len;
    (*pos <= c.len()).then_some(())
}

/// Rebuilds the module with section `id`'s entries mapped by `f` (None drops the entry).
fn rewrite(
    bytes: &[u8],
    id: u8,
    entry: impl Fn(&[u8], &mut usize) -> Option<()>,
    f: impl Fn(usize, &[u8]) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let mut out = bytes[..8].to_vec();
    for (sid, range) in sections(bytes)? {
        let content = &bytes[range.clone()];
        let new = if sid == id {
            let es = entries(content, &entry)?;
            let kept: Vec<Vec<u8>> = es.iter().enumerate().filter_map(|(i, r)| f(i, &content[r.clone()])).collect();
            let mut c = Vec::new();
            put_leb(&mut c, kept.len() as u32);
            kept.iter().for_each(|k| c.extend(k));
            c
        } else {
            content.to_vec()
        };
        out.push(sid);
        put_leb(&mut out, new.len() as u32);
        out.extend(new);
    }
    Some(out)
}

/// The export names in order, with their kinds (0 func, 1 table, 2 memory, 3 global).
pub fn exports(bytes: &[u8]) -> Vec<(String, u8)> {
    let Some(secs) = sections(bytes) else { return Vec::new() };
    let Some((_, range)) = secs.into_iter().find(|(id, _)| *id == EXPORT) else { return Vec::new() };
    let c = &bytes[range];
    let Some(es) = entries(c, export_entry) else { return Vec::new() };
    es.into_iter()
        .filter_map(|r| {
            let e = &c[r];
            let mut pos = 0;
            let len = leb(e, &mut pos)? as usize;
            let name = String::from_utf8_lossy(e.get(pos..pos + len)?).into_owned();
            Some((name, *e.get(pos + len)?))
        })
        .collect()
}

/// The module with only the exports `keep` says yes to.
pub fn keep_exports(bytes: &[u8], keep: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
    rewrite(bytes, EXPORT, export_entry, |_, e| {
        let mut pos = 0;
        let len = leb(e, &mut pos)? as usize;
        let name = String::from_utf8_lossy(e.get(pos..pos + len)?);
        keep(&name).then(|| e.to_vec())
    })
}

/// How many function bodies the module has.
pub fn bodies(bytes: &[u8]) -> usize {
    let Some(secs) = sections(bytes) else { return 0 };
    secs.into_iter()
        .find(|(id, _)| *id == CODE)
        .and_then(|(_, r)| entries(&bytes[r], code_entry))
        .map_or(0, |e| e.len())
}

/// The module with body `index` replaced by `unreachable` (valid for any signature).
pub fn stub_body(bytes: &[u8], index: usize) -> Option<Vec<u8>> {
    rewrite(bytes, CODE, code_entry, |i, e| Some(if i == index { vec![0x03, 0x00, 0x00, 0x0b] } else { e.to_vec() }))
}

/// The module without its start section.
pub fn drop_start(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes[..8].to_vec();
    let secs = sections(bytes)?;
    if !secs.iter().any(|(id, _)| *id == START) {
        return None;
    }
    for (sid, range) in secs {
        if sid != START {
            out.push(sid);
            put_leb(&mut out, range.len() as u32);
            out.extend(&bytes[range]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_module_round_trips() {
        let m = crate::engines::table_probe(true);
        assert_eq!(sections(&m).unwrap().len(), 5);
        assert_eq!(exports(&m), vec![("s".to_string(), 0)]);
        assert_eq!(bodies(&m), 1);
        assert_eq!(keep_exports(&m, |_| true).unwrap(), m);
        let without = keep_exports(&m, |_| false).unwrap();
        assert!(exports(&without).is_empty());
        assert!(ee_wasm::Module::new(&without).is_ok());
        let stubbed = stub_body(&m, 0).unwrap();
        assert_ne!(stubbed, m);
        assert!(ee_wasm::Module::new(&stubbed).is_ok());
    }
}
