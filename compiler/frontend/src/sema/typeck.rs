//! Type checking of agent code (and of a tool's argument expressions): statements,
//! scopes, control flow rules (`break`, `return`, map bodies), operators with int → float
//! promotion, and names. Calls live in `calls.rs`, built-ins in `builtins.rs`.

use std::collections::HashSet;

use crate::ast::{self, BinaryOp, Block, Expr, ExprKind, Stmt, UnaryOp};
use crate::diagnostic::Diagnostic;
use crate::hir::{Builtin, LocalId, TBlock, TExpr, TExprKind, TStmt};
use crate::span::Span;
use crate::types::Ty;

use super::annotations;
use super::resolve::{Globals, TypeContext, resolve_type, AGENT_BUILTINS};
use super::scope::{LocalInfo, Scopes, suggest};

/// What encloses the code being checked, innermost last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctl {
    Loop,
    Map,
    Try,
}

/// The checker of one agent body (or one tool's argument expressions).
pub(crate) struct BodyCx<'g> {
    pub g: &'g Globals,
    pub diags: &'g mut Vec<Diagnostic>,
    pub scopes: Scopes,
    /// Locals whose declaration failed to check: uses stay silent.
    pub poisoned: HashSet<LocalId>,
    pub ctl: Vec<Ctl>,
    pub map_level: u32,
    /// The tool whose arguments are being checked, if any (restricts what may be used).
    pub in_tool: Option<String>,
    /// Agent calls made (callee, call span), for the call graph.
    pub calls: Vec<(String, Span)>,
    /// The declared result type of the agent.
    pub ret: Option<Ty>,
}

/// Wraps `expr` in a conversion to `ty`.
pub(crate) fn convert(expr: TExpr, ty: Ty) -> TExpr {
    let span = expr.span;
    TExpr { ty, kind: TExprKind::Convert(Box::new(expr)), span }
}

/// Whether a value of type `found` can be used where `expected` is wanted without a
/// conversion node (tensor `?` dimensions match any size).
pub(crate) fn compatible(expected: &Ty, found: &Ty) -> bool {
    match (expected, found) {
        (Ty::List(a), Ty::List(b)) => compatible(a, b),
        (Ty::Tensor { dims: da, elem: ea }, Ty::Tensor { dims: db, elem: eb }) => {
            ea == eb
                && da.len() == db.len()
                && da.iter().zip(db).all(|(a, b)| a.is_none() || b.is_none() || a == b)
        }
        _ => expected == found,
    }
}

/// The standard type mismatch diagnostic.
pub(crate) fn mismatch(expected: &Ty, found: &Ty, span: Span) -> Diagnostic {
    Diagnostic::error(format!("mismatched types: expected `{expected}`, found `{found}`"), span)
        .with_label(format!("this has type `{found}`"))
}

impl<'g> BodyCx<'g> {
    /// A checker with no locals yet.
    pub fn new(g: &'g Globals, diags: &'g mut Vec<Diagnostic>) -> Self {
        BodyCx {
            g,
            diags,
            scopes: Scopes::default(),
            poisoned: HashSet::new(),
            ctl: Vec::new(),
            map_level: 0,
            in_tool: None,
            calls: Vec::new(),
            ret: None,
        }
    }

    pub(crate) fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Declares the parameters in the outermost scope.
    pub fn declare_params(&mut self, params: &[ast::Param], types: &[(String, Option<Ty>)]) {
        self.scopes.push();
        for (param, (_, ty)) in params.iter().zip(types) {
            let info = LocalInfo { is_param: true, map_level: 0 };
            let declared = self.scopes.declare(&param.name.name, ty.clone().unwrap_or(Ty::Unit), param.name.span, info);
            // Duplicates were reported with the signature.
            if let Ok(id) = declared
                && ty.is_none()
            {
                self.poisoned.insert(id);
            }
        }
    }

