//! What the compiler knows about a model's weights: the names, dtypes and shapes in its
//! `model.safetensors` header, or in a GGUF file's tensor table under their Hugging Face
//! names. Nothing here maps or loads tensor data (the runtime memory-maps the file, or
//! dequantises a GGUF's); the compiler only checks that every weight a tensor function binds
//! by name exists with the shape the model's config implies.

pub mod gguf;
pub mod safetensors;
