//! The `.agent` front end: source text → untyped AST → checked HIR, with diagnostics.
//!
//! Pure: no MLIR, no LLVM, no process-wide state. The only IO is reading a model folder's
//! `config.json` during checking (through [`CheckOptions::base_dir`]).
#![deny(missing_docs)]

pub mod ast;
pub mod diagnostic;
pub mod hir;
pub mod span;
pub mod types;
