//! `kernel-x86-avx2-dot`: the byte dot-product helpers of the int8-activation kernels get
//! `vpmaddubsw` + `vpmaddwd` as their body when the x86-64 CPU the kernels are compiled for
//! has AVX2 but no AVX512-VNNI (`kernel-x86-vnni` runs first and takes the helpers there).
//!
//! Why: the helpers' generic body (conversion/tensor_to_kernel/dot_i8.rs: four strided byte
//! picks per operand, widened to 32 bits, multiplied and added) becomes about 45
//! instructions per 32 bytes on AVX2 (`vpshufb`, `vpunpckldq`, `vpmovzxbd`, `vpmovsxbd`,
//! `vpmaddwd` for each pick): the int8-activation decode kernels then ran slower than the
//! exact f32 ones on such a CPU. AVX2's `vpmaddubsw` multiplies unsigned by signed bytes
//! and adds adjacent pairs into 16 bits, with signed saturation, and `vpmaddwd` against a
//! vector of ones adds adjacent 16-bit pairs into the 32-bit lanes: the helper's lane sum of
//! four products in two instructions, as llama.cpp's AVX2 kernels compute it. LLVM does not
//! find this from the generic form (the saturation), and the intrinsics must never reach a
//! CPU without them, so the choice is made here, from the CPU the code is generated for
//! (`--cpu`, else the host's features).
//!
//! Exactness: `vpmaddubsw` saturates a pair's sum to −32768..32767. For
//! `@agentc_dot_u4i8_<bits>` (the unsigned operand holds nibbles, < 16: the int4 kernels)
//! a pair is at most 2·15·128 = 3840 in magnitude, so the body is the two instructions and
//! an add. For `@agentc_dot_u8i8_<bits>` (any unsigned byte: the int8 kernels' `q + 128`,
//! on a CPU with VNNI's form) a pair can reach 2·255·128, so the unsigned bytes are split
//! into nibbles, `a = 16·h + l`, each half goes through `vpmaddubsw` exactly, and
//! `vpmaddwd` weighs the high half's pairs by 16 as it widens them. For
//! `@agentc_dot_i8i8_<bits>` (signed bytes: the int8 kernels' `q` on a CPU without VNNI)
//! `vpsignb` moves each byte's sign from `a` to `b`, as llama.cpp's AVX2 Q8_0 kernel does:
//! `|a|` (−128 becomes the unsigned 128) times `b·sign(a)`, pairs at most 2·128·127 in
//! magnitude because `b` is never −128 (the activations are rounded into −127..127; the
//! kernels never pass −128, and the exactness test keeps `b` there). Every sum is exact, so
//! the body computes the generic body's bits (lit-tests/kernel/kernel-x86-avx2-dot-exact.mlir
//! runs both against a C reference).
//!
//! Input: kernel-level IR after bufferisation. Output: each `func.func` carrying the unit
//! attribute `kernel.dot_u8i8` and named `agentc_dot_{u8i8,u4i8,i8i8}_<bits>` (bits 128,
//! 256 or 512) gets the same signature with that body and the attribute
//! `kernel.dot_u8i8 = "pmaddubsw"`, so a second run (or a helper `kernel-x86-vnni` already
//! rewrote) changes nothing. 512-bit helpers use AVX512BW's 512-bit forms where the CPU has
//! them (the signed helper excepted: `vpsignb` has no 512-bit form), else two 256-bit
//! halves. On a CPU without AVX2 nothing changes.

use super::{DOT_MARK, DotOperands, GenericDotHelper, generic_dot_helpers};
use crate::codegen::target_check::x86_cpu_has_feature;
use crate::ir::Op;
use crate::passes::{PassContext, PassFailed};

/// Runs the pass on a module.
pub fn x86_avx2_dot(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    let helpers: Vec<GenericDotHelper> = generic_dot_helpers(module).into_iter().filter(|h| [128, 256, 512].contains(&h.bits)).collect();
    if helpers.is_empty() {
        return Ok(());
    }
    let cpu = context.cpu.as_deref();
    if !x86_cpu_has_feature(cpu, "avx2") {
        return Ok(());
    }
    let wide = x86_cpu_has_feature(cpu, "avx512bw");
    for h in helpers {
        super::replace_function(h.op, &format!("module {{\n{}}}\n", body(&h.name, h.bits, h.operands, wide)), "vpmaddubsw")?;
    }
    Ok(())
}

/// The intrinsics for one chunk of `bits`: the byte pair sums into 16 bits, and the 16-bit
/// pair sums into 32 bits.
fn intrinsics(bits: u32) -> (&'static str, &'static str) {
    match bits {
        128 => ("llvm.x86.ssse3.pmadd.ub.sw.128", "llvm.x86.sse2.pmadd.wd"),
        256 => ("llvm.x86.avx2.pmadd.ub.sw", "llvm.x86.avx2.pmadd.wd"),
        _ => ("llvm.x86.avx512.pmaddubs.w.512", "llvm.x86.avx512.pmaddw.d.512"),
    }
}

/// `vpsignb` for one chunk of `bits` (128 or 256: there is no 512-bit form).
fn sign_intrinsic(bits: u32) -> &'static str {
    if bits == 128 { "llvm.x86.ssse3.psign.b.128" } else { "llvm.x86.avx2.psign.b" }
}

