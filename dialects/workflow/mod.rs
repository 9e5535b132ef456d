//! Builders and accessors for the `workflow` dialect (reference: `workflow/README.md`).
//!
//! Every builder returns an unattached [`Operation`]; the caller inserts it. Op names are
//! constants so passes match on them without string typos.

use melior::ir::attribute::{
    ArrayAttribute, FlatSymbolRefAttribute, FloatAttribute, IntegerAttribute, StringAttribute,
};
use melior::ir::operation::{OperationBuilder, OperationLike};
use melior::ir::r#type::IntegerType;
use melior::ir::{Attribute, Identifier, Location, Operation, Type, Value};
use melior::{Context, Error};

/// `workflow.model`
pub const MODEL: &str = "workflow.model";
/// The discardable attribute of a `workflow.model` declared `gguf(..., activations: "int8")`:
/// the value `"int8"` (the decode steps quantise activations per block of 32).
pub const ACTIVATIONS: &str = "workflow.activations";
/// A value as a record field (the operand of a `record_new`).
pub const FIELD_VALUE: &str = "workflow.field_value";
/// A record value from its fields (`fields`: the names, in declaration order).
pub const RECORD_NEW: &str = "workflow.record_new";
/// A field of a record (`field`, `index`).
pub const RECORD_GET: &str = "workflow.record_get";
/// `to_json(x)`.
pub const TO_JSON: &str = "workflow.to_json";
/// `json_parse(t, R)` (`schema`: R's JSON Schema).
pub const JSON_PARSE: &str = "workflow.json_parse";
/// `workflow.text_constant`
pub const TEXT_CONSTANT: &str = "workflow.text_constant";
/// `workflow.list_literal`
pub const LIST_LITERAL: &str = "workflow.list_literal";
/// `workflow.list_len`
pub const LIST_LEN: &str = "workflow.list_len";
/// `workflow.list_get`
pub const LIST_GET: &str = "workflow.list_get";
/// `workflow.list_append`
pub const LIST_APPEND: &str = "workflow.list_append";
/// `workflow.concat`
pub const CONCAT: &str = "workflow.concat";
/// `workflow.text_eq`
pub const TEXT_EQ: &str = "workflow.text_eq";
/// `workflow.lines`
pub const LINES: &str = "workflow.lines";
/// `workflow.split`
pub const SPLIT: &str = "workflow.split";
/// `workflow.join`
pub const JOIN: &str = "workflow.join";
/// `workflow.contains`
pub const CONTAINS: &str = "workflow.contains";
/// `workflow.starts_with`
pub const STARTS_WITH: &str = "workflow.starts_with";
/// `workflow.text_len`
pub const TEXT_LEN: &str = "workflow.text_len";
/// `workflow.trim`
pub const TRIM: &str = "workflow.trim";
/// `workflow.format`
pub const FORMAT: &str = "workflow.format";
/// `workflow.to_text`
pub const TO_TEXT: &str = "workflow.to_text";
/// `workflow.parse_int`
pub const PARSE_INT: &str = "workflow.parse_int";
/// `workflow.parse_float`
pub const PARSE_FLOAT: &str = "workflow.parse_float";
/// `workflow.argmax`
pub const ARGMAX: &str = "workflow.argmax";
/// `workflow.div`
pub const DIV: &str = "workflow.div";
/// `workflow.rem`
pub const REM: &str = "workflow.rem";
/// `workflow.generate`
pub const GENERATE: &str = "workflow.generate";
/// `workflow.chat_prompt`: a conversation rendered by a model's chat template.
pub const CHAT_PROMPT: &str = "workflow.chat_prompt";
/// The unit attribute of a `workflow.generate` (and of its prefill and decode) that a
/// `chat` call made.
pub const CHAT_ATTR: &str = "chat";
/// `workflow.embed`
pub const EMBED: &str = "workflow.embed";
/// `workflow.tool_call`
pub const TOOL_CALL: &str = "workflow.tool_call";
/// `workflow.exec`
pub const EXEC: &str = "workflow.exec";
/// `workflow.url_template`
pub const URL_TEMPLATE: &str = "workflow.url_template";
/// `workflow.http`
pub const HTTP: &str = "workflow.http";
/// `workflow.json_object`
pub const JSON_OBJECT: &str = "workflow.json_object";

