//! Runs the lalrpop-generated parser over the lexer's tokens and turns its errors into
//! readable diagnostics ("expected `)`, found a newline").
//!
//! The grammar's actions build [`ast`] nodes together with their subtree depth and refuse
//! trees deeper than [`MAX_DEPTH`]: parsing itself uses an explicit stack, and the bound
//! keeps every later recursive walk (drop, debug printing, checking) shallow.

use lalrpop_util::ParseError;

use crate::ast::{self, Arg, Block, BinaryOp, Expr, ExprKind, Ident, Stmt, TypeExpr, TypeExprKind};
use crate::diagnostic::Diagnostic;
use crate::lexer::{self, Spanned};
use crate::span::Span;
use crate::token::Tok;

#[allow(clippy::all, missing_docs, unused_parens, unused_qualifications)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/grammar.rs"));
}

/// The deepest expression tree accepted (counting blocks, arguments and annotations).
pub const MAX_DEPTH: u32 = 256;

/// An error raised by a grammar action.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseIssue {
    /// The message.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// An expression with the depth of its tree.
pub(crate) type D = (Expr, u32);

type Failure = ParseError<usize, Tok, ParseIssue>;

/// Builds an expression node, refusing one whose tree is deeper than [`MAX_DEPTH`].
pub(crate) fn node(kind: ExprKind, l: usize, r: usize, depth: u32) -> Result<D, Failure> {
    let span = Span::new(l, r);
    if depth > MAX_DEPTH {
        return Err(ParseError::User {
            error: ParseIssue { message: "expression nested too deeply".into(), span },
        });
    }
    Ok((Expr { kind, span }, depth))
}

/// Builds a binary node.
pub(crate) fn binary(op: BinaryOp, a: D, b: D, l: usize, r: usize) -> Result<D, Failure> {
    let depth = a.1.max(b.1) + 1;
    node(ExprKind::Binary { op, lhs: Box::new(a.0), rhs: Box::new(b.0) }, l, r, depth)
}

/// Splits arguments from their depths, giving the deepest.
pub(crate) fn args_depth(args: Vec<(Arg, u32)>) -> (Vec<Arg>, u32) {
    let depth = args.iter().map(|a| a.1).max().unwrap_or(0);
    (args.into_iter().map(|a| a.0).collect(), depth)
}

/// Builds a block, counting it as one level of depth.
pub(crate) fn mk_block(stmts: Vec<(Stmt, u32)>, l: usize, r: usize) -> Result<(Block, u32), Failure> {
    let depth = stmts.iter().map(|s| s.1).max().unwrap_or(0) + 1;
    let span = Span::new(l, r);
    if depth > MAX_DEPTH {
        return Err(ParseError::User {
            error: ParseIssue { message: "expression nested too deeply".into(), span },
        });
    }
    Ok((Block { stmts: stmts.into_iter().map(|s| s.0).collect(), span }, depth))
}

/// Builds `NAME<T>`: only `list<T>` exists.
pub(crate) fn type_ctor(
    name: Ident,
    inner: (TypeExpr, u32),
    l: usize,
    r: usize,
) -> Result<(TypeExpr, u32), Failure> {
    let span = Span::new(l, r);
    if inner.1 >= MAX_DEPTH {
        return Err(ParseError::User {
            error: ParseIssue { message: "type nested too deeply".into(), span },
        });
    }
    if name.name == "list" {
        Ok((TypeExpr { kind: TypeExprKind::List(Box::new(inner.0)), span }, inner.1 + 1))
    } else {
        Err(ParseError::User {
            error: ParseIssue {
                message: format!("unknown type constructor `{}` (only `list<T>` takes a type)", name.name),
                span: name.span,
            },
        })
    }
}

/// Parses source text into an untyped program.
pub fn parse(source: &str) -> Result<ast::Program, Vec<Diagnostic>> {
    let tokens = lexer::lex(source)?;
    parse_tokens(tokens, source.len())
}

/// Parses an already lexed token stream.
pub fn parse_tokens(tokens: Vec<Spanned>, source_len: usize) -> Result<ast::Program, Vec<Diagnostic>> {
    let parser = generated::ProgramParser::new();
    parser
        .parse(tokens.into_iter().map(Ok::<Spanned, ParseIssue>))
        .map_err(|error| vec![diagnostic_of(error, source_len)])
}

