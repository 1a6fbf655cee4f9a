//! Explaining a failing state-test case with its filler's `expect` section.
//!
//! A generated state test only holds the post-state root, which says *that*
//! the state differs, not *where*. Its filler (named by `_info.source`) holds
//! what the test's author expected: per fork (`network`) and transaction
//! (`indexes`), a `result` map of accounts with their balance, nonce, code,
//! storage, or `shouldnotexist`. [`load_expect`] finds the section(s) that
//! apply to one case and reads them into an [`ExpectedPost`]; [`diff_post`]
//! compares that with the case's actual post-state, account by account and
//! slot by slot, with a unified diff of both.
//!
//! The rules follow retesteth, which filled these tests:
//! - `network` entries are fork names or comparisons over the fork order
//!   (`>=Cancun`, `<Shanghai`, `>Istanbul`, `<=Berlin`, and conjunctions such
//!   as `>=Istanbul<Paris`);
//! - `indexes.{data,gas,value}` are `-1` (any, also when omitted), an index,
//!   a range `"a-b"`, `":label NAME"` (the `data` entries so labelled), or a
//!   list of those;
//! - a listed `storage` map is the account's complete storage: a non-zero
//!   slot it does not list is a mismatch, a slot listed as zero must be
//!   empty, and `ANY` accepts any value;
//! - values are hex with `0x`, else decimal when all digits, else bare hex
//!   (`60A7`); `_` separators are ignored;
//! - expected code written as source (LLL, Yul, Solidity; `:source-removed`
//!   in the reduced fillers) is not checked, and a note says so.
//!
//! Several sections applying to one case: current retesteth rejects such a
//! filler ("redundant expect section"), and older versions filled the case
//! once per section and checked each, so all applying sections must hold;
//! their accounts are all kept (the first section's first) and a note
//! names them.
//!
//! The fillers here (ethereum/legacytests) are in places newer than the
//! generated tests: some name contracts at `0x10kk` that the tests have at
//! `0x01kk`. [`diff_post`] recognises that from the actual state and compares
//! those accounts at the tests' addresses, with a note.
//!
//! Parsed fillers are cached (a few files, evicted oldest first), as cases of
//! one test fail together and are explained from several rayon workers.

mod diff;
mod resolve;
mod select;
mod tree;

#[cfg(test)]
mod scale;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ee_api::{Address, U256};

#[allow(unused_imports)] // for the case runner and reports
pub use diff::{diff_post, hex_u256, PostDiff};
pub use select::fork_rank;

use select::{network_matches, Indexes, Labels};
use tree::Node;

/// What a filler expects of one case's post-state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedPost {
    /// The accounts the applying section(s) name, ordered by address (per
    /// section, when several apply).
    pub accounts: Vec<ExpectedAccount>,
    /// Which section applied and anything not checked (code written as
    /// source, unknown fields, a test found by prefix, several sections).
    pub notes: Vec<String>,
    /// The index (from 0) of the first applying section in the filler's `expect` list.
    pub section: usize,
    /// The section's `expectException` for this fork, if any: the transaction
    /// is expected to be rejected, and `accounts` describe the state after that.
    pub expect_exception: Option<String>,
    /// The addresses the filler's transaction names (`to`, access lists):
    /// [`diff_post`] uses them to recognise a filler newer than its test.
    pub tx_addresses: Vec<Address>,
    /// Where the expectations come from, as the diff names it: `filler`, or `vector` for an
    /// EEST post-state.
    pub origin: &'static str,
}

/// What a filler expects of one account. A field left `None` is not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedAccount {
    pub address: Address,
    pub balance: Option<U256>,
    pub nonce: Option<u64>,
    /// `None` also when the filler writes the code as source.
    pub code: Option<Vec<u8>>,
    /// Expected slot values, ordered by slot; a zero value means the slot must be empty.
    pub storage: Vec<(U256, U256)>,
    /// Slots listed as `ANY`: present in the storage map, value not checked.
    pub storage_any: Vec<U256>,
    /// True when the filler gives a `storage` map (even `{}`): it is then
    /// the complete storage, and any non-zero slot it does not list is a
    /// mismatch. False: storage is not checked beyond `storage`.
    pub storage_complete: bool,
    /// `shouldnotexist`: the account must be absent; other fields are ignored.
    pub should_not_exist: bool,
}

