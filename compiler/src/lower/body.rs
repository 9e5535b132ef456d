//! Lowers statements and expressions of agent, tool and tensor-function bodies.
//!
//! Locals are SSA values: the lowerer keeps the current value of each local and updates it
//! on assignment. Structured ops that re-assign outer locals (`if` branches, loop bodies)
//! return the new values as extra results, which become the locals' values after the op.
//! `break` is structured too: statements after an `if` that may break run under an
//! `scf.if` on "not broken", and the loop's `scf.while` carries a `go` flag.
//!
//! Early `return` reuses that scheme: an agent with a `return` before its end gets two
//! hidden locals, "returned" (i1, false at entry) and the result (a zero value of the
//! result type at entry). A `return` assigns both and leaves like a `break` (out of every
//! enclosing loop too); the two locals are carried through `scf.if` / `scf.while` results as
//! any re-assigned local is, the statements after anything that may return run under an
//! `scf.if` on "not returned", and `func.return` returns the result local.

use std::collections::BTreeSet;

use agentc_dialects::{tgraph as tg, workflow as wf};
use agentc_frontend::hir::{
    self, BinaryOp, Builtin, DType, DevicePin, LocalId, TBlock, TExpr, TExprKind, TStmt, TensorOp, Ty, UnaryOp,
};
use melior::ir::attribute::{ArrayAttribute, BoolAttribute, FlatSymbolRefAttribute, IntegerAttribute};
use melior::ir::r#type::IntegerType;
use melior::ir::{Attribute, Location, Type};

use super::builder::Builder;
use super::LowerError;
use crate::ir::{Blk, Op, Val};

type R<T> = Result<T, LowerError>;

/// Whether scalars are plain values (agent and tool code) or 0-d tensors (fn bodies).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Agent and tool code.
    Agent,
    /// Tensor-function bodies.
    Tensor,
}

/// Lowers one body, tracking the current SSA value of every local.
pub struct BodyLowerer<'b, 'c> {
    b: &'b Builder<'c>,
    mode: Mode,
    locals: Vec<Option<Val>>,
    /// The hidden "returned" and result locals of an agent with an early `return`.
    ret: Option<RetSlots>,
    /// The chat templates of the models that `chat` calls render with.
    chat_templates: &'b std::collections::BTreeMap<String, hir::ChatTemplate>,
    /// The module's record types (field names for `record_new`, schemas for `json_parse`).
    records: &'b [hir::Record],
}

/// The hidden locals that carry an early `return` (indices past the body's own locals).
#[derive(Clone, Copy)]
struct RetSlots {
    returned: LocalId,
    value: LocalId,
}

/// No model has a chat template (the lowerer of fn and tool bodies, which call no model).
static NO_CHAT_TEMPLATES: std::collections::BTreeMap<String, hir::ChatTemplate> = std::collections::BTreeMap::new();

impl<'b, 'c> BodyLowerer<'b, 'c> {
    /// A lowerer for a body whose locals table is `locals`.
    pub fn new(b: &'b Builder<'c>, mode: Mode, locals: &[hir::Local]) -> Self {
        BodyLowerer { b, mode, locals: vec![None; locals.len()], ret: None, chat_templates: &NO_CHAT_TEMPLATES, records: &[] }
    }

    /// The record types of the module, which record values and `json_parse` refer to.
    pub fn with_records(mut self, records: &'b [hir::Record]) -> Self {
        self.records = records;
        self
    }

