//! Walks fragment IR in program order and builds the plan: `main`, the tools (and any agent
//! left un-inlined) as interpreted functions, the tensor fns as signatures, the models, and
//! the target. Every value gets an id unique in its function; every op its source location
//! and, for fragments, its placement (`fragment.device`, `fragment.start`/`finish`; device
//! `none` when the IR was not scheduled).
//!
//! The kernel symbols of the models come from `fragment.kernel` (written by
//! `convert-fragment-to-tensor`) and are listed once per model (`models[].kernels`, role →
//! symbol). The target's devices come from the scheduler's target the module was scheduled
//! on, which the caller passes in: the IR holds only its name.
//!
//! What a plan cannot express is an error at the op's location naming the op (emitted
//! through the context's diagnostic handlers), never a silent drop. The emitted plan is
//! validated with the runtime's own loader before it is returned.

use std::collections::{BTreeMap, HashMap};

use agentc_dialects::workflow as wf;
use agentc_runtime::chat::ChatTemplate;
use agentc_runtime::plan::{self, ComputeFn, Device, Function, FunctionKind, Model, Placement, Plan, Region, Target, Type, Value, WeightSpec};
use melior::ir::attribute::{ArrayAttribute, StringAttribute};
use serde_json::Value as Json;

use crate::diagnostics::position_of;
use crate::ir::{module_ops, symbol_name, Blk, Op, Val};

/// The built-in workflow ops that become an opcode of the same name.
const BUILTINS: &[&str] = &[
    "list_literal", "list_len", "list_get", "list_append", "concat", "text_eq", "lines", "split", "join", "contains",
    "starts_with", "text_len", "trim", "format", "to_text", "parse_int", "parse_float", "argmax", "div", "rem",
];

/// Builds the plan of `module`. `scheduled_on` is the target the module was scheduled on
/// (`fragment-schedule`'s `--target`); it must be given, and have the name recorded on
/// `main`, when the module is scheduled: its devices are the plan's. On failure the reasons
/// went to the context's diagnostic handlers at the offending ops' locations.
pub fn emit_plan(module: Op, scheduled_on: Option<&agentc_scheduler::Target>) -> Result<Plan, ()> {
    let mut plan = Plan {
        format: plan::FORMAT.to_string(),
        format_version: plan::FORMAT_VERSION,
        source: String::new(),
        target: None,
        models: Vec::new(),
        fns: Vec::new(),
        functions: Vec::new(),
    };
    let ops = module_ops(module);
    let mut failed = false;
    // Which functions are tensor fns (their calls are `compute`).
    let fn_names: Vec<String> = ops.iter().filter(|op| op.has_attribute(wf::FN_ATTR)).filter_map(|op| symbol_name(*op)).collect();
    let mut kernels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut compiled: BTreeMap<String, CompiledFor> = BTreeMap::new();
    let mut chats: BTreeMap<String, ChatTemplate> = BTreeMap::new();
    for op in &ops {
        match op.name().as_str() {
            "workflow.model" => plan.models.push(model(*op)),
            "func.func" => {
                let name = symbol_name(*op).unwrap_or_default();
                let kind = if op.has_attribute(wf::AGENT_ATTR) {
                    FunctionKind::Agent
                } else if op.has_attribute(wf::TOOL_ATTR) {
                    FunctionKind::Tool
                } else if op.has_attribute(wf::FN_ATTR) {
                    match signature(*op) {
                        Ok((params, results)) => plan.fns.push(ComputeFn { name, params, results }),
                        Err(()) => failed = true,
                    }
                    continue;
                } else {
                    // Model kernels written by convert-fragment-to-tensor: compiled code, named
                    // by the models' `kernels`, not interpreted; what they were compiled for
                    // is recorded with the model.
                    if let Some(model) = wf::symbol_attr(&op.view(), "tgraph.model") {
                        failed |= compiled_for(*op, compiled.entry(model).or_default()).is_err();
                    }
                    continue;
                };
                let mut emitter = FunctionEmitter {
                    values: HashMap::new(),
                    next: 0,
                    fn_names: &fn_names,
                    kernels: &mut kernels,
                    chats: &mut chats,
                    failed: false,
                };
                if let Some(function) = emitter.function(*op, name, kind) {
                    if function.name == "main" {
                        plan.source = function.loc.rsplitn(3, ':').nth(2).unwrap_or_default().to_string();
                        match target(*op, scheduled_on) {
                            Ok(target) => plan.target = target,
                            Err(()) => failed = true,
                        }
                    }
                    plan.functions.push(function);
                }
                failed |= emitter.failed;
            }
            other => {
                op.emit_error(&format!("`{other}` cannot be expressed in a plan"));
                failed = true;
            }
        }
    }
    for model in &mut plan.models {
        model.chat = chats.remove(&model.name);
        if let Some(found) = kernels.remove(&model.name) {
            model.kernels = found;
            let record = compiled.remove(&model.name).unwrap_or_default();
            model.config = record.config;
            model.weights = record.weights.into_values().collect();
        }
    }
    if failed {
        return Err(());
    }
    if let Err(error) = plan::validate(&plan) {
        crate::ir::emit_error(module.location(), &format!("the emitted plan is invalid (a bug in agentc's plan emitter): {error}"));
        return Err(());
    }
    Ok(plan)
}

