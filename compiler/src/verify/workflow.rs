//! Semantic rules of the workflow level (the tgraph rules are in `tensor.rs`).

use std::collections::{BTreeMap, BTreeSet};

use agentc_dialects::workflow as wf;
use agentc_runtime::builtins::format_placeholders;

use crate::ir::{self, Op};

/// What the verifier knows about a `workflow.model`.
struct ModelInfo {
    kind: String,
    hidden_size: i64,
}

/// Verifies `module`; returns the number of errors emitted.
pub fn verify(module: Op) -> usize {
    let mut errors = 0;
    let mut report = |op: Op, message: String| {
        op.emit_error(&message);
        errors += 1;
    };
    let mut models: BTreeMap<String, ModelInfo> = BTreeMap::new();
    let mut functions: BTreeMap<String, Op> = BTreeMap::new();
    for op in ir::module_ops(module) {
        let name = op.name();
        if name == wf::MODEL {
            let symbol = ir::symbol_name(op).unwrap_or_default();
            let kind = wf::string_attr(&op.view(), "kind").unwrap_or_default();
            if !matches!(kind.as_str(), "decoder" | "encoder" | "unknown") {
                report(op, format!("model `{symbol}` has kind `{kind}`; expected \"decoder\", \"encoder\" or \"unknown\""));
            }
            // `workflow.activations` (discardable, dialects/workflow/README.md): only "int8",
            // on a decoder; another value would be ignored by the tensor level, not refused.
            if let Some(attr) = op.attribute(wf::ACTIVATIONS) {
                match wf::string_attr(&op.view(), wf::ACTIVATIONS) {
                    Some(value) if value == "int8" => {
                        if kind == "encoder" {
                            report(op, format!("model `{symbol}` is an encoder; `{}` is for a decoder's quantised weights", wf::ACTIVATIONS));
                        }
                    }
                    _ => report(op, format!("model `{symbol}` has `{} = {attr}`; expected \"int8\"", wf::ACTIVATIONS)),
                }
            }
            let hidden_size = wf::int_attr(&op.view(), "hidden_size").unwrap_or(0);
            if models.insert(symbol.clone(), ModelInfo { kind, hidden_size }).is_some() {
                report(op, format!("duplicate model `{symbol}`"));
            }
        } else if name == "func.func" {
            if let Some(symbol) = ir::symbol_name(op) {
                functions.insert(symbol, op);
            }
        }
    }
    let mut calls: BTreeMap<String, Vec<(String, Op)>> = BTreeMap::new();
    let all_ops: Vec<Op> = functions.values().flat_map(|f| f.nested_ops()).collect();
    super::records::verify(&all_ops, &mut report);
    for (function_name, &function) in &functions {
        let is_tool = function.has_attribute(wf::TOOL_ATTR);
        // Agents and tools are what the runtime interprets: the language's bounds hold there.
        let interpreted = is_tool || function.has_attribute(wf::AGENT_ATTR);
        if function_name == "main" && function.has_attribute(wf::AGENT_ATTR) && let Some(message) = main_signature_problem(function) {
            report(function, message);
        }
        for op in function.nested_ops() {
            let name = op.name();
            match name.as_str() {
                wf::CHAT_PROMPT => {
                    let symbol = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
                    match models.get(&symbol) {
                        None => report(op, format!("`@{symbol}` does not name a workflow.model")),
                        Some(model) if model.kind == "encoder" => {
                            report(op, format!("`chat` needs a decoder, but model `{symbol}` is an encoder"))
                        }
                        Some(_) => {
                            let template = agentc_runtime::chat::ChatTemplate {
                                template: wf::string_attr(&op.view(), "template").unwrap_or_default(),
                                bos_token: String::new(),
                                eos_token: String::new(),
                            };
                            if let Err(reason) = template.check() {
                                report(op, format!("the chat template of `@{symbol}` does not parse: {reason}"));
                            }
                        }
                    }
                }
                wf::GENERATE | wf::EMBED => {
                    let symbol = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
                    let Some(model) = models.get(&symbol) else {
                        report(op, format!("`@{symbol}` does not name a workflow.model"));
                        continue;
                    };
                    if name == wf::GENERATE {
                        if model.kind == "encoder" {
                            report(op, format!("`generate` needs a decoder, but model `{symbol}` is an encoder"));
                        }
                        if wf::int_attr(&op.view(), "max_tokens").unwrap_or(0) <= 0 {
                            report(op, "max_tokens must be positive".into());
                        }
                        let temperature = wf::float_attr(&op.view(), "temperature").unwrap_or(0.0);
                        if !(temperature >= 0.0 && temperature.is_finite()) {
                            report(op, format!("temperature must be a finite number ≥ 0, not {temperature}"));
                        }
                        if let Some(message) = check_sampling(op) {
                            report(op, message);
                        }
                        let prompt = op.operand(0).defining_op();
                        let chat_prompt = prompt.filter(|p| p.name() == wf::CHAT_PROMPT);
                        match (op.has_attribute(wf::CHAT_ATTR), chat_prompt) {
                            (true, Some(p)) if wf::symbol_attr(&p.view(), "model").as_deref() != Some(symbol.as_str()) => {
                                report(op, format!("a `chat` generate of `@{symbol}` needs the prompt of `@{symbol}`'s chat template"));
                            }
                            (true, None) => report(op, "a `chat` generate's prompt must be a workflow.chat_prompt".into()),
                            (false, Some(_)) => report(op, "a workflow.chat_prompt is the prompt of a `chat` generate only".into()),
                            _ => {}
                        }
                    } else {
                        if model.kind == "decoder" {
                            report(op, format!("`embed` needs an encoder, but model `{symbol}` is a decoder"));
                        }
                        if let Some(message) = check_embedding_type(op, model.hidden_size) {
                            report(op, message);
                        }
                    }
                    let device = wf::string_attr(&op.view(), "device").unwrap_or_default();
                    if !(device.is_empty() || device == "cpu" || device == "gpu" || device.starts_with("name:")) {
                        report(op, format!("device pin `{device}` is neither a device kind (cpu, gpu) nor `name:DEVICE`"));
                    }
                }
                wf::TOOL_CALL => {
                    let symbol = wf::symbol_attr(&op.view(), "callee").unwrap_or_default();
                    match functions.get(&symbol) {
                        Some(tool) if tool.has_attribute(wf::TOOL_ATTR) => {
                            let params = tool.region_entry(0).map(|b| b.arguments().len()).unwrap_or(0);
                            if params != op.operand_count() {
                                report(op, format!("tool `{symbol}` takes {params} arguments but {} were given", op.operand_count()));
                            }
                        }
                        _ => report(op, format!("`@{symbol}` does not name a tool function")),
                    }
                }
                wf::EXEC | wf::HTTP | wf::URL_TEMPLATE | wf::JSON_OBJECT if !is_tool => {
                    report(op, format!("`{name}` may only appear inside a tool function"));
                }
                wf::FORMAT => {
                    if let Some(template) = op.operand(0).defining_op().filter(|d| d.name() == wf::TEXT_CONSTANT) {
                        let text = wf::string_attr(&template.view(), "value").unwrap_or_default();
                        let placeholders = format_placeholders(&text);
                        if placeholders != op.operand_count() - 1 {
                            report(op, format!("format has {placeholders} `{{}}` but {} arguments", op.operand_count() - 1));
                        }
                    }
                }
                "func.call" => {
                    let callee = wf::symbol_attr(&op.view(), "callee").unwrap_or_default();
                    calls.entry(function_name.clone()).or_default().push((callee, op));
                }
                "scf.while" if interpreted => match wf::int_attr(&op.view(), wf::MAX_ITERATIONS_ATTR) {
                    Some(max) if max >= 1 => {}
                    Some(max) => report(op, format!("`{}` is {max}; a loop runs at most a positive number of times", wf::MAX_ITERATIONS_ATTR)),
                    None => report(op, format!("an agent's `scf.while` needs a positive `{}` (every loop is bounded)", wf::MAX_ITERATIONS_ATTR)),
                },
                "scf.for" if interpreted => {
                    if let Some(message) = for_bounds_problem(op) {
                        report(op, message);
                    }
                    if let Some(message) = max_parallel_problem(op) {
                        report(op, message);
                    }
                }
                "scf.execute_region" if interpreted => {
                    if let Some(message) = try_shape_problem(op) {
                        report(op, message);
                    }
                }
                _ => {}
            }
        }
    }
    // Agents (and fns) must form a DAG: the runtime and the inliner rely on it.
    for (from, cycle_call) in find_cycles(&calls) {
        report(cycle_call, format!("recursion: `{from}` calls itself through this call"));
    }
    errors
}