/// Unit attribute on a func.func that is an agent.
pub const AGENT_ATTR: &str = "workflow.agent";
/// Unit attribute on a func.func that is a tool.
pub const TOOL_ATTR: &str = "workflow.tool";
/// Unit attribute on a func.func that is a tensor function.
pub const FN_ATTR: &str = "workflow.fn";
/// i64 attribute on an agent: its `@sla(latency: …)` in milliseconds.
pub const SLA_ATTR: &str = "workflow.sla_ms";
/// String attribute on an agent: its `@objective(…)` (`"latency"` or `"cost"`).
pub const OBJECTIVE_ATTR: &str = "workflow.objective";
/// Unit attribute on the scf.for of a `map`.
pub const PARALLEL_ATTR: &str = "workflow.parallel";
/// i64 attribute on the scf.for of a `map`: `@max_parallel(N)`, at most N of its bodies at
/// once (overrides the executable's `--max-parallel` for that map; docs/runtime.md).
pub const MAX_PARALLEL_ATTR: &str = "workflow.max_parallel";
/// i64 attribute on a loop's scf.while: the `loop (max: N)` bound.
pub const MAX_ITERATIONS_ATTR: &str = "workflow.max_iterations";
/// i64 attribute on a loop or map: `@expect(iterations: K)`.
pub const EXPECTED_ITERATIONS_ATTR: &str = "workflow.expected_iterations";
/// Bool attribute on an scf.if: `@likely` (true) or `@unlikely` (false).
pub const LIKELY_ATTR: &str = "workflow.likely";
/// Unit attribute marking the `scf.execute_region` of `try { … } catch e { … }`: its entry
/// block is the body, its second block `^catch(%e: !workflow.text)` the catch arm, reached
/// only when the body fails at run time (no branch leads to it). IRDL ops cannot hold
/// terminated regions, hence the upstream op (dialects/workflow/README.md).
pub const TRY_ATTR: &str = "workflow.try";

/// `!workflow.text`.
pub fn text_type(context: &Context) -> Type<'_> {
    Type::parse(context, "!workflow.text").expect("the workflow dialect is loaded")
}

/// `!workflow.list<elem>`.
pub fn list_type<'c>(context: &'c Context, elem: Type<'c>) -> Type<'c> {
    Type::parse(context, &format!("!workflow.list<{elem}>")).expect("the workflow dialect is loaded")
}

/// Whether `ty` is `!workflow.text`.
pub fn is_text(ty: Type) -> bool {
    ty.to_string() == "!workflow.text"
}

/// The element type of a `!workflow.list<T>`, if `ty` is one.
pub fn list_elem<'c>(context: &'c Context, ty: Type<'c>) -> Option<Type<'c>> {
    let text = ty.to_string();
    let inner = text.strip_prefix("!workflow.list<")?.strip_suffix('>')?;
    Type::parse(context, inner)
}

/// i1, i64 and f64: the builtin types of `bool`, `int` and `float`.
pub fn i1(context: &Context) -> Type<'_> {
    IntegerType::new(context, 1).into()
}

/// i64: the type of `int`.
pub fn i64(context: &Context) -> Type<'_> {
    IntegerType::new(context, 64).into()
}

/// f64: the type of `float`.
pub fn f64(context: &Context) -> Type<'_> {
    Type::float64(context)
}

fn named<'c>(context: &'c Context, name: &str, value: Attribute<'c>) -> (Identifier<'c>, Attribute<'c>) {
    (Identifier::new(context, name), value)
}

fn string<'c>(context: &'c Context, value: &str) -> Attribute<'c> {
    StringAttribute::new(context, value).into()
}

fn integer<'c>(context: &'c Context, value: i64) -> Attribute<'c> {
    IntegerAttribute::new(i64(context), value).into()
}

/// A `workflow.model` declaration.
pub struct ModelDecl<'a> {
    /// The model's symbol name.
    pub name: &'a str,
    /// The folder as written.
    pub path: &'a str,
    /// `architectures[0]` of config.json, or "".
    pub architecture: &'a str,
    /// "decoder", "encoder" or "unknown".
    pub kind: &'a str,
    /// `hidden_size`, or 0 when unknown.
    pub hidden_size: i64,
    /// The weight dtype option, or "".
    pub dtype: &'a str,
    /// `activations: "int8"`: written as the discardable attribute
    /// `workflow.activations = "int8"` (absent otherwise).
    pub int8_activations: bool,
}

