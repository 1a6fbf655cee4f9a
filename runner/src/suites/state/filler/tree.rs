//! A filler file as a tree whose leaves are all text.
//!
//! Fillers are JSON or YAML, and their values are written loosely: `0x00`,
//! `2`, `!!int -1`, `'400000'`, or bare hex such as `60A7`. A YAML loader that
//! resolves types would turn the address key `0000…0b` or the storage key
//! `0x10` into numbers (or floats), losing the spelling that decides how the
//! value is read. So both formats are read into [`Node`], where every scalar is
//! kept exactly as written; the `resolve` module gives them meaning.
//!
//! YAML is read with `yaml-rust2`'s event parser, which reports each scalar
//! as its source text (tags such as `!!int` are ignored), so no YAML type
//! resolution ever happens.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A JSON or YAML value with text leaves. Maps keep their entries in file
/// order, duplicates included ([`Node::get`] returns the last, as a JSON
/// object or YAML loader would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Str(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value of `key` in a map (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True for the ways a filler writes "nothing": an empty value, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Str(s) if matches!(s.trim(), "" | "~" | "null"))
    }

    /// A map's entries; a null value reads as an empty map.
    pub fn entries(&self, what: &str) -> Result<&[(String, Node)], String> {
        match self {
            Node::Map(entries) => Ok(entries),
            n if n.is_null() => Ok(&[]),
            n => Err(format!("{what} must be a map, found {}", n.describe())),
        }
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Node::Str(s) if s.chars().count() > 40 => format!("{:?}...", s.chars().take(40).collect::<String>()),
            Node::Str(s) => format!("{s:?}"),
            Node::List(l) => format!("a list of {}", l.len()),
            Node::Map(m) => format!("a map of {}", m.len()),
        }
    }
}

/// Parses a JSON filler. Numbers and booleans become their text; `null` the
/// empty string.
pub fn parse_json(text: &str) -> Result<Node, String> {
    serde_json::from_str::<Node>(text).map_err(|e| format!("invalid JSON: {e}"))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Str(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Str(String::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Node::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// Parses the first document of a YAML filler. Scalars keep their source
/// text whatever their style or tag; anchors and aliases are expanded.
///
/// A few fillers are not strict YAML, though the YAML libraries retesteth
/// and Python use accept them: a flow map closed on a line indented no deeper
/// than its key (`storage: {` ... `}` under `storage`), or a quoted scalar
/// continued on an unindented line. When a file fails to parse, it is parsed
/// once more with such lines indented (which does not change their meaning);
/// if that fails too, both errors are reported.
pub fn parse_yaml(text: &str) -> Result<Node, String> {
    parse_yaml_strict(text)
        .or_else(|e| parse_yaml_strict(&reindent_lenient(text)).map_err(|e2| format!("{e} (re-indented: {e2})")))
}

/// Indents lines holding only flow closers (`}`, `]`, `,`, a comment)
/// deeper than the previous non-blank line, and unindented lines that
/// cannot start a top-level entry (continuations of a multi-line scalar)
/// deeper than it.
fn reindent_lenient(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut prev_indent = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let code = body.split('#').next().unwrap_or("").trim_end();
        let closer = !code.is_empty() && code.chars().all(|c| matches!(c, '}' | ']' | ',' | ' '));
        let top_level = code.is_empty() || code.starts_with("---") || code.starts_with("...") || code.contains(':');
        let mut new_indent = indent;
        if closer && indent <= prev_indent {
            new_indent = prev_indent + 1;
        } else if indent == 0 && !top_level && prev_indent > 0 {
            new_indent = prev_indent + 2;
        }
        if new_indent == indent {
            out.push_str(line);
        } else {
            out.push_str(&" ".repeat(new_indent));
            out.push_str(body);
        }
        if !code.is_empty() && new_indent == indent {
            prev_indent = indent;
        }
    }
    out
}

fn parse_yaml_strict(text: &str) -> Result<Node, String> {
    let mut builder = YamlBuilder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| format!("invalid YAML: {e}"))?;
    if let Some(e) = builder.error {
        return Err(format!("unsupported YAML: {e}"));
    }
    builder.root.ok_or_else(|| "empty YAML document".to_string())
}

enum Frame {
    List { anchor: usize, items: Vec<Node> },
    Map { anchor: usize, entries: Vec<(String, Node)>, key: Option<String> },
}

#[derive(Default)]
struct YamlBuilder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<String>,
}

