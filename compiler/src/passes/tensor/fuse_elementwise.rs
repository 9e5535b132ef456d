//! `tensor-fuse-elementwise`: elementwise ops join their producers and consumers.
//!
//! Why: every elementwise op on its own reads and writes a whole tensor; in a chain, only
//! the chain's inputs and output need memory. Input: tgraph functions (after the other
//! fusion passes, whose groups it extends). Walking each function in program order:
//! - an elementwise op (`add`, `sub`, `mul`, `div`, `neg`, `exp`, `sqrt`, `silu`, `gelu`)
//!   joins the producer of one of its operands when that producer's result has this op as
//!   its only user, lies in the same block, and has the op's result type (so the op is a
//!   per-element epilogue of the producer): the producer's group is extended, or a new group
//!   `elementwise` (producer elementwise) / `<producer>+elementwise` is formed;
//! - a reduction, `softmax`, `rmsnorm` or `layernorm` takes in the pure elementwise group
//!   (or the lone elementwise op) that feeds it and is its only user (`+reduce`: the
//!   elementwise work becomes the reduction's prologue).
//! A group holds at most one reduction and one matmul: nothing is appended after a
//! reduction, and a reduction takes in only elementwise-only groups.
//! Output: the same values, marked with fusion groups and contiguous.

use agentc_dialects::tgraph as tg;

use super::{extend_group, feeds_only, form_group, fresh_group, functions, group_of, is_root, kind_of, same_block};
use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};

const CONSUMERS: &[&str] = &[tg::REDUCE_SUM, tg::REDUCE_MEAN, tg::REDUCE_MAX, tg::NORM, tg::SOFTMAX, tg::RMSNORM, tg::LAYERNORM];

/// Producers an elementwise op may become the epilogue of.
fn is_producer(name: &str) -> bool {
    tg::ELEMENTWISE.contains(&name)
        || matches!(name, tg::MATMUL | tg::RMSNORM | tg::LAYERNORM | tg::SOFTMAX | tg::ATTENTION | tg::ATTENTION_CACHED | tg::EMBEDDING | tg::ROPE)
}

/// Whether `producer` can take `op` into its group (or form one with it).
fn joinable(producer: Op, op: Op) -> bool {
    let grouped_ok = group_of(producer).is_none() || is_root(producer);
    grouped_ok && same_block(producer, op) && feeds_only(producer, op) && producer.result_count() == 1
}

/// Runs the pass on a module.
pub fn fuse_elementwise(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    for function in functions(module) {
        for op in function.nested_ops() {
            let name = op.name();
            if group_of(op).is_some() {
                continue;
            }
            let elementwise = tg::ELEMENTWISE.contains(&name.as_str());
            if !elementwise && !CONSUMERS.contains(&name.as_str()) {
                continue;
            }
            let same_type = |p: &Op| p.result(0).ty() == op.result(0).ty();
            let producer = op.operands().into_iter().filter_map(|v| v.defining_op()).find(|p| {
                joinable(*p, op)
                    && if elementwise {
                        // An epilogue, but never after a reduction: its rows are complete
                        // only at the end of the reduction.
                        is_producer(&p.name()) && same_type(p) && !kind_of(*p).contains("reduce")
                    } else {
                        // A prologue: only a pure elementwise chain feeds a reduction.
                        tg::ELEMENTWISE.contains(&p.name().as_str()) && (group_of(*p).is_none() || kind_of(*p) == "elementwise")
                    }
            });
            let Some(producer) = producer else { continue };
            let suffix = if elementwise { "elementwise" } else { "reduce" };
            if group_of(producer).is_some() {
                if !kind_of(producer).ends_with(suffix) {
                    extend_group(function, producer, op, suffix);
                } else {
                    let group = group_of(producer).unwrap_or(0);
                    let mut ops = super::members(function, group);
                    ops.push(op);
                    form_group(&ops, group, &kind_of(producer));
                }
            } else {
                let base = producer.name().trim_start_matches("tgraph.").to_string();
                let kind = match (tg::ELEMENTWISE.contains(&producer.name().as_str()), elementwise) {
                    (true, true) => "elementwise".to_string(),
                    (true, false) => "elementwise+reduce".to_string(),
                    (false, _) => format!("{base}+elementwise"),
                };
                form_group(&[producer, op], fresh_group(function), &kind);
            }
        }
    }
    Ok(())
}