    /// Checks an agent's body against its declared result.
    pub fn agent_body(&mut self, body: &Block, ret: Option<&Ty>) -> Option<TBlock> {
        // The body shares the parameters' scope: re-declaring a parameter is a duplicate.
        let block = self.block_in_scope(body, ret);
        let block = block?;
        let ret = ret?;
        let returns = always_returns(&block.stmts);
        if matches!(ret, Ty::Tensor { .. })
            && let Some(span) = block.early_return()
        {
            self.error(
                Diagnostic::error("early `return` from an agent whose result is a tensor is not supported", span)
                    .with_help("use an if/else expression to choose the result"),
            );
            return None;
        }
        match &block.value {
            Some(value) => {
                let value = self.coerce(*value.clone(), ret)?;
                Some(TBlock { value: Some(Box::new(value)), ..block })
            }
            None if returns => Some(block),
            None => {
                let close = Span::new(body.span.end.saturating_sub(1) as usize, body.span.end as usize);
                self.error(
                    Diagnostic::error(format!("the body produces no value of type `{ret}`"), close)
                        .with_label(format!("expected a `{ret}` value before this `}}`"))
                        .with_help("end the body with an expression or `return` of that type"),
                );
                None
            }
        }
    }

    /// Checks a block in a new scope.
    pub fn block(&mut self, block: &Block, expected: Option<&Ty>) -> Option<TBlock> {
        self.scopes.push();
        let result = self.block_in_scope(block, expected);
        self.scopes.pop();
        result
    }