/// The helper `name` of `bits` whose operands hold `operands`, with the `vpmaddubsw` body;
/// `wide`: the CPU has the 512-bit forms (AVX512BW).
fn body(name: &str, bits: u32, operands: DotOperands, wide: bool) -> String {
    let (lanes, bytes) = (bits / 32, bits / 8);
    let chunk = if bits == 512 && (!wide || operands == DotOperands::I8) { 256 } else { bits };
    let (clanes, cbytes) = (chunk / 32, chunk / 8);
    let (vi, vb) = (format!("vector<{lanes}xi32>"), format!("vector<{bytes}xi8>"));
    let (cvi, cvb, cvw) = (format!("vector<{clanes}xi32>"), format!("vector<{cbytes}xi8>"), format!("vector<{}xi16>", chunk / 16));
    let (ub, wd) = intrinsics(chunk);
    let mut t = format!("  func.func private @{name}(%acc: {vi}, %a: {vb}, %b: {vb}) -> {vi} attributes {{{DOT_MARK} = \"pmaddubsw\"}} {{\n");
    t.push_str(&format!("    %ones = arith.constant dense<1> : {cvw}\n"));
    if operands == DotOperands::U8 {
        t.push_str(&format!("    %sixteens = arith.constant dense<16> : {cvw}\n"));
        t.push_str(&format!("    %low4 = arith.constant dense<15> : {cvb}\n"));
        t.push_str(&format!("    %four = arith.constant dense<4> : {cvb}\n"));
    }
    let mut sums = Vec::new();
    for c in 0..bits / chunk {
        let (a, b) = if chunk == bits {
            ("%a".to_string(), "%b".to_string())
        } else {
            for v in ["a", "b"] {
                t.push_str(&format!(
                    "    %{v}{c} = vector.extract_strided_slice %{v} {{offsets = [{}], sizes = [{cbytes}], strides = [1]}} : {vb} to {cvb}\n",
                    c * cbytes
                ));
            }
            (format!("%a{c}"), format!("%b{c}"))
        };
        let pairs = |t: &mut String, tag: &str, a: &str, b: &str, by: &str| {
            t.push_str(&format!("    %p{tag}{c} = llvm.call_intrinsic \"{ub}\"({a}, {b}) : ({cvb}, {cvb}) -> {cvw}\n"));
            t.push_str(&format!("    %s{tag}{c} = llvm.call_intrinsic \"{wd}\"(%p{tag}{c}, {by}) : ({cvw}, {cvw}) -> {cvi}\n"));
            format!("%s{tag}{c}")
        };
        if operands == DotOperands::U4 {
            sums.push(pairs(&mut t, "", &a, &b, "%ones"));
        } else if operands == DotOperands::I8 {
            // |a| · (b · sign(a)): the same products, the unsigned operand now |a|.
            let sign = sign_intrinsic(chunk);
            t.push_str(&format!("    %ua{c} = llvm.call_intrinsic \"{sign}\"({a}, {a}) : ({cvb}, {cvb}) -> {cvb}\n"));
            t.push_str(&format!("    %sb{c} = llvm.call_intrinsic \"{sign}\"({b}, {a}) : ({cvb}, {cvb}) -> {cvb}\n"));
            sums.push(pairs(&mut t, "", &format!("%ua{c}"), &format!("%sb{c}"), "%ones"));
        } else {
            t.push_str(&format!("    %lo{c} = arith.andi {a}, %low4 : {cvb}\n"));
            t.push_str(&format!("    %hi{c} = arith.shrui {a}, %four : {cvb}\n"));
            let lo = pairs(&mut t, "l", &format!("%lo{c}"), &b, "%ones");
            let hi = pairs(&mut t, "h", &format!("%hi{c}"), &b, "%sixteens");
            t.push_str(&format!("    %s{c} = arith.addi {lo}, {hi} : {cvi}\n"));
            sums.push(format!("%s{c}"));
        }
    }
    let sum = if sums.len() == 1 {
        sums.remove(0)
    } else {
        let all = (0..lanes).map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
        t.push_str(&format!("    %s = vector.shuffle {}, {} [{all}] : {cvi}, {cvi}\n", sums[0], sums[1]));
        "%s".to_string()
    };
    t.push_str(&format!("    %r = arith.addi %acc, {sum} : {vi}\n    return %r : {vi}\n  }}\n"));
    t
}

#[cfg(test)]
mod tests {
    use super::body;
    use crate::passes::kernel::DotOperands;

    /// The 512-bit helper on a CPU without AVX512BW is two 256-bit halves joined in order.
    #[test]
    fn a_512_bit_helper_without_avx512bw_is_two_avx2_halves() {
        let t = body("agentc_dot_u4i8_512", 512, DotOperands::U4, false);
        assert_eq!(t.matches("llvm.x86.avx2.pmadd.ub.sw").count(), 2);
        assert!(t.contains("offsets = [32], sizes = [32]"));
        assert!(t.contains("vector.shuffle %s0, %s1 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]"));
        let w = body("agentc_dot_u8i8_512", 512, DotOperands::U8, true);
        assert_eq!(w.matches("llvm.x86.avx512.pmaddubs.w.512").count(), 2, "{w}");
        assert!(!w.contains("extract_strided_slice"));
        // `vpsignb` has no 512-bit form: the signed helper is two halves even with AVX512BW.
        let s = body("agentc_dot_i8i8_512", 512, DotOperands::I8, true);
        assert_eq!(s.matches("llvm.x86.avx2.psign.b").count(), 4, "{s}");
        assert_eq!(s.matches("llvm.x86.avx2.pmadd.ub.sw").count(), 2, "{s}");
    }
}
