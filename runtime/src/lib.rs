//! The agentc runtime library. It never links MLIR or LLVM.
//!
//! Today it holds the semantics of the workflow built-ins ([`builtins`]), which the
//! compiler's folders call too, so a value folded at compile time is exactly the value the
//! executable would compute. The executor, devices, weights and tools come with the runtime
//! issue.
#![deny(missing_docs)]

pub mod builtins;