fn model(op: Op) -> Model {
    let view = op.view();
    let string = |name: &str| wf::string_attr(&view, name).unwrap_or_default();
    let declared = string("dtype");
    Model {
        name: string("sym_name"),
        path: string("path"),
        kind: string("kind"),
        architecture: string("architecture"),
        dtype: wf::string_attr(&view, "fragment.dtype").filter(|d| !d.is_empty()).unwrap_or(declared),
        hidden_size: wf::int_attr(&view, "hidden_size").unwrap_or(0).max(0) as u64,
        kernels: BTreeMap::new(),
        config: BTreeMap::new(),
        weights: Vec::new(),
        chat: None,
    }
}

/// What a model's functions were compiled for: the `tgraph.config` sizes and the weights.
#[derive(Default)]
struct CompiledFor {
    config: BTreeMap<String, u64>,
    weights: BTreeMap<String, WeightSpec>,
}

/// Adds a model function's `tgraph.config` and `tgraph.weight`s to `record`; an error at
/// the function when they are missing or disagree with the model's other functions.
fn compiled_for(func: Op, record: &mut CompiledFor) -> Result<(), ()> {
    use melior::ir::attribute::AttributeLike;
    let attr_name = crate::conversion::fragment_to_tensor::CONFIG_ATTR;
    let Some(config) = func.attribute(attr_name) else {
        func.emit_error(&format!("a model function without `{attr_name}` cannot be expressed in a plan"));
        return Err(());
    };
    // SAFETY: reads a dictionary attribute of the live module through the C API.
    unsafe {
        let raw = config.to_raw();
        if !mlir_sys::mlirAttributeIsADictionary(raw) {
            func.emit_error(&format!("`{attr_name}` must be a dictionary"));
            return Err(());
        }
        for i in 0..mlir_sys::mlirDictionaryAttrGetNumElements(raw) {
            let named = mlir_sys::mlirDictionaryAttrGetElement(raw, i);
            let key = mlir_sys::mlirIdentifierStr(named.name);
            let key = String::from_utf8_lossy(std::slice::from_raw_parts(key.data as *const u8, key.length)).into_owned();
            let value = mlir_sys::mlirAttributeIsAInteger(named.attribute).then(|| mlir_sys::mlirIntegerAttrGetValueInt(named.attribute));
            let Some(value) = value.and_then(|v| u64::try_from(v).ok()) else {
                func.emit_error(&format!("`{attr_name}`: `{key}` is not a non-negative integer"));
                return Err(());
            };
            if *record.config.entry(key.clone()).or_insert(value) != value {
                func.emit_error(&format!("`{attr_name}`: `{key}` differs between the functions of one model"));
                return Err(());
            }
        }
    }
    for op in func.nested_ops().into_iter().filter(|op| op.name() == "tgraph.weight") {
        let name = wf::string_attr(&op.view(), "name").unwrap_or_default();
        let (shape, dtype) = match plan_type(op.result(0).ty()) {
            Ok(Type::Tensor { shape, dtype }) => (shape.into_iter().collect::<Option<Vec<u64>>>(), dtype),
            _ => (None, String::new()),
        };
        let Some(shape) = shape else {
            op.emit_error(&format!("weight `{name}` has no static tensor type, which a plan cannot record"));
            return Err(());
        };
        let stored = wf::string_attr(&op.view(), "tgraph.stored").unwrap_or_default();
        let quant = wf::string_attr(&op.view(), "tgraph.quant").unwrap_or_default();
        let elements: u64 = shape.iter().product();
        let stored_bytes = match agentc_runtime::gguf::dequant::GgmlType::from_name(&stored) {
            Some(ty) if !quant.is_empty() => (elements as f64 * ty.bits_per_weight() / 8.0) as u64,
            _ => 0,
        };
        let spec = WeightSpec { name: name.clone(), dtype: dtype.to_uppercase(), stored, shape, quant, stored_bytes };
        if *record.weights.entry(name.clone()).or_insert_with(|| spec.clone()) != spec {
            op.emit_error(&format!("weight `{name}` is bound with two different shapes"));
            return Err(());
        }
    }
    Ok(())
}

