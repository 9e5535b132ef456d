//! `convert-workflow-to-fragment`: the planner. Splits every node of the workflow into
//! schedulable fragments with resource profiles.
//!
//! Input: workflow IR (normally after `workflow-inline-agents`, so `main` holds the whole
//! graph). Output: fragment IR: a decoder's `workflow.generate` becomes `fragment.prefill`
//! (compute-bound) and `fragment.decode` (bandwidth-bound); `workflow.embed` becomes
//! `fragment.encode`; `workflow.tool_call` becomes `fragment.tool`; calls of tensor
//! functions and the text built-ins stay and are marked `fragment.kind = "compute"` /
//! `"host"`. Every fragment gets `fragment.flops`, `bytes_read`, `bytes_written`,
//! `working_bytes`, `tokens`, `fixed_seconds` and `weight` (expected executions per
//! request); loops get `fragment.trip_count`, ifs `fragment.branch_weights`; models get
//! `fragment.weight_bytes`, `kv_bytes_per_token` and `allreduce_bytes_per_token`. Profiles
//! come from config.json alone (planner/model_spec.rs); prompt lengths from the tokenizer
//! where the text is known (planner/tokens.rs). The formulas and defaults are in
//! docs/cost-model.md.

use std::collections::BTreeMap;

use agentc_dialects::{fragment as fr, workflow as wf};
use melior::ir::attribute::{ArrayAttribute, FloatAttribute, StringAttribute};
use melior::ir::{Attribute, Type};
use melior::ir::r#type::TypeLike;

use crate::ir::{self, Op, Val};
use crate::passes::{PassContext, PassFailed};
use crate::planner::model_spec::ModelSpec;
use crate::planner::tokens::{TokenCounter, TokenEstimator, DEFAULT_LIST_LENGTH};

/// Expected iterations of a `map` without `@expect`.
pub const DEFAULT_MAP_ITERATIONS: f64 = DEFAULT_LIST_LENGTH;
/// Probability of the then branch of an `if` without `@likely` / `@unlikely`.
pub const DEFAULT_THEN_PROBABILITY: f64 = 0.5;
/// Probability of the then branch of an `@likely` if (and of the else branch of `@unlikely`).
pub const LIKELY_PROBABILITY: f64 = 0.9;
/// Probability of the else branch of an `@likely` if (written out so it prints exactly).
pub const UNLIKELY_PROBABILITY: f64 = 0.1;
/// Seconds an exec tool is expected to take.
pub const EXEC_TOOL_SECONDS: f64 = 0.05;
/// Seconds an http tool is expected to take.
pub const HTTP_TOOL_SECONDS: f64 = 0.2;
/// Seconds a host built-in is expected to take.
pub const HOST_SECONDS: f64 = 1e-6;

struct Model {
    spec: ModelSpec,
    counter: TokenCounter,
    max_seq_length: Option<f64>,
}

