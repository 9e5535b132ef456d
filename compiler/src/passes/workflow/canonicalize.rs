//! `workflow-canonicalize`: folds what is known at compile time and drops dead values.
//!
//! Folds arithmetic (`arith`, `math`), the text and list built-ins and `workflow.div/rem`
//! on literal operands, a `record_get` of a `record_new` to the field's value, using the runtime's own built-in functions so a folded value is
//! exactly what the executable would compute; folds `scf.if` on a constant condition into
//! the taken branch; and removes unused pure values ("dead lets"). Anything that could fail
//! at run time (division by zero, an index out of range, a bad number) is left alone so
//! the failure still happens, with its source location, when the program runs; integer
//! overflow is such a failure, so `i64::MAX + 1` is not folded. Upstream
//! `canonicalize` cannot be used: it does not know our ops and drops discardable attributes.

use agentc_dialects::workflow as wf;
use agentc_runtime::builtins as rt;
use melior::ir::attribute::{FloatAttribute, IntegerAttribute, StringAttribute};
use melior::ir::operation::OperationBuilder;
use melior::ir::{Attribute, Identifier, Location, Type, Value};

use super::purity;
use crate::ir::{Op, Val};
use crate::passes::{PassContext, PassFailed};

/// A compile-time value.
#[derive(Clone, Debug, PartialEq)]
enum Const {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    List(Vec<Const>),
}

/// Runs the pass on a module.
pub fn canonicalize(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    // Each round folds what became constant in the last; bounded to stay linear in practice.
    for _round in 0..64 {
        let mut changed = false;
        for op in module.nested_ops() {
            if op.block().is_none() {
                continue;
            }
            changed |= fold_op(op);
        }
        changed |= remove_dead(module);
        if !changed {
            break;
        }
    }
    Ok(())
}

/// Removes unused pure built-ins and constants, innermost and last first.
fn remove_dead(module: Op) -> bool {
    let mut changed = false;
    for op in module.nested_ops().into_iter().rev() {
        let name = op.name();
        let removable = purity::is_pure_leaf(op) && name != wf::GENERATE && name != wf::EMBED;
        if removable && op.result_count() > 0 && op.results_unused() {
            op.erase();
            changed = true;
        }
    }
    changed
}

/// The constant an op defines, if it is a constant (or a list literal of constants).
fn constant_of(value: Val) -> Option<Const> {
    let op = value.defining_op()?;
    match op.name().as_str() {
        "arith.constant" => {
            let attribute = op.attribute("value")?;
            let ty = value.ty().to_string();
            if let Ok(int) = IntegerAttribute::try_from(attribute) {
                return Some(if ty == "i1" { Const::Bool(int.value() != 0) } else if ty == "i64" { Const::Int(int.value()) } else { return None });
            }
            if ty == "f64" {
                return FloatAttribute::try_from(attribute).ok().map(|f| Const::Float(f.value()));
            }
            None
        }
        wf::TEXT_CONSTANT => wf::string_attr(&op.view(), "value").map(Const::Text),
        wf::LIST_LITERAL => op.operands().into_iter().map(constant_of).collect::<Option<Vec<_>>>().map(Const::List),
        _ => None,
    }
}

/// `record_get` of a record built by a `record_new` in sight: the field's value itself
/// (when the field name at `index` agrees, as the verifier ensures).
fn field_of_new_record(op: Op) -> Option<Val> {
    if op.name() != wf::RECORD_GET {
        return None;
    }
    let record = op.operand(0).defining_op().filter(|r| r.name() == wf::RECORD_NEW)?;
    let index = usize::try_from(wf::int_attr(&op.view(), "index")?).ok().filter(|&i| i < record.operand_count())?;
    let field = record.operand(index).defining_op().filter(|f| f.name() == wf::FIELD_VALUE)?;
    let value = field.operand(0);
    (value.ty() == op.result(0).ty()).then_some(value)
}

