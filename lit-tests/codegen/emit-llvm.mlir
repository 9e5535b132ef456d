// RUN: %agentc build %S/Inputs/numerics.mlir --emit=llvm -O3 | FileCheck %s
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=llvm -O0 | FileCheck %s --check-prefix=O0

// LLVM IR after the O3 pipeline: the raw kernel (expanded memref descriptors, then the
// workgroup id) and its C interface; the matmul's inner loop is vector FMA.
// CHECK: define void @matmul(ptr {{.*}}, i64 {{.*}})
// CHECK: @llvm.fmuladd.v{{[0-9]+}}f32
// CHECK: define void @_mlir_ciface_matmul(ptr {{.*}}, ptr {{.*}}, ptr {{.*}}, i64 {{.*}})
// CHECK: define void @_mlir_ciface_softmax(
// O0: define void @cosine(