    fn block_in_scope(&mut self, block: &Block, expected: Option<&Ty>) -> Option<TBlock> {
        let mut ok = true;
        let mut stmts = Vec::with_capacity(block.stmts.len());
        let mut value = None;
        let count = block.stmts.len();
        let mut returned = false;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == count;
            if returned {
                // Reported once per block, at the first statement that can never run.
                self.error(
                    Diagnostic::error("unreachable code after `return`", stmt_span(stmt))
                        .with_help("remove it, or put the `return` in an `if`"),
                );
                return None;
            }
            returned = matches!(stmt, Stmt::Return { .. });
            if last && let Stmt::Expr(expr) = stmt {
                match self.expr(expr, expected) {
                    Some(texpr) if texpr.ty == Ty::Unit => stmts.push(TStmt::Expr(texpr)),
                    Some(texpr) => value = Some(Box::new(texpr)),
                    None => ok = false,
                }
                continue;
            }
            match self.stmt(stmt) {
                Some(tstmt) => stmts.push(tstmt),
                None => ok = false,
            }
        }
        ok.then_some(TBlock { stmts, value, span: block.span })
    }

    fn stmt(&mut self, stmt: &Stmt) -> Option<TStmt> {
        match stmt {
            Stmt::Let { name, ty, value, span } => {
                let declared = match ty {
                    Some(ty) => Some(resolve_type(ty, TypeContext::Agent, &self.g.record_names, self.diags)),
                    None => None,
                };
                let checked = match &declared {
                    Some(Some(ty)) => self.value_of(value, ty),
                    Some(None) => {
                        let _ = self.value(value, None);
                        None
                    }
                    None => self.value(value, None),
                };
                let ty = match (&declared, &checked) {
                    (Some(Some(ty)), _) => ty.clone(),
                    (_, Some(value)) => value.ty.clone(),
                    _ => Ty::Unit,
                };
                let info = LocalInfo { is_param: false, map_level: self.map_level };
                let local = match self.scopes.declare(&name.name, ty, name.span, info) {
                    Ok(id) => id,
                    Err(first) => {
                        self.error(
                            Diagnostic::error(format!("duplicate declaration of `{}`", name.name), name.span)
                                .with_secondary(first, "first declared here")
                                .with_help("shadowing is allowed in a nested block only"),
                        );
                        return None;
                    }
                };
                let Some(value) = checked else {
                    self.poisoned.insert(local);
                    return None;
                };
                Some(TStmt::Let { local, value, span: *span })
            }
            Stmt::Assign { name, value, span } => self.assign(name, value, *span),
            Stmt::Loop { args, annotations, body, span } => {
                let max = self.loop_max(args, *span);
                let mut expect = None;
                let mut ok = true;
                for annotation in annotations {
                    if annotation.name.name == "expect" && expect.is_none() {
                        expect = annotations::expect(annotation, self.diags);
                        ok &= expect.is_some();
                    } else if annotation.name.name == "expect" {
                        self.error(annotations::duplicate(annotation));
                        ok = false;
                    } else {
                        self.error(annotations::misplaced(annotation));
                        ok = false;
                    }
                }
                self.ctl.push(Ctl::Loop);
                let body = self.block(body, None);
                self.ctl.pop();
                let body = body?;
                let max = max?;
                ok.then_some(TStmt::Loop { max, expect, body, span: *span })
            }
            Stmt::Break { span } => {
                match self.ctl.last() {
                    None => self.error(
                        Diagnostic::error("`break` outside of a loop", *span)
                            .with_help("`break` leaves the innermost `loop (max: N) { … }`"),
                    ),
                    Some(Ctl::Map) => self.error(
                        Diagnostic::error("`break` is not allowed inside a map body", *span)
                            .with_help("map bodies are independent: every element is computed"),
                    ),
                    Some(Ctl::Try) => self.error(
                        Diagnostic::error("`break` cannot leave a `try` body or `catch` arm", *span)
                            .with_help("give the `try` a value and test it after the `try`: `if failed { break }`"),
                    ),
                    Some(Ctl::Loop) => return Some(TStmt::Break { span: *span }),
                }
                None
            }
            Stmt::Return { value, span } => self.return_stmt(value.as_ref(), *span),
            Stmt::Expr(expr) => self.expr(expr, None).map(TStmt::Expr),
        }
    }

    /// `return` anywhere in an agent body (early return included), except in a map body.
    fn return_stmt(&mut self, value: Option<&Expr>, span: Span) -> Option<TStmt> {
        if self.ctl.iter().any(|c| matches!(c, Ctl::Try)) {
            self.error(
                Diagnostic::error("`return` cannot leave a `try` body or `catch` arm", span)
                    .with_help("give the `try` a value and return it after the `try`"),
            );
            return None;
        }
        if self.map_level > 0 {
            self.error(
                Diagnostic::error("`return` is not allowed inside a map body", span)
                    .with_help("a map body's last expression is its element of the result"),
            );
            return None;
        }
        let ret = self.ret.clone();
        let Some(value) = value else {
            let wanted = ret.map_or("a value".to_string(), |t| format!("a value of type `{t}`"));
            self.error(Diagnostic::error(format!("`return` needs {wanted}"), span));
            return None;
        };
        let value = match &ret {
            Some(ret) => self.value_of(value, ret)?,
            None => {
                self.value(value, None);
                return None;
            }
        };
        Some(TStmt::Return { value, span })
    }

    fn loop_max(&mut self, args: &[ast::Arg], span: Span) -> Option<u64> {
        if let [arg] = args
            && arg.name.as_ref().is_some_and(|n| n.name == "max")
        {
            // Positive, as docs/language.md §5.5 says: `max: 0` would be a body that never
            // runs (and the IR verifier and the plan loader require max_iterations ≥ 1).
            if let ExprKind::Int(n) = arg.value.kind
                && n >= 1
            {
                return Some(n as u64);
            }
            self.error(
                Diagnostic::error("the loop bound must be a positive integer literal", arg.value.span)
                    .with_help("write `loop (max: 3) { … }`"),
            );
            return None;
        }
        let at = args.first().map_or(span, |a| a.span);
        self.error(
            Diagnostic::error("a loop needs exactly one bound `max: N`", at)
                .with_help("write `loop (max: 3) { … }`"),
        );
        None
    }

    fn assign(&mut self, name: &ast::Ident, value: &Expr, span: Span) -> Option<TStmt> {
        let Some(local) = self.scopes.lookup(&name.name) else {
            let _ = self.value(value, None);
            self.unknown_name(&name.name, name.span);
            return None;
        };
        let info = self.scopes.info[local.0 as usize];
        let ty = self.scopes.ty(local).clone();
        let checked = if self.poisoned.contains(&local) {
            let _ = self.value(value, None);
            None
        } else {
            self.value_of(value, &ty)
        };
        if info.is_param {
            self.error(
                Diagnostic::error(format!("cannot assign to parameter `{}`", name.name), name.span)
                    .with_help(format!("declare a local: `let {0}_ = {0}`", name.name)),
            );
            return None;
        }
        if info.map_level < self.map_level {
            self.error(
                Diagnostic::error(
                    format!("assignment to outer variable `{}` is not allowed inside a map body", name.name),
                    name.span,
                )
                .with_help("map bodies are independent; let the body's value be the element instead"),
            );
            return None;
        }
        Some(TStmt::Assign { local, value: checked?, span })
    }

    /// Checks an expression that must have a value of (or convertible to) `expected`.
    pub fn value_of(&mut self, expr: &Expr, expected: &Ty) -> Option<TExpr> {
        let value = self.value(expr, Some(expected))?;
        self.coerce(value, expected)
    }

    /// Checks an expression that must have a value.
    pub fn value(&mut self, expr: &Expr, expected: Option<&Ty>) -> Option<TExpr> {
        let checked = self.expr(expr, expected)?;
        if checked.ty == Ty::Unit {
            let message = match &expr.kind {
                ExprKind::If { else_block: None, .. } => "`if` without `else` has no value",
                ExprKind::If { .. } => "this `if` has no value: a branch does not end with an expression",
                ExprKind::Try { .. } => "this `try` has no value: an arm does not end with an expression",
                _ => "this expression has no value",
            };
            self.error(Diagnostic::error(message, expr.span));
            return None;
        }
        Some(checked)
    }

    /// Converts `value` to `expected` where the language does so implicitly.
    pub fn coerce(&mut self, value: TExpr, expected: &Ty) -> Option<TExpr> {
        if compatible(expected, &value.ty) {
            return Some(value);
        }
        if value.ty == Ty::Int && *expected == Ty::Float {
            return Some(convert(value, Ty::Float));
        }
        self.error(mismatch(expected, &value.ty, value.span));
        None
    }

    /// Checks an expression; `expected` only guides `[]` and branches.
    pub fn expr(&mut self, expr: &Expr, expected: Option<&Ty>) -> Option<TExpr> {
        let span = expr.span;
        let done = |ty: Ty, kind: TExprKind| Some(TExpr { ty, kind, span });
        match &expr.kind {
            ExprKind::Int(v) => done(Ty::Int, TExprKind::Int(*v)),
            ExprKind::Float(v) => done(Ty::Float, TExprKind::Float(*v)),
            ExprKind::Bool(v) => done(Ty::Bool, TExprKind::Bool(*v)),
            ExprKind::Str(v) => done(Ty::Text, TExprKind::Str(v.clone())),
            ExprKind::Duration(_) => {
                self.error(
                    Diagnostic::error("a duration is not a value", span)
                        .with_help("durations are written in `@sla`, tool timeouts and similar options"),
                );
                None
            }
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::List(items) => self.list(items, expected, span),
            ExprKind::Unary { op, operand } => self.unary(*op, operand, span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ExprKind::Call { callee, args } => self.call(callee, args, span, None),
            ExprKind::MethodCall { receiver, method, args } => {
                self.method_call(receiver, method, args, span, None)
            }
            ExprKind::Field { base, field } => self.field(base, field, span),
            ExprKind::Index { base, index } => {
                let base_t = self.value(base, None);
                let index_t = self.value_of(index, &Ty::Int);
                let base_t = base_t?;
                let elem = match &base_t.ty {
                    Ty::List(elem) => (**elem).clone(),
                    Ty::Text => {
                        self.error(
                            Diagnostic::error("text is not indexable", base.span)
                                .with_help("use `split` or `lines` to get a list"),
                        );
                        return None;
                    }
                    other => {
                        self.error(Diagnostic::error(format!("`{other}` is not indexable"), base.span));
                        return None;
                    }
                };
                done(elem, TExprKind::Index { base: Box::new(base_t), index: Box::new(index_t?) })
            }
            ExprKind::Annotated { inner, annotations } => self.annotated(inner, annotations, expected),
            ExprKind::If { cond, then_block, else_block } => {
                self.if_expr(cond, then_block, else_block.as_ref(), expected, span)
            }
            ExprKind::Map { var, list, body } => self.map(var, list, body, span),
            ExprKind::Try { body, error, handler } => self.try_expr(body, error, handler, expected, span),
        }
    }

    fn name(&mut self, name: &str, span: Span) -> Option<TExpr> {
        if let Some(local) = self.scopes.lookup(name) {
            if self.poisoned.contains(&local) {
                return None;
            }
            let ty = self.scopes.ty(local).clone();
            return Some(TExpr { ty, kind: TExprKind::Local(local), span });
        }
        if let Some(global) = self.g.get(name) {
            let help = match global.kind {
                super::resolve::GlobalKind::Model => {
                    format!("call the model: `{name}.generate(…)` or `{name}.embed(…)`")
                }
                super::resolve::GlobalKind::Record => format!("build one: `{name}(field: value, …)`"),
                _ => format!("call it: `{name}(…)`"),
            };
            self.error(
                Diagnostic::error(format!("`{name}` is {}, not a value", global.kind.article()), span)
                    .with_help(help),
            );
            return None;
        }
        if AGENT_BUILTINS.contains(&name) {
            self.error(
                Diagnostic::error(format!("`{name}` is a built-in function, not a value"), span)
                    .with_help(format!("call it: `{name}(…)`")),
            );
            return None;
        }
        self.unknown_name(name, span);
        None
    }

    /// Reports an unknown name, with a suggestion while the program's budget lasts.
    pub fn unknown_name(&mut self, name: &str, span: Span) {
        let mut diagnostic = Diagnostic::error(format!("unknown name `{name}`"), span);
        if self.g.suggestions.take() {
            let visible = self.scopes.visible();
            let candidates = visible
                .iter()
                .map(String::as_str)
                .chain(self.g.names())
                .chain(AGENT_BUILTINS.iter().copied());
            if let Some(s) = suggest(name, candidates) {
                diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
            }
        }
        self.error(diagnostic);
    }

    fn list(&mut self, items: &[Expr], expected: Option<&Ty>, span: Span) -> Option<TExpr> {
        let expected_elem = match expected {
            Some(Ty::List(elem)) => Some((**elem).clone()),
            _ => None,
        };
        if items.is_empty() {
            return match expected_elem {
                Some(elem) => Some(TExpr { ty: Ty::List(Box::new(elem)), kind: TExprKind::List(Vec::new()), span }),
                None => {
                    self.error(
                        Diagnostic::error("cannot infer the element type of `[]`", span)
                            .with_help("annotate the type, as in `let xs: list<text> = []`"),
                    );
                    None
                }
            };
        }
        let mut checked = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            match self.value(item, expected_elem.as_ref()) {
                Some(t) => checked.push(t),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let elem = match expected_elem {
            Some(elem) => elem,
            None if checked.iter().all(|t| t.ty.is_numeric()) && checked.iter().any(|t| t.ty == Ty::Float) => Ty::Float,
            None => checked[0].ty.clone(),
        };
        let mut out = Vec::with_capacity(checked.len());
        for item in checked {
            match self.coerce(item, &elem) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then(|| TExpr { ty: Ty::List(Box::new(elem)), kind: TExprKind::List(out), span })
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> Option<TExpr> {
        let checked = self.value(operand, None)?;
        let ok = match op {
            UnaryOp::Neg => checked.ty.is_numeric(),
            UnaryOp::Not => checked.ty == Ty::Bool,
        };
        if !ok {
            let (symbol, wants) = match op {
                UnaryOp::Neg => ("-", "`int` or `float`"),
                UnaryOp::Not => ("!", "`bool`"),
            };
            self.error(
                Diagnostic::error(format!("cannot apply `{symbol}` to `{}`", checked.ty), operand.span)
                    .with_label(format!("expected {wants}")),
            );
            return None;
        }
        Some(TExpr { ty: checked.ty.clone(), kind: TExprKind::Unary { op, operand: Box::new(checked) }, span })
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Option<TExpr> {
        let l = self.value(lhs, None);
        let r = self.value(rhs, None);
        let (l, r) = (l?, r?);
        let builtin = |builtin: Builtin, ty: Ty, args: Vec<TExpr>| TExpr {
            ty,
            kind: TExprKind::Builtin { builtin, args },
            span,
        };
        let bin = |ty: Ty, l: TExpr, r: TExpr| TExpr {
            ty,
            kind: TExprKind::Binary { op, lhs: Box::new(l), rhs: Box::new(r) },
            span,
        };
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.coerce(l, &Ty::Bool);
                let r = self.coerce(r, &Ty::Bool);
                Some(bin(Ty::Bool, l?, r?))
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if l.ty == Ty::Text {
                    let r = self.coerce(r, &Ty::Text)?;
                    let eq = builtin(Builtin::TextEq, Ty::Bool, vec![l, r]);
                    if op == BinaryOp::Ne {
                        return Some(TExpr {
                            ty: Ty::Bool,
                            kind: TExprKind::Unary { op: UnaryOp::Not, operand: Box::new(eq) },
                            span,
                        });
                    }
                    return Some(eq);
                }
                if l.ty.is_numeric() && r.ty.is_numeric() {
                    let (l, r, _) = promote(l, r);
                    return Some(bin(Ty::Bool, l, r));
                }
                if l.ty == Ty::Bool {
                    let r = self.coerce(r, &Ty::Bool)?;
                    return Some(bin(Ty::Bool, l, r));
                }
                self.error(
                    Diagnostic::error(format!("cannot compare `{}` with `{}`", l.ty, r.ty), span)
                        .with_help("`==` and `!=` work on text, int, float and bool"),
                );
                None
            }
            BinaryOp::Add if l.ty == Ty::Text => {
                let r = self.coerce(r, &Ty::Text)?;
                Some(builtin(Builtin::Concat, Ty::Text, vec![l, r]))
            }
            _ => {
                let comparison = matches!(op, BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge);
                if !l.ty.is_numeric() {
                    let wants = if op == BinaryOp::Add { "`int`, `float` or `text`" } else { "`int` or `float`" };
                    self.error(
                        Diagnostic::error(
                            format!("cannot apply `{}` to `{}`", op.symbol(), l.ty),
                            lhs.span,
                        )
                        .with_label(format!("expected {wants}")),
                    );
                    return None;
                }
                if !r.ty.is_numeric() {
                    self.error(mismatch(&l.ty, &r.ty, rhs.span));
                    return None;
                }
                if op == BinaryOp::Rem && (l.ty != Ty::Int || r.ty != Ty::Int) {
                    let bad = if l.ty != Ty::Int { &l } else { &r };
                    self.error(
                        Diagnostic::error(format!("`%` needs `int` operands, found `{}`", bad.ty), bad.span),
                    );
                    return None;
                }
                let (l, r, ty) = promote(l, r);
                Some(bin(if comparison { Ty::Bool } else { ty }, l, r))
            }
        }
    }

    fn annotated(&mut self, inner: &Expr, annotations_: &[ast::Annotation], expected: Option<&Ty>) -> Option<TExpr> {
        let mut device = None;
        let mut ok = true;
        for annotation in annotations_ {
            if annotation.name.name != "device" {
                self.error(annotations::misplaced(annotation));
                ok = false;
            } else if device.is_some() {
                self.error(annotations::duplicate(annotation));
                ok = false;
            } else {
                device = annotations::device(annotation, self.diags);
                ok &= device.is_some();
            }
        }
        let device_annotation = annotations_.iter().find(|a| a.name.name == "device");
        let pinnable = match &inner.kind {
            ExprKind::MethodCall { .. } => true,
            ExprKind::Call { callee, .. } => {
                self.g.get(&callee.name).is_some_and(|g| g.kind == super::resolve::GlobalKind::Fn)
            }
            _ => false,
        };
        if let Some(annotation) = device_annotation
            && !pinnable
        {
            self.error(annotations::misplaced(annotation));
            ok = false;
        }
        let checked = match (&inner.kind, device.clone()) {
            (ExprKind::Call { callee, args }, Some(pin)) => self.call(callee, args, inner.span, Some(pin)),
            (ExprKind::MethodCall { receiver, method, args }, Some(pin)) => {
                self.method_call(receiver, method, args, inner.span, Some(pin))
            }
            _ => self.expr(inner, expected),
        };
        if ok { checked } else { None }
    }

    fn if_expr(
        &mut self,
        cond: &Expr,
        then_block: &Block,
        else_block: Option<&Block>,
        expected: Option<&Ty>,
        span: Span,
    ) -> Option<TExpr> {
        let (cond, likely, cond_ok) = self.condition(cond);
        let then_t = self.block(then_block, expected);
        let else_t = else_block.map(|b| self.block(b, expected));
        let cond = cond?;
        let mut then_t = then_t?;
        if !cond_ok {
            return None;
        }
        let Some(else_t) = else_t else {
            return Some(TExpr {
                ty: Ty::Unit,
                kind: TExprKind::If { cond: Box::new(cond), likely, then_block: then_t, else_block: None },
                span,
            });
        };
        let mut else_t = else_t?;
        let ty = self.join_arms(&mut then_t, &mut else_t, ("if", "else"))?;
        if ty != Ty::Unit
            && let Some(at) = then_t.early_return().or_else(|| else_t.early_return())
        {
            // Lowering guards the statements after an `if` that returns; an `if` whose value
            // is used sits inside an expression, where there is no "rest" to guard.
            self.error(
                Diagnostic::error("`return` inside an `if` that gives a value is not supported", at)
                    .with_help("write the `if` as a statement: `if c { return x }`, then the rest"),
            );
            return None;
        }
        Some(TExpr {
            ty,
            kind: TExprKind::If { cond: Box::new(cond), likely, then_block: then_t, else_block: Some(else_t) },
            span,
        })
    }

    /// The type of a two-armed construct (`if`/`else`, `try`/`catch`) from its arms' values:
    /// one type, or ints promoted to float (the int arm converted), or `unit` when an arm has
    /// no value; incompatible types are an error naming the two keywords.
    fn join_arms(&mut self, first: &mut TBlock, second: &mut TBlock, keywords: (&str, &str)) -> Option<Ty> {
        let (Some(a), Some(b)) = (&mut first.value, &mut second.value) else { return Some(Ty::Unit) };
        if compatible(&a.ty, &b.ty) {
            return Some(a.ty.clone());
        }
        if a.ty.is_numeric() && b.ty.is_numeric() {
            let (x, y) = ((**a).clone(), (**b).clone());
            if x.ty == Ty::Int {
                **a = convert(x, Ty::Float);
            } else {
                **b = convert(y, Ty::Float);
            }
            return Some(Ty::Float);
        }
        let (k1, k2) = keywords;
        self.error(
            Diagnostic::error(format!("`{k1}` and `{k2}` have incompatible types: `{}` and `{}`", a.ty, b.ty), b.span)
                .with_secondary(a.span, format!("this is `{}`", a.ty)),
        );
        None
    }

    /// `try { BODY } catch ERROR { HANDLER }`: `ERROR` is a text local of the handler; the
    /// arms' values must have one type (ints promote to float), or the `try` has no value.
    fn try_expr(&mut self, body: &Block, error: &ast::Ident, handler: &Block, expected: Option<&Ty>, span: Span) -> Option<TExpr> {
        self.ctl.push(Ctl::Try);
        let body_t = self.block(body, expected);
        self.scopes.push();
        let info = LocalInfo { is_param: false, map_level: self.map_level };
        let error_id = self.scopes.declare(&error.name, Ty::Text, error.span, info).ok();
        let handler_t = self.block(handler, expected);
        self.scopes.pop();
        self.ctl.pop();
        let (mut body_t, mut handler_t, error) = (body_t?, handler_t?, error_id?);
        let ty = self.join_arms(&mut body_t, &mut handler_t, ("try", "catch"))?;
        Some(TExpr { ty, kind: TExprKind::Try { body: body_t, error, handler: handler_t }, span })
    }

    /// An if condition with its optional `@likely` / `@unlikely`.
    fn condition(&mut self, cond: &Expr) -> (Option<TExpr>, Option<bool>, bool) {
        let mut likely = None;
        let mut ok = true;
        let inner = match &cond.kind {
            ExprKind::Annotated { inner, annotations: list } => {
                let mut rest = Vec::new();
                for annotation in list {
                    if matches!(annotation.name.name.as_str(), "likely" | "unlikely") {
                        if likely.is_some_and(|was| was != (annotation.name.name == "likely")) {
                            self.error(annotations::conflicting_likely(annotation));
                            ok = false;
                        } else if likely.is_some() {
                            self.error(annotations::duplicate(annotation));
                            ok = false;
                        } else {
                            likely = annotations::likely(annotation, self.diags);
                            ok &= likely.is_some();
                        }
                    } else {
                        rest.push(annotation.clone());
                    }
                }
                if rest.is_empty() {
                    (**inner).clone()
                } else {
                    Expr {
                        kind: ExprKind::Annotated { inner: inner.clone(), annotations: rest },
                        span: cond.span,
                    }
                }
            }
            _ => cond.clone(),
        };
        (self.value_of(&inner, &Ty::Bool), likely, ok)
    }

    fn map(&mut self, var: &ast::Ident, list: &Expr, body: &Block, span: Span) -> Option<TExpr> {
        let mut expect = None;
        let mut max_parallel = None;
        let mut ok = true;
        let list_expr = match &list.kind {
            ExprKind::Annotated { inner, annotations: anns } => {
                let mut rest = Vec::new();
                for annotation in anns {
                    if annotation.name.name == "expect" {
                        if expect.is_some() {
                            self.error(annotations::duplicate(annotation));
                            ok = false;
                        } else {
                            expect = annotations::expect(annotation, self.diags);
                            ok &= expect.is_some();
                        }
                    } else if annotation.name.name == "max_parallel" {
                        if max_parallel.is_some() {
                            self.error(annotations::duplicate(annotation));
                            ok = false;
                        } else {
                            max_parallel = annotations::max_parallel(annotation, self.diags);
                            ok &= max_parallel.is_some();
                        }
                    } else {
                        rest.push(annotation.clone());
                    }
                }
                if rest.is_empty() {
                    (**inner).clone()
                } else {
                    Expr { kind: ExprKind::Annotated { inner: inner.clone(), annotations: rest }, span: list.span }
                }
            }
            _ => list.clone(),
        };
        let list_t = self.value(&list_expr, None);
        let elem = match list_t.as_ref().map(|t| &t.ty) {
            Some(Ty::List(elem)) => Some((**elem).clone()),
            Some(other) => {
                self.error(
                    Diagnostic::error(format!("mismatched types: expected a list, found `{other}`"), list_expr.span)
                        .with_help("`map x in xs { … }` needs a list; use `lines` or `split` on text"),
                );
                None
            }
            None => None,
        };
        self.scopes.push();
        self.map_level += 1;
        self.ctl.push(Ctl::Map);
        let info = LocalInfo { is_param: false, map_level: self.map_level };
        let var_id = self
            .scopes
            .declare(&var.name, elem.clone().unwrap_or(Ty::Unit), var.span, info)
            .ok();
        if elem.is_none()
            && let Some(id) = var_id
        {
            self.poisoned.insert(id);
        }
        let body_t = self.block(body, None);
        self.ctl.pop();
        self.map_level -= 1;
        self.scopes.pop();
        let body_t = body_t?;
        let Some(value) = &body_t.value else {
            let close = Span::new(body.span.end.saturating_sub(1) as usize, body.span.end as usize);
            self.error(
                Diagnostic::error("the map body has no value", close)
                    .with_help("end the body with the expression that gives each element"),
            );
            return None;
        };
        let ty = Ty::List(Box::new(value.ty.clone()));
        if !ok {
            return None;
        }
        Some(TExpr {
            ty,
            kind: TExprKind::Map { var: var_id?, list: Box::new(list_t?), expect, max_parallel, body: body_t },
            span,
        })
    }
}

/// Promotes an int operand to float when the other is float; returns the common type.
pub(crate) fn promote(l: TExpr, r: TExpr) -> (TExpr, TExpr, Ty) {
    match (&l.ty, &r.ty) {
        (Ty::Int, Ty::Float) => (convert(l, Ty::Float), r, Ty::Float),
        (Ty::Float, Ty::Int) => (l, convert(r, Ty::Float), Ty::Float),
        _ => {
            let ty = l.ty.clone();
            (l, r, ty)
        }
    }
}

/// Whether every path through `stmts` reaches a `return`: a `return`, or an `if`/`else`
/// both of whose branches always return (a loop may run no iteration, a map cannot return).
pub(crate) fn always_returns(stmts: &[TStmt]) -> bool {
    stmts.iter().any(|stmt| match stmt {
        TStmt::Return { .. } => true,
        TStmt::Expr(TExpr { kind: TExprKind::If { then_block, else_block: Some(else_block), .. }, .. }) => {
            then_block.value.is_none() && else_block.value.is_none() && always_returns(&then_block.stmts) && always_returns(&else_block.stmts)
        }
        _ => false,
    })
}

/// Where a statement is, for diagnostics about it.
fn stmt_span(stmt: &Stmt) -> Span {
    match stmt {
        Stmt::Let { span, .. } | Stmt::Assign { span, .. } | Stmt::Loop { span, .. } | Stmt::Break { span } | Stmt::Return { span, .. } => *span,
        Stmt::Expr(expr) => expr.span,
    }
}
