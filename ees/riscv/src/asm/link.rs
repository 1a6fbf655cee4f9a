//! The subset of GNU ld's linker-script language that riscv-tests' `link.ld` uses, read
//! from the file itself rather than hard-coded: `OUTPUT_ARCH(..)`, `ENTRY(symbol)`, and in
//! `SECTIONS { }` the commands `. = ADDRESS;`, `. = ALIGN(N);`, `symbol = .;` and
//! `.out : { *(.in) *(.in.*) }`. Anything else is an error naming the line, so a changed
//! script cannot be laid out silently wrong.
//!
//! Placement follows ld: an output section starts at `.` aligned to its most-aligned
//! input, inputs follow in pattern order each at its own alignment, an empty output
//! section is dropped (but the `ALIGN`s around it still move `.`).

/// A parsed linker script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkScript {
    pub entry: Option<String>,
    commands: Vec<Command>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Command {
    /// `. = value` (`align` set: `. = ALIGN(value)`).
    SetDot {
        value: u64,
        align: bool,
    },
    /// `name = .`
    Symbol(String),
    Output {
        name: String,
        patterns: Vec<String>,
    },
}

/// An input section as the assembler produced it.
#[derive(Clone, Debug)]
pub struct InputSection {
    pub name: String,
    pub size: u32,
    pub align: u32,
}

/// Where the script puts things.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// The address of each input section (by index), `None` for an empty one no pattern takes.
    pub input_addresses: Vec<Option<u32>>,
    pub outputs: Vec<OutputSection>,
    /// Symbols the script assigns (`_end = .`).
    pub symbols: Vec<(String, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSection {
    pub name: String,
    pub address: u32,
    pub size: u32,
    pub align: u32,
    /// Indices of its input sections, in placement order.
    pub inputs: Vec<usize>,
}

impl LinkScript {
    pub fn parse(text: &str) -> Result<LinkScript, String> {
        let tokens = tokenize(&strip_block_comments(text))?;
        let mut t = Tokens { tokens: &tokens, at: 0 };
        let mut entry = None;
        let mut commands = Vec::new();
        while let Some(word) = t.next_opt() {
            match word {
                "ENTRY" => {
                    t.expect("(")?;
                    entry = Some(t.next()?.to_string());
                    t.expect(")")?;
                }
                "OUTPUT_ARCH" => {
                    t.expect("(")?;
                    t.next()?;
                    t.expect(")")?;
                }
                "SECTIONS" => {
                    t.expect("{")?;
                    while t.peek() != Some("}") {
                        commands.push(t.section_command()?);
                    }
                    t.expect("}")?;
                }
                ";" => {}
                other => return Err(t.error(&format!("unsupported command {other:?}"))),
            }
        }
        Ok(LinkScript { entry, commands })
    }

    /// Places `inputs`; an input with content that no pattern takes is an error.
    pub fn place(&self, inputs: &[InputSection]) -> Result<Placement, String> {
        let mut placed = Placement { input_addresses: vec![None; inputs.len()], ..Placement::default() };
        let mut dot: u64 = 0;
        for command in &self.commands {
            match command {
                Command::SetDot { value, align: false } => dot = *value,
                Command::SetDot { value, align: true } => dot = align_up(dot, (*value).max(1)),
                Command::Symbol(name) => placed.symbols.push((name.clone(), to_u32(dot)?)),
                Command::Output { name, patterns } => {
                    let mut members = Vec::new();
                    for p in patterns {
                        for (i, input) in inputs.iter().enumerate() {
                            if matches(p, &input.name) && placed.input_addresses[i].is_none() && !members.contains(&i) {
                                members.push(i);
                            }
                        }
                    }
                    let size: u64 = members.iter().map(|&i| u64::from(inputs[i].size)).sum();
                    if members.is_empty() || size == 0 {
                        continue;
                    }
                    let align = members.iter().map(|&i| inputs[i].align.max(1)).max().unwrap_or(1);
                    let start = align_up(dot, u64::from(align));
                    dot = start;
                    for &i in &members {
                        dot = align_up(dot, u64::from(inputs[i].align.max(1)));
                        placed.input_addresses[i] = Some(to_u32(dot)?);
                        dot += u64::from(inputs[i].size);
                    }
                    placed.outputs.push(OutputSection {
                        name: name.clone(),
                        address: to_u32(start)?,
                        size: to_u32(dot - start)?,
                        align,
                        inputs: members,
                    });
                    to_u32(dot)?;
                }
            }
        }
        if let Some((i, input)) =
            inputs.iter().enumerate().find(|(i, s)| s.size > 0 && placed.input_addresses[*i].is_none())
        {
            return Err(format!("section {} ({i}) is not placed by the link script", input.name));
        }
        Ok(placed)
    }
}

fn to_u32(v: u64) -> Result<u32, String> {
    u32::try_from(v).map_err(|_| format!("address 0x{v:x} is beyond 32 bits"))
}

fn align_up(v: u64, align: u64) -> u64 {
    v.div_ceil(align) * align
}

/// `*(.text)` takes `.text` only; `*(.text.*)` any name with that prefix.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Replaces `/* */` comments by spaces, keeping newlines (for line numbers).
fn strip_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").map_or(rest.len(), |e| start + e + 2);
        out.extend(rest[start..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Words (names, numbers, `.`, `*`) and punctuation, each with its line.
fn tokenize(text: &str) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line.trim_start();
        while let Some(c) = rest.chars().next() {
            let len = if "(){};=:*".contains(c) {
                1
            } else if c.is_ascii_alphanumeric() || "._$".contains(c) {
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || "._$".contains(c))).unwrap_or(rest.len())
            } else {
                return Err(format!("link script line {}: unexpected character {c:?}", i + 1));
            };
            out.push((i + 1, rest[..len].to_string()));
            rest = rest[len..].trim_start();
        }
    }
    Ok(out)
}