impl YamlBuilder {
    fn finish(&mut self, anchor: usize, node: Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node);
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => match node {
                    Node::Str(k) => *key = Some(k),
                    other => {
                        self.error.get_or_insert_with(|| format!("a map key that is {}", other.describe()));
                        *key = Some(String::new());
                    }
                },
            },
        }
    }
}

impl MarkedEventReceiver for YamlBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, _style, anchor, _tag) => self.finish(anchor, Node::Str(value)),
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::List { anchor, items: Vec::new() }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map { anchor, entries: Vec::new(), key: None }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::List { anchor, items }) => self.finish(anchor, Node::List(items)),
                Some(Frame::Map { anchor, entries, .. }) => self.finish(anchor, Node::Map(entries)),
                None => {
                    self.error.get_or_insert_with(|| format!("unbalanced collection end at line {}", mark.line()));
                }
            },
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => self.push(node.clone()),
                None => {
                    self.error.get_or_insert_with(|| format!("alias to an unknown anchor at line {}", mark.line()));
                    self.push(Node::Str(String::new()));
                }
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Str(v.to_string())
    }

    #[test]
    fn yaml_scalars_stay_text() {
        let y = "a:\n  0000000000000000000000000000000000000b: 1\n  0x10: !!int -1\n  k: '07'\n  e:\n  l: [1, 0x2, \"3\"]\n";
        let n = parse_yaml(y).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(a.get("0000000000000000000000000000000000000b"), Some(&s("1")));
        assert_eq!(a.get("0x10"), Some(&s("-1")), "tag ignored, text kept");
        assert_eq!(a.get("k"), Some(&s("07")));
        assert!(a.get("e").unwrap().is_null());
        assert_eq!(a.get("l"), Some(&Node::List(vec![s("1"), s("0x2"), s("3")])));
    }

    #[test]
    fn yaml_anchors_and_errors() {
        let n = parse_yaml("x: &v {a: 1}\ny: *v\n").unwrap();
        assert_eq!(n.get("x"), n.get("y"));
        assert!(parse_yaml("a: [1\n").unwrap_err().contains("invalid YAML"));
    }

    #[test]
    fn under_indented_flow_closers_are_tolerated() {
        let y = "a:\n  storage: {\n     '0x02': '0x03'\n  }\n  nonce: 1\n";
        let n = parse_yaml(y).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(a.get("storage"), Some(&Node::Map(vec![("0x02".into(), s("0x03"))])));
        assert_eq!(a.get("nonce"), Some(&s("1")));
        let y = "t:\n  c: \"one\ntwo\"\n  d: 2\n";
        let n = parse_yaml(y).unwrap();
        assert_eq!(n.get("t").unwrap().get("c"), Some(&s("one two")), "a continuation line at column 0");
        assert_eq!(n.get("t").unwrap().get("d"), Some(&s("2")));
    }

    #[test]
    fn json_numbers_become_text_and_order_is_kept() {
        let n = parse_json(r#"{"b": -1, "a": [1, "0x02", true, null], "b": 2}"#).unwrap();
        let Node::Map(entries) = &n else { panic!() };
        assert_eq!(entries[0].0, "b");
        assert_eq!(n.get("b"), Some(&s("2")), "last duplicate wins");
        assert_eq!(n.get("a"), Some(&Node::List(vec![s("1"), s("0x02"), s("true"), s("")])));
    }
}
