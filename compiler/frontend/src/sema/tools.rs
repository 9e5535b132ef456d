//! Tool declarations: `exec(PROGRAM, [ARGS], stdin:, timeout:, retries:)` and
//! `http(get|post, "URL {param}", body:, timeout:, retries:)`, with URL template checks.

use crate::ast::{Arg, Expr, ExprKind, ToolDecl};
use crate::diagnostic::Diagnostic;
use crate::hir::{HttpMethod, Param, TExpr, Tool, ToolKind};
use crate::span::Span;
use crate::types::Ty;

use super::resolve::Globals;
use super::typeck::BodyCx;

/// Checks a tool declaration whose signature is `params`/`ret` (already resolved).
pub(crate) fn check_tool(
    decl: &ToolDecl,
    params: &[(String, Option<Ty>)],
    ret: Option<&Ty>,
    globals: &Globals,
    diags: &mut Vec<Diagnostic>,
) -> Option<Tool> {
    let mut cx = BodyCx::new(globals, diags);
    cx.in_tool = Some(decl.name.name.clone());
    cx.declare_params(&decl.params, params);
    let ExprKind::Call { callee, args } = &decl.implementation.kind else {
        cx.error(shape_error(decl.implementation.span));
        return None;
    };
    let parsed = match callee.name.as_str() {
        "exec" => exec(&mut cx, args, decl.implementation.span),
        "http" => http(&mut cx, args, decl, decl.implementation.span),
        _ => {
            cx.error(shape_error(callee.span));
            None
        }
    };
    let locals = cx.scopes.locals.clone();
    let (kind, timeout_ms, retries) = parsed?;
    let params = params
        .iter()
        .zip(&decl.params)
        .map(|((name, ty), p)| Some(Param { name: name.clone(), ty: ty.clone()?, span: p.span }))
        .collect::<Option<Vec<_>>>()?;
    Some(Tool {
        name: decl.name.name.clone(),
        params,
        locals,
        ret: ret?.clone(),
        kind,
        timeout_ms,
        retries,
        span: decl.span,
    })
}

fn shape_error(span: Span) -> Diagnostic {
    Diagnostic::error("a tool is implemented by `exec(...)` or `http(...)`", span).with_help(
        "write `exec(\"program\", [args], stdin: text)` or `http(get, \"http://host/path?q={param}\")`",
    )
}

/// The named options common to both kinds; `allowed` lists the kind's own named argument.
struct Options<'a> {
    own: Option<&'a Expr>,
    timeout_ms: Option<u64>,
    retries: u64,
}

