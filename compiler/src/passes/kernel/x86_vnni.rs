//! `kernel-x86-vnni`: the byte dot-product helpers of the int8-activation kernels get the
//! `vpdpbusd` instruction as their body when the x86-64 CPU the kernels are compiled for
//! has AVX512-VNNI.
//!
//! Why: the decode steps of a model declared `gguf(..., activations: "int8")` sum 8-bit
//! products through a private helper, `@agentc_dot_u8i8_<bits>` (or
//! `@agentc_dot_u4i8_<bits>` where the unsigned bytes are nibbles;
//! conversion/tensor_to_kernel/dot_i8.rs), whose body is written with target-independent
//! vector ops (strided byte picks, widenings, 32-bit multiplies and adds: what every target,
//! NVPTX included, can lower). On a CPU with AVX512-VNNI one instruction computes the same
//! lanes: LLVM does not find it from the generic form, and its intrinsic must never reach
//! a CPU without it (LLVM stops with a fatal error in instruction selection). So the choice
//! is made here, on the CPU pipeline only, from the CPU the code is generated for
//! (`--cpu`, else the host's features). The integer sums are exact, so both bodies compute
//! the same bits: the choice changes speed, never output.
//!
//! Input: kernel-level IR after bufferisation. Output: each `func.func` carrying the unit
//! attribute `kernel.dot_u8i8` and named `agentc_dot_u8i8_<bits>` or
//! `agentc_dot_u4i8_<bits>` (not the signed `agentc_dot_i8i8_<bits>`) is replaced by the same signature whose body is one
//! `llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.<bits>"` and whose attribute is
//! `kernel.dot_u8i8 = "vpdpbusd"` (so a second run changes nothing); on a CPU without the
//! instruction (or without AVX512VL for the 256-bit form) nothing changes, and
//! `kernel-x86-avx2-dot` (run next) gives the helpers AVX2's `vpmaddubsw` where it can.

use super::{DOT_MARK, GenericDotHelper, generic_dot_helpers};
use crate::codegen::target_check::x86_cpu_has_feature;
use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};

/// Runs the pass on a module.
pub fn x86_vnni(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    // `vpdpbusd` takes any unsigned byte, so nibble helpers get the same body; it has no
    // signed-by-signed form (the conversion emits those only for CPUs without it).
    let helpers: Vec<GenericDotHelper> =
        generic_dot_helpers(module).into_iter().filter(|h| (h.bits == 512 || h.bits == 256) && !h.operands.signed()).collect();
    if helpers.is_empty() {
        return Ok(());
    }
    let cpu = context.cpu.as_deref();
    if !x86_cpu_has_feature(cpu, "avx512vnni") {
        return Ok(());
    }
    let wide_ok = x86_cpu_has_feature(cpu, "avx512vl");
    for GenericDotHelper { op, name, bits, .. } in helpers {
        if bits == 256 && !wide_ok {
            continue;
        }
        let (lanes, bytes) = (bits / 32, bits / 8);
        let (vi, vb) = (format!("vector<{lanes}xi32>"), format!("vector<{bytes}xi8>"));
        let text = format!(
            "module {{\n  func.func private @{name}(%acc: {vi}, %a: {vb}, %b: {vb}) -> {vi} attributes {{{DOT_MARK} = \"vpdpbusd\"}} {{\n    \
             %r = llvm.call_intrinsic \"llvm.x86.avx512.vpdpbusd.{bits}\"(%acc, %a, %b) : ({vi}, {vb}, {vb}) -> {vi}\n    \
             return %r : {vi}\n  }}\n}}\n"
        );
        super::replace_function(op, &text, "vpdpbusd")?;
    }
    Ok(())
}
