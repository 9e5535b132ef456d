//! The item namespace: collects every declaration once, reports duplicates (also of
//! built-in names), and resolves written types into checked ones for each kind of item.

use std::collections::{HashMap, HashSet};

use crate::ast::{self, Item, TypeExpr, TypeExprKind};
use crate::diagnostic::Diagnostic;
use crate::hir::ModelKind;
use crate::span::Span;
use crate::types::{DType, Ty};

use super::scope::{SuggestionBudget, suggest};

/// What kind of item a global name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlobalKind {
    Model,
    Tool,
    Fn,
    Agent,
    Record,
}

impl GlobalKind {
    /// "a model", "a tool", ...
    pub fn article(self) -> &'static str {
        match self {
            GlobalKind::Model => "a model",
            GlobalKind::Tool => "a tool",
            GlobalKind::Fn => "a fn",
            GlobalKind::Agent => "an agent",
            GlobalKind::Record => "a record type",
        }
    }
}

/// A declared item's signature as far as callers need it.
#[derive(Clone, Debug)]
pub(crate) struct Global {
    pub kind: GlobalKind,
    /// Where its name was declared.
    pub span: Span,
    /// Parameter names and types (`None` where the written type was invalid); for a record,
    /// its fields in declaration order.
    pub params: Vec<(String, Option<Ty>)>,
    /// Result type (`None` when invalid).
    pub ret: Option<Ty>,
    /// For models: decoder or encoder, when the folder's config is known.
    pub model_kind: Option<ModelKind>,
    /// For models: `hidden_size`, when known.
    pub hidden_size: Option<u64>,
    /// For models: `max_position_embeddings` (the context), when known.
    pub max_positions: Option<u64>,
    /// For models: the architecture name, when known.
    pub architecture: Option<String>,
    /// For models: the chat template as read from the folder, when the folder is known.
    pub chat_template: Option<Result<Option<agentc_runtime::chat::ChatTemplate>, String>>,
}

/// Agent-code built-ins.
pub(crate) const AGENT_BUILTINS: &[&str] = &[
    "lines", "split", "join", "contains", "starts_with", "len", "format", "trim", "min", "max",
    "abs", "argmax", "int", "float", "text", "system", "user", "assistant", "to_json", "json_parse",
];

/// Tensor built-ins of fn bodies.
pub(crate) const TENSOR_BUILTINS: &[&str] = &[
    "matmul", "sum", "mean", "max", "norm", "exp", "sqrt", "softmax", "transpose", "reshape",
];

/// Names that only make sense in declarations.
pub(crate) const DECLARATION_BUILTINS: &[&str] = &["hf", "exec", "http"];

/// Whether `name` is a built-in of any kind.
pub(crate) fn is_builtin(name: &str) -> bool {
    AGENT_BUILTINS.contains(&name)
        || TENSOR_BUILTINS.contains(&name)
        || DECLARATION_BUILTINS.contains(&name)
}

/// The global namespace.
#[derive(Default)]
pub(crate) struct Globals {
    pub items: HashMap<String, Global>,
    /// Declared names in source order (for deterministic suggestions).
    pub order: Vec<String>,
    /// The "did you mean" suggestions the program's unknown names may still get.
    pub suggestions: SuggestionBudget,
    /// The names of the declared record types (the types a written name may refer to).
    pub record_names: HashSet<String>,
    /// The JSON Schema text of each checked record type (`json: RECORD` on `generate` and
    /// `chat` constrains decoding with it; [`crate::json_schema::schema_of`]).
    pub record_schemas: std::collections::HashMap<String, String>,
}

impl Globals {
    /// Looks up an item.
    pub fn get(&self, name: &str) -> Option<&Global> {
        self.items.get(name)
    }

    /// Item names, in source order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }
}

/// The declared name of an item.
pub(crate) fn item_name(item: &Item) -> &ast::Ident {
    match item {
        Item::Model(m) => &m.name,
        Item::Tool(t) => &t.name,
        Item::Fn(f) => &f.name,
        Item::Agent(a) => &a.name,
        Item::Record(r) => &r.name,
    }
}

/// A resolved signature: parameter names and types, and the result type (`None` where
/// the written type was invalid).
pub(crate) type Signature = (Vec<(String, Option<Ty>)>, Option<Ty>);

