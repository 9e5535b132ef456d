//! agentc's MLIR dialects, one folder each: `<name>.irdl.mlir` (the definition MLIR loads),
//! `README.md` (the op reference) and `mod.rs` (Rust builders and accessors).
//!
//! The definitions are IRDL, loaded into a context at start-up by [`load_all`], so MLIR
//! verifies every op's structure. IRDL ops have no traits and print in generic form; see
//! "IRDL facts" in the design notes.
#![deny(missing_docs)]

use melior::ir::Module;
use melior::Context;

#[path = "fragment/mod.rs"]
pub mod fragment;
#[path = "kernel/mod.rs"]
pub mod kernel;
#[path = "tgraph/mod.rs"]
pub mod tgraph;
#[path = "workflow/mod.rs"]
pub mod workflow;

/// The IRDL text of every dialect, in load order (later ones may refer to earlier ones).
pub const IRDL_SOURCES: &[(&str, &str)] = &[
    ("workflow", include_str!("workflow/workflow.irdl.mlir")),
    ("tgraph", include_str!("tgraph/tgraph.irdl.mlir")),
    ("fragment", include_str!("fragment/fragment.irdl.mlir")),
    ("kernel", include_str!("kernel/kernel.irdl.mlir")),
];

/// All dialect definitions concatenated into one module text, for upstream tools that take
/// one `--irdl-file` (`agent-opt --print-irdl` writes it).
pub fn all_irdl() -> String {
    IRDL_SOURCES.iter().map(|(_, text)| *text).collect::<Vec<_>>().join("\n")
}

/// Error loading the dialect definitions (a bug in the committed IRDL files).
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not load the IRDL dialect definitions: {}", self.0)
    }
}

impl std::error::Error for LoadError {}

/// Parses and registers every dialect of agentc in `context`. The context must already
/// have the `irdl` dialect loaded.
pub fn load_all(context: &Context) -> Result<(), LoadError> {
    let text = all_irdl();
    let module = Module::parse(context, &text)
        .ok_or_else(|| LoadError("the IRDL module does not parse".into()))?;
    if !melior::utility::load_irdl_dialects(&module) {
        return Err(LoadError("mlirLoadIRDLDialects failed".into()));
    }
    Ok(())
}
