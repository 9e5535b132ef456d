//! The tokens of `.agent` source, recognised by a logos-generated scanner.
//!
//! Literals whose validation needs more than a regular expression (numbers with their
//! suffixes, strings with escapes, tensor types) are scanned by small callbacks that report
//! precise errors; [`crate::lexer`] then applies the layout rules (newlines, brackets).

use std::fmt;

use logos::{Lexer, Logos};

use crate::span::Span;

/// A lexical error: a message and, where narrower than the token, the exact span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LexError {
    /// What went wrong; `None` means "a character no token starts with".
    pub message: Option<String>,
    /// The span of the problem when it is not the whole token.
    pub span: Option<Span>,
    /// An optional `help:` line.
    pub help: Option<String>,
}

impl LexError {
    fn new(message: impl Into<String>) -> Self {
        LexError { message: Some(message.into()), span: None, help: None }
    }

    fn at(message: impl Into<String>, start: usize, end: usize) -> Self {
        LexError { message: Some(message.into()), span: Some(Span::new(start, end)), help: None }
    }
}

/// One token. Keywords and punctuation carry no data; literals carry their decoded value.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\x0C]+")]
#[logos(skip r"//[^\n]*")]
pub enum Tok {
    /// `model`
    #[token("model")]
    Model,
    /// `tool`
    #[token("tool")]
    Tool,
    /// `fn`
    #[token("fn")]
    Fn,
    /// `agent`
    #[token("agent")]
    Agent,
    /// `record`
    #[token("record")]
    Record,
    /// `let`
    #[token("let")]
    Let,
    /// `loop`
    #[token("loop")]
    Loop,
    /// `map`
    #[token("map")]
    Map,
    /// `in`
    #[token("in")]
    In,
    /// `if`
    #[token("if")]
    If,
    /// `else`
    #[token("else")]
    Else,
    /// `try`
    #[token("try")]
    Try,
    /// `catch`
    #[token("catch")]
    Catch,
    /// `break`
    #[token("break")]
    Break,
    /// `return`
    #[token("return")]
    Return,
    /// `true`
    #[token("true")]
    True,
    /// `false`
    #[token("false")]
    False,
    /// An identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A duration literal in milliseconds.
    Duration(u64),
    /// A string literal, escapes decoded.
    Str(String),
    /// A tensor type `tensor<4x?xf32>`: dimensions and element type name.
    Tensor((Vec<Option<u64>>, String)),
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `.`
    #[token(".")]
    Dot,
    /// `->`
    #[token("->")]
    Arrow,
    /// `=`
    #[token("=")]
    Assign,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `%`
    #[token("%")]
    Percent,
    /// `!`
    #[token("!")]
    Bang,
    /// `&&`
    #[token("&&")]
    AndAnd,
    /// `||`
    #[token("||")]
    OrOr,
    /// `@`
    #[token("@")]
    At,
    /// A line break (`\n` or `\r\n`); the layout filter decides which ones matter.
    #[regex(r"\r?\n")]
    Newline,
    /// Never produced: the patterns whose callbacks decide the token (numbers, strings,
    /// tensor types) or always fail (a stray carriage return) hang on this variant.
    #[regex(r"[0-9]", lex_number)]
    #[token("\"", lex_string)]
    #[token("tensor<", lex_tensor)]
    #[token("\r", stray_cr)]
    Scanned,
}

