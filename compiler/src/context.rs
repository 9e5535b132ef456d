//! The one place that creates an MLIR context (an architecture invariant).

use melior::dialect::DialectRegistry;
use melior::utility::{register_all_dialects, register_all_passes};
use melior::Context;

/// Creates a context with every upstream dialect registered and loaded, and agentc's four
/// IRDL dialects loaded on top. Multithreading is off: passes run one by one and output must
/// be deterministic.
pub fn create_context() -> Result<Context, agentc_dialects::LoadError> {
    let registry = DialectRegistry::new();
    register_all_dialects(&registry);
    let context = Context::new_with_registry(&registry, false);
    context.load_all_available_dialects();
    register_all_passes();
    agentc_dialects::load_all(&context)?;
    Ok(context)
}
