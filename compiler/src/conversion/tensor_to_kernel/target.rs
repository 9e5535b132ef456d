//! What the kernels `convert-tensor-to-kernel` writes depend on in the x86-64 CPU they are
//! generated for (`--cpu`, else the host): the vector registers, which size the linear
//! layers' GEMM (`gemm.rs`), and whether the CPU multiplies bytes with AVX512-VNNI, which
//! decides how an int8 W meets the int8 activations (`dot_i8.rs`). Asked once per module,
//! from the features LLVM gives the CPU (`codegen::target_check`), so the kernel dump
//! (`--emit=kernel`) and the code generated from it always agree. The kernel level is
//! shared by both routes, so a model's PTX kernels take the same shapes (they are correct
//! for any; the x86-specific bodies come later, from the CPU-only kernel passes).

use crate::codegen::target_check::x86_cpu_has_feature;

/// The target CPU as the kernel emitters see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CpuTarget {
    /// Its vector registers.
    pub(super) regs: VectorRegs,
    /// It has AVX512-VNNI (`vpdpbusd`: unsigned by signed bytes). Without it the int8
    /// kernels hand W's signed bytes to a signed-by-signed helper (`agentc_dot_i8i8_<bits>`,
    /// five AVX2 instructions per 32 bytes) instead of `q + 128` to the unsigned-by-signed
    /// one (`vpdpbusd`'s form, nine AVX2 instructions).
    pub(super) vnni: bool,
}

impl CpuTarget {
    /// The x86-64 CPU named by `--cpu` (`None`: the host).
    pub(super) fn for_cpu(cpu: Option<&str>) -> CpuTarget {
        let regs = if x86_cpu_has_feature(cpu, "avx512f") { VectorRegs::AVX512 } else { VectorRegs::AVX2 };
        CpuTarget { regs, vnni: x86_cpu_has_feature(cpu, "avx512vnni") }
    }
}

/// The vector registers of the CPU the kernels are generated for, which size the GEMM's
/// vectors and register tiles: AVX-512 has 32 registers of 16 floats, AVX2 16 of 8. Tiles
/// made for one spill on the other (AVX-512's 4 × 4 tile of 16-float accumulators is 32 of
/// AVX2's registers before any load), so `convert-tensor-to-kernel` asks the target CPU
/// (`--cpu`, else the host) which it has. Codegen marks the kernels
/// `min-legal-vector-width` 512 (`codegen::allow_wide_vectors`), so on a CPU with AVX-512
/// the 16-float vectors stay whole registers (LLVM's tuning for Intel server CPUs prefers
/// 256 bits and would split them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct VectorRegs {
    /// f32 lanes per register.
    pub(super) floats: i64,
    /// Architectural vector registers.
    pub(super) count: usize,
}

impl VectorRegs {
    /// AVX-512 (`avx512f`): 32 × 512 bits.
    pub(super) const AVX512: VectorRegs = VectorRegs { floats: 16, count: 32 };
    /// AVX2 (and any x86-64 without AVX-512): 16 × 256 bits. A CPU without AVX2 runs each
    /// 8-float vector as two SSE halves, correctly.
    pub(super) const AVX2: VectorRegs = VectorRegs { floats: 8, count: 16 };
}