    /// The declaration of record type `ty`.
    fn record_decl(&self, ty: &Ty) -> R<&'b hir::Record> {
        let records = self.records;
        match ty {
            Ty::Record(name) => records.iter().find(|r| r.name == *name).ok_or_else(|| LowerError(format!("record `{name}` is not declared"))),
            other => Err(LowerError(format!("`{other}` is not a record type"))),
        }
    }

    /// The chat templates of the models (by name) that `chat` calls render with.
    pub fn with_chat_templates(mut self, templates: &'b std::collections::BTreeMap<String, hir::ChatTemplate>) -> Self {
        self.chat_templates = templates;
        self
    }

    /// Binds the entry block's arguments to locals `0..n` (the parameters).
    pub fn bind_params(&mut self, entry: Blk) {
        for (index, argument) in entry.arguments().into_iter().enumerate() {
            if let Some(slot) = self.locals.get_mut(index) {
                *slot = Some(argument);
            }
        }
    }

    /// Lowers an agent body and its `func.return`.
    pub fn lower_agent_body(&mut self, entry: Blk, agent: &hir::Agent) -> R<()> {
        self.bind_params(entry);
        if agent.body.early_return().is_some() {
            return self.lower_returning_body(entry, agent);
        }
        let (stmts, tail_return) = match agent.body.stmts.split_last() {
            Some((TStmt::Return { value, span }, rest)) if agent.body.value.is_none() => (rest, Some((value, *span))),
            _ => (&agent.body.stmts[..], None),
        };
        for stmt in stmts {
            self.stmt(entry, stmt)?;
        }
        let (value, span) = match (tail_return, &agent.body.value) {
            (Some((value, span)), _) => (self.value(entry, value)?, span),
            (None, Some(value)) => (self.value(entry, value)?, value.span),
            (None, None) => return Err(LowerError(format!("agent `{}` has no result", agent.name))),
        };
        self.b.emit(entry, "func.return", &[value], &[], &[], self.b.loc(span))?;
        Ok(())
    }

    /// Lowers an agent body with an early `return` (see the module comment).
    fn lower_returning_body(&mut self, entry: Blk, agent: &hir::Agent) -> R<()> {
        let location = self.b.loc(agent.span);
        let base = self.locals.len() as u32;
        let slots = RetSlots { returned: LocalId(base), value: LocalId(base + 1) };
        let unset = self.b.bool_const(entry, false, location)?;
        let zero = self.zero_value(entry, &agent.ret, location)?;
        self.locals.extend([Some(unset), Some(zero)]);
        self.ret = Some(slots);
        let mut stmts = agent.body.stmts.clone();
        if let Some(value) = &agent.body.value {
            stmts.push(TStmt::Return { value: (**value).clone(), span: value.span });
        }
        self.loop_stmts(entry, &stmts)?;
        let value = self.local(slots.value)?;
        self.b.emit(entry, "func.return", &[value], &[], &[], location)?;
        Ok(())
    }

    /// The result local's value before any `return`: never returned (every path through
    /// the body ends in one), but `scf.if` branches that do not return must yield something.
    fn zero_value(&self, block: Blk, ty: &Ty, location: Location<'c>) -> R<Val> {
        match ty {
            Ty::Int => self.b.int_const(block, 0, location),
            Ty::Float => self.b.float_const(block, 0.0, location),
            Ty::Bool => self.b.bool_const(block, false, location),
            Ty::Text => self.b.append1(block, wf::text_constant(self.b.context, "", location)),
            Ty::List(_) => {
                let list = self.ty(ty)?;
                self.b.emit1(block, wf::LIST_LITERAL, &[], list, &[], location)
            }
            Ty::Record(_) => {
                // Every field its zero value.
                let decl = self.record_decl(ty)?;
                let field_ty = self.b.parse_type("!workflow.field")?;
                let mut values = Vec::with_capacity(decl.fields.len());
                for (_, field) in &decl.fields {
                    let value = self.zero_value(block, field, location)?;
                    values.push(self.b.emit1(block, wf::FIELD_VALUE, &[value], field_ty, &[], location)?);
                }
                let names: Vec<Attribute> = decl.fields.iter().map(|(name, _)| self.b.string(name)).collect();
                let names = ArrayAttribute::new(self.b.context, &names).into();
                let record = self.ty(ty)?;
                self.b.emit1(block, wf::RECORD_NEW, &values, record, &[("fields", names)], location)
            }
            other => Err(LowerError(format!("early `return` from an agent whose result is `{other}`"))),
        }
    }

    /// Lowers a tensor-function body: scalar parameters become 0-d tensors, a scalar
    /// result is extracted from one.
    pub fn lower_fn_body(&mut self, entry: Blk, function: &hir::TensorFn) -> R<()> {
        let location = self.b.loc(function.span);
        for (index, (argument, param)) in entry.arguments().into_iter().zip(&function.params).enumerate() {
            let value = match &param.ty {
                Ty::Scalar(_) => {
                    let ty = self.b.tensor_type(&param.ty)?;
                    self.b.emit1(entry, "tensor.from_elements", &[argument], ty, &[], location)?
                }
                _ => argument,
            };
            self.locals[index] = Some(value);
        }
        let value = self.block(entry, &function.body)?.ok_or_else(|| LowerError(format!("fn `{}` has no result", function.name)))?;
        let result = match &function.ret {
            Ty::Scalar(_) => {
                let ty = self.b.agent_type(&function.ret)?;
                self.b.emit1(entry, "tensor.extract", &[value], ty, &[], location)?
            }
            _ => value,
        };
        self.b.emit(entry, "func.return", &[result], &[], &[], location)?;
        Ok(())
    }

    fn ty(&self, ty: &Ty) -> R<Type<'c>> {
        match self.mode {
            Mode::Agent => self.b.agent_type(ty),
            Mode::Tensor => self.b.tensor_type(ty),
        }
    }

    fn local(&self, id: LocalId) -> R<Val> {
        self.locals
            .get(id.0 as usize)
            .copied()
            .flatten()
            .ok_or_else(|| LowerError(format!("local #{} read before it was bound", id.0)))
    }

    // ----- Statements ------------------------------------------------------------------

    fn stmt(&mut self, block: Blk, stmt: &TStmt) -> R<()> {
        match stmt {
            TStmt::Let { local, value, .. } | TStmt::Assign { local, value, .. } => {
                let value = self.value(block, value)?;
                self.locals[local.0 as usize] = Some(value);
            }
            TStmt::Expr(expr) => {
                self.expr(block, expr)?;
            }
            TStmt::Loop { max, expect, body, span } => self.lower_loop(block, *max, *expect, body, *span)?,
            TStmt::Break { .. } => return Err(LowerError("`break` outside of a loop body reached lowering".into())),
            TStmt::Return { .. } => return Err(LowerError("`return` outside a statement list reached lowering".into())),
        }
        Ok(())
    }

    /// Lowers a block; returns its value, if it has one.
    fn block(&mut self, block: Blk, body: &TBlock) -> R<Option<Val>> {
        for stmt in &body.stmts {
            self.stmt(block, stmt)?;
        }
        match &body.value {
            Some(value) => self.expr(block, value),
            None => Ok(None),
        }
    }

    /// Lowers an expression that must have a value.
    pub fn value(&mut self, block: Blk, expr: &TExpr) -> R<Val> {
        self.expr(block, expr)?.ok_or_else(|| LowerError("an expression without a value was used as a value".into()))
    }

    // ----- Loops and break -------------------------------------------------------------

    fn lower_loop(&mut self, block: Blk, max: u64, expect: Option<u64>, body: &TBlock, span: hir::Span) -> R<()> {
        let location = self.b.loc(span);
        let carried = self.carried(&[body]);
        let i64t = self.b.agent_type(&Ty::Int)?;
        let i1t = self.b.agent_type(&Ty::Bool)?;
        let mut types = vec![i64t, i1t];
        let mut inits = vec![self.b.int_const(block, 0, location)?, self.b.bool_const(block, true, location)?];
        for &local in &carried {
            let value = self.local(local)?;
            types.push(value.ty());
            inits.push(value);
        }
        let mut attributes = vec![(wf::MAX_ITERATIONS_ATTR, self.b.i64_attr(max as i64))];
        if let Some(expect) = expect {
            attributes.push((wf::EXPECTED_ITERATIONS_ATTR, self.b.i64_attr(expect as i64)));
        }
        let op = self.b.emit_with_regions(
            block,
            "scf.while",
            &inits,
            &types,
            &attributes,
            &[Some(types.clone()), Some(types.clone())],
            location,
        )?;
        // Before: continue while i < max and no break happened.
        let before = op.region_entry(0).ok_or_else(|| LowerError("scf.while without a before block".into()))?;
        let args = before.arguments();
        let bound = self.b.int_const(before, max as i64, location)?;
        let in_range = self.cmpi(before, 2, args[0], bound, location)?;
        let go = self.b.emit1(before, "arith.andi", &[in_range, args[1]], i1t, &[], location)?;
        let mut forwarded = vec![go];
        forwarded.extend(args.iter().copied());
        self.b.emit(before, "scf.condition", &forwarded, &[], &[], location)?;
        // After: the body; then i + 1 and go = !broke.
        let after = op.region_entry(1).ok_or_else(|| LowerError("scf.while without an after block".into()))?;
        let args = after.arguments();
        let saved = self.locals.clone();
        for (&local, &value) in carried.iter().zip(&args[2..]) {
            self.locals[local.0 as usize] = Some(value);
        }
        let stmts = block_as_stmts(body);
        let broke = self.loop_stmts(after, &stmts)?;
        let one = self.b.int_const(after, 1, location)?;
        let next = self.b.emit1(after, "arith.addi", &[args[0], one], i64t, &[], location)?;
        let go = match broke {
            Some(flag) => self.not(after, flag, location)?,
            None => self.b.bool_const(after, true, location)?,
        };
        let mut yielded = vec![next, go];
        for &local in &carried {
            yielded.push(self.local(local)?);
        }
        self.b.emit(after, "scf.yield", &yielded, &[], &[], location)?;
        self.locals = saved;
        for (index, &local) in carried.iter().enumerate() {
            self.locals[local.0 as usize] = Some(op.result(index + 2));
        }
        Ok(())
    }

    /// Lowers statements of a loop body (or of an agent body with an early `return`);
    /// returns the "left" flag if a `break` or `return` may happen.
    fn loop_stmts(&mut self, block: Blk, stmts: &[TStmt]) -> R<Option<Val>> {
        for (index, stmt) in stmts.iter().enumerate() {
            match stmt {
                TStmt::Break { span } => return Ok(Some(self.b.bool_const(block, true, self.b.loc(*span))?)),
                TStmt::Return { value, span } => {
                    let slots = self.ret.ok_or_else(|| LowerError("`return` without a result local".into()))?;
                    let location = self.b.loc(*span);
                    let value = self.value(block, value)?;
                    self.locals[slots.value.0 as usize] = Some(value);
                    let returned = self.b.bool_const(block, true, location)?;
                    self.locals[slots.returned.0 as usize] = Some(returned);
                    return Ok(Some(returned));
                }
                TStmt::Loop { body, span, .. } if self.ret.is_some() && block_may_return(body) => {
                    // A `return` in the loop left it; so does everything around it.
                    self.stmt(block, stmt)?;
                    let slots = self.ret.ok_or_else(|| LowerError("a returning loop without a result local".into()))?;
                    let returned = self.local(slots.returned)?;
                    let rest = &stmts[index + 1..];
                    if rest.is_empty() {
                        return Ok(Some(returned));
                    }
                    return Ok(Some(self.guard_rest(block, returned, rest, *span)?));
                }
                TStmt::Expr(expr) if if_may_break(expr) => {
                    let flag = self.if_with_break(block, expr)?;
                    let rest = &stmts[index + 1..];
                    if rest.is_empty() {
                        return Ok(Some(flag));
                    }
                    let guard = self.guard_rest(block, flag, rest, expr.span)?;
                    // The guard is the branch that survives canonicalisation (which folds
                    // the break flag's `if` into its condition): give it the weight.
                    if let Some(op) = guard.defining_op() {
                        self.set_likely(op, rest_likely(expr));
                    }
                    return Ok(Some(guard));
                }
                other => self.stmt(block, other)?,
            }
        }
        Ok(None)
    }

    /// Runs `rest` only when `broke` is false; returns the combined broke flag.
    fn guard_rest(&mut self, block: Blk, broke: Val, rest: &[TStmt], span: hir::Span) -> R<Val> {
        let location = self.b.loc(span);
        let carried = self.carried_stmts(rest);
        let i1t = self.b.agent_type(&Ty::Bool)?;
        let mut types = vec![i1t];
        for &local in &carried {
            types.push(self.local(local)?.ty());
        }
        let not_broke = self.not(block, broke, location)?;
        let op = self.b.emit_with_regions(block, "scf.if", &[not_broke], &types, &[], &[Some(vec![]), Some(vec![])], location)?;
        let saved = self.locals.clone();
        let then = op.region_entry(0).ok_or_else(|| LowerError("scf.if without a then block".into()))?;
        let flag = match self.loop_stmts(then, rest)? {
            Some(flag) => flag,
            None => self.b.bool_const(then, false, location)?,
        };
        let mut yielded = vec![flag];
        for &local in &carried {
            yielded.push(self.local(local)?);
        }
        self.b.emit(then, "scf.yield", &yielded, &[], &[], location)?;
        self.locals = saved;
        let otherwise = op.region_entry(1).ok_or_else(|| LowerError("scf.if without an else block".into()))?;
        let mut yielded = vec![self.b.bool_const(otherwise, true, location)?];
        for &local in &carried {
            yielded.push(self.local(local)?);
        }
        self.b.emit(otherwise, "scf.yield", &yielded, &[], &[], location)?;
        for (index, &local) in carried.iter().enumerate() {
            self.locals[local.0 as usize] = Some(op.result(index + 1));
        }
        Ok(op.result(0))
    }

    /// Lowers an `if` statement some branch of which may break; returns the broke flag.
    fn if_with_break(&mut self, block: Blk, expr: &TExpr) -> R<Val> {
        let TExprKind::If { cond, likely, then_block, else_block } = &expr.kind else {
            return Err(LowerError("if_with_break on a non-if".into()));
        };
        let location = self.b.loc(expr.span);
        let cond = self.value(block, cond)?;
        let mut blocks = vec![then_block];
        blocks.extend(else_block.iter());
        let carried = self.carried(&blocks);
        let i1t = self.b.agent_type(&Ty::Bool)?;
        let mut types = vec![i1t];
        for &local in &carried {
            types.push(self.local(local)?.ty());
        }
        let op = self.b.emit_with_regions(block, "scf.if", &[cond], &types, &[], &[Some(vec![]), Some(vec![])], location)?;
        self.set_likely(op, *likely);
        for (region, branch) in [(0, Some(then_block)), (1, else_block.as_ref())] {
            let inner = op.region_entry(region).ok_or_else(|| LowerError("scf.if without a block".into()))?;
            let saved = self.locals.clone();
            let flag = match branch {
                Some(branch) => self.loop_stmts(inner, &block_as_stmts(branch))?,
                None => None,
            };
            let flag = match flag {
                Some(flag) => flag,
                None => self.b.bool_const(inner, false, location)?,
            };
            let mut yielded = vec![flag];
            for &local in &carried {
                yielded.push(self.local(local)?);
            }
            self.b.emit(inner, "scf.yield", &yielded, &[], &[], location)?;
            self.locals = saved;
        }
        for (index, &local) in carried.iter().enumerate() {
            self.locals[local.0 as usize] = Some(op.result(index + 1));
        }
        Ok(op.result(0))
    }

    /// Locals bound now and assigned somewhere inside `blocks` (sorted: deterministic).
    fn carried(&self, blocks: &[&TBlock]) -> Vec<LocalId> {
        let mut assigned = BTreeSet::new();
        for block in blocks {
            assigned_in_block(block, self.ret, &mut assigned);
        }
        assigned.into_iter().filter(|l| self.locals.get(l.0 as usize).copied().flatten().is_some()).collect()
    }

    fn carried_stmts(&self, stmts: &[TStmt]) -> Vec<LocalId> {
        let mut assigned = BTreeSet::new();
        for stmt in stmts {
            assigned_in_stmt(stmt, self.ret, &mut assigned);
        }
        assigned.into_iter().filter(|l| self.locals.get(l.0 as usize).copied().flatten().is_some()).collect()
    }

    fn set_likely(&self, op: Op, likely: Option<bool>) {
        if let Some(likely) = likely {
            op.set_attribute(wf::LIKELY_ATTR, BoolAttribute::new(self.b.context, likely).into());
        }
    }

    // ----- Expressions -----------------------------------------------------------------

    /// Lowers an expression; `None` for expressions without a value.
    fn expr(&mut self, block: Blk, expr: &TExpr) -> R<Option<Val>> {
        let location = self.b.loc(expr.span);
        let context = self.b.context;
        let value = match &expr.kind {
            TExprKind::Int(value) => match (self.mode, &expr.ty) {
                (Mode::Tensor, Ty::Scalar(dtype)) => self.b.scalar_tensor_const(block, *value as f64, *dtype, location)?,
                _ => self.b.int_const(block, *value, location)?,
            },
            TExprKind::Float(value) => match (self.mode, &expr.ty) {
                (Mode::Tensor, Ty::Scalar(dtype)) => self.b.scalar_tensor_const(block, *value, *dtype, location)?,
                _ => self.b.float_const(block, *value, location)?,
            },
            TExprKind::Bool(value) => self.b.bool_const(block, *value, location)?,
            TExprKind::Str(text) => self.b.append1(block, wf::text_constant(context, text, location))?,
            TExprKind::List(elements) => {
                let mut values = Vec::new();
                for element in elements {
                    values.push(self.value(block, element)?);
                }
                let ty = self.ty(&expr.ty)?;
                self.b.emit1(block, wf::LIST_LITERAL, &values, ty, &[], location)?
            }
            TExprKind::Local(id) => self.local(*id)?,
            TExprKind::Unary { op, operand } => self.unary(block, *op, operand, &expr.ty, location)?,
            TExprKind::Binary { op, lhs, rhs } => self.binary(block, *op, lhs, rhs, &expr.ty, location)?,
            TExprKind::Convert(inner) => {
                let value = self.value(block, inner)?;
                self.convert(block, value, &inner.ty, &expr.ty, location)?
            }
            TExprKind::CallAgent { name, args } => {
                let args = self.values(block, args)?;
                let ty = self.ty(&expr.ty)?;
                self.call(block, name, &args, ty, &[], location)?
            }
            TExprKind::CallFn { name, args, device } => {
                let args = self.values(block, args)?;
                let ty = self.ty(&expr.ty)?;
                let mut attributes = Vec::new();
                if let Some(device) = device {
                    attributes.push(("workflow.device", self.b.string(&pin_text(device))));
                }
                self.call(block, name, &args, ty, &attributes, location)?
            }
            TExprKind::CallTool { name, args } => {
                let mut values = Vec::new();
                for arg in args {
                    let value = self.value(block, arg)?;
                    values.push(self.to_text(block, value, &arg.ty, location)?);
                }
                let views: Vec<_> = values.iter().map(|v| v.view()).collect();
                self.b.append1(block, wf::tool_call(context, name, &views, location))?
            }
            TExprKind::Builtin { builtin, args } => self.builtin(block, *builtin, args, &expr.ty, location)?,
            TExprKind::Tensor { op, args } => self.tensor_op(block, *op, args, &expr.ty, location)?,
            TExprKind::Generate { model, prompt, chat, max_tokens, temperature, sampling, stop, device } => {
                let mut prompt = self.value(block, prompt)?;
                if *chat {
                    let template = self
                        .chat_templates
                        .get(model)
                        .ok_or_else(|| LowerError(format!("`{model}.chat` reached lowering without the model's chat template")))?;
                    let chat = wf::ChatPrompt {
                        model,
                        template: &template.template,
                        bos_token: &template.bos_token,
                        eos_token: &template.eos_token,
                    };
                    prompt = self.b.append1(block, wf::chat_prompt(context, prompt.view(), &chat, location))?;
                }
                let stop = self.value(block, stop)?;
                let pin = device.as_ref().map(pin_text).unwrap_or_default();
                let options = wf::GenerateOptions {
                    model,
                    max_tokens: *max_tokens as i64,
                    temperature: *temperature,
                    device: &pin,
                    top_k: sampling.top_k.map(|k| k as i64),
                    top_p: sampling.top_p,
                    min_p: sampling.min_p,
                    repetition_penalty: sampling.repetition_penalty,
                    seed: sampling.seed.map(|seed| seed as i64),
                    json_schema: sampling.json.as_deref(),
                    chat: *chat,
                };
                self.b.append1(block, wf::generate(context, prompt.view(), stop.view(), &options, location))?
            }
            TExprKind::Embed { model, text, device } => {
                let text = self.value(block, text)?;
                let pin = device.as_ref().map(pin_text).unwrap_or_default();
                let ty = self.ty(&expr.ty)?;
                self.b.append1(block, wf::embed(context, text.view(), model, &pin, ty, location))?
            }
            TExprKind::Record { fields } => {
                let decl = self.record_decl(&expr.ty)?;
                let field_ty = self.b.parse_type("!workflow.field")?;
                let mut values = Vec::with_capacity(fields.len());
                for value in self.values(block, fields)? {
                    values.push(self.b.emit1(block, wf::FIELD_VALUE, &[value], field_ty, &[], location)?);
                }
                let names: Vec<Attribute> = decl.fields.iter().map(|(name, _)| self.b.string(name)).collect();
                let names = ArrayAttribute::new(context, &names).into();
                let ty = self.ty(&expr.ty)?;
                self.b.emit1(block, wf::RECORD_NEW, &values, ty, &[("fields", names)], location)?
            }
            TExprKind::Field { base, field, index } => {
                let base = self.value(block, base)?;
                let ty = self.ty(&expr.ty)?;
                let attrs = [("field", self.b.string(field)), ("index", self.b.i64_attr(*index as i64))];
                self.b.emit1(block, wf::RECORD_GET, &[base], ty, &attrs, location)?
            }
            TExprKind::Index { base, index } => {
                let base = self.value(block, base)?;
                let index = self.value(block, index)?;
                let ty = self.ty(&expr.ty)?;
                self.b.emit1(block, wf::LIST_GET, &[base, index], ty, &[], location)?
            }
            TExprKind::If { cond, likely, then_block, else_block } => {
                return self.lower_if(block, expr, cond, *likely, then_block, else_block.as_ref());
            }
            TExprKind::Map { var, list, expect, max_parallel, body } => {
                self.lower_map(block, expr, *var, list, (*expect, *max_parallel), body)?
            }
            TExprKind::Try { body, error, handler } => return self.lower_try(block, expr, body, *error, handler),
        };
        Ok(Some(value))
    }

    fn values(&mut self, block: Blk, exprs: &[TExpr]) -> R<Vec<Val>> {
        exprs.iter().map(|e| self.value(block, e)).collect()
    }

    fn call(
        &self,
        block: Blk,
        callee: &str,
        args: &[Val],
        result: Type<'c>,
        extra: &[(&str, melior::ir::Attribute<'c>)],
        location: Location<'c>,
    ) -> R<Val> {
        let mut attributes = vec![("callee", FlatSymbolRefAttribute::new(self.b.context, callee).into())];
        attributes.extend_from_slice(extra);
        self.b.emit1(block, "func.call", args, result, &attributes, location)
    }

    fn lower_if(
        &mut self,
        block: Blk,
        expr: &TExpr,
        cond: &TExpr,
        likely: Option<bool>,
        then_block: &TBlock,
        else_block: Option<&TBlock>,
    ) -> R<Option<Val>> {
        let location = self.b.loc(expr.span);
        let cond = self.value(block, cond)?;
        let mut blocks = vec![then_block];
        blocks.extend(else_block);
        let carried = self.carried(&blocks);
        let has_value = expr.ty != Ty::Unit;
        let types = self.arm_result_types(&expr.ty, &carried)?;
        let regions = if else_block.is_none() && types.is_empty() { vec![Some(vec![]), None] } else { vec![Some(vec![]), Some(vec![])] };
        let op = self.b.emit_with_regions(block, "scf.if", &[cond], &types, &[], &regions, location)?;
        self.set_likely(op, likely);
        for (region, branch) in [(0, Some(then_block)), (1, else_block)] {
            let Some(inner) = op.region_entry(region) else { continue };
            let saved = self.locals.clone();
            let value = match branch {
                Some(branch) => Some((self.block(inner, branch)?, branch)),
                None => None,
            };
            self.yield_arm(inner, value, &expr.ty, &carried, location)?;
            self.locals = saved;
        }
        Ok(self.rebind_carried(op, &carried, has_value))
    }

    /// `try { body } catch error { handler }`: an `scf.execute_region {workflow.try}` whose
    /// entry block is the body and whose second block, `^catch(%error: !workflow.text)`, is
    /// the handler. Outer locals assigned in either arm are carried out as extra results;
    /// the handler sees their values from before the `try`.
    fn lower_try(&mut self, block: Blk, expr: &TExpr, body: &TBlock, error: LocalId, handler: &TBlock) -> R<Option<Val>> {
        let location = self.b.loc(expr.span);
        let carried = self.carried(&[body, handler]);
        let has_value = expr.ty != Ty::Unit;
        let types = self.arm_result_types(&expr.ty, &carried)?;
        let op = self.b.emit_with_regions(block, "scf.execute_region", &[], &types, &[(wf::TRY_ATTR, self.b.unit())], &[Some(vec![])], location)?;
        let entry = op.region_entry(0).ok_or_else(|| LowerError("scf.execute_region without a block".into()))?;
        let text = self.b.agent_type(&Ty::Text)?;
        let catch = op.append_block(0, &[text], location);
        for (inner, arm, is_handler) in [(entry, body, false), (catch, handler, true)] {
            let saved = self.locals.clone();
            if is_handler {
                self.locals[error.0 as usize] = Some(catch.arguments()[0]);
            }
            let value = self.block(inner, arm)?;
            self.yield_arm(inner, Some((value, arm)), &expr.ty, &carried, location)?;
            self.locals = saved;
        }
        Ok(self.rebind_carried(op, &carried, has_value))
    }

    /// The result types of an `if` or `try` op: its value's (unless `ty` is unit), then one
    /// per outer local that an arm assigns.
    fn arm_result_types(&self, ty: &Ty, carried: &[LocalId]) -> R<Vec<Type<'c>>> {
        let mut types = Vec::new();
        if *ty != Ty::Unit {
            types.push(self.ty(ty)?);
        }
        for &local in carried {
            types.push(self.local(local)?.ty());
        }
        Ok(types)
    }

    /// Ends one arm of an `if` or `try` with `scf.yield`: the arm's value (`arm`: what its
    /// block gave and the block; `None` for a missing `else`) coerced to `ty`, then the
    /// current values of the `carried` locals.
    fn yield_arm(&mut self, inner: Blk, arm: Option<(Option<Val>, &TBlock)>, ty: &Ty, carried: &[LocalId], location: Location<'c>) -> R<()> {
        let mut yielded = Vec::new();
        if let Some((value, block)) = arm.filter(|_| *ty != Ty::Unit) {
            let value = value.ok_or_else(|| LowerError("an if or try arm without a value".into()))?;
            let from = block.value.as_ref().map(|v| v.ty.clone()).unwrap_or(Ty::Unit);
            yielded.push(self.coerce_from(inner, value, &from, ty, block.span)?);
        }
        for &local in carried {
            yielded.push(self.local(local)?);
        }
        self.b.emit(inner, "scf.yield", &yielded, &[], &[], location)?;
        Ok(())
    }

    /// After an `if` or `try` op: the carried locals take its extra results; its value, if any.
    fn rebind_carried(&mut self, op: Op, carried: &[LocalId], has_value: bool) -> Option<Val> {
        let offset = usize::from(has_value);
        for (index, &local) in carried.iter().enumerate() {
            self.locals[local.0 as usize] = Some(op.result(index + offset));
        }
        has_value.then(|| op.result(0))
    }

    /// `hints` are `@expect(iterations: K)` and `@max_parallel(N)`.
    fn lower_map(&mut self, block: Blk, expr: &TExpr, var: LocalId, list: &TExpr, hints: (Option<u64>, Option<u64>), body: &TBlock) -> R<Val> {
        let (expect, max_parallel) = hints;
        let location = self.b.loc(expr.span);
        let list = self.value(block, list)?;
        let i64t = self.b.agent_type(&Ty::Int)?;
        let result_type = self.ty(&expr.ty)?;
        let count = self.b.emit1(block, wf::LIST_LEN, &[list], i64t, &[], location)?;
        let empty = self.b.emit1(block, wf::LIST_LITERAL, &[], result_type, &[], location)?;
        let zero = self.b.int_const(block, 0, location)?;
        let one = self.b.int_const(block, 1, location)?;
        let mut attributes = vec![(wf::PARALLEL_ATTR, self.b.unit())];
        if let Some(expect) = expect {
            attributes.push((wf::EXPECTED_ITERATIONS_ATTR, self.b.i64_attr(expect as i64)));
        }
        if let Some(max_parallel) = max_parallel {
            attributes.push((wf::MAX_PARALLEL_ATTR, self.b.i64_attr(max_parallel as i64)));
        }
        let op = self.b.emit_with_regions(
            block,
            "scf.for",
            &[zero, count, one, empty],
            &[result_type],
            &attributes,
            &[Some(vec![i64t, result_type])],
            location,
        )?;
        let inner = op.region_entry(0).ok_or_else(|| LowerError("scf.for without a body".into()))?;
        let args = inner.arguments();
        let saved = self.locals.clone();
        let elem_ty = match &expr.ty {
            Ty::List(elem) => (**elem).clone(),
            other => return Err(LowerError(format!("map of type `{other}`"))),
        };
        let input_elem = self.b.parse_type(&agent_elem_of(list)?)?;
        let element = self.b.emit1(inner, wf::LIST_GET, &[list, args[0]], input_elem, &[], location)?;
        self.locals[var.0 as usize] = Some(element);
        let value = self.block(inner, body)?.ok_or_else(|| LowerError("a map body without a value".into()))?;
        let from = body.value.as_ref().map(|v| v.ty.clone()).unwrap_or(Ty::Unit);
        let value = self.coerce_from(inner, value, &from, &elem_ty, body.span)?;
        let appended = self.b.emit1(inner, wf::LIST_APPEND, &[args[1], value], result_type, &[], location)?;
        self.b.emit(inner, "scf.yield", &[appended], &[], &[], location)?;
        self.locals = saved;
        Ok(op.result(0))
    }

    // ----- Operators and conversions ---------------------------------------------------

    fn cmpi(&self, block: Blk, predicate: i64, lhs: Val, rhs: Val, location: Location<'c>) -> R<Val> {
        let i1t = IntegerType::new(self.b.context, 1).into();
        let attribute = IntegerAttribute::new(IntegerType::new(self.b.context, 64).into(), predicate).into();
        self.b.emit1(block, "arith.cmpi", &[lhs, rhs], i1t, &[("predicate", attribute)], location)
    }

    fn cmpf(&self, block: Blk, predicate: i64, lhs: Val, rhs: Val, location: Location<'c>) -> R<Val> {
        let i1t = IntegerType::new(self.b.context, 1).into();
        let attribute = IntegerAttribute::new(IntegerType::new(self.b.context, 64).into(), predicate).into();
        self.b.emit1(block, "arith.cmpf", &[lhs, rhs], i1t, &[("predicate", attribute)], location)
    }

    fn not(&self, block: Blk, value: Val, location: Location<'c>) -> R<Val> {
        let one = self.b.bool_const(block, true, location)?;
        self.b.emit1(block, "arith.xori", &[value, one], value.ty(), &[], location)
    }

    fn unary(&mut self, block: Blk, op: UnaryOp, operand: &TExpr, ty: &Ty, location: Location<'c>) -> R<Val> {
        let value = self.value(block, operand)?;
        match (self.mode, op, ty) {
            (_, UnaryOp::Not, _) => self.not(block, value, location),
            (Mode::Tensor, UnaryOp::Neg, _) => {
                let result = self.ty(ty)?;
                self.b.emit1(block, tg::NEG, &[value], result, &[], location)
            }
            (Mode::Agent, UnaryOp::Neg, Ty::Int) => {
                let zero = self.b.int_const(block, 0, location)?;
                self.b.emit1(block, "arith.subi", &[zero, value], value.ty(), &[], location)
            }
            (Mode::Agent, UnaryOp::Neg, _) => self.b.emit1(block, "arith.negf", &[value], value.ty(), &[], location),
        }
    }

    fn binary(&mut self, block: Blk, op: BinaryOp, lhs: &TExpr, rhs: &TExpr, ty: &Ty, location: Location<'c>) -> R<Val> {
        if self.mode == Mode::Tensor {
            let name = match op {
                BinaryOp::Add => tg::ADD,
                BinaryOp::Sub => tg::SUB,
                BinaryOp::Mul => tg::MUL,
                BinaryOp::Div => tg::DIV,
                other => return Err(LowerError(format!("operator `{}` in a fn body", other.symbol()))),
            };
            let l = self.value(block, lhs)?;
            let r = self.value(block, rhs)?;
            let result = self.ty(ty)?;
            return self.b.emit1(block, name, &[l, r], result, &[], location);
        }
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            return self.short_circuit(block, op, lhs, rhs, location);
        }
        let l = self.value(block, lhs)?;
        let r = self.value(block, rhs)?;
        let operand_ty = &lhs.ty;
        let float = *operand_ty == Ty::Float;
        use BinaryOp::*;
        let arith = |name: &str| -> R<Val> { self.b.emit1(block, name, &[l, r], l.ty(), &[], location) };
        match op {
            Add => arith(if float { "arith.addf" } else { "arith.addi" }),
            Sub => arith(if float { "arith.subf" } else { "arith.subi" }),
            Mul => arith(if float { "arith.mulf" } else { "arith.muli" }),
            Div => arith(wf::DIV),
            Rem => arith(wf::REM),
            Eq | Ne | Lt | Le | Gt | Ge => {
                if float {
                    // Ordered predicates; `!=` is unordered so NaN != NaN holds.
                    let predicate = match op { Eq => 1, Gt => 2, Ge => 3, Lt => 4, Le => 5, _ => 13 };
                    self.cmpf(block, predicate, l, r, location)
                } else {
                    let predicate = match op { Eq => 0, Ne => 1, Lt => 2, Le => 3, Gt => 4, _ => 5 };
                    self.cmpi(block, predicate, l, r, location)
                }
            }
            And | Or => unreachable_op(op),
        }
    }

    /// `a && b` / `a || b`: `b` runs only when needed (it may call tools or models).
    fn short_circuit(&mut self, block: Blk, op: BinaryOp, lhs: &TExpr, rhs: &TExpr, location: Location<'c>) -> R<Val> {
        let l = self.value(block, lhs)?;
        let i1t = self.b.agent_type(&Ty::Bool)?;
        let result = self.b.emit_with_regions(block, "scf.if", &[l], &[i1t], &[], &[Some(vec![]), Some(vec![])], location)?;
        let (evaluate, constant) = if op == BinaryOp::And { (0, 1) } else { (1, 0) };
        let inner = result.region_entry(evaluate).ok_or_else(|| LowerError("scf.if without a block".into()))?;
        let saved = self.locals.clone();
        let r = self.value(inner, rhs)?;
        self.locals = saved;
        self.b.emit(inner, "scf.yield", &[r], &[], &[], location)?;
        let other = result.region_entry(constant).ok_or_else(|| LowerError("scf.if without a block".into()))?;
        let value = self.b.bool_const(other, op == BinaryOp::Or, location)?;
        self.b.emit(other, "scf.yield", &[value], &[], &[], location)?;
        Ok(result.result(0))
    }

    fn coerce_from(&self, block: Blk, value: Val, from: &Ty, to: &Ty, span: hir::Span) -> R<Val> {
        if from == to || *from == Ty::Unit {
            return Ok(value);
        }
        self.convert(block, value, from, to, self.b.loc(span))
    }

    /// Numeric conversions between agent types and fn scalar types, and tensor casts.
    fn convert(&self, block: Blk, value: Val, from: &Ty, to: &Ty, location: Location<'c>) -> R<Val> {
        if from == to {
            return Ok(value);
        }
        let target = self.ty(to)?;
        let op = match (from, to) {
            (Ty::Int, Ty::Float) => "arith.sitofp",
            (Ty::Float, Ty::Int) => "arith.fptosi",
            (Ty::Bool, Ty::Int) => "arith.extui",
            (Ty::Bool, Ty::Float) => "arith.uitofp",
            (Ty::Float, Ty::Scalar(d)) if d.is_float() => "arith.truncf",
            (Ty::Scalar(d), Ty::Float) if d.is_float() => "arith.extf",
            (Ty::Int, Ty::Scalar(DType::I32)) => "arith.trunci",
            (Ty::Scalar(DType::I32), Ty::Int) => "arith.extsi",
            (Ty::Int, Ty::Scalar(DType::I64)) | (Ty::Scalar(DType::I64), Ty::Int) => return Ok(value),
            (Ty::Tensor { .. }, Ty::Tensor { .. }) => "tensor.cast",
            (Ty::List(_), Ty::List(_)) if value.ty() == target => return Ok(value),
            _ => return Err(LowerError(format!("no conversion from `{from}` to `{to}`"))),
        };
        if value.ty() == target {
            return Ok(value);
        }
        self.b.emit1(block, op, &[value], target, &[], location)
    }

    fn to_text(&self, block: Blk, value: Val, ty: &Ty, location: Location<'c>) -> R<Val> {
        if *ty == Ty::Text {
            return Ok(value);
        }
        let text = wf::text_type(self.b.context);
        self.b.emit1(block, wf::TO_TEXT, &[value], text, &[], location)
    }

    // ----- Built-ins -------------------------------------------------------------------

    fn builtin(&mut self, block: Blk, builtin: Builtin, args: &[TExpr], ty: &Ty, location: Location<'c>) -> R<Val> {
        let values = self.values(block, args)?;
        let result = self.ty(ty)?;
        let arg_ty = |i: usize| args.get(i).map(|a| a.ty.clone()).unwrap_or(Ty::Unit);
        let simple = |name: &str| self.b.emit1(block, name, &values, result, &[], location);
        match builtin {
            Builtin::Lines => simple(wf::LINES),
            Builtin::Split => simple(wf::SPLIT),
            Builtin::Join => simple(wf::JOIN),
            Builtin::Contains => simple(wf::CONTAINS),
            Builtin::StartsWith => simple(wf::STARTS_WITH),
            Builtin::LenText => simple(wf::TEXT_LEN),
            Builtin::LenList => simple(wf::LIST_LEN),
            Builtin::Trim => simple(wf::TRIM),
            Builtin::Concat => simple(wf::CONCAT),
            Builtin::TextEq => simple(wf::TEXT_EQ),
            Builtin::Argmax => simple(wf::ARGMAX),
            Builtin::Format => {
                let mut texts = Vec::new();
                for (index, value) in values.iter().enumerate() {
                    texts.push(self.to_text(block, *value, &arg_ty(index), location)?);
                }
                self.b.emit1(block, wf::FORMAT, &texts, result, &[], location)
            }
            Builtin::Min | Builtin::Max => {
                let float = *ty == Ty::Float;
                let name = match (builtin, float) {
                    (Builtin::Min, false) => "arith.minsi",
                    (Builtin::Max, false) => "arith.maxsi",
                    (Builtin::Min, true) => "arith.minimumf",
                    _ => "arith.maximumf",
                };
                simple(name)
            }
            Builtin::Abs => simple(if *ty == Ty::Float { "math.absf" } else { "math.absi" }),
            Builtin::ToInt => match arg_ty(0) {
                Ty::Text => simple(wf::PARSE_INT),
                from => self.convert(block, values[0], &from, &Ty::Int, location),
            },
            Builtin::ToFloat => match arg_ty(0) {
                Ty::Text => simple(wf::PARSE_FLOAT),
                from => self.convert(block, values[0], &from, &Ty::Float, location),
            },
            Builtin::ToText => self.to_text(block, values[0], &arg_ty(0), location),
            Builtin::ToJson => simple(wf::TO_JSON),
            Builtin::JsonParse => {
                let decl = self.record_decl(ty)?;
                let schema = agentc_frontend::json_schema::schema_of(self.records, &decl.name)
                    .ok_or_else(|| LowerError(format!("record `{}` has no JSON Schema", decl.name)))?;
                self.b.emit1(block, wf::JSON_PARSE, &values, result, &[("schema", self.b.string(&schema))], location)
            }
        }
    }

    fn tensor_op(&mut self, block: Blk, op: TensorOp, args: &[TExpr], ty: &Ty, location: Location<'c>) -> R<Val> {
        let input = self.value(block, args.first().ok_or_else(|| LowerError("tensor op without operands".into()))?)?;
        let result = self.ty(ty)?;
        let name = match op {
            TensorOp::Matmul => {
                let rhs = self.value(block, args.get(1).ok_or_else(|| LowerError("matmul needs two operands".into()))?)?;
                return self.b.emit1(block, tg::MATMUL, &[input, rhs], result, &[], location);
            }
            TensorOp::Transpose => {
                let rank = match &args[0].ty {
                    Ty::Tensor { dims, .. } => dims.len(),
                    _ => 0,
                };
                let mut permutation: Vec<i64> = (0..rank as i64).collect();
                if rank >= 2 {
                    permutation.swap(rank - 1, rank - 2);
                }
                return self.b.append1(block, tg::transpose(self.b.context, input.view(), &permutation, result, location));
            }
            TensorOp::Sum => tg::REDUCE_SUM,
            TensorOp::Mean => tg::REDUCE_MEAN,
            TensorOp::Max => tg::REDUCE_MAX,
            TensorOp::Norm => tg::NORM,
            TensorOp::Exp => tg::EXP,
            TensorOp::Sqrt => tg::SQRT,
            TensorOp::Softmax => tg::SOFTMAX,
            TensorOp::Reshape => tg::RESHAPE,
        };
        self.b.emit1(block, name, &[input], result, &[], location)
    }
}

