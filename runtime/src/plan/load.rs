//! Parsing and validating a plan: a malformed plan is a [`PlanError`] naming the function,
//! the op (by index and opcode) and its source location, never a panic.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value as Json;

use super::{Function, FunctionKind, Op, Plan, Region, Type, Value, CONFIG_KEYS, DEVICE_KINDS, FORMAT, FORMAT_VERSION, KERNEL_ROLES};

/// Why a plan was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// One line: where, then what.
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanError {}

fn error(message: impl Into<String>) -> PlanError {
    PlanError { message: message.into() }
}

/// Parses plan JSON and validates it.
pub fn load(text: &str) -> Result<Plan, PlanError> {
    // Look at the header first, so a plan of another version says so rather than failing on
    // a field it does not know.
    let raw: Json = serde_json::from_str(text).map_err(|e| error(format!("plan is not valid JSON: {e}")))?;
    let Some(object) = raw.as_object() else { return Err(error("plan is not a JSON object")) };
    match object.get("format").and_then(Json::as_str) {
        Some(FORMAT) => {}
        Some(other) => return Err(error(format!("`format` is `{other}`, not `{FORMAT}`: not an agentc plan"))),
        None => return Err(error(format!("missing `format` (\"{FORMAT}\"): not an agentc plan"))),
    }
    match object.get("format_version").and_then(Json::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(error(format!(
                "plan format version {v} is not supported: this runtime reads version {FORMAT_VERSION} (rebuild with the matching agentc)"
            )));
        }
        None => return Err(error("missing or non-integer `format_version`")),
    }
    let plan: Plan = serde_json::from_value(raw).map_err(|e| error(format!("malformed plan: {e}")))?;
    validate(&plan)?;
    Ok(plan)
}

/// Checks a plan's invariants (see `docs/plan.md`).
pub fn validate(plan: &Plan) -> Result<(), PlanError> {
    if plan.format != FORMAT {
        return Err(error(format!("`format` is `{}`, not `{FORMAT}`", plan.format)));
    }
    if plan.format_version != FORMAT_VERSION {
        return Err(error(format!("plan format version {} is not supported (expected {FORMAT_VERSION})", plan.format_version)));
    }
    let mut devices = None;
    if let Some(target) = &plan.target {
        let mut names = HashSet::new();
        for device in &target.devices {
            if device.name.is_empty() || device.name == "none" || device.name.contains('+') {
                return Err(error(format!("target `{}`: `{}` is not a device name", target.name, device.name)));
            }
            if !names.insert(device.name.as_str()) {
                return Err(error(format!("target `{}`: device `{}` is listed twice", target.name, device.name)));
            }
            if !DEVICE_KINDS.contains(&device.kind.as_str()) {
                return Err(error(format!(
                    "target `{}`: device `{}` has kind `{}`, not one of {}",
                    target.name,
                    device.name,
                    device.kind,
                    DEVICE_KINDS.join(", ")
                )));
            }
        }
        if names.is_empty() {
            return Err(error(format!("target `{}` lists no devices", target.name)));
        }
        devices = Some(names);
    }
    let mut models = HashMap::new();
    for model in &plan.models {
        if models.insert(model.name.as_str(), model.kind.as_str()).is_some() {
            return Err(error(format!("model `{}` is declared twice", model.name)));
        }
        if !matches!(model.kind.as_str(), "decoder" | "encoder" | "unknown") {
            return Err(error(format!("model `{}`: kind `{}` is not decoder, encoder or unknown", model.name, model.kind)));
        }
        for (role, symbol) in &model.kernels {
            if !KERNEL_ROLES.contains(&role.as_str()) {
                return Err(error(format!("model `{}`: kernel role `{role}` is not one of {}", model.name, KERNEL_ROLES.join(", "))));
            }
            if symbol.is_empty() {
                return Err(error(format!("model `{}`: the `{role}` kernel has an empty symbol", model.name)));
            }
        }
        check_compiled_for(model).map_err(|m| error(format!("model `{}`: {m}", model.name)))?;
        if let Some(chat) = &model.chat {
            if model.kind == "encoder" {
                return Err(error(format!("model `{}`: an encoder has no chat template", model.name)));
            }
            chat.check().map_err(|m| error(format!("model `{}`: the chat template does not parse: {m}", model.name)))?;
        }
    }
    let chat_models = plan.models.iter().filter(|m| m.chat.is_some()).map(|m| m.name.as_str()).collect();
    let mut fns = HashMap::new();
    for f in &plan.fns {
        if fns.insert(f.name.as_str(), (f.params.clone(), f.results.clone())).is_some() {
            return Err(error(format!("fn `{}` is declared twice", f.name)));
        }
    }
    let mut functions = HashMap::new();
    for f in &plan.functions {
        let params: Vec<Type> = f.params.iter().map(|v| v.ty.clone()).collect();
        if functions.insert(f.name.as_str(), (f.kind, params, f.results.clone())).is_some() || fns.contains_key(f.name.as_str()) {
            return Err(error(format!("function `{}` is declared twice", f.name)));
        }
    }
    match functions.get("main") {
        Some((FunctionKind::Agent, params, results)) => {
            // The language's rule for `main` (docs/language.md §8): the executable passes its
            // command-line arguments and prints a text result.
            let args_ok = params.is_empty() || *params == [Type::List(Box::new(Type::Text))];
            if !args_ok || *results != [Type::Text] {
                return Err(error(format!(
                    "`main` is ({}) -> ({}); it must take no parameters or one `list<text>` and return `text`",
                    list(params),
                    list(results)
                )));
            }
        }
        Some(_) => return Err(error("`main` must be an agent function")),
        None => return Err(error("the plan has no `main` function")),
    }
    let globals = Globals { devices, models, chat_models, fns, functions };
    for function in &plan.functions {
        check_function(&globals, function)?;
    }
    Ok(())
}

