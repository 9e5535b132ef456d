//! Calls in agent code: sub-agents, tools, fns (with the `float` ↔ `f32` boundary),
//! model calls (`generate`, `embed`), and the binding of positional and named arguments.

use crate::ast::{Arg, Expr, ExprKind, Ident};
use crate::diagnostic::Diagnostic;
use crate::hir::{DevicePin, ModelKind, Sampling, TExpr, TExprKind};
use crate::span::Span;
use crate::types::{DType, Ty};

use super::resolve::{AGENT_BUILTINS, DECLARATION_BUILTINS, GlobalKind, TENSOR_BUILTINS};
use super::typeck::{BodyCx, compatible, convert, mismatch};

/// "1 argument", "2 arguments".
pub(crate) fn arguments(n: usize) -> String {
    if n == 1 { "1 argument".to_string() } else { format!("{n} arguments") }
}

/// Matches arguments to parameters by position and then by name. Reports arity errors,
/// unknown and repeated names. Returns one argument per parameter.
pub(crate) fn bind_args<'a>(
    callee: &str,
    params: &[String],
    args: &'a [Arg],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<&'a Expr>> {
    let mut bound: Vec<Option<&Expr>> = vec![None; params.len()];
    let positional = args.iter().filter(|a| a.name.is_none()).count();
    if args.len() != params.len() || positional > params.len() {
        diags.push(Diagnostic::error(
            format!("`{callee}` takes {} but {} {} given", arguments(params.len()), args.len(), if args.len() == 1 { "was" } else { "were" }),
            span,
        ));
        return None;
    }
    let mut ok = true;
    let mut next = 0;
    for arg in args {
        match &arg.name {
            None => {
                bound[next] = Some(&arg.value);
                next += 1;
            }
            Some(name) => match params.iter().position(|p| *p == name.name) {
                Some(i) if bound[i].is_none() => bound[i] = Some(&arg.value),
                Some(_) => {
                    diags.push(Diagnostic::error(format!("argument `{}` is given twice", name.name), name.span));
                    ok = false;
                }
                None => {
                    let allowed: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
                    diags.push(
                        Diagnostic::error(format!("unknown argument `{}` of `{callee}`", name.name), name.span)
                            .with_help(format!("the parameters are {}", allowed.join(", "))),
                    );
                    ok = false;
                }
            },
        }
    }
    if !ok {
        return None;
    }
    bound.into_iter().collect()
}