fn unreachable_op(op: BinaryOp) -> R<Val> {
    Err(LowerError(format!("operator `{}` reached the arithmetic path", op.symbol())))
}

/// The MLIR spelling of the element type of a lowered list value.
fn agent_elem_of(list: Val) -> R<String> {
    let text = list.ty().to_string();
    text.strip_prefix("!workflow.list<")
        .and_then(|t| t.strip_suffix('>'))
        .map(str::to_string)
        .ok_or_else(|| LowerError(format!("map over a non-list of type `{text}`")))
}

/// `@device(...)` as the `device` attribute text.
fn pin_text(pin: &DevicePin) -> String {
    match pin {
        DevicePin::Kind(kind) => kind.clone(),
        DevicePin::Named(name) => format!("name:{name}"),
    }
}

/// A block's statements with its value expression as a trailing statement.
fn block_as_stmts(block: &TBlock) -> Vec<TStmt> {
    let mut stmts = block.stmts.clone();
    if let Some(value) = &block.value {
        stmts.push(TStmt::Expr((**value).clone()));
    }
    stmts
}

/// The branch weight of "no break happened" after an `if` that may break: the opposite of
/// the `if`'s `@likely`/`@unlikely` when only its then-branch breaks, the same when only
/// its else-branch does, unknown when both may.
fn rest_likely(expr: &TExpr) -> Option<bool> {
    let TExprKind::If { likely, then_block, else_block, .. } = &expr.kind else { return None };
    let likely = (*likely)?;
    match (block_may_break(then_block), else_block.as_ref().is_some_and(block_may_break)) {
        (true, false) => Some(!likely),
        (false, true) => Some(likely),
        _ => None,
    }
}

