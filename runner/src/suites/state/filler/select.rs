//! Which `expect` section applies to a case: its `network` list against the
//! case's fork, its `indexes` against the case's (data, gas, value).

use std::collections::{BTreeMap, BTreeSet};

use super::tree::Node;

/// Fork order used by `network` comparisons, as retesteth's config lists it
/// (`Merge` is an alias of `Paris`; the old names of Tangerine Whistle, Spurious
/// Dragon and Petersburg are the canonical ones here). Forks after Cancun are
/// ranked so that `>=Prague` compares, though no vector here uses them.
const FORK_ORDER: [&str; 15] = [
    "Frontier",
    "Homestead",
    "EIP150",
    "EIP158",
    "Byzantium",
    "Constantinople",
    "ConstantinopleFix",
    "Istanbul",
    "Berlin",
    "London",
    "Paris",
    "Shanghai",
    "Cancun",
    "Prague",
    "Osaka",
];

/// The position of a fork in [`FORK_ORDER`], under any of its names.
pub fn fork_rank(name: &str) -> Option<usize> {
    let canonical = match name.trim() {
        "Merge" => "Paris",
        "Tangerine" | "TangerineWhistle" => "EIP150",
        "SpuriousDragon" => "EIP158",
        "Petersburg" => "ConstantinopleFix",
        other => other,
    };
    FORK_ORDER.iter().position(|f| *f == canonical)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

/// One comparison of a `network` entry, e.g. `>=Istanbul`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub op: Op,
    /// `None` for a fork name outside [`FORK_ORDER`]: such a constraint holds for no fork.
    pub rank: Option<usize>,
    pub name: String,
}

impl Constraint {
    fn holds(&self, fork: usize) -> bool {
        let Some(rank) = self.rank else { return false };
        match self.op {
            Op::Eq => fork == rank,
            Op::Ge => fork >= rank,
            Op::Gt => fork > rank,
            Op::Le => fork <= rank,
            Op::Lt => fork < rank,
        }
    }
}

/// Parses one `network` entry: a fork name, or one or more comparisons that
/// must all hold, e.g. `Berlin`, `>=Cancun`, `<Shanghai`, `>=Istanbul<Paris`.
pub fn parse_network(entry: &str) -> Result<Vec<Constraint>, String> {
    let mut rest = entry.trim();
    let mut out = Vec::new();
    if rest.is_empty() {
        return Err("empty network entry".to_string());
    }
    while !rest.is_empty() {
        let (op, after) = if let Some(r) = rest.strip_prefix(">=") {
            (Op::Ge, r)
        } else if let Some(r) = rest.strip_prefix("<=") {
            (Op::Le, r)
        } else if let Some(r) = rest.strip_prefix("==") {
            (Op::Eq, r)
        } else if let Some(r) = rest.strip_prefix('>') {
            (Op::Gt, r)
        } else if let Some(r) = rest.strip_prefix('<') {
            (Op::Lt, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (Op::Eq, r)
        } else {
            (Op::Eq, rest)
        };
        let after = after.trim_start();
        let end = after.find(['<', '>', '=']).unwrap_or(after.len());
        let name = after[..end].trim();
        if name.is_empty() {
            return Err(format!("network entry {entry:?}: a comparison without a fork name"));
        }
        out.push(Constraint { op, rank: fork_rank(name), name: name.to_string() });
        rest = after[end..].trim_start();
    }
    Ok(out)
}

/// True when any entry of a `network` list holds for the fork of rank `fork`.
pub fn network_matches(entries: &[String], fork: usize) -> Result<bool, String> {
    let mut any = false;
    for e in entries {
        any |= parse_network(e)?.iter().all(|c| c.holds(fork));
    }
    Ok(any)
}

/// The indexes an `indexes` field (`data`, `gas` or `value`) selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexSet {
    /// `-1`, or the field omitted.
    Any,
    Some(BTreeSet<usize>),
}

