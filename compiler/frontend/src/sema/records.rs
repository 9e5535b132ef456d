//! Record types: their declarations (fields with a JSON form, no record containing
//! itself), record values `NAME(field: value, ...)` and field access `value.field`.

use std::collections::HashMap;

use crate::ast::{self, Arg, Expr, Ident, Item};
use crate::diagnostic::Diagnostic;
use crate::hir::{self, TExpr, TExprKind};
use crate::span::Span;
use crate::types::Ty;

use super::resolve::{GlobalKind, Globals, Signature};
use super::scope::suggest;
use super::typeck::BodyCx;

/// The checked record declarations, in source order; `None` when one is invalid (reported).
pub(crate) fn check_records(
    program: &ast::Program,
    sigs: &[(Signature, bool)],
    globals: &Globals,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<hir::Record>> {
    let mut records = Vec::new();
    let mut ok = true;
    for (item, ((fields, _), registered)) in program.items.iter().zip(sigs) {
        let Item::Record(decl) = item else { continue };
        let fields: Option<Vec<(String, Ty)>> = fields.iter().map(|(n, t)| Some((n.clone(), t.clone()?))).collect();
        match fields {
            Some(fields) if *registered => records.push(hir::Record { name: decl.name.name.clone(), fields, span: decl.span }),
            // Errors in the field types or the name were reported by `resolve::collect`.
            _ => ok = false,
        }
    }
    for record in &records {
        if let Some(path) = cycle(&record.name, globals) {
            let decl = program.items.iter().find_map(|item| match item {
                Item::Record(r) if r.name.name == record.name => Some(r),
                _ => None,
            });
            let span = decl.map_or(record.span, |r| r.name.span);
            diags.push(
                Diagnostic::error(format!("record `{}` contains itself", record.name), span)
                    .with_note(format!("through {}", path.join(" → ")))
                    .with_help("a record's value must be finite: use a list of another record or a text field instead"),
            );
            ok = false;
        }
    }
    ok.then_some(records)
}

/// The field path by which record `start` reaches itself (`A.b → B.a`), if it does.
fn cycle(start: &str, globals: &Globals) -> Option<Vec<String>> {
    fn records_in(ty: &Ty) -> Option<&str> {
        match ty {
            Ty::Record(name) => Some(name),
            Ty::List(elem) => records_in(elem),
            _ => None,
        }
    }
    // Depth-first over field types, each record visited once.
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_string(), Vec::new())];
    while let Some((name, path)) = stack.pop() {
        let Some(global) = globals.get(&name).filter(|g| g.kind == GlobalKind::Record) else { continue };
        for (field, ty) in &global.params {
            let Some(inner) = ty.as_ref().and_then(records_in) else { continue };
            let mut next = path.clone();
            next.push(format!("`{name}.{field}`"));
            if inner == start {
                return Some(next);
            }
            if seen.insert(inner.to_string()) {
                stack.push((inner.to_string(), next));
            }
        }
    }
    None
}

impl BodyCx<'_> {
    /// `NAME(field: value, ...)`: every field named exactly once, each value of its type.
    pub(crate) fn record_value(&mut self, callee: &Ident, fields: &[(String, Option<Ty>)], args: &[Arg], span: Span) -> Option<TExpr> {
        let name = callee.name.as_str();
        let mut given: HashMap<&str, (&Expr, Span)> = HashMap::new();
        let mut ok = true;
        for arg in args {
            let Some(field) = &arg.name else {
                let _ = self.value(&arg.value, None);
                self.error(
                    Diagnostic::error(format!("a field of `{name}` without a name"), arg.span)
                        .with_help(format!("name each field: `{name}(field: value, …)`")),
                );
                ok = false;
                continue;
            };
            if !fields.iter().any(|(f, _)| *f == field.name) {
                let _ = self.value(&arg.value, None);
                let mut diagnostic = Diagnostic::error(format!("record `{name}` has no field `{}`", field.name), field.span);
                if let Some(s) = suggest(&field.name, fields.iter().map(|(f, _)| f.as_str())) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
                }
                self.error(diagnostic);
                ok = false;
                continue;
            }
            if let Some((_, first)) = given.get(field.name.as_str()) {
                let _ = self.value(&arg.value, None);
                self.error(
                    Diagnostic::error(format!("field `{}` is given twice", field.name), field.span)
                        .with_secondary(*first, "first given here"),
                );
                ok = false;
                continue;
            }
            given.insert(&field.name, (&arg.value, field.span));
        }
        let missing: Vec<String> = fields.iter().filter(|(f, _)| !given.contains_key(f.as_str())).map(|(f, _)| format!("`{f}`")).collect();
        if ok && !missing.is_empty() {
            let plural = if missing.len() == 1 { "field" } else { "fields" };
            self.error(
                Diagnostic::error(format!("missing {plural} {} of record `{name}`", missing.join(", ")), span)
                    .with_help("a record value gives every field exactly once"),
            );
            ok = false;
        }
        let mut values = Vec::with_capacity(fields.len());
        for (field, ty) in fields {
            let Some((expr, _)) = given.get(field.as_str()) else { continue };
            match ty.as_ref().and_then(|ty| self.value_of(expr, ty)) {
                Some(v) => values.push(v),
                None => ok = false,
            }
        }
        ok.then(|| TExpr { ty: Ty::Record(name.to_string()), kind: TExprKind::Record { fields: values }, span })
    }

    /// `BASE.FIELD` on a record value.
    pub(crate) fn field(&mut self, base: &Expr, field: &Ident, span: Span) -> Option<TExpr> {
        let base_t = self.value(base, None)?;
        let Ty::Record(record) = &base_t.ty else {
            self.error(
                Diagnostic::error(format!("`{}` has no fields", base_t.ty), field.span)
                    .with_label(format!("this is a field access on a `{}`", base_t.ty)),
            );
            return None;
        };
        let fields = self.g.get(record).map(|g| g.params.clone()).unwrap_or_default();
        let Some(index) = fields.iter().position(|(f, _)| *f == field.name) else {
            let mut diagnostic = Diagnostic::error(format!("record `{record}` has no field `{}`", field.name), field.span);
            if let Some(s) = suggest(&field.name, fields.iter().map(|(f, _)| f.as_str())) {
                diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
            }
            self.error(diagnostic);
            return None;
        };
        let ty = fields[index].1.clone()?;
        Some(TExpr { ty, kind: TExprKind::Field { base: Box::new(base_t), field: field.name.clone(), index }, span })
    }
}