/// The plan's target: `None` when `main` was not scheduled; an error at `main` when the
/// target it was scheduled on is not the one given.
fn target(main: Op, scheduled_on: Option<&agentc_scheduler::Target>) -> Result<Option<Target>, ()> {
    let view = main.view();
    let Some(name) = wf::string_attr(&view, "fragment.target") else { return Ok(None) };
    let Some(scheduled_on) = scheduled_on.filter(|t| t.name == name) else {
        let given = scheduled_on.map_or_else(|| "none".to_string(), |t| format!("`{}`", t.name));
        main.emit_error(&format!(
            "this program was scheduled on target `{name}`, but the plan is emitted for {given}: give the same --target"
        ));
        return Err(());
    };
    let devices = scheduled_on.devices.iter().map(|d| Device { name: d.name.clone(), kind: d.kind.as_str().to_string() }).collect();
    Ok(Some(Target {
        name,
        objective: wf::string_attr(&view, "fragment.objective").unwrap_or_else(|| "latency".into()),
        sla_seconds: main.f64_attr("fragment.sla"),
        makespan_seconds: main.f64_attr("fragment.makespan"),
        cost_usd: main.f64_attr("fragment.total_cost"),
        devices,
    }))
}

/// `file:line:col` of an op, or "" when its location is not a file position.
fn loc(op: Op) -> String {
    position_of(op.location()).map(|p| format!("{}:{}:{}", p.file, p.line, p.column)).unwrap_or_default()
}

/// The plan type of an MLIR type, or its printed form when it has none.
fn plan_type(ty: melior::ir::Type) -> Result<Type, String> {
    fn convert(text: &str) -> Option<Type> {
        Some(match text {
            "!workflow.text" => Type::Text,
            "i64" => Type::Int,
            "f64" => Type::Float,
            "i1" => Type::Bool,
            "!fragment.kv" => Type::Kv,
            "f32" | "f16" | "bf16" | "i32" => Type::Scalar(text.to_string()),
            _ => {
                if let Some(inner) = text.strip_prefix("!workflow.list<").and_then(|t| t.strip_suffix('>')) {
                    Type::List(Box::new(convert(inner)?))
                } else if let Some(name) = text.strip_prefix("!workflow.record<\"").and_then(|t| t.strip_suffix("\">")) {
                    format!("record<{name}>").parse().ok()?
                } else if text.starts_with("tensor<") {
                    text.parse().ok()?
                } else {
                    return None;
                }
            }
        })
    }
    let text = ty.to_string();
    convert(&text).ok_or(text)
}

/// A tensor fn's signature from its entry block and its return.
fn signature(func: Op) -> Result<(Vec<Type>, Vec<Type>), ()> {
    let Some(entry) = func.region_entry(0) else {
        func.emit_error("a tensor fn without a body cannot be expressed in a plan");
        return Err(());
    };
    let types = |values: Vec<Val>| -> Result<Vec<Type>, ()> {
        values
            .into_iter()
            .map(|v| plan_type(v.ty()))
            .collect::<Result<_, _>>()
            .map_err(|t| func.emit_error(&format!("type `{t}` in this fn's signature cannot be expressed in a plan")))
    };
    let results = entry.terminator().map(|t| t.operands()).unwrap_or_default();
    Ok((types(entry.arguments())?, types(results)?))
}

struct FunctionEmitter<'a> {
    values: HashMap<usize, u32>,
    next: u32,
    fn_names: &'a [String],
    /// model → role → kernel symbol, from `fragment.kernel` attributes.
    kernels: &'a mut BTreeMap<String, BTreeMap<String, String>>,
    /// The chat template of each model a `chat_prompt` renders with.
    chats: &'a mut BTreeMap<String, ChatTemplate>,
    failed: bool,
}

