//! `tensor-specialize-shapes`: static shapes flow forward through tgraph ops.
//!
//! Why: a kernel over a static shape needs no run-time size arithmetic and tiles exactly.
//! Sources of static shapes: `tensor.cast` ops that erase static information (a tgraph user
//! of the cast's result reads the more static source instead; a caller that knows T, e.g. a
//! prefill specialised for a known prompt length, expresses it so) and static operands
//! generally (weights, function arguments). Input: tgraph functions. Each tgraph op, in
//! program order, gets the result type its shape rule (`verify::tensor::infer`) gives when
//! that is more static than the declared one; a `reshape` with one dynamic result
//! dimension and a static input gets it from the element count. A user that is not a tgraph
//! op (func.return, func.call, scf.yield, ...) keeps the old type through a new
//! `tensor.cast`. Output: the same values with more static types; function signatures are
//! unchanged.

use melior::ir::operation::OperationBuilder;
use melior::ir::Type;

use super::functions;
use crate::ir::{Op, Val};
use crate::passes::{PassContext, PassFailed};
use crate::verify::tensor::{compatible, infer, shape_of, Shape};

fn is_tgraph(op: Op) -> bool {
    op.name().starts_with("tgraph.")
}

/// Static-where-either-is: the refinement of `declared` by `inferred` (same rank, agree).
fn refine(declared: &Shape, inferred: &Shape) -> Option<Shape> {
    if declared.elem != inferred.elem || !compatible(&declared.dims, &inferred.dims) {
        return None;
    }
    let dims: Vec<_> = declared.dims.iter().zip(&inferred.dims).map(|(d, i)| d.or(*i)).collect();
    (dims != declared.dims).then(|| Shape { dims, elem: declared.elem.clone() })
}

/// The inferred result shape of a reshape with a static input and one dynamic result dim.
fn reshape_shape(op: Op) -> Option<Shape> {
    let input = shape_of(op.operand(0).ty())?;
    let result = shape_of(op.result(0).ty())?;
    let total: i64 = input.dims.iter().try_fold(1i64, |acc, d| d.map(|d| acc * d))?;
    let dynamic: Vec<usize> = result.dims.iter().enumerate().filter(|(_, d)| d.is_none()).map(|(i, _)| i).collect();
    let [index] = dynamic.as_slice() else { return None };
    let known: i64 = result.dims.iter().flatten().product();
    if known == 0 || total % known != 0 {
        return None;
    }
    let mut dims = result.dims.clone();
    dims[*index] = Some(total / known);
    Some(Shape { dims, elem: result.elem })
}

fn retype(function: Op, value: Val, shape: &Shape) -> Result<(), PassFailed> {
    let old = value.ty();
    let context_ref = function.context();
    // SAFETY: `context_ref` outlives `context`'s uses.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let new = Type::parse(context, &shape.type_text()).ok_or(PassFailed)?;
    let keep_old: Vec<Op> = value.users().into_iter().filter(|u| !is_tgraph(*u)).collect();
    unsafe { mlir_sys::mlirValueSetType(value.0, melior::ir::r#type::TypeLike::to_raw(&new)) };
    for user in keep_old {
        let cast = OperationBuilder::new("tensor.cast", user.location())
            .add_operands(&[value.view()])
            .add_results(&[old])
            .build()
            .map_err(|_| PassFailed)?;
        let cast = Op(cast.into_raw());
        let block = user.block().ok_or(PassFailed)?;
        unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, user.0, cast.0) };
        for i in 0..user.operand_count() {
            if user.operand(i).0.ptr == value.0.ptr {
                user.set_operand(i, cast.result(0));
            }
        }
    }
    Ok(())
}

/// Runs the pass on a module.
pub fn specialize_shapes(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    for function in functions(module) {
        // Casts that erase static information: tgraph users read the source instead.
        for cast in function.nested_ops().into_iter().filter(|op| op.name() == "tensor.cast") {
            let (Some(source), Some(target)) = (shape_of(cast.operand(0).ty()), shape_of(cast.result(0).ty())) else { continue };
            if refine(&target, &source).is_none() {
                continue;
            }
            for user in cast.result(0).users().into_iter().filter(|u| is_tgraph(*u)) {
                for i in 0..user.operand_count() {
                    if user.operand(i).0.ptr == cast.result(0).0.ptr {
                        user.set_operand(i, cast.operand(0));
                    }
                }
            }
        }
        for op in function.nested_ops().into_iter().filter(|op| is_tgraph(*op) && op.result_count() == 1) {
            let Some(declared) = shape_of(op.result(0).ty()) else { continue };
            let inferred = if op.name() == agentc_dialects::tgraph::RESHAPE { reshape_shape(op) } else { infer(op).ok().flatten() };
            if let Some(better) = inferred.and_then(|i| refine(&declared, &i)) {
                retype(function, op.result(0), &better)?;
            }
        }
    }
    Ok(())
}