impl Tok {
    /// How the token is described in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("identifier `{name}`"),
            Tok::Int(value) => format!("integer `{value}`"),
            Tok::Float(value) => format!("float `{value}`"),
            Tok::Duration(ms) => format!("duration `{ms}ms`"),
            Tok::Str(_) => "a string".to_string(),
            Tok::Tensor(..) => "a tensor type".to_string(),
            Tok::Newline => "a newline".to_string(),
            other => format!("`{other}`"),
        }
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Tok::Model => "model",
            Tok::Tool => "tool",
            Tok::Fn => "fn",
            Tok::Agent => "agent",
            Tok::Record => "record",
            Tok::Let => "let",
            Tok::Loop => "loop",
            Tok::Map => "map",
            Tok::In => "in",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::Try => "try",
            Tok::Catch => "catch",
            Tok::Break => "break",
            Tok::Return => "return",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Ident(name) => return write!(f, "{name}"),
            Tok::Int(value) => return write!(f, "{value}"),
            Tok::Float(value) => return write!(f, "{value:?}"),
            Tok::Duration(ms) => return write!(f, "{ms}ms"),
            Tok::Str(text) => return write!(f, "{text:?}"),
            Tok::Tensor((dims, elem)) => {
                write!(f, "tensor<")?;
                for dim in dims {
                    match dim {
                        Some(n) => write!(f, "{n}x")?,
                        None => write!(f, "?x")?,
                    }
                }
                return write!(f, "{elem}>");
            }
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Arrow => "->",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Bang => "!",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::At => "@",
            Tok::Newline => "\\n",
            Tok::Scanned => "?",
        };
        f.write_str(text)
    }
}

/// A carriage return not followed by a line feed is an error.
fn stray_cr(_: &mut Lexer<'_, Tok>) -> Result<Tok, LexError> {
    Err(LexError::new("stray carriage return (`\\r` not followed by `\\n`)")
        .with_help("use `\\n` or `\\r\\n` line endings"))
}

/// Scans a number starting at the matched digit: an integer, a float (`1.5`, `2.0e-3`,
/// `1e9`) or a duration (`250ms`, `2s`, `1m`). Letters glued to a number are an error.
fn lex_number(lex: &mut Lexer<'_, Tok>) -> Result<Tok, LexError> {
    let start = lex.span().start;
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() && rest[i].is_ascii_digit() {
        i += 1;
    }
    let mut is_float = false;
    // A fraction needs a digit after the dot (so `xs.len` style chains stay tokens).
    if i + 1 < rest.len() && rest[i] == b'.' && rest[i + 1].is_ascii_digit() {
        is_float = true;
        i += 1;
        while i < rest.len() && rest[i].is_ascii_digit() {
            i += 1;
        }
    }
    // An exponent: e, optional sign, at least one digit.
    if i < rest.len() && (rest[i] == b'e' || rest[i] == b'E') {
        let mut j = i + 1;
        if j < rest.len() && (rest[j] == b'+' || rest[j] == b'-') {
            j += 1;
        }
        if j < rest.len() && rest[j].is_ascii_digit() {
            while j < rest.len() && rest[j].is_ascii_digit() {
                j += 1;
            }
            is_float = true;
            i = j;
        }
    }
    let digits_end = i;
    while i < rest.len() && (rest[i].is_ascii_alphanumeric() || rest[i] == b'_') {
        i += 1;
    }
    lex.bump(i);
    let text = lex.slice();
    let number = &text[..1 + digits_end];
    let suffix = &text[1 + digits_end..];
    let end = lex.span().end;
    if !suffix.is_empty() {
        let scale: u64 = match suffix {
            "ms" if !is_float => 1,
            "s" if !is_float => 1_000,
            "m" if !is_float => 60_000,
            _ => {
                let mut error = LexError::at(
                    format!("invalid suffix `{suffix}` on a number literal"),
                    start + number.len(),
                    end,
                );
                error.help = Some("durations are written `250ms`, `2s` or `1m`".into());
                return Err(error);
            }
        };
        // At most i64::MAX milliseconds: the IR and the plan hold durations as i64.
        return match number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)).filter(|&ms| ms <= i64::MAX as u64) {
            Some(ms) => Ok(Tok::Duration(ms)),
            None => Err(LexError::new("duration literal too large").with_help("a duration is at most 9223372036854775807ms (about 292 million years)")),
        };
    }
    if is_float {
        match number.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Tok::Float(value)),
            _ => Err(LexError::new("float literal out of range")),
        }
    } else {
        match number.parse::<i64>() {
            Ok(value) => Ok(Tok::Int(value)),
            Err(_) => Err(LexError::new("integer literal too large")),
        }
    }
}

