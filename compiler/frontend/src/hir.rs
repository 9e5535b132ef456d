//! The checked program: names resolved, every expression typed, annotations validated.
//!
//! This is what the checker hands to lowering. It is a different type from the untyped
//! [`crate::ast`] (as in Gleam), so lowering never re-resolves names or re-checks types:
//! implicit conversions (int → float promotion) are explicit [`TExprKind::Convert`] nodes,
//! calls say what they call, and model calls carry their options as plain values.

use std::path::PathBuf;

pub use crate::ast::{BinaryOp, UnaryOp};
pub use crate::span::Span;
pub use crate::types::{DType, Ty};
pub use agentc_runtime::chat::ChatTemplate;

/// A checked `.agent` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// Model declarations, in source order.
    pub models: Vec<Model>,
    /// Tool declarations, in source order.
    pub tools: Vec<Tool>,
    /// Tensor functions, in source order.
    pub fns: Vec<TensorFn>,
    /// Agents, in source order.
    pub agents: Vec<Agent>,
    /// Record types, in source order.
    pub records: Vec<Record>,
}

/// `record NAME { field: TYPE, ... }`: a named record type (no record contains itself).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The record type's name.
    pub name: String,
    /// Field names and types, in declaration order (the order of its JSON).
    pub fields: Vec<(String, Ty)>,
    /// The declaration.
    pub span: Span,
}

impl Module {
    /// The record type named `name`.
    pub fn record(&self, name: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.name == name)
    }
}

/// What kind of network a model folder holds, from `config.json`'s `architectures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A decoder (`LlamaForCausalLM`): supports `generate`.
    Decoder,
    /// An encoder (`BertModel`): supports `embed`.
    Encoder,
}

/// What the checker read from a model folder's `config.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// `architectures[0]` (`LlamaForCausalLM`, `BertModel`).
    pub architecture: String,
    /// Decoder or encoder.
    pub kind: ModelKind,
    /// `hidden_size`: the width of `embed`'s result.
    pub hidden_size: u64,
    /// `max_position_embeddings` (the context in tokens), when the config gives it.
    pub max_positions: Option<u64>,
    /// The folder's chat template (`tokenizer_config.json` or `chat_template.jinja`):
    /// `Ok(None)` when it has none, an error when it cannot be read or does not parse
    /// (reported only at a `chat` call).
    pub chat_template: Result<Option<ChatTemplate>, String>,
}

/// `model NAME = hf("folder")`.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The model's name.
    pub name: String,
    /// The folder as written in the source.
    pub path: String,
    /// The folder resolved against the `.agent` file's directory.
    pub resolved_path: PathBuf,
    /// The weight dtype option (`dtype: "f16"`), if given.
    pub dtype: Option<DType>,
    /// `activations: "int8"` (a `gguf` model): its linear layers over one row (the decode
    /// steps', the prefill's lm_head) round the row to int8 per block of the weight's group and use
    /// integer dot products.
    pub int8_activations: bool,
    /// The folder's configuration, or `None` when the folder is absent (allowed by
    /// `check`, with a warning; an error at build time).
    pub config: Option<ModelConfig>,
    /// The declaration.
    pub span: Span,
}

/// A parameter of an agent, tool or tensor function; also a [`Local`] of the body.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Where it was declared.
    pub span: Span,
}

/// `tool NAME(PARAMS) -> TYPE = exec(...) | http(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    /// The tool's name.
    pub name: String,
    /// Its parameters; they are locals `0..params.len()` of [`Tool::locals`].
    pub params: Vec<Param>,
    /// Locals of the implementation's argument expressions (just the parameters).
    pub locals: Vec<Local>,
    /// The declared result type (`text`).
    pub ret: Ty,
    /// How the tool runs.
    pub kind: ToolKind,
    /// `timeout: D` in milliseconds; `None` means no timeout.
    pub timeout_ms: Option<u64>,
    /// `retries: N`; 0 when absent.
    pub retries: u64,
    /// `backoff: D` in milliseconds: the wait before the first retry, doubled before each
    /// later one (capped); `None` retries at once.
    pub backoff_ms: Option<u64>,
    /// `max_output: N` in bytes (stdout of `exec`, response body of `http`); `None` means the
    /// runtime's default (16 MiB).
    pub max_output: Option<u64>,
    /// The declaration.
    pub span: Span,
}

/// How a tool runs.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolKind {
    /// `exec(PROGRAM, [ARGS...], stdin: EXPR)`: run a program without a shell.
    Exec {
        /// The program (looked up on PATH), a text literal.
        program: String,
        /// The argument expressions (text), over the tool's parameters.
        args: Vec<TExpr>,
        /// The stdin expression (text), if any.
        stdin: Option<TExpr>,
    },
    /// `http(get|post, "URL with {param}", body: EXPR | json: [...], headers: [...])`.
    Http {
        /// GET or POST.
        method: HttpMethod,
        /// The URL template as written (escapes decoded).
        url_template: String,
        /// The parameters named in the template, in order of appearance
        /// (indexes into [`Tool::params`]).
        url_params: Vec<usize>,
        /// The body (`body:` text or `json:` fields), if any.
        body: Option<HttpBody>,
        /// The declared headers, in order.
        headers: Vec<HttpHeader>,
    },
}

