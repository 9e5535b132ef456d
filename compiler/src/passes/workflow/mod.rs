//! Passes on the workflow level. Upstream `inline`/`canonicalize` cannot handle IRDL ops
//! (no inliner interface, no side-effect declarations), so these are agentc's own.

pub mod canonicalize;
pub mod eliminate_dead_nodes;
pub mod inline_agents;
pub mod purity;
