//! The download cache: one directory per pinned download, complete or absent.
//!
//! An entry is built in a staging directory beside it (`.tmp-<entry>-<pid>-<n>`), verified,
//! given its `manifest.json` last, synced, and renamed into place. So an entry directory
//! with a manifest is whole and verified; one without (a copy from elsewhere, a crash
//! between steps on a file system that reorders) is removed and fetched again, and a staging
//! directory left by a killed run is removed by the next fetch of that entry.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The name of the file that marks an entry complete; written last.
pub const MANIFEST: &str = "manifest.json";

/// The cache directory: `--cache-dir`, else `$CONFORMANCE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/conformance`, else `~/.cache/conformance` (else `<repo>/target/conformance-cache`
/// when there is no home directory).
pub fn resolve_dir(cli: Option<PathBuf>) -> PathBuf {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    cli.or_else(|| env("CONFORMANCE_CACHE_DIR"))
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("conformance")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/conformance")))
        .unwrap_or_else(|| crate::vectors::repo_root().join("target/conformance-cache"))
}

/// What a complete entry records: where it came from and what was checked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub entry: String,
    pub what: String,
    pub url: String,
    /// Bytes downloaded.
    pub bytes: u64,
    /// sha256 of the download, as computed (and compared with the pin where there is one).
    pub sha256: String,
    /// Vector members counted while verifying.
    pub members: usize,
    /// The commit the archive says it was made from (GitHub's pax comment), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Seconds since the Unix epoch.
    pub fetched_at: u64,
}

/// The complete entry `name` made from `url`, if the cache has one. An entry directory without
/// a readable manifest, or made from another address, is removed so that it is fetched anew.
pub fn lookup(cache: &Path, name: &str, url: &str) -> anyhow::Result<Option<(PathBuf, Manifest)>> {
    let dir = cache.join(name);
    if !dir.exists() {
        return Ok(None);
    }
    let manifest = std::fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .and_then(|text| serde_json::from_str::<Manifest>(&text).ok())
        .filter(|m| m.entry == name && m.url == url);
    match manifest {
        Some(m) => Ok(Some((dir, m))),
        None => {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the incomplete cache entry {}", dir.display()))?;
            Ok(None)
        }
    }
}

/// A directory where an entry is built; removed on drop unless committed.
pub struct Staging {
    pub dir: PathBuf,
    cache: PathBuf,
    name: String,
    committed: bool,
}

impl Staging {
    /// A fresh staging directory for entry `name` in `cache` (created if needed), after removing
    /// staging directories that runs no longer alive left for the same entry.
    pub fn new(cache: &Path, name: &str) -> anyhow::Result<Staging> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        std::fs::create_dir_all(cache).with_context(|| {
            format!("cannot create the cache directory {}; choose another with --cache-dir DIR", cache.display())
        })?;
        remove_abandoned(cache, name);
        let dir = cache.join(format!(".tmp-{name}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging { dir, cache: cache.to_path_buf(), name: name.to_string(), committed: false })
    }

    /// Writes the manifest (last), syncs it, and renames the staging directory into place.
    /// When another run completed the same entry meanwhile, that one is kept.
    pub fn commit(mut self, manifest: &Manifest) -> anyhow::Result<PathBuf> {
        let text = serde_json::to_string_pretty(manifest)?;
        write_synced(&self.dir.join(MANIFEST), text.as_bytes())?;
        sync_dir(&self.dir);
        let target = self.cache.join(&self.name);
        if let Err(e) = std::fs::rename(&self.dir, &target) {
            if lookup(&self.cache, &self.name, &manifest.url)?.is_none() {
                return Err(e).with_context(|| format!("renaming {} to {}", self.dir.display(), target.display()));
            }
        } else {
            self.committed = true;
        }
        sync_dir(&self.cache);
        Ok(target)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes `bytes` to `path` and syncs it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Syncs a directory's entries (renames into it) where the platform allows it.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes `.tmp-<name>-<pid>-*` directories whose run is over (on Linux: no `/proc/<pid>`).
fn remove_abandoned(cache: &Path, name: &str) {
    let prefix = format!(".tmp-{name}-");
    let Ok(entries) = std::fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix).and_then(|rest| rest.split('-').next()) else { continue };
        let alive = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id()
                || !Path::new("/proc/self").exists()
                || Path::new("/proc").join(pid.to_string()).exists()
        });
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(url: &str) -> Manifest {
        Manifest {
            entry: "e-1".into(),
            what: "test".into(),
            url: url.into(),
            bytes: 3,
            sha256: "00".into(),
            members: 1,
            commit: None,
            fetched_at: 0,
        }
    }

    #[test]
    fn an_entry_is_used_only_once_committed_and_from_the_same_address() {
        let cache = tempfile::tempdir().unwrap();
        assert!(lookup(cache.path(), "e-1", "http://a").unwrap().is_none());
        let staging = Staging::new(cache.path(), "e-1").unwrap();
        std::fs::write(staging.dir.join("payload"), b"abc").unwrap();
        assert!(lookup(cache.path(), "e-1", "http://a").unwrap().is_none(), "staging is not the entry");
        let dir = staging.commit(&manifest("http://a")).unwrap();
        assert_eq!(std::fs::read(dir.join("payload")).unwrap(), b"abc");
        let (found, m) = lookup(cache.path(), "e-1", "http://a").unwrap().unwrap();
        assert_eq!((found, m), (dir.clone(), manifest("http://a")));
        // Another address: the entry is not that download; it goes.
        assert!(lookup(cache.path(), "e-1", "http://b").unwrap().is_none());
        assert!(!dir.exists());
    }

    #[test]
    fn half_built_entries_are_removed() {
        let cache = tempfile::tempdir().unwrap();
        // Dropped without commit: nothing stays.
        let staging = Staging::new(cache.path(), "e-1").unwrap();
        std::fs::write(staging.dir.join("payload"), b"abc").unwrap();
        drop(staging);
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
        // An entry without manifest (e.g. copied by hand, or a crash): removed on lookup.
        std::fs::create_dir_all(cache.path().join("e-1")).unwrap();
        assert!(lookup(cache.path(), "e-1", "http://a").unwrap().is_none());
        assert!(!cache.path().join("e-1").exists());
        // A staging directory of a run that is gone (no such pid): removed by the next one.
        let abandoned = cache.path().join(format!(".tmp-e-1-{}-0", u32::MAX));
        std::fs::create_dir_all(&abandoned).unwrap();
        let _staging = Staging::new(cache.path(), "e-1").unwrap();
        assert!(!abandoned.exists() || !Path::new("/proc/self").exists());
    }

    #[test]
    fn the_cache_dir_option_comes_first() {
        assert_eq!(resolve_dir(Some(PathBuf::from("/x/c"))), PathBuf::from("/x/c"));
    }
}