/// The body of a `post` http tool.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpBody {
    /// `body: EXPR`: text, sent as `text/plain; charset=utf-8`.
    Text(TExpr),
    /// `json: [field("name", EXPR), …]`: a JSON object of text values, sent as
    /// `application/json`.
    Json(Vec<(String, TExpr)>),
}

/// `header("Name", VALUE)` of an http tool: the value is fixed where the tool is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpHeader {
    /// The header's name as written (a token).
    pub name: String,
    /// The value's parts, in order.
    pub value: Vec<HeaderPart>,
}

/// A part of a header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderPart {
    /// Literal text.
    Text(String),
    /// `env("NAME")`: the environment variable's value, read at each call and never shown.
    Env(String),
}

/// HTTP method of an http tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
}

/// `fn NAME(PARAMS) -> TYPE { BODY }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorFn {
    /// The function's name.
    pub name: String,
    /// Its parameters; they are locals `0..params.len()`.
    pub params: Vec<Param>,
    /// Every local of the body, parameters first.
    pub locals: Vec<Local>,
    /// The declared result type (a tensor or a scalar element type).
    pub ret: Ty,
    /// The body; its value is the result.
    pub body: TBlock,
    /// The declaration.
    pub span: Span,
}

/// The objective an agent is optimised for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Minimise end-to-end latency.
    Latency,
    /// Minimise money spent.
    Cost,
}

/// `agent NAME(PARAMS) -> TYPE @sla(...) @objective(...) { BODY }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    /// The agent's name.
    pub name: String,
    /// Its parameters; they are locals `0..params.len()`.
    pub params: Vec<Param>,
    /// Every local of the body, parameters first.
    pub locals: Vec<Local>,
    /// The declared result type.
    pub ret: Ty,
    /// `@sla(latency: D)` in milliseconds.
    pub sla_ms: Option<u64>,
    /// `@objective(cost|latency)`.
    pub objective: Option<Objective>,
    /// The body. Its value (or a final `return`) is the result.
    pub body: TBlock,
    /// The declaration.
    pub span: Span,
}

/// Index of a local variable in its body's `locals` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// A local variable (parameter, `let`, or `map` variable).
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Where it was declared.
    pub span: Span,
}