impl IndexSet {
    pub fn contains(&self, i: usize) -> bool {
        match self {
            IndexSet::Any => true,
            IndexSet::Some(s) => s.contains(&i),
        }
    }
}

/// Label name → the data indexes that carry it (a label may repeat).
pub type Labels = BTreeMap<String, BTreeSet<usize>>;

/// The label of a transaction `data` entry written `:label NAME ...`.
pub fn data_label(data: &str) -> Option<&str> {
    let mut words = data.split_whitespace();
    while let Some(w) = words.next() {
        if w == ":label" {
            return words.next();
        }
    }
    None
}

/// Parses one `indexes` field. Accepts an integer (`-1` = any), a range
/// `"a-b"` (inclusive), `":label NAME"`, or a list of those; an absent or null
/// field is any index, as in retesteth. A label must name at least one data
/// entry, again as retesteth requires.
pub fn parse_index_set(node: Option<&Node>, labels: &Labels) -> Result<IndexSet, String> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(IndexSet::Any) };
    let items: Vec<&Node> = match node {
        Node::List(items) => items.iter().collect(),
        one => vec![one],
    };
    let mut set = BTreeSet::new();
    for item in items {
        let text = item
            .as_str()
            .ok_or_else(|| format!("index must be a number, range or label, found {}", item.describe()))?;
        let t = text.trim();
        if t == "-1" {
            return Ok(IndexSet::Any);
        }
        if t.starts_with(":label") {
            let name = data_label(t).ok_or_else(|| format!("index {t:?}: a label without a name"))?;
            let found = labels.get(name).filter(|s| !s.is_empty());
            let found = found.ok_or_else(|| format!("index {t:?}: no transaction data entry has this label"))?;
            set.extend(found);
        } else if let Some((a, b)) = t.split_once('-') {
            let (a, b) = (parse_index(a)?, parse_index(b)?);
            if a > b {
                return Err(format!("index range {t:?} is reversed"));
            }
            set.extend(a..=b);
        } else {
            set.insert(parse_index(t)?);
        }
    }
    Ok(IndexSet::Some(set))
}

fn parse_index(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("not an index: {s:?}"))
}

/// The three index sets of an `indexes` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indexes {
    pub data: IndexSet,
    pub gas: IndexSet,
    pub value: IndexSet,
}

impl Indexes {
    /// Labels apply to `data` only; `gas` and `value` take numbers and ranges.
    pub fn parse(node: Option<&Node>, labels: &Labels) -> Result<Indexes, String> {
        let field = |k: &str| node.and_then(|n| n.get(k));
        let none = Labels::new();
        Ok(Indexes {
            data: parse_index_set(field("data"), labels).map_err(|e| format!("indexes.data: {e}"))?,
            gas: parse_index_set(field("gas"), &none).map_err(|e| format!("indexes.gas: {e}"))?,
            value: parse_index_set(field("value"), &none).map_err(|e| format!("indexes.value: {e}"))?,
        })
    }

