//! The built-in functions of agent code (`lines`, `split`, `join`, `len`, `format`, `min`,
//! `argmax`, the conversions, the chat messages `system`/`user`/`assistant`, ...): their
//! argument types and result types.

use crate::ast::{Arg, Expr, ExprKind, Ident};
use crate::diagnostic::Diagnostic;
use crate::hir::{Builtin, TExpr, TExprKind};
use crate::span::Span;
use crate::types::Ty;

use super::calls::arguments;
use super::resolve::is_json_type;
use super::typeck::{BodyCx, promote};

fn text_list() -> Ty {
    Ty::List(Box::new(Ty::Text))
}

impl BodyCx<'_> {
    /// A call of a built-in of agent code.
    pub(crate) fn builtin(&mut self, callee: &Ident, args: &[Arg], span: Span) -> Option<TExpr> {
        let name = callee.name.as_str();
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.error(Diagnostic::error(format!("`{name}` takes no named arguments"), named.span));
            return None;
        }
        let arity_ok = match name {
            "format" => !args.is_empty(),
            "lines" | "trim" | "len" | "abs" | "argmax" | "int" | "float" | "text" | "system" | "user" | "assistant" | "to_json" => args.len() == 1,
            _ => args.len() == 2,
        };
        if !arity_ok {
            let wanted = match name {
                "format" => "at least 1 argument".to_string(),
                "lines" | "trim" | "len" | "abs" | "argmax" | "int" | "float" | "text" | "system" | "user" | "assistant" | "to_json" => arguments(1),
                _ => arguments(2),
            };
            for arg in args {
                let _ = self.expr(&arg.value, None);
            }
            self.error(Diagnostic::error(
                format!("`{name}` takes {wanted} but {} {} given", args.len(), if args.len() == 1 { "was" } else { "were" }),
                span,
            ));
            return None;
        }
        let done = |builtin: Builtin, ty: Ty, args: Vec<TExpr>| Some(TExpr { ty, kind: TExprKind::Builtin { builtin, args }, span });
        // Built-ins with fixed argument types.
        let fixed: Option<(Builtin, Vec<Ty>, Ty)> = match name {
            "lines" => Some((Builtin::Lines, vec![Ty::Text], text_list())),
            "split" => Some((Builtin::Split, vec![Ty::Text, Ty::Text], text_list())),
            "join" => Some((Builtin::Join, vec![text_list(), Ty::Text], Ty::Text)),
            "contains" => Some((Builtin::Contains, vec![Ty::Text, Ty::Text], Ty::Bool)),
            "starts_with" => Some((Builtin::StartsWith, vec![Ty::Text, Ty::Text], Ty::Bool)),
            "trim" => Some((Builtin::Trim, vec![Ty::Text], Ty::Text)),
            _ => None,
        };
        if matches!(name, "system" | "user" | "assistant") {
            // A message is its `[role, content]` pair; the type keeps it apart from lists.
            let content = self.value_of(&args[0].value, &Ty::Text)?;
            let role = TExpr { ty: Ty::Text, kind: TExprKind::Str(name.to_string()), span: callee.span };
            return Some(TExpr { ty: Ty::Message, kind: TExprKind::List(vec![role, content]), span });
        }
        if name == "json_parse" {
            return self.json_parse(&args[0].value, &args[1].value, span);
        }
        if let Some((builtin, params, ret)) = fixed {
            let mut checked = Vec::with_capacity(args.len());
            let mut ok = true;
            for (arg, ty) in args.iter().zip(&params) {
                match self.value_of(&arg.value, ty) {
                    Some(v) => checked.push(v),
                    None => ok = false,
                }
            }
            return if ok { done(builtin, ret, checked) } else { None };
        }
        let mut checked = Vec::with_capacity(args.len());
        let mut ok = true;
        for arg in args {
            match self.value(&arg.value, None) {
                Some(v) => checked.push(v),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        match name {
            "len" => match &checked[0].ty {
                Ty::Text => done(Builtin::LenText, Ty::Int, checked),
                Ty::List(_) => done(Builtin::LenList, Ty::Int, checked),
                other => {
                    let diagnostic = Diagnostic::error(format!("`len` takes text or a list, found `{other}`"), checked[0].span);
                    self.error(diagnostic);
                    None
                }
            },
            "format" => {
                if checked[0].ty != Ty::Text {
                    let diagnostic = super::typeck::mismatch(&Ty::Text, &checked[0].ty, checked[0].span);
                    self.error(diagnostic);
                    return None;
                }
                if let ExprKind::Str(template) = &args[0].value.kind {
                    let holes = format_holes(template);
                    if holes != args.len() - 1 {
                        self.error(
                            Diagnostic::error(
                                format!("the format has {holes} `{{}}` but {} {} given", arguments(args.len() - 1), if args.len() == 2 { "was" } else { "were" }),
                                args[0].value.span,
                            )
                            .with_help("each `{}` takes the next argument in order"),
                        );
                        return None;
                    }
                }
                done(Builtin::Format, Ty::Text, checked)
            }
            "min" | "max" => {
                let builtin = if name == "min" { Builtin::Min } else { Builtin::Max };
                let mut it = checked.into_iter();
                let (a, b) = (it.next()?, it.next()?);
                for v in [&a, &b] {
                    if !v.ty.is_numeric() {
                        self.error(Diagnostic::error(format!("`{name}` takes numbers, found `{}`", v.ty), v.span));
                        return None;
                    }
                }
                let (a, b, ty) = promote(a, b);
                done(builtin, ty, vec![a, b])
            }
            "abs" => {
                let ty = checked[0].ty.clone();
                if !ty.is_numeric() {
                    self.error(Diagnostic::error(format!("`abs` takes a number, found `{ty}`"), checked[0].span));
                    return None;
                }
                done(Builtin::Abs, ty, checked)
            }
            "argmax" => match &checked[0].ty {
                Ty::List(elem) if elem.is_numeric() => done(Builtin::Argmax, Ty::Int, checked),
                other => {
                    let diagnostic = Diagnostic::error(
                        format!("mismatched types: expected `list<float>` or `list<int>`, found `{other}`"),
                        checked[0].span,
                    );
                    self.error(diagnostic);
                    None
                }
            },
            "int" | "float" => {
                let (builtin, ty) = if name == "int" { (Builtin::ToInt, Ty::Int) } else { (Builtin::ToFloat, Ty::Float) };
                match checked[0].ty {
                    Ty::Text | Ty::Int | Ty::Float | Ty::Bool => done(builtin, ty, checked),
                    ref other => {
                        let diagnostic = Diagnostic::error(format!("cannot convert `{other}` to `{ty}`"), checked[0].span);
                        self.error(diagnostic);
                        None
                    }
                }
            }
            "text" => done(Builtin::ToText, Ty::Text, checked),
            "to_json" => {
                if !is_json_type(&checked[0].ty) {
                    let diagnostic = Diagnostic::error(format!("`to_json` cannot write a `{}`", checked[0].ty), checked[0].span)
                        .with_help("to_json takes text, int, float, bool, a record, or a list of these");
                    self.error(diagnostic);
                    return None;
                }
                done(Builtin::ToJson, Ty::Text, checked)
            }
            _ => None,
        }
    }

    /// `json_parse(text, RECORD)`: the second argument names a record type.
    fn json_parse(&mut self, text: &Expr, record: &Expr, span: Span) -> Option<TExpr> {
        let text = self.value_of(text, &Ty::Text);
        let name = match &record.kind {
            ExprKind::Name(name) if self.g.record_names.contains(name) => name.clone(),
            _ => {
                let diagnostic = Diagnostic::error("the second argument of `json_parse` must name a record type", record.span)
                    .with_help("declare `record NAME { … }` and write `json_parse(text, NAME)`");
                self.error(diagnostic);
                return None;
            }
        };
        Some(TExpr { ty: Ty::Record(name), kind: TExprKind::Builtin { builtin: Builtin::JsonParse, args: vec![text?] }, span })
    }
}

/// The `{}` placeholders of a format template, counted exactly as the run time reads them.
fn format_holes(template: &str) -> usize {
    agentc_runtime::builtins::format_placeholders(template)
}