/// Folds one op; returns whether it changed the IR.
fn fold_op(op: Op) -> bool {
    let name = op.name();
    if name == "scf.if" {
        return fold_if(op);
    }
    if op.result_count() != 1 || op.region_count() != 0 || name == "arith.constant" || name == wf::TEXT_CONSTANT {
        return false;
    }
    if let Some(inner) = double_negation(op).or_else(|| field_of_new_record(op)) {
        op.result(0).replace_all_uses_with(inner);
        op.erase();
        return true;
    }
    let operands: Option<Vec<Const>> = op.operands().into_iter().map(constant_of).collect();
    let Some(operands) = operands else { return false };
    let Some(folded) = evaluate(op, &name, &operands) else { return false };
    match materialize(op, &folded, op.result(0).ty()) {
        Some(value) => {
            op.result(0).replace_all_uses_with(value);
            op.erase();
            true
        }
        None => false,
    }
}

fn text(c: &Const) -> Option<&str> {
    if let Const::Text(t) = c { Some(t) } else { None }
}

fn texts(c: &Const) -> Option<Vec<String>> {
    if let Const::List(items) = c { items.iter().map(|i| text(i).map(str::to_string)).collect() } else { None }
}

fn to_text(c: &Const) -> String {
    match c {
        Const::Int(i) => i.to_string(),
        Const::Float(f) => rt::float_to_text(*f),
        Const::Bool(b) => b.to_string(),
        Const::Text(t) => t.clone(),
        Const::List(items) => format!("[{}]", items.iter().map(to_text).collect::<Vec<_>>().join(", ")),
    }
}