/// Scans a string literal after its opening quote, decoding escapes. A string ends at
/// its closing quote and may not span lines.
fn lex_string(lex: &mut Lexer<'_, Tok>) -> Result<Tok, LexError> {
    let start = lex.span().start;
    let rest = lex.remainder();
    let mut value = String::new();
    let mut error: Option<LexError> = None;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                lex.bump(i + 1);
                return match error {
                    Some(error) => Err(error),
                    None => Ok(Tok::Str(value)),
                };
            }
            '\n' | '\r' => break,
            '\\' => {
                let escape_start = start + 1 + i;
                match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, '{')) => value.push('{'),
                    Some((_, '}')) => value.push('}'),
                    Some((j, other)) if other != '\n' && other != '\r' => {
                        if error.is_none() {
                            let mut e = LexError::at(
                                format!("unknown escape `\\{}` in a string", other.escape_debug()),
                                escape_start,
                                start + 1 + j + other.len_utf8(),
                            );
                            e.help = Some(
                                "the escapes are `\\n` `\\t` `\\\\` `\\\"` `\\{` `\\}`".into(),
                            );
                            error = Some(e);
                        }
                    }
                    _ => break,
                }
            }
            other => value.push(other),
        }
    }
    // No closing quote on this line: consume up to the line end so lexing goes on after it.
    let line_len = rest.find(['\n', '\r']).unwrap_or(rest.len());
    lex.bump(line_len);
    Err(LexError::at("unterminated string literal", start, start + 1 + line_len).with_help(
        "a string ends with `\"` on the same line; write a line break as `\\n`",
    ))
}

impl LexError {
    fn with_help(mut self, help: &str) -> Self {
        self.help = Some(help.to_string());
        self
    }
}

/// Scans a tensor type after `tensor<`: `DIMxDIMx...xDTYPE>` without spaces.
fn lex_tensor(lex: &mut Lexer<'_, Tok>) -> Result<Tok, LexError> {
    let start = lex.span().start;
    let inner_start = lex.span().end;
    let rest = lex.remainder();
    let Some(close) = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '?' || c == '_'))
        .filter(|&i| rest.as_bytes()[i] == b'>')
    else {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '?' || c == '_'))
            .unwrap_or(rest.len());
        lex.bump(len);
        return Err(LexError::at(
            "malformed tensor type: expected `>`",
            start,
            inner_start + len,
        )
        .with_help("tensor types are written without spaces, as in `tensor<?x384xf32>`"));
    };
    lex.bump(close + 1);
    let inner = &rest[..close];
    let bad = |message: String| {
        Err(LexError::at(message, start, inner_start + close + 1)
            .with_help("tensor types are written as in `tensor<4x?x384xf32>`"))
    };
    let parts: Vec<&str> = inner.split('x').collect();
    let (elem, dim_parts) = match parts.split_last() {
        Some((elem, dims)) if !elem.is_empty() => (*elem, dims),
        _ => return bad("malformed tensor type: missing element type".into()),
    };
    // `bf16` contains no `x`, so the last part is the whole element type name.
    if crate::types::DType::from_name(elem).is_none() {
        return bad(format!(
            "unknown tensor element type `{elem}` (expected `f32`, `f16`, `bf16`, `i32` or `i64`)"
        ));
    }
    let mut dims = Vec::with_capacity(dim_parts.len());
    for part in dim_parts {
        if *part == "?" {
            dims.push(None);
        } else if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            match part.parse::<u64>() {
                Ok(n) => dims.push(Some(n)),
                Err(_) => return bad(format!("tensor dimension `{part}` is too large")),
            }
        } else {
            return bad(format!(
                "malformed tensor dimension `{part}` (expected an integer or `?`)"
            ));
        }
    }
    if !crate::types::tensor_size_ok(&dims) {
        return bad(format!("tensor type too large: more than 2^48 elements ({} at most)", crate::types::MAX_TENSOR_ELEMENTS));
    }
    Ok(Tok::Tensor((dims, elem.to_string())))
}
