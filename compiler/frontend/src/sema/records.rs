//! Record types: their declarations (fields with a JSON form, no record containing
//! itself), record values `NAME(field: value, ...)` and field access `value.field`.

use std::collections::HashMap;

use crate::ast::{self, Arg, Expr, Ident, Item};
use crate::diagnostic::Diagnostic;
use crate::hir::{self, TExpr, TExprKind};
use crate::span::Span;
use crate::types::Ty;

use super::resolve::Signature;
use super::scope::suggest;
use super::typeck::BodyCx;

/// The checked record declarations, in source order; `None` when one is invalid (reported).
pub(crate) fn check_records(
    program: &ast::Program,
    sigs: &[(Signature, bool)],
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
    for (record, path) in cycles(&records) {
        let decl = program.items.iter().find_map(|item| match item {
            Item::Record(r) if r.name.name == record => Some(r),
            _ => None,
        });
        let span = decl.map_or(Span::default(), |r| r.name.span);
        diags.push(
            Diagnostic::error(format!("record `{record}` contains itself"), span)
                .with_note(format!("through {}", path.join(" → ")))
                .with_help("a record's value must be finite: use a list of another record or a text field instead"),
        );
        ok = false;
    }
    ok = ok && shallow_enough(program, &records, diags);
    ok.then_some(records)
}

/// Reports each record whose JSON nests deeper than the run time reads
/// (`agentc_runtime::exec::json::MAX_SCHEMA_DEPTH`: each field and list element one level).
/// Records form no cycle here; the walk uses an explicit stack, so a long chain of records
/// cannot overflow the checker's. Returns whether every record is shallow enough.
fn shallow_enough(program: &ast::Program, records: &[hir::Record], diags: &mut Vec<Diagnostic>) -> bool {
    let mut ok = true;
    use agentc_runtime::exec::json::MAX_SCHEMA_DEPTH;
    let by_name: HashMap<&str, &hir::Record> = records.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut depth: HashMap<&str, usize> = HashMap::new();
    // The levels a field type adds, and the record it leads to, if any.
    fn shape(ty: &Ty) -> (usize, Option<&str>) {
        match ty {
            Ty::List(elem) => {
                let (levels, record) = shape(elem);
                (levels + 1, record)
            }
            Ty::Record(name) => (0, Some(name)),
            _ => (0, None),
        }
    }
    for root in records {
        let mut stack = vec![root.name.as_str()];
        while let Some(&name) = stack.last() {
            if depth.contains_key(name) {
                stack.pop();
                continue;
            }
            let record = by_name[name];
            let pending: Vec<&str> = record
                .fields
                .iter()
                .filter_map(|(_, ty)| shape(ty).1)
                .filter(|inner| !depth.contains_key(inner))
                .collect();
            if pending.is_empty() {
                let deepest = record.fields.iter().map(|(_, ty)| {
                    let (levels, inner) = shape(ty);
                    levels + inner.map_or(0, |r| depth[r])
                });
                depth.insert(name, 1 + deepest.max().unwrap_or(0));
                stack.pop();
            } else {
                stack.extend(pending);
            }
        }
    }
    for item in &program.items {
        let Item::Record(decl) = item else { continue };
        if let Some(&levels) = depth.get(decl.name.name.as_str())
            && levels > MAX_SCHEMA_DEPTH
        {
            diags.push(
                Diagnostic::error(format!("record `{}` nests deeper than {MAX_SCHEMA_DEPTH} levels", decl.name.name), decl.name.span)
                    .with_note(format!("its JSON nests {levels} levels of objects and arrays"))
                    .with_help("flatten the record: JSON readers (and constrained decoding) bound the nesting"),
            );
            ok = false;
        }
    }
    ok
}

/// The record named by a field type (through lists), if any.
fn record_in(ty: &Ty) -> Option<&str> {
    match ty {
        Ty::Record(name) => Some(name),
        Ty::List(elem) => record_in(elem),
        _ => None,
    }
}

/// Each cycle among `records` once, as the record it starts at and the field path around it
/// (`A.b` → `B.a`). One depth-first walk over all records with an explicit stack: linear in
/// the fields, and no recursion however long a chain of records is.
fn cycles(records: &[hir::Record]) -> Vec<(String, Vec<String>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let by_name: HashMap<&str, &hir::Record> = records.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    let mut found = Vec::new();
    for root in records {
        if marks.contains_key(root.name.as_str()) {
            continue;
        }
        // (record, next field to look at); the path is the stack itself.
        let mut stack: Vec<(&str, usize)> = vec![(root.name.as_str(), 0)];
        marks.insert(root.name.as_str(), Mark::Open);
        while let Some(top) = stack.last_mut() {
            let (name, next) = *top;
            let record = by_name[name];
            let Some((_, ty)) = record.fields.get(next) else {
                marks.insert(name, Mark::Done);
                stack.pop();
                continue;
            };
            top.1 += 1;
            let Some(inner) = record_in(ty).filter(|inner| by_name.contains_key(inner)) else { continue };
            match marks.get(inner) {
                None => {
                    marks.insert(inner, Mark::Open);
                    stack.push((inner, 0));
                }
                Some(Mark::Open) => {
                    let from = stack.iter().position(|(n, _)| *n == inner).unwrap_or(0);
                    let path = stack[from..]
                        .iter()
                        .map(|(n, i)| format!("`{n}.{}`", by_name[n].fields[i - 1].0))
                        .collect();
                    found.push((inner.to_string(), path));
                }
                Some(Mark::Done) => {}
            }
        }
    }
    found
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