impl BodyCx<'_> {
    /// `NAME(args)` in agent code.
    pub(crate) fn call(&mut self, callee: &Ident, args: &[Arg], span: Span, device: Option<DevicePin>) -> Option<TExpr> {
        let name = callee.name.as_str();
        if let Some(local) = self.scopes.lookup(name) {
            let _ = local;
            self.error(Diagnostic::error(format!("`{name}` is a variable, not a function"), callee.span));
            return None;
        }
        let Some(global) = self.g.get(name) else {
            if AGENT_BUILTINS.contains(&name) {
                return self.builtin(callee, args, span);
            }
            if DECLARATION_BUILTINS.contains(&name) {
                let place = if name == "hf" { "declare a model" } else { "implement a tool" };
                self.error(Diagnostic::error(format!("`{name}` can only {place}"), callee.span));
                return None;
            }
            if TENSOR_BUILTINS.contains(&name) {
                self.error(
                    Diagnostic::error(format!("`{name}` is a tensor built-in, available in fn bodies only"), callee.span)
                        .with_help("wrap it in a `fn` and call that"),
                );
                return None;
            }
            for arg in args {
                let _ = self.expr(&arg.value, None);
            }
            self.unknown_name(name, callee.span);
            return None;
        };
        let global = global.clone();
        if let Some(tool) = &self.in_tool
            && global.kind != GlobalKind::Model
        {
            self.error(
                Diagnostic::error(format!("`{name}` cannot be called inside tool `{tool}`"), callee.span)
                    .with_help("a tool's arguments use its parameters and built-ins only"),
            );
            return None;
        }
        let param_names: Vec<String> = global.params.iter().map(|(n, _)| n.clone()).collect();
        match global.kind {
            GlobalKind::Record => self.record_value(callee, &global.params, args, span),
            GlobalKind::Model => {
                self.error(
                    Diagnostic::error(format!("`{name}` is a model, not a function"), callee.span)
                        .with_help(format!("call `{name}.generate(…)` or `{name}.embed(…)`")),
                );
                None
            }
            GlobalKind::Agent | GlobalKind::Tool => {
                let bound = bind_args(name, &param_names, args, span, self.diags)?;
                let mut checked = Vec::with_capacity(bound.len());
                let mut ok = true;
                for (expr, (_, ty)) in bound.into_iter().zip(&global.params) {
                    let value = match ty {
                        Some(ty) => self.value_of(expr, ty),
                        None => {
                            let _ = self.value(expr, None);
                            None
                        }
                    };
                    match value {
                        Some(v) => checked.push(v),
                        None => ok = false,
                    }
                }
                let ret = global.ret.clone()?;
                if !ok {
                    return None;
                }
                let kind = if global.kind == GlobalKind::Agent {
                    self.calls.push((name.to_string(), callee.span));
                    TExprKind::CallAgent { name: name.to_string(), args: checked }
                } else {
                    TExprKind::CallTool { name: name.to_string(), args: checked }
                };
                Some(TExpr { ty: ret, kind, span })
            }
            GlobalKind::Fn => {
                let bound = bind_args(name, &param_names, args, span, self.diags)?;
                let mut checked = Vec::with_capacity(bound.len());
                let mut ok = true;
                for (expr, (_, ty)) in bound.into_iter().zip(&global.params) {
                    let value = self.value(expr, ty.as_ref());
                    match (value, ty) {
                        (Some(v), Some(ty)) => match to_fn_param(v, ty) {
                            Ok(v) => checked.push(v),
                            Err(d) => {
                                self.error(d);
                                ok = false;
                            }
                        },
                        _ => ok = false,
                    }
                }
                let ret = global.ret.clone()?;
                if !ok {
                    return None;
                }
                let call = TExpr {
                    ty: ret.clone(),
                    kind: TExprKind::CallFn { name: name.to_string(), args: checked, device },
                    span,
                };
                Some(match ret {
                    Ty::Scalar(d) if d.is_float() => convert(call, Ty::Float),
                    Ty::Scalar(_) => convert(call, Ty::Int),
                    _ => call,
                })
            }
        }
    }

    /// `RECEIVER.METHOD(args)`: a model call.
    pub(crate) fn method_call(
        &mut self,
        receiver: &Expr,
        method: &Ident,
        args: &[Arg],
        span: Span,
        device: Option<DevicePin>,
    ) -> Option<TExpr> {
        let model = match &receiver.kind {
            ExprKind::Name(name)
                if self.scopes.lookup(name).is_none()
                    && self.g.get(name).is_some_and(|g| g.kind == GlobalKind::Model) =>
            {
                name.clone()
            }
            ExprKind::Name(name) => {
                self.error(
                    Diagnostic::error(format!("`{name}` is not a model"), receiver.span)
                        .with_help(format!("`.{}(…)` is called on a model declared with `model`", method.name)),
                );
                return None;
            }
            _ => {
                self.error(
                    Diagnostic::error(format!("the receiver of `{}` must be a model", method.name), receiver.span)
                        .with_help("methods are called on models: `m.generate(…)`, `m.embed(…)`"),
                );
                return None;
            }
        };
        if let Some(tool) = &self.in_tool {
            self.error(Diagnostic::error(format!("a model cannot be called inside tool `{tool}`"), span));
            return None;
        }
        let global = self.g.get(&model).cloned()?;
        let arch = global.architecture.clone().unwrap_or_default();
        match method.name.as_str() {
            "generate" => {
                if global.model_kind == Some(ModelKind::Encoder) {
                    self.error(
                        Diagnostic::error(format!("`generate` needs a decoder model, but `{model}` is an encoder (`{arch}`)"), method.span)
                            .with_help("use `embed` on an encoder"),
                    );
                    return None;
                }
                let context = global.max_positions;
                let generate = self.generate(model, args, span, device, false)?;
                self.warn_past_context(&generate, args, context);
                Some(generate)
            }
            "chat" => {
                if global.model_kind == Some(ModelKind::Encoder) {
                    self.error(
                        Diagnostic::error(format!("`chat` needs a decoder model, but `{model}` is an encoder (`{arch}`)"), method.span)
                            .with_help("use `embed` on an encoder"),
                    );
                    return None;
                }
                // The folder is unknown only for `agentc check` without it (a warning was
                // given); `build` needs the folder and so its template.
                match &global.chat_template {
                    Some(Ok(None)) => {
                        self.error(
                            Diagnostic::error(format!("model `{model}` has no chat template"), method.span).with_help(
                                "`chat` renders the conversation with the folder's template: `chat_template` in tokenizer_config.json or a chat_template.jinja file; use `generate` with a prompt otherwise",
                            ),
                        );
                        return None;
                    }
                    Some(Err(reason)) => {
                        self.error(Diagnostic::error(format!("model `{model}`: {reason}"), method.span));
                        return None;
                    }
                    Some(Ok(Some(_))) | None => {}
                }
                let context = global.max_positions;
                let chat = self.generate(model, args, span, device, true)?;
                self.warn_past_context(&chat, args, context);
                Some(chat)
            }
            "embed" => {
                if global.model_kind == Some(ModelKind::Decoder) {
                    self.error(
                        Diagnostic::error(format!("`embed` needs an encoder model, but `{model}` is a decoder (`{arch}`)"), method.span)
                            .with_help("use `generate` on a decoder"),
                    );
                    return None;
                }
                let bound = bind_args("embed", &["text".to_string()], args, span, self.diags)?;
                let text = self.value_of(bound[0], &Ty::Text)?;
                let dim = global.hidden_size;
                Some(TExpr {
                    ty: Ty::Tensor { dims: vec![dim], elem: DType::F32 },
                    kind: TExprKind::Embed { model, text: Box::new(text), device },
                    span,
                })
            }
            other => {
                self.error(
                    Diagnostic::error(format!("unknown model method `{other}`"), method.span)
                        .with_help("models have `generate`, `chat` and `embed`"),
                );
                None
            }
        }
    }

    /// Reports a sampling option out of its range; `false` (the call is not ok).
    fn bad_option(&mut self, message: &str, span: Span) -> bool {
        self.error(Diagnostic::error(message, span).with_help("see the options of `generate` in docs/language.md §8.1"));
        false
    }

    /// `generate(prompt, …)`, or with `chat` set `chat(messages, …)`: the same options.
    fn generate(&mut self, model: String, args: &[Arg], span: Span, device: Option<DevicePin>, chat: bool) -> Option<TExpr> {
        let (method, first, first_ty) = if chat {
            ("chat", "messages", Ty::List(Box::new(Ty::Message)))
        } else {
            ("generate", "prompt", Ty::Text)
        };
        let mut prompt = None;
        let mut max_tokens = 128u64;
        let mut temperature = 0.0f64;
        let mut sampling = Sampling::default();
        let mut stop = None;
        let mut ok = true;
        let mut positional = 0;
        let mut seen: Vec<&str> = Vec::new();
        for arg in args {
            let name = match &arg.name {
                None => {
                    positional += 1;
                    if positional > 1 {
                        self.error(
                            Diagnostic::error(format!("`{method}` takes 1 positional argument (the {first})"), arg.span)
                                .with_help("the options are named: `max_tokens: 48`, `temperature: 0.7`, `stop: [\"\\n\"]`"),
                        );
                        ok = false;
                        continue;
                    }
                    "prompt"
                }
                Some(n) => n.name.as_str(),
            };
            if seen.contains(&name) {
                self.error(Diagnostic::error(format!("argument `{name}` is given twice"), arg.span));
                ok = false;
                continue;
            }
            seen.push(name);
            match name {
                "prompt" => prompt = self.value_of(&arg.value, &first_ty).or_else(|| { ok = false; None }),
                "max_tokens" => match arg.value.kind {
                    ExprKind::Int(n) if n > 0 => max_tokens = n as u64,
                    _ => {
                        self.error(Diagnostic::error("`max_tokens` must be a positive integer literal", arg.value.span));
                        ok = false;
                    }
                },
                "temperature" => match arg.value.kind {
                    ExprKind::Float(t) if t >= 0.0 => temperature = t,
                    ExprKind::Int(t) if t >= 0 => temperature = t as f64,
                    _ => {
                        self.error(Diagnostic::error("`temperature` must be a non-negative number literal", arg.value.span));
                        ok = false;
                    }
                },
                "top_k" => match arg.value.kind {
                    ExprKind::Int(k) if k >= 1 => sampling.top_k = Some(k as u64),
                    _ => ok &= self.bad_option("`top_k` must be a positive integer literal", arg.value.span),
                },
                "seed" => match arg.value.kind {
                    ExprKind::Int(seed) if seed >= 0 => sampling.seed = Some(seed as u64),
                    _ => ok &= self.bad_option("`seed` must be a non-negative integer literal", arg.value.span),
                },
                "top_p" => match number(&arg.value.kind).filter(|p| *p > 0.0 && *p <= 1.0) {
                    Some(p) => sampling.top_p = Some(p),
                    None => ok &= self.bad_option("`top_p` must be a number literal in (0, 1]", arg.value.span),
                },
                "min_p" => match number(&arg.value.kind).filter(|p| (0.0..=1.0).contains(p)) {
                    Some(p) => sampling.min_p = Some(p),
                    None => ok &= self.bad_option("`min_p` must be a number literal in [0, 1]", arg.value.span),
                },
                "repetition_penalty" => match number(&arg.value.kind).filter(|p| *p > 0.0 && p.is_finite()) {
                    Some(p) => sampling.repetition_penalty = Some(p),
                    None => ok &= self.bad_option("`repetition_penalty` must be a positive number literal", arg.value.span),
                },
                "stop" => {
                    stop = self.value_of(&arg.value, &Ty::List(Box::new(Ty::Text)));
                    ok &= stop.is_some();
                }
                "json" => match &arg.value.kind {
                    ExprKind::Str(schema) => match agentc_runtime::grammar::Grammar::parse(schema) {
                        Ok(_) => sampling.json = Some(schema.clone()),
                        Err(e) => {
                            self.error(Diagnostic::error(format!("invalid `json` schema: {e}"), arg.value.span).with_help(JSON_SUBSET_HELP));
                            ok = false;
                        }
                    },
                    // `json: RECORD`: the record type's JSON Schema; the text parses into
                    // the record with `json_parse(text, RECORD)`.
                    ExprKind::Name(record) if self.g.record_names.contains(record) => match self.g.record_schemas.get(record) {
                        Some(schema) => sampling.json = Some(schema.clone()),
                        None => ok = false, // the record itself has an error, reported there
                    },
                    _ => ok &= self.bad_option("`json` must name a record type or be a text literal holding a JSON Schema", arg.value.span),
                },
                other => {
                    self.error(
                        Diagnostic::error(format!("unknown argument `{other}` of `{method}`"), arg.name.as_ref().map_or(arg.span, |n| n.span))
                            .with_help(format!("the arguments are the {first}, `max_tokens`, `temperature`, `stop`, `top_k`, `top_p`, `min_p`, `repetition_penalty`, `seed` and `json`")),
                    );
                    ok = false;
                }
            }
        }
        if !seen.contains(&"prompt") {
            let help = if chat { "write `m.chat([user(\"…\")])`" } else { "write `m.generate(\"…\")`" };
            self.error(Diagnostic::error(format!("`{method}` needs {}", if chat { "the messages" } else { "a prompt" }), span).with_help(help));
            return None;
        }
        if sampling.json.is_some() && seen.contains(&"stop") {
            let at = args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == "stop")).map_or(span, |a| a.span);
            self.error(
                Diagnostic::error(format!("`stop` cannot be combined with `json` in `{method}`"), at)
                    .with_help("a `json` generation ends when the JSON value is complete; a stop text could cut it so that it would not parse"),
            );
            ok = false;
        }
        let stop = match stop {
            Some(stop) => stop,
            None => TExpr { ty: Ty::List(Box::new(Ty::Text)), kind: TExprKind::List(Vec::new()), span },
        };
        if !ok {
            return None;
        }
        Some(TExpr {
            ty: Ty::Text,
            kind: TExprKind::Generate {
                model,
                prompt: Box::new(prompt?),
                chat,
                max_tokens,
                temperature,
                sampling,
                stop: Box::new(stop),
                device,
            },
            span,
        })
    }
}

