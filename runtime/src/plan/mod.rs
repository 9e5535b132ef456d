//! The plan: the scheduled workflow, serialised, that an executable embeds and the runtime
//! interprets (as IREE's VM runs a module). `agentc build --emit=plan` writes it; the format
//! is documented field by field in `docs/plan.md`.
//!
//! A plan is JSON. Its field order is fixed (struct order; attribute maps are sorted), so the
//! same program gives byte-identical plans. [`load`] parses and validates one: every operand
//! is defined before use, types agree with each opcode's signature, opcodes, callees and
//! models are known. Errors are values ([`PlanError`]), never panics.

mod load;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use load::{load, validate, PlanError, MAX_CONSTANT_TRIPS, MAX_PARALLEL};

/// The value of the `format` field: what this file is.
pub const FORMAT: &str = "agentc-plan";

/// The version of the format this runtime reads and the compiler writes. Any change a reader
/// of the previous version could misread (a field removed or renamed, a meaning changed, a
/// new opcode or type) increments it; the loader accepts exactly this version.
///
/// Version 2: the target lists its devices with their kinds (`target.devices`), and the
/// kernel symbols of the models are named once, in `models[].kernels` (no `kernel`
/// attribute on the ops).
///
/// Version 3: `exec` and `http` ops carry `max_output` (bytes of stdout / response body per
/// attempt; the compiler always writes it) and `retries` is at most 100; each model with
/// kernels records what they were compiled for (`models[].config`: the `config.json` sizes;
/// `models[].weights`: name, dtype and shape of every weight), which the executable checks
/// the folder it loads against; records: the type `record<NAME>` and the opcodes
/// `record_new`, `record_get`, `to_json` and `json_parse`.
pub const FORMAT_VERSION: u32 = 3;

/// A whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for plans this runtime accepts.
    pub format_version: u32,
    /// The `.agent` file the plan was compiled from, as the compiler was given it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The target and objective the plan was scheduled for (absent when unscheduled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The models the workflow uses, in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<Model>,
    /// The compiled tensor functions (`fn`) that `compute` ops call: signatures only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fns: Vec<ComputeFn>,
    /// The interpreted functions: `main`, any agent not inlined, and the tools.
    pub functions: Vec<Function>,
}

/// Where and for what the plan was scheduled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The target's name (a preset or the TOML file given).
    pub name: String,
    /// `latency` or `cost`.
    pub objective: String,
    /// The latency bound in seconds, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_seconds: Option<f64>,
    /// The scheduler's estimate of the request's makespan, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makespan_seconds: Option<f64>,
    /// The scheduler's estimate of the cost of one request, in USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Every device of the target, in the target's order: the names placements use.
    pub devices: Vec<Device>,
}

/// One device of the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The name placements use (`cpu`, `h100_0`).
    pub name: String,
    /// What it is: `cpu`, `gpu` or `accelerator` ([`DEVICE_KINDS`]).
    pub kind: String,
}

/// The device kinds a target may list.
pub const DEVICE_KINDS: &[&str] = &["cpu", "gpu", "accelerator"];

/// The roles of a model's kernels (`models[].kernels` keys): the opcodes they compute.
pub const KERNEL_ROLES: &[&str] = &["prefill", "decode", "encode"];

/// A model declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// The model's name in the program (what `prefill`/`decode`/`encode` ops name).
    pub name: String,
    /// The folder as written in the source, relative to the `.agent` file.
    pub path: String,
    /// `decoder`, `encoder` or `unknown`.
    pub kind: String,
    /// The Hugging Face architecture (`LlamaForCausalLM`, `BertModel`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// The arithmetic type the compiled kernels use (`f32`, `bf16`, `fp8`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dtype: String,
    /// The hidden size (0 when unknown).
    #[serde(default)]
    pub hidden_size: u64,
    /// The compiled kernel function of each role ([`KERNEL_ROLES`]: `prefill`, `decode`,
    /// `encode`), when the plan was emitted after `convert-fragment-to-tensor` (as the driver
    /// does for `--emit=plan` and executables).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kernels: BTreeMap<String, String>,
    /// The `config.json` sizes the kernels were compiled for ([`CONFIG_KEYS`]: `vocab_size`,
    /// `hidden_size`, …; defaults already applied): the runtime refuses a folder whose
    /// config gives another value. Present exactly when `kernels` is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, u64>,
    /// Every weight the kernels read, sorted by name: the runtime refuses a folder whose
    /// `model.safetensors` lacks one or gives it another dtype or shape. Present exactly
    /// when `kernels` is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<WeightSpec>,
    /// The chat template the program's `chat` calls render with (read from the folder at
    /// build; present when a `chat_prompt` names the model): the runtime renders with it and
    /// refuses a folder whose template differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<crate::chat::ChatTemplate>,
}