/// The value of `name` applied to constant operands, when it can be known without running.
fn evaluate(op: Op, name: &str, args: &[Const]) -> Option<Const> {
    use Const::*;
    let predicate = || wf::int_attr(&op.view(), "predicate");
    Some(match (name, args) {
        ("arith.addi", [Int(a), Int(b)]) => Int(a.checked_add(*b)?),
        ("arith.subi", [Int(a), Int(b)]) => Int(a.checked_sub(*b)?),
        ("arith.muli", [Int(a), Int(b)]) => Int(a.checked_mul(*b)?),
        ("arith.addf", [Float(a), Float(b)]) => Float(a + b),
        ("arith.subf", [Float(a), Float(b)]) => Float(a - b),
        ("arith.mulf", [Float(a), Float(b)]) => Float(a * b),
        ("arith.negf", [Float(a)]) => Float(-a),
        ("arith.andi", [Bool(a), Bool(b)]) => Bool(*a && *b),
        ("arith.ori", [Bool(a), Bool(b)]) => Bool(*a || *b),
        ("arith.xori", [Bool(a), Bool(b)]) => Bool(a != b),
        ("arith.minsi", [Int(a), Int(b)]) => Int(*a.min(b)),
        ("arith.maxsi", [Int(a), Int(b)]) => Int(*a.max(b)),
        ("arith.minimumf", [Float(a), Float(b)]) => Float(if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(*b) }),
        ("arith.maximumf", [Float(a), Float(b)]) => Float(if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(*b) }),
        ("arith.sitofp", [Int(a)]) => Float(*a as f64),
        ("arith.uitofp", [Bool(a)]) => Float(*a as u8 as f64),
        ("arith.extui", [Bool(a)]) => Int(*a as i64),
        ("arith.fptosi", [Float(a)]) if a.is_finite() && a.abs() < 9.2e18 => Int(*a as i64),
        ("math.absi", [Int(a)]) => Int(a.checked_abs()?),
        ("math.absf", [Float(a)]) => Float(a.abs()),
        ("arith.cmpi", [Int(a), Int(b)]) => Bool(match predicate()? {
            0 => a == b,
            1 => a != b,
            2 => a < b,
            3 => a <= b,
            4 => a > b,
            5 => a >= b,
            _ => return None,
        }),
        ("arith.cmpi", [Bool(a), Bool(b)]) => Bool(match predicate()? {
            0 => a == b,
            1 => a != b,
            _ => return None,
        }),
        ("arith.cmpf", [Float(a), Float(b)]) => Bool(match predicate()? {
            1 => a == b,
            2 => a > b,
            3 => a >= b,
            4 => a < b,
            5 => a <= b,
            13 => a != b,
            _ => return None,
        }),
        (wf::DIV, [Int(a), Int(b)]) => Int(rt::int_div(*a, *b)?),
        (wf::DIV, [Float(a), Float(b)]) if *b != 0.0 => Float(a / b),
        (wf::REM, [Int(a), Int(b)]) => Int(rt::int_rem(*a, *b)?),
        (wf::CONCAT, [Text(a), Text(b)]) => Text(format!("{a}{b}")),
        (wf::TEXT_EQ, [Text(a), Text(b)]) => Bool(a == b),
        (wf::LINES, [Text(a)]) => List(rt::lines(a).into_iter().map(Text).collect()),
        (wf::SPLIT, [Text(a), Text(b)]) => List(rt::split(a, b).into_iter().map(Text).collect()),
        (wf::JOIN, [items, Text(sep)]) => Text(rt::join(&texts(items)?, sep)),
        (wf::CONTAINS, [Text(a), Text(b)]) => Bool(a.contains(b.as_str())),
        (wf::STARTS_WITH, [Text(a), Text(b)]) => Bool(a.starts_with(b.as_str())),
        (wf::TEXT_LEN, [Text(a)]) => Int(rt::text_len(a)),
        (wf::TRIM, [Text(a)]) => Text(rt::trim(a)),
        (wf::FORMAT, [Text(template), rest @ ..]) => {
            let rest: Vec<String> = rest.iter().map(|c| text(c).map(str::to_string)).collect::<Option<_>>()?;
            Text(rt::format(template, &rest).ok()?)
        }
        (wf::TO_TEXT, [value]) => Text(to_text(value)),
        (wf::PARSE_INT, [Text(a)]) => Int(rt::parse_int(a).ok()?),
        (wf::PARSE_FLOAT, [Text(a)]) => Float(rt::parse_float(a).ok()?),
        (wf::LIST_LEN, [List(items)]) => Int(items.len() as i64),
        (wf::LIST_GET, [List(items), Int(index)]) => items.get(usize::try_from(*index).ok()?)?.clone(),
        (wf::ARGMAX, [List(items)]) => {
            let values: Vec<f64> = items
                .iter()
                .map(|i| match i {
                    Int(v) => Some(*v as f64),
                    Float(v) => Some(*v),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            Int(rt::argmax(&values)? as i64)
        }
        _ => return None,
    })
}

/// Creates ops computing `value` right before `before`; returns the value.
fn materialize(before: Op, value: &Const, ty: Type) -> Option<Val> {
    let context_ref = before.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let location: Location = before.location();
    // Folded ops always sit in a block; without one there is nowhere to put a constant.
    let block = before.block()?;
    let insert = |op: melior::ir::Operation| -> Val {
        let raw = op.into_raw();
        unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, before.0, raw) };
        Op(raw).result(0)
    };
    let build = |name: &str, operands: &[Val], attributes: &[(&str, Attribute)], ty: Type| -> Option<Val> {
        let operands: Vec<Value> = operands.iter().map(|v| v.view()).collect();
        let attributes: Vec<(Identifier, Attribute)> =
            attributes.iter().map(|(n, a)| (Identifier::new(context, n), *a)).collect();
        let op = OperationBuilder::new(name, location).add_operands(&operands).add_attributes(&attributes).add_results(&[ty]).build().ok()?;
        Some(insert(op))
    };
    match value {
        Const::Int(v) => build("arith.constant", &[], &[("value", IntegerAttribute::new(ty, *v).into())], ty),
        Const::Bool(v) => build("arith.constant", &[], &[("value", IntegerAttribute::new(ty, *v as i64).into())], ty),
        Const::Float(v) => build("arith.constant", &[], &[("value", FloatAttribute::new(context, ty, *v).into())], ty),
        Const::Text(t) => build(wf::TEXT_CONSTANT, &[], &[("value", StringAttribute::new(context, t).into())], ty),
        Const::List(items) => {
            let elem = wf::list_elem(context, ty)?;
            let values: Vec<Val> = items.iter().map(|item| materialize(before, item, elem)).collect::<Option<_>>()?;
            build(wf::LIST_LITERAL, &values, &[], ty)
        }
    }
}