impl ExpectedAccount {
    /// An account that only has to exist.
    pub fn new(address: Address) -> ExpectedAccount {
        ExpectedAccount {
            address,
            balance: None,
            nonce: None,
            code: None,
            storage: Vec::new(),
            storage_any: Vec::new(),
            storage_complete: false,
            should_not_exist: false,
        }
    }
}

/// One test of a filler file, reduced to what explaining a case needs.
#[derive(Debug)]
struct FillerTest {
    /// The `expect` sections, unresolved: indexes and results are read
    /// only for the case being explained.
    expect: Vec<Node>,
    /// The label of each transaction `data` entry (`:label NAME ...`).
    data_labels: Vec<Option<String>>,
    /// The addresses the transaction names: `to` and access-list entries.
    tx_addresses: Vec<Address>,
}

/// Test name → test, in file order.
type FillerFile = Vec<(String, FillerTest)>;

/// Reads a JSON or YAML filler (by extension; JSON otherwise).
fn read_filler(path: &Path) -> Result<FillerFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let is_yaml = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
    let root = if is_yaml { tree::parse_yaml(&text) } else { tree::parse_json(&text) };
    let root = root.map_err(|e| format!("{}: {e}", path.display()))?;
    let Node::Map(tests) = root else {
        return Err(format!("{}: a filler must be a map of tests, found {}", path.display(), root.describe()));
    };
    let mut out = Vec::new();
    for (name, test) in tests {
        if name.starts_with("//") {
            continue;
        }
        let expect = match test.get("expect") {
            Some(Node::List(sections)) => sections.clone(),
            Some(n) if n.is_null() => Vec::new(),
            Some(n) => {
                return Err(format!("{}: {name}: `expect` must be a list, found {}", path.display(), n.describe()))
            }
            None => return Err(format!("{}: {name}: no `expect` section", path.display())),
        };
        let data = test.get("transaction").and_then(|t| t.get("data"));
        let data_labels = match data {
            Some(Node::List(items)) => items
                .iter()
                .map(|d| {
                    let text = d.as_str().or_else(|| d.get("data").and_then(Node::as_str));
                    text.and_then(select::data_label).map(str::to_string)
                })
                .collect(),
            _ => Vec::new(),
        };
        let tx = test.get("transaction");
        let mut tx_addresses: Vec<Address> = tx
            .and_then(|t| t.get("to"))
            .and_then(Node::as_str)
            .and_then(|a| resolve::parse_address(a).ok())
            .into_iter()
            .collect();
        if let Some(Node::List(items)) = data {
            for list in items.iter().filter_map(|d| d.get("accessList")) {
                let Node::List(entries) = list else { continue };
                let addrs = entries.iter().filter_map(|e| e.get("address")?.as_str());
                tx_addresses.extend(addrs.filter_map(|a| resolve::parse_address(a).ok()));
            }
        }
        tx_addresses.sort();
        tx_addresses.dedup();
        out.push((name, FillerTest { expect, data_labels, tx_addresses }));
    }
    Ok(out)
}

/// How many parsed filler files the cache keeps.
const CACHE_FILES: usize = 16;

#[derive(Default)]
struct Cache {
    files: HashMap<PathBuf, Arc<Result<FillerFile, String>>>,
    order: VecDeque<PathBuf>,
}

/// The parsed filler at `path`, from the cache or read now (outside the
/// lock, so workers explaining other tests are not held up).
fn cached_filler(path: &Path) -> Arc<Result<FillerFile, String>> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let lock = || cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(hit) = lock().files.get(path) {
        return hit.clone();
    }
    let parsed = Arc::new(read_filler(path));
    let mut c = lock();
    if let Some(raced) = c.files.get(path) {
        return raced.clone();
    }
    while c.order.len() >= CACHE_FILES {
        if let Some(old) = c.order.pop_front() {
            c.files.remove(&old);
        }
    }
    c.order.push_back(path.to_path_buf());
    c.files.insert(path.to_path_buf(), parsed.clone());
    parsed
}

/// The filler's test for a generated test name: the same name, else the
/// only test of the file, else the longest filler name the generated one
/// starts with (generators may append suffixes).
fn find_test<'f>(file: &'f FillerFile, name: &str, notes: &mut Vec<String>) -> Option<&'f FillerTest> {
    if let Some((_, t)) = file.iter().find(|(n, _)| n == name) {
        return Some(t);
    }
    if let [(only, t)] = file.as_slice() {
        notes.push(format!("test {name:?} is not in its filler by name; its only test {only:?} is used"));
        return Some(t);
    }
    let (found, t) = file.iter().filter(|(n, _)| name.starts_with(n.as_str())).max_by_key(|(n, _)| n.len())?;
    notes.push(format!("test {name:?} is not in its filler by name; {found:?}, a prefix of it, is used"));
    Some(t)
}

