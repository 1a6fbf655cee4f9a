//! In a git checkout, ethereum/tests comes as the repository's own `ethereum-tests` submodule:
//! git fetches exactly the commit the repository pins and verifies it by its hash.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::bail;

/// The submodule's path in the repository.
const SUBMODULE: &str = "ethereum-tests";

/// The repository root when the runner runs from a git checkout that declares the submodule
/// and `git` is installed.
pub fn checkout() -> Option<PathBuf> {
    let root = crate::vectors::repo_root();
    let declared = std::fs::read_to_string(root.join(".gitmodules")).is_ok_and(|t| t.contains(SUBMODULE));
    let git = || Command::new("git").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    (root.join(".git").exists() && declared && git()).then_some(root)
}

/// `git submodule update --init --depth 1 ethereum-tests` in `root`; returns the submodule's
/// directory. On a terminal git shows its own progress; otherwise its messages are kept for
/// the error.
pub fn update_submodule(root: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let url = std::fs::read_to_string(root.join(".gitmodules"))
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.trim().strip_prefix("url = ").map(str::to_string)))
        .unwrap_or_else(|| "the URL in .gitmodules".to_string());
    let args = ["submodule", "update", "--init", "--depth", "1", SUBMODULE];
    eprintln!(
        "fetching {what} from {url} with `git {}` in {} (the commit the repository pins; size not known up front)",
        args.join(" "),
        root.display()
    );
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).args(args).stdin(Stdio::null());
    let output = if std::io::stderr().is_terminal() {
        cmd.status().map(|status| (status, String::new()))
    } else {
        cmd.output().map(|o| (o.status, String::from_utf8_lossy(&o.stderr).into_owned()))
    };
    let (status, messages) = output.map_err(|e| anyhow::anyhow!("cannot run git: {e}"))?;
    if !status.success() {
        let tail: Vec<&str> = messages.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        bail!(
            "`git {}` failed ({status}){}; set CONFORMANCE_NO_GIT=1 to fetch the tagged archive instead",
            args.join(" "),
            if tail.is_empty() { String::new() } else { format!(": {}", tail.join(" | ")) }
        );
    }
    Ok(root.join(SUBMODULE))
}