/// Collects the items' names and signatures. Returns, per item, its signature and whether
/// it is the one registered under its name (a duplicate is still checked, not registered).
pub(crate) fn collect(program: &ast::Program, diags: &mut Vec<Diagnostic>) -> (Globals, Vec<(Signature, bool)>) {
    let mut globals = Globals::default();
    // Record names first: any signature may use a record declared later in the file.
    let records: HashSet<String> = program
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) if !is_builtin(&r.name.name) && !is_type_name(&r.name.name) => Some(r.name.name.clone()),
            _ => None,
        })
        .collect();
    let mut out = Vec::with_capacity(program.items.len());
    for item in &program.items {
        let name = item_name(item);
        let (kind, params, ret) = match item {
            Item::Model(_) => (GlobalKind::Model, Vec::new(), None),
            Item::Tool(t) => (
                GlobalKind::Tool,
                params(&t.params, TypeContext::Tool, &records, diags),
                resolve_type(&t.ret, TypeContext::ToolResult, &records, diags),
            ),
            Item::Fn(f) => (
                GlobalKind::Fn,
                params(&f.params, TypeContext::Fn, &records, diags),
                resolve_type(&f.ret, TypeContext::Fn, &records, diags),
            ),
            Item::Agent(a) => (
                GlobalKind::Agent,
                params(&a.params, TypeContext::Agent, &records, diags),
                resolve_type(&a.ret, TypeContext::Agent, &records, diags),
            ),
            Item::Record(r) => (
                GlobalKind::Record,
                params(&r.fields, TypeContext::RecordField, &records, diags),
                Some(Ty::Record(r.name.name.clone())),
            ),
        };
        if matches!(item, Item::Record(_)) && is_type_name(&name.name) {
            diags.push(
                Diagnostic::error(format!("a record cannot be named `{}`", name.name), name.span)
                    .with_note(format!("`{}` is a built-in type name", name.name)),
            );
            out.push(((params, ret), false));
            continue;
        }
        if is_builtin(&name.name) {
            diags.push(
                Diagnostic::error(format!("duplicate declaration of `{}`", name.name), name.span)
                    .with_note(format!("`{}` is a built-in name", name.name)),
            );
            out.push(((params, ret), false));
            continue;
        }
        if let Some(first) = globals.items.get(&name.name) {
            diags.push(
                Diagnostic::error(format!("duplicate declaration of `{}`", name.name), name.span)
                    .with_secondary(first.span, "first declared here"),
            );
            out.push(((params, ret), false));
            continue;
        }
        globals.order.push(name.name.clone());
        globals.items.insert(
            name.name.clone(),
            Global {
                kind,
                span: name.span,
                params: params.clone(),
                ret: ret.clone(),
                model_kind: None,
                hidden_size: None,
                max_positions: None,
                architecture: None,
                chat_template: None,
            },
        );
        out.push(((params, ret), true));
    }
    globals.record_names = records;
    (globals, out)
}

fn params(
    params: &[ast::Param],
    context: TypeContext,
    records: &HashSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Option<Ty>)> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut out = Vec::with_capacity(params.len());
    for param in params {
        if let Some(first) = seen.get(param.name.name.as_str()) {
            diags.push(
                Diagnostic::error(format!("duplicate declaration of `{}`", param.name.name), param.name.span)
                    .with_secondary(*first, "first declared here"),
            );
        } else {
            seen.insert(&param.name.name, param.name.span);
        }
        out.push((param.name.name.clone(), resolve_type(&param.ty, context, records, diags)));
    }
    out
}

/// Where a type is written; each place allows different types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeContext {
    /// Agent parameters, results and `let` annotations: text, int, float, bool, lists, tensors.
    Agent,
    /// Tool parameters: text, int, float, bool.
    Tool,
    /// A tool's result: text.
    ToolResult,
    /// Fn parameters, results and lets: tensors and scalar element types.
    Fn,
    /// A record's field: text, int, float, bool, lists of these and records.
    RecordField,
}

const AGENT_TYPE_NAMES: &[&str] = &["text", "int", "float", "bool", "list", "message"];
const SCALAR_TYPE_NAMES: &[&str] = &["f32", "f16", "bf16", "i32", "i64"];