/// A model's `config` and `weights` record: present exactly when it has kernels, known
/// keys, weights sorted by name without repeats, sizes that fit an address.
fn check_compiled_for(model: &super::Model) -> Result<(), String> {
    if model.kernels.is_empty() != model.config.is_empty() || model.kernels.is_empty() != model.weights.is_empty() {
        return Err("`config` and `weights` must be given exactly when `kernels` is".into());
    }
    if let Some(key) = model.config.keys().find(|k| !CONFIG_KEYS.contains(&k.as_str())) {
        return Err(format!("unknown config key `{key}`"));
    }
    for pair in model.weights.windows(2) {
        if pair[0].name >= pair[1].name {
            return Err(format!("weight `{}` is out of order or repeated", pair[1].name));
        }
    }
    for weight in &model.weights {
        let elements = weight.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d)).filter(|&n| n <= isize::MAX as u64 / 8);
        if weight.name.is_empty() || weight.dtype.is_empty() || elements.is_none() {
            return Err(format!("weight `{}` has an empty name or dtype, or a shape too large", weight.name));
        }
        if !weight.quant.is_empty() {
            let scheme = crate::gguf::quant::Scheme::parse(&weight.quant)
                .ok_or_else(|| format!("weight `{}` has an unknown quantised form `{}`", weight.name, weight.quant))?;
            let known = crate::gguf::dequant::GgmlType::from_name(&weight.stored).and_then(crate::gguf::quant::Scheme::of);
            let cols = weight.shape.last().copied().unwrap_or(0);
            if known != Some(scheme) || weight.dtype != "F32" || weight.shape.len() != 2 || cols % scheme.group() as u64 != 0 || weight.stored_bytes == 0 {
                return Err(format!(
                    "weight `{}` is read as {} from {} stored as `{}` ({} bytes, shape {:?}): not a quantised form of that type",
                    weight.name, weight.quant, weight.dtype, weight.stored, weight.stored_bytes, weight.shape
                ));
            }
            continue;
        }
        if weight.stored_bytes != 0 {
            return Err(format!("weight `{}` records `stored_bytes` but is not quantised", weight.name));
        }
        if !weight.stored.is_empty() && !(weight.dtype == "F32" && matches!(weight.stored.as_str(), "F16" | "BF16")) {
            return Err(format!("weight `{}` is read as {} but stored as {}: only F16 and BF16 convert to F32 at load", weight.name, weight.dtype, weight.stored));
        }
    }
    Ok(())
}

type Signature = (Vec<Type>, Vec<Type>);

struct Globals<'p> {
    /// The target's device names (`None`: the plan is not scheduled).
    devices: Option<HashSet<&'p str>>,
    models: HashMap<&'p str, &'p str>,
    /// The models with a chat template (`models[].chat`).
    chat_models: HashSet<&'p str>,
    fns: HashMap<&'p str, Signature>,
    functions: HashMap<&'p str, (FunctionKind, Vec<Type>, Vec<Type>)>,
}