/// The `network` list of a section (a lone string is a list of one).
fn network_list(section: &Node) -> Result<Vec<String>, String> {
    match section.get("network") {
        Some(Node::List(items)) => items
            .iter()
            .map(|n| n.as_str().map(str::to_string).ok_or_else(|| format!("network entry is {}", n.describe())))
            .collect(),
        Some(Node::Str(s)) if !s.trim().is_empty() => Ok(vec![s.clone()]),
        _ => Err("no `network` list".to_string()),
    }
}

/// The section's `expectException` for the fork of rank `fork`, if any.
fn expect_exception(section: &Node, fork: usize) -> Result<Option<String>, String> {
    let Some(map) = section.get("expectException") else { return Ok(None) };
    for (net, exc) in map.entries("expectException")? {
        if network_matches(std::slice::from_ref(net), fork)? {
            return Ok(exc.as_str().map(str::to_string));
        }
    }
    Ok(None)
}

/// Loads what the filler of a test expects of one case.
///
/// `ethereum_tests_root` holds `src/GeneralStateTestsFiller`; `info_source` is
/// the test's `_info.source` (relative to that root); `test_name` the test's
/// key in the generated file; `fork_name` the case's fork as the generated
/// file writes it; `indexes` its (data, gas, value); `labels` the generated
/// test's `_info.labels` (data index → label), merged with the labels of the
/// filler's own `transaction.data`.
///
/// `Ok(None)`: no `expect` section applies to this fork and these indexes.
/// `Err`: the filler cannot be used: it is missing (Python tests of
/// execution-spec-tests have none, and the reduced fillers leave a few out),
/// unreadable, or malformed.
pub fn load_expect(
    ethereum_tests_root: &Path,
    info_source: &str,
    test_name: &str,
    fork_name: &str,
    indexes: (usize, usize, usize),
    labels: &BTreeMap<usize, String>,
) -> Result<Option<ExpectedPost>, String> {
    let source = info_source.trim();
    if source.contains(".py") {
        return Err(format!(
            "{source} is an execution-spec-tests Python test: it has no filler `expect` section to compare with"
        ));
    }
    let path = ethereum_tests_root.join(source);
    if !path.is_file() {
        return Err(format!("filler {} not found", path.display()));
    }
    let fork = fork_rank(fork_name).ok_or_else(|| format!("unknown fork {fork_name:?}"))?;
    let parsed = cached_filler(&path);
    let file = parsed.as_ref().as_ref().map_err(Clone::clone)?;
    let mut notes = Vec::new();
    let test = find_test(file, test_name, &mut notes).ok_or_else(|| {
        let names: Vec<&str> = file.iter().map(|(n, _)| n.as_str()).collect();
        format!("{source}: no test {test_name:?} (the filler has {names:?})")
    })?;

    let mut label_map = Labels::new();
    let given = labels.iter().map(|(i, l)| (*i, l.trim_start_matches(":label").trim()));
    let own = test.data_labels.iter().enumerate().filter_map(|(i, l)| l.as_deref().map(|l| (i, l)));
    for (i, l) in given.chain(own) {
        label_map.entry(l.to_string()).or_default().insert(i);
    }

    let total = test.expect.len();
    let mut applying = Vec::new();
    for (i, section) in test.expect.iter().enumerate() {
        let ctx = |e: String| format!("{source}: {test_name}: expect section {} of {total}: {e}", i + 1);
        let networks = network_list(section).map_err(ctx)?;
        if !network_matches(&networks, fork).map_err(ctx)? {
            continue;
        }
        if Indexes::parse(section.get("indexes"), &label_map).map_err(ctx)?.contains(indexes) {
            applying.push((i, networks));
        }
    }
    let Some((first, networks)) = applying.first() else { return Ok(None) };

    notes.insert(
        0,
        format!(
            "{source}: expect section {} of {total} (network {networks:?}) applies to {fork_name} d{}:g{}:v{}",
            first + 1,
            indexes.0,
            indexes.1,
            indexes.2
        ),
    );
    if applying.len() > 1 {
        let which: Vec<String> = applying.iter().map(|(i, _)| (i + 1).to_string()).collect();
        notes.push(format!(
            "expect sections {} all apply to this case; each must hold (retesteth checked every one), so all are compared",
            which.join(", ")
        ));
    }
    let mut accounts = Vec::new();
    let mut exception = None;
    for (i, _) in &applying {
        let section = &test.expect[*i];
        let ctx = |e: String| format!("{source}: {test_name}: expect section {} of {total}: {e}", i + 1);
        let result = section.get("result").ok_or_else(|| ctx("no `result`".to_string()))?;
        accounts.extend(resolve::resolve_result(result, &mut notes).map_err(ctx)?);
        if exception.is_none() {
            exception = expect_exception(section, fork).map_err(ctx)?;
        }
    }
    if let Some(e) = &exception {
        notes.push(format!("the filler expects the transaction to be rejected on {fork_name}: {e}"));
    }
    let tx_addresses = test.tx_addresses.clone();
    Ok(Some(ExpectedPost {
        accounts,
        notes,
        section: *first,
        expect_exception: exception,
        tx_addresses,
        origin: "filler",
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bootloader::{Account, WorldState};
    use ee_api::Bytecode;

    use super::*;

    /// The ethereum-tests checkout, or `None` (with a message) when
    /// ETHEREUM_TESTS_DIR is not set. When it is set it must hold the fillers.
    pub(super) fn tests_root() -> Option<PathBuf> {
        let Some(dir) = std::env::var_os("ETHEREUM_TESTS_DIR").filter(|d| !d.is_empty()) else {
            eprintln!("skipped: ETHEREUM_TESTS_DIR is not set, so the real fillers cannot be read");
            return None;
        };
        let root = PathBuf::from(dir);
        assert!(
            root.join("src/GeneralStateTestsFiller").is_dir(),
            "ETHEREUM_TESTS_DIR={} has no src/GeneralStateTestsFiller",
            root.display()
        );
        Some(root)
    }

    fn addr(s: &str) -> Address {
        resolve::parse_address(s).unwrap()
    }

    fn no_labels() -> BTreeMap<usize, String> {
        BTreeMap::new()
    }

    const ADD11: &str = "src/GeneralStateTestsFiller/stExample/add11Filler.json";

    #[test]
    fn add11_json() {
        let Some(root) = tests_root() else { return };
        let post = load_expect(&root, ADD11, "add11", "Cancun", (0, 0, 0), &no_labels()).unwrap().unwrap();
        assert_eq!(post.section, 0);
        assert_eq!(post.accounts.len(), 4);
        let contract = &post.accounts[0];
        assert_eq!(contract.address, addr("095e7baea6a6c7c4c2dfeb977efac326af552d87"));
        assert_eq!(contract.code, Some(vec![0x60, 0x01, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00]));
        assert_eq!(contract.storage, vec![(U256::ZERO, U256::from(2))]);
        assert!(contract.storage_complete);
        assert_eq!(contract.balance, None, "`//balance` is a comment");
        let sender = post.accounts.iter().find(|a| a.address == addr("a94f5374fce5edbc8e2a8697c15331677e6ebf0b"));
        let sender = sender.unwrap();
        assert_eq!((sender.nonce, sender.code.as_deref()), (Some(1), Some(&[][..])));
        assert!(sender.storage.is_empty() && sender.storage_complete, "`storage: {{}}` means no storage");
        let gone = post.accounts.iter().find(|a| a.address == addr("e94f5374fce5edbc8e2a8697c15331677e6ebf0b"));
        assert!(gone.unwrap().should_not_exist);
        assert!(post.notes[0].contains("expect section 1 of 1"), "{:?}", post.notes);
        // `>=Berlin` only.
        assert_eq!(load_expect(&root, ADD11, "add11", "Istanbul", (0, 0, 0), &no_labels()), Ok(None));
        assert_eq!(load_expect(&root, ADD11, "add11", "Berlin", (0, 0, 0), &no_labels()).unwrap().unwrap().section, 0);
    }

    #[test]
    fn yaml_filler_with_labels_and_ranges() {
        let Some(root) = tests_root() else { return };
        let src = "src/GeneralStateTestsFiller/stExample/rangesExampleFiller.yml";
        let slot0 = |p: &ExpectedPost| p.accounts[0].storage[0].1;
        // Section 1: data 0-2, gas 0.
        let p = load_expect(&root, src, "rangesExample", "Berlin", (2, 0, 1), &no_labels()).unwrap().unwrap();
        assert_eq!((p.section, slot0(&p)), (0, U256::from(1) << 248));
        // Section 2: data [0, 1-2, :label transaction1], gas 1-2.
        let p = load_expect(&root, src, "rangesExample", "Shanghai", (1, 2, 0), &no_labels()).unwrap().unwrap();
        assert_eq!(p.section, 1);
        // Section 3: data 3, gas 0-2, value 0-1.
        let p = load_expect(&root, src, "rangesExample", "Cancun", (3, 1, 1), &no_labels()).unwrap().unwrap();
        assert_eq!((p.section, slot0(&p)), (2, U256::from(4) << 248));
        assert_eq!(load_expect(&root, src, "rangesExample", "Istanbul", (3, 1, 1), &no_labels()), Ok(None));

        // Labels come from the filler's data entries, or from the generated test's `_info.labels`.
        let src = "src/GeneralStateTestsFiller/stExample/labelsExampleFiller.yml";
        for d in 0..4 {
            let p = load_expect(&root, src, "labelsExample", "Cancun", (d, 0, 0), &no_labels()).unwrap().unwrap();
            let section = [0, 1, 2, 2][d];
            assert_eq!(p.section, section, "data {d} is labelled transaction{}", section + 1);
            assert_eq!(slot0(&p), U256::from(section as u64 + 1) << 248);
        }

        // YAML keys such as 0x00 stay text: the storage key is slot 0, the address a real address.
        let src = "src/GeneralStateTestsFiller/stExample/add11_ymlFiller.yml";
        let p = load_expect(&root, src, "add11_yml", "Cancun", (0, 0, 0), &no_labels()).unwrap().unwrap();
        assert_eq!(p.accounts[0].storage, vec![(U256::ZERO, U256::from(2))]);
        assert!(p.accounts.iter().any(|a| a.should_not_exist));
        assert_eq!(load_expect(&root, src, "add11_yml", "Cancun", (0, 1, 0), &no_labels()), Ok(None), "gas 0 only");
    }

    #[test]
    fn generated_labels_are_used_too() {
        let Some(root) = tests_root() else { return };
        // stEIP1559/typeTwoBerlin or any filler whose data are source: the label survives `:source-removed`.
        let src = "src/GeneralStateTestsFiller/stExample/labelsExampleFiller.yml";
        let mut labels = BTreeMap::new();
        labels.insert(0, "transaction1".to_string());
        let p = load_expect(&root, src, "labelsExample", "Cancun", (0, 0, 0), &labels).unwrap().unwrap();
        assert_eq!(p.section, 0);
    }

    #[test]
    fn missing_and_python_fillers_are_errors() {
        let Some(root) = tests_root() else { return };
        let py = "src/GeneralStateTestsFiller/Pyspecs/homestead/yul/test_yul_example.py";
        assert!(load_expect(&root, py, "x", "Cancun", (0, 0, 0), &no_labels()).unwrap_err().contains("Python"));
        let gone = "src/GeneralStateTestsFiller/stExample/nopeFiller.json";
        assert!(load_expect(&root, gone, "x", "Cancun", (0, 0, 0), &no_labels()).unwrap_err().contains("not found"));
        let e = load_expect(&root, ADD11, "add11", "Frontier2", (0, 0, 0), &no_labels()).unwrap_err();
        assert!(e.contains("unknown fork"), "{e}");
    }

    /// A filler written for the test: overlapping sections, an exception, a bad label.
    const SYNTHETIC: &str = r#"{"t": {
        "transaction": {"data": [":label a :raw 0x01", {"data": ":label b :raw 0x02", "accessList": []}, "0x03"]},
        "expect": [
            {"indexes": {"data": ":label a", "gas": -1, "value": -1}, "network": [">=Berlin"],
             "result": {"0x1000000000000000000000000000000000000000": {"storage": {"1": "0x01"}}}},
            {"indexes": {"data": [0, "1-2"]}, "network": ["London", ">=Cancun"],
             "expectException": {">=Cancun": "TR_Foo"},
             "result": {"<contract:0x2000000000000000000000000000000000000000>": {"balance": "1_000"}}},
            {"indexes": {"data": ":label b", "gas": 1}, "network": ["<Berlin"], "result": {}},
            {"indexes": {"data": ":label zzz"}, "network": ["Frontier"], "result": {}}
        ]}}"#;

    #[test]
    fn synthetic_filler_sections() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tFiller.json"), SYNTHETIC).unwrap();
        let load = |fork: &str, ix| load_expect(dir.path(), "tFiller.json", "t", fork, ix, &no_labels());
        // Sections 1 and 2 both apply to data 0 on Cancun: both are compared.
        let p = load("Cancun", (0, 0, 0)).unwrap().unwrap();
        assert_eq!(p.section, 0);
        assert_eq!(p.accounts.len(), 2);
        assert_eq!(p.accounts[0].storage, vec![(U256::from(1), U256::from(1))]);
        assert_eq!(p.accounts[1].address, addr("2000000000000000000000000000000000000000"));
        assert_eq!(p.accounts[1].balance, Some(U256::from(1000)));
        assert_eq!(p.expect_exception.as_deref(), Some("TR_Foo"));
        assert!(p.notes.iter().any(|n| n.contains("sections 1, 2 all apply")), "{:?}", p.notes);
        // London: section 2 only, without the exception; Berlin: section 1 only for data 0.
        let p = load("London", (2, 5, 5)).unwrap().unwrap();
        assert_eq!((p.section, p.expect_exception), (1, None));
        assert_eq!(load("Berlin", (1, 0, 0)), Ok(None));
        assert_eq!(load("Berlin", (0, 3, 0)).unwrap().unwrap().section, 0);
        // Frontier reaches section 4, whose label names no data entry: a broken filler.
        let e = load("Frontier", (1, 0, 0)).unwrap_err();
        assert!(e.contains("expect section 4 of 4") && e.contains(":label zzz"), "{e}");
        // The cached copy answers the same.
        assert_eq!(load("London", (2, 5, 5)).unwrap().unwrap().section, 1);
    }

    #[test]
    fn test_name_with_a_generated_suffix() {
        let file: FillerFile = vec![
            ("abc".into(), FillerTest { expect: vec![], data_labels: vec![], tx_addresses: vec![] }),
            ("abcdef".into(), FillerTest { expect: vec![], data_labels: vec![Some("x".into())], tx_addresses: vec![] }),
        ];
        let mut notes = Vec::new();
        let t = find_test(&file, "abcdef_d0g0v0", &mut notes).unwrap();
        assert_eq!(t.data_labels.len(), 1, "longest prefix");
        assert_eq!(notes.len(), 1);
        assert!(find_test(&file, "abc", &mut notes).unwrap().data_labels.is_empty());
        assert!(find_test(&file, "zzz", &mut notes).is_none());
    }

    #[test]
    fn diff_names_a_changed_slot_of_a_real_filler() {
        let Some(root) = tests_root() else { return };
        let post = load_expect(&root, ADD11, "add11", "Cancun", (0, 0, 0), &no_labels()).unwrap().unwrap();
        let contract = addr("095e7baea6a6c7c4c2dfeb977efac326af552d87");
        let sender = addr("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
        let coinbase = addr("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
        let account = |nonce: u64, code: &[u8], slots: &[(u64, u64)]| Account {
            balance: U256::from(1000),
            nonce,
            code: Arc::new(Bytecode::new(Arc::from(code))),
            storage: slots.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect::<bootloader::Map<_, _>>(),
        };
        let code = post.accounts[0].code.clone().unwrap();
        let mut state = WorldState::new();
        state.insert_account(contract, account(0, &code, &[(0, 2)]));
        state.insert_account(sender, account(1, &[], &[]));
        state.insert_account(coinbase, account(1, &[], &[]));
        assert!(diff_post(&post, &state).is_empty(), "{}", diff_post(&post, &state));

        state.insert_account(contract, account(0, &code, &[(0, 3), (1, 1)]));
        let d = diff_post(&post, &state);
        assert_eq!(
            d.mismatches,
            vec![
                format!("{contract}: storage[0x00] expected 0x02, got 0x03"),
                format!(
                    "{contract}: storage[0x01] expected 0x00 (not listed in the filler's complete storage), got 0x01"
                ),
            ]
        );
        assert!(d.unified.contains("-  storage[0x00] 0x02\n+  storage[0x00] 0x03\n+  storage[0x01] 0x01\n"), "{d}");
        let text = d.to_string();
        assert!(text.starts_with(&d.mismatches[0]) && text.contains("+++ actual"), "{text}");
    }
}
