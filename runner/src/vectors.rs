//! Locating test vectors on disk and naming them stably.
//!
//! Case ids start with the vector file's path relative to its suite root
//! (e.g. `stExample/add11.json`), so that ids, and thus the baseline, do not
//! depend on where the vectors are checked out or which sub-directory was
//! passed on the command line. EEST fixtures keep their `state_tests/`
//! directory in the name (`state_tests/cancun/.../test_x.json`), whether they
//! are read from a directory or from a tarball (`archive.rs`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The repository root: the runner crate's parent when it still exists at run
/// time (the usual `cargo run` case), else the current directory.
pub fn repo_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf);
    match compiled {
        Some(p) if p.join("Cargo.toml").is_file() => p,
        _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

fn non_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map(|mut d| d.next().is_some()).unwrap_or(false)
}

/// Where a suite's vectors live when no path is given: the `ethereum-tests` submodule if it is
/// checked out, else `$ETHEREUM_TESTS_DIR/<subdir>` when that is set (a set but empty one is an
/// error, not a reason to download), else the cache, fetched into on first use (`fetch`).
pub fn default_root(subdir: &str, fetch: &crate::fetch::Options) -> anyhow::Result<PathBuf> {
    let submodule = repo_root().join("ethereum-tests").join(subdir);
    if non_empty_dir(&submodule) {
        return Ok(submodule);
    }
    if let Some(dir) = std::env::var_os("ETHEREUM_TESTS_DIR").filter(|d| !d.is_empty()) {
        let p = PathBuf::from(dir).join(subdir);
        if non_empty_dir(&p) {
            return Ok(p);
        }
        bail!(
            "no vectors: {} is missing or empty, and so is {} (ETHEREUM_TESTS_DIR); \
             run `git submodule update --init ethereum-tests` or pass a directory of vectors",
            submodule.display(),
            p.display()
        );
    }
    let not_found = format!(
        "no vectors: {} is missing or empty and ETHEREUM_TESTS_DIR is not set; \
         run `git submodule update --init ethereum-tests`, set ETHEREUM_TESTS_DIR to a checkout of ethereum/tests, \
         or pass a directory of vectors",
        submodule.display()
    );
    let dir = crate::fetch::state_tests(fetch, subdir, &not_found)?;
    if !non_empty_dir(&dir) {
        bail!("{not_found}; the fetched copy at {} is empty", dir.display());
    }
    Ok(dir)
}

/// The environment variable naming the EEST fixtures: a directory or a `.tar.gz` holding `state_tests/`.
pub const EEST_ENV: &str = "EEST_FIXTURES";

/// The directory EEST fixtures keep their state tests in.
pub const EEST_DIR: &str = "state_tests";

/// Where the EEST fixtures are when no path is given: `$EEST_FIXTURES`, a tarball or a directory;
/// when it is not set, the release tarball in the cache, fetched into on first use (`fetch`).
pub fn default_eest(fetch: &crate::fetch::Options) -> anyhow::Result<PathBuf> {
    let how = "set EEST_FIXTURES to an EEST release's state-test fixtures: the tarball \
               (e.g. ../shared/eest/eest-state-v5.4.0.tar.gz) or a directory holding state_tests/";
    let Some(p) = std::env::var_os(EEST_ENV).filter(|d| !d.is_empty()).map(PathBuf::from) else {
        return crate::fetch::eest_fixtures(fetch, &format!("no EEST fixtures: EEST_FIXTURES is not set; {how}"));
    };
    let usable = if crate::archive::is_archive(&p) { p.is_file() } else { non_empty_dir(&p) };
    if !usable {
        bail!("no EEST fixtures: {} (EEST_FIXTURES) is missing or empty; {how}", p.display());
    }
    Ok(p)
}

/// Whether a command-line path holds EEST fixtures rather than ethereum/tests vectors: a
/// tarball, a directory holding or named `state_tests`, or anything under a `state_tests`
/// directory. Such paths form the `eest` suite.
pub fn is_eest(path: &Path) -> bool {
    crate::archive::is_archive(path)
        || path.join(EEST_DIR).is_dir()
        || path.components().any(|c| c.as_os_str() == EEST_DIR)
}

/// One vector file and the name it goes by in case ids.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VectorFile {
    /// Relative to the suite root, with `/` separators.
    pub rel: String,
    pub path: PathBuf,
    /// Why the walk could not reach this entry (a dangling symbolic link, an unreadable
    /// directory, a link loop): reported as this file's error, while the run goes on.
    pub unreachable: Option<String>,
}

