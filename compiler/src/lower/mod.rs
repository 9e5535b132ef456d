//! Lowering of the checked program (HIR) to the workflow level.
//!
//! Structure comes from upstream ops (see the dialect README): agents, tools and tensor
//! functions become `func.func`, sub-agent calls `func.call`, `if` `scf.if`, `loop`
//! `scf.while`, `map` a `{workflow.parallel}` `scf.for`; the domain ops come from the
//! workflow dialect, and tensor-function bodies from `tgraph`. Every op carries the
//! `FileLineColLoc` of the source it came from.

mod body;
mod builder;
mod module;

pub use builder::{agent_type_text, Builder};
pub use module::lower_module;

/// An internal lowering failure (an op that cannot be built): a compiler bug, reported
/// as an error rather than a panic.
#[derive(Debug, Clone)]
pub struct LowerError(pub String);

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error while lowering to the workflow level: {}", self.0)
    }
}

impl std::error::Error for LowerError {}
