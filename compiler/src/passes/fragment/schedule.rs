//! `fragment-schedule`: places every fragment on a device of the target.
//!
//! Input: fragment IR (after `convert-workflow-to-fragment`) with a `main` agent. The pass
//! builds the request's fragment graph from `main` (fragments are the fragment ops and the
//! ops marked `fragment.kind`; edges follow SSA values through non-fragment ops and into
//! and out of structured control), hands it to the scheduler (`agentc-scheduler`: HEFT
//! with insertion, then an improvement phase for the objective under the SLA), and writes
//! the result back: `fragment.device`, `fragment.start`, `fragment.finish`,
//! `fragment.cost` on every fragment, a `fragment.kv_transfer` where a prefill and its
//! decode landed on different devices, and the totals on `main`. A pin that cannot be
//! met, or a model that fits nowhere, is an error at its source location.
//!
//! Objective and SLA come from `main`'s `@objective` / `@sla` unless the command line
//! overrides them; the target from `--target` (default: the `host` preset). A fragment
//! with its own `workflow.objective` (an inlined sub-agent's `@objective`) is placed for
//! that objective first, still under the program's SLA (`agentc_scheduler::improve`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use agentc_dialects::{fragment as fr, workflow as wf};
use agentc_scheduler::{
    self as sched, Branch, Dtype, Edge, Fragment, FragmentKind, ModelNeeds, Objective, Options, Pin, Profile, Schedule,
    ScheduleError, Target, Workload,
};
use melior::ir::attribute::StringAttribute;

use crate::conversion::workflow_to_fragment::{branch_probability, in_catch};
use crate::diagnostics::position_of;
use crate::ir::{self, Op, Val};
use crate::passes::{PassContext, PassFailed};

/// The fragment graph of `main`, with the op behind each fragment.
pub struct Extracted {
    /// What the scheduler sees.
    pub workload: Workload,
    /// `ops[i]` is fragment `i`'s op.
    pub ops: Vec<Op>,
    /// `main`.
    pub main: Op,
    /// `workflow.model` ops by model index.
    pub model_ops: Vec<Op>,
    /// Fragments before `map` expansion: fragment `i < originals` is op `i`'s first copy;
    /// the ones after are further iterations of ops in `map`s ([`expand_maps`]).
    pub originals: usize,
}

/// Runs the pass on a module.
pub fn fragment_schedule(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    schedule_module(module, context).map(|_| ())
}

/// Schedules `module` in place and returns the graph and the schedule (for reports).
pub fn schedule_module(module: Op, context: &PassContext) -> Result<(Extracted, Schedule, Target), PassFailed> {
    remove_kv_transfers(module);
    let extracted = extract(module)?;
    let target_name = context.target.clone().unwrap_or_else(|| "host".to_string());
    let target = match sched::load(&target_name) {
        Ok(target) => target,
        Err(error) => {
            module.emit_error(&format!("cannot use target `{target_name}`: {error}"));
            return Err(PassFailed);
        }
    };
    let options = options_for(extracted.main, context)?;
    let schedule = match sched::schedule(&extracted.workload, &target, &options) {
        Ok(schedule) => schedule,
        Err(error) => {
            report_error(&extracted, &error, &target);
            return Err(PassFailed);
        }
    };
    write_back(&extracted, &schedule, &target, &options);
    Ok((extracted, schedule, target))
}

fn options_for(main: Op, context: &PassContext) -> Result<Options, PassFailed> {
    let objective_text = context.objective.clone().or_else(|| wf::string_attr(&main.view(), wf::OBJECTIVE_ATTR));
    let objective = match objective_text.as_deref() {
        None => Objective::Latency,
        Some(text) => match objective_named(text) {
            Some(objective) => objective,
            None => {
                main.emit_error(&format!("unknown objective `{text}`: use `latency` or `cost`"));
                return Err(PassFailed);
            }
        },
    };
    let sla_seconds = context.sla_seconds.or_else(|| wf::int_attr(&main.view(), wf::SLA_ATTR).map(|ms| ms as f64 / 1000.0));
    Ok(Options { objective, sla_seconds, heft_only: false, sla_basis: context.sla_basis, ..Default::default() })
}

