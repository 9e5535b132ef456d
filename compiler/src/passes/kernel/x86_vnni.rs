//! `kernel-x86-vnni`: the byte dot-product helpers of the int8-activation kernels get the
//! `vpdpbusd` instruction as their body when the x86-64 CPU the kernels are compiled for
//! has AVX512-VNNI.
//!
//! Why: the decode steps of a model declared `gguf(..., activations: "int8")` sum 8-bit
//! products through a private helper, `@agentc_dot_u8i8_<bits>`
//! (conversion/tensor_to_kernel/dot_i8.rs), whose body is written with target-independent
//! vector ops (strided byte picks, widenings, 32-bit multiplies and adds: what every target,
//! NVPTX included, can lower). On a CPU with AVX512-VNNI one instruction computes the same
//! lanes: LLVM does not find it from the generic form, and its intrinsic must never reach
//! a CPU without it (LLVM stops with a fatal error in instruction selection). So the choice
//! is made here, on the CPU pipeline only, from the CPU the code is generated for
//! (`--cpu`, else the host's features). The integer sums are exact, so both bodies compute
//! the same bits: the choice changes speed, never output.
//!
//! Input: kernel-level IR after bufferisation. Output: each `func.func` carrying the unit
//! attribute `kernel.dot_u8i8` is replaced by the same signature whose body is one
//! `llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.<bits>"` and whose attribute is
//! `kernel.dot_u8i8 = "vpdpbusd"` (so a second run changes nothing); on a CPU without the
//! instruction (or without AVX512VL for the 256-bit form) nothing changes.

use melior::ir::Module;

use crate::codegen::target_check::x86_cpu_has_feature;
use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// The attribute that marks a helper.
const MARK: &str = "kernel.dot_u8i8";
/// The name prefix of the helpers (then the vector width in bits: 512 or 256).
const PREFIX: &str = "agentc_dot_u8i8_";

/// Runs the pass on a module.
pub fn x86_vnni(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    let helpers: Vec<(Op, String, u32)> = ir::module_ops(module)
        .into_iter()
        .filter(|op| op.name() == "func.func" && op.attribute(MARK).is_some_and(|a| a.to_string() == "unit"))
        .filter_map(|op| {
            let name = ir::symbol_name(op)?;
            let bits = name.strip_prefix(PREFIX)?.parse::<u32>().ok().filter(|b| *b == 512 || *b == 256)?;
            Some((op, name, bits))
        })
        .collect();
    if helpers.is_empty() {
        return Ok(());
    }
    let cpu = context.cpu.as_deref();
    if !x86_cpu_has_feature(cpu, "avx512vnni") {
        return Ok(());
    }
    let wide_ok = x86_cpu_has_feature(cpu, "avx512vl");
    let context_ref = module.context();
    // SAFETY: `context_ref` outlives every use of `mlir` in this function.
    let mlir: &melior::Context = unsafe { context_ref.to_ref() };
    for (op, name, bits) in helpers {
        if bits == 256 && !wide_ok {
            continue;
        }
        let (lanes, bytes) = (bits / 32, bits / 8);
        let (vi, vb) = (format!("vector<{lanes}xi32>"), format!("vector<{bytes}xi8>"));
        let text = format!(
            "module {{\n  func.func private @{name}(%acc: {vi}, %a: {vb}, %b: {vb}) -> {vi} attributes {{{MARK} = \"vpdpbusd\"}} {{\n    \
             %r = llvm.call_intrinsic \"llvm.x86.avx512.vpdpbusd.{bits}\"(%acc, %a, %b) : ({vi}, {vb}, {vb}) -> {vi}\n    \
             return %r : {vi}\n  }}\n}}\n"
        );
        let Some(parsed) = Module::parse(mlir, &text) else {
            op.emit_error("internal error: the vpdpbusd body of the dot-product helper does not parse");
            return Err(PassFailed);
        };
        let Some(&replacement) = ir::module_ops(Op::of(&parsed.as_operation())).first() else {
            op.emit_error("internal error: the vpdpbusd body of the dot-product helper is empty");
            return Err(PassFailed);
        };
        replacement.move_before(op);
        op.erase();
        drop(parsed);
    }
    Ok(())
}
