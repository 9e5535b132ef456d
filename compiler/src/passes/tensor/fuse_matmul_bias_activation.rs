//! `tensor-fuse-matmul-bias-activation`: a matmul's bias add and activation become its
//! epilogue.
//!
//! Why: `x·W + b` followed by GELU (BERT's MLP) or SiLU (Llama's gate) is one pass over the
//! matmul's output tile while it is still in registers. Input: tgraph functions. For every
//! matmul that is ungrouped or the root of its group, whose only user is a `tgraph.add` of a
//! 1-D bias matching its last dimension, and/or then (or directly) a single-use activation
//! (`silu`, `gelu`): the matmul (with its group, e.g. a fused norm), the add and the
//! activation form one fusion group rooted at the last of them; its kind gets
//! `matmul_bias_activation` (or `+bias_activation` after `norm_matmul`). Output: the same
//! values, marked and contiguous.

use agentc_dialects::tgraph as tg;

use super::{feeds_only, form_group, fresh_group, functions, group_of, is_root, kind_of, members, same_block, single_user};
use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};
use crate::verify::tensor::shape_of;

/// The bias add consuming `matmul`'s result, if it is one.
fn bias_add(matmul: Op) -> Option<Op> {
    let add = single_user(matmul.result(0)).filter(|u| u.name() == tg::ADD && same_block(matmul, *u))?;
    let other = if add.operand(0).0.ptr == matmul.result(0).0.ptr { add.operand(1) } else { add.operand(0) };
    let bias = shape_of(other.ty())?;
    let out = shape_of(matmul.result(0).ty())?;
    let ok = bias.dims.len() == 1 && bias.dims[0].is_some() && out.dims.last() == Some(&bias.dims[0]) && other.0.ptr != matmul.result(0).0.ptr;
    ok.then_some(add)
}

/// The activation consuming `op`'s result, if it is one.
fn activation(op: Op) -> Option<Op> {
    single_user(op.result(0)).filter(|u| tg::ACTIVATIONS.contains(&u.name().as_str()) && same_block(op, *u) && feeds_only(op, *u))
}

/// Runs the pass on a module.
pub fn fuse_matmul_bias_activation(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    for function in functions(module) {
        for matmul in function.nested_ops() {
            if matmul.name() != tg::MATMUL || (group_of(matmul).is_some() && !is_root(matmul)) {
                continue;
            }
            let add = bias_add(matmul);
            let act = activation(add.unwrap_or(matmul));
            let mut tail: Vec<Op> = add.into_iter().chain(act).collect();
            if tail.is_empty() {
                continue;
            }
            let suffix = match (add.is_some(), act.is_some()) {
                (true, true) => "bias_activation",
                (true, false) => "bias",
                _ => "activation",
            };
            if let Some(group) = group_of(matmul) {
                let kind = format!("{}+{suffix}", kind_of(matmul));
                let mut ops = members(function, group);
                ops.append(&mut tail);
                form_group(&ops, group, &kind);
            } else {
                let mut ops = vec![matmul];
                ops.append(&mut tail);
                form_group(&ops, fresh_group(function), &format!("matmul_{suffix}"));
            }
        }
    }
    Ok(())
}
