//! Source text to statements: cpp line markers (`# 12 "add.S"`) kept for error messages,
//! `#` comments dropped, lines split at `;` (cpp joins a macro's statements on one line),
//! leading labels peeled off, `.macro`/`.endm` expanded, and the numeric local labels
//! (`1:`, `1f`, `1b`) renamed to unique names so that later passes see ordinary symbols.

use std::collections::HashMap;
use std::rc::Rc;

/// Where a statement came from: the file a line marker named (if any) and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: Option<Rc<str>>,
    pub line: usize,
}

/// One statement: its labels, then an instruction or directive (`op` may be empty).
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub loc: Loc,
    pub labels: Vec<String>,
    pub op: String,
    pub operands: String,
    /// The statement as written (after macro expansion), for error messages.
    pub text: String,
}

/// A source error before assembly proper.
pub(crate) type Located = (Loc, String);

/// Maximum macro nesting: a macro that invokes itself is an error, not a hang.
const MAX_MACRO_DEPTH: usize = 64;

/// Maximum statements after expansion: macros that invoke each other twice over cannot
/// expand for ever (the riscv-tests bodies have a few thousand).
const MAX_STATEMENTS: usize = 1 << 18;

pub(crate) fn statements(text: &str) -> Result<Vec<Statement>, Located> {
    let mut raw = Vec::new();
    let mut file: Option<Rc<str>> = None;
    let mut next_line = 1;
    for line in text.lines() {
        let number = next_line;
        next_line += 1;
        if let Some((n, name)) = line_marker(line) {
            file = Some(Rc::from(name));
            next_line = n;
            continue;
        }
        let loc = Loc { file: file.clone(), line: number };
        for piece in split_statements(strip_comment(line)) {
            let piece = piece.trim();
            if !piece.is_empty() {
                raw.push((loc.clone(), piece.to_string()));
            }
        }
    }
    let mut expander = Expander { macros: HashMap::new(), out: Vec::new() };
    expander.run(raw, 0)?;
    rename_local_labels(expander.out)
}

/// `# 12 "file"` (with optional flags): cpp's line marker.
fn line_marker(line: &str) -> Option<(usize, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("line").unwrap_or(rest).trim_start();
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    if digits == 0 {
        return None;
    }
    let n = rest[..digits].parse().ok()?;
    let name = rest[digits..].trim_start().strip_prefix('"')?;
    Some((n, &name[..name.find('"')?]))
}

/// Drops a `#` comment (not one inside a string or character constant).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

fn split_statements(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ';' if !in_string => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// Splits `labels: op operands`.
fn parse_statement(loc: Loc, text: &str) -> Statement {
    let mut labels = Vec::new();
    let mut rest = text.trim();
    loop {
        let end = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
        if end > 0 && rest[end..].trim_start().starts_with(':') {
            labels.push(rest[..end].to_string());
            rest = rest[end..].trim_start()[1..].trim_start();
        } else {
            break;
        }
    }
    let (op, operands) = rest.split_once(char::is_whitespace).map_or((rest, ""), |(o, r)| (o, r.trim()));
    Statement { loc, labels, op: op.to_string(), operands: operands.to_string(), text: text.trim().to_string() }
}

struct Macro {
    params: Vec<(String, Option<String>)>,
    body: Vec<String>,
}

struct Expander {
    macros: HashMap<String, Macro>,
    out: Vec<Statement>,
}

impl Expander {
    fn run(&mut self, raw: Vec<(Loc, String)>, depth: usize) -> Result<(), Located> {
        let mut lines = raw.into_iter();
        while let Some((loc, text)) = lines.next() {
            let st = parse_statement(loc.clone(), &text);
            if st.op == ".macro" {
                if !st.labels.is_empty() {
                    self.out.push(Statement { op: String::new(), operands: String::new(), ..st.clone() });
                }
                let mut words = st.operands.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty());
                let name = words.next().ok_or_else(|| (loc.clone(), ".macro needs a name".to_string()))?;
                let params = words
                    .map(|p| match p.split_once('=') {
                        Some((n, d)) => (n.to_string(), Some(d.to_string())),
                        None => (p.to_string(), None),
                    })
                    .collect();
                let mut body = Vec::new();
                let mut nesting = 0;
                loop {
                    let (_, line) = lines.next().ok_or_else(|| (loc.clone(), format!(".macro {name} has no .endm")))?;
                    let inner = parse_statement(loc.clone(), &line);
                    match inner.op.as_str() {
                        ".macro" => nesting += 1,
                        ".endm" if nesting == 0 => break,
                        ".endm" => nesting -= 1,
                        _ => {}
                    }
                    body.push(line);
                }
                self.macros.insert(name.to_string(), Macro { params, body });
                continue;
            }
            if let Some(m) = self.macros.get(&st.op) {
                if depth >= MAX_MACRO_DEPTH {
                    return Err((loc, format!("macro {} nests more than {MAX_MACRO_DEPTH} deep", st.op)));
                }
                let args: Vec<&str> =
                    if st.operands.is_empty() { Vec::new() } else { st.operands.split(',').map(str::trim).collect() };
                if args.len() > m.params.len() {
                    return Err((loc, format!("macro {} takes {} argument(s)", st.op, m.params.len())));
                }
                let mut values = Vec::new();
                for (i, (name, default)) in m.params.iter().enumerate() {
                    let v = args.get(i).map(|s| s.to_string()).or_else(|| default.clone()).unwrap_or_default();
                    values.push((format!("\\{name}"), v));
                }
                // Longest parameter names first, so `\ab` is not read as `\a` + `b`.
                values.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
                let expanded: Vec<(Loc, String)> = m
                    .body
                    .iter()
                    .map(|line| {
                        let mut line = line.clone();
                        for (n, v) in &values {
                            line = line.replace(n.as_str(), v);
                        }
                        (loc.clone(), line.replace("\\()", ""))
                    })
                    .collect();
                if !st.labels.is_empty() {
                    self.out.push(Statement { op: String::new(), operands: String::new(), ..st });
                }
                self.run(expanded, depth + 1)?;
                continue;
            }
            if st.op == ".endm" {
                return Err((loc, ".endm without .macro".into()));
            }
            if self.out.len() >= MAX_STATEMENTS {
                return Err((loc, format!("more than {MAX_STATEMENTS} statements after macro expansion")));
            }
            self.out.push(st);
        }
        Ok(())
    }
}