struct Scope<'p> {
    globals: &'p Globals<'p>,
    function: &'p Function,
    /// Every id defined so far in the function (ids are unique in a function).
    defined: HashSet<u32>,
    /// The ids visible here, with their types (block scoping of nested regions).
    visible: HashMap<u32, Type>,
    /// The opcode that defined each op result, with its value for an int `const` (what a
    /// `map`/`for` bound may be).
    producers: HashMap<u32, (String, Option<i64>)>,
}

/// The largest constant upper bound of a `map` / `for` (2^24, the most elements a list
/// literal in a source within agentc's 16 MiB input cap can have; after folding, a `map`
/// over a literal list has a constant bound).
pub const MAX_CONSTANT_TRIPS: i64 = 1 << 24;

/// The largest `max_parallel` of a `map` (the language's `@max_parallel(N)` bound): each
/// body beyond the first runs on a thread of its own.
pub const MAX_PARALLEL: u64 = 1024;

/// Every opcode the plan may hold.
pub const OPCODES: &[&str] = &[
    // literals and built-ins
    "const", "list_literal", "list_len", "list_get", "list_append", "concat", "text_eq", "lines", "split", "join",
    "contains", "starts_with", "text_len", "trim", "format", "to_text", "parse_int", "parse_float", "argmax", "div",
    "rem", "chat_prompt", "record_new", "record_get", "to_json", "json_parse", // fragments
    "prefill", "decode", "kv_transfer", "encode", "tool", "compute", "call", // inside tools
    "exec", "http", "url_template", "json_object", // arithmetic
    "add", "sub", "mul", "neg", "abs", "min", "max", "and", "or", "xor", "cmp", "convert", // control
    "if", "try", "loop", "map", "for", "yield", "condition", "return",
];

fn check_function(globals: &Globals, function: &Function) -> Result<(), PlanError> {
    let mut scope = Scope { globals, function, defined: HashSet::new(), visible: HashMap::new(), producers: HashMap::new() };
    let at = format!("function `{}`", function.name);
    for param in &function.params {
        scope.define(param, &at)?;
    }
    let Some(last) = function.body.last() else { return Err(error(format!("{at}: empty body (it must end in `return`)"))) };
    if last.op != "return" {
        return Err(error(format!("{at}: body ends in `{}`, not `return`", last.op)));
    }
    for (index, op) in function.body.iter().enumerate() {
        if (op.op == "return" && index + 1 != function.body.len()) || matches!(op.op.as_str(), "yield" | "condition") {
            return Err(error(format!("{at}: `{}` (op {index}) is out of place", op.op)));
        }
        scope.check_op(op, index)?;
    }
    Ok(())
}

fn is_numeric(ty: &Type) -> bool {
    matches!(ty, Type::Int | Type::Float | Type::Scalar(_))
}

impl<'p> Scope<'p> {
    fn define(&mut self, value: &Value, at: &str) -> Result<(), PlanError> {
        if !self.defined.insert(value.id) {
            return Err(error(format!("{at}: value %{} is defined twice", value.id)));
        }
        self.visible.insert(value.id, value.ty.clone());
        Ok(())
    }

    fn check_op(&mut self, op: &Op, index: usize) -> Result<(), PlanError> {
        let at = match op.loc.is_empty() {
            true => format!("function `{}`, op {index} (`{}`)", self.function.name, op.op),
            false => format!("{}: function `{}`, op {index} (`{}`)", op.loc, self.function.name, op.op),
        };
        let fail = |message: String| error(format!("{at}: {message}"));
        if !OPCODES.contains(&op.op.as_str()) {
            return Err(fail("unknown opcode".into()));
        }
        let mut operands = Vec::new();
        for id in &op.operands {
            match self.visible.get(id) {
                Some(ty) => operands.push(ty.clone()),
                None if self.defined.contains(id) => return Err(fail(format!("operand %{id} is not visible here (defined in another region)"))),
                None => return Err(fail(format!("operand %{id} is used before it is defined"))),
            }
        }
        let results: Vec<Type> = op.results.iter().map(|v| v.ty.clone()).collect();
        if let Some(placement) = &op.placement {
            if placement.device.is_empty() {
                return Err(fail("placement has an empty device".into()));
            }
            // `none`: not scheduled; otherwise a device of the target or a `+` group of them.
            if let Some(devices) = &self.globals.devices
                && placement.device != "none"
                && let Some(unknown) = placement.device.split('+').find(|d| !devices.contains(d))
            {
                return Err(fail(format!("placement on `{}`: device `{unknown}` is not in the target's devices", placement.device)));
            }
        }
        self.check_signature(op, &operands, &results).map_err(fail)?;
        self.check_bounds(op).map_err(fail)?;
        // Regions see the values defined before the op; their own definitions stay inside.
        let region_types = self.region_shapes(op, &operands, &results).map_err(fail)?;
        for (region, (params, terminator, yields)) in op.regions.iter().zip(region_types) {
            self.check_region(region, &params, terminator, &yields, &at)?;
        }
        let constant = if op.op == "const" { op.attrs.get("value").and_then(Json::as_i64) } else { None };
        for result in &op.results {
            self.define(result, &at)?;
            self.producers.insert(result.id, (op.op.clone(), constant));
        }
        Ok(())
    }

