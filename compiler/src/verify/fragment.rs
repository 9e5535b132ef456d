//! Semantic rules of the fragment level.

use std::collections::BTreeMap;

use agentc_dialects::{fragment as fr, workflow as wf};

use crate::ir::{self, Op};

/// Verifies the fragment ops of `module`; returns the number of errors emitted.
pub fn verify(module: Op) -> usize {
    let mut errors = 0;
    let mut report = |op: Op, message: String| {
        op.emit_error(&message);
        errors += 1;
    };
    let mut model_kinds: BTreeMap<String, String> = BTreeMap::new();
    let mut tools: BTreeMap<String, usize> = BTreeMap::new();
    let top = ir::module_ops(module);
    for op in &top {
        if op.name() == wf::MODEL {
            model_kinds.insert(ir::symbol_name(*op).unwrap_or_default(), wf::string_attr(&op.view(), "kind").unwrap_or_default());
        } else if op.name() == "func.func" && op.has_attribute(wf::TOOL_ATTR) {
            let params = op.region_entry(0).map(|b| b.arguments().len()).unwrap_or(0);
            tools.insert(ir::symbol_name(*op).unwrap_or_default(), params);
        }
    }
    for op in top.iter().flat_map(|f| f.nested_ops()) {
        let name = op.name();
        match name.as_str() {
            fr::PREFILL | fr::DECODE | fr::ENCODE => {
                let symbol = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
                let want = if name == fr::ENCODE { "encoder" } else { "decoder" };
                match model_kinds.get(&symbol) {
                    None => report(op, format!("`@{symbol}` does not name a workflow.model")),
                    Some(kind) if kind != want => {
                        report(op, format!("`{name}` needs {} model, but model `{symbol}` is {} model", with_article(want), with_article(kind)))
                    }
                    _ => {}
                }
                if name == fr::DECODE {
                    let producer = op.operand(0).defining_op().map(|p| p.name());
                    if !matches!(producer.as_deref(), Some(fr::PREFILL) | Some(fr::KV_TRANSFER)) {
                        report(op, "a decode's KV cache must come from a prefill or a kv_transfer".into());
                    }
                }
                if name == fr::PREFILL && op.result(0).users().len() != 1 {
                    report(op, "a prefill's KV cache must be used by exactly one decode or kv_transfer".into());
                }
            }
            fr::KV_TRANSFER => {
                let from = wf::string_attr(&op.view(), "from").unwrap_or_default();
                let to = wf::string_attr(&op.view(), "to").unwrap_or_default();
                if from == to {
                    report(op, format!("a kv_transfer from `{from}` to itself moves nothing"));
                }
                if wf::int_attr(&op.view(), "bytes").unwrap_or(-1) < 0 {
                    report(op, "a kv_transfer needs a non-negative `bytes`".into());
                }
            }
            fr::TOOL => {
                let callee = wf::symbol_attr(&op.view(), "callee").unwrap_or_default();
                match tools.get(&callee) {
                    None => report(op, format!("`@{callee}` does not name a tool function")),
                    Some(&params) if params != op.operand_count() => report(
                        op,
                        format!("tool `{callee}` takes {params} arguments but {} were given", op.operand_count()),
                    ),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    errors
}

/// `an encoder`, `a decoder`.
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}
