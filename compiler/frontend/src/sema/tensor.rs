//! Tensor fn bodies: `let`s and a final expression over tensors and scalar element types,
//! with NumPy broadcasting and the shape rules of the tensor built-ins.

use std::collections::HashSet;

use crate::ast::{Arg, BinaryOp, Expr, ExprKind, FnDecl, Ident, Stmt, UnaryOp};
use crate::diagnostic::Diagnostic;
use crate::hir::{LocalId, Param, TBlock, TExpr, TExprKind, TStmt, TensorFn, TensorOp};
use crate::span::Span;
use crate::types::{DType, Ty};

use super::annotations;
use super::calls::{arguments, bind_args};
use super::resolve::{GlobalKind, Globals, TENSOR_BUILTINS, TypeContext, resolve_type};
use super::scope::{LocalInfo, Scopes, suggest};
use super::typeck::{compatible, mismatch};

/// Checks a fn. Returns the checked fn (when valid) and the fn calls made, for the call graph.
pub(crate) fn check_fn(
    decl: &FnDecl,
    params: &[(String, Option<Ty>)],
    ret: Option<&Ty>,
    globals: &Globals,
    diags: &mut Vec<Diagnostic>,
) -> (Option<TensorFn>, Vec<(String, Span)>) {
    for annotation in &decl.annotations {
        diags.push(annotations::misplaced(annotation));
    }
    let mut cx = FnCx { g: globals, diags, scopes: Scopes::default(), poisoned: HashSet::new(), calls: Vec::new() };
    cx.scopes.push();
    for (param, (_, ty)) in decl.params.iter().zip(params) {
        let info = LocalInfo { is_param: true, map_level: 0 };
        if let Ok(id) = cx.scopes.declare(&param.name.name, ty.clone().unwrap_or(Ty::Unit), param.name.span, info)
            && ty.is_none()
        {
            cx.poisoned.insert(id);
        }
    }
    let body = cx.body(decl, ret);
    let calls = std::mem::take(&mut cx.calls);
    let locals = cx.scopes.locals.clone();
    let ok = decl.annotations.is_empty();
    let result = (|| {
        let body = body?;
        let params = params
            .iter()
            .zip(&decl.params)
            .map(|((name, ty), p)| Some(Param { name: name.clone(), ty: ty.clone()?, span: p.span }))
            .collect::<Option<Vec<_>>>()?;
        ok.then(|| TensorFn {
            name: decl.name.name.clone(),
            params,
            locals,
            ret: ret.cloned().unwrap_or(Ty::Unit),
            body,
            span: decl.span,
        })
    })();
    (result, calls)
}

/// The element type of a tensor or scalar type.
fn elem_of(ty: &Ty) -> Option<DType> {
    match ty {
        Ty::Tensor { elem, .. } => Some(*elem),
        Ty::Scalar(d) => Some(*d),
        _ => None,
    }
}

fn is_literal(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::Float(_) => true,
        ExprKind::Unary { op: UnaryOp::Neg, operand } => is_literal(operand),
        _ => false,
    }
}

/// NumPy broadcasting of two shapes (right-aligned; equal, 1, or `?` match).
pub(crate) fn broadcast(a: &[Option<u64>], b: &[Option<u64>]) -> Option<Vec<Option<u64>>> {
    let n = a.len().max(b.len());
    let mut out = vec![None; n];
    for i in 0..n {
        let da = if i < a.len() { a[a.len() - 1 - i] } else { Some(1) };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { Some(1) };
        out[n - 1 - i] = match (da, db) {
            (Some(x), Some(y)) if x == y => Some(x),
            (Some(1), d) | (d, Some(1)) => d,
            (None, d) | (d, None) => d,
            _ => return None,
        };
    }
    Some(out)
}

struct FnCx<'g> {
    g: &'g Globals,
    diags: &'g mut Vec<Diagnostic>,
    scopes: Scopes,
    poisoned: HashSet<LocalId>,
    calls: Vec<(String, Span)>,
}

