//! The purity table: which ops may be removed when their results are unused, or folded.
//!
//! Pure: constants, arithmetic, text and list built-ins, greedy `generate` (deterministic),
//! `embed`, tensor ops, calls of tensor functions, and structured control (`if`, loops,
//! `map`, `try`) whose bodies are pure. Effects: tool calls (and exec/http inside tools), sampled `generate` (it draws
//! from the run's random stream), `workflow.div`/`rem`/`list_get`/`parse_*`/`argmax`/`json_parse`
//! (they can fail at run time, and a failure is observable), and calls of agents whose
//! bodies have effects.

use agentc_dialects::workflow as wf;

use crate::ir::Op;

/// Ops whose only effect is their result and that never fail at run time.
const PURE: &[&str] = &[
    wf::TEXT_CONSTANT,
    wf::LIST_LITERAL,
    wf::LIST_LEN,
    wf::LIST_APPEND,
    wf::CONCAT,
    wf::TEXT_EQ,
    wf::LINES,
    wf::SPLIT,
    wf::JOIN,
    wf::CONTAINS,
    wf::STARTS_WITH,
    wf::TEXT_LEN,
    wf::TRIM,
    wf::TO_TEXT,
    wf::EMBED,
    wf::URL_TEMPLATE,
    wf::JSON_OBJECT,
    wf::FIELD_VALUE,
    wf::RECORD_NEW,
    wf::RECORD_GET,
    wf::TO_JSON,
    "tensor.from_elements",
    "tensor.extract",
    "tensor.cast",
];

/// Whether `op` alone (not looking into regions or callees) has no effect and cannot fail.
pub fn is_pure_leaf(op: Op) -> bool {
    let name = op.name();
    if PURE.contains(&name.as_str()) || name.starts_with("arith.") || name.starts_with("math.") || name.starts_with("tgraph.") {
        return true;
    }
    if name == wf::GENERATE {
        return wf::float_attr(&op.view(), "temperature").unwrap_or(1.0) == 0.0;
    }
    false
}

/// Whether removing `op` (with its regions) changes nothing but its results. `callee_pure`
/// answers for `func.call` targets.
pub fn is_removable(op: Op, callee_pure: &dyn Fn(&str) -> bool) -> bool {
    let name = op.name();
    match name.as_str() {
        "scf.if" | "scf.for" | "scf.while" | "scf.execute_region" => op.nested_ops().iter().all(|inner| {
            let inner_name = inner.name();
            matches!(inner_name.as_str(), "scf.yield" | "scf.condition") || is_removable(*inner, callee_pure)
        }),
        "func.call" => wf::symbol_attr(&op.view(), "callee").is_some_and(|c| callee_pure(&c)),
        _ => is_pure_leaf(op),
    }
}
