//! The `*.json` vector files of the suites whose vectors are folders of JSON files (`cross`,
//! `eravm`). It depends on nothing of the runner, so tests include it by `#[path]` too.

use std::path::{Path, PathBuf};

/// The `*.json` files under each of `paths` (or the file itself), with their paths relative
/// to it, sorted.
pub fn vector_files(paths: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut files = Vec::new();
    for root in paths {
        if !root.exists() {
            return Err(format!("no such file or directory: {}", root.display()));
        }
        if root.is_file() {
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((name, root.clone()));
            continue;
        }
        let mut found = Vec::new();
        collect(root, root, &mut found)?;
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((rel, path));
        }
    }
    Ok(())
}