/// The objective an `@objective(...)` names.
fn objective_named(text: &str) -> Option<Objective> {
    match text {
        "latency" => Some(Objective::Latency),
        "cost" => Some(Objective::Cost),
        _ => None,
    }
}

fn report_error(extracted: &Extracted, error: &ScheduleError, target: &Target) {
    let at = match error {
        ScheduleError::PinUnsatisfiable { fragment, .. } | ScheduleError::NoDevice { fragment, .. } | ScheduleError::Cycle { fragment, .. } => {
            extracted.ops.get(*fragment).copied()
        }
        ScheduleError::ModelFitsNowhere { model, .. } => extracted
            .model_ops
            .iter()
            .copied()
            .find(|op| ir::symbol_name(*op).as_deref() == Some(model.as_str())),
        _ => None,
    };
    let message = format!("cannot schedule on target `{}`: {error}", target.name);
    at.unwrap_or(extracted.main).emit_error(&message);
}

/// A previous schedule's kv_transfers go: the new placement decides again.
fn remove_kv_transfers(module: Op) {
    for op in module.nested_ops() {
        if op.name() == fr::KV_TRANSFER {
            op.result(0).replace_all_uses_with(op.operand(0));
            op.erase();
        }
    }
}

/// The fragment kind of `op`, if it is a fragment.
fn kind_of(op: Op) -> Option<FragmentKind> {
    Some(match op.name().as_str() {
        fr::PREFILL => FragmentKind::Prefill,
        fr::DECODE => FragmentKind::Decode,
        fr::ENCODE => FragmentKind::Encode,
        fr::TOOL => FragmentKind::Tool,
        _ => match wf::string_attr(&op.view(), fr::KIND_ATTR).as_deref() {
            Some("host") => FragmentKind::Host,
            Some("compute") => FragmentKind::Compute,
            _ => return None,
        },
    })
}

fn dtype_of(name: &str) -> Dtype {
    match name {
        "bf16" => Dtype::Bf16,
        "f16" => Dtype::F16,
        "fp8" => Dtype::Fp8,
        _ => Dtype::F32,
    }
}

