//! The plan emitter: scheduled (or unscheduled) fragment IR → the runtime's plan
//! ([`agentc_runtime::plan::Plan`]), the serialised workflow an executable embeds. The
//! format is the runtime's (`runtime/src/plan/`), documented in `docs/plan.md`.

pub mod emit;

pub use emit::emit_plan;