/// Runs the conversion on a module.
pub fn convert_workflow_to_fragment(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    let mut models = BTreeMap::new();
    let mut failed = false;
    for op in ir::module_ops(module).into_iter().filter(|op| op.name() == wf::MODEL) {
        let name = ir::symbol_name(op).unwrap_or_default();
        let path = context.base_dir.join(wf::string_attr(&op.view(), "path").unwrap_or_default());
        let dtype = wf::string_attr(&op.view(), "dtype").filter(|d| !d.is_empty());
        match ModelSpec::load(&path, dtype.as_deref()) {
            Ok(spec) => {
                op.set_i64(fr::MODEL_WEIGHT_BYTES_ATTR, spec.weight_bytes());
                op.set_i64(fr::MODEL_KV_BYTES_PER_TOKEN_ATTR, spec.kv_bytes_per_token());
                op.set_i64(fr::MODEL_ALLREDUCE_BYTES_PER_TOKEN_ATTR, spec.allreduce_bytes_per_token());
                op.set_i64(fr::MODEL_LAYERS_ATTR, spec.layers);
                for (attr, weights) in [(fr::MODEL_INT8_WEIGHTS_ATTR, spec.int8_weights), (fr::MODEL_INT4_WEIGHTS_ATTR, spec.int4_weights)] {
                    if weights > 0.0 {
                        op.set_i64(attr, weights);
                    }
                }
                op.set_attribute(fr::MODEL_DTYPE_ATTR, string(op, spec.dtype_name()));
                let max_seq_length = std::fs::read_to_string(path.join("sentence_bert_config.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .and_then(|j| j["max_seq_length"].as_f64());
                models.insert(name, Model { spec, counter: TokenCounter::for_model(&path), max_seq_length });
            }
            Err(error) => {
                op.emit_error(&format!("cannot plan model `{name}`: {}", error.0));
                failed = true;
            }
        }
    }
    if failed {
        return Err(PassFailed);
    }
    let functions: BTreeMap<String, Op> = ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func")
        .filter_map(|op| ir::symbol_name(op).map(|n| (n, op)))
        .collect();
    for function in functions.values().filter(|f| f.has_attribute(wf::AGENT_ATTR)) {
        annotate_control(*function);
        for op in function.nested_ops() {
            let weight = expected_executions(op, *function);
            convert_op(op, weight, &models, &functions)?;
        }
    }
    Ok(())
}

/// Marks loops with trip counts and ifs with branch weights.
fn annotate_control(function: Op) {
    let context_ref = function.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    for op in function.nested_ops() {
        match op.name().as_str() {
            "scf.while" | "scf.for" => {
                let trip = wf::int_attr(&op.view(), wf::EXPECTED_ITERATIONS_ATTR)
                    .or_else(|| wf::int_attr(&op.view(), wf::MAX_ITERATIONS_ATTR))
                    .map_or(DEFAULT_MAP_ITERATIONS, |n| n as f64);
                op.set_f64(fr::TRIP_COUNT_ATTR, trip);
            }
            "scf.if" | "scf.execute_region" => {
                // A `try` is an `if` whose catch arm is unlikely: [body succeeds, body fails].
                let is_try = op.has_attribute(wf::TRY_ATTR);
                let (then, otherwise) = match op.attribute(wf::LIKELY_ATTR).and_then(|a| melior::ir::attribute::BoolAttribute::try_from(a).ok()) {
                    _ if is_try => (LIKELY_PROBABILITY, UNLIKELY_PROBABILITY),
                    Some(likely) if likely.value() => (LIKELY_PROBABILITY, UNLIKELY_PROBABILITY),
                    Some(_) => (UNLIKELY_PROBABILITY, LIKELY_PROBABILITY),
                    None => (DEFAULT_THEN_PROBABILITY, DEFAULT_THEN_PROBABILITY),
                };
                let f64t = Type::float64(context);
                let weights = ArrayAttribute::new(
                    context,
                    &[FloatAttribute::new(context, f64t, then).into(), FloatAttribute::new(context, f64t, otherwise).into()],
                );
                op.set_attribute(fr::BRANCH_WEIGHTS_ATTR, weights.into());
            }
            _ => {}
        }
    }
}

/// Expected executions of `op` per call of `function`: the product of the trip counts of
/// the loops around it and the probabilities of the branches it sits in.
pub fn expected_executions(op: Op, function: Op) -> f64 {
    let mut weight = 1.0;
    let mut current = op;
    while let Some(parent) = current.parent() {
        if parent == function {
            break;
        }
        match parent.name().as_str() {
            "scf.while" | "scf.for" => {
                // The before-region of a while runs once more than the body; ignore that.
                weight *= parent.f64_attr(fr::TRIP_COUNT_ATTR).unwrap_or(1.0);
            }
            "scf.if" => {
                let region = current.block().and_then(|b| parent.region_index_of(b));
                weight *= branch_probability(parent, if region == Some(0) { 0 } else { 1 });
            }
            "scf.execute_region" if in_catch(parent, current) => weight *= branch_probability(parent, 1),
            _ => {}
        }
        current = parent;
    }
    weight
}

/// Whether `op` sits in the catch arm (the second block) of the `try` `parent`, not its body.
pub fn in_catch(parent: Op, op: Op) -> bool {
    parent.has_attribute(wf::TRY_ATTR)
        && match (op.block(), parent.region_entry(0)) {
            (Some(block), Some(body)) => block.0.ptr != body.0.ptr,
            _ => false,
        }
}

/// The probability of branch `index` (0: then, 1: else) of an annotated `scf.if`; of a
/// `try`, 0: the body succeeds, 1: it fails and the catch arm runs.
pub fn branch_probability(op: Op, index: usize) -> f64 {
    op.attribute(fr::BRANCH_WEIGHTS_ATTR)
        .and_then(|a| ArrayAttribute::try_from(a).ok())
        .and_then(|array| array.element(index).ok())
        .and_then(|weight| FloatAttribute::try_from(weight).ok())
        .map_or(DEFAULT_THEN_PROBABILITY, |f| f.value())
}

/// The profile numbers every fragment carries.
#[derive(Default)]
struct Profile {
    flops: f64,
    bytes_read: f64,
    bytes_written: f64,
    working_bytes: f64,
    tokens: f64,
    fixed_seconds: f64,
}

fn set_profile(op: Op, profile: &Profile, weight: f64) {
    op.set_i64(fr::FLOPS_ATTR, profile.flops);
    op.set_i64(fr::BYTES_READ_ATTR, profile.bytes_read);
    op.set_i64(fr::BYTES_WRITTEN_ATTR, profile.bytes_written);
    op.set_i64(fr::WORKING_BYTES_ATTR, profile.working_bytes);
    op.set_i64(fr::TOKENS_ATTR, profile.tokens);
    op.set_f64(fr::FIXED_SECONDS_ATTR, profile.fixed_seconds);
    op.set_f64(fr::WEIGHT_ATTR, weight);
}

fn convert_op(op: Op, weight: f64, models: &BTreeMap<String, Model>, functions: &BTreeMap<String, Op>) -> Result<(), PassFailed> {
    let name = op.name();
    match name.as_str() {
        wf::GENERATE => convert_generate(op, weight, models),
        wf::EMBED => convert_embed(op, weight, models),
        wf::TOOL_CALL => {
            let callee = wf::symbol_attr(&op.view(), "callee").unwrap_or_default();
            let is_http = functions.get(&callee).is_some_and(|f| f.nested_ops().iter().any(|o| o.name() == wf::HTTP));
            let profile = Profile {
                bytes_written: crate::planner::tokens::DEFAULT_TOOL_OUTPUT_TOKENS * 4.0,
                fixed_seconds: if is_http { HTTP_TOOL_SECONDS } else { EXEC_TOOL_SECONDS },
                ..Profile::default()
            };
            let context_ref = op.context();
            // SAFETY: `context_ref` outlives every use of `context` in this block.
            let context: &melior::Context = unsafe { context_ref.to_ref() };
            let args: Vec<_> = op.operands().iter().map(|v| v.view()).collect();
            let tool = replace_with(op, fr::tool(context, &callee, &args, op.result(0).ty(), op.location()))?;
            set_profile(tool, &profile, weight);
            Ok(())
        }
        "func.call" => {
            let callee = wf::symbol_attr(&op.view(), "callee").unwrap_or_default();
            if let Some(function) = functions.get(&callee).filter(|f| f.has_attribute(wf::FN_ATTR)) {
                let (flops, bytes) = tensor_function_cost(*function);
                let profile = Profile { flops, bytes_read: bytes, bytes_written: bytes / 4.0, ..Profile::default() };
                op.set_attribute(fr::KIND_ATTR, string(op, "compute"));
                set_profile(op, &profile, weight);
            }
            Ok(())
        }
        // Literals are not work: they become data of the plan.
        wf::TEXT_CONSTANT => Ok(()),
        wf::LIST_LITERAL if op.operand_count() == 0 => Ok(()),
        // A field on its way into a record_new: the plan passes the value itself.
        wf::FIELD_VALUE => Ok(()),
        _ if name.starts_with("workflow.") && op.result_count() > 0 && name != wf::MODEL => {
            let profile = Profile { bytes_read: 1024.0, bytes_written: 1024.0, fixed_seconds: HOST_SECONDS, ..Profile::default() };
            op.set_attribute(fr::KIND_ATTR, string(op, "host"));
            set_profile(op, &profile, weight);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn string<'c>(op: Op, value: &str) -> Attribute<'c> {
    let context_ref = op.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    StringAttribute::new(context, value).into()
}

fn model_of<'m>(op: Op, models: &'m BTreeMap<String, Model>) -> Result<(&'m Model, String), PassFailed> {
    let symbol = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
    match models.get(&symbol) {
        Some(model) => Ok((model, symbol)),
        None => {
            op.emit_error(&format!("model `{symbol}` has no plan (no workflow.model with a readable config.json)"));
            Err(PassFailed)
        }
    }
}

fn convert_generate(op: Op, weight: f64, models: &BTreeMap<String, Model>) -> Result<(), PassFailed> {
    let (model, _) = model_of(op, models)?;
    let spec = &model.spec;
    let prompt_tokens = TokenEstimator::new(&model.counter).estimate(op.operand(0)) + model.counter.special_tokens();
    let prompt_tokens = prompt_tokens.min(spec.max_positions);
    // The KV cache has max_position_embeddings slots: no run generates past them (it
    // stops with an error), so neither does the plan (a `max_tokens` of 10^8 is planned as
    // the rest of the context, not as a cache of 10^8 tokens).
    let new_tokens = (wf::int_attr(&op.view(), "max_tokens").unwrap_or(128) as f64).min((spec.max_positions - prompt_tokens).max(1.0));
    let kv = spec.kv_bytes_per_token();
    let context_ref = op.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let model_name = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
    let device = wf::string_attr(&op.view(), "device").unwrap_or_default();
    let prefill = insert(op, fr::prefill(context, op.operand(0).view(), &model_name, &device, op.location()))?;
    // `chat`: the prefill tokenizes without special tokens, the decode stops at the end of turn.
    let chat = op.has_attribute(wf::CHAT_ATTR);
    if chat {
        prefill.set_attribute(wf::CHAT_ATTR, melior::ir::Attribute::unit(context));
    }
    set_profile(
        prefill,
        &Profile {
            flops: spec.prefill_flops(prompt_tokens),
            bytes_read: spec.weight_bytes() + prompt_tokens * spec.hidden * spec.dtype_bytes,
            bytes_written: kv * prompt_tokens,
            working_bytes: kv * prompt_tokens,
            tokens: prompt_tokens,
            fixed_seconds: 0.0,
        },
        weight,
    );
    let (Some(max_tokens), Some(temperature)) = (op.attribute("max_tokens"), op.attribute("temperature")) else {
        op.emit_error("a generate without max_tokens or temperature cannot be planned");
        return Err(PassFailed);
    };
    let options = fr::DecodeOptions { model: &model_name, max_tokens, temperature, device: &device };
    let decode = fr::decode(context, prefill.result(0).view(), op.operand(1).view(), &options, op.result(0).ty(), op.location());
    // The sampling options go to the decode unchanged (only the ones the call gave).
    let sampling: Vec<_> = wf::SAMPLING_ATTRS.iter().filter_map(|&name| op.attribute(name).map(|value| (name, value))).collect();
    let decode = replace_with(op, decode)?;
    for (name, value) in sampling {
        decode.set_attribute(name, value);
    }
    if chat {
        decode.set_attribute(wf::CHAT_ATTR, melior::ir::Attribute::unit(context));
    }
    set_profile(
        decode,
        &Profile {
            flops: spec.decode_flops(prompt_tokens, new_tokens),
            bytes_read: spec.decode_bytes(prompt_tokens, new_tokens),
            bytes_written: kv * new_tokens,
            working_bytes: kv * (prompt_tokens + new_tokens),
            tokens: new_tokens,
            fixed_seconds: 0.0,
        },
        weight,
    );
    Ok(())
}

fn convert_embed(op: Op, weight: f64, models: &BTreeMap<String, Model>) -> Result<(), PassFailed> {
    let (model, _) = model_of(op, models)?;
    let spec = &model.spec;
    let mut tokens = TokenEstimator::new(&model.counter).estimate(op.operand(0)) + model.counter.special_tokens();
    if let Some(limit) = model.max_seq_length {
        tokens = tokens.min(limit);
    }
    let context_ref = op.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let model_name = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
    let device = wf::string_attr(&op.view(), "device").unwrap_or_default();
    let encode = replace_with(op, fr::encode(context, op.operand(0).view(), &model_name, &device, op.result(0).ty(), op.location()))?;
    set_profile(
        encode,
        &Profile {
            flops: spec.encode_flops(tokens),
            bytes_read: spec.weight_bytes() + tokens * spec.hidden * spec.dtype_bytes,
            bytes_written: spec.hidden * 4.0,
            working_bytes: 4.0 * tokens * spec.hidden * spec.dtype_bytes,
            tokens,
            fixed_seconds: 0.0,
        },
        weight,
    );
    Ok(())
}

/// FLOPs and bytes of one call of a tensor function, from its tgraph ops' shapes
/// (dynamic dimensions count as 1).
fn tensor_function_cost(function: Op) -> (f64, f64) {
    let elements = |v: Val| -> f64 {
        let ty = v.ty();
        unsafe {
            let raw = ty.to_raw();
            if !mlir_sys::mlirTypeIsARankedTensor(raw) {
                return 1.0;
            }
            let rank = mlir_sys::mlirShapedTypeGetRank(raw) as isize;
            (0..rank)
                .map(|i| if mlir_sys::mlirShapedTypeIsDynamicDim(raw, i) { 1.0 } else { mlir_sys::mlirShapedTypeGetDimSize(raw, i) as f64 })
                .product()
        }
    };
    let mut flops = 0.0;
    let mut bytes = 0.0;
    for op in function.nested_ops() {
        let name = op.name();
        if !name.starts_with("tgraph.") {
            continue;
        }
        let output = elements(op.result(0));
        let input = elements(op.operand(0));
        flops += match name.as_str() {
            "tgraph.matmul" => {
                let k = input / output.max(1.0) * elements(op.operand(1)).sqrt().max(1.0);
                2.0 * output * k.max(1.0)
            }
            "tgraph.softmax" => 5.0 * input,
            "tgraph.norm" => 2.0 * input,
            "tgraph.reshape" | "tgraph.transpose" => 0.0,
            _ => input.max(output),
        };
        bytes += 4.0 * (op.operands().into_iter().map(elements).sum::<f64>() + output);
    }
    (flops, bytes)
}

/// Inserts a built op before `at`; returns it. It keeps `at`'s `workflow.objective` /
/// `workflow.sla_ms` (an inlined sub-agent's annotations): the scheduler places the
/// fragment for that objective.
fn insert(at: Op, op: Result<melior::ir::Operation, melior::Error>) -> Result<Op, PassFailed> {
    let Ok(op) = op else {
        at.emit_error("internal error: cannot build the fragment op");
        return Err(PassFailed);
    };
    let raw = op.into_raw();
    let block = at.block().ok_or(PassFailed)?;
    unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, at.0, raw) };
    let new = Op(raw);
    for name in [wf::OBJECTIVE_ATTR, wf::SLA_ATTR] {
        if let Some(value) = at.attribute(name) {
            new.set_attribute(name, value);
        }
    }
    Ok(new)
}

/// Replaces `at` by a built op with the same results; returns it.
fn replace_with(at: Op, op: Result<melior::ir::Operation, melior::Error>) -> Result<Op, PassFailed> {
    let new = insert(at, op)?;
    for (old, new) in at.results().into_iter().zip(new.results()) {
        old.replace_all_uses_with(new);
    }
    at.erase();
    Ok(new)
}