/// Builds the fragment graph of `main`.
pub fn extract(module: Op) -> Result<Extracted, PassFailed> {
    let top = ir::module_ops(module);
    let Some(main) = top.iter().copied().find(|op| op.name() == "func.func" && ir::symbol_name(*op).as_deref() == Some("main")) else {
        module.emit_error("fragment-schedule needs a `main` agent to schedule");
        return Err(PassFailed);
    };
    let mut models = Vec::new();
    let mut model_ops = Vec::new();
    let mut model_index = BTreeMap::new();
    let mut model_dtype = Vec::new();
    for op in top.iter().copied().filter(|op| op.name() == wf::MODEL) {
        let name = ir::symbol_name(op).unwrap_or_default();
        model_index.insert(name.clone(), models.len());
        models.push(ModelNeeds {
            name,
            weight_bytes: op.f64_attr(fr::MODEL_WEIGHT_BYTES_ATTR).unwrap_or(0.0),
            allreduce_bytes_per_token: op.f64_attr(fr::MODEL_ALLREDUCE_BYTES_PER_TOKEN_ATTR).unwrap_or(0.0),
            layers: op.f64_attr(fr::MODEL_LAYERS_ATTR).unwrap_or(0.0) as u32,
            int8_weights: op.f64_attr(fr::MODEL_INT8_WEIGHTS_ATTR).unwrap_or(0.0),
            int4_weights: op.f64_attr(fr::MODEL_INT4_WEIGHTS_ATTR).unwrap_or(0.0),
        });
        model_dtype.push(dtype_of(&wf::string_attr(&op.view(), fr::MODEL_DTYPE_ATTR).unwrap_or_default()));
        model_ops.push(op);
    }
    let mut fragments = Vec::new();
    let mut ops = Vec::new();
    let mut index_of: HashMap<usize, usize> = HashMap::new();
    for op in main.nested_ops() {
        let Some(kind) = kind_of(op) else { continue };
        let model = wf::symbol_attr(&op.view(), "model").and_then(|m| model_index.get(&m).copied());
        let pin_text = match kind {
            FragmentKind::Compute => wf::string_attr(&op.view(), "workflow.device"),
            _ => wf::string_attr(&op.view(), "device"),
        }
        .unwrap_or_default();
        let pin = match pin_text.as_str() {
            "" => None,
            named if named.starts_with("name:") => Some(Pin::Named(named["name:".len()..].to_string())),
            kind => Some(Pin::Kind(kind.to_string())),
        };
        let profile = Profile {
            flops: op.f64_attr(fr::FLOPS_ATTR).unwrap_or(0.0),
            bytes_read: op.f64_attr(fr::BYTES_READ_ATTR).unwrap_or(0.0),
            bytes_written: op.f64_attr(fr::BYTES_WRITTEN_ATTR).unwrap_or(0.0),
            working_bytes: op.f64_attr(fr::WORKING_BYTES_ATTR).unwrap_or(0.0),
            tokens: op.f64_attr(fr::TOKENS_ATTR).unwrap_or(0.0),
            fixed_seconds: op.f64_attr(fr::FIXED_SECONDS_ATTR).unwrap_or(0.0),
            dtype: model.map_or(Dtype::F32, |m| model_dtype[m]),
        };
        // An inlined sub-agent's `@objective` (kept on its fragments by the inliner and
        // the planner): that fragment is placed for it, under the program's SLA.
        let objective = match wf::string_attr(&op.view(), wf::OBJECTIVE_ATTR) {
            None => None,
            Some(text) => Some(objective_named(&text).ok_or_else(|| {
                op.emit_error(&format!("unknown objective `{text}`: use `latency` or `cost`"));
                PassFailed
            })?),
        };
        index_of.insert(op.0.ptr as usize, fragments.len());
        let weight = op.f64_attr(fr::WEIGHT_ATTR).unwrap_or(1.0);
        fragments.push(Fragment { name: fragment_name(op, kind), kind, profile, model, pin, weight, objective });
        ops.push(op);
    }
    let mut edges = BTreeSet::new();
    let mut memo = HashMap::new();
    for (to, op) in ops.iter().enumerate() {
        let mut producers = BTreeSet::new();
        for operand in op.operands() {
            producers.extend(producers_of(operand, &index_of, &mut memo, 0));
        }
        // Control dependencies: a fragment inside an `if` waits for its condition, one
        // inside a `map` for the list's length, one in a `try`'s catch arm for every fragment
        // of the body (the arm runs once the body has failed).
        let mut current = *op;
        while let Some(parent) = current.parent() {
            if parent == main {
                break;
            }
            if in_catch(parent, current)
                && let Some(body) = parent.region_entry(0)
            {
                for inner in body.ops() {
                    producers.extend(std::iter::once(inner).chain(inner.nested_ops()).filter_map(|o| index_of.get(&(o.0.ptr as usize)).copied()));
                }
            }
            let controlling = match parent.name().as_str() {
                "scf.if" => Some(parent.operand(0)),
                "scf.for" => Some(parent.operand(1)),
                _ => None,
            };
            if let Some(value) = controlling {
                producers.extend(producers_of(value, &index_of, &mut memo, 0));
            }
            current = parent;
        }
        for from in producers {
            if from != to {
                edges.insert((from, to));
            }
        }
    }
    let edges = edges
        .into_iter()
        .map(|(from, to)| {
            // A decode's bytes_written is the KV cache it appends, which stays on its device;
            // what flows to its consumers is the generated text (4 bytes per token, as the
            // planner sizes a tool's output).
            let producer = &fragments[from];
            let bytes = match producer.kind {
                FragmentKind::Decode => producer.profile.tokens * 4.0,
                _ => producer.profile.bytes_written,
            };
            Edge { from, to, bytes: bytes.max(1.0) }
        })
        .collect();
    let branches = branches_of(main, &index_of);
    Ok(expand_maps(Extracted { workload: Workload { fragments, edges, models, branches }, ops, main, model_ops, originals: 0 }))
}

/// The most iterations a `map` is expanded into (beyond it, one fragment of weight K).
pub const MAP_EXPANSION_LIMIT: usize = 64;

