//! `headers: [header("Name", VALUE), …]` of an http tool: each name an HTTP token given once
//! and not one the runtime writes itself; each value fixed where the tool is declared: text
//! literals and `env("NAME")` joined by `+` (docs/language.md §9.2).

use crate::ast::{BinaryOp, Expr, ExprKind};
use crate::diagnostic::Diagnostic;
use crate::hir::{HeaderPart, HttpHeader};
use crate::span::Span;

use super::typeck::BodyCx;

/// Headers the runtime writes from the request itself: a declaration may not set them.
const RESERVED: &[&str] = &["host", "content-length", "content-type", "transfer-encoding", "connection"];

/// Checks `headers:`; `None` after reporting errors.
pub(crate) fn headers(cx: &mut BodyCx<'_>, expr: &Expr) -> Option<Vec<HttpHeader>> {
    let help = "write `headers: [header(\"Authorization\", \"Bearer \" + env(\"API_TOKEN\"))]`";
    let ExprKind::List(items) = &expr.kind else {
        cx.error(Diagnostic::error("`headers` must be a list of `header(\"Name\", value)`", expr.span).with_help(help));
        return None;
    };
    let mut out: Vec<HttpHeader> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(((name, name_span), value)) = pair(item, "header") else {
            cx.error(Diagnostic::error("each item of `headers` must be `header(\"Name\", value)`", item.span).with_help(help));
            ok = false;
            continue;
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            cx.error(
                Diagnostic::error(format!("`{}` is not a header name", name.escape_debug()), name_span)
                    .with_help("a header name is letters, digits and `!#$%&'*+-.^_`|~`, such as `Authorization`"),
            );
            ok = false;
            continue;
        }
        if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            cx.error(
                Diagnostic::error(format!("header `{name}` is written by the runtime"), name_span)
                    .with_help("`Host`, `Content-Length`, `Content-Type`, `Transfer-Encoding` and `Connection` follow from the URL and the body"),
            );
            ok = false;
            continue;
        }
        if out.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
            cx.error(Diagnostic::error(format!("header `{name}` is given twice"), name_span));
            ok = false;
            continue;
        }
        let mut parts = Vec::new();
        if value_parts(cx, value, &mut parts) {
            out.push(HttpHeader { name, value: parts });
        } else {
            ok = false;
        }
    }
    ok.then_some(out)
}

/// `CALLEE("name", value)` with a text-literal name: ((name, its span), value).
pub(crate) fn pair<'e>(item: &'e Expr, callee_name: &str) -> Option<((String, Span), &'e Expr)> {
    let ExprKind::Call { callee, args } = &item.kind else { return None };
    if callee.name != callee_name || args.len() != 2 || args.iter().any(|a| a.name.is_some()) {
        return None;
    }
    let ExprKind::Str(name) = &args[0].value.kind else { return None };
    Some(((name.clone(), args[0].value.span), &args[1].value))
}

/// The bytes of an HTTP token (RFC 9110 §5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Flattens a value (`"a" + env("X") + "b"`) into `parts`; false after reporting an error.
fn value_parts(cx: &mut BodyCx<'_>, expr: &Expr, parts: &mut Vec<HeaderPart>) -> bool {
    match &expr.kind {
        ExprKind::Binary { op: BinaryOp::Add, lhs, rhs } => value_parts(cx, lhs, parts) & value_parts(cx, rhs, parts),
        ExprKind::Str(text) => {
            if let Some(c) = text.chars().find(|c| c.is_ascii_control() && *c != '\t') {
                cx.error(Diagnostic::error(
                    format!("a header value cannot hold the control character U+{:04X}", c as u32),
                    expr.span,
                ));
                return false;
            }
            parts.push(HeaderPart::Text(text.clone()));
            true
        }
        ExprKind::Call { callee, args } if callee.name == "env" => match args.as_slice() {
            [arg] if arg.name.is_none() => match &arg.value.kind {
                ExprKind::Str(name) if is_env_name(name) => {
                    parts.push(HeaderPart::Env(name.clone()));
                    true
                }
                _ => {
                    cx.error(
                        Diagnostic::error("`env` takes the name of an environment variable as a text literal", arg.value.span)
                            .with_help("a name is letters, digits and `_`, not starting with a digit: `env(\"API_TOKEN\")`"),
                    );
                    false
                }
            },
            _ => {
                cx.error(Diagnostic::error("`env` takes one argument, the variable's name", expr.span).with_help("write `env(\"API_TOKEN\")`"));
                false
            }
        },
        _ => {
            cx.error(
                Diagnostic::error("a header value is text literals and `env(\"NAME\")` joined by `+`", expr.span)
                    .with_help("headers are fixed where the tool is declared; pass per-call values in the URL or the body"),
            );
            false
        }
    }
}

/// An environment variable's name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_env_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
