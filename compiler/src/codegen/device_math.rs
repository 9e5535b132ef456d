//! agentc's device math library for PTX.
//!
//! Upstream `convert-gpu-to-nvvm` lowers `math` ops to calls of CUDA's libdevice
//! (`__nv_sqrtf`, `__nv_expf`, …), which comes with the CUDA toolkit and is not on a
//! machine without one; an unresolved `__nv_*` makes the driver's PTX JIT fail
//! (`CUDA_ERROR_INVALID_PTX`, seen on an H200). These definitions, in LLVM IR over LLVM's
//! own intrinsics (which the NVPTX back end selects to `sqrt.rn.f32`, `ex2.approx.f32`,
//! `lg2.approx.f32`, …), are linked into the device module before code generation. A
//! libdevice function not listed here is a compile error naming it.

use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;

/// The functions this library defines.
pub const PROVIDED: &[&str] = &["__nv_sqrtf", "__nv_expf", "__nv_exp2f", "__nv_logf", "__nv_log2f", "__nv_fabsf", "__nv_tanhf", "__nv_fmaxf", "__nv_fminf"];

const LIBRARY: &str = r#"
declare float @llvm.sqrt.f32(float)
declare float @llvm.exp2.f32(float)
declare float @llvm.log2.f32(float)
declare float @llvm.fabs.f32(float)
declare float @llvm.maxnum.f32(float, float)
declare float @llvm.minnum.f32(float, float)

define linkonce_odr float @__nv_sqrtf(float %x) alwaysinline {
  %r = call float @llvm.sqrt.f32(float %x)
  ret float %r
}
; e^x = 2^(x log2 e)
define linkonce_odr float @__nv_expf(float %x) alwaysinline {
  %y = fmul float %x, 0x3FF7154760000000
  %r = call float @llvm.exp2.f32(float %y)
  ret float %r
}
define linkonce_odr float @__nv_exp2f(float %x) alwaysinline {
  %r = call float @llvm.exp2.f32(float %x)
  ret float %r
}
; ln x = log2 x · ln 2
define linkonce_odr float @__nv_logf(float %x) alwaysinline {
  %l = call float @llvm.log2.f32(float %x)
  %r = fmul float %l, 0x3FE62E4300000000
  ret float %r
}
define linkonce_odr float @__nv_log2f(float %x) alwaysinline {
  %r = call float @llvm.log2.f32(float %x)
  ret float %r
}
define linkonce_odr float @__nv_fabsf(float %x) alwaysinline {
  %r = call float @llvm.fabs.f32(float %x)
  ret float %r
}
; tanh x = 1 - 2 / (e^(2x) + 1), saturating for large |x|
define linkonce_odr float @__nv_tanhf(float %x) alwaysinline {
  %two_x = fmul float %x, 0x4007154760000000
  %e = call float @llvm.exp2.f32(float %two_x)
  %d = fadd float %e, 1.0
  %q = fdiv float 2.0, %d
  %r = fsub float 1.0, %q
  ret float %r
}
define linkonce_odr float @__nv_fmaxf(float %a, float %b) alwaysinline {
  %r = call float @llvm.maxnum.f32(float %a, float %b)
  ret float %r
}
define linkonce_odr float @__nv_fminf(float %a, float %b) alwaysinline {
  %r = call float @llvm.minnum.f32(float %a, float %b)
  ret float %r
}
"#;

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
