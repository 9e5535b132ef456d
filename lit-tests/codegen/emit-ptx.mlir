// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_90 | FileCheck %s
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_80 | FileCheck %s --check-prefix=SM80
// RUN: not %agentc build %S/Inputs/atan-kernel.mlir --emit=ptx 2>&1 | FileCheck %s --check-prefix=ATAN
// RUN: %agentc build %S/Inputs/erf-kernel.mlir --emit=ptx | FileCheck %s --check-prefix=ERF --implicit-check-not=__nv_

// Math runs through agentc's own device math library (codegen/device_math.rs), never an
// unresolved libdevice call: the CUDA driver's PTX JIT rejects one (seen on an H200).
// CHECK-NOT: __nv_
// A libdevice function the library lacks is a compile error naming it.
// ATAN: error: the GPU kernels call __nv_atanf, which agentc's device math library does not provide yet
// erf is defined (f64 Taylor series / Abramowitz & Stegun 7.1.26; device-math.mlir measures it).
// ERF: .visible .entry softmax(
// ERF: fma.rn.f64

// PTX from the same kernels: each becomes a gpu.func kernel (one thread per workgroup,
// the workgroup id is the block id), lowered to NVVM, split out of its gpu.module,
// translated and compiled by LLVM's NVPTX target.
// CHECK: .target sm_90
// CHECK: .visible .entry cosine(
// CHECK: ld.global
// CHECK: sqrt.rn.f32
// CHECK: .visible .entry matmul(
// CHECK: mov.u32 {{.*}}%ctaid.x
// CHECK: fma.rn.f32
// CHECK: st.global
// CHECK: .visible .entry softmax(
// CHECK: ex2.approx
// SM80: .target sm_80