/// `1:` becomes `..L1_k` (its k-th definition); `1b` the latest, `1f` the next one.
fn rename_local_labels(mut statements: Vec<Statement>) -> Result<Vec<Statement>, Located> {
    let mut defined: HashMap<String, usize> = HashMap::new();
    let name = |n: &str, k: usize| format!("..L{n}_{k}");
    for st in &mut statements {
        for label in &mut st.labels {
            if label.chars().all(|c| c.is_ascii_digit()) {
                let k = defined.entry(label.clone()).or_insert(0);
                *k += 1;
                *label = name(label, *k);
            }
        }
        if !st.operands.contains(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let mut out = String::with_capacity(st.operands.len());
        let text = std::mem::take(&mut st.operands);
        let (mut word_start, mut in_string) = (None::<usize>, false);
        let flush = |out: &mut String, word: &str| -> Result<(), String> {
            let (digits, dir) = word.split_at(word.len() - 1);
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && (dir == "f" || dir == "b") {
                let k = defined.get(digits).copied().unwrap_or(0);
                if dir == "b" {
                    if k == 0 {
                        return Err(format!("{word}: no local label {digits} before it"));
                    }
                    out.push_str(&name(digits, k));
                } else {
                    out.push_str(&name(digits, k + 1));
                }
            } else {
                out.push_str(word);
            }
            Ok(())
        };
        for (i, c) in text.char_indices() {
            if !in_string && is_ident_char(c) {
                word_start.get_or_insert(i);
                continue;
            }
            if let Some(s) = word_start.take() {
                flush(&mut out, &text[s..i]).map_err(|e| (st.loc.clone(), e))?;
            }
            if c == '"' {
                in_string = !in_string;
            }
            out.push(c);
        }
        if let Some(s) = word_start {
            flush(&mut out, &text[s..]).map_err(|e| (st.loc.clone(), e))?;
        }
        st.operands = out;
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(text: &str) -> Vec<(Vec<String>, String, String)> {
        statements(text).unwrap().into_iter().map(|s| (s.labels, s.op, s.operands)).collect()
    }

    #[test]
    fn statements_split_at_semicolons_and_keep_line_markers() {
        let st = statements("# 7 \"add.S\"\n a: b: li a0, 1; # c\n\n nop ; .ascii \"x;#\"").unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].labels, ["a", "b"]);
        assert_eq!((st[0].loc.file.as_deref(), st[0].loc.line), (Some("add.S"), 7));
        assert_eq!((st[1].op.as_str(), st[1].loc.line), ("nop", 9));
        assert_eq!(st[2].operands, "\"x;#\"");
    }

    #[test]
    fn numeric_labels_are_renamed_by_direction() {
        let st = ops("1: j 1f; 1: j 1b\n2: bnez a0, 2b; li a0, 0x1f; j 1b");
        assert_eq!(st[0].0, ["..L1_1"]);
        assert_eq!(st[0].2, "..L1_2");
        assert_eq!(st[1].2, "..L1_2", "1b on the line of a `1:` is that label");
        assert_eq!(st[2].2, "a0, ..L2_1");
        assert_eq!(st[3].2, "a0, 0x1f");
        assert_eq!(st[4].2, "..L1_2");
        assert!(statements("j 3b").is_err());
    }

    #[test]
    fn macros_expand_with_arguments() {
        let st = ops(".macro init; .endm\n.macro two a, b=5; li \\a, \\b; .endm\ninit; two t0; x: two t1, 7");
        assert_eq!(
            st,
            [
                (vec![], "li".to_string(), "t0, 5".to_string()),
                (vec!["x".to_string()], String::new(), String::new()),
                (vec![], "li".to_string(), "t1, 7".to_string()),
            ]
        );
        assert!(statements(".macro loop; loop; .endm; loop").is_err());
        assert!(statements(".macro open; nop").is_err());
    }
}
