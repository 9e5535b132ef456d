//! agentc's own verifier: the semantic rules IRDL cannot express (symbol references,
//! model kinds, value ranges, shapes). It runs after every pass and at every phase
//! boundary, and reports through the context's diagnostics at the offending op.

mod fragment;
mod records;
pub mod tensor;
mod workflow;

use crate::ir::Op;

/// The IR broke a rule; the errors were emitted as diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct VerifyFailed;

/// Verifies a whole module at any level.
pub fn verify_module(module: Op) -> Result<(), VerifyFailed> {
    let errors = workflow::verify(module) + fragment::verify(module) + tensor::verify(module);
    if errors == 0 { Ok(()) } else { Err(VerifyFailed) }
}