struct Tokens<'a> {
    tokens: &'a [(usize, String)],
    at: usize,
}

impl<'a> Tokens<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.tokens.get(self.at).map(|(_, t)| t.as_str())
    }

    fn next_opt(&mut self) -> Option<&'a str> {
        let t = self.peek();
        self.at += 1;
        t
    }

    fn next(&mut self) -> Result<&'a str, String> {
        self.next_opt().ok_or_else(|| "link script ends early".to_string())
    }

    fn error(&self, message: &str) -> String {
        let line = self.tokens.get(self.at.saturating_sub(1)).map_or(0, |(l, _)| *l);
        format!("link script line {line}: {message}")
    }

    fn expect(&mut self, want: &str) -> Result<(), String> {
        match self.next_opt() {
            Some(t) if t == want => Ok(()),
            other => Err(self.error(&format!("expected {want:?}, found {:?}", other.unwrap_or("end of file")))),
        }
    }

    fn number(&mut self) -> Result<u64, String> {
        let word = self.next()?;
        // 32-bit addresses: a larger value cannot be placed (and could overflow `.`).
        parse_number(word)
            .filter(|&v| v <= u64::from(u32::MAX))
            .ok_or_else(|| self.error(&format!("unsupported value {word:?}")))
    }

    fn section_command(&mut self) -> Result<Command, String> {
        let name = self.next()?;
        match self.next()? {
            "=" if name == "." => {
                let command = if self.peek() == Some("ALIGN") {
                    self.next()?;
                    self.expect("(")?;
                    let value = self.number()?;
                    self.expect(")")?;
                    Command::SetDot { value, align: true }
                } else {
                    Command::SetDot { value: self.number()?, align: false }
                };
                self.expect(";")?;
                Ok(command)
            }
            "=" => {
                self.expect(".")?;
                self.expect(";")?;
                Ok(Command::Symbol(name.to_string()))
            }
            ":" => {
                self.expect("{")?;
                let mut patterns = Vec::new();
                while self.peek() != Some("}") {
                    self.expect("*")?;
                    self.expect("(")?;
                    let mut pattern = self.next()?.to_string();
                    if self.peek() == Some("*") {
                        self.next()?;
                        pattern.push('*');
                    }
                    patterns.push(pattern);
                    self.expect(")")?;
                }
                self.expect("}")?;
                Ok(Command::Output { name: name.to_string(), patterns })
            }
            other => Err(self.error(&format!("unsupported command {name} {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "OUTPUT_ARCH(riscv)\nENTRY(_start)\nSECTIONS\n{\n  . = 0x80000000;\n  .text.init : { *(.text.init) }\n  . = ALIGN(0x1000);\n  .tohost : { *(.tohost) }\n  . = ALIGN(0x1000);\n  .text : { *(.text) }\n  . = ALIGN(0x1000);\n  .data : { *(.data) }\n  .bss : { *(.bss) }\n  _end = .;\n}\n";

    fn input(name: &str, size: u32, align: u32) -> InputSection {
        InputSection { name: name.into(), size, align }
    }

    #[test]
    fn places_like_ld() {
        let script = LinkScript::parse(SCRIPT).unwrap();
        assert_eq!(script.entry.as_deref(), Some("_start"));
        let inputs = [input(".text.init", 0x680, 64), input(".tohost", 0x48, 64), input(".data", 0x10, 16)];
        let p = script.place(&inputs).unwrap();
        assert_eq!(p.input_addresses, [Some(0x8000_0000), Some(0x8000_1000), Some(0x8000_2000)]);
        assert_eq!(p.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), [".text.init", ".tohost", ".data"]);
        assert_eq!(p.symbols, [("_end".to_string(), 0x8000_2010)]);
        // Empty .tohost and .text are dropped (the ALIGNs still apply); .bss follows .data at its own alignment.
        let p = script.place(&[input(".text.init", 4, 4), input(".data", 3, 1), input(".bss", 8, 8)]).unwrap();
        assert_eq!(p.input_addresses, [Some(0x8000_0000), Some(0x8000_1000), Some(0x8000_1008)]);
    }

    #[test]
    fn the_committed_link_ld_parses() {
        let committed = include_str!("../../../../riscv-tests/env/link.ld");
        assert_eq!(LinkScript::parse(committed).unwrap(), LinkScript::parse(SCRIPT).unwrap());
    }

    #[test]
    fn unknown_commands_and_orphans_are_errors() {
        assert!(LinkScript::parse("SECTIONS { . = SIZEOF(.text); }").unwrap_err().contains("line 1"));
        assert!(LinkScript::parse("MEMORY { }").is_err());
        assert!(LinkScript::parse("SECTIONS {\n . = 0x100000000; }").unwrap_err().contains("line 2"));
        let script = LinkScript::parse(SCRIPT).unwrap();
        assert!(script.place(&[input(".rodata", 4, 4)]).unwrap_err().contains(".rodata"));
    }
}
