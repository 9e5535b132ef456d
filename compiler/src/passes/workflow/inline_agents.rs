//! `workflow-inline-agents`: inlines sub-agent calls into their callers.
//!
//! The planner works on one dataflow graph per entry point, so sub-agents are flattened
//! into the caller: the callee body is cloned at the call, its arguments replaced by the
//! call's operands and the call's results by the returned values. Agents form a DAG (the
//! checker and verifier reject recursion): from each entry point, every call is replaced by
//! the callee's own body and the calls that brings in are queued, until none is left. Agents that are no longer called are removed; `main`
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
/// Near-linear in the size of the result: the call graph is read once, only entry points
/// are flattened (top-down, each call copying one unflattened body), and the agents left
/// unreferenced are found in one more walk.
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
    // Cycles are errors (the verifier rejects them first; this guards the worklist below).
    callees_first(&calls)?;
    // Only the roots are flattened, top-down: `main`, or without one the agents no agent
    // calls. Each call copies the callee's own (small) body and queues the calls in it, so
    // the work is the size of the result, never a flattened copy per intermediate agent.
    let called: BTreeSet<&str> = calls.values().flatten().map(|(_, c)| c.as_str()).collect();
    let roots: Vec<&str> = match agents.contains_key("main") {
        true => vec!["main"],
        false => agents.keys().map(String::as_str).filter(|n| !called.contains(n)).collect(),
    };
    let mut inlined = BTreeSet::new();
    for &root in &roots {
        let mut work: Vec<(Op, String, Annotations)> =
            calls[root].iter().rev().map(|(op, c)| (*op, c.clone(), Annotations::default())).collect();
        while let Some((call, callee_name, inherited)) = work.pop() {
            let callee = agents[&callee_name];
            let annotations = Annotations::of(callee).or(inherited);
            let moved = inline_call(call, callee, &annotations)?;
            let nested: Vec<(Op, String, Annotations)> = moved
                .into_iter()
                .flat_map(|op| std::iter::once(op).chain(op.nested_ops()))
                .filter(|op| op.name() == "func.call")
                .filter_map(|op| wf::symbol_attr(&op.view(), "callee").filter(|c| agents.contains_key(c)).map(|c| (op, c)))
                .map(|(op, c)| (op, c, annotations))
                .collect();
            work.extend(nested.into_iter().rev());
            inlined.insert(callee_name);
        }
    }
    // The roots hold no agent call any more; the other agents all go unless something that
    // is not an agent (a symbol use outside calls of agents) still names them.
    let kept = |function: &Op| {
        ir::symbol_name(*function).is_none_or(|n| !agents.contains_key(&n) || roots.contains(&n.as_str()))
    };
    let referenced: BTreeSet<String> = ir::module_ops(module)
        .into_iter()
        .filter(kept)
        .flat_map(Op::nested_ops)
        .filter_map(|op| wf::symbol_attr(&op.view(), "callee"))
        .collect();
    let has_main = agents.contains_key("main");
    for (name, agent) in &agents {
        if name != "main" && (has_main || inlined.contains(name)) && !referenced.contains(name) {
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

/// A sub-agent's `@objective` / `@sla` as attributes of its function (`workflow.objective`,
/// `workflow.sla_ms`), either absent.
#[derive(Clone, Copy, Default)]
struct Annotations<'c> {
    objective: Option<melior::ir::Attribute<'c>>,
    sla: Option<melior::ir::Attribute<'c>>,
}

impl<'c> Annotations<'c> {
    fn of(agent: Op) -> Self {
        Annotations { objective: agent.attribute(wf::OBJECTIVE_ATTR), sla: agent.attribute(wf::SLA_ATTR) }
    }

    /// These, each falling back to the enclosing agent's.
    fn or(self, outer: Self) -> Self {
        Annotations { objective: self.objective.or(outer.objective), sla: self.sla.or(outer.sla) }
    }

    /// Puts them on the inlined ops that become fragments, unless one carries its own.
    fn apply(&self, inlined: &[Op]) {
        for (name, value) in [(wf::OBJECTIVE_ATTR, self.objective), (wf::SLA_ATTR, self.sla)] {
            let Some(value) = value else { continue };
            for &op in inlined {
                for op in std::iter::once(op).chain(op.nested_ops()) {
                    if is_placed_work(op) && !op.has_attribute(name) {
                        op.set_attribute(name, value);
                    }
                }
            }
        }
    }
}

/// Replaces `call` by a copy of `callee`'s body; returns the ops moved in.
fn inline_call(call: Op, callee: Op, annotations: &Annotations) -> Result<Vec<Op>, PassFailed> {
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
    annotations.apply(rest);
    for (result, returned) in call.results().into_iter().zip(terminator.operands()) {
        result.replace_all_uses_with(returned);
    }
    let moved = rest.to_vec();
    call.erase();
    copy.erase();
    Ok(moved)
}
