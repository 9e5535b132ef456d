//! Tool declarations: `exec(PROGRAM, [ARGS], stdin:, timeout:, retries:, backoff:, max_output:)`
//! and `http(get|post, "URL {param}", body: | json:, headers:, timeout:, retries:, backoff:,
//! max_output:)`, with URL template checks (parameters only in the path and query; no
//! whitespace or control characters). `headers:` is checked in `http_headers`.

use agentc_runtime::tools::{MAX_BACKOFF_MS, MAX_MAX_OUTPUT, MAX_RETRIES};

use crate::ast::{Arg, Expr, ExprKind, Ident, ToolDecl};
use crate::diagnostic::Diagnostic;
use crate::hir::{HttpBody, HttpMethod, Param, TExpr, Tool, ToolKind};
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
    let (kind, limits) = parsed?;
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
        timeout_ms: limits.timeout_ms,
        retries: limits.retries,
        backoff_ms: limits.backoff_ms,
        max_output: limits.max_output,
        span: decl.span,
    })
}

fn shape_error(span: Span) -> Diagnostic {
    Diagnostic::error("a tool is implemented by `exec(...)` or `http(...)`", span).with_help(
        "write `exec(\"program\", [args], stdin: text)` or `http(get, \"http://host/path?q={param}\")`",
    )
}

/// The named options common to both kinds, and the kind's own named arguments (name,
/// the argument's name as written, value).
struct Options<'a> {
    own: Vec<(&'a str, &'a Ident, &'a Expr)>,
    limits: Limits,
}

impl<'a> Options<'a> {
    /// The value of own argument `name`, if given.
    fn get(&self, name: &str) -> Option<&'a Expr> {
        self.own.iter().find(|(n, _, _)| *n == name).map(|(_, _, e)| *e)
    }

    /// Where own argument `name` is written, if given.
    fn name_span(&self, name: &str) -> Option<Span> {
        self.own.iter().find(|(n, _, _)| *n == name).map(|(_, i, _)| i.span)
    }
}

/// `timeout:`, `retries:`, `backoff:` and `max_output:` as checked.
#[derive(Default)]
struct Limits {
    timeout_ms: Option<u64>,
    retries: u64,
    backoff_ms: Option<u64>,
    max_output: Option<u64>,
}

fn options<'a>(cx: &mut BodyCx<'_>, tool_kind: &str, own: &[&str], named: &[&'a Arg]) -> Option<Options<'a>> {
    let mut out = Options { own: Vec::new(), limits: Limits::default() };
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
                ExprKind::Duration(0) => {
                    cx.error(
                        Diagnostic::error("`timeout` must be at least 1ms", arg.value.span)
                            .with_help("leave `timeout:` out to wait without a limit"),
                    );
                    ok = false;
                }
                ExprKind::Duration(ms) => out.limits.timeout_ms = Some(ms),
                _ => {
                    cx.error(
                        Diagnostic::error("`timeout` must be a duration literal", arg.value.span)
                            .with_help("write `timeout: 2s` or `timeout: 500ms`"),
                    );
                    ok = false;
                }
            },
            "retries" => match arg.value.kind {
                ExprKind::Int(n) if n >= 0 && n as u64 <= MAX_RETRIES => out.limits.retries = n as u64,
                ExprKind::Int(n) if n >= 0 => {
                    cx.error(
                        Diagnostic::error(format!("`retries` must be at most {MAX_RETRIES}, not {n}"), arg.value.span)
                            .with_help("more attempts rarely help; `backoff:` spaces them out"),
                    );
                    ok = false;
                }
                _ => {
                    cx.error(Diagnostic::error("`retries` must be a non-negative integer literal", arg.value.span));
                    ok = false;
                }
            },
            "backoff" => match arg.value.kind {
                ExprKind::Duration(ms) if (1..=MAX_BACKOFF_MS).contains(&ms) => out.limits.backoff_ms = Some(ms),
                _ => {
                    cx.error(
                        Diagnostic::error(
                            format!("`backoff` must be a duration literal from 1ms to {}", agentc_runtime::tools::format_duration(std::time::Duration::from_millis(MAX_BACKOFF_MS))),
                            arg.value.span,
                        )
                        .with_help("the wait before the first retry, doubled before each later one (at most 1m each)"),
                    );
                    ok = false;
                }
            },
            "max_output" => match arg.value.kind {
                ExprKind::Int(n) if n >= 1 && n as u64 <= MAX_MAX_OUTPUT => out.limits.max_output = Some(n as u64),
                _ => {
                    let what = if tool_kind == "exec" { "stdout" } else { "the response body" };
                    cx.error(
                        Diagnostic::error(
                            format!("`max_output` must be an integer literal from 1 to {MAX_MAX_OUTPUT} (bytes)"),
                            arg.value.span,
                        )
                        .with_help(format!("the most bytes of {what} one attempt may give; without it, 16 MiB (16777216)")),
                    );
                    ok = false;
                }
            },
            other if own.contains(&other) => out.own.push((name.name.as_str(), name, &arg.value)),
            other => {
                let listed: Vec<String> = own.iter().map(|o| format!("`{o}`")).collect();
                cx.error(
                    Diagnostic::error(format!("unknown argument `{other}` of `{tool_kind}`"), name.span).with_help(format!(
                        "the named arguments of `{tool_kind}` are {}, `timeout`, `retries`, `backoff` and `max_output`",
                        listed.join(", ")
                    )),
                );
                ok = false;
            }
        }
    }
    if out.limits.backoff_ms.is_some()
        && out.limits.retries == 0
        && let Some(arg) = named.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == "backoff"))
    {
        cx.error(
            Diagnostic::warning("`backoff` has no effect without `retries`", arg.value.span)
                .with_help("the backoff is the wait between attempts: add `retries: N`"),
        );
    }
    ok.then_some(out)
}