/// The parallel `map` (`scf.for {workflow.parallel}`) nearest around `op` inside `main`,
/// with its expected iterations when they are a whole number in 2..=[`MAP_EXPANSION_LIMIT`].
fn enclosing_map(op: Op, main: Op) -> Option<(Op, usize)> {
    let mut current = op;
    while let Some(parent) = current.parent() {
        if parent == main {
            return None;
        }
        if parent.name() == "scf.for" && parent.has_attribute("workflow.parallel") {
            let trip = parent.f64_attr(fr::TRIP_COUNT_ATTR)?;
            let k = trip as usize;
            return (trip == k as f64 && (2..=MAP_EXPANSION_LIMIT).contains(&k)).then_some((parent, k));
        }
        current = parent;
    }
    None
}

/// `map` expansion: a fragment inside a parallel `map` of K expected iterations becomes
/// K fragments of weight `weight / K` (named `… [j/K]`), so the scheduler can spread the
/// iterations over devices instead of running one fragment of weight K. Within one map,
/// iteration j's copies depend on each other's copies j only; across the map's boundary,
/// every copy on the producer and the consumer. Copy 0 keeps the fragment's index; the
/// others are appended (`ops` repeats the op), and `originals` is the count before.
fn expand_maps(mut ex: Extracted) -> Extracted {
    let n = ex.workload.fragments.len();
    ex.originals = n;
    let maps: Vec<Option<(Op, usize)>> = ex.ops.iter().map(|&op| enclosing_map(op, ex.main)).collect();
    if maps.iter().all(Option::is_none) {
        return ex;
    }
    let mut copies: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    for i in 0..n {
        let Some((_, k)) = maps[i] else { continue };
        let fragment = &mut ex.workload.fragments[i];
        fragment.weight /= k as f64;
        let base = fragment.name.clone();
        fragment.name = format!("{base} [1/{k}]");
        let template = fragment.clone();
        for j in 1..k {
            let mut copy = template.clone();
            copy.name = format!("{base} [{}/{k}]", j + 1);
            copies[i].push(ex.workload.fragments.len());
            ex.workload.fragments.push(copy);
            ex.ops.push(ex.ops[i]);
        }
    }
    let same_map = |a: usize, b: usize| match (maps[a], maps[b]) {
        (Some((x, _)), Some((y, _))) => x == y,
        _ => false,
    };
    let mut edges = Vec::new();
    for e in &ex.workload.edges {
        if same_map(e.from, e.to) {
            for (&from, &to) in copies[e.from].iter().zip(&copies[e.to]) {
                edges.push(Edge { from, to, bytes: e.bytes });
            }
        } else {
            for &from in &copies[e.from] {
                for &to in &copies[e.to] {
                    edges.push(Edge { from, to, bytes: e.bytes });
                }
            }
        }
    }
    ex.workload.edges = edges;
    for branch in &mut ex.workload.branches {
        for arm in &mut branch.arms {
            *arm = arm.iter().flat_map(|&f| copies[f].iter().copied()).collect();
        }
    }
    ex
}

