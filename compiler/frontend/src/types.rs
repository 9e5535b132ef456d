//! The checker's types.

use std::fmt;

/// Element types of tensors (and scalar types inside `fn` bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 16-bit IEEE float.
    F16,
    /// bfloat16.
    BF16,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
}

impl DType {
    /// Parses an element type name as written in the language (and in MLIR).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "f32" => DType::F32,
            "f16" => DType::F16,
            "bf16" => DType::BF16,
            "i32" => DType::I32,
            "i64" => DType::I64,
            _ => return None,
        })
    }

    /// The name as written in the language and in MLIR.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I32 => "i32",
            DType::I64 => "i64",
        }
    }

    /// Whether this is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::BF16)
    }
}

/// A checked type.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// A chat message (`system(t)`, `user(t)`, `assistant(t)`): a role and its text, for
    /// `MODEL.chat`. Lowered as the `list<text>` pair `[role, content]`.
    Message,
    /// A list with elements of one type.
    List(Box<Ty>),
    /// A value of the declared record type of this name (`record NAME { ... }`).
    Record(String),
    /// A tensor: dimensions (`None` is dynamic) and element type.
    Tensor {
        /// Dimensions, outermost first.
        dims: Vec<Option<u64>>,
        /// Element type.
        elem: DType,
    },
    /// A scalar element type, valid inside `fn` bodies and as `fn` parameters and results.
    Scalar(DType),
    /// No value (a statement-like expression such as `if` without `else`).
    Unit,
}

/// The most elements a tensor may have: the product of its static dimensions is at most
/// 2^48 (docs/language.md, "Limits"), so every size, byte count and FLOP count later
/// phases compute from a shape fits an `i64`.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 48;

/// Whether the static dimensions of a tensor multiply to at most [`MAX_TENSOR_ELEMENTS`]
/// (dynamic ones count as 1, and are bounded when their size is known).
pub fn tensor_size_ok(dims: &[Option<u64>]) -> bool {
    dims.iter().flatten().try_fold(1u64, |acc, &d| acc.checked_mul(d).filter(|&n| n <= MAX_TENSOR_ELEMENTS)).is_some()
}

impl Ty {
    /// Whether the type is `int` or `float`.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Text => write!(f, "text"),
            Ty::Int => write!(f, "int"),
            Ty::Float => write!(f, "float"),
            Ty::Bool => write!(f, "bool"),
            Ty::Message => write!(f, "message"),
            Ty::List(elem) => write!(f, "list<{elem}>"),
            Ty::Record(name) => write!(f, "{name}"),
            Ty::Tensor { dims, elem } => {
                write!(f, "tensor<")?;
                for dim in dims {
                    match dim {
                        Some(n) => write!(f, "{n}x")?,
                        None => write!(f, "?x")?,
                    }
                }
                write!(f, "{}>", elem.name())
            }
            Ty::Scalar(dtype) => write!(f, "{}", dtype.name()),
            Ty::Unit => write!(f, "()"),
        }
    }
}
