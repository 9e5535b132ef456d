//! Run-time values of the plan interpreter.

use std::fmt;

use crate::builtins;
use crate::plan::Type;

/// A value of agent code while a plan runs. Fn scalars (`f32`, `i32`…) are held as
/// [`Value::Float`] / [`Value::Int`]; tensors and KV caches are placeholders until compiled
/// kernels can be loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `text`.
    Text(String),
    /// `int` (and `i32`).
    Int(i64),
    /// `float` (and `f32`, `f16`, `bf16`).
    Float(f64),
    /// `bool`.
    Bool(bool),
    /// `list<T>`.
    List(Vec<Value>),
    /// A tensor (no data yet: model and tensor fragments need compiled kernels).
    Tensor(Type),
    /// A KV cache (no data yet).
    Kv,
}

impl Value {
    /// The value as `text(x)` writes it (text as it is; a list as `[a, b]`).
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => builtins::float_to_text(*f),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(Value::to_text).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Tensor(ty) => format!("<{ty}>"),
            Value::Kv => "<kv>".to_string(),
        }
    }

    /// A short name of the value's kind, for internal errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::List(_) => "list",
            Value::Tensor(_) => "tensor",
            Value::Kv => "kv",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