fn exec(cx: &mut BodyCx<'_>, args: &[Arg], span: Span) -> Option<(ToolKind, Limits)> {
    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
    let named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
    let options = options(cx, "exec", &["stdin"], &named);
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
    let stdin: Option<Option<TExpr>> = match options.get("stdin") {
        Some(expr) => cx.value_of(expr, &Ty::Text).map(Some),
        None => Some(None),
    };
    let kind = ToolKind::Exec { program: program?, args: argv?, stdin: stdin? };
    Some((kind, options.limits))
}

fn http(cx: &mut BodyCx<'_>, args: &[Arg], decl: &ToolDecl, span: Span) -> Option<(ToolKind, Limits)> {
    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
    let named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
    let options = options(cx, "http", &["body", "json", "headers"], &named);
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
    for own in ["body", "json"] {
        if method == Some(HttpMethod::Get)
            && let Some(at) = options.name_span(own)
        {
            cx.error(
                Diagnostic::error(format!("`{own}` is allowed with `post` only"), at)
                    .with_help("a `get` request has no body; pass values in the URL template, or use `post`"),
            );
            return None;
        }
    }
    if let (Some(_), Some(at)) = (options.get("body"), options.name_span("json")) {
        cx.error(
            Diagnostic::error("a tool has `body` or `json`, not both", at)
                .with_help("`body:` sends text, `json:` sends a JSON object built from `field(\"name\", value)`s"),
        );
        return None;
    }
    let body: Option<Option<HttpBody>> = match (options.get("body"), options.get("json")) {
        (Some(expr), _) => cx.value_of(expr, &Ty::Text).map(|t| Some(HttpBody::Text(t))),
        (None, Some(expr)) => json_fields(cx, expr).map(|f| Some(HttpBody::Json(f))),
        (None, None) => Some(None),
    };
    let headers = match options.get("headers") {
        Some(expr) => super::http_headers::headers(cx, expr),
        None => Some(Vec::new()),
    };
    let (url_template, url_params) = template?;
    let kind = ToolKind::Http { method: method?, url_template, url_params, body: body?, headers: headers? };
    Some((kind, options.limits))
}

/// Finds `{name}` placeholders; each must name a parameter and stand after the host and port
/// (the server is fixed by the declaration). The template may not hold whitespace or control
/// characters (a space, a tab, NUL, CR, LF… would change the request line or headers). Spans
/// point inside the literal when it has no escapes (otherwise at the whole literal).
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
    let mut placeholders = Vec::new();
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
            Some(i) => {
                out.push(i);
                placeholders.push((open, close + 1));
            }
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
    if let Some((i, c)) = url.char_indices().find(|(_, c)| c.is_ascii_whitespace() || c.is_ascii_control()) {
        let (what, encoded) = match c {
            ' ' => ("a space".to_string(), "%20".to_string()),
            '\t' => ("a tab".to_string(), "%09".to_string()),
            '\0' => ("a NUL character".to_string(), "%00".to_string()),
            c => (format!("the control character U+{:04X}", c as u32), format!("%{:02X}", c as u32)),
        };
        return Err(Diagnostic::error(format!("the URL template contains {what}"), at(i, i + 1))
            .with_help(format!("write it percent-encoded (`{encoded}`), or pass it in a parameter")));
    }
    // The scheme, host and port end at the first `/`, `?` or `#` after `://`.
    let authority_end = url.find("://").map_or(url.len(), |i| url[i + 3..].find(['/', '?', '#']).map_or(url.len(), |j| i + 3 + j));
    if let Some(&(open, close)) = placeholders.iter().find(|(open, _)| *open < authority_end) {
        return Err(Diagnostic::error(
            format!("`{}` is in the scheme, host or port of the URL template", &url[open..close]),
            at(open, close),
        )
        .with_help("only the path and the query may hold parameters: a tool's server is fixed where it is declared"));
    }
    Ok(out)
}

/// `json: [field("name", VALUE), …]`: the fields of a JSON object, in order; each name a
/// non-empty text literal given once, each value a text expression over the parameters.
fn json_fields(cx: &mut BodyCx<'_>, expr: &Expr) -> Option<Vec<(String, TExpr)>> {
    let help = "write `json: [field(\"term\", term), field(\"lang\", \"en\")]`";
    let ExprKind::List(items) = &expr.kind else {
        cx.error(Diagnostic::error("`json` must be a list of `field(\"name\", value)`", expr.span).with_help(help));
        return None;
    };
    let mut fields: Vec<(String, TExpr)> = Vec::new();
    let mut ok = true;
    for item in items {
        let (name, value) = match super::http_headers::pair(item, "field") {
            Some(pair) => pair,
            None => {
                cx.error(Diagnostic::error("each item of `json` must be `field(\"name\", value)`", item.span).with_help(help));
                ok = false;
                continue;
            }
        };
        if fields.iter().any(|(n, _)| n == &name.0) {
            cx.error(Diagnostic::error(format!("field `{}` is given twice", name.0), name.1));
            ok = false;
            continue;
        }
        match cx.value_of(value, &Ty::Text) {
            Some(t) => fields.push((name.0, t)),
            None => ok = false,
        }
    }
    ok.then_some(fields)
}