/// Why `main`'s signature is not the language's (`agent main()` or
/// `agent main(args: list<text>)`, returning `text`), if it is not.
fn main_signature_problem(main: Op) -> Option<String> {
    let signature = main.attribute("function_type").map(|t| t.to_string()).unwrap_or_default();
    let allowed = ["() -> !workflow.text", "(!workflow.list<!workflow.text>) -> !workflow.text"];
    (!allowed.contains(&signature.as_str())).then(|| {
        format!("`main` has type `{signature}`; it must take no parameters or one `!workflow.list<!workflow.text>` and return `!workflow.text`")
    })
}

/// Why a `workflow.max_parallel` on an `scf.for` is not one the runtime honours, if it is
/// not: it belongs on a map (`workflow.parallel`) and is an integer from 1 to the plan's
/// bound (the language's `@max_parallel(N)`).
fn max_parallel_problem(op: Op) -> Option<String> {
    use agentc_runtime::plan::MAX_PARALLEL;
    op.attribute(wf::MAX_PARALLEL_ATTR)?;
    let value = wf::int_attr(&op.view(), wf::MAX_PARALLEL_ATTR);
    let in_range = value.is_some_and(|n| n >= 1 && n as u64 <= MAX_PARALLEL);
    if !op.has_attribute(wf::PARALLEL_ATTR) {
        return Some(format!("`{}` belongs on a map's `scf.for` (marked `{}`)", wf::MAX_PARALLEL_ATTR, wf::PARALLEL_ATTR));
    }
    (!in_range).then(|| format!("`{}` must be an integer from 1 to {MAX_PARALLEL}", wf::MAX_PARALLEL_ATTR))
}

