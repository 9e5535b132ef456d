//! GGUF model files (llama.cpp's format): `model m = gguf("file.gguf", dtype: "f32")`.
//!
//! - [`reader`]: the file, memory-mapped and checked as untrusted input — header (v2, v3),
//!   typed metadata, tensor table, `general.alignment`; every read is bounds-checked and a
//!   bad file is an error naming the file and the field, never a panic.
//! - [`dequant`]: ggml's tensor types (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K) to f32.
//! - [`llama`]: what transformers' GGUF loader derives from a `llama` file: the `config.json`
//!   it stands for, the Hugging Face tensor names and shapes, the Q/K row order of RoPE that
//!   llama.cpp's converter permuted, undone.
//! - [`tokenizer`]: the `tokenizers` tokenizer the metadata describes (byte-level BPE) and
//!   the chat template.
//!
//! The rest of the runtime and the compiler see a GGUF model as a folder's files: a config
//! (JSON), a tokenizer, a chat template and f32 weights (dequantised at load, owned).

pub mod dequant;
pub mod llama;
pub mod model;
pub mod quant;
pub mod reader;
pub mod tokenizer;

use std::fmt;
use std::path::Path;

pub use model::GgufModel;
pub use reader::{GgufFile, TensorEntry, Value};

/// A GGUF file that cannot be read or used: the message names the file and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufError(pub String);

impl fmt::Display for GgufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GgufError {}

/// Whether a model path names a GGUF file (by its `.gguf` extension) rather than a folder.
pub fn is_gguf(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}
