//! The weights of a GGUF model as the tensor level sees them: a [`Header`] listing each
//! bindable tensor under its Hugging Face name, F32 (the runtime dequantises them at load,
//! `dtype: "f32"`), with its row-major shape. No tensor data is read here.

use std::collections::BTreeMap;

use agentc_runtime::gguf::GgufModel;

use super::safetensors::{Header, TensorInfo};

/// The header the tensor functions bind weights against.
pub fn header(model: &GgufModel) -> Header {
    let mut tensors = BTreeMap::new();
    let mut offset = 0u64;
    for (name, shape) in model.tensors() {
        let bytes = shape.iter().product::<usize>() as u64 * 4;
        let shape = shape.iter().map(|&d| d as i64).collect();
        tensors.insert(name, TensorInfo { dtype: "F32".into(), shape, data_offsets: (offset, offset + bytes) });
        offset += bytes;
    }
    Header { path: model.file().path().to_path_buf(), tensors, convert_to_f32: false }
}