/// `scf.if` on a constant condition becomes the taken branch's ops; an `scf.if` that only
/// yields `true`/`false` becomes its condition (or its negation).
fn fold_if(op: Op) -> bool {
    let Some(Const::Bool(condition)) = constant_of(op.operand(0)) else { return fold_boolean_if(op) };
    let region = if condition { 0 } else { 1 };
    match op.region_entry(region) {
        Some(block) => {
            let ops = block.ops();
            let Some((terminator, rest)) = ops.split_last() else { return false };
            for inner in rest {
                inner.move_before(op);
            }
            for (result, yielded) in op.results().into_iter().zip(terminator.operands()) {
                result.replace_all_uses_with(yielded);
            }
        }
        None if op.result_count() == 0 => {}
        None => return false,
    }
    op.erase();
    true
}

/// A boolean result of an `scf.if` whose branches yield constants is the condition, its
/// negation, or a constant: `scf.if %c -> i1 { yield true } else { yield false }` is `%c`.
/// (The break flags of loops look like this.) An `if` left without used results goes
/// with the dead-value clean-up when its branches are pure.
fn fold_boolean_if(op: Op) -> bool {
    let yields: Option<Vec<Op>> = (0..2).map(|r| op.region_entry(r).and_then(|b| b.terminator())).collect();
    let Some(yields) = yields else { return false };
    let condition = op.operand(0);
    let mut changed = false;
    for index in 0..op.result_count() {
        let result = op.result(index);
        if result.ty().to_string() != "i1" || !result.has_uses() {
            continue;
        }
        let branch_value = |y: Op| match y.operand_count() > index {
            true => match constant_of(y.operand(index)) {
                Some(Const::Bool(v)) => Some(v),
                _ => None,
            },
            false => None,
        };
        let (Some(then_value), Some(else_value)) = (branch_value(yields[0]), branch_value(yields[1])) else { continue };
        let replacement = match (then_value, else_value) {
            (true, false) => Some(condition),
            (false, true) => negate(op, condition),
            (same, _) => materialize(op, &Const::Bool(same), condition.ty()),
        };
        if let Some(replacement) = replacement {
            result.replace_all_uses_with(replacement);
            changed = true;
        }
    }
    if changed && op.results_unused() && op.nested_ops().iter().all(|o| matches!(o.name().as_str(), "arith.constant" | "scf.yield")) {
        op.erase();
    }
    changed
}

/// `arith.xori %value, true` inserted before `before`.
fn negate(before: Op, value: Val) -> Option<Val> {
    let ty = value.ty();
    let one = materialize(before, &Const::Bool(true), ty)?;
    let xor = OperationBuilder::new("arith.xori", before.location())
        .add_operands(&[value.view(), one.view()])
        .add_results(&[ty])
        .build()
        .ok()?;
    let raw = xor.into_raw();
    let block = before.block()?;
    unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, before.0, raw) };
    Some(Op(raw).result(0))
}

/// `xori(xori(x, true), true)` is `x`.
fn double_negation(op: Op) -> Option<Val> {
    let is_not = |o: Op| o.name() == "arith.xori" && matches!(constant_of(o.operand(1)), Some(Const::Bool(true)));
    if !is_not(op) {
        return None;
    }
    let inner = op.operand(0).defining_op()?;
    is_not(inner).then(|| inner.operand(0))
}