/// Whether `expr` is an `if` a branch of which may break the enclosing loop.
fn if_may_break(expr: &TExpr) -> bool {
    match &expr.kind {
        TExprKind::If { then_block, else_block, .. } => block_may_break(then_block) || else_block.as_ref().is_some_and(block_may_break),
        _ => false,
    }
}

fn block_may_break(block: &TBlock) -> bool {
    block.stmts.iter().any(|stmt| match stmt {
        TStmt::Break { .. } | TStmt::Return { .. } => true,
        TStmt::Expr(expr) => if_may_break(expr),
        TStmt::Loop { body, .. } => block_may_return(body),
        _ => false,
    }) || block.value.as_ref().is_some_and(|v| if_may_break(v))
}

/// Whether a `return` may run in `block` (anywhere: it leaves every enclosing loop).
fn block_may_return(block: &TBlock) -> bool {
    block.stmts.iter().any(|stmt| match stmt {
        TStmt::Return { .. } => true,
        TStmt::Expr(expr) => expr_may_return(expr),
        TStmt::Loop { body, .. } => block_may_return(body),
        _ => false,
    }) || block.value.as_ref().is_some_and(|v| expr_may_return(v))
}

fn expr_may_return(expr: &TExpr) -> bool {
    match &expr.kind {
        TExprKind::If { then_block, else_block, .. } => block_may_return(then_block) || else_block.as_ref().is_some_and(block_may_return),
        _ => false,
    }
}

