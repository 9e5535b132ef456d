//! The project's pass registry: every pass agentc owns, by flag name.
//!
//! MLIR's C API cannot register external passes for textual pipelines, so agentc keeps its
//! own table (name → entry point) and its own pipeline syntax (`pipeline.rs`); names not in
//! the table are handed to MLIR's own pipeline parser. A pass file is
//! `passes/<level>/<verb_object>.rs`, its flag `<level>-<verb>-<object>`, its lit test
//! `lit-tests/<level>/<flag>.mlir`.

use crate::ir::Op;

pub mod fragment;
pub mod workflow;

/// A pass failed; it has already emitted its diagnostics through the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassFailed;

/// What passes may need from outside the IR: where the `.agent` file's relative model
/// folders are, and the scheduling target and objective.
#[derive(Clone, Debug, Default)]
pub struct PassContext {
    /// The folder model paths (`hf("models/x")`) are relative to.
    pub base_dir: std::path::PathBuf,
    /// The target name or TOML path for `fragment-schedule` (default: the `host` preset).
    pub target: Option<String>,
    /// `--objective` override (`latency` or `cost`).
    pub objective: Option<String>,
    /// `--sla` override, in seconds.
    pub sla_seconds: Option<f64>,
}

/// One registered pass.
pub struct PassInfo {
    /// The flag (`workflow-canonicalize`).
    pub name: &'static str,
    /// One line: what it does, its input invariant and its output.
    pub summary: &'static str,
    /// Runs the pass on a `builtin.module`.
    pub run: fn(Op, &PassContext) -> Result<(), PassFailed>,
}

/// Every pass of agentc, in pipeline order within each level.
pub static REGISTRY: &[PassInfo] = &[
    PassInfo {
        name: "workflow-canonicalize",
        summary: "folds literal text, list and arithmetic built-ins, folds `if` on constant \
                  conditions, and removes unused pure values (dead lets)",
        run: workflow::canonicalize::canonicalize,
    },
    PassInfo {
        name: "workflow-inline-agents",
        summary: "inlines every call of a sub-agent into its caller and removes agents no \
                  longer called (main stays); agents form a DAG, so this terminates",
        run: workflow::inline_agents::inline_agents,
    },
    PassInfo {
        name: "workflow-eliminate-dead-nodes",
        summary: "removes workflow nodes whose results are unused and that the purity table \
                  says have no effect (greedy generate, embed, pure control), and \
                  declarations that main cannot reach",
        run: workflow::eliminate_dead_nodes::eliminate_dead_nodes,
    },
    PassInfo {
        name: "convert-workflow-to-fragment",
        summary: "the planner: splits model calls into prefill/decode/encode fragments, tool \
                  calls into tool fragments, marks host and compute fragments, and attaches \
                  resource profiles from config.json, trip counts and branch weights",
        run: crate::conversion::workflow_to_fragment::convert_workflow_to_fragment,
    },
    PassInfo {
        name: "fragment-schedule",
        summary: "places every fragment of main on a device of the target (HEFT with \
                  insertion, then an improvement phase for the objective under the SLA), \
                  inserts kv_transfer where prefill and decode split, and records devices, \
                  start/finish estimates and costs",
        run: fragment::schedule::fragment_schedule,
    },
];

/// The registered pass called `name`.
pub fn lookup(name: &str) -> Option<&'static PassInfo> {
    REGISTRY.iter().find(|p| p.name == name)
}
