//! The weights of a GGUF model as the tensor level sees them: a [`Header`] listing each
//! bindable tensor under its Hugging Face name with its row-major shape. By default a matrix
//! of a type the quantised kernels read (Q8_0, Q4_0, Q4_1, Q4_K, Q6_K;
//! `agentc_runtime::gguf::quant`) keeps its ggml type as its dtype (the tensor level binds it
//! quantised, `tgraph.quant`) and the bytes the kernels read of it, its planar arrays'
//! ([`Scheme::bytes`]: ggml's block size for Q8_0, Q4_0 and Q4_1, whose f16 scales and mins
//! stay f16; more for Q4_K and Q6_K, whose f32 ones do not); every other tensor, and every tensor of
//! a model declared `dtype: "f32"`, is F32 (the runtime dequantises it at load). No tensor
//! data is read here.

use std::collections::BTreeMap;

use agentc_runtime::gguf::quant::Scheme;
use agentc_runtime::gguf::GgufModel;

use super::safetensors::{Header, TensorInfo};

/// The header the tensor functions bind weights against; `quantized`: compute from the
/// quantised blocks (no `dtype: "f32"`).
pub fn header(model: &GgufModel, quantized: bool) -> Header {
    let mut tensors = BTreeMap::new();
    let mut offset = 0u64;
    for (name, shape, ty) in model.typed_tensors() {
        let elements = shape.iter().product::<usize>() as u64;
        let scheme = Scheme::of(ty).filter(|_| quantized && shape.len() == 2);
        let (dtype, bytes) = if let Some(scheme) = scheme {
            (ty.name().to_string(), scheme.bytes(shape[0], shape[1]))
        } else {
            ("F32".to_string(), elements * 4)
        };
        let shape = shape.iter().map(|&d| d as i64).collect();
        tensors.insert(name, TensorInfo { dtype, shape, data_offsets: (offset, offset + bytes) });
        offset += bytes;
    }
    Header { path: model.file().path().to_path_buf(), tensors, convert_to_f32: false, int8_activations: false }
}
