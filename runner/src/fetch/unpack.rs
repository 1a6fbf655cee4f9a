//! Verifying downloads by reading them through, and taking out what the suites read.
//!
//! A gzipped tar is read to its very end, the gzip trailer included (flate2 checks its CRC-32
//! and length there), so a truncated or corrupt archive fails here and never reaches the cache.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

/// What reading an archive through found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// Vector members counted (and, for [`extract_subdir`], written).
    pub members: usize,
    /// The commit GitHub's archive says it was made from (its pax global header's comment).
    pub commit: Option<String>,
}

/// Reads the whole gzipped tar at `archive`, calling `each` on every regular member with its
/// path. Any read error names the archive and the last member read.
fn read_through(
    archive: &Path,
    mut each: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
) -> anyhow::Result<Option<String>> {
    let file = std::fs::File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut commit = None;
    let mut last = String::from("(none: it broke before its first member)");
    let broken = |last: &str, e: &dyn std::fmt::Display| {
        anyhow::anyhow!("{} is not a whole gzipped tar (last good member: {last}): {e}", archive.display())
    };
    for entry in tar.entries().map_err(|e| broken(&last, &e))? {
        let mut entry = entry.map_err(|e| broken(&last, &e))?;
        let kind = entry.header().entry_type();
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind == tar::EntryType::XGlobalHeader {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(|e| broken(&last, &e))?;
            commit = text.lines().find_map(|l| l.split_once("comment=")).map(|(_, c)| c.trim().to_string());
        } else if kind.is_file() {
            each(&path, &mut entry).map_err(|e| broken(&last, &e))?;
        }
        last = path;
    }
    // The tar ends at its zero blocks; the gzip trailer (CRC-32, length) comes after.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(|e| broken(&last, &e))?;
    Ok(commit)
}

/// The part of a member path under its first component (GitHub archives put everything under
/// `<repo>-<tag>/`) when it starts with `subdir/`, as safe relative components.
fn under_subdir(member: &str, subdir: &str) -> Option<PathBuf> {
    let rel = Path::new(member).components().skip(1).collect::<PathBuf>();
    let inner = rel.strip_prefix(subdir).ok()?;
    let safe = inner.components().all(|c| matches!(c, Component::Normal(_)));
    (safe && inner.components().next().is_some()).then(|| Path::new(subdir).join(inner))
}

/// Extracts the members of `archive` under `<top>/<subdir>/` into `dest/<subdir>/`, and checks
/// that at least `min_json` of them are `.json` files. The members under each of `also` are
/// extracted too when the archive has them, uncounted (ethereum/tests' fillers, which explain
/// failures, are not what the suite runs).
pub fn extract_subdir(
    archive: &Path,
    subdir: &str,
    also: &[&str],
    dest: &Path,
    min_json: usize,
) -> anyhow::Result<Contents> {
    let mut members = 0;
    let commit = read_through(archive, |member, data| {
        let (rel, counted) = match under_subdir(member, subdir) {
            Some(rel) => (rel, true),
            None => match also.iter().find_map(|a| under_subdir(member, a)) {
                Some(rel) => (rel, false),
                None => return Ok(()),
            },
        };
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut file = std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
        std::io::copy(data, &mut file).with_context(|| format!("extracting {member}"))?;
        members += usize::from(counted && member.ends_with(".json"));
        Ok(())
    })?;
    if members < min_json {
        bail!(
            "{} holds {members} .json files under {subdir}/, fewer than the {min_json} expected; it is not the pinned archive",
            archive.display()
        );
    }
    Ok(Contents { members, commit })
}

/// Reads `archive` through, counting its state-test members (as the `eest` suite will read
/// them), and checks that there are at least `min` of them.
pub fn check_state_tests(archive: &Path, min: usize) -> anyhow::Result<Contents> {
    let mut members = 0;
    let commit = read_through(archive, |member, data| {
        std::io::copy(data, &mut std::io::sink())?;
        members += usize::from(crate::archive::member_name(member).is_some());
        Ok(())
    })?;
    if members < min {
        bail!(
            "{} holds {members} state_tests/ .json members, fewer than the {min} expected; it is not the pinned archive",
            archive.display()
        );
    }
    Ok(Contents { members, commit })
}

