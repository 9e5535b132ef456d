// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_90 | FileCheck %s
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_80 | FileCheck %s --check-prefix=SM80

// PTX from the same kernels: each becomes a gpu.func kernel (one thread per workgroup,
// the workgroup id is the block id), lowered to NVVM, split out of its gpu.module,
// translated and compiled by LLVM's NVPTX target.
// CHECK: .target sm_90
// CHECK: .visible .entry cosine(
// CHECK: ld.global
// CHECK: .visible .entry matmul(
// CHECK: mov.u32 {{.*}}%ctaid.x
// CHECK: fma.rn.f32
// CHECK: st.global
// CHECK: .visible .entry softmax(
// SM80: .target sm_80