impl BodyCx<'_> {
    /// Warns when a `generate` call's `max_tokens` plus a lower bound of its prompt's tokens
    /// (1 for the BOS, and a quarter of the characters of a literal prompt) exceeds the
    /// model's context: the run would stop with an error when the context is full.
    fn warn_past_context(&mut self, generate: &TExpr, args: &[Arg], context: Option<u64>) {
        let (Some(context), TExprKind::Generate { model, max_tokens, .. }) = (context, &generate.kind) else { return };
        let prompt = match args.iter().find(|a| a.name.is_none()).map(|a| &a.value.kind) {
            Some(ExprKind::Str(text)) => 1 + (text.chars().count() as u64).div_ceil(4),
            _ => 1,
        };
        if max_tokens.saturating_add(prompt) > context {
            self.diags.push(
                Diagnostic::warning(
                    format!(
                        "`max_tokens: {max_tokens}` and the prompt (at least {prompt} tokens) exceed the context of model `{model}` ({context} tokens)"
                    ),
                    generate.span,
                )
                .with_help("the run stops with an error when the prompt and the generated tokens fill the context; lower `max_tokens`"),
            );
        }
    }
}

/// Converts an agent value to a fn parameter: `float` → float scalar, `int` → int or
/// float scalar, tensors must be shape-compatible.
fn to_fn_param(value: TExpr, param: &Ty) -> Result<TExpr, Diagnostic> {
    match (param, &value.ty) {
        (Ty::Scalar(d), Ty::Float) if d.is_float() => Ok(convert(value, param.clone())),
        (Ty::Scalar(_), Ty::Int) => Ok(convert(value, param.clone())),
        (Ty::Tensor { .. }, Ty::Tensor { .. }) if compatible(param, &value.ty) => Ok(value),
        _ => Err(mismatch(param, &value.ty, value.span)),
    }
}

/// What `json:` supports (docs/language.md §8.1).
const JSON_SUBSET_HELP: &str = "supported: `type` object (`properties`, `required`, `additionalProperties`), array (`items`, `minItems`, `maxItems`), string (`minLength`, `maxLength`), integer, number, boolean, null, and `enum` of strings; see docs/language.md §8.1";

/// The value of a number literal (an integer literal counts).
fn number(kind: &ExprKind) -> Option<f64> {
    match *kind {
        ExprKind::Float(x) => Some(x),
        ExprKind::Int(n) => Some(n as f64),
        _ => None,
    }
}