impl FnCx<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    fn body(&mut self, decl: &FnDecl, ret: Option<&Ty>) -> Option<TBlock> {
        let mut ok = true;
        let mut stmts = Vec::new();
        let mut value = None;
        let count = decl.body.stmts.len();
        for (i, stmt) in decl.body.stmts.iter().enumerate() {
            match stmt {
                Stmt::Let { name, ty, value: init, span } => {
                    let declared = ty.as_ref().map(|t| resolve_type(t, TypeContext::Fn, &self.g.record_names, self.diags));
                    let hint = declared.as_ref().and_then(|d| d.as_ref()).and_then(elem_of);
                    let mut checked = self.expr(init, hint);
                    if let (Some(Some(want)), Some(got)) = (&declared, &checked)
                        && !compatible(want, &got.ty)
                    {
                        self.error(mismatch(want, &got.ty, got.span));
                        checked = None;
                    }
                    let ty = match (&declared, &checked) {
                        (Some(Some(t)), _) => t.clone(),
                        (_, Some(c)) => c.ty.clone(),
                        _ => Ty::Unit,
                    };
                    let info = LocalInfo { is_param: false, map_level: 0 };
                    match self.scopes.declare(&name.name, ty, name.span, info) {
                        Ok(local) => match checked {
                            Some(value) => stmts.push(TStmt::Let { local, value, span: *span }),
                            None => {
                                self.poisoned.insert(local);
                                ok = false;
                            }
                        },
                        Err(first) => {
                            self.error(
                                Diagnostic::error(format!("duplicate declaration of `{}`", name.name), name.span)
                                    .with_secondary(first, "first declared here"),
                            );
                            ok = false;
                        }
                    }
                }
                Stmt::Expr(expr) if i + 1 == count => {
                    let hint = ret.and_then(elem_of);
                    value = self.expr(expr, hint);
                    ok &= value.is_some();
                }
                other => {
                    let span = match other {
                        Stmt::Assign { span, .. } | Stmt::Loop { span, .. } | Stmt::Break { span } | Stmt::Return { span, .. } => *span,
                        Stmt::Expr(e) => e.span,
                        Stmt::Let { span, .. } => *span,
                    };
                    self.error(
                        Diagnostic::error("only `let` and a final expression are allowed in a fn body", span)
                            .with_help("a fn computes one tensor expression; control flow belongs in agents"),
                    );
                    ok = false;
                }
            }
        }
        let ret = ret?;
        if !ok {
            return None;
        }
        let Some(value) = value else {
            let close = Span::new(decl.body.span.end.saturating_sub(1) as usize, decl.body.span.end as usize);
            self.error(
                Diagnostic::error(format!("the body produces no value of type `{ret}`"), close)
                    .with_help("end the fn body with the expression that computes its result"),
            );
            return None;
        };
        if !compatible(ret, &value.ty) {
            self.error(mismatch(ret, &value.ty, value.span));
            return None;
        }
        Some(TBlock { stmts, value: Some(Box::new(value)), span: decl.body.span })
    }

    /// Checks an expression; a tensor result beyond the size limit (broadcasting and
    /// `matmul` can build one from written types within it) is an error here.
    fn expr(&mut self, expr: &Expr, hint: Option<DType>) -> Option<TExpr> {
        let checked = self.expr_of_kind(expr, hint)?;
        if let Ty::Tensor { dims, .. } = &checked.ty
            && !crate::types::tensor_size_ok(dims)
        {
            self.error(Diagnostic::error(
                format!("tensor `{}` is too large: more than 2^48 elements", checked.ty),
                expr.span,
            ));
            return None;
        }
        Some(checked)
    }

    fn expr_of_kind(&mut self, expr: &Expr, hint: Option<DType>) -> Option<TExpr> {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Int(v) => {
                let d = hint.unwrap_or(DType::I64);
                let kind = if d.is_float() { TExprKind::Float(*v as f64) } else { TExprKind::Int(*v) };
                Some(TExpr { ty: Ty::Scalar(d), kind, span })
            }
            ExprKind::Float(v) => {
                let d = hint.unwrap_or(DType::F32);
                if !d.is_float() {
                    self.error(Diagnostic::error(format!("float literal where `{}` is expected", d.name()), span));
                    return None;
                }
                Some(TExpr { ty: Ty::Scalar(d), kind: TExprKind::Float(*v), span })
            }
            ExprKind::Name(name) => {
                if let Some(local) = self.scopes.lookup(name) {
                    if self.poisoned.contains(&local) {
                        return None;
                    }
                    return Some(TExpr { ty: self.scopes.ty(local).clone(), kind: TExprKind::Local(local), span });
                }
                self.not_in_fn_or_unknown(name, span);
                None
            }
            ExprKind::Unary { op: UnaryOp::Neg, operand } => {
                let inner = self.expr(operand, hint)?;
                Some(TExpr { ty: inner.ty.clone(), kind: TExprKind::Unary { op: UnaryOp::Neg, operand: Box::new(inner) }, span })
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, hint, span),
            ExprKind::Call { callee, args } => self.call(callee, args, span, None),
            ExprKind::Annotated { inner, annotations: list } => {
                let mut device = None;
                let mut ok = true;
                for annotation in list {
                    let is_fn_call = matches!(&inner.kind, ExprKind::Call { callee, .. }
                        if self.g.get(&callee.name).is_some_and(|g| g.kind == GlobalKind::Fn));
                    if annotation.name.name == "device" && is_fn_call && device.is_none() {
                        device = annotations::device(annotation, self.diags);
                        ok &= device.is_some();
                    } else {
                        self.error(annotations::misplaced(annotation));
                        ok = false;
                    }
                }
                let checked = match (&inner.kind, device) {
                    (ExprKind::Call { callee, args }, Some(pin)) => self.call(callee, args, inner.span, Some(pin)),
                    _ => self.expr(inner, hint),
                };
                if ok { checked } else { None }
            }
            ExprKind::MethodCall { method, .. } => {
                self.error(
                    Diagnostic::error("models cannot be called inside a fn", method.span)
                        .with_help("call the model in an agent and pass the result to the fn"),
                );
                None
            }
            other => {
                let what = match other {
                    ExprKind::Str(_) => "text",
                    ExprKind::Bool(_) => "`bool` values",
                    ExprKind::Duration(_) => "durations",
                    ExprKind::List(_) => "lists",
                    ExprKind::Index { .. } => "indexing",
                    ExprKind::If { .. } => "`if`",
                    ExprKind::Map { .. } => "`map`",
                    ExprKind::Try { .. } => "`try`",
                    ExprKind::Unary { .. } => "`!`",
                    _ => "this expression",
                };
                self.error(
                    Diagnostic::error(format!("{what} cannot be used in a fn body"), span)
                        .with_help("fn bodies compute with tensors and scalar element types"),
                );
                None
            }
        }
    }

    fn not_in_fn_or_unknown(&mut self, name: &str, span: Span) {
        if let Some(global) = self.g.get(name) {
            let what = match global.kind {
                GlobalKind::Model => "models",
                GlobalKind::Tool => "tools",
                GlobalKind::Agent => "agents",
                GlobalKind::Record => "records",
                GlobalKind::Fn => {
                    self.error(Diagnostic::error(format!("`{name}` is a fn, not a value"), span).with_help(format!("call it: `{name}(…)`")));
                    return;
                }
            };
            self.error(
                Diagnostic::error(format!("{what} cannot be called inside a fn"), span)
                    .with_help("a fn computes with tensors only; call it from an agent"),
            );
            return;
        }
        let mut diagnostic = Diagnostic::error(format!("unknown name `{name}`"), span);
        if self.g.suggestions.take() {
            let visible = self.scopes.visible();
            let candidates = visible.iter().map(String::as_str).chain(self.g.names()).chain(TENSOR_BUILTINS.iter().copied());
            if let Some(s) = suggest(name, candidates) {
                diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
            }
        }
        self.error(diagnostic);
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, hint: Option<DType>, span: Span) -> Option<TExpr> {
        if !matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div) {
            self.error(
                Diagnostic::error(format!("operator `{}` cannot be used in a fn body", op.symbol()), span)
                    .with_help("fn bodies have the elementwise `+`, `-`, `*` and `/`"),
            );
            return None;
        }
        let (l, r) = if is_literal(lhs) && !is_literal(rhs) {
            let r = self.expr(rhs, hint);
            let l = self.expr(lhs, r.as_ref().and_then(|r| elem_of(&r.ty)).or(hint));
            (l, r)
        } else {
            let l = self.expr(lhs, hint);
            let r = self.expr(rhs, l.as_ref().and_then(|l| elem_of(&l.ty)).or(hint));
            (l, r)
        };
        let (l, r) = (l?, r?);
        let ty = self.elementwise(&l.ty, &r.ty, span)?;
        Some(TExpr { ty, kind: TExprKind::Binary { op, lhs: Box::new(l), rhs: Box::new(r) }, span })
    }

    /// The result type of an elementwise operation.
    fn elementwise(&mut self, a: &Ty, b: &Ty, span: Span) -> Option<Ty> {
        let (Some(ea), Some(eb)) = (elem_of(a), elem_of(b)) else {
            self.error(Diagnostic::error(format!("cannot compute with `{a}` and `{b}` in a fn body"), span));
            return None;
        };
        if ea != eb {
            self.error(Diagnostic::error(
                format!("mismatched element types: `{}` and `{}`", ea.name(), eb.name()),
                span,
            ));
            return None;
        }
        match (a, b) {
            (Ty::Scalar(_), Ty::Scalar(_)) => Some(a.clone()),
            (Ty::Scalar(_), t @ Ty::Tensor { .. }) | (t @ Ty::Tensor { .. }, Ty::Scalar(_)) => Some(t.clone()),
            (Ty::Tensor { dims: da, .. }, Ty::Tensor { dims: db, .. }) => match broadcast(da, db) {
                Some(dims) => Some(Ty::Tensor { dims, elem: ea }),
                None => {
                    self.error(Diagnostic::error(
                        format!("tensor shape mismatch: `{a}` and `{b}` cannot be broadcast"),
                        span,
                    ));
                    None
                }
            },
            _ => None,
        }
    }

    fn call(&mut self, callee: &Ident, args: &[Arg], span: Span, device: Option<crate::hir::DevicePin>) -> Option<TExpr> {
        let name = callee.name.as_str();
        if let Some(global) = self.g.get(name).cloned() {
            if global.kind != GlobalKind::Fn {
                self.not_in_fn_or_unknown(name, callee.span);
                return None;
            }
            let names: Vec<String> = global.params.iter().map(|(n, _)| n.clone()).collect();
            let bound = bind_args(name, &names, args, span, self.diags)?;
            let mut checked = Vec::new();
            let mut ok = true;
            for (expr, (_, ty)) in bound.into_iter().zip(&global.params) {
                let value = self.expr(expr, ty.as_ref().and_then(elem_of));
                match (value, ty) {
                    (Some(v), Some(ty)) if compatible(ty, &v.ty) => checked.push(v),
                    (Some(v), Some(ty)) => {
                        self.error(mismatch(ty, &v.ty, v.span));
                        ok = false;
                    }
                    _ => ok = false,
                }
            }
            self.calls.push((name.to_string(), callee.span));
            let ret = global.ret.clone()?;
            return ok.then(|| TExpr { ty: ret, kind: TExprKind::CallFn { name: name.to_string(), args: checked, device }, span });
        }
        let op = match name {
            "matmul" => TensorOp::Matmul,
            "sum" => TensorOp::Sum,
            "mean" => TensorOp::Mean,
            "max" => TensorOp::Max,
            "norm" => TensorOp::Norm,
            "exp" => TensorOp::Exp,
            "sqrt" => TensorOp::Sqrt,
            "softmax" => TensorOp::Softmax,
            "transpose" => TensorOp::Transpose,
            "reshape" => TensorOp::Reshape,
            _ => {
                self.not_in_fn_or_unknown(name, callee.span);
                return None;
            }
        };
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.error(Diagnostic::error(format!("`{name}` takes no named arguments"), named.span));
            return None;
        }
        let wanted = if matches!(op, TensorOp::Matmul | TensorOp::Reshape) { 2 } else { 1 };
        if args.len() != wanted {
            self.error(Diagnostic::error(
                format!("`{name}` takes {} but {} {} given", arguments(wanted), args.len(), if args.len() == 1 { "was" } else { "were" }),
                span,
            ));
            return None;
        }
        let x = self.expr(&args[0].value, None)?;
        let done = |ty: Ty, args: Vec<TExpr>| Some(TExpr { ty, kind: TExprKind::Tensor { op, args }, span });
        let Some(elem) = elem_of(&x.ty) else {
            self.error(Diagnostic::error(format!("`{name}` takes a tensor, found `{}`", x.ty), x.span));
            return None;
        };
        let dims = match &x.ty {
            Ty::Tensor { dims, .. } => dims.clone(),
            _ => Vec::new(),
        };
        match op {
            TensorOp::Sum | TensorOp::Mean | TensorOp::Max | TensorOp::Norm => done(Ty::Scalar(elem), vec![x]),
            TensorOp::Exp | TensorOp::Sqrt => {
                if !elem.is_float() {
                    self.error(Diagnostic::error(format!("`{name}` needs a float element type, found `{}`", elem.name()), x.span));
                    return None;
                }
                done(x.ty.clone(), vec![x])
            }
            TensorOp::Softmax | TensorOp::Transpose => {
                let rank = if op == TensorOp::Softmax { 1 } else { 2 };
                if dims.len() < rank {
                    self.error(Diagnostic::error(
                        format!("`{name}` needs a tensor of rank {rank} or more, found `{}`", x.ty),
                        x.span,
                    ));
                    return None;
                }
                let mut out = dims.clone();
                if op == TensorOp::Transpose {
                    let n = out.len();
                    out.swap(n - 1, n - 2);
                }
                done(Ty::Tensor { dims: out, elem }, vec![x])
            }
            TensorOp::Matmul => {
                let y = self.expr(&args[1].value, Some(elem))?;
                let ydims = match &y.ty {
                    Ty::Tensor { dims, .. } => dims.clone(),
                    _ => Vec::new(),
                };
                for (t, d) in [(&x, &dims), (&y, &ydims)] {
                    if d.len() < 2 {
                        self.error(Diagnostic::error(
                            format!("`matmul` needs tensors of rank 2 or more, found `{}`", t.ty),
                            t.span,
                        ));
                        return None;
                    }
                }
                if elem_of(&y.ty) != Some(elem) {
                    self.error(Diagnostic::error(
                        format!("mismatched element types: `{}` and `{}`", x.ty, y.ty),
                        span,
                    ));
                    return None;
                }
                let (m, k1) = (dims[dims.len() - 2], dims[dims.len() - 1]);
                let (k2, n) = (ydims[ydims.len() - 2], ydims[ydims.len() - 1]);
                if let (Some(a), Some(b)) = (k1, k2)
                    && a != b
                {
                    self.error(
                        Diagnostic::error(format!("matmul inner dimensions differ: {a} vs {b}"), span)
                            .with_secondary(x.span, format!("`{}`", x.ty))
                            .with_secondary(y.span, format!("`{}`", y.ty)),
                    );
                    return None;
                }
                let Some(mut batch) = broadcast(&dims[..dims.len() - 2], &ydims[..ydims.len() - 2]) else {
                    self.error(Diagnostic::error(
                        format!("tensor shape mismatch: the batch dimensions of `{}` and `{}` cannot be broadcast", x.ty, y.ty),
                        span,
                    ));
                    return None;
                };
                batch.push(m);
                batch.push(n);
                done(Ty::Tensor { dims: batch, elem }, vec![x, y])
            }
            TensorOp::Reshape => {
                let ExprKind::List(items) = &args[1].value.kind else {
                    self.error(
                        Diagnostic::error("the shape of `reshape` must be a list of integer literals", args[1].value.span)
                            .with_help("write `reshape(x, [4, 96])`"),
                    );
                    return None;
                };
                let mut shape = Vec::with_capacity(items.len());
                for item in items {
                    match item.kind {
                        ExprKind::Int(n) if n > 0 => shape.push(Some(n as u64)),
                        _ => {
                            self.error(Diagnostic::error("a `reshape` dimension must be a positive integer literal", item.span));
                            return None;
                        }
                    }
                }
                let count = |d: &[Option<u64>]| d.iter().try_fold(1u64, |acc, x| x.and_then(|x| acc.checked_mul(x)));
                if let (Some(from), Some(to)) = (count(&dims), count(&shape))
                    && from != to
                {
                    self.error(Diagnostic::error(
                        format!("`reshape` changes the element count: `{}` has {from}, the new shape {to}", x.ty),
                        span,
                    ));
                    return None;
                }
                let shape_expr = TExpr {
                    ty: Ty::List(Box::new(Ty::Int)),
                    kind: TExprKind::List(
                        shape.iter().zip(items).map(|(d, e)| TExpr { ty: Ty::Int, kind: TExprKind::Int(d.unwrap_or(0) as i64), span: e.span }).collect(),
                    ),
                    span: args[1].value.span,
                };
                done(Ty::Tensor { dims: shape, elem }, vec![x, shape_expr])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::broadcast;

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast(&[Some(4), Some(1)], &[Some(3)]), Some(vec![Some(4), Some(3)]));
        assert_eq!(broadcast(&[None], &[Some(384)]), Some(vec![Some(384)]));
        assert_eq!(broadcast(&[Some(384)], &[Some(128)]), None);
    }
}