/// The `scf.if`s and `try`s of `main` (outer ones first) with the fragments of each arm and the arms'
/// probabilities (`fragment.branch_weights`), for the per-path latency of the SLA verdict.
fn branches_of(main: Op, index_of: &HashMap<usize, usize>) -> Vec<Branch> {
    let fragments_in = |op: Op, region: usize| -> Vec<usize> {
        let mut out = Vec::new();
        for block in op.region_blocks(region) {
            for inner in block.ops() {
                out.extend(std::iter::once(inner).chain(inner.nested_ops()).filter_map(|o| index_of.get(&(o.0.ptr as usize)).copied()));
            }
        }
        out
    };
    // A `try` is an `if` whose arms are "the body succeeds" (nothing more runs) and "it
    // fails" (the catch arm runs, after the body).
    let catch_fragments = |op: Op| -> Vec<usize> {
        let blocks = op.region_blocks(0);
        blocks[1.min(blocks.len())..]
            .iter()
            .flat_map(|block| block.ops())
            .flat_map(|inner| std::iter::once(inner).chain(inner.nested_ops()))
            .filter_map(|o| index_of.get(&(o.0.ptr as usize)).copied())
            .collect()
    };
    let is_if = |op: Op| op.name() == "scf.if" && op.region_count() == 2;
    let is_try = |op: Op| op.name() == "scf.execute_region" && op.has_attribute(wf::TRY_ATTR);
    let branches: Vec<Op> = main.nested_ops().into_iter().filter(|&op| is_if(op) || is_try(op)).collect();
    branches
        .iter()
        .enumerate()
        .map(|(index, &op)| {
            if is_try(op) {
                return Branch {
                    name: fragment_name(op, FragmentKind::Host).replace("scf.execute_region", "try"),
                    probabilities: [branch_probability(op, 0), branch_probability(op, 1)],
                    arms: [Vec::new(), catch_fragments(op)],
                    follows: None,
                };
            }
            // The guard lowering puts after an early `return` tests `!c` where an earlier
            // `if` tested `c`: its arm follows that `if`'s (paths.rs).
            let (condition, negated) = condition_of(op);
            let follows = branches[..index]
                .iter()
                .position(|&earlier| is_if(earlier) && condition_of(earlier).0.0.ptr == condition.0.ptr)
                .map(|earlier| (earlier, negated != condition_of(branches[earlier]).1));
            Branch {
                name: fragment_name(op, FragmentKind::Host).replace("scf.if", "if"),
                probabilities: [branch_probability(op, 0), branch_probability(op, 1)],
                arms: [fragments_in(op, 0), fragments_in(op, 1)],
                follows,
            }
        })
        .collect()
}

/// The value an `scf.if` tests, looking through one `arith.xori` with `true` (then `negated`).
fn condition_of(op: Op) -> (Val, bool) {
    let condition = op.operand(0);
    let is_true = |value: Val| {
        value.defining_op().is_some_and(|d| d.name() == "arith.constant" && wf::int_attr(&d.view(), "value").is_some_and(|v| v != 0))
    };
    match condition.defining_op() {
        Some(not) if not.name() == "arith.xori" && not.operand_count() == 2 => {
            if is_true(not.operand(1)) {
                (not.operand(0), true)
            } else if is_true(not.operand(0)) {
                (not.operand(1), true)
            } else {
                (condition, false)
            }
        }
        _ => (condition, false),
    }
}

/// `prefill planner (research.agent:5:16)`.
fn fragment_name(op: Op, kind: FragmentKind) -> String {
    let what = match kind {
        FragmentKind::Prefill | FragmentKind::Decode | FragmentKind::Encode => {
            format!("{} {}", kind_word(kind), wf::symbol_attr(&op.view(), "model").unwrap_or_default())
        }
        FragmentKind::Tool | FragmentKind::Compute => {
            format!("{} {}", kind_word(kind), wf::symbol_attr(&op.view(), "callee").unwrap_or_default())
        }
        _ => op.name().trim_start_matches("workflow.").to_string(),
    };
    match position_of(op.location()) {
        Some(p) => {
            let file = std::path::Path::new(&p.file).file_name().map_or(p.file.clone(), |f| f.to_string_lossy().into_owned());
            format!("{what} ({file}:{}:{})", p.line, p.column)
        }
        None => what,
    }
}

fn kind_word(kind: FragmentKind) -> &'static str {
    match kind {
        FragmentKind::Prefill => "prefill",
        FragmentKind::Decode => "decode",
        FragmentKind::KvTransfer => "kv_transfer",
        FragmentKind::Encode => "encode",
        FragmentKind::Host => "host",
        FragmentKind::Tool => "tool",
        FragmentKind::Compute => "compute",
    }
}

