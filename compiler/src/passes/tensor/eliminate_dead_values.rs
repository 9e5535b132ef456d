//! `tensor-eliminate-dead-values`: removes values nothing uses.
//!
//! Why: conversion and fusion leave behind unused weights, transposes, casts and constants
//! (a norm duplicated per matmul leaves the original without users; shape specialisation
//! leaves casts). Input: any IR. Output: no tgraph op, `arith.constant`, `tensor.cast` or
//! `tensor.empty` with unused results remains (all are pure: IRDL ops declare no effects,
//! and tgraph ops have value semantics). Runs to a fixed point, bottom-up per function.

use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};

fn removable(name: &str) -> bool {
    name.starts_with("tgraph.") || matches!(name, "arith.constant" | "tensor.cast" | "tensor.empty")
}

/// Runs the pass on a module.
pub fn eliminate_dead_values(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    for function in super::functions(module) {
        loop {
            let mut changed = false;
            for op in function.nested_ops().into_iter().rev() {
                if removable(&op.name()) && op.region_count() == 0 && op.results_unused() {
                    op.erase();
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    Ok(())
}
