//! `kernel-noinline-parallel-bodies`: the bodies of parallel loops stay functions of their
//! own (`no_inline`), so LLVM optimises each as it optimises a serial kernel.
//!
//! Why: `async-parallel-for` outlines the body of each parallel loop (a linear layer's
//! 32-row tile, `conversion/tensor_to_kernel/threads.rs`) into a `parallel_compute_fn`
//! that the caller and each `async.execute` coroutine call. Inlined into a coroutine, the
//! body reads its memref descriptors from the coroutine frame, and an f32 store into the
//! output may alias that frame for all LLVM knows: each step of the dot product reloaded a
//! base pointer and stored its partial sum (`vaddss` then `vmovss` to memory, seen with
//! `perf annotate` on SmolLM2's lm_head), so the loop was neither vectorised nor kept in
//! registers, and decode ran at 11 tok/s instead of the serial build's 25. Called as a
//! function, the descriptors are arguments, the reduction is promoted to registers and the
//! loop vectorised (with runtime alias checks), as in a serial kernel. One call per task
//! (a block of tiles) costs nothing next to the tile.
//!
//! Input: the LLVM dialect (after `convert-async-to-llvm` and `convert-func-to-llvm`).
//! Output: every `llvm.func` named `parallel_compute_fn…` has the `no_inline` unit
//! attribute; nothing else changes.

use melior::ir::Attribute;

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// The name prefix `async-parallel-for` gives the outlined loop bodies.
const BODY_PREFIX: &str = "parallel_compute_fn";

/// Runs the pass on a module.
pub fn noinline_parallel_bodies(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    let context_ref = module.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    for func in ir::module_ops(module) {
        if func.name() != "llvm.func" {
            continue;
        }
        let named_body = func
            .attribute("sym_name")
            .map(|a| a.to_string())
            .is_some_and(|name| name.trim_matches('"').starts_with(BODY_PREFIX));
        if named_body {
            func.set_attribute("no_inline", Attribute::unit(context));
        }
    }
    Ok(())
}