/// What is wrong with an agent's `scf.execute_region`, which the runtime runs only as a
/// `try`: marked `workflow.try`, its body block without arguments, then one catch block
/// taking the error message (`!workflow.text`).
fn try_shape_problem(op: Op) -> Option<String> {
    if !op.has_attribute(wf::TRY_ATTR) {
        return Some(format!("an agent's `scf.execute_region` must be a `try` (marked `{}`)", wf::TRY_ATTR));
    }
    let blocks = op.region_blocks(0);
    let catch_takes_text = |b: &crate::ir::Blk| {
        let args = b.arguments();
        args.len() == 1 && args[0].ty().to_string() == "!workflow.text"
    };
    match blocks.as_slice() {
        [body, catch] if body.arguments().is_empty() && catch_takes_text(catch) => None,
        _ => Some("a `try` has two blocks: the body (no arguments), then the catch arm `^catch(%error: !workflow.text)`".into()),
    }
}

/// Why an agent's `scf.for` could iterate without the language's bound, if it could: a
/// `map` runs from a constant ≥ 0 in constant steps ≥ 1 up to a list's length, or up to a
/// constant of at most `MAX_CONSTANT_TRIPS` once folding has replaced the length.
fn for_bounds_problem(op: Op) -> Option<String> {
    use agentc_runtime::plan::MAX_CONSTANT_TRIPS;
    let constant = |index: usize| {
        (index < op.operand_count())
            .then(|| op.operand(index).defining_op())
            .flatten()
            .filter(|d| d.name() == "arith.constant")
            .and_then(|d| wf::int_attr(&d.view(), "value"))
    };
    if !constant(0).is_some_and(|lb| lb >= 0) {
        return Some("the lower bound of an agent's `scf.for` must be a constant ≥ 0".into());
    }
    if !constant(2).is_some_and(|step| step >= 1) {
        return Some("the step of an agent's `scf.for` must be a constant ≥ 1".into());
    }
    let from_list = op.operand(1).defining_op().is_some_and(|d| d.name() == wf::LIST_LEN);
    if from_list || constant(1).is_some_and(|ub| ub <= MAX_CONSTANT_TRIPS) {
        return None;
    }
    Some(format!(
        "the upper bound of an agent's `scf.for` must be a list's `workflow.list_len` or a constant of at most {MAX_CONSTANT_TRIPS} (every iteration is bounded)"
    ))
}

