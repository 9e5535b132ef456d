//! `workflow-eliminate-dead-nodes`: removes workflow nodes nobody needs.
//!
//! A node is dead when none of its results is used and the purity table says it has no
//! effect: a greedy `generate` whose text is never read costs a whole LLM call for
//! nothing. Structured ops (`scf.if/for/while`) go when all of their results are unused
//! and their bodies are pure. Then, when the module has a `main`, declarations (agents,
//! tools, fns, models) that `main` cannot reach are removed.

use std::collections::{BTreeMap, BTreeSet};

use agentc_dialects::workflow as wf;

use super::purity;
use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// Runs the pass on a module.
pub fn eliminate_dead_nodes(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    let functions: BTreeMap<String, Op> = ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func")
        .filter_map(|op| ir::symbol_name(op).map(|n| (n, op)))
        .collect();
    let pure_functions = pure_functions(&functions);
    let callee_pure = |name: &str| pure_functions.contains(name);
    loop {
        let mut changed = false;
        for &function in functions.values() {
            // Innermost first, so a dead op inside a dead region is gone before its parent.
            for op in function.nested_ops().into_iter().rev() {
                if op.result_count() > 0 && op.results_unused() && purity::is_removable(op, &callee_pure) {
                    op.erase();
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    remove_unreachable(module);
    Ok(())
}

/// Functions whose bodies (transitively) have no effect. Tools never are.
fn pure_functions(functions: &BTreeMap<String, Op>) -> BTreeSet<String> {
    let mut pure: BTreeSet<String> =
        functions.iter().filter(|(_, f)| !f.has_attribute(wf::TOOL_ATTR)).map(|(n, _)| n.clone()).collect();
    loop {
        let before = pure.len();
        let snapshot = pure.clone();
        pure.retain(|name| {
            functions[name].nested_ops().iter().all(|op| {
                let op_name = op.name();
                matches!(op_name.as_str(), "func.return" | "scf.yield" | "scf.condition" | "scf.if" | "scf.for" | "scf.while" | "scf.execute_region")
                    || purity::is_removable(*op, &|callee: &str| snapshot.contains(callee))
            })
        });
        if pure.len() == before {
            return pure;
        }
    }
}

/// Removes declarations `main` cannot reach (nothing when there is no `main`).
fn remove_unreachable(module: Op) {
    let top = ir::module_ops(module);
    let by_name: BTreeMap<String, Op> = top.iter().filter_map(|op| ir::symbol_name(*op).map(|n| (n, *op))).collect();
    if !by_name.contains_key("main") {
        return;
    }
    let mut reachable = BTreeSet::from(["main".to_string()]);
    let mut work = vec!["main".to_string()];
    while let Some(name) = work.pop() {
        let Some(op) = by_name.get(&name) else { continue };
        for inner in op.nested_ops() {
            for attribute in ["callee", "model"] {
                if let Some(target) = wf::symbol_attr(&inner.view(), attribute) {
                    if reachable.insert(target.clone()) {
                        work.push(target);
                    }
                }
            }
        }
    }
    for (name, op) in by_name {
        if !reachable.contains(&name) {
            op.erase();
        }
    }
}