fn options<'a>(cx: &mut BodyCx<'_>, tool_kind: &str, own: &str, named: &[&'a Arg]) -> Option<Options<'a>> {
    let mut out = Options { own: None, timeout_ms: None, retries: 0 };
    let mut ok = true;
    let mut seen: Vec<&str> = Vec::new();
    for arg in named {
        // The caller passes only named arguments; a positional one is skipped, not a panic.
        let Some(name) = arg.name.as_ref() else { continue };
        if seen.contains(&name.name.as_str()) {
            cx.error(Diagnostic::error(format!("argument `{}` is given twice", name.name), name.span));
            ok = false;
            continue;
        }
        seen.push(&name.name);
        match name.name.as_str() {
            "timeout" => match arg.value.kind {
                ExprKind::Duration(ms) => out.timeout_ms = Some(ms),
                _ => {
                    cx.error(
                        Diagnostic::error("`timeout` must be a duration literal", arg.value.span)
                            .with_help("write `timeout: 2s` or `timeout: 500ms`"),
                    );
                    ok = false;
                }
            },
            "retries" => match arg.value.kind {
                ExprKind::Int(n) if n >= 0 => out.retries = n as u64,
                _ => {
                    cx.error(Diagnostic::error("`retries` must be a non-negative integer literal", arg.value.span));
                    ok = false;
                }
            },
            other if other == own => out.own = Some(&arg.value),
            other => {
                cx.error(
                    Diagnostic::error(format!("unknown argument `{other}` of `{tool_kind}`"), name.span)
                        .with_help(format!("the named arguments of `{tool_kind}` are `{own}`, `timeout` and `retries`")),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn exec(cx: &mut BodyCx<'_>, args: &[Arg], span: Span) -> Option<(ToolKind, Option<u64>, u64)> {
    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
    let named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
    let options = options(cx, "exec", "stdin", &named);
    let program = match positional.first().map(|a| &a.value.kind) {
        Some(ExprKind::Str(p)) if !p.is_empty() => Some(p.clone()),
        Some(_) => {
            cx.error(
                Diagnostic::error("the program of `exec` must be a non-empty text literal", positional[0].value.span)
                    .with_help("write `exec(\"python3\", [\"tools/search.py\"])`"),
            );
            None
        }
        None => {
            cx.error(Diagnostic::error("`exec` needs a program", span).with_help("write `exec(\"python3\", [\"tools/search.py\"])`"));
            None
        }
    };
    if positional.len() > 2 {
        cx.error(
            Diagnostic::error(format!("`exec` takes 2 positional arguments but {} were given", positional.len()), positional[2].span)
                .with_help("put the program's arguments in one list: `exec(\"prog\", [a, b])`"),
        );
        return None;
    }
    let mut argv = Some(Vec::new());
    if let Some(list) = positional.get(1) {
        match &list.value.kind {
            ExprKind::List(items) => {
                let mut checked = Vec::with_capacity(items.len());
                for item in items {
                    match cx.value_of(item, &Ty::Text) {
                        Some(t) => checked.push(t),
                        None => argv = None,
                    }
                }
                argv = argv.map(|_| checked);
            }
            _ => {
                cx.error(
                    Diagnostic::error("the arguments of `exec` must be a list literal", list.value.span)
                        .with_help("write `[\"--flag\", query]`"),
                );
                argv = None;
            }
        }
    }
    let options = options?;
    let stdin: Option<Option<TExpr>> = match options.own {
        Some(expr) => cx.value_of(expr, &Ty::Text).map(Some),
        None => Some(None),
    };
    let kind = ToolKind::Exec { program: program?, args: argv?, stdin: stdin? };
    Some((kind, options.timeout_ms, options.retries))
}

fn http(cx: &mut BodyCx<'_>, args: &[Arg], decl: &ToolDecl, span: Span) -> Option<(ToolKind, Option<u64>, u64)> {
    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
    let named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
    let options = options(cx, "http", "body", &named);
    if positional.len() != 2 {
        cx.error(
            Diagnostic::error(
                format!(
                    "`http` takes 2 positional arguments but {} {} given",
                    positional.len(),
                    if positional.len() == 1 { "was" } else { "were" }
                ),
                span,
            )
                .with_help("write `http(get, \"http://host/path?q={param}\")`"),
        );
        return None;
    }
    let method = match &positional[0].value.kind {
        ExprKind::Name(m) if m == "get" => Some(HttpMethod::Get),
        ExprKind::Name(m) if m == "post" => Some(HttpMethod::Post),
        _ => {
            cx.error(Diagnostic::error("the method of `http` must be `get` or `post`", positional[0].value.span));
            None
        }
    };
    let template = match &positional[1].value.kind {
        ExprKind::Str(url) => {
            let params: Vec<&str> = decl.params.iter().map(|p| p.name.name.as_str()).collect();
            match url_params(url, positional[1].value.span, &params) {
                Ok(indexes) => Some((url.clone(), indexes)),
                Err(diagnostic) => {
                    cx.error(diagnostic);
                    None
                }
            }
        }
        _ => {
            cx.error(Diagnostic::error("the URL of `http` must be a text literal", positional[1].value.span));
            None
        }
    };
    let options = options?;
    if method == Some(HttpMethod::Get)
        && let Some(body) = options.own
    {
        let name = named.iter().rev().find(|a| a.name.as_ref().is_some_and(|n| n.name == "body"));
        let at = name.and_then(|a| a.name.as_ref()).map_or(body.span, |n| n.span);
        cx.error(
            Diagnostic::error("`body` is allowed with `post` only", at)
                .with_help("a `get` request has no body; pass values in the URL template, or use `post`"),
        );
        return None;
    }
    let body: Option<Option<TExpr>> = match options.own {
        Some(expr) => cx.value_of(expr, &Ty::Text).map(Some),
        None => Some(None),
    };
    let (url_template, url_params) = template?;
    let kind = ToolKind::Http { method: method?, url_template, url_params, body: body? };
    Some((kind, options.timeout_ms, options.retries))
}

/// Finds `{name}` placeholders; each must name a parameter. Spans point inside the literal
/// when it has no escapes (otherwise at the whole literal).
fn url_params(url: &str, literal: Span, params: &[&str]) -> Result<Vec<usize>, Diagnostic> {
    let exact = (literal.end - literal.start) as usize == url.len() + 2;
    let at = |start: usize, end: usize| {
        if exact {
            Span::new(literal.start as usize + 1 + start, literal.start as usize + 1 + end)
        } else {
            literal
        }
    };
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = url[rest..].find(['{', '}']).map(|i| i + rest) {
        // `{{` and `}}` are literal braces; a lone `}` is just a character.
        if url[open..].starts_with("{{") || url[open..].starts_with("}}") {
            rest = open + 2;
            continue;
        }
        if url[open..].starts_with('}') {
            rest = open + 1;
            continue;
        }
        let Some(close) = url[open..].find('}').map(|i| i + open) else {
            return Err(Diagnostic::error("unclosed `{` in the URL template", at(open, open + 1)));
        };
        let name = &url[open + 1..close];
        match params.iter().position(|p| *p == name) {
            Some(i) => out.push(i),
            None => {
                let listed: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
                let help = if listed.is_empty() {
                    "the tool has no parameters".to_string()
                } else {
                    format!("the parameters are {}", listed.join(", "))
                };
                return Err(Diagnostic::error(
                    format!("`{{{name}}}` in the URL template is not a parameter of the tool"),
                    at(open, close + 1),
                )
                .with_help(help));
            }
        }
        rest = close + 1;
    }
    Ok(out)
}