/// The fragments whose results flow into `value`: through non-fragment ops, from
/// structured ops' results to what their regions yield, and from loop-carried block
/// arguments to their initial values (back edges are left out: the graph is a DAG).
fn producers_of(value: Val, index_of: &HashMap<usize, usize>, memo: &mut HashMap<usize, BTreeSet<usize>>, depth: usize) -> BTreeSet<usize> {
    let key = value.0.ptr as usize;
    if let Some(found) = memo.get(&key) {
        return found.clone();
    }
    if depth > 10_000 {
        return BTreeSet::new();
    }
    memo.insert(key, BTreeSet::new());
    let mut out = BTreeSet::new();
    match value.defining_op() {
        Some(op) => {
            if let Some(&index) = index_of.get(&(op.0.ptr as usize)) {
                out.insert(index);
            } else {
                let result_index = op.results().iter().position(|r| r.0.ptr == value.0.ptr).unwrap_or(0);
                if matches!(op.name().as_str(), "scf.if" | "scf.for" | "scf.while" | "scf.execute_region") {
                    // A structured op's results exist once it has run to its end: after
                    // every fragment inside it (a loop's last iteration, every `map` body,
                    // the taken branch), not only those feeding the yielded value (the loop
                    // body's yield is a back edge, left out below, so a tool after a loop
                    // would otherwise be placed beside the loop).
                    out.extend(op.nested_ops().into_iter().filter_map(|inner| index_of.get(&(inner.0.ptr as usize)).copied()));
                    for operand in op.operands() {
                        out.extend(producers_of(operand, index_of, memo, depth + 1));
                    }
                }
                match op.name().as_str() {
                    "scf.if" | "scf.for" => {
                        // Which branch's value an `if` yields depends on its condition
                        // (`route == "chat"` must wait for whatever computed `route`, even
                        // when both branches yield constants).
                        if op.name() == "scf.if" {
                            out.extend(producers_of(op.operand(0), index_of, memo, depth + 1));
                        }
                        for region in 0..op.region_count() {
                            if let Some(terminator) = op.region_entry(region).and_then(|b| b.terminator()) {
                                if result_index < terminator.operand_count() {
                                    out.extend(producers_of(terminator.operand(result_index), index_of, memo, depth + 1));
                                }
                            }
                        }
                    }
                    "scf.while" => {
                        if let Some(condition) = op.region_entry(0).and_then(|b| b.terminator()) {
                            if result_index + 1 < condition.operand_count() {
                                out.extend(producers_of(condition.operand(result_index + 1), index_of, memo, depth + 1));
                            }
                        }
                        if result_index < op.operand_count() {
                            out.extend(producers_of(op.operand(result_index), index_of, memo, depth + 1));
                        }
                    }
                    _ => {
                        for operand in op.operands() {
                            out.extend(producers_of(operand, index_of, memo, depth + 1));
                        }
                    }
                }
            }
        }
        None => {
            // A block argument: of a loop region (its initial value), or of main (none).
            let block = unsafe { mlir_sys::mlirBlockArgumentGetOwner(value.0) };
            let owner = unsafe { mlir_sys::mlirBlockGetParentOperation(block) };
            let argument = unsafe { mlir_sys::mlirBlockArgumentGetArgNumber(value.0) } as usize;
            let owner = Op(owner);
            let init = match owner.name().as_str() {
                "scf.for" if argument >= 1 => Some(argument + 2),
                "scf.while" => Some(argument),
                _ => None,
            };
            if let Some(init) = init.filter(|&i| i < owner.operand_count()) {
                out.extend(producers_of(owner.operand(init), index_of, memo, depth + 1));
            }
        }
    }
    memo.insert(key, out.clone());
    out
}