fn diagnostic_of(error: Failure, source_len: usize) -> Diagnostic {
    match error {
        ParseError::InvalidToken { location } => {
            Diagnostic::error("invalid token", Span::new(location, location))
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let location = location.min(source_len);
            Diagnostic::error(
                format!("expected {}, found end of file", describe_expected(&expected)),
                Span::new(location, location),
            )
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => Diagnostic::error(
            format!("expected {}, found {}", describe_expected(&expected), tok.describe()),
            Span::new(l, r),
        ),
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::error(format!("unexpected {}", tok.describe()), Span::new(l, r))
        }
        ParseError::User { error } => Diagnostic::error(error.message, error.span),
    }
}

/// Terminals that start an expression; several of them together read "an expression".
const EXPRESSION_START: &[&str] = &[
    "identifier", "integer", "float", "duration", "string", "(", "[", "if", "try", "map", "-", "!",
    "true", "false",
];

/// Terminals that continue an expression; left out when a newline would also do.
const CONTINUATION: &[&str] = &[
    "||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", "[", "@", "(",
];

fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    let wants_newline = names.contains(&"newline");
    // `(`, `[` and `-` also continue an expression: where a newline would do, they do not
    // mean that an expression may start here.
    let expression = names
        .iter()
        .filter(|n| EXPRESSION_START.contains(n) && !(wants_newline && CONTINUATION.contains(n)))
        .count()
        >= 3;
    let mut out: Vec<String> = Vec::new();
    if expression {
        out.push("an expression".into());
    }
    for name in &names {
        if expression && EXPRESSION_START.contains(name) {
            continue;
        }
        if wants_newline && CONTINUATION.contains(name) {
            continue;
        }
        // `<` after a type name (`list<...>`) is rarely what was missing.
        if *name == "<" && names.len() > 2 {
            continue;
        }
        out.push(match *name {
            "newline" => "a newline".to_string(),
            "identifier" => "an identifier".to_string(),
            "integer" => "an integer".to_string(),
            "float" => "a float".to_string(),
            "duration" => "a duration".to_string(),
            "string" => "a string".to_string(),
            "tensor type" => "a tensor type".to_string(),
            other => format!("`{other}`"),
        });
    }
    // Put the newline first: it is the usual fix.
    if let Some(i) = out.iter().position(|s| s == "a newline") {
        let newline = out.remove(i);
        out.insert(0, newline);
    }
    match out.len() {
        0 => "something else".to_string(),
        1 => out.remove(0),
        n => {
            let last = out.remove(n - 1);
            format!("{} or {}", out.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> (String, Span) {
        let errors = parse(source).expect_err("fails");
        (errors[0].message.clone(), errors[0].primary_span().unwrap())
    }

    #[test]
    fn parses_the_example() {
        let source = include_str!("../tests/data/research.agent");
        let program = parse(source).expect("parses");
        assert_eq!(program.items.len(), 7);
    }

    #[test]
    fn annotations_bind_loosest() {
        let program =
            parse("agent a() -> text {\n if a == b @likely { c }\n let d = m.generate(p) @device(gpu)\n map h in hits @expect(iterations: 3) { h }\n}")
                .expect("parses");
        let ast::Item::Agent(agent) = &program.items[0] else { panic!() };
        assert_eq!(agent.body.stmts.len(), 3);
    }

    #[test]
    fn readable_errors() {
        assert_eq!(
            error("agent a() -> text {\n let x = 1 let y = 2\n}"),
            ("expected a newline or `}`, found `let`".into(), Span::new(31, 34))
        );
        assert_eq!(
            error("fn f(a: text b: text) -> text {}").0,
            "expected `)` or `,`, found identifier `b`"
        );
        assert_eq!(error("model m = ").0, "expected an expression, found end of file");
        assert_eq!(error("agent a() -> text { a == b == c }").1, Span::new(27, 29));
    }

    #[test]
    fn deep_trees_are_refused() {
        let chain = format!("agent a() -> int {{ {} }}", vec!["a"; 100_000].join("+"));
        assert_eq!(error(&chain).0, "expression nested too deeply");
        let minus = format!("agent a() -> int {{ {}1 }}", "-".repeat(10_000));
        assert_eq!(error(&minus).0, "expression nested too deeply");
    }
}
