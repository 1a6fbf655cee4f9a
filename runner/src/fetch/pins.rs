//! The pinned downloads: one version of each vector set, its address, and what a good copy
//! must look like. Changing a version here makes a new cache entry (the name carries it).
//!
//! Each pin can be pointed elsewhere for tests or mirrors: `CONFORMANCE_<KEY>_URL` and
//! `CONFORMANCE_<KEY>_SHA256`. An overridden address is another artifact than the pinned
//! one, so its member minimum drops to one (a small test tarball must still hold one vector).

/// One pinned download.
pub struct Pin {
    /// What it is, for the line printed before fetching and for messages.
    pub what: &'static str,
    /// The cache entry's directory name; carries the version.
    pub entry: &'static str,
    /// The name the download is stored under inside the entry.
    pub file: &'static str,
    /// The upstream address of this exact version.
    pub url: &'static str,
    /// The download's sha256 where upstream's bytes are stable and published (PyPI), else
    /// `None`: GitHub's generated archives are checked by structure instead.
    pub sha256: Option<&'static str>,
    /// Fewest vector members a good copy holds (a truncated or wrong artifact has fewer).
    pub min_members: usize,
    /// `CONFORMANCE_<key>_URL` / `CONFORMANCE_<key>_SHA256` override the address and hash.
    pub key: &'static str,
}

/// ethereum/tests v13.3, of which the `state` suite reads `GeneralStateTests/` (2,802 files in
/// v13.3). The repository's `ethereum-tests` submodule pins the same tag's commit.
pub const ETHEREUM_TESTS: Pin = Pin {
    what: "ethereum/tests v13.3 GeneralStateTests (suite state)",
    entry: "ethereum-tests-v13.3",
    file: "tests-v13.3.tar.gz",
    url: "https://github.com/ethereum/tests/archive/refs/tags/v13.3.tar.gz",
    sha256: None,
    min_members: 2_500,
    key: "ETHEREUM_TESTS",
};

/// The execution-spec-tests v5.4.0 release fixtures (the `develop` build, which carries Osaka);
/// the `eest` suite reads its `state_tests/` members in place (2,723 files in v5.4.0).
pub const EEST: Pin = Pin {
    what: "execution-spec-tests v5.4.0 fixtures_develop (suite eest)",
    entry: "eest-v5.4.0",
    file: "fixtures_develop.tar.gz",
    url: "https://github.com/ethereum/execution-spec-tests/releases/download/v5.4.0/fixtures_develop.tar.gz",
    sha256: None,
    min_members: 2_500,
    key: "EEST",
};

/// The rv32ui/rv32um test bodies as PyPI's pythondata-cpu-picorv32 1.0.post218 wheel ships them
/// (the same wheel riscv-tests/build.sh uses; 297,973 bytes, 45 top-level `.S` bodies).
pub const RISCV_WHEEL: Pin = Pin {
    what: "riscv-tests bodies from PyPI pythondata-cpu-picorv32 1.0.post218 (suite riscv)",
    entry: "riscv-picorv32-1.0.post218",
    file: "pythondata_cpu_picorv32-1.0.post218-py3-none-any.whl",
    url: "https://files.pythonhosted.org/packages/2e/84/c8be9a9410d2b76b72f72f3566689dcc98beb8e1e43f74d7fcee8088ee91/\
          pythondata_cpu_picorv32-1.0.post218-py3-none-any.whl",
    sha256: Some("c6d3e405a50c54f86a436a49cc24ea2f0c00d9cc07c96e7ee12e65736d75eabd"),
    min_members: 45,
    key: "RISCV_WHEEL",
};

/// A pin with its environment overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub url: String,
    pub sha256: Option<String>,
    pub min_members: usize,
    /// Whether the address came from `CONFORMANCE_<key>_URL`.
    pub overridden: bool,
}

impl Pin {
    /// The environment variable overriding the address.
    pub fn url_var(&self) -> String {
        format!("CONFORMANCE_{}_URL", self.key)
    }

    /// The environment variable overriding (or, for GitHub archives, adding) the sha256.
    pub fn sha256_var(&self) -> String {
        format!("CONFORMANCE_{}_SHA256", self.key)
    }

    /// The address and checks in force: the pin's, or the environment's overrides.
    pub fn source(&self) -> Source {
        let var = |name: String| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let url = var(self.url_var());
        let overridden = url.is_some();
        Source {
            url: url.unwrap_or_else(|| self.url.to_string()),
            sha256: var(self.sha256_var()).map(|h| h.to_lowercase()).or_else(|| self.sha256.map(str::to_string)),
            min_members: if overridden { 1 } else { self.min_members },
            overridden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_carry_their_version_in_the_entry_and_url() {
        for (pin, version) in [(&ETHEREUM_TESTS, "v13.3"), (&EEST, "v5.4.0"), (&RISCV_WHEEL, "1.0.post218")] {
            assert!(pin.entry.ends_with(version) && pin.url.contains(version), "{}", pin.entry);
            assert!(pin.url.starts_with("https://") && !pin.url.contains(' '), "{}", pin.url);
        }
        let hash = RISCV_WHEEL.sha256.unwrap();
        assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(EEST.url_var(), "CONFORMANCE_EEST_URL");
        assert_eq!(RISCV_WHEEL.sha256_var(), "CONFORMANCE_RISCV_WHEEL_SHA256");
    }
}
