//! Turns source text into the token stream the grammar reads, applying the layout rules.
//!
//! The layout filter keeps a stack of bracket modes: newlines are dropped inside `( )` and
//! `[ ]` but significant again inside a `{ }` opened there; runs of newlines collapse; a
//! newline is dropped at the start and end of the file, right after `{`, right before `}`
//! and `else`, and after a token that cannot end a statement (line continuation). Brackets
//! are matched here, so the parser only sees balanced input nested at most
//! [`MAX_NESTING`] deep.

use logos::Logos;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::token::{LexError, Tok};

/// The deepest bracket nesting accepted.
pub const MAX_NESTING: usize = 256;

/// The most lexical errors reported for one file (the rest are usually consequences).
const MAX_ERRORS: usize = 20;

/// A token with its byte range, as the lalrpop parser consumes it.
pub type Spanned = (usize, Tok, usize);

/// Lexes `source` and applies the layout rules. Returns every lexical error found (up
/// to a limit) when there is any.
pub fn lex(source: &str) -> Result<Vec<Spanned>, Vec<Diagnostic>> {
    let mut layout = Layout::default();
    let mut errors = Vec::new();
    let mut lexer = Tok::lexer(source);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        match result {
            Ok(tok) => {
                if let Err(error) = layout.push(range.start, tok, range.end) {
                    // A bracket error makes everything after it noise: stop here.
                    errors.push(error);
                    return Err(errors);
                }
            }
            Err(error) => {
                errors.push(lex_diagnostic(error, range, source));
                if errors.len() >= MAX_ERRORS {
                    return Err(errors);
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    layout.finish(source.len())
}

fn lex_diagnostic(error: LexError, range: std::ops::Range<usize>, source: &str) -> Diagnostic {
    let span = error.span.unwrap_or(Span::new(range.start, range.end));
    let message = error.message.unwrap_or_else(|| {
        let c = source[range.start..].chars().next().unwrap_or('\0');
        format!("unknown character `{}`", c.escape_debug())
    });
    let diagnostic = Diagnostic::error(message, span);
    match error.help {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

/// Which bracket is open, and whether newlines count inside it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Open {
    Paren,
    Bracket,
    Brace,
}

impl Open {
    fn close(self) -> &'static str {
        match self {
            Open::Paren => ")",
            Open::Bracket => "]",
            Open::Brace => "}",
        }
    }

    fn open(self) -> &'static str {
        match self {
            Open::Paren => "(",
            Open::Bracket => "[",
            Open::Brace => "{",
        }
    }
}

#[derive(Default)]
struct Layout {
    out: Vec<Spanned>,
    stack: Vec<(Open, Span)>,
    /// A significant newline seen since the last token: (start, end) of the first one.
    pending_newline: Option<(usize, usize)>,
}

impl Layout {
    fn newlines_count(&self) -> bool {
        !matches!(self.stack.last(), Some((Open::Paren | Open::Bracket, _)))
    }

    fn push(&mut self, start: usize, tok: Tok, end: usize) -> Result<(), Diagnostic> {
        if tok == Tok::Newline {
            if self.newlines_count() && self.pending_newline.is_none() {
                self.pending_newline = Some((start, end));
            }
            return Ok(());
        }
        if let Some((nl_start, nl_end)) = self.pending_newline.take() {
            let keep = match self.out.last() {
                None => false,
                Some((_, prev, _)) => !continues_line(prev),
            } && !matches!(tok, Tok::RBrace | Tok::Else | Tok::Catch);
            if keep {
                self.out.push((nl_start, Tok::Newline, nl_end));
            }
        }
        let span = Span::new(start, end);
        match tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => {
                if self.stack.len() >= MAX_NESTING {
                    return Err(Diagnostic::error(
                        format!("nesting too deep (more than {MAX_NESTING} levels)"),
                        span,
                    ));
                }
                let open = match tok {
                    Tok::LParen => Open::Paren,
                    Tok::LBracket => Open::Bracket,
                    _ => Open::Brace,
                };
                self.stack.push((open, span));
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                let want = match tok {
                    Tok::RParen => Open::Paren,
                    Tok::RBracket => Open::Bracket,
                    _ => Open::Brace,
                };
                match self.stack.pop() {
                    Some((open, _)) if open == want => {}
                    Some((open, open_span)) => {
                        return Err(Diagnostic::error(
                            format!(
                                "mismatched closing delimiter: expected `{}`, found `{}`",
                                open.close(),
                                want.close()
                            ),
                            span,
                        )
                        .with_secondary(open_span, format!("`{}` opened here", open.open())));
                    }
                    None => {
                        return Err(Diagnostic::error(
                            format!("unmatched closing delimiter `{}`", want.close()),
                            span,
                        )
                        .with_label("no matching opening delimiter"));
                    }
                }
            }
            _ => {}
        }
        self.out.push((start, tok, end));
        Ok(())
    }

    fn finish(self, len: usize) -> Result<Vec<Spanned>, Vec<Diagnostic>> {
        if let Some(&(open, span)) = self.stack.last() {
            return Err(vec![
                Diagnostic::error(format!("unclosed delimiter `{}`", open.open()), span)
                    .with_label(format!("this `{}` is never closed", open.open()))
                    .with_secondary(Span::new(len, len), "the file ends here"),
            ]);
        }
        Ok(self.out)
    }
}

/// Whether a statement cannot end with `tok`, so a newline after it continues the line.
fn continues_line(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::EqEq
            | Tok::NotEq
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::Percent
            | Tok::Bang
            | Tok::AndAnd
            | Tok::OrOr
            | Tok::Assign
            | Tok::Comma
            | Tok::Colon
            | Tok::Arrow
            | Tok::Dot
            | Tok::LParen
            | Tok::LBracket
            | Tok::LBrace
            | Tok::At
            | Tok::In
            | Tok::Else
            | Tok::Catch
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(source: &str) -> Vec<Tok> {
        lex(source).expect("lexes").into_iter().map(|(_, t, _)| t).collect()
    }

    fn first_error(source: &str) -> (String, Span) {
        let errors = lex(source).expect_err("fails");
        (errors[0].message.clone(), errors[0].primary_span().unwrap())
    }

    #[test]
    fn literals() {
        assert_eq!(
            toks("1 1.5 2.0e-3 250ms 2s 1m \"a\\n\\{\""),
            vec![
                Tok::Int(1),
                Tok::Float(1.5),
                Tok::Float(2.0e-3),
                Tok::Duration(250),
                Tok::Duration(2000),
                Tok::Duration(60000),
                Tok::Str("a\n{".into()),
            ]
        );
    }

    #[test]
    fn tensor_and_nested_generics() {
        assert_eq!(
            toks("list<list<int>> tensor<4x?x384xf32>"),
            vec![
                Tok::Ident("list".into()),
                Tok::Lt,
                Tok::Ident("list".into()),
                Tok::Lt,
                Tok::Ident("int".into()),
                Tok::Gt,
                Tok::Gt,
                Tok::Tensor((vec![Some(4), None, Some(384)], "f32".into())),
            ]
        );
        assert_eq!(toks("tensor<bf16>"), vec![Tok::Tensor((vec![], "bf16".into()))]);
    }

    #[test]
    fn layout_rules() {
        assert_eq!(
            toks("\n\na\n\n\nb(\nc,\nd\n)\n{\ne\n}\nelse\nf +\ng\n"),
            vec![
                Tok::Ident("a".into()),
                Tok::Newline,
                Tok::Ident("b".into()),
                Tok::LParen,
                Tok::Ident("c".into()),
                Tok::Comma,
                Tok::Ident("d".into()),
                Tok::RParen,
                Tok::Newline,
                Tok::LBrace,
                Tok::Ident("e".into()),
                Tok::RBrace,
                Tok::Else,
                Tok::Ident("f".into()),
                Tok::Plus,
                Tok::Ident("g".into()),
            ]
        );
        // A brace inside parentheses is newline-separated again.
        assert_eq!(
            toks("(x\n{a\nb}\ny)"),
            vec![
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::LBrace,
                Tok::Ident("a".into()),
                Tok::Newline,
                Tok::Ident("b".into()),
                Tok::RBrace,
                Tok::Ident("y".into()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn errors_have_spans() {
        assert_eq!(
            first_error("x = 99999999999999999999"),
            ("integer literal too large".into(), Span::new(4, 24))
        );
        assert_eq!(first_error("\"ab\\q\"").1, Span::new(3, 5));
        assert_eq!(first_error("\"abc").0, "unterminated string literal");
        assert_eq!(first_error("tensor<4xq32>").1, Span::new(0, 13));
        assert_eq!(first_error("a # b"), ("unknown character `#`".into(), Span::new(2, 3)));
        assert_eq!(first_error("(]").1, Span::new(1, 2));
        assert_eq!(first_error("a)").0, "unmatched closing delimiter `)`");
        assert_eq!(first_error("{(").0, "unclosed delimiter `(`");
        assert_eq!(first_error("3min").1, Span::new(1, 4));
        let deep = "(".repeat(10_000);
        assert_eq!(
            first_error(&deep),
            ("nesting too deep (more than 256 levels)".into(), Span::new(256, 257))
        );
    }
}
