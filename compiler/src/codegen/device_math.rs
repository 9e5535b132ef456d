//! agentc's device math library for PTX.
//!
//! Upstream `convert-gpu-to-nvvm` lowers `math` ops to calls of CUDA's libdevice
//! (`__nv_sqrtf`, `__nv_expf`, …), which comes with the CUDA toolkit and is not on a
//! machine without one; an unresolved `__nv_*` makes the driver's PTX JIT fail
//! (`CUDA_ERROR_INVALID_PTX`, seen on an H200). These definitions, in LLVM IR over LLVM's
//! own intrinsics (which the NVPTX back end selects to `sqrt.rn.f32`, `ex2.approx.f32`,
//! `lg2.approx.f32`, `fma.rn.f64`, `cvt.rni.f64`, …; no PTX `sin.approx`/`cos.approx`,
//! whose error grows outside [-pi, pi]), are linked into the device module before code
//! generation. A libdevice function not listed here is a compile error naming it.

use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;

/// The functions this library defines (`device_math.ll`, where each one's accuracy is
/// documented; lit-tests/codegen/device-math.mlir measures it on the CPU).
pub const PROVIDED: &[&str] = &[
    "__nv_sqrtf", "__nv_rsqrtf", "__nv_expf", "__nv_exp2f", "__nv_logf", "__nv_log2f", "__nv_fabsf", "__nv_tanhf",
    "__nv_fmaxf", "__nv_fminf", "__nv_sinf", "__nv_cosf", "__nv_powf", "__nv_erff", "__nv_exp", "__nv_fabs",
    "__nv_copysign",
];

/// The library's LLVM IR. f32 functions that need more than PTX's approximate instructions
/// (sin, cos, pow, erf) compute in f64 with fma-based range reduction and polynomials.
pub const LIBRARY: &str = include_str!("device_math.ll");

/// Links the library into `module`; fails naming any `__nv_*` function the module calls
/// that the library does not define.
pub fn link<'ctx>(context: &'ctx Context, module: &Module<'ctx>) -> Result<(), String> {
    let missing: Vec<String> = module
        .get_functions()
        .filter(|f| f.count_basic_blocks() == 0)
        .filter_map(|f| f.get_name().to_str().ok().map(str::to_string))
        .filter(|name| name.starts_with("__nv_") && !PROVIDED.contains(&name.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the GPU kernels call {}, which agentc's device math library does not provide yet",
            missing.join(", ")
        ));
    }
    let buffer = MemoryBuffer::create_from_memory_range_copy(LIBRARY.as_bytes(), "agentc-device-math");
    let library = context.create_module_from_ir(buffer).map_err(|e| format!("device math library: {e}"))?;
    library.set_triple(&module.get_triple());
    library.set_data_layout(&module.get_data_layout());
    module.link_in_module(library).map_err(|e| format!("cannot link the device math library: {e}"))
}
