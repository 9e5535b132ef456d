//! What the compiler knows about a model's weights: the names, dtypes and shapes in its
//! `model.safetensors` header. Nothing here maps or loads tensor data (the runtime
//! memory-maps the file); the compiler only checks that every weight a tensor function
//! binds by name exists with the shape the model's config.json implies.

pub mod safetensors;
