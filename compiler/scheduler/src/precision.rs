//! The weight formats a placement may hold a model in: the model's own dtype, or the
//! weight-only quantized formats the compiler generates kernels for (int8 and int4 with
//! one f16 scale per group of weights). Quantized formats are offered only for a model
//! that no accelerator (alone or as a tensor-parallel group) holds at its own dtype, so
//! accuracy is never traded unasked (docs/cost-model.md, "Precision").

use serde::Serialize;

use crate::graph::Dtype;

/// How a unit holds a model's weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// The model's own dtype (bf16, f16, f32 or fp8 as stored).
    #[default]
    Native,
    /// 8-bit weights with per-group scales: 1.0625 bytes per weight.
    Int8,
    /// 4-bit weights with per-group scales: 0.5625 bytes per weight.
    Int4,
}

impl Precision {
    /// The quantized formats, largest first (the order units are formed in).
    pub const QUANTIZED: [Precision; 2] = [Precision::Int8, Precision::Int4];

    /// The name reports and the fragment IR use (`native`, `int8`, `int4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Native => "native",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
        }
    }

    /// Bytes per weight in this format for a model stored as `dtype`: the dtype's size,
    /// or the quantized format's (8 or 4 bits plus a 16-bit scale per 32 weights).
    pub fn bytes_per_weight(self, dtype: Dtype) -> f64 {
        match self {
            Precision::Native => dtype_bytes(dtype),
            Precision::Int8 => 1.0625,
            Precision::Int4 => 0.5625,
        }
    }

    /// The factor the model's weight bytes shrink by in this format (1 for native; a
    /// quantized format that is not smaller than the dtype is never offered).
    pub fn weight_scale(self, dtype: Dtype) -> f64 {
        (self.bytes_per_weight(dtype) / dtype_bytes(dtype)).min(1.0)
    }
}

/// Bytes per element of `dtype`.
pub fn dtype_bytes(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::F32 => 4.0,
        Dtype::F16 | Dtype::Bf16 => 2.0,
        Dtype::Fp8 => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_formats_shrink_bf16_weights() {
        assert_eq!(Precision::Native.weight_scale(Dtype::Bf16), 1.0);
        assert_eq!(Precision::Int8.weight_scale(Dtype::Bf16), 1.0625 / 2.0);
        assert_eq!(Precision::Int4.weight_scale(Dtype::Bf16), 0.5625 / 2.0);
        // fp8 weights are already smaller than int8's: no shrink.
        assert_eq!(Precision::Int8.weight_scale(Dtype::Fp8), 1.0);
    }
}