/// Writes placements, transfers and totals onto the IR.
fn write_back(extracted: &Extracted, schedule: &Schedule, target: &Target, options: &Options) {
    let context_ref = extracted.main.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let string = |value: &str| StringAttribute::new(context, value).into();
    // The placements of each op's copies (one, or a map's iterations).
    let mut of_op: Vec<Vec<&agentc_scheduler::Placement>> = vec![Vec::new(); extracted.originals];
    for placement in &schedule.placements {
        let op = extracted.ops[placement.fragment];
        if let Some(first) = extracted.ops[..extracted.originals].iter().position(|&o| o == op) {
            of_op[first].push(placement);
        }
    }
    for (index, placements) in of_op.iter().enumerate() {
        let Some(placement) = placements.first() else { continue };
        let op = extracted.ops[index];
        op.set_attribute(fr::DEVICE_ATTR, string(&placement.device));
        if placement.precision != agentc_scheduler::Precision::Native {
            // The weight format the placement chose for a model no accelerator holds in
            // its own dtype (docs/cost-model.md, "Precision").
            op.set_attribute("fragment.precision", string(placement.precision.as_str()));
        }
        if placements.len() > 1 {
            // A map's iterations, each where the scheduler put it (the plan runs them on
            // the first one's device for now).
            let devices: Vec<melior::ir::Attribute> = placements.iter().map(|p| string(&p.device)).collect();
            op.set_attribute("fragment.devices", melior::ir::attribute::ArrayAttribute::new(context, &devices).into());
        }
        op.set_f64(fr::START_ATTR, round(placements.iter().map(|p| p.start).fold(f64::INFINITY, f64::min)));
        op.set_f64(fr::FINISH_ATTR, round(placements.iter().map(|p| p.finish).fold(0.0, f64::max)));
        op.set_f64(fr::COST_ATTR, round(placements.iter().map(|p| p.cost).sum()));
    }
    // One kv_transfer per decode op: its first copy's.
    for transfer in schedule.transfers.iter().filter(|t| t.kv_transfer && t.to_fragment < extracted.originals) {
        let Some(decode) = extracted.ops.get(transfer.to_fragment).copied() else { continue };
        if decode.name() != fr::DECODE {
            continue;
        }
        let op = fr::kv_transfer(
            context,
            decode.operand(0).view(),
            &transfer.from_device,
            &transfer.to_device,
            transfer.bytes.round() as i64,
            decode.location(),
        );
        let Ok(op) = op else { continue };
        let raw = op.into_raw();
        let Some(block) = decode.block() else { continue };
        unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, decode.0, raw) };
        let transfer_op = Op(raw);
        transfer_op.set_f64(fr::START_ATTR, round(transfer.start));
        transfer_op.set_f64(fr::FINISH_ATTR, round(transfer.finish));
        decode.set_operand(0, transfer_op.result(0));
    }
    let main = extracted.main;
    main.set_attribute("fragment.target", string(&target.name));
    main.set_attribute(
        "fragment.objective",
        string(match options.objective {
            Objective::Latency => "latency",
            Objective::Cost => "cost",
        }),
    );
    main.set_f64("fragment.makespan", round(schedule.makespan));
    main.set_attribute("fragment.solver", string(&schedule.solver.method));
    main.set_attribute("fragment.optimal", melior::ir::attribute::BoolAttribute::new(context, schedule.solver.optimal).into());
    main.set_f64("fragment.gap", round(schedule.solver.gap));
    if let Some(sla) = options.sla_seconds {
        main.set_f64("fragment.sla", round(sla));
    }
    main.set_f64("fragment.total_cost", round(schedule.total_cost));
    main.set_attribute("fragment.sla_met", melior::ir::attribute::BoolAttribute::new(context, schedule.sla_met).into());
    if schedule.paths.paths.len() > 1 {
        // With `if`s the SLA is judged per path, not on the averaged graph's makespan.
        main.set_f64("fragment.worst_path_latency", round(schedule.paths.worst_latency));
        main.set_f64("fragment.expected_latency", round(schedule.paths.expected_latency));
        main.set_f64("fragment.sla_latency", round(schedule.sla_latency));
    }
}

/// Six significant digits: estimates print readably and identically everywhere.
fn round(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(5 - magnitude);
    (value * scale).round() / scale
}

/// The warning to print when a scheduled module's `main` misses its SLA (`None` when it
/// meets it or has none).
pub fn sla_warning(module: Op) -> Option<String> {
    let main = ir::module_ops(module).into_iter().find(|op| ir::symbol_name(*op).as_deref() == Some("main"))?;
    let met = main.attribute("fragment.sla_met").and_then(|a| melior::ir::attribute::BoolAttribute::try_from(a).ok())?;
    if met.value() {
        return None;
    }
    let sla = main.f64_attr("fragment.sla")?;
    // The latency the verdict was judged on: the worst path's when the program branches.
    let makespan = main.f64_attr("fragment.sla_latency").or_else(|| main.f64_attr("fragment.makespan"))?;
    Some(format!(
        "the SLA of {} is not met on target `{}`: the best schedule found takes {}",
        agentc_scheduler::report::format_seconds(sla),
        wf::string_attr(&main.view(), "fragment.target").unwrap_or_default(),
        agentc_scheduler::report::format_seconds(makespan)
    ))
}