/// Calls that close a cycle, found by depth-first search in name order (deterministic).
fn find_cycles(calls: &BTreeMap<String, Vec<(String, Op)>>) -> Vec<(String, Op)> {
    fn visit(
        node: &str,
        calls: &BTreeMap<String, Vec<(String, Op)>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<(String, Op)>,
    ) {
        if done.contains(node) {
            return;
        }
        stack.push(node.to_string());
        for (callee, op) in calls.get(node).into_iter().flatten() {
            if stack.iter().any(|s| s == callee) {
                found.push((callee.clone(), *op));
            } else {
                visit(callee, calls, stack, done, found);
            }
        }
        stack.pop();
        done.insert(node.to_string());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in calls.keys() {
        visit(node, calls, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

fn check_embedding_type(op: Op, hidden_size: i64) -> Option<String> {
    let ty = op.result(0).ty();
    match super::tensor::shape_of(ty).map(|s| (s.dims, s.elem)) {
        Some((dims, elem)) if dims.len() == 1 && elem == "f32" => match dims[0] {
            Some(size) if hidden_size > 0 && size != hidden_size => {
                Some(format!("embed result `{ty}` does not match the model's hidden size {hidden_size}"))
            }
            _ => None,
        },
        _ => Some(format!("embed must return a 1-D tensor of f32, not `{ty}`")),
    }
}

/// Why a `workflow.generate`'s sampling attributes are out of range, if they are (the same
/// ranges the front end checks and the runtime's plan loader checks again), or its
/// `json_schema` is not a schema of the supported subset.
fn check_sampling(op: Op) -> Option<String> {
    let view = op.view();
    let float = |name: &str| wf::float_attr(&view, name);
    let int = |name: &str| wf::int_attr(&view, name);
    let sampling = agentc_runtime::sampling::Sampling {
        top_k: match int("top_k") {
            Some(k) if k < 1 => return Some(format!("top_k must be ≥ 1, not {k}")),
            k => k.map(|k| k as usize),
        },
        top_p: float("top_p"),
        min_p: float("min_p"),
        repetition_penalty: float("repetition_penalty"),
        seed: match int("seed") {
            Some(seed) if seed < 0 => return Some(format!("seed must be ≥ 0, not {seed}")),
            seed => seed.map(|seed| seed as u64),
        },
    };
    if let Some(attr) = op.attribute("json_schema") {
        let Some(schema) = wf::string_attr(&view, "json_schema") else {
            return Some(format!("json_schema must be a string attribute, not {attr}"));
        };
        if let Err(e) = agentc_runtime::grammar::Grammar::parse(&schema) {
            return Some(format!("json_schema: {e}"));
        }
    }
    sampling.check().err()
}