    /// The language's bounds on iteration (docs/plan.md, "Bounded iteration"): a `loop`
    /// carries its `max_iterations` (which the interpreter enforces); a `map` / `for` runs
    /// from a constant `lb ≥ 0` in constant steps `≥ 1` up to a list's length or a constant of
    /// at most [`MAX_CONSTANT_TRIPS`], so no plan iterates without a bound.
    fn check_bounds(&self, op: &Op) -> Result<(), String> {
        match op.op.as_str() {
            "loop" => match op.attrs.get("max_iterations").and_then(Json::as_i64) {
                Some(max) if max >= 1 => Ok(()),
                Some(max) => Err(format!("`max_iterations` is {max}; a loop runs at most a positive number of times")),
                None => Err("missing positive integer attribute `max_iterations` (every loop is bounded)".into()),
            },
            "map" | "for" => {
                if let Some(max) = op.attrs.get("max_parallel")
                    && !(op.op == "map" && max.as_u64().is_some_and(|n| (1..=MAX_PARALLEL).contains(&n)))
                {
                    return Err(format!("`max_parallel` must be an integer from 1 to {MAX_PARALLEL} on a `map`, not {max}"));
                }
                let constant = |index: usize| {
                    op.operands.get(index).and_then(|id| self.producers.get(id)).and_then(|(_, value)| *value)
                };
                if !constant(0).is_some_and(|lb| lb >= 0) {
                    return Err("the lower bound must be a `const` ≥ 0".into());
                }
                if !constant(2).is_some_and(|step| step >= 1) {
                    return Err("the step must be a `const` ≥ 1".into());
                }
                match op.operands.get(1).and_then(|id| self.producers.get(id)) {
                    Some((opcode, _)) if opcode == "list_len" => Ok(()),
                    Some((_, Some(ub))) if *ub <= MAX_CONSTANT_TRIPS => Ok(()),
                    _ => Err(format!(
                        "the upper bound must be a list's `list_len` or a `const` of at most {MAX_CONSTANT_TRIPS} (every iteration is bounded)"
                    )),
                }
            }
            _ => Ok(()),
        }
    }

    /// For each region of a structured op: its parameter types, its terminator and the types
    /// the terminator passes on.
    #[allow(clippy::type_complexity)]
    fn region_shapes(&self, op: &Op, operands: &[Type], results: &[Type]) -> Result<Vec<(Vec<Type>, &'static str, Vec<Type>)>, String> {
        let count = |n: usize| -> Result<(), String> {
            if op.regions.len() != n { Err(format!("has {} regions, expected {n}", op.regions.len())) } else { Ok(()) }
        };
        match op.op.as_str() {
            "if" => {
                count(2)?;
                Ok(vec![(vec![], "yield", results.to_vec()), (vec![], "yield", results.to_vec())])
            }
            "try" => {
                // The body, then the catch arm, which receives the error message.
                count(2)?;
                Ok(vec![(vec![], "yield", results.to_vec()), (vec![Type::Text], "yield", results.to_vec())])
            }
            "loop" => {
                count(2)?;
                let after: Vec<Type> = op.regions[1].params.iter().map(|v| v.ty.clone()).collect();
                if after != results {
                    return Err(format!("the body's parameters ({}) differ from the results ({})", list(&after), list(results)));
                }
                Ok(vec![(operands.to_vec(), "condition", results.to_vec()), (results.to_vec(), "yield", operands.to_vec())])
            }
            "map" | "for" => {
                count(1)?;
                let carried = operands.get(3..).unwrap_or_default().to_vec();
                let mut params = vec![Type::Int];
                params.extend(carried.iter().cloned());
                Ok(vec![(params, "yield", carried)])
            }
            _ => {
                count(0)?;
                Ok(vec![])
            }
        }
    }

