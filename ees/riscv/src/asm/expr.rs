//! Operand expressions as GNU as reads them: numbers (decimal, `0x`, `0b`, leading-zero
//! octal, `'c'`), symbols, `.` (the current address), unary `- ~ + !`, the binary operators
//! with GAS's precedence (`* / % << >>` above `| & ^` above `+ -`, then `&&`, `||`: not C's),
//! parentheses, and the RISC-V relocation functions `%hi`, `%lo`, `%pcrel_hi`, `%pcrel_lo`.
//! Values are 64-bit like GAS's, so `0xffffffff` and `-1` are both fine for a 32-bit field.

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    Num(i64),
    Symbol(String),
    /// `.`: the address of the statement.
    Here,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    LogicalNot(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Reloc(Reloc, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    Or,
    And,
    Xor,
    Add,
    Sub,
    LogicalAnd,
    LogicalOr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reloc {
    /// Upper 20 bits, rounded so that `%lo` sign-extends back: for `lui`.
    Hi,
    /// The sign-extended low 12 bits that go with `%hi`.
    Lo,
    /// `%hi` of the distance from the statement's address: for `auipc`.
    PcrelHi,
    /// `%lo` of the distance computed by the `%pcrel_hi` at the labelled `auipc`.
    PcrelLo,
}

/// What an expression's symbols and relocation functions are evaluated against.
pub(crate) trait Env {
    fn symbol(&self, name: &str) -> Result<i64, String>;
    /// The address of the statement being assembled.
    fn here(&self) -> i64;
    /// The distance the `%pcrel_hi` of the `auipc` at `address` computed.
    fn pcrel_hi_at(&self, address: i64) -> Result<i64, String>;
    /// Told the distance each `%pcrel_hi` computes, for the `%pcrel_lo` that names its `auipc`.
    fn record_pcrel_hi(&self, _distance: i64) {}
}

/// `(hi, lo)` with `(hi << 12) + lo == v` (mod 2^32) and `lo` in `-2048..2048`.
pub(crate) fn hi_lo(v: i64) -> (i64, i64) {
    let v = v as u32;
    let hi = (v.wrapping_add(0x800) >> 12) & 0xfffff;
    let lo = i64::from((v << 20) as i32 >> 20);
    (i64::from(hi), lo)
}

impl Expr {
    pub(crate) fn eval(&self, env: &dyn Env) -> Result<i64, String> {
        Ok(match self {
            Expr::Num(v) => *v,
            Expr::Symbol(name) => env.symbol(name)?,
            Expr::Here => env.here(),
            Expr::Neg(e) => e.eval(env)?.wrapping_neg(),
            Expr::Not(e) => !e.eval(env)?,
            Expr::LogicalNot(e) => i64::from(e.eval(env)? == 0),
            Expr::Binary(op, a, b) => {
                let (a, b) = (a.eval(env)?, b.eval(env)?);
                match op {
                    BinOp::Mul => a.wrapping_mul(b),
                    BinOp::Div | BinOp::Rem if b == 0 => return Err("division by zero".into()),
                    BinOp::Div => a.wrapping_div(b),
                    BinOp::Rem => a.wrapping_rem(b),
                    // GAS shifts its 64-bit value logically in both directions.
                    BinOp::Shl => u32::try_from(b).ok().and_then(|b| (a as u64).checked_shl(b)).unwrap_or(0) as i64,
                    BinOp::Shr => u32::try_from(b).ok().and_then(|b| (a as u64).checked_shr(b)).unwrap_or(0) as i64,
                    BinOp::Or => a | b,
                    BinOp::And => a & b,
                    BinOp::Xor => a ^ b,
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::LogicalAnd => i64::from(a != 0 && b != 0),
                    BinOp::LogicalOr => i64::from(a != 0 || b != 0),
                }
            }
            Expr::Reloc(kind, e) => {
                let v = e.eval(env)?;
                match kind {
                    Reloc::Hi => hi_lo(v).0,
                    Reloc::Lo => hi_lo(v).1,
                    Reloc::PcrelHi => {
                        let distance = v.wrapping_sub(env.here());
                        env.record_pcrel_hi(distance);
                        hi_lo(distance).0
                    }
                    Reloc::PcrelLo => hi_lo(env.pcrel_hi_at(v)?).1,
                }
            }
        })
    }

    /// Every symbol the expression names (not `.`).
    pub(crate) fn symbols(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_symbols(&mut out);
        out
    }

    fn collect_symbols<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Symbol(s) => out.push(s),
            Expr::Num(_) | Expr::Here => {}
            Expr::Neg(e) | Expr::Not(e) | Expr::LogicalNot(e) | Expr::Reloc(_, e) => e.collect_symbols(out),
            Expr::Binary(_, a, b) => {
                a.collect_symbols(out);
                b.collect_symbols(out);
            }
        }
    }

    /// Whether `.` occurs in it.
    pub(crate) fn has_here(&self) -> bool {
        match self {
            Expr::Here => true,
            Expr::Num(_) | Expr::Symbol(_) => false,
            Expr::Neg(e) | Expr::Not(e) | Expr::LogicalNot(e) | Expr::Reloc(_, e) => e.has_here(),
            Expr::Binary(_, a, b) => a.has_here() || b.has_here(),
        }
    }

    /// A constant: no symbols, no `.`, no relocation function.
    pub(crate) fn is_constant(&self) -> bool {
        match self {
            Expr::Num(_) => true,
            Expr::Symbol(_) | Expr::Here | Expr::Reloc(..) => false,
            Expr::Neg(e) | Expr::Not(e) | Expr::LogicalNot(e) => e.is_constant(),
            Expr::Binary(_, a, b) => a.is_constant() && b.is_constant(),
        }
    }
}

