//! `workflow-inline-agents`: inlines sub-agent calls into their callers.
//!
//! The planner works on one dataflow graph per entry point, so sub-agents are flattened
//! into the caller: the callee body is cloned at the call, its arguments replaced by the
//! call's operands and the call's results by the returned values. Agents form a DAG (the
//! checker and verifier reject recursion): callees are inlined before their callers, so
//! one sweep leaves no agent call. Agents that are no longer called are removed; `main`
//! always stays. Without a `main` (a library), only agents that were inlined go: the
//! uncalled ones are its entry points. Tools and tensor functions are not inlined: they are fragments of their own.
//!
//! A sub-agent's `@objective` / `@sla` (attributes of its function) would vanish with it,
//! so they move onto the inlined ops that become fragments (`workflow.generate`,
//! `workflow.embed`, `workflow.tool_call`, calls of tensor fns) as `workflow.objective` /
//! `workflow.sla_ms`; an annotation of a deeper sub-agent wins over its caller's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use agentc_dialects::workflow as wf;

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// An agent's calls to agents: the `func.call` op and the callee's name.
type Calls = Vec<(Op, String)>;

/// Runs the pass on a module.
///
/// Near-linear in the size of the result: the call graph is read once, agents are inlined
/// callees first (each callee is already flat when it is copied, so one sweep suffices),
/// and the agents left unreferenced are found in one more walk.
pub fn inline_agents(module: Op, _context: &PassContext) -> Result<(), PassFailed> {
    let agents: BTreeMap<String, Op> = ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func" && op.has_attribute(wf::AGENT_ATTR))
        .filter_map(|op| ir::symbol_name(op).map(|n| (n, op)))
        .collect();
    let calls: BTreeMap<&str, Calls> = agents
        .iter()
        .map(|(name, agent)| {
            let calls = agent
                .nested_ops()
                .into_iter()
                .filter(|op| op.name() == "func.call")
                .filter_map(|op| wf::symbol_attr(&op.view(), "callee").filter(|c| agents.contains_key(c)).map(|c| (op, c)))
                .collect();
            (name.as_str(), calls)
        })
        .collect();
    let mut inlined = BTreeSet::new();
    for caller in callees_first(&calls)? {
        for (call, callee_name) in &calls[caller] {
            inline_call(*call, agents[callee_name])?;
            inlined.insert(callee_name.as_str());
        }
    }
    // Agent calls are all gone; what is still referenced is referenced from elsewhere.
    let referenced: BTreeSet<String> = ir::module_ops(module)
        .into_iter()
        .flat_map(Op::nested_ops)
        .filter_map(|op| wf::symbol_attr(&op.view(), "callee"))
        .collect();
    let has_main = agents.contains_key("main");
    for (name, agent) in &agents {
        if name != "main" && (has_main || inlined.contains(name.as_str())) && !referenced.contains(name) {
            agent.erase();
        }
    }
    Ok(())
}

/// The agents in an order where every agent comes after the agents it calls (a depth-first
/// post-order from each agent in name order, iterative so a chain of thousands of agents
/// cannot overflow the stack). A call that closes a cycle is an error there.
fn callees_first<'a>(calls: &'a BTreeMap<&'a str, Calls>) -> Result<Vec<&'a str>, PassFailed> {
    #[derive(PartialEq)]
    enum Visit {
        Open,
        Done,
    }
    let mut visits: HashMap<&str, Visit> = HashMap::new();
    let mut order = Vec::new();
    for &root in calls.keys() {
        if visits.contains_key(root) {
            continue;
        }
        visits.insert(root, Visit::Open);
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        while let Some(&(node, next)) = stack.last() {
            match calls[node].get(next) {
                Some((call, callee)) => {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    match visits.get(callee.as_str()) {
                        Some(Visit::Open) => {
                            call.emit_error("cannot inline a recursive agent call");
                            return Err(PassFailed);
                        }
                        Some(Visit::Done) => {}
                        None => {
                            visits.insert(callee.as_str(), Visit::Open);
                            stack.push((callee.as_str(), 0));
                        }
                    }
                }
                None => {
                    visits.insert(node, Visit::Done);
                    order.push(node);
                    stack.pop();
                }
            }
        }
    }
    Ok(order)
}

/// Ops that become fragments the scheduler places: where a sub-agent's `@objective` and
/// `@sla` must still be visible after its body is inlined.
fn is_placed_work(op: Op) -> bool {
    matches!(op.name().as_str(), wf::GENERATE | wf::EMBED | wf::TOOL_CALL | "func.call")
}

/// Puts `callee`'s `@objective` / `@sla` (`workflow.objective`, `workflow.sla_ms`) on the
/// inlined ops that become fragments, unless an agent inlined deeper already put its own.
fn carry_annotations(callee: Op, inlined: &[Op]) {
    for name in [wf::OBJECTIVE_ATTR, wf::SLA_ATTR] {
        let Some(value) = callee.attribute(name) else { continue };
        for &op in inlined {
            for op in std::iter::once(op).chain(op.nested_ops()) {
                if is_placed_work(op) && !op.has_attribute(name) {
                    op.set_attribute(name, value);
                }
            }
        }
    }
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
    carry_annotations(callee, rest);
    for (result, returned) in call.results().into_iter().zip(terminator.operands()) {
        result.replace_all_uses_with(returned);
    }
    call.erase();
    copy.erase();
    Ok(())
}
