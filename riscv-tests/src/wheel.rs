//! The test bodies out of the `pythondata-cpu-picorv32` wheel (a zip file), as
//! `build.sh` extracts them: the `*.S` files directly in `pythondata_cpu_picorv32/verilog/tests/`
//! (not the wheel's own `riscv_test.h`/`test_macros.h`, which must not shadow our env).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};

/// Where the bodies are inside the wheel.
pub const BODIES_PREFIX: &str = "pythondata_cpu_picorv32/verilog/tests/";

/// The wheel `build.sh` downloads (`pip download --no-deps`); kept in step with it.
pub const WHEEL_SPEC: &str = "pythondata-cpu-picorv32==1.0.post218";

/// Each member of `zip` whose name `want` accepts, with its bytes (the `zip` crate reads it;
/// each member's CRC-32 is checked as it is read).
pub fn members(zip: &[u8], want: impl Fn(&str) -> bool) -> Result<Vec<(String, Vec<u8>)>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).context("not a readable zip file")?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).with_context(|| format!("member {i}"))?;
        let Some(name) = member.name().ok().map(|n| n.into_owned()) else { continue };
        if !want(&name) {
            continue;
        }
        let mut data = Vec::new();
        member.read_to_end(&mut data).with_context(|| format!("{name}: corrupt member"))?;
        out.push((name, data));
    }
    Ok(out)
}

/// Writes the wheel's test bodies into `dest` (created; files of the same name replaced)
/// and returns their paths, sorted.
pub fn extract_bodies(wheel: &Path, dest: &Path) -> Result<Vec<PathBuf>> {
    let zip = std::fs::read(wheel).with_context(|| format!("cannot read {}", wheel.display()))?;
    let bodies = members(&zip, |name| {
        name.strip_prefix(BODIES_PREFIX).is_some_and(|rest| rest.ends_with(".S") && !rest.contains('/'))
    })
    .with_context(|| format!("{}", wheel.display()))?;
    ensure!(!bodies.is_empty(), "{}: no test bodies under {BODIES_PREFIX}", wheel.display());
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut paths = Vec::new();
    for (name, data) in bodies {
        let path = dest.join(&name[BODIES_PREFIX.len()..]);
        std::fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
    }
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip with the given (name, data, deflate?) members.
    fn zip(files: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for &(name, data, deflate) in files {
            let packed = if deflate {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            } else {
                data.to_vec()
            };
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let method: u16 = if deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend(method.to_le_bytes());
                v.extend([0; 4]); // time, date
                v.extend(crc.sum().to_le_bytes());
                v.extend((packed.len() as u32).to_le_bytes());
                v.extend((data.len() as u32).to_le_bytes());
                v.extend((name.len() as u16).to_le_bytes());
                v.extend([0; 2]); // extra
            };
            out.extend([0x50, 0x4b, 3, 4, 20, 0, 0, 0]);
            common(&mut out);
            out.extend(name.as_bytes());
            out.extend(&packed);
            central.extend([0x50, 0x4b, 1, 2, 20, 0, 20, 0, 0, 0]);
            common(&mut central);
            central.extend([0; 6]); // comment length, disk, internal attributes
            central.extend([0; 4]); // external attributes
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
        out.extend(central);
        out.extend([0x50, 0x4b, 5, 6, 0, 0, 0, 0]);
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((files.len() as u16).to_le_bytes());
        out.extend(cd_size.to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend([0; 2]);
        out
    }

    #[test]
    fn extracts_only_the_bodies() {
        let wheel = zip(&[
            ("pythondata_cpu_picorv32/verilog/tests/add.S", b"add body", true),
            ("pythondata_cpu_picorv32/verilog/tests/riscv_test.h", b"theirs", true),
            ("pythondata_cpu_picorv32/verilog/tests/sub/x.S", b"nested", false),
            ("pythondata_cpu_picorv32/verilog/tests/lw.S", b"lw body", false),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.whl");
        std::fs::write(&path, &wheel).unwrap();
        let out = dir.path().join("bodies");
        let paths = extract_bodies(&path, &out).unwrap();
        assert_eq!(paths, [out.join("add.S"), out.join("lw.S")]);
        assert_eq!(std::fs::read(out.join("add.S")).unwrap(), b"add body");
        assert_eq!(std::fs::read(out.join("lw.S")).unwrap(), b"lw body");
    }

    #[test]
    fn damage_is_an_error() {
        let wheel = zip(&[("a.S", b"some data here", true)]);
        assert_eq!(members(&wheel, |_| true).unwrap()[0].1, b"some data here");
        let mut bad = wheel.clone();
        bad[40] ^= 0xff; // inside the deflated data
        assert!(members(&bad, |_| true).is_err());
        assert!(members(&wheel[..wheel.len() - 30], |_| true).is_err());
        assert!(members(b"PK", |_| true).is_err());
        for cut in 0..wheel.len() {
            let _ = members(&wheel[..cut], |_| true); // no panics
        }
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e.whl");
        std::fs::write(&empty, zip(&[("other.txt", b"x", false)])).unwrap();
        assert!(extract_bodies(&empty, &dir.path().join("o")).unwrap_err().to_string().contains("no test bodies"));
    }
}