/// The `config.json` keys a model's compiled kernels depend on (the keys of
/// `models[].config`; an architecture records the ones it reads).
pub const CONFIG_KEYS: &[&str] = &[
    "head_dim",
    "hidden_size",
    "intermediate_size",
    "max_position_embeddings",
    "num_attention_heads",
    "num_hidden_layers",
    "num_key_value_heads",
    "type_vocab_size",
    "vocab_size",
];

/// A weight a model's kernels were compiled to read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightSpec {
    /// The safetensors name (`model.embed_tokens.weight`).
    pub name: String,
    /// The safetensors dtype the kernel reads (`F32`, `BF16`, `F16`).
    pub dtype: String,
    /// The dtype the folder stores it in, when it differs from `dtype`: the runtime
    /// converts it at load (a `BF16`/`F16` weight of a model declared `dtype: "f32"`).
    /// Empty: stored as `dtype`, bound in place.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stored: String,
    /// The shape, row-major.
    pub shape: Vec<u64>,
    /// The weight-only quantised kernel form the kernels read it in (`int8_g32h` from Q8_0,
    /// `int8_g16` from Q6_K, `int4s_g32h` from Q4_0, `int4_g32h` from Q4_1, `int4_g32` from
    /// Q4_K; a trailing `h`: f16 scales and mins; crate::gguf::quant::Scheme), `stored` being
    /// its ggml type (`Q4_1`): the kernels take its arrays `name#q`, `name#scale` (and
    /// `name#min`), repacked at load. Empty: not quantised.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quant: String,
    /// The bytes a quantised weight is stored in (its ggml blocks): 8 × this / elements
    /// is its bits per weight in the file (Q8_0 8.5, Q4_1 5.0, Q4_K 4.5, Q6_K 6.5625). The
    /// cost model charges the bytes of the planar arrays the kernels read
    /// (crate::gguf::quant::Scheme::bytes), the same for Q8_0, Q4_0 and Q4_1, more for Q4_K
    /// (6.0) and Q6_K (10.0). 0 (absent): not quantised.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stored_bytes: u64,
}

/// A compiled tensor function: its symbol and signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeFn {
    /// The symbol of the compiled function.
    pub name: String,
    /// Parameter types.
    pub params: Vec<Type>,
    /// Result types.
    pub results: Vec<Type>,
}

/// An interpreted function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// Its symbol (`main`, a tool's name).
    pub name: String,
    /// `agent` or `tool`.
    pub kind: FunctionKind,
    /// Its parameters, as values of the body.
    pub params: Vec<Value>,
    /// Its result types.
    pub results: Vec<Type>,
    /// Its source location, `file:line:col`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub loc: String,
    /// Its ops in program order; the last is `return`.
    pub body: Vec<Op>,
}

/// What a function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// `main` or a sub-agent.
    Agent,
    /// A tool: its body builds and makes the request (`exec` / `http`).
    Tool,
}

/// An SSA value: its id (unique in its function) and type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Value {
    /// The id operands refer to.
    pub id: u32,
    /// The type.
    #[serde(rename = "type")]
    pub ty: Type,
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// The opcode (`docs/plan.md` lists them with their signatures).
    pub op: String,
    /// Operand value ids, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operands: Vec<u32>,
    /// The values the op defines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<Value>,
    /// Run-time attributes (sorted by name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, serde_json::Value>,
    /// Where the scheduler placed it, and when it expects it to run (fragments only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Source location, `file:line:col`, for run-time errors.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub loc: String,
    /// Nested bodies (`if`, `loop`, `map`, `for`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
}

/// A fragment's placement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// A device name of the target's `devices` (`cpu`, `gpu0`), or `a+b` for a
    /// tensor-parallel group; `none` when the fragment was not scheduled.
    pub device: String,
    /// Expected start, seconds from the start of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Expected finish, seconds from the start of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<f64>,
}

/// A nested body: block parameters, then ops ending in `yield` or `condition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The block's parameters (loop-carried values, a map's index and accumulator).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Value>,
    /// Ops in program order.
    pub body: Vec<Op>,
}