/// Extracts the wheel's top-level `.S` test bodies into `dest`, as riscv-tests/build.sh does
/// (riscv-tests-build reads the wheel; the runner builds the ELFs with it too); at least `min`.
pub fn extract_bodies(wheel: &Path, dest: &Path, min: usize) -> anyhow::Result<usize> {
    let count = riscv_tests_build::wheel::extract_bodies(wheel, dest)?.len();
    if count < min {
        bail!(
            "{} holds {count} test bodies ({}*.S), fewer than the {min} expected; it is not the pinned wheel",
            wheel.display(),
            riscv_tests_build::wheel::BODIES_PREFIX
        );
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(path: &Path, members: &[(&str, &[u8])]) {
        let commit = Some("faf33b471465d3c6cdc3d04fbd690895f78d33f2");
        std::fs::write(path, crate::archive::test_tarball(members, commit)).unwrap();
    }

    #[test]
    fn only_the_subdirectory_is_extracted_and_the_commit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("t.tar.gz");
        tarball(
            &tgz,
            &[
                ("tests-13.3/README.md", b"r"),
                ("tests-13.3/GeneralStateTests/stA/a.json", b"{}"),
                ("tests-13.3/GeneralStateTests/stA/b.json", b"{}"),
                ("tests-13.3/BlockchainTests/x.json", b"{}"),
                ("tests-13.3/src/GeneralStateTestsFiller/stA/aFiller.json", b"{}"),
                ("tests-13.3/src/BlockchainTestsFiller/x.json", b"{}"),
            ],
        );
        let out = dir.path().join("out");
        let c = extract_subdir(&tgz, "GeneralStateTests", &["src/GeneralStateTestsFiller"], &out, 2).unwrap();
        assert_eq!(c.members, 2);
        assert_eq!(c.commit.as_deref(), Some("faf33b471465d3c6cdc3d04fbd690895f78d33f2"));
        assert!(out.join("GeneralStateTests/stA/a.json").is_file());
        assert!(out.join("src/GeneralStateTestsFiller/stA/aFiller.json").is_file(), "fillers kept, not counted");
        assert!(!out.join("BlockchainTests").exists() && !out.join("README.md").exists());
        assert!(!out.join("src/BlockchainTestsFiller").exists());
        let err = extract_subdir(&tgz, "GeneralStateTests", &[], &dir.path().join("o2"), 3).unwrap_err().to_string();
        assert!(err.contains("holds 2 .json files") && err.contains("fewer than the 3"), "{err}");
    }

    #[test]
    fn unsafe_member_paths_are_not_extracted() {
        assert_eq!(under_subdir("t/G/a/b.json", "G"), Some(PathBuf::from("G/a/b.json")));
        assert_eq!(under_subdir("t/G/../x.json", "G"), None);
        assert_eq!(under_subdir("t/G", "G"), None);
        assert_eq!(under_subdir("t/H/a.json", "G"), None);
        assert_eq!(under_subdir("t/s/F/a.json", "s/F"), Some(PathBuf::from("s/F/a.json")));
    }

    #[test]
    fn truncated_and_corrupt_archives_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("f.tar.gz");
        let big: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        tarball(&tgz, &[("fixtures/state_tests/a.json", b"{}"), ("fixtures/state_tests/b.json", &big)]);
        assert_eq!(check_state_tests(&tgz, 2).unwrap().members, 2);
        let whole = std::fs::read(&tgz).unwrap();
        // Cut inside the gzip trailer: every tar byte is there, the CRC-32/length are not.
        std::fs::write(&tgz, &whole[..whole.len() - 4]).unwrap();
        let err = check_state_tests(&tgz, 1).unwrap_err().to_string();
        assert!(err.contains("is not a whole gzipped tar"), "{err}");
        // A flipped byte in the compressed stream.
        let mut flipped = whole.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        std::fs::write(&tgz, &flipped).unwrap();
        assert!(check_state_tests(&tgz, 1).is_err());
        std::fs::write(&tgz, b"<html>not found</html>").unwrap();
        assert!(check_state_tests(&tgz, 1).unwrap_err().to_string().contains("not a whole gzipped tar"));
    }

    #[test]
    fn wheel_bodies_are_the_top_level_dot_s_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let whl = dir.path().join("w.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&whl).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in [
            ("pythondata_cpu_picorv32/verilog/tests/add.S", "add"),
            ("pythondata_cpu_picorv32/verilog/tests/riscv_test.h", "h"),
            ("pythondata_cpu_picorv32/verilog/tests/sub/x.S", "x"),
            ("pythondata_cpu_picorv32/__init__.py", ""),
        ] {
            zip.start_file(name, opts).unwrap();
            zip.write_all(data.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let out = dir.path().join("bodies");
        assert_eq!(extract_bodies(&whl, &out, 1).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(out.join("add.S")).unwrap(), "add");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
        assert!(extract_bodies(&whl, &dir.path().join("b2"), 2).unwrap_err().to_string().contains("fewer than the 2"));
    }
}