/// A checked block.
#[derive(Clone, Debug, PartialEq)]
pub struct TBlock {
    /// The statements (not including the value expression).
    pub stmts: Vec<TStmt>,
    /// The block's value: its last expression statement, when that has a value.
    pub value: Option<Box<TExpr>>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A checked statement.
#[derive(Clone, Debug, PartialEq)]
pub enum TStmt {
    /// `let` binding.
    Let {
        /// The new local.
        local: LocalId,
        /// Its value.
        value: TExpr,
        /// The statement.
        span: Span,
    },
    /// Re-assignment of a local of an enclosing scope.
    Assign {
        /// The assigned local.
        local: LocalId,
        /// The new value.
        value: TExpr,
        /// The statement.
        span: Span,
    },
    /// `loop (max: N) { ... }`.
    Loop {
        /// The iteration bound `N`.
        max: u64,
        /// `@expect(iterations: K)`, if given.
        expect: Option<u64>,
        /// The body.
        body: TBlock,
        /// The statement.
        span: Span,
    },
    /// `break` (only inside a loop, never inside a map body).
    Break {
        /// The keyword.
        span: Span,
    },
    /// `return VALUE`: always the last statement of an agent body (the checker enforces it).
    Return {
        /// The returned value.
        value: TExpr,
        /// The statement.
        span: Span,
    },
    /// An expression evaluated for its effects.
    Expr(TExpr),
}

/// A checked expression.
#[derive(Clone, Debug, PartialEq)]
pub struct TExpr {
    /// Its type.
    pub ty: Ty,
    /// What it is.
    pub kind: TExprKind,
    /// Where.
    pub span: Span,
}

/// A device pin: `@device(gpu)`, `@device(cpu)` or `@device("h100_0")`.
#[derive(Clone, Debug, PartialEq)]
pub enum DevicePin {
    /// A device kind (`gpu`, `cpu`).
    Kind(String),
    /// A device name from the target.
    Named(String),
}

/// The forms of checked expression.
#[derive(Clone, Debug, PartialEq)]
pub enum TExprKind {
    /// Integer literal (`Ty::Int`, or a scalar integer type in fn bodies).
    Int(i64),
    /// Float literal (`Ty::Float`, or a scalar float type in fn bodies).
    Float(f64),
    /// Boolean literal.
    Bool(bool),
    /// Text literal.
    Str(String),
    /// List literal; its type says the element type (also for `[]`).
    List(Vec<TExpr>),
    /// A read of a local.
    Local(LocalId),
    /// A prefix operator; operand has the result type.
    Unary {
        /// Which operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<TExpr>,
    },
    /// An infix operator. Both operands have the same type after promotion (or, in fn
    /// bodies, broadcast-compatible tensor/scalar types); comparisons give `Bool`.
    Binary {
        /// Which operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<TExpr>,
        /// Right operand.
        rhs: Box<TExpr>,
    },
    /// An implicit or explicit numeric conversion to `ty` (int → float promotion,
    /// `float` ↔ `f32` at fn call boundaries).
    Convert(Box<TExpr>),
    /// A call of an agent (a sub-agent).
    CallAgent {
        /// The callee's name.
        name: String,
        /// The arguments, in parameter order.
        args: Vec<TExpr>,
    },
    /// A call of a tool.
    CallTool {
        /// The tool's name.
        name: String,
        /// The arguments, in parameter order.
        args: Vec<TExpr>,
    },
    /// A call of a tensor function.
    CallFn {
        /// The function's name.
        name: String,
        /// The arguments, converted to the parameter types.
        args: Vec<TExpr>,
        /// A `@device` pin, if any.
        device: Option<DevicePin>,
    },
    /// A built-in of agent code.
    Builtin {
        /// Which built-in.
        builtin: Builtin,
        /// Its arguments.
        args: Vec<TExpr>,
    },
    /// A tensor built-in inside a fn body; the result type carries shapes.
    Tensor {
        /// Which operation.
        op: TensorOp,
        /// Its arguments.
        args: Vec<TExpr>,
    },
    /// `MODEL.generate(prompt, max_tokens: N, temperature: F, stop: [...], top_k: K, ...)`,
    /// and `MODEL.chat(messages, …)` (`chat` set).
    Generate {
        /// The model's name.
        model: String,
        /// The prompt (text), or for `chat` the conversation (`list<message>`) the model's
        /// chat template renders into the prompt.
        prompt: Box<TExpr>,
        /// `chat`: the prompt is rendered by the model's chat template, tokenized without the
        /// post-processor's special tokens, and the generation also ends at the template's
        /// end-of-turn token.
        chat: bool,
        /// `max_tokens` (default 128).
        max_tokens: u64,
        /// `temperature` (default 0: greedy).
        temperature: f64,
        /// `top_k`, `top_p`, `min_p`, `repetition_penalty`, `seed` (each absent: off).
        sampling: Sampling,
        /// `stop` (a `list<text>`; an empty list literal when absent).
        stop: Box<TExpr>,
        /// A `@device` pin, if any.
        device: Option<DevicePin>,
    },
    /// `MODEL.embed(text)`.
    Embed {
        /// The model's name.
        model: String,
        /// The embedded text.
        text: Box<TExpr>,
        /// A `@device` pin, if any.
        device: Option<DevicePin>,
    },
    /// `NAME(field: value, ...)`: a value of record type `NAME` (the expression's type).
    Record {
        /// The field values, in the record's declaration order.
        fields: Vec<TExpr>,
    },
    /// `BASE.FIELD` on a record value.
    Field {
        /// The record value.
        base: Box<TExpr>,
        /// The field's name.
        field: String,
        /// The field's position in the record's declaration.
        index: usize,
    },
    /// `BASE[INDEX]` on a list.
    Index {
        /// The list.
        base: Box<TExpr>,
        /// The index (int).
        index: Box<TExpr>,
    },
    /// `if` (an expression when both branches have a value; `Unit` otherwise).
    If {
        /// The condition (bool).
        cond: Box<TExpr>,
        /// `Some(true)` for `@likely`, `Some(false)` for `@unlikely`.
        likely: Option<bool>,
        /// The then block.
        then_block: TBlock,
        /// The else block, if any.
        else_block: Option<TBlock>,
    },
    /// `try { BODY } catch ERROR { HANDLER }` (an expression when both arms have a value of
    /// one type; `Unit` otherwise): the handler runs, with `error` bound to the failure's
    /// one-line message, when the body fails at run time.
    Try {
        /// The guarded block.
        body: TBlock,
        /// The local holding the error message (text) inside the handler.
        error: LocalId,
        /// The catch arm.
        handler: TBlock,
    },
    /// `map VAR in LIST { BODY }`: a `list` of the body's values, in input order.
    Map {
        /// The element variable.
        var: LocalId,
        /// The mapped list.
        list: Box<TExpr>,
        /// `@expect(iterations: K)`, if given.
        expect: Option<u64>,
        /// `@max_parallel(N)`, if given: at most N bodies of this map at once.
        max_parallel: Option<u64>,
        /// The body.
        body: TBlock,
    },
}

/// Built-ins of agent code. Argument types are fixed per built-in, except where noted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `lines(text) -> list<text>`
    Lines,
    /// `split(text, sep: text) -> list<text>`
    Split,
    /// `join(list<text>, sep: text) -> text`
    Join,
    /// `contains(text, text) -> bool`
    Contains,
    /// `starts_with(text, text) -> bool`
    StartsWith,
    /// `len(text) -> int` (characters)
    LenText,
    /// `len(list<T>) -> int` (elements)
    LenList,
    /// `format(text, args...) -> text` with positional `{}`
    Format,
    /// `trim(text) -> text`
    Trim,
    /// `text + text -> text`
    Concat,
    /// `text == text -> bool` (and `!=` as its negation)
    TextEq,
    /// `min(a, b)` on two ints or two floats (after promotion)
    Min,
    /// `max(a, b)` on two ints or two floats (after promotion)
    Max,
    /// `abs(x)` on int or float
    Abs,
    /// `argmax(list<int|float>) -> int`
    Argmax,
    /// `int(x)` from text (parse), float (truncate), bool or int
    ToInt,
    /// `float(x)` from text (parse), int, bool or float
    ToFloat,
    /// `text(x)` from any type
    ToText,
    /// `to_json(x) -> text` on text, int, float, bool, lists of these and records
    ToJson,
    /// `json_parse(text, RECORD) -> RECORD`: the record the JSON text holds (the
    /// expression's type); a run-time error when it does not hold one
    JsonParse,
}