/// A value's type. Written as text: `text`, `int` (i64), `float` (f64), `bool`, `kv`, the fn
/// scalars `f32`, `f16`, `bf16`, `i32`, `list<T>`, `tensor<64x?xf32>` (dims then dtype;
/// `tensor<f32>` is 0-d).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// A KV cache (a prefill's result).
    Kv,
    /// A scalar of a tensor fn (`f32`, `f16`, `bf16`, `i32`).
    Scalar(String),
    /// An immutable list.
    List(Box<Type>),
    /// A value of the program's record type of this name (`record<Answer>`): its fields are
    /// named by the ops that make one (`record_new`'s `fields`, `json_parse`'s `schema`).
    Record(String),
    /// A tensor: dims (`None` = dynamic) and element type.
    Tensor {
        /// The dims.
        shape: Vec<Option<u64>>,
        /// The element type (`f32`, `f16`, `bf16`, `i32`, `i64`).
        dtype: String,
    },
}

const SCALARS: &[&str] = &["f32", "f16", "bf16", "i32"];
const DTYPES: &[&str] = &["f32", "f16", "bf16", "i32", "i64"];

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Text => f.write_str("text"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Kv => f.write_str("kv"),
            Type::Scalar(name) => f.write_str(name),
            Type::List(element) => write!(f, "list<{element}>"),
            Type::Record(name) => write!(f, "record<{name}>"),
            Type::Tensor { shape, dtype } => {
                f.write_str("tensor<")?;
                for dim in shape {
                    match dim {
                        Some(n) => write!(f, "{n}x")?,
                        None => f.write_str("?x")?,
                    }
                }
                write!(f, "{dtype}>")
            }
        }
    }
}

impl FromStr for Type {
    type Err = String;

    fn from_str(text: &str) -> Result<Type, String> {
        let bad = || format!("`{text}` is not a plan type (text, int, float, bool, kv, f32, list<T>, record<NAME>, tensor<DIMSxDTYPE>)");
        Ok(match text {
            "text" => Type::Text,
            "int" => Type::Int,
            "float" => Type::Float,
            "bool" => Type::Bool,
            "kv" => Type::Kv,
            s if SCALARS.contains(&s) => Type::Scalar(s.to_string()),
            _ => {
                if let Some(inner) = text.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
                    Type::List(Box::new(inner.parse().map_err(|_| bad())?))
                } else if let Some(name) = text.strip_prefix("record<").and_then(|t| t.strip_suffix('>')) {
                    let identifier = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !identifier {
                        return Err(bad());
                    }
                    Type::Record(name.to_string())
                } else if let Some(inner) = text.strip_prefix("tensor<").and_then(|t| t.strip_suffix('>')) {
                    let mut parts: Vec<&str> = inner.split('x').collect();
                    let dtype = parts.pop().unwrap_or_default();
                    if !DTYPES.contains(&dtype) {
                        return Err(bad());
                    }
                    let shape = parts
                        .iter()
                        .map(|d| if *d == "?" { Ok(None) } else { d.parse::<u64>().map(Some).map_err(|_| bad()) })
                        .collect::<Result<_, _>>()?;
                    Type::Tensor { shape, dtype: dtype.to_string() }
                } else {
                    return Err(bad());
                }
            }
        })
    }
}

impl Serialize for Type {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Type {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Type, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Plan {
    /// The plan as JSON text (pretty, fields in their fixed order, a final newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Whether the placement `device` (a device name, or `a+b` for a tensor-parallel group)
    /// is or holds a device of the target whose kind satisfies `kind` (`cpu`, `gpu`,
    /// `accelerator`). Unscheduled plans place nothing on any kind.
    pub fn placed_on(&self, device: &str, kind: impl Fn(&str) -> bool) -> bool {
        let Some(target) = &self.target else { return false };
        device.split('+').any(|d| target.devices.iter().any(|t| t.name == d && kind(&t.kind)))
    }

    /// The first fragment, in function and program order with regions searched in place,
    /// whose placement is on a device kind satisfying `kind` (see [`Plan::placed_on`]).
    pub fn first_placed(&self, kind: impl Fn(&str) -> bool) -> Option<&Op> {
        fn walk<'a>(ops: &'a [Op], on: &dyn Fn(&str) -> bool) -> Option<&'a Op> {
            ops.iter().find_map(|op| match &op.placement {
                Some(p) if on(&p.device) => Some(op),
                _ => op.regions.iter().find_map(|r| walk(&r.body, on)),
            })
        }
        let on = |device: &str| self.placed_on(device, &kind);
        self.functions.iter().find_map(|f| walk(&f.body, &on))
    }
}

#[cfg(test)]
mod tests;

fn is_zero(n: &u64) -> bool {
    *n == 0
}