impl FunctionEmitter<'_> {
    fn function(&mut self, func: Op, name: String, kind: FunctionKind) -> Option<Function> {
        let entry = func.region_entry(0)?;
        let params = self.define_all(func, entry.arguments())?;
        let results = entry
            .ops()
            .last()
            .map(|ret| ret.operands().into_iter().map(|v| plan_type(v.ty())).collect::<Result<Vec<_>, _>>())
            .transpose()
            .map_err(|t| {
                func.emit_error(&format!("type `{t}` cannot be expressed in a plan"));
                self.failed = true;
            })
            .ok()?
            .unwrap_or_default();
        let body = self.block(entry);
        Some(Function { name, kind, params, results, loc: loc(func), body })
    }

    fn define_all(&mut self, at: Op, values: Vec<Val>) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        for value in values {
            match plan_type(value.ty()) {
                Ok(ty) => {
                    let id = self.next;
                    self.next += 1;
                    self.values.insert(value.0.ptr as usize, id);
                    out.push(Value { id, ty });
                }
                Err(text) => {
                    at.emit_error(&format!("`{}`: type `{text}` cannot be expressed in a plan", at.name()));
                    self.failed = true;
                    return None;
                }
            }
        }
        Some(out)
    }

    fn block(&mut self, block: Blk) -> Vec<plan::Op> {
        block.ops().into_iter().filter_map(|op| self.op(op)).collect()
    }

    fn region(&mut self, op: Op, index: usize) -> Option<Region> {
        let Some(block) = op.region_entry(index) else {
            // An `scf.if` without an else: the else yields nothing.
            return Some(Region { params: Vec::new(), body: vec![bare("yield")] });
        };
        let params = self.define_all(op, block.arguments())?;
        Some(Region { params, body: self.block(block) })
    }

    fn fail(&mut self, op: Op, message: &str) -> Option<plan::Op> {
        op.emit_error(message);
        self.failed = true;
        None
    }

    fn op(&mut self, op: Op) -> Option<plan::Op> {
        let name = op.name();
        let view = op.view();
        let mut attrs: BTreeMap<String, Json> = BTreeMap::new();
        let mut put = |key: &str, value: Option<Json>| -> bool {
            match value {
                Some(v) => {
                    attrs.insert(key.to_string(), v);
                    true
                }
                None => false,
            }
        };
        let string = |key: &str| wf::string_attr(&view, key).map(Json::from);
        let symbol = |key: &str| wf::symbol_attr(&view, key).map(Json::from);
        let int = |key: &str| wf::int_attr(&view, key).map(Json::from);
        let float = |key: &str| op.f64_attr(key).map(Json::from);
        let string_array = |key: &str| {
            op.attribute(key).and_then(|a| ArrayAttribute::try_from(a).ok()).and_then(|array| {
                (0..array.len())
                    .map(|i| array.element(i).ok().and_then(|e| StringAttribute::try_from(e).ok()).map(|s| Json::from(wf::string_value(s))))
                    .collect::<Option<Vec<_>>>()
                    .map(Json::from)
            })
        };
        // A tool's `max_output` is explicit in the plan: declared, or the runtime's default.
        let max_output = || int("max_output").unwrap_or_else(|| Json::from(agentc_runtime::tools::DEFAULT_MAX_OUTPUT));
        let (opcode, ok): (String, bool) = match name.as_str() {
            "workflow.text_constant" => ("const".into(), put("value", string("value"))),
            "arith.constant" => {
                let value = match op.result(0).ty().to_string().as_str() {
                    "i1" => wf::int_attr(&view, "value").map(|v| Json::from(v != 0)),
                    "i64" | "i32" => int("value"),
                    _ => wf::float_attr(&view, "value").map(Json::from),
                };
                ("const".into(), put("value", value))
            }
            "fragment.prefill" | "fragment.encode" => {
                if op.has_attribute(wf::CHAT_ATTR) {
                    put("chat", Some(Json::from(true)));
                }
                (name["fragment.".len()..].into(), put("model", symbol("model")))
            }
            "fragment.decode" => {
                if op.has_attribute(wf::CHAT_ATTR) {
                    put("chat", Some(Json::from(true)));
                }
                let ok = put("model", symbol("model")) & put("max_tokens", int("max_tokens")) & put("temperature", float("temperature"));
                // The sampling options the call gave (plan format 3; absent: off).
                for name in ["top_k", "seed"] {
                    put(name, int(name));
                }
                for name in ["top_p", "min_p", "repetition_penalty"] {
                    put(name, float(name));
                }
                put("json_schema", string("json_schema"));
                ("decode".into(), ok)
            }
            "workflow.chat_prompt" => {
                let model = wf::symbol_attr(&view, "model").unwrap_or_default();
                let chat = ChatTemplate {
                    template: wf::string_attr(&view, "template").unwrap_or_default(),
                    bos_token: wf::string_attr(&view, "bos_token").unwrap_or_default(),
                    eos_token: wf::string_attr(&view, "eos_token").unwrap_or_default(),
                };
                // One template per model: every chat_prompt of a model carries the folder's.
                if self.chats.get(&model).is_some_and(|known| *known != chat) {
                    return self.fail(op, &format!("model `{model}` has two different chat templates"));
                }
                self.chats.insert(model.clone(), chat);
                ("chat_prompt".into(), put("model", Some(model.into())))
            }
            "fragment.kv_transfer" => {
                let ok = put("from", string("from")) & put("to", string("to")) & put("bytes", int("bytes"));
                ("kv_transfer".into(), ok)
            }
            "fragment.tool" => ("tool".into(), put("callee", symbol("callee"))),
            "func.call" => {
                let callee = wf::symbol_attr(&view, "callee").unwrap_or_default();
                let opcode = if self.fn_names.contains(&callee) { "compute" } else { "call" };
                (opcode.into(), put("callee", Some(callee.into())))
            }
            "workflow.exec" => {
                let ok = put("program", string("program")) & put("timeout_ms", int("timeout_ms")) & put("retries", int("retries"));
                let _ = put("backoff_ms", int("backoff_ms"));
                ("exec".into(), ok & put("max_output", Some(max_output())))
            }
            "workflow.http" => {
                let ok = put("method", string("method")) & put("timeout_ms", int("timeout_ms")) & put("retries", int("retries"));
                let _ = put("backoff_ms", int("backoff_ms"));
                // Optional: a JSON body's type; the declared headers (values are templates
                // naming environment variables, never their values).
                if let Some(content_type) = string("content_type") {
                    put("content_type", Some(content_type));
                }
                let headers_ok = match (op.attribute("header_names"), op.attribute("header_values")) {
                    (None, None) => true,
                    _ => put("header_names", string_array("header_names")) & put("header_values", string_array("header_values")),
                };
                ("http".into(), ok & headers_ok & put("max_output", Some(max_output())))
            }
            "workflow.url_template" => ("url_template".into(), put("template", string("template")) & put("names", string_array("names"))),
            "workflow.json_object" => ("json_object".into(), put("keys", string_array("keys"))),
            // A field on its way into a record_new is the value itself in the plan.
            "workflow.field_value" => {
                let (Some(value), Some(result)) = (op.operands().first().copied(), op.results().first().copied()) else {
                    return self.fail(op, "`workflow.field_value` without its operand");
                };
                let Some(id) = self.values.get(&(value.0.ptr as usize)).copied() else {
                    return self.fail(op, "`workflow.field_value` uses a value defined outside its function");
                };
                self.values.insert(result.0.ptr as usize, id);
                return None;
            }
            "workflow.record_new" => ("record_new".into(), put("fields", string_array("fields"))),
            "workflow.record_get" => ("record_get".into(), put("field", string("field")) & put("index", int("index"))),
            "workflow.to_json" => ("to_json".into(), true),
            "workflow.json_parse" => ("json_parse".into(), put("schema", string("schema"))),
            "arith.addi" | "arith.addf" => ("add".into(), true),
            "arith.subi" | "arith.subf" => ("sub".into(), true),
            "arith.muli" | "arith.mulf" => ("mul".into(), true),
            "arith.negf" => ("neg".into(), true),
            "math.absi" | "math.absf" => ("abs".into(), true),
            "arith.minsi" | "arith.minimumf" | "arith.minnumf" => ("min".into(), true),
            "arith.maxsi" | "arith.maximumf" | "arith.maxnumf" => ("max".into(), true),
            "arith.andi" => ("and".into(), true),
            "arith.ori" => ("or".into(), true),
            "arith.xori" => ("xor".into(), true),
            "arith.sitofp" | "arith.fptosi" | "arith.extui" | "arith.uitofp" | "arith.truncf" | "arith.extf" | "arith.trunci"
            | "arith.extsi" | "tensor.cast" => ("convert".into(), true),
            "arith.cmpi" | "arith.cmpf" => {
                let code = wf::int_attr(&view, "predicate").unwrap_or(-1);
                let predicate = if name == "arith.cmpi" {
                    ["eq", "ne", "lt", "le", "gt", "ge"].get(code as usize).copied()
                } else {
                    match code {
                        1 => Some("eq"),
                        2 => Some("gt"),
                        3 => Some("ge"),
                        4 => Some("lt"),
                        5 => Some("le"),
                        13 => Some("ne"),
                        _ => None,
                    }
                };
                let Some(predicate) = predicate else {
                    return self.fail(op, &format!("`{name}` with predicate {code} cannot be expressed in a plan (signed eq/ne/lt/le/gt/ge, ordered floats and unordered ne only)"));
                };
                ("cmp".into(), put("predicate", Some(predicate.into())))
            }
            "scf.if" => ("if".into(), true),
            "scf.execute_region" if op.has_attribute(wf::TRY_ATTR) && op.region_blocks(0).len() == 2 => ("try".into(), true),
            "scf.while" => {
                // `max_iterations` when the loop records one; a loop without is still a loop.
                put("max_iterations", int(wf::MAX_ITERATIONS_ATTR));
                ("loop".into(), true)
            }
            "scf.for" if op.has_attribute(wf::PARALLEL_ATTR) => {
                // `@max_parallel(N)`: absent unless the source gave it.
                let max_parallel = wf::int_attr(&view, wf::MAX_PARALLEL_ATTR);
                ("map".into(), max_parallel.is_none() || put("max_parallel", max_parallel.map(Json::from)))
            }
            "scf.for" => ("for".into(), true),
            "scf.yield" => ("yield".into(), true),
            "scf.condition" => ("condition".into(), true),
            "func.return" => ("return".into(), true),
            "workflow.generate" | "workflow.embed" | "workflow.tool_call" => {
                return self.fail(op, &format!("`{name}` cannot be expressed in a plan: plan it into fragments first (convert-workflow-to-fragment)"));
            }
            other if other.strip_prefix("workflow.").is_some_and(|b| BUILTINS.contains(&b)) => (other["workflow.".len()..].into(), true),
            other => return self.fail(op, &format!("`{other}` cannot be expressed in a plan")),
        };
        if !ok {
            return self.fail(op, &format!("`{name}` lacks an attribute the plan needs"));
        }
        // The model's kernel for this role, named once in `models[].kernels`.
        if let Some(kernel) = wf::symbol_attr(&view, crate::conversion::fragment_to_tensor::KERNEL_ATTR)
            && let Some(model) = wf::symbol_attr(&view, "model")
        {
            self.kernels.entry(model).or_default().insert(opcode.clone(), kernel);
        }
        let is_fragment = name.starts_with("fragment.") || op.has_attribute("fragment.kind");
        let placement = match wf::string_attr(&view, "fragment.device") {
            Some(device) => Some(Placement { device, start: op.f64_attr("fragment.start"), finish: op.f64_attr("fragment.finish") }),
            None if is_fragment => Some(Placement { device: "none".into(), start: None, finish: None }),
            None => None,
        };
        let mut operands = Vec::new();
        for value in op.operands() {
            match self.values.get(&(value.0.ptr as usize)) {
                Some(id) => operands.push(*id),
                None => return self.fail(op, &format!("`{name}` uses a value defined outside its function")),
            }
        }
        // Regions first (their values get ids before the op's results, in program order).
        let mut regions = Vec::new();
        if opcode == "try" {
            // The body block and the catch block (one region each in the plan).
            for block in op.region_blocks(0) {
                let params = self.define_all(op, block.arguments())?;
                regions.push(Region { params, body: self.block(block) });
            }
        } else {
            for index in 0..op.region_count() {
                regions.push(self.region(op, index)?);
            }
        }
        let results = self.define_all(op, op.results())?;
        Some(plan::Op { op: opcode, operands, results, attrs, placement, loc: loc(op), regions })
    }
}

fn bare(opcode: &str) -> plan::Op {
    plan::Op {
        op: opcode.into(),
        operands: Vec::new(),
        results: Vec::new(),
        attrs: BTreeMap::new(),
        placement: None,
        loc: String::new(),
        regions: Vec::new(),
    }
}