    fn check_region(&mut self, region: &Region, params: &[Type], terminator: &str, yields: &[Type], at: &str) -> Result<(), PlanError> {
        let error = |message: String| error(format!("{at}: {message}"));
        let got: Vec<Type> = region.params.iter().map(|v| v.ty.clone()).collect();
        if got != params {
            return Err(error(format!("region parameters are ({}), expected ({})", list(&got), list(params))));
        }
        let saved = self.visible.clone();
        for param in &region.params {
            self.define(param, at)?;
        }
        let Some(last) = region.body.last() else { return Err(error(format!("a region is empty (it must end in `{terminator}`)"))) };
        if last.op != terminator {
            return Err(error(format!("a region ends in `{}`, not `{terminator}`", last.op)));
        }
        for (index, op) in region.body.iter().enumerate() {
            if matches!(op.op.as_str(), "yield" | "condition") && index + 1 != region.body.len() {
                return Err(error(format!("`{}` (op {index}) is not the last op of its region", op.op)));
            }
            if op.op == "return" {
                return Err(error(format!("`return` (op {index}) inside a region: only a function body ends in `return`")));
            }
            self.check_op(op, index)?;
        }
        let passed: Vec<Type> = last.operands.iter().filter_map(|id| self.visible.get(id).cloned()).collect();
        let passed = if terminator == "condition" { passed.get(1..).unwrap_or_default().to_vec() } else { passed };
        if passed != yields {
            return Err(error(format!("`{terminator}` passes ({}), expected ({})", list(&passed), list(yields))));
        }
        self.visible = saved;
        Ok(())
    }

