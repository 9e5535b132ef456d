//! Passes at the kernel level after bufferisation (memrefs). The kernel passes that predate
//! this folder live with the conversion that creates their input
//! (`conversion/tensor_to_kernel`: `kernel-drop-transform-scripts`, `kernel-free-buffers`)
//! or with codegen (`kernel-lower-workgroup-ids`, `kernel-outline-gpu`).

pub mod coarsen_parallel_loops;
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

/// What the operands of a byte dot-product helper hold: the kind of its `a` bytes (its `b`
/// bytes are the rounded activations, signed and never −128). The kind is spelled in the
/// helper's name, here only: the conversion names its helpers with [`DotOperands::name`]
/// and the target passes read the kind back with [`generic_dot_helpers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DotOperands {
    /// Any unsigned byte (`agentc_dot_u8i8_<bits>`): an int8 W as `q + 128`, the form
    /// AVX512-VNNI's `vpdpbusd` multiplies.
    U8,
    /// Unsigned nibbles, below 16 (`agentc_dot_u4i8_<bits>`): the int4 kernels' halves of
    /// each byte.
    U4,
    /// Signed bytes (`agentc_dot_i8i8_<bits>`): an int8 W as it is stored, on a CPU without
    /// AVX512-VNNI.
    I8,
}

impl DotOperands {
    const ALL: [DotOperands; 3] = [DotOperands::U8, DotOperands::U4, DotOperands::I8];

    fn prefix(self) -> &'static str {
        match self {
            DotOperands::U8 => "agentc_dot_u8i8_",
            DotOperands::U4 => "agentc_dot_u4i8_",
            DotOperands::I8 => "agentc_dot_i8i8_",
        }
    }

    /// The helper's symbol for vectors of `bits` bits.
    pub(crate) fn name(self, bits: i64) -> String {
        format!("{}{bits}", self.prefix())
    }

    /// Whether `a`'s bytes are signed (the generic body sign-extends them).
    pub(crate) fn signed(self) -> bool {
        self == DotOperands::I8
    }
}

/// A byte dot-product helper whose body is still the generic one.
pub(crate) struct GenericDotHelper {
    /// The `func.func`.
    pub op: Op,
    /// Its symbol name.
    pub name: String,
    /// The vector width in bits (from the name).
    pub bits: u32,
    /// What its operands hold (from the name).
    pub operands: DotOperands,
}

/// The module's byte dot-product helpers that still have their generic body.
pub(crate) fn generic_dot_helpers(module: Op) -> Vec<GenericDotHelper> {
    ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func" && op.attribute(DOT_MARK).is_some_and(|a| a.to_string() == "unit"))
        .filter_map(|op| {
            let name = ir::symbol_name(op)?;
            let (bits, operands) = DotOperands::ALL.into_iter().find_map(|k| Some((name.strip_prefix(k.prefix())?.parse::<u32>().ok()?, k)))?;
            Some(GenericDotHelper { op, name, bits, operands })
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
