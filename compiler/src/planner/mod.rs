//! The planner's knowledge: model profiles from config.json and token estimates. The
//! conversion that uses them is `conversion/workflow_to_fragment.rs`.

pub mod model_spec;
pub mod tokens;