    pub fn contains(&self, (d, g, v): (usize, usize, usize)) -> bool {
        self.data.contains(d) && self.gas.contains(g) && self.value.contains(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(n: &str) -> usize {
        fork_rank(n).unwrap()
    }

    fn matches(entries: &[&str], fork: &str) -> bool {
        let e: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        network_matches(&e, rank(fork)).unwrap()
    }

    #[test]
    fn fork_order_and_aliases() {
        assert!(rank("Frontier") < rank("EIP150"));
        assert!(rank("ConstantinopleFix") < rank("Istanbul"));
        assert_eq!(rank("Merge"), rank("Paris"));
        assert_eq!(rank("Petersburg"), rank("ConstantinopleFix"));
        assert!(rank("Paris") < rank("Shanghai") && rank("Shanghai") < rank("Cancun"));
        assert_eq!(fork_rank("BerlinToLondonAt5"), None);
        // Every fork the EEs know has a rank, in the same order.
        let ranks: Vec<usize> = ee_api::Fork::ALL.iter().map(|f| rank(f.name())).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
    }

    #[test]
    fn network_operators() {
        assert!(matches(&[">=Cancun"], "Cancun"));
        assert!(!matches(&[">=Cancun"], "Shanghai"));
        assert!(matches(&[">Istanbul"], "Berlin"));
        assert!(!matches(&[">Istanbul"], "Istanbul"));
        assert!(matches(&["<Shanghai"], "Paris"));
        assert!(!matches(&["<Shanghai"], "Shanghai"));
        assert!(matches(&["<=Shanghai"], "Shanghai"));
        assert!(matches(&["Berlin"], "Berlin"));
        assert!(!matches(&["Berlin"], "London"));
        assert!(matches(&[">=Istanbul<Paris"], "London"));
        assert!(!matches(&[">=Istanbul<Paris"], "Paris"));
        assert!(!matches(&[">=Istanbul<Paris"], "ConstantinopleFix"));
        assert!(matches(&["Berlin", ">=Cancun"], "Cancun"), "any entry may match");
        assert!(matches(&[">=Merge"], "Paris"));
        assert!(!matches(&["Prague"], "Cancun"));
        assert!(!matches(&["Unknownfork"], "Cancun"), "an unknown name matches nothing");
        let c = parse_network(" >= Berlin ").unwrap();
        assert_eq!(c, vec![Constraint { op: Op::Ge, rank: fork_rank("Berlin"), name: "Berlin".into() }]);
        assert!(parse_network(">=").is_err());
        assert!(parse_network("").is_err());
    }

    fn s(v: &str) -> Node {
        Node::Str(v.into())
    }

    fn set(v: &[usize]) -> IndexSet {
        IndexSet::Some(v.iter().copied().collect())
    }

    #[test]
    fn index_sets() {
        let mut labels = Labels::new();
        labels.entry("t1".into()).or_default().insert(0);
        labels.entry("t3".into()).or_default().extend([2, 3]);
        let p = |n: Node| parse_index_set(Some(&n), &labels);
        assert_eq!(parse_index_set(None, &labels), Ok(IndexSet::Any));
        assert_eq!(p(s("")), Ok(IndexSet::Any));
        assert_eq!(p(s("-1")), Ok(IndexSet::Any));
        assert_eq!(p(s("2")), Ok(set(&[2])));
        assert_eq!(p(s("1-3")), Ok(set(&[1, 2, 3])));
        assert_eq!(p(s(":label t3")), Ok(set(&[2, 3])));
        assert_eq!(p(Node::List(vec![s("0"), s("4-5"), s(":label t3")])), Ok(set(&[0, 2, 3, 4, 5])));
        assert_eq!(p(Node::List(vec![s("7"), s("-1")])), Ok(IndexSet::Any));
        assert!(p(s(":label nope")).unwrap_err().contains("no transaction data entry"));
        assert!(p(s("3-1")).is_err());
        assert!(p(s("x")).is_err());
        assert_eq!(data_label(":label declaredKeyWrite :raw 0x00"), Some("declaredKeyWrite"));
        assert_eq!(data_label(":raw 0x00"), None);
    }

    #[test]
    fn indexes_object() {
        let node = Node::Map(vec![("data".into(), s("1")), ("value".into(), s("0-1"))]);
        let ix = Indexes::parse(Some(&node), &Labels::new()).unwrap();
        assert_eq!(ix.gas, IndexSet::Any, "omitted field is any");
        assert!(ix.contains((1, 9, 1)));
        assert!(!ix.contains((0, 0, 0)));
        assert!(!ix.contains((1, 0, 2)));
        let all = Indexes::parse(None, &Labels::new()).unwrap();
        assert!(all.contains((5, 5, 5)), "omitted indexes: every case");
    }
}
