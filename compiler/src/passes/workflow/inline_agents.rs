//! `workflow-inline-agents`: inlines sub-agent calls into their callers.
//!
//! The planner works on one dataflow graph per entry point, so sub-agents are flattened
//! into the caller: the callee body is cloned at the call, its arguments replaced by the
//! call's operands and the call's results by the returned values. Agents form a DAG (the
//! checker and verifier reject recursion), so repeating until no agent call is left
//! terminates. Agents that are no longer called are removed; `main` always stays. Without a
//! `main` (a library), only agents that were inlined go: the uncalled ones are its entry
//! points. Tools and tensor functions are not inlined: they are fragments of their own.

use std::collections::{BTreeMap, BTreeSet};

use agentc_dialects::workflow as wf;

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// Runs the pass on a module.
pub fn inline_agents(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    let agents: BTreeMap<String, Op> = ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func" && op.has_attribute(wf::AGENT_ATTR))
        .filter_map(|op| ir::symbol_name(op).map(|n| (n, op)))
        .collect();
    let mut inlined = BTreeSet::new();
    // Bounded by the number of agents times their depth; the bound only guards bugs.
    for _round in 0..=agents.len() * agents.len() + 1 {
        let mut changed = false;
        for &caller in agents.values() {
            for op in caller.nested_ops() {
                if op.name() != "func.call" {
                    continue;
                }
                let Some((callee_name, callee)) =
                    wf::symbol_attr(&op.view(), "callee").and_then(|c| agents.get(&c).map(|&a| (c, a)))
                else {
                    continue;
                };
                if callee == caller {
                    op.emit_error("cannot inline a recursive agent call");
                    return Err(PassFailed);
                }
                inline_call(op, callee)?;
                inlined.insert(callee_name);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let has_main = agents.contains_key("main");
    for (name, agent) in &agents {
        if name != "main" && (has_main || inlined.contains(name)) && !is_referenced(module, name) {
            agent.erase();
        }
    }
    Ok(())
}

/// Replaces `call` by a copy of `callee`'s body.
fn inline_call(call: Op, callee: Op) -> Result<(), PassFailed> {
    let copy = callee.clone_detached();
    let Some(body) = copy.region_entry(0) else {
        copy.erase();
        call.emit_error("cannot inline an agent without a body");
        return Err(PassFailed);
    };
    for (argument, operand) in body.arguments().into_iter().zip(call.operands()) {
        argument.replace_all_uses_with(operand);
    }
    let ops = body.ops();
    let Some((terminator, rest)) = ops.split_last() else {
        copy.erase();
        return Err(PassFailed);
    };
    for op in rest {
        op.move_before(call);
    }
    for (result, returned) in call.results().into_iter().zip(terminator.operands()) {
        result.replace_all_uses_with(returned);
    }
    call.erase();
    copy.erase();
    Ok(())
}

fn is_referenced(module: Op, name: &str) -> bool {
    ir::module_ops(module).iter().any(|function| {
        function.nested_ops().iter().any(|op| wf::symbol_attr(&op.view(), "callee").as_deref() == Some(name))
    })
}