/// Builds `workflow.model`.
pub fn model<'c>(context: &'c Context, decl: &ModelDecl, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(MODEL, location)
        .add_attributes(&[
            named(context, "sym_name", string(context, decl.name)),
            named(context, "path", string(context, decl.path)),
            named(context, "architecture", string(context, decl.architecture)),
            named(context, "kind", string(context, decl.kind)),
            named(context, "hidden_size", integer(context, decl.hidden_size)),
            named(context, "dtype", string(context, decl.dtype)),
        ])
        .add_attributes(&if decl.int8_activations { vec![named(context, ACTIVATIONS, string(context, "int8"))] } else { vec![] })
        .build()
}

/// Builds `workflow.text_constant`.
pub fn text_constant<'c>(context: &'c Context, value: &str, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(TEXT_CONSTANT, location)
        .add_attributes(&[named(context, "value", string(context, value))])
        .add_results(&[text_type(context)])
        .build()
}

/// Builds an op of this dialect that has only operands and one result (the text, list and
/// numeric built-ins: `concat`, `lines`, `list_get`, `div`, ...).
pub fn simple<'c>(
    name: &str,
    operands: &[Value<'c, '_>],
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(name, location).add_operands(operands).add_results(&[result]).build()
}

/// The options of a `workflow.generate`.
pub struct GenerateOptions<'a> {
    /// The model's symbol name.
    pub model: &'a str,
    /// `max_tokens`.
    pub max_tokens: i64,
    /// `temperature`.
    pub temperature: f64,
    /// The device pin ("" when free).
    pub device: &'a str,
    /// `top_k` (absent: off).
    pub top_k: Option<i64>,
    /// `top_p`, `min_p`, `repetition_penalty` (each absent: off).
    pub top_p: Option<f64>,
    /// `min_p`.
    pub min_p: Option<f64>,
    /// `repetition_penalty`.
    pub repetition_penalty: Option<f64>,
    /// The call's own `seed` (absent: the executable's `--seed`).
    pub seed: Option<i64>,
    /// `json:`: the JSON Schema text of grammar-constrained decoding (attribute
    /// `json_schema`; absent: unconstrained).
    pub json_schema: Option<&'a str>,
    /// Made by `chat` ([`CHAT_ATTR`]).
    pub chat: bool,
}

/// A model's chat template as `workflow.chat_prompt` carries it.
pub struct ChatPrompt<'a> {
    /// The model's symbol name.
    pub model: &'a str,
    /// The Jinja source.
    pub template: &'a str,
    /// The `bos_token` text.
    pub bos_token: &'a str,
    /// The `eos_token` text.
    pub eos_token: &'a str,
}

/// Builds `workflow.chat_prompt` over `messages` (a `list<list<text>>`).
pub fn chat_prompt<'c>(context: &'c Context, messages: Value<'c, '_>, chat: &ChatPrompt, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(CHAT_PROMPT, location)
        .add_operands(&[messages])
        .add_attributes(&[
            named(context, "model", FlatSymbolRefAttribute::new(context, chat.model).into()),
            named(context, "template", string(context, chat.template)),
            named(context, "bos_token", string(context, chat.bos_token)),
            named(context, "eos_token", string(context, chat.eos_token)),
        ])
        .add_results(&[text_type(context)])
        .build()
}

/// The optional sampling attributes of `workflow.generate`, carried unchanged to
/// `fragment.decode` and the plan's `decode` (integers: `top_k`, `seed`; the string
/// `json_schema`; floats: the rest).
pub const SAMPLING_ATTRS: [&str; 6] = ["top_k", "top_p", "min_p", "repetition_penalty", "seed", "json_schema"];