    fn check_signature(&self, op: &Op, operands: &[Type], results: &[Type]) -> Result<(), String> {
        use Type::*;
        let text = || Text;
        let list_of = |t: Type| List(Box::new(t));
        // Fixed signatures of the built-ins.
        let fixed: Option<(Vec<Type>, Vec<Type>)> = match op.op.as_str() {
            "concat" => Some((vec![text(), text()], vec![text()])),
            "text_eq" | "contains" | "starts_with" => Some((vec![text(), text()], vec![Bool])),
            "lines" => Some((vec![text()], vec![list_of(text())])),
            "split" => Some((vec![text(), text()], vec![list_of(text())])),
            "join" => Some((vec![list_of(text()), text()], vec![text()])),
            "text_len" => Some((vec![text()], vec![Int])),
            "trim" => Some((vec![text()], vec![text()])),
            "parse_int" => Some((vec![text()], vec![Int])),
            "parse_float" => Some((vec![text()], vec![Float])),
            "rem" => Some((vec![Int, Int], vec![Int])),
            "prefill" => Some((vec![text()], vec![Kv])),
            "chat_prompt" => Some((vec![list_of(list_of(text()))], vec![text()])),
            "decode" => Some((vec![Kv, list_of(text())], vec![text()])),
            "kv_transfer" => Some((vec![Kv], vec![Kv])),
            _ => None,
        };
        if let Some((want_operands, want_results)) = fixed {
            expect_types(operands, &want_operands, "operands")?;
            expect_types(results, &want_results, "results")?;
        }
        let one_result = || -> Result<&Type, String> {
            match results {
                [r] => Ok(r),
                _ => Err(format!("has {} results, expected 1", results.len())),
            }
        };
        let arity = |n: usize| -> Result<(), String> {
            if operands.len() != n { Err(format!("has {} operands, expected {n}", operands.len())) } else { Ok(()) }
        };
        if matches!(op.op.as_str(), "format" | "tool" | "url_template" | "json_object") {
            if let Some(bad) = operands.iter().find(|t| **t != Text) {
                return Err(format!("operand of type {bad}, expected text"));
            }
            if op.op == "format" && operands.is_empty() {
                return Err("has no format operand".into());
            }
            if one_result()? != &Text {
                return Err("result must be text".into());
            }
        }
        match op.op.as_str() {
            "const" => {
                arity(0)?;
                let ty = one_result()?;
                let value = op.attrs.get("value").ok_or("missing attribute `value`")?;
                let fits = match ty {
                    Text => value.is_string(),
                    Int => value.is_i64(),
                    Bool => value.is_boolean(),
                    Float | Scalar(_) => value.is_number(),
                    _ => false,
                };
                if !fits {
                    return Err(format!("`value` {value} is not a constant of type {ty}"));
                }
            }
            "list_literal" => {
                let ty = one_result()?;
                let List(element) = ty else { return Err(format!("result is {ty}, not a list")) };
                if let Some(bad) = operands.iter().find(|t| *t != &**element) {
                    return Err(format!("element of type {bad} in a {ty}"));
                }
            }
            "list_len" => {
                arity(1)?;
                if !matches!(operands[0], List(_)) || one_result()? != &Int {
                    return Err(format!("expected (list<T>) -> int, got ({}) -> ({})", list(operands), list(results)));
                }
            }
            "list_get" => {
                arity(2)?;
                match (&operands[0], &operands[1]) {
                    (List(element), Int) if one_result()? == &**element => {}
                    _ => return Err(format!("expected (list<T>, int) -> T, got ({}) -> ({})", list(operands), list(results))),
                }
            }
            "list_append" => {
                arity(2)?;
                match &operands[0] {
                    List(element) if **element == operands[1] && one_result()? == &operands[0] => {}
                    _ => return Err(format!("expected (list<T>, T) -> list<T>, got ({}) -> ({})", list(operands), list(results))),
                }
            }
            "to_text" | "to_json" => {
                arity(1)?;
                if one_result()? != &Text {
                    return Err("result must be text".into());
                }
            }
            "record_new" => {
                let ty = one_result()?;
                if !matches!(ty, Record(_)) {
                    return Err(format!("result is {ty}, not a record"));
                }
                let fields = string_array(op, "fields")?;
                if fields.len() != operands.len() {
                    return Err(format!("has {} operands for {} `fields`", operands.len(), fields.len()));
                }
                if let Some(twice) = fields.iter().enumerate().find_map(|(i, f)| fields[..i].contains(f).then_some(f)) {
                    return Err(format!("field `{twice}` is named twice"));
                }
            }
            "record_get" => {
                arity(1)?;
                one_result()?;
                if !matches!(operands[0], Record(_)) {
                    return Err(format!("operand is {}, not a record", operands[0]));
                }
                string_attr(op, "field")?;
                if op.attrs.get("index").and_then(Json::as_u64).is_none() {
                    return Err("missing attribute `index` (a field position)".into());
                }
            }
            "json_parse" => {
                arity(1)?;
                if operands[0] != Text {
                    return Err(format!("operand is {}, not text", operands[0]));
                }
                let schema = string_attr(op, "schema")?;
                crate::exec::json::check_schema(schema, one_result()?)?;
            }
            "argmax" => {
                arity(1)?;
                if !matches!(&operands[0], List(e) if matches!(**e, Int | Float)) || one_result()? != &Int {
                    return Err(format!("expected (list<int|float>) -> int, got ({}) -> ({})", list(operands), list(results)));
                }
            }
            "div" | "add" | "sub" | "mul" | "min" | "max" => {
                arity(2)?;
                let ty = one_result()?;
                if !is_numeric(ty) || operands[0] != *ty || operands[1] != *ty || (op.op == "div" && !matches!(ty, Int | Float)) {
                    return Err(format!("expected (T, T) -> T on numbers, got ({}) -> ({})", list(operands), list(results)));
                }
            }
            "neg" | "abs" => {
                arity(1)?;
                let ty = one_result()?;
                if !is_numeric(ty) || operands[0] != *ty {
                    return Err(format!("expected (T) -> T on numbers, got ({}) -> ({})", list(operands), list(results)));
                }
            }
            "and" | "or" | "xor" => {
                arity(2)?;
                let ty = one_result()?;
                if !matches!(ty, Bool | Int) || operands[0] != *ty || operands[1] != *ty {
                    return Err(format!("expected (T, T) -> T on bool or int, got ({}) -> ({})", list(operands), list(results)));
                }
            }
            "cmp" => {
                arity(2)?;
                if operands[0] != operands[1] || !is_numeric(&operands[0]) || one_result()? != &Bool {
                    return Err(format!("expected (T, T) -> bool on numbers, got ({}) -> ({})", list(operands), list(results)));
                }
                let predicate = string_attr(op, "predicate")?;
                if !matches!(predicate, "eq" | "ne" | "lt" | "le" | "gt" | "ge") {
                    return Err(format!("predicate `{predicate}` is not eq, ne, lt, le, gt or ge"));
                }
            }
            "convert" => {
                arity(1)?;
                let ty = one_result()?;
                let ok = (matches!(operands[0], Int | Float | Bool | Scalar(_)) && is_numeric(ty))
                    || (matches!(operands[0], Tensor { .. }) && matches!(ty, Tensor { .. }));
                if !ok {
                    return Err(format!("cannot convert {} to {ty}", operands[0]));
                }
            }
            "chat_prompt" => {
                let model = string_attr(op, "model")?;
                if !self.globals.chat_models.contains(model) {
                    return Err(format!("model `{model}` has no chat template in the plan"));
                }
            }
            "prefill" | "decode" | "encode" => {
                let model = string_attr(op, "model")?;
                if let Some(chat) = op.attrs.get("chat") {
                    if op.op == "encode" || *chat != Json::Bool(true) {
                        return Err("attribute `chat` is `true` on a prefill or decode only".into());
                    }
                    if !self.globals.chat_models.contains(model) {
                        return Err(format!("a `chat` {} of model `{model}`, which has no chat template in the plan", op.op));
                    }
                }
                let want = if op.op == "encode" { "encoder" } else { "decoder" };
                match self.globals.models.get(model) {
                    None => return Err(format!("model `{model}` is not declared")),
                    Some(kind) if *kind != want && *kind != "unknown" => return Err(format!("model `{model}` is an {kind}, not a {want}")),
                    Some(_) => {}
                }
                if op.op == "decode" {
                    let max_tokens = op.attrs.get("max_tokens").and_then(Json::as_i64).ok_or("missing integer attribute `max_tokens`")?;
                    if max_tokens <= 0 {
                        return Err(format!("max_tokens {max_tokens} is not positive"));
                    }
                    let temperature = op.attrs.get("temperature").and_then(Json::as_f64).ok_or("missing number attribute `temperature`")?;
                    if !(temperature >= 0.0) {
                        return Err(format!("temperature {temperature} is negative"));
                    }
                    for name in ["top_k", "seed"] {
                        if op.attrs.get(name).is_some_and(|v| v.as_u64().is_none()) {
                            return Err(format!("attribute `{name}` is not a non-negative integer"));
                        }
                    }
                    for name in ["top_p", "min_p", "repetition_penalty"] {
                        if op.attrs.get(name).is_some_and(|v| v.as_f64().is_none()) {
                            return Err(format!("attribute `{name}` is not a number"));
                        }
                    }
                    crate::sampling::Sampling::of_attrs(&op.attrs).check()?;
                    match op.attrs.get("json_schema") {
                        None => {}
                        Some(Json::String(schema)) => {
                            crate::grammar::Grammar::parse(schema).map_err(|e| format!("attribute `json_schema`: {e}"))?;
                        }
                        Some(_) => return Err("attribute `json_schema` is not a text".into()),
                    }
                }
                if op.op == "encode" {
                    arity(1)?;
                    if operands[0] != Text || !matches!(one_result()?, Tensor { .. }) {
                        return Err(format!("expected (text) -> tensor, got ({}) -> ({})", list(operands), list(results)));
                    }
                }
            }
            "kv_transfer" => {
                string_attr(op, "from")?;
                string_attr(op, "to")?;
            }
            "compute" | "call" => {
                let callee = string_attr(op, "callee")?;
                let (params, returns) = if op.op == "compute" {
                    self.globals.fns.get(callee).map(|(p, r)| (p.clone(), r.clone())).ok_or_else(|| format!("fn `{callee}` is not in `fns`"))?
                } else {
                    match self.globals.functions.get(callee) {
                        Some((FunctionKind::Agent, p, r)) => (p.clone(), r.clone()),
                        _ => return Err(format!("agent function `{callee}` is not in the plan")),
                    }
                };
                expect_types(operands, &params, "operands")?;
                expect_types(results, &returns, "results")?;
            }
            "tool" => {
                let callee = string_attr(op, "callee")?;
                match self.globals.functions.get(callee) {
                    Some((FunctionKind::Tool, params, _)) if params.len() == operands.len() => {}
                    Some((FunctionKind::Tool, params, _)) => return Err(format!("tool `{callee}` takes {} arguments, given {}", params.len(), operands.len())),
                    _ => return Err(format!("tool `{callee}` is not in the plan")),
                }
            }
            "exec" | "http" => {
                if self.function.kind != FunctionKind::Tool {
                    return Err("only a tool function may hold it".into());
                }
                let first = if op.op == "exec" { list_of(Text) } else { Text };
                if operands.is_empty() || operands.len() > 2 || operands[0] != first || operands.get(1).is_some_and(|t| *t != Text) {
                    return Err(format!("expected ({first}[, text]), got ({})", list(operands)));
                }
                if one_result()? != &Text {
                    return Err("result must be text".into());
                }
                for name in ["timeout_ms", "retries"] {
                    if !op.attrs.get(name).is_some_and(|v| v.as_u64().is_some()) {
                        return Err(format!("missing non-negative integer attribute `{name}`"));
                    }
                }
                if op.attrs.get("retries").and_then(Json::as_u64).is_some_and(|r| r > crate::tools::MAX_RETRIES) {
                    return Err(format!("`retries` is above {}", crate::tools::MAX_RETRIES));
                }
                // Absent: retries follow one another at once.
                if let Some(backoff) = op.attrs.get("backoff_ms")
                    && !backoff.as_u64().is_some_and(|b| (1..=crate::tools::MAX_BACKOFF_MS).contains(&b))
                {
                    return Err(format!("`backoff_ms` must be an integer from 1 to {}, not {backoff}", crate::tools::MAX_BACKOFF_MS));
                }
                // Absent in a hand-written plan: the default (16 MiB).
                if let Some(max) = op.attrs.get("max_output")
                    && !max.as_u64().is_some_and(|m| (1..=crate::tools::MAX_MAX_OUTPUT).contains(&m))
                {
                    return Err(format!("`max_output` must be an integer from 1 to {}, not {max}", crate::tools::MAX_MAX_OUTPUT));
                }
                if op.op == "exec" {
                    string_attr(op, "program")?;
                } else {
                    let method = string_attr(op, "method")?;
                    if !matches!(method, "get" | "post") {
                        return Err(format!("method `{method}` is not get or post"));
                    }
                    if op.attrs.contains_key("content_type") {
                        string_attr(op, "content_type")?;
                    }
                    let strings = |key: &str| op.attrs.get(key).map(|v| v.as_array().filter(|a| a.iter().all(Json::is_string)).map(Vec::len));
                    match (strings("header_names"), strings("header_values")) {
                        (None, None) => {}
                        (Some(Some(n)), Some(Some(v))) if n == v => {}
                        _ => return Err("`header_names` and `header_values` must be string arrays of one length".into()),
                    }
                }
            }
            "json_object" => {
                if self.function.kind != FunctionKind::Tool {
                    return Err("only a tool function may hold it".into());
                }
                let keys = op.attrs.get("keys").and_then(Json::as_array).ok_or("missing array attribute `keys`")?;
                if keys.len() != operands.len() || !keys.iter().all(Json::is_string) {
                    return Err(format!("`keys` must hold one name per operand ({})", operands.len()));
                }
            }
            "url_template" => {
                if self.function.kind != FunctionKind::Tool {
                    return Err("only a tool function may hold it".into());
                }
                string_attr(op, "template")?;
                let names = op.attrs.get("names").and_then(Json::as_array).ok_or("missing array attribute `names`")?;
                if names.len() != operands.len() || !names.iter().all(Json::is_string) {
                    return Err(format!("`names` must hold one name per operand ({})", operands.len()));
                }
            }
            "if" => {
                if operands != [Bool] {
                    return Err(format!("expected one bool operand, got ({})", list(operands)));
                }
            }
            "try" => {
                if !operands.is_empty() {
                    return Err(format!("expected no operands, got ({})", list(operands)));
                }
            }
            "loop" => {}
            "map" | "for" => {
                if operands.len() < 3 || operands[..3] != [Int, Int, Int] {
                    return Err(format!("expected (int, int, int, carried...), got ({})", list(operands)));
                }
                if operands[3..] != *results {
                    return Err(format!("carried values ({}) differ from results ({})", list(&operands[3..]), list(results)));
                }
            }
            "yield" | "condition" => {
                if !results.is_empty() {
                    return Err("a terminator has no results".into());
                }
                if op.op == "condition" && operands.first() != Some(&Bool) {
                    return Err("`condition` needs a bool first operand".into());
                }
            }
            "return" => {
                expect_types(operands, &self.function.results, "returned values")?;
            }
            _ => {}
        }
        Ok(())
    }

}

fn string_attr<'o>(op: &'o Op, name: &str) -> Result<&'o str, String> {
    op.attrs.get(name).and_then(Json::as_str).ok_or_else(|| format!("missing string attribute `{name}`"))
}

fn string_array<'o>(op: &'o Op, name: &str) -> Result<Vec<&'o str>, String> {
    op.attrs
        .get(name)
        .and_then(Json::as_array)
        .and_then(|items| items.iter().map(Json::as_str).collect::<Option<Vec<_>>>())
        .ok_or_else(|| format!("missing attribute `{name}` (a list of texts)"))
}

fn expect_types(got: &[Type], want: &[Type], what: &str) -> Result<(), String> {
    if got != want {
        return Err(format!("{what} are ({}), expected ({})", list(got), list(want)));
    }
    Ok(())
}

fn list(types: &[Type]) -> String {
    types.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