fn assigned_in_block(block: &TBlock, ret: Option<RetSlots>, out: &mut BTreeSet<LocalId>) {
    for stmt in &block.stmts {
        assigned_in_stmt(stmt, ret, out);
    }
    if let Some(value) = &block.value {
        assigned_in_expr(value, ret, out);
    }
}

/// Locals `stmt` may assign; a `return` assigns the hidden "returned" and result locals.
fn assigned_in_stmt(stmt: &TStmt, ret: Option<RetSlots>, out: &mut BTreeSet<LocalId>) {
    match stmt {
        TStmt::Assign { local, value, .. } => {
            out.insert(*local);
            assigned_in_expr(value, ret, out);
        }
        TStmt::Return { value, .. } => {
            if let Some(slots) = ret {
                out.insert(slots.returned);
                out.insert(slots.value);
            }
            assigned_in_expr(value, ret, out);
        }
        TStmt::Let { value, .. } => assigned_in_expr(value, ret, out),
        TStmt::Expr(expr) => assigned_in_expr(expr, ret, out),
        TStmt::Loop { body, .. } => assigned_in_block(body, ret, out),
        TStmt::Break { .. } => {}
    }
}

/// Assignments can only hide in nested blocks (`if` branches, `try` arms; map bodies cannot
/// assign outer names, the checker ensures it).
fn assigned_in_expr(expr: &TExpr, ret: Option<RetSlots>, out: &mut BTreeSet<LocalId>) {
    match &expr.kind {
        TExprKind::If { then_block, else_block, .. } => {
            assigned_in_block(then_block, ret, out);
            if let Some(else_block) = else_block {
                assigned_in_block(else_block, ret, out);
            }
        }
        TExprKind::Try { body, handler, .. } => {
            assigned_in_block(body, ret, out);
            assigned_in_block(handler, ret, out);
        }
        _ => {}
    }
}
