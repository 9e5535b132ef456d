//! The agentc runtime library. It never links MLIR or LLVM.
//!
//! It holds the semantics of the workflow built-ins ([`builtins`]), which the compiler's
//! folders call too, so a value folded at compile time is exactly the value the executable
//! would compute; the tools ([`tools`]); the tokenizer wrapper ([`tokenizer`]); token
//! selection and stop rules for `generate` ([`sampling`]); memory-mapped safetensors weights
//! ([`weights`]); the KV cache of a generate call ([`kv_cache`]); the CPU thread pool that
//! spreads a kernel's workgroups ([`pool`]); and the Chrome/Perfetto trace writer
//! ([`trace`]); the plan format with its loader ([`plan`]); compiled kernels and memref
//! descriptors ([`kernels`]) and the models they implement ([`models`]), whose folders are
//! checked against what the kernels were compiled for ([`model_folder`]). The plan
//! interpreter ([`exec`]) runs a plan's workflow; [`program`] is the entry point of the
//! executables `agentc build` links ([`cli`]: their command line; [`cuda`]: the CUDA driver API, loaded at run time).
//! See `docs/runtime.md` and `docs/executables.md`.
#![deny(missing_docs)]

pub mod builtins;
pub mod tools;
pub mod sampling;
pub mod grammar;
pub mod tokenizer;
pub mod chat;
pub mod safetensors;
pub mod weights;
pub mod gguf;
pub mod kv_cache;
pub mod pool;
pub mod async_runtime;
pub mod trace;
pub mod plan;
pub mod exec;
pub mod kernels;
pub mod models;
pub mod model_folder;
pub mod model_config;
pub mod cli;
pub mod cuda;
pub mod program;