/// Tensor built-ins of fn bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorOp {
    /// `matmul(a, b)` (batched over leading dims)
    Matmul,
    /// `sum(x)`: full reduction to a scalar
    Sum,
    /// `mean(x)`: full reduction to a scalar
    Mean,
    /// `max(x)`: full reduction to a scalar
    Max,
    /// `norm(x)`: L2 norm to a scalar
    Norm,
    /// `exp(x)` elementwise
    Exp,
    /// `sqrt(x)` elementwise
    Sqrt,
    /// `softmax(x)` over the last dimension
    Softmax,
    /// `transpose(x)` of the last two dimensions
    Transpose,
    /// `reshape(x, [dims])`; the target shape is the result type
    Reshape,
}

impl TBlock {
    /// The span of the first `return` in this block that is not its last statement, or
    /// that sits in a nested `if` or `loop` (map bodies cannot return); `None` when there is
    /// none. An agent body with one is lowered with a "returned" flag (lower/body.rs).
    pub fn early_return(&self) -> Option<Span> {
        let last = self.stmts.len().checked_sub(1).filter(|_| self.value.is_none());
        for (index, stmt) in self.stmts.iter().enumerate() {
            let found = match stmt {
                TStmt::Return { span, .. } => (Some(index) != last).then_some(*span),
                other => returns_in_stmt(other),
            };
            if found.is_some() {
                return found;
            }
        }
        self.value.as_deref().and_then(returns_in_expr)
    }
}

/// The first `return` anywhere in `block`.
fn returns_in(block: &TBlock) -> Option<Span> {
    block.stmts.iter().find_map(returns_in_stmt).or_else(|| block.value.as_deref().and_then(returns_in_expr))
}

fn returns_in_stmt(stmt: &TStmt) -> Option<Span> {
    match stmt {
        TStmt::Return { span, .. } => Some(*span),
        TStmt::Expr(expr) => returns_in_expr(expr),
        TStmt::Loop { body, .. } => returns_in(body),
        _ => None,
    }
}

/// A `return` inside an `if`'s branches (the only expressions that hold statements that
/// may return).
fn returns_in_expr(expr: &TExpr) -> Option<Span> {
    match &expr.kind {
        TExprKind::If { then_block, else_block, .. } => returns_in(then_block).or_else(|| else_block.as_ref().and_then(returns_in)),
        _ => None,
    }
}

/// The sampling options of a `generate` call besides `temperature` (docs/language.md
/// §8.1); each is `None` when the call does not give it. Ranges are checked by sema.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sampling {
    /// `top_k:` (≥ 1).
    pub top_k: Option<u64>,
    /// `top_p:` (in (0, 1]).
    pub top_p: Option<f64>,
    /// `min_p:` (in [0, 1]).
    pub min_p: Option<f64>,
    /// `repetition_penalty:` (> 0).
    pub repetition_penalty: Option<f64>,
    /// `seed:` (≥ 0): the call's own seed, replacing the executable's `--seed`.
    pub seed: Option<u64>,
    /// `json:`: the JSON Schema text the result must be a value of (grammar-constrained
    /// decoding; checked against the supported subset by sema).
    pub json: Option<String>,
}