/// Builds `workflow.generate`.
pub fn generate<'c>(
    context: &'c Context,
    prompt: Value<'c, '_>,
    stop: Value<'c, '_>,
    options: &GenerateOptions,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let mut attributes = vec![
        named(context, "model", FlatSymbolRefAttribute::new(context, options.model).into()),
        named(context, "max_tokens", integer(context, options.max_tokens)),
        named(context, "temperature", FloatAttribute::new(context, f64(context), options.temperature).into()),
        named(context, "device", string(context, options.device)),
    ];
    for (name, value) in [("top_k", options.top_k), ("seed", options.seed)] {
        if let Some(value) = value {
            attributes.push(named(context, name, integer(context, value)));
        }
    }
    for (name, value) in [("top_p", options.top_p), ("min_p", options.min_p), ("repetition_penalty", options.repetition_penalty)] {
        if let Some(value) = value {
            attributes.push(named(context, name, FloatAttribute::new(context, f64(context), value).into()));
        }
    }
    if let Some(schema) = options.json_schema {
        attributes.push(named(context, "json_schema", string(context, schema)));
    }
    if options.chat {
        attributes.push(named(context, CHAT_ATTR, Attribute::unit(context)));
    }
    OperationBuilder::new(GENERATE, location)
        .add_operands(&[prompt, stop])
        .add_attributes(&attributes)
        .add_results(&[text_type(context)])
        .build()
}

/// Builds `workflow.embed` with result type `result` (a tensor type).
pub fn embed<'c>(
    context: &'c Context,
    text: Value<'c, '_>,
    model: &str,
    device: &str,
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(EMBED, location)
        .add_operands(&[text])
        .add_attributes(&[
            named(context, "model", FlatSymbolRefAttribute::new(context, model).into()),
            named(context, "device", string(context, device)),
        ])
        .add_results(&[result])
        .build()
}

/// Builds `workflow.tool_call` of the tool function `callee`.
pub fn tool_call<'c>(
    context: &'c Context,
    callee: &str,
    args: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(TOOL_CALL, location)
        .add_operands(args)
        .add_attributes(&[named(context, "callee", FlatSymbolRefAttribute::new(context, callee).into())])
        .add_results(&[text_type(context)])
        .build()
}

/// The attempt policy shared by `exec` and `http`.
pub struct Attempts {
    /// Per-attempt timeout in milliseconds; 0 means none.
    pub timeout_ms: i64,
    /// Extra attempts after a failure.
    pub retries: i64,
    /// `backoff: D` in milliseconds when declared: the optional attribute `backoff_ms` (the
    /// wait before the first retry, doubled before each later one); without it retries
    /// follow at once.
    pub backoff_ms: Option<i64>,
    /// `max_output: N` (bytes of stdout / response body per attempt) when declared: the
    /// optional attribute `max_output`; without it the runtime's default applies.
    pub max_output: Option<i64>,
}

/// The attributes of [`Attempts`], `backoff_ms` and `max_output` only when declared.
fn attempt_attributes<'c>(context: &'c Context, attempts: &Attempts) -> Vec<(Identifier<'c>, Attribute<'c>)> {
    let mut attributes = vec![
        named(context, "timeout_ms", integer(context, attempts.timeout_ms)),
        named(context, "retries", integer(context, attempts.retries)),
    ];
    if let Some(backoff_ms) = attempts.backoff_ms {
        attributes.push(named(context, "backoff_ms", integer(context, backoff_ms)));
    }
    if let Some(max_output) = attempts.max_output {
        attributes.push(named(context, "max_output", integer(context, max_output)));
    }
    attributes
}

/// Builds `workflow.exec`.
pub fn exec<'c>(
    context: &'c Context,
    program: &str,
    args: Value<'c, '_>,
    stdin: Option<Value<'c, '_>>,
    attempts: &Attempts,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let mut operands = vec![args];
    operands.extend(stdin);
    OperationBuilder::new(EXEC, location)
        .add_operands(&operands)
        .add_attributes(&[named(context, "program", string(context, program))])
        .add_attributes(&attempt_attributes(context, attempts))
        .add_results(&[text_type(context)])
        .build()
}

/// Builds `workflow.url_template`.
pub fn url_template<'c>(
    context: &'c Context,
    template: &str,
    names: &[&str],
    values: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let names: Vec<Attribute> = names.iter().map(|n| string(context, n)).collect();
    OperationBuilder::new(URL_TEMPLATE, location)
        .add_operands(values)
        .add_attributes(&[
            named(context, "template", string(context, template)),
            named(context, "names", ArrayAttribute::new(context, &names).into()),
        ])
        .add_results(&[text_type(context)])
        .build()
}