/// Parses a whole operand as one expression.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = Parser { tokens: &tokens, at: 0, depth: 0 };
    let e = p.expr(0)?;
    match p.tokens.get(p.at) {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {t:?} in expression {text:?}")),
    }
}

/// A number literal in GAS's notations, or `None`.
pub(crate) fn number(s: &str) -> Option<i64> {
    let parse_u = |digits: &str, radix| u64::from_str_radix(digits, radix).ok().map(|v| v as i64);
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        parse_u(h, 16)
    } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        parse_u(b, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        parse_u(&s[1..], 8)
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        parse_u(s, 10)
    } else {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Num(i64),
    Ident(String),
    Reloc(Reloc),
    Op(&'static str),
    Open,
    Close,
}

const OPERATORS: [&str; 15] = ["<<", ">>", "&&", "||", "*", "/", "%", "|", "&", "^", "+", "-", "~", "!", "."];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while let Some(c) = rest.chars().next() {
        let len;
        if c == '(' {
            tokens.push(Token::Open);
            len = 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            len = 1;
        } else if c == '\'' {
            // 'c' (GAS also takes 'c without the closing quote).
            let mut chars = rest[1..].chars();
            let ch = chars.next().ok_or("lone quote")?;
            let (value, mut used) = if ch == '\\' {
                let e = chars.next().ok_or("lone backslash")?;
                (escape(e).ok_or_else(|| format!("unknown escape \\{e}"))?, 2 + e.len_utf8())
            } else {
                (ch as u8, 1 + ch.len_utf8())
            };
            if rest[used..].starts_with('\'') {
                used += 1;
            }
            tokens.push(Token::Num(i64::from(value)));
            len = used;
        } else if c == '%' && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let name_len = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len() - 1);
            let name = &rest[1..1 + name_len];
            let kind = match name {
                "hi" => Reloc::Hi,
                "lo" => Reloc::Lo,
                "pcrel_hi" => Reloc::PcrelHi,
                "pcrel_lo" => Reloc::PcrelLo,
                _ => return Err(format!("unknown relocation function %{name}")),
            };
            tokens.push(Token::Reloc(kind));
            len = 1 + name_len;
        } else if c.is_ascii_digit() {
            let n = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let v = number(&rest[..n]).ok_or_else(|| format!("bad number {:?}", &rest[..n]))?;
            tokens.push(Token::Num(v));
            len = n;
        } else if is_ident_char(c) && (c != '.' || rest[1..].starts_with(is_ident_char)) {
            let n = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
            tokens.push(Token::Ident(rest[..n].to_string()));
            len = n;
        } else if let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) {
            tokens.push(Token::Op(op));
            len = op.len();
        } else {
            return Err(format!("unexpected character {c:?} in expression {text:?}"));
        }
        rest = rest[len..].trim_start();
    }
    Ok(tokens)
}

/// The byte for `\e` in a string or character constant.
pub(crate) fn escape(e: char) -> Option<u8> {
    Some(match e {
        'n' => b'\n',
        't' => b'\t',
        'r' => b'\r',
        '0' => 0,
        'b' => 8,
        'f' => 12,
        '\\' => b'\\',
        '"' => b'"',
        '\'' => b'\'',
        _ => return None,
    })
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    /// Nesting of parentheses and unary operators, bounded so that no input overflows the stack.
    depth: usize,
}

const MAX_NESTING: usize = 256;

/// Binary operators by GAS precedence level, loosest first.
const LEVELS: [&[(&str, BinOp)]; 5] = [
    &[("||", BinOp::LogicalOr)],
    &[("&&", BinOp::LogicalAnd)],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[("|", BinOp::Or), ("&", BinOp::And), ("^", BinOp::Xor)],
    &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem), ("<<", BinOp::Shl), (">>", BinOp::Shr)],
];

