//! agentc's scheduler core: hardware targets (TOML and built-in presets), the roofline
//! cost model, HEFT list scheduling with an improvement phase for latency or cost under
//! an SLA, an exact oracle for small graphs, and reports (table, JSON, Gantt SVG, DOT,
//! Mermaid). Pure Rust: this crate never links MLIR; the compiler's fragment-schedule pass
//! builds a [`Workload`] from fragment IR and writes the [`Schedule`] back as attributes.

#![deny(missing_docs)]

pub mod cost;
pub mod error;
pub mod exhaustive;
pub mod graph;
pub mod heft;
pub mod improve;
pub mod llm;
pub mod milp;
pub mod oracle;
pub mod paths;
pub mod precision;
pub mod presets;
pub mod report;
pub mod schedule;
pub mod simulate;
pub mod synth;
pub mod target;
pub mod timeline;

pub use error::ScheduleError;
pub use graph::{Branch, Dtype, Edge, Fragment, FragmentKind, ModelNeeds, Pin, Profile, Workload};
pub use oracle::{Optimum, optimal};
pub use paths::{PathLatency, PathSummary, SlaBasis};
pub use precision::Precision;
pub use presets::{load, preset, preset_names, preset_toml};
pub use schedule::{
    Baseline, Objective, Options, Placement, Schedule, Solver, SolverReport, Transfer, schedule,
    schedule_baseline,
};
pub use target::{Device, DeviceKind, Link, Target, TargetError};
