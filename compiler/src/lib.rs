//! The agentc compiler library: lowering from the checked program to the workflow level,
//! agentc's own verifier, the passes by level with their registry, and the pipeline
//! driver. The front end (`agentc-frontend`) never links MLIR; this crate is where MLIR
//! enters.
#![deny(missing_docs)]

pub mod context;
pub mod conversion;
pub mod diagnostics;
pub mod ir;
pub mod lower;
pub mod planner;
pub mod passes;
pub mod pipeline;
pub mod verify;

use melior::ir::operation::{OperationLike, OperationPrintingFlags};
use melior::ir::Module;
use melior::Context;

/// The compilation phases, in order; their names are the level names (`--emit=PHASE`,
/// `--compile-to=PHASE`). Only the phases this build of agentc can produce are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The untyped syntax tree.
    Ast,
    /// The workflow dialect, after the workflow passes.
    Workflow,
    /// The fragment dialect, planned and scheduled.
    Fragment,
}

/// Phases later than `fragment`, which are designed (see ARCHITECTURE.md) but not built yet.
pub const PLANNED_PHASES: &[&str] = &["tensor", "kernel", "llvm", "asm", "ptx", "obj", "exe"];

/// The workflow-level pass pipeline at optimisation level `opt` (0 runs nothing).
///
/// Canonicalize first so inlining copies folded bodies, inline sub-agents, canonicalize
/// again (arguments of inlined calls may now be literals), then drop dead nodes.
pub fn workflow_pipeline(opt: u8) -> Vec<pipeline::Step> {
    if opt == 0 {
        return Vec::new();
    }
    ["workflow-canonicalize", "workflow-inline-agents", "workflow-canonicalize", "workflow-eliminate-dead-nodes"]
        .iter()
        .filter_map(|name| passes::lookup(name))
        .map(pipeline::Step::Ours)
        .collect()
}

/// The planning pipeline from workflow IR (after the workflow passes) to scheduled
/// fragment IR: the planner, then the scheduler.
pub fn fragment_pipeline() -> Vec<pipeline::Step> {
    ["convert-workflow-to-fragment", "fragment-schedule"].iter().filter_map(|name| passes::lookup(name)).map(pipeline::Step::Ours).collect()
}

/// Prints a module as MLIR text; with `debug_info`, every op carries its `loc(...)`.
pub fn print_module(module: &Module, debug_info: bool) -> String {
    let flags = OperationPrintingFlags::new().enable_debug_info(debug_info, false);
    let mut text = module.as_operation().to_string_with_flags(flags).unwrap_or_else(|_| module.as_operation().to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Parses MLIR text (any level); `None` when it does not parse or verify structurally
/// (the reasons went to the context's diagnostic handlers).
pub fn parse_module<'c>(context: &'c Context, text: &str) -> Option<Module<'c>> {
    Module::parse(context, text)
}

/// Verifies a module structurally (MLIR, including IRDL) and semantically (agentc).
pub fn verify_all(module: &Module) -> bool {
    module.as_operation().verify() && verify::verify_module(ir::Op::of(&module.as_operation())).is_ok()
}
