//! `tensor-fuse-norm-matmul`: a normalisation feeding matrix products joins each of them.
//!
//! Why: an rmsnorm/layernorm is a cheap row-wise op whose output is read by one or more
//! matmuls (Llama's q, k, v projections read one input norm); computed in the matmul's
//! prologue, the normalised activations never go to memory. Input: tgraph functions. For
//! every ungrouped `rmsnorm`/`layernorm` whose every use is the lhs of an ungrouped
//! `tgraph.matmul` in the same block, the norm is duplicated so each matmul has its own
//! copy (recomputing a row norm costs O(T·H) against the matmul's O(T·H·N)), and each
//! (norm, matmul) pair becomes a fusion group of kind `norm_matmul` rooted at the matmul.
//! Output: the same values; the copies are placed right before their matmuls.

use agentc_dialects::tgraph as tg;

use super::{form_group, fresh_group, functions, group_of, same_block};
use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};

/// Runs the pass on a module.
pub fn fuse_norm_matmul(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    for function in functions(module) {
        for norm in function.nested_ops() {
            if !tg::NORMS.contains(&norm.name().as_str()) || group_of(norm).is_some() {
                continue;
            }
            // Use lists run newest first: order the matmuls as the program does.
            let mut users = norm.result(0).users();
            let order = norm.block().map(|b| b.ops()).unwrap_or_default();
            users.sort_by_key(|u| order.iter().position(|o| o == u));
            let fusable = !users.is_empty()
                && users.iter().all(|u| {
                    u.name() == tg::MATMUL && group_of(*u).is_none() && same_block(norm, *u) && u.operand(0).0.ptr == norm.result(0).0.ptr
                        && u.operand(1).0.ptr != norm.result(0).0.ptr
                });
            if !fusable {
                continue;
            }
            for (i, matmul) in users.iter().enumerate() {
                let copy = if i + 1 == users.len() {
                    norm
                } else {
                    let copy = norm.clone_detached();
                    let block = matmul.block().ok_or(PassFailed)?;
                    unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, matmul.0, copy.0) };
                    matmul.set_operand(0, copy.result(0));
                    copy
                };
                form_group(&[copy, *matmul], fresh_group(function), "norm_matmul");
            }
        }
    }
    Ok(())
}