impl Parser<'_> {
    fn expr(&mut self, level: usize) -> Result<Expr, String> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.expr(level + 1)?;
        while let Some(Token::Op(op)) = self.tokens.get(self.at) {
            let Some(&(_, bin)) = LEVELS[level].iter().find(|(name, _)| name == op) else { break };
            self.at += 1;
            let right = self.expr(level + 1)?;
            left = Expr::Binary(bin, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.depth == MAX_NESTING {
            return Err(format!("expression nested more than {MAX_NESTING} deep"));
        }
        self.depth += 1;
        let e = self.primary();
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("expression ends early")?;
        self.at += 1;
        Ok(match token {
            Token::Num(v) => Expr::Num(v),
            Token::Ident(name) => Expr::Symbol(name),
            Token::Op(".") => Expr::Here,
            Token::Op("-") => Expr::Neg(Box::new(self.unary()?)),
            Token::Op("+") => self.unary()?,
            Token::Op("~") => Expr::Not(Box::new(self.unary()?)),
            Token::Op("!") => Expr::LogicalNot(Box::new(self.unary()?)),
            Token::Open => {
                let e = self.expr(0)?;
                self.close()?;
                e
            }
            Token::Reloc(kind) => {
                if self.tokens.get(self.at) != Some(&Token::Open) {
                    return Err("a relocation function needs a parenthesized argument".into());
                }
                self.at += 1;
                let e = self.expr(0)?;
                self.close()?;
                Expr::Reloc(kind, Box::new(e))
            }
            other => return Err(format!("unexpected {other:?} in expression")),
        })
    }

    fn close(&mut self) -> Result<(), String> {
        if self.tokens.get(self.at) == Some(&Token::Close) {
            self.at += 1;
            Ok(())
        } else {
            Err("missing ')'".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct At(i64);
    impl Env for At {
        fn symbol(&self, name: &str) -> Result<i64, String> {
            match name {
                "sym" => Ok(0x8000_1234),
                _ => Err(format!("unknown symbol {name}")),
            }
        }
        fn here(&self) -> i64 {
            self.0
        }
        fn pcrel_hi_at(&self, address: i64) -> Result<i64, String> {
            Ok(0x8000_1234 - address)
        }
    }

    fn eval(s: &str) -> i64 {
        parse(s).unwrap().eval(&At(0x8000_0000)).unwrap()
    }

    #[test]
    fn numbers_and_gas_precedence() {
        assert_eq!(eval("(1<<31)"), 0x8000_0000);
        assert_eq!(eval("-10000"), -10000);
        assert_eq!(eval("0x7ff"), 2047);
        assert_eq!(eval("010"), 8, "a leading zero is octal in GAS");
        assert_eq!(eval("0b101"), 5);
        assert_eq!(eval("'a'"), 97);
        assert_eq!(eval("(((0x801) & 0x7ff) - ((0x801) & 0x800))"), -2047);
        // GAS binds & tighter than +, and << as tightly as *.
        assert_eq!(eval("1 + 6 & 3"), 3);
        assert_eq!(eval("2 * 1 << 3"), 16);
        assert_eq!(eval("~0"), -1);
        assert_eq!(eval("sym + 4 - ."), 0x1238);
    }

    #[test]
    fn hostile_expressions_are_errors_or_values() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep).unwrap_err().contains("nested more than"));
        assert!(parse(&"-".repeat(100_000)).is_err());
        assert_eq!(eval("1 << 4294967297"), 0, "a shift by 2^32 + 1 is not a shift by 1");
        assert_eq!(eval("1 << -1"), 0);
        assert_eq!(eval("(-9223372036854775807 - 1) / -1"), i64::MIN);
        assert!(parse("1 / 0").unwrap().eval(&At(0)).is_err());
    }

    #[test]
    fn relocation_functions() {
        assert_eq!(eval("%hi(sym)"), 0x80001);
        assert_eq!(eval("%lo(sym)"), 0x234);
        assert_eq!(eval("%hi(0x12345fff)"), 0x12346);
        assert_eq!(eval("%lo(0x12345fff)"), -1);
        assert_eq!(eval("%pcrel_hi(sym)"), 1);
        assert_eq!(eval("%pcrel_lo(0x80000000)"), 0x234);
    }

    #[test]
    fn errors() {
        assert!(parse("1 +").is_err());
        assert!(parse("(1").is_err());
        assert!(parse("%foo(1)").is_err());
        assert!(parse("1 / 0").unwrap().eval(&At(0)).is_err());
        assert!(parse("nosuch").unwrap().eval(&At(0)).is_err());
    }
}