/// Whether `name` is a type name of the language (a record may not take it).
fn is_type_name(name: &str) -> bool {
    AGENT_TYPE_NAMES.contains(&name) || SCALAR_TYPE_NAMES.contains(&name) || name == "tensor"
}

/// Resolves a written type for `context`, reporting what is not allowed there.
pub(crate) fn resolve_type(
    ty: &TypeExpr,
    context: TypeContext,
    records: &HashSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Ty> {
    let resolved = resolve_any(ty, records, diags)?;
    let allowed = match context {
        TypeContext::Agent => !matches!(resolved, Ty::Scalar(_)),
        TypeContext::Tool => resolved == Ty::Text,
        TypeContext::ToolResult => resolved == Ty::Text,
        TypeContext::Fn => matches!(resolved, Ty::Tensor { .. } | Ty::Scalar(_)),
        TypeContext::RecordField => is_json_type(&resolved),
    };
    if allowed {
        return Some(resolved);
    }
    let (message, help) = match context {
        TypeContext::Agent => (
            format!("scalar element type `{resolved}` is only allowed in fn signatures and bodies"),
            "use `float` or `int` in agent code".to_string(),
        ),
        TypeContext::Tool => (
            format!("a tool parameter must be `text`, found `{resolved}`"),
            "tools receive their arguments as text: declare the parameter `text` and pass `text(x)` at the call".to_string(),
        ),
        TypeContext::ToolResult => (
            format!("a tool's result type must be `text`, found `{resolved}`"),
            "a tool returns its program's output or the response body as text".to_string(),
        ),
        TypeContext::RecordField => (
            format!("a record field cannot have type `{resolved}`"),
            "record fields are text, int, float, bool, list<T> of these, or another record (they have a JSON form)".to_string(),
        ),
        TypeContext::Fn => (
            format!("a fn cannot use type `{resolved}`"),
            "fn parameters, results and locals are tensors or scalar element types (`f32`, `f16`, `bf16`, `i32`, `i64`)"
                .to_string(),
        ),
    };
    diags.push(Diagnostic::error(message, ty.span).with_help(help));
    None
}

/// Whether values of `ty` have a JSON form (`to_json`, `json_parse`, record fields).
pub(crate) fn is_json_type(ty: &Ty) -> bool {
    match ty {
        Ty::Text | Ty::Int | Ty::Float | Ty::Bool | Ty::Record(_) => true,
        Ty::List(elem) => is_json_type(elem),
        _ => false,
    }
}

fn resolve_any(ty: &TypeExpr, records: &HashSet<String>, diags: &mut Vec<Diagnostic>) -> Option<Ty> {
    match &ty.kind {
        TypeExprKind::Named(name) => match name.as_str() {
            "text" => Some(Ty::Text),
            "int" => Some(Ty::Int),
            "float" => Some(Ty::Float),
            "bool" => Some(Ty::Bool),
            "message" => Some(Ty::Message),
            "list" => {
                diags.push(
                    Diagnostic::error("`list` needs an element type", ty.span)
                        .with_help("write `list<text>`"),
                );
                None
            }
            other if records.contains(other) => Some(Ty::Record(other.to_string())),
            other => match DType::from_name(other) {
                Some(dtype) => Some(Ty::Scalar(dtype)),
                None => {
                    let mut diagnostic = Diagnostic::error(format!("unknown type `{other}`"), ty.span);
                    let mut known: Vec<&str> = records.iter().map(String::as_str).collect();
                    known.sort_unstable();
                    let candidates = AGENT_TYPE_NAMES.iter().chain(SCALAR_TYPE_NAMES).copied().chain(known);
                    if let Some(s) = suggest(other, candidates) {
                        diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(diagnostic);
                    None
                }
            },
        },
        TypeExprKind::List(inner) => {
            let inner = resolve_any(inner, records, diags)?;
            if matches!(inner, Ty::Scalar(_)) {
                diags.push(Diagnostic::error(
                    format!("scalar element type `{inner}` cannot be a list element"),
                    ty.span,
                ));
                return None;
            }
            Some(Ty::List(Box::new(inner)))
        }
        TypeExprKind::Tensor { dims, elem } => match DType::from_name(elem) {
            Some(elem) => Some(Ty::Tensor { dims: dims.clone(), elem }),
            None => {
                diags.push(Diagnostic::error(format!("unknown tensor element type `{elem}`"), ty.span));
                None
            }
        },
    }
}
