//! The committed minimum case count of each suite (`reports/minimums.json`),
//! checked by `--require-all` (on in CI), so a vector set that silently
//! shrinks (a missing directory, a truncated archive, a loader that skips
//! files) fails the gate instead of passing on fewer cases:
//!
//! ```json
//! {"suites": [{"suite": "state", "min_cases": 101161, "reason": "ethereum/tests v13.3 ..."}]}
//! ```
//!
//! Only whole default vector sets are checked (no PATHS, `--filter`, `--fork`
//! or `--case`). A suite without an entry is an error too, so a new suite
//! comes with its minimum.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Minimums {
    /// What the file is for (free text, for readers of the file).
    #[serde(default, rename = "about")]
    _about: String,
    suites: Vec<Minimum>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Minimum {
    suite: String,
    min_cases: usize,
    /// Where the number comes from (vector set and version), and why it changed when it did.
    reason: String,
}

impl Minimums {
    pub fn load(path: &Path) -> anyhow::Result<Minimums> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the committed minimum case counts {} (--minimums)", path.display()))?;
        let m: Minimums = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not of the form {{\"suites\":[{{\"suite\":..,\"min_cases\":N,\"reason\":..}}]}}",
                path.display()
            )
        })?;
        if let Some(e) = m.suites.iter().find(|e| e.reason.trim().is_empty()) {
            anyhow::bail!("{}: the minimum of suite {} gives no reason", path.display(), e.suite);
        }
        Ok(m)
    }

    /// Whether `suite`, run on its default vectors, ran enough cases.
    pub fn check(&self, suite: &str, cases: usize, path: &Path) -> Result<(), String> {
        let Some(min) = self.suites.iter().find(|e| e.suite == suite) else {
            return Err(format!("suite {suite} has no committed minimum case count in {}; add one", path.display()));
        };
        if cases < min.min_cases {
            return Err(format!(
                "suite {suite} ran {cases} cases, fewer than the {} committed in {} ({}): its vector set shrank; \
                 check where its vectors come from, or lower the minimum there with a reason",
                min.min_cases,
                path.display(),
                min.reason
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_counts_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("minimums.json");
        std::fs::write(&path, r#"{"about":"x","suites":[{"suite":"state","min_cases":10,"reason":"v13.3"}]}"#).unwrap();
        let m = Minimums::load(&path).unwrap();
        assert_eq!(m.check("state", 10, &path), Ok(()));
        let low = m.check("state", 9, &path).unwrap_err();
        assert!(low.contains("ran 9 cases, fewer than the 10") && low.contains("minimums.json"), "{low}");
        assert!(m.check("eest", 100, &path).unwrap_err().contains("no committed minimum"));
        std::fs::write(&path, r#"{"suites":[{"suite":"state","min_cases":1,"reason":" "}]}"#).unwrap();
        assert!(Minimums::load(&path).unwrap_err().to_string().contains("no reason"));
        assert!(Minimums::load(&dir.path().join("none.json")).is_err());
    }
}
