//! Run-time values of the plan interpreter.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::builtins;
use crate::models::Prefilled;

/// A tensor's elements, shared (values are immutable once made).
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// `f32` elements.
    F32(Arc<[f32]>),
    /// `i32` elements.
    I32(Arc<[i32]>),
    /// `i64` elements.
    I64(Arc<[i64]>),
}

/// A tensor value: row-major elements and their dims.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The dims (empty: 0-d).
    pub shape: Vec<usize>,
    /// The elements.
    pub data: TensorData,
}

/// A prefilled KV cache (a `kv` value), taken by the one `decode` that uses it.
#[derive(Clone, Debug)]
pub struct KvValue(pub Arc<Mutex<Option<Prefilled>>>);

impl PartialEq for KvValue {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A value of agent code while a plan runs. Fn scalars (`f32`, `i32`…) are held as
/// [`Value::Float`] / [`Value::Int`].
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
    /// `list<T>`: shared, so passing a list to an op or into a `map` body is O(1) rather
    /// than a copy of its elements (a body that indexes a list of n items would otherwise
    /// copy n values, and a `map` over it n² in all). Build a list as a `Vec` and wrap it
    /// once ([`Value::list`]); `Arc::make_mut` copies only when the list is shared.
    List(Arc<Vec<Value>>),
    /// A record: its fields' names and values in declaration order (shared, as lists are).
    Record(Arc<Vec<(String, Value)>>),
    /// A tensor.
    Tensor(Tensor),
    /// A KV cache after a prefill.
    Kv(KvValue),
}

impl Value {
    /// A list value owning `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

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
            // A record as `text(r)` writes it: its JSON.
            Value::Record(_) => super::json::to_json(self).unwrap_or_default(),
            Value::Tensor(t) => {
                let dims: Vec<String> = t.shape.iter().map(usize::to_string).collect();
                format!("<tensor {}>", dims.join("x"))
            }
            Value::Kv(_) => "<kv>".to_string(),
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
            Value::Record(_) => "record",
            Value::Tensor(_) => "tensor",
            Value::Kv(_) => "kv",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
