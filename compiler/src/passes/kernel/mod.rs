//! Passes at the kernel level after bufferisation (memrefs). The kernel passes that predate
//! this folder live with the conversion that creates their input
//! (`conversion/tensor_to_kernel`: `kernel-drop-transform-scripts`, `kernel-free-buffers`)
//! or with codegen (`kernel-lower-workgroup-ids`, `kernel-outline-gpu`).

pub mod guard_argument_copies;
pub mod noinline_parallel_bodies;
pub mod pack_buffers;
pub mod x86_avx2_dot;
pub mod x86_vnni;

use melior::ir::Module;

use crate::ir::{self, Op};
use crate::passes::PassFailed;

/// The attribute that marks a byte dot-product helper (conversion/tensor_to_kernel/dot_i8.rs):
/// a unit attribute while the body is the generic one, the body's name once a target pass
/// has replaced it.
pub(crate) const DOT_MARK: &str = "kernel.dot_u8i8";

/// A byte dot-product helper whose body is still the generic one.
pub(crate) struct GenericDotHelper {
    /// The `func.func`.
    pub op: Op,
    /// Its symbol name.
    pub name: String,
    /// The vector width in bits (from the name).
    pub bits: u32,
    /// Its unsigned operand holds nibbles only (`agentc_dot_u4i8_<bits>`), not any byte
    /// (`agentc_dot_u8i8_<bits>`).
    pub nibbles: bool,
}

/// The module's byte dot-product helpers that still have their generic body.
pub(crate) fn generic_dot_helpers(module: Op) -> Vec<GenericDotHelper> {
    const PREFIXES: [(&str, bool); 2] = [("agentc_dot_u8i8_", false), ("agentc_dot_u4i8_", true)];
    ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func" && op.attribute(DOT_MARK).is_some_and(|a| a.to_string() == "unit"))
        .filter_map(|op| {
            let name = ir::symbol_name(op)?;
            let (bits, nibbles) = PREFIXES.iter().find_map(|(prefix, nibbles)| Some((name.strip_prefix(prefix)?.parse::<u32>().ok()?, *nibbles)))?;
            Some(GenericDotHelper { op, name, bits, nibbles })
        })
        .collect()
}

/// Replaces the function `op` by the first operation of the module `text` parses to (the
/// same function with another body), in place; `what` names the body in the internal
/// error a text that does not parse reports. The byte dot-product passes
/// (`x86_vnni.rs`, `x86_avx2_dot.rs`) give helpers their target bodies this way.
pub(crate) fn replace_function(op: Op, text: &str, what: &str) -> Result<(), PassFailed> {
    let context_ref = op.context();
    // SAFETY: `context_ref` outlives every use of `mlir` in this function.
    let mlir: &melior::Context = unsafe { context_ref.to_ref() };
    let Some(parsed) = Module::parse(mlir, text) else {
        op.emit_error(&format!("internal error: the {what} body of the dot-product helper does not parse"));
        return Err(PassFailed);
    };
    let Some(&replacement) = ir::module_ops(Op::of(&parsed.as_operation())).first() else {
        op.emit_error(&format!("internal error: the {what} body of the dot-product helper is empty"));
        return Err(PassFailed);
    };
    replacement.move_before(op);
    op.erase();
    drop(parsed);
    Ok(())
}
