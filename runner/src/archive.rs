//! Reading vector files out of a gzipped tar as it streams (EEST ships its
//! fixtures as `fixtures_*.tar.gz`), without unpacking it to disk.
//!
//! One reader thread decompresses and hands each wanted member's bytes to the
//! workers through a bounded channel, so memory holds only the members in
//! flight. A member that cannot be read, or an archive that breaks, becomes an
//! error item naming the archive, the member and where it broke; members
//! after a break cannot be reached, and the run goes on with what was read.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};

/// Whether `path` names a gzipped tar (`.tar.gz` or `.tgz`).
pub fn is_archive(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// One item read from an archive.
#[derive(Debug)]
pub struct Item {
    /// The name the vector goes by (its id prefix): see [`member_name`]. For an archive
    /// that broke between members, the archive's file name.
    pub rel: String,
    /// Where it comes from, for messages: `archive.tar.gz:member/path.json`.
    pub shown: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// The id prefix of a member: its path from the `state_tests` directory on
/// (`state_tests/prague/eip7702_set_code_tx/test_set_code_txs.json`), so ids do not depend on
/// how the archive was packed (`./`, `fixtures/`). `None` for members that are not state-test
/// vectors: not `.json`, or not under a `state_tests` directory (`MISSING.txt`, blockchain tests).
pub fn member_name(path: &str) -> Option<String> {
    if !path.ends_with(".json") {
        return None;
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let at = parts.iter().position(|p| *p == "state_tests")?;
    (at + 1 < parts.len()).then(|| parts[at..].join("/"))
}

/// Streams the state-test members of the archive at `path` through `out`, in archive order,
/// skipping those `wanted` rejects (their bytes are decompressed but not kept). Returns the
/// number of members sent; an error item ends the stream when the archive breaks.
pub fn stream(path: &Path, wanted: &dyn Fn(&str) -> bool, out: &SyncSender<Item>) -> usize {
    let archive_name = path.display().to_string();
    let broken = |rel: String, shown: String, error: String| Item { rel, shown, bytes: Err(error) };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let name = file_name(path);
            let _ = out.send(broken(name, archive_name.clone(), format!("cannot open the archive: {e}")));
            return 0;
        }
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            let _ = out.send(broken(file_name(path), archive_name, format!("not a readable tar archive: {e}")));
            return 0;
        }
    };
    let mut sent = 0;
    // The last member read whole, to say where a broken archive stopped.
    let mut last: Option<String> = None;
    for entry in entries {
        let where_ = || match &last {
            Some(m) => format!("after member {m}"),
            None => "before its first member".to_string(),
        };
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let error =
                    format!("archive {archive_name} is corrupt {}: {e}; the members after it were not read", where_());
                let _ = out.send(broken(file_name(path), archive_name.clone(), error));
                return sent;
            }
        };
        let member = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let shown = format!("{archive_name}:{member}");
        let Some(rel) = member_name(&member).filter(|_| entry.header().entry_type().is_file()) else {
            last = Some(member);
            continue;
        };
        if !wanted(&rel) {
            last = Some(member);
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        if let Err(e) = entry.read_to_end(&mut bytes) {
            let error = format!(
                "archive {archive_name} broke inside member {member} (after {} of its {} bytes): {e}; \
                 the members after it were not read",
                bytes.len(),
                entry.size()
            );
            let _ = out.send(broken(rel, shown, error));
            return sent + 1;
        }
        sent += 1;
        if out.send(Item { rel, shown, bytes: Ok(bytes) }).is_err() {
            return sent; // the receiving side is gone
        }
        last = Some(member);
    }
    sent
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Runs `each` on the items of every archive in `paths` in parallel (rayon workers), reading
/// each archive on its own thread, `bound` items ahead at most, and flattens the results.
pub fn for_each_item<T: Send>(
    paths: &[PathBuf],
    bound: usize,
    wanted: &(dyn Fn(&str) -> bool + Sync),
    found: &(dyn Fn() + Sync),
    each: &(dyn Fn(Item) -> Vec<T> + Sync),
) -> Vec<T> {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    let mut out = Vec::new();
    for path in paths {
        let (tx, rx) = sync_channel::<Item>(bound.max(1));
        let items: Vec<T> = std::thread::scope(|scope| {
            scope.spawn(move || {
                let counted = |rel: &str| {
                    let keep = wanted(rel);
                    if keep {
                        found();
                    }
                    keep
                };
                stream(path, &counted, &tx)
            });
            rx.into_iter().par_bridge().flat_map_iter(each).collect()
        });
        out.extend(items);
    }
    out
}

/// The tests' tarball builder: one file, shared with the end-to-end tests (`tests/e2e/common`),
/// which cannot reach this binary crate's items.
#[cfg(test)]
#[path = "../tests/e2e/common/tarball.rs"]
pub(crate) mod test_tarball_builder;
#[cfg(test)]
pub(crate) use test_tarball_builder::tarball as test_tarball;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_and_member_names() {
        assert!(is_archive(Path::new("/x/eest-state-v5.4.0.tar.gz")));
        assert!(is_archive(Path::new("f.TGZ")));
        assert!(!is_archive(Path::new("f.json")) && !is_archive(Path::new("state_tests")));
        assert_eq!(member_name("state_tests/cancun/a/b.json").as_deref(), Some("state_tests/cancun/a/b.json"));
        assert_eq!(member_name("./fixtures/state_tests/x.json").as_deref(), Some("state_tests/x.json"));
        assert_eq!(member_name("MISSING.txt"), None);
        assert_eq!(member_name("fixtures/blockchain_tests/x.json"), None);
        assert_eq!(member_name("state_tests/"), None);
    }

    fn tarball(dir: &Path, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("v.tar.gz");
        std::fs::write(&path, super::test_tarball(members, None)).unwrap();
        path
    }

    fn read_all(path: &Path) -> Vec<Item> {
        let (tx, rx) = sync_channel(100);
        stream(path, &|_| true, &tx);
        drop(tx);
        rx.into_iter().collect()
    }

    #[test]
    fn streams_state_test_members_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = tarball(
            dir.path(),
            &[("state_tests/a/x.json", b"{}"), ("MISSING.txt", b"n/a"), ("state_tests/b/y.json", b"[1]")],
        );
        let items = read_all(&path);
        let names: Vec<&str> = items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(names, ["state_tests/a/x.json", "state_tests/b/y.json"]);
        assert_eq!(items[1].bytes.as_deref().unwrap(), b"[1]");
        assert!(items[0].shown.ends_with("v.tar.gz:state_tests/a/x.json"), "{}", items[0].shown);
    }

    #[test]
    fn a_truncated_archive_is_an_error_item_naming_where_it_broke() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let path = tarball(dir.path(), &[("state_tests/a.json", b"{}"), ("state_tests/big.json", &big)]);
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
        let items = read_all(&path);
        assert_eq!(items[0].rel, "state_tests/a.json");
        assert!(items[0].bytes.is_ok());
        let last = items.last().unwrap();
        let err = last.bytes.as_ref().unwrap_err();
        assert_eq!(last.rel, "state_tests/big.json", "{err}");
        assert!(err.contains("broke inside member state_tests/big.json") && err.contains("v.tar.gz"), "{err}");

        std::fs::write(&path, b"not gzip at all").unwrap();
        let items = read_all(&path);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].rel, "v.tar.gz");
        assert!(items[0].bytes.as_ref().unwrap_err().contains("before its first member"), "{:?}", items[0].bytes);
    }
}