/// The id-relevant name of `file` found under the command-line path `arg`:
/// relative to the nearest ancestor directory named `root_name` (e.g.
/// `GeneralStateTests`) if there is one, else relative to `arg` when it is a
/// directory, else the file name.
pub fn relative_name(file: &Path, arg: &Path, root_name: &str) -> String {
    let comps: Vec<_> = file.components().collect();
    if let Some(i) = comps.iter().rposition(|c| c.as_os_str() == EEST_DIR).filter(|&i| i + 1 < comps.len()) {
        return comps[i..].iter().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
    }
    let base = comps
        .iter()
        .rposition(|c| c.as_os_str() == root_name)
        .filter(|&i| i + 1 < comps.len())
        .map(|i| comps[i + 1..].iter().collect::<PathBuf>());
    let rel = base.unwrap_or_else(|| match file.strip_prefix(arg) {
        Ok(r) if !r.as_os_str().is_empty() => r.to_path_buf(),
        _ => PathBuf::from(file.file_name().unwrap_or(file.as_os_str())),
    });
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// All `.json` files under the given paths (files are taken as given),
/// sorted and de-duplicated. A directory holding `state_tests/` (EEST
/// fixtures) contributes only that directory. A path given on the command line that does not
/// exist is an error; an entry the walk cannot reach is kept with its reason (one file error).
pub fn collect(paths: &[PathBuf], root_name: &str) -> anyhow::Result<Vec<VectorFile>> {
    let mut out = Vec::new();
    for arg in paths {
        let meta = std::fs::metadata(arg).with_context(|| format!("vector path {}", arg.display()))?;
        if meta.is_file() {
            out.push(VectorFile { rel: relative_name(arg, arg, root_name), path: arg.clone(), unreachable: None });
            continue;
        }
        let eest = arg.join(EEST_DIR);
        let arg = if eest.is_dir() { &eest } else { arg };
        for entry in walkdir::WalkDir::new(arg).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let Some(p) = e.path().map(Path::to_path_buf) else {
                        return Err(e).with_context(|| format!("walking {}", arg.display()));
                    };
                    let why = unreachable_reason(&p, &e);
                    out.push(VectorFile { rel: relative_name(&p, arg, root_name), path: p, unreachable: Some(why) });
                    continue;
                }
            };
            let p = entry.path();
            if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "json") {
                out.push(VectorFile {
                    rel: relative_name(p, arg, root_name),
                    path: p.to_path_buf(),
                    unreachable: None,
                });
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

/// Why a walk could not reach `path`, said so that the user knows what to fix.
fn unreachable_reason(path: &Path, e: &walkdir::Error) -> String {
    if e.loop_ancestor().is_some() {
        return format!("symbolic link loop at {}", path.display());
    }
    match std::fs::read_link(path) {
        Ok(target) if std::fs::metadata(path).is_err() => {
            format!("dangling symbolic link {} -> {}", path.display(), target.display())
        }
        _ => format!("cannot read {}: {}", path.display(), e.io_error().map_or(e.to_string(), |io| io.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_are_stable() {
        let g = "GeneralStateTests";
        let root = Path::new("/x/ethereum-tests/GeneralStateTests");
        let f = root.join("stExample/add11.json");
        assert_eq!(relative_name(&f, root, g), "stExample/add11.json");
        assert_eq!(relative_name(&f, &root.join("stExample"), g), "stExample/add11.json");
        assert_eq!(relative_name(&f, &f, g), "stExample/add11.json");
        let other = Path::new("/tmp/vec");
        assert_eq!(relative_name(&other.join("a/b.json"), other, g), "a/b.json");
        assert_eq!(relative_name(&other.join("b.json"), &other.join("b.json"), g), "b.json");
        let eest = Path::new("/f/fixtures/state_tests/cancun/x/test_a.json");
        assert_eq!(relative_name(eest, Path::new("/f/fixtures"), g), "state_tests/cancun/x/test_a.json");
        assert_eq!(relative_name(eest, eest, g), "state_tests/cancun/x/test_a.json");
    }

    #[test]
    fn eest_directories_keep_their_state_tests_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("state_tests/cancun")).unwrap();
        std::fs::create_dir_all(dir.path().join("blockchain_tests")).unwrap();
        std::fs::write(dir.path().join("state_tests/cancun/a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("blockchain_tests/b.json"), "{}").unwrap();
        for arg in [dir.path().to_path_buf(), dir.path().join("state_tests")] {
            assert!(is_eest(&arg));
            let files = collect(&[arg], "GeneralStateTests").unwrap();
            let names: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
            assert_eq!(names, ["state_tests/cancun/a.json"], "only state_tests/, named from it");
        }
        assert!(is_eest(Path::new("x/eest.tar.gz")));
        assert!(!is_eest(dir.path().join("blockchain_tests").as_path()));
    }

    #[test]
    fn collects_json_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/z.json"), "{}").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("b/.stub"), "").unwrap();
        let files = collect(&[dir.path().to_path_buf()], "GeneralStateTests").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, ["a.json", "b/z.json"]);
        assert!(collect(&[dir.path().join("missing")], "GeneralStateTests").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_one_unreachable_file_among_the_others() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.json"), dir.path().join("b.json")).unwrap();
        let files = collect(&[dir.path().to_path_buf()], "GeneralStateTests").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, ["a.json", "b.json"]);
        assert_eq!(files[0].unreachable, None);
        let why = files[1].unreachable.as_deref().expect("the dangling link is reported");
        assert!(why.contains("dangling symbolic link") && why.contains("gone.json"), "{why}");
    }
}