/// What `workflow.http` sends besides its URL and body: the optional attributes
/// `content_type` (the body's, when not `text/plain; charset=utf-8`), `header_names` and
/// `header_values` (one value template per name: `{NAME}` is environment variable `NAME`,
/// read at the call and never shown; `{{` and `}}` are literal braces).
#[derive(Default)]
pub struct HttpExtras<'a> {
    /// The body's `Content-Type` when it is not text (`application/json`).
    pub content_type: Option<&'a str>,
    /// The declared headers: (name, value template).
    pub headers: Vec<(String, String)>,
}

/// Builds `workflow.http`.
pub fn http<'c>(
    context: &'c Context,
    method: &str,
    url: Value<'c, '_>,
    body: Option<Value<'c, '_>>,
    attempts: &Attempts,
    extras: &HttpExtras<'_>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let mut operands = vec![url];
    operands.extend(body);
    let mut attributes = vec![named(context, "method", string(context, method))];
    if let Some(content_type) = extras.content_type {
        attributes.push(named(context, "content_type", string(context, content_type)));
    }
    if !extras.headers.is_empty() {
        let names: Vec<Attribute> = extras.headers.iter().map(|(n, _)| string(context, n)).collect();
        let values: Vec<Attribute> = extras.headers.iter().map(|(_, v)| string(context, v)).collect();
        attributes.push(named(context, "header_names", ArrayAttribute::new(context, &names).into()));
        attributes.push(named(context, "header_values", ArrayAttribute::new(context, &values).into()));
    }
    OperationBuilder::new(HTTP, location)
        .add_operands(&operands)
        .add_attributes(&attributes)
        .add_attributes(&attempt_attributes(context, attempts))
        .add_results(&[text_type(context)])
        .build()
}

/// Builds `workflow.json_object`: a JSON object whose field `keys[i]` is the text `values[i]`.
pub fn json_object<'c>(context: &'c Context, keys: &[&str], values: &[Value<'c, '_>], location: Location<'c>) -> Result<Operation<'c>, Error> {
    let keys: Vec<Attribute> = keys.iter().map(|k| string(context, k)).collect();
    OperationBuilder::new(JSON_OBJECT, location)
        .add_operands(values)
        .add_attributes(&[named(context, "keys", ArrayAttribute::new(context, &keys).into())])
        .add_results(&[text_type(context)])
        .build()
}

/// The string value of attribute `name` of `op`, if it is a string attribute.
pub fn string_attr<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>, name: &str) -> Option<String> {
    let attribute = op.attribute(name).ok()?;
    let string = StringAttribute::try_from(attribute).ok()?;
    Some(string_value(string))
}

/// The text of a string attribute. (melior's `StringAttribute::value` builds a slice from
/// a null pointer for the empty string, so this reads the C API directly.)
pub fn string_value(attribute: StringAttribute) -> String {
    use melior::ir::attribute::AttributeLike;
    // SAFETY: the attribute is a live string attribute; the C API returns its bytes.
    unsafe {
        let raw = mlir_sys::mlirStringAttrGetValue(attribute.to_raw());
        if raw.data.is_null() || raw.length == 0 {
            return String::new();
        }
        let bytes = std::slice::from_raw_parts(raw.data.cast::<u8>(), raw.length);
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The integer value of attribute `name` of `op`, if it is an integer attribute.
pub fn int_attr<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>, name: &str) -> Option<i64> {
    let attribute = op.attribute(name).ok()?;
    Some(IntegerAttribute::try_from(attribute).ok()?.value())
}

/// The float value of attribute `name` of `op`, if it is a float attribute.
pub fn float_attr<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>, name: &str) -> Option<f64> {
    let attribute = op.attribute(name).ok()?;
    Some(FloatAttribute::try_from(attribute).ok()?.value())
}

/// The referenced symbol name of attribute `name` of `op`, if it is a flat symbol ref.
pub fn symbol_attr<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>, name: &str) -> Option<String> {
    let attribute = op.attribute(name).ok()?;
    let symbol = FlatSymbolRefAttribute::try_from(attribute).ok()?;
    // SAFETY: as in `string_value`: read the symbol's bytes through the C API.
    unsafe {
        use melior::ir::attribute::AttributeLike;
        let raw = mlir_sys::mlirFlatSymbolRefAttrGetValue(symbol.to_raw());
        if raw.data.is_null() || raw.length == 0 {
            return Some(String::new());
        }
        Some(String::from_utf8_lossy(std::slice::from_raw_parts(raw.data.cast::<u8>(), raw.length)).into_owned())
    }
}
