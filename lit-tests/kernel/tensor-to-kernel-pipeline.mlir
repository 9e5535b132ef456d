// RUN: %agentc build %S/../codegen/Inputs/numerics.mlir --emit=kernel | FileCheck %s
// RUN: %agentc build %S/../codegen/Inputs/numerics.mlir --emit=tensor | FileCheck %s --check-prefix=TENSOR

// The tensor phase keeps the tensor fns, public.
// TENSOR-LABEL: func.func @cosine(
// TENSOR: "tgraph.norm"
// TENSOR-LABEL: func.func @matmul(
// TENSOR-LABEL: func.func @softmax(

// After tiling, vectorisation and one-shot bufferisation: memref arguments with identity
// layouts, vector code, no copies; intermediates are allocated and freed.
// CHECK-LABEL: func.func @cosine(
// CHECK-SAME: %{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<f32>)
// CHECK-SAME: kernel.grid = array<i64: 1>, kernel.target = "cpu"
// CHECK: vector.transfer_read
// CHECK: vector.reduction <add>
// CHECK: memref.dealloc
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %{{.*}}: memref<256x128xf32>, %{{.*}}: memref<128x512xf32>, %[[C:.*]]: memref<256x512xf32>)
// CHECK-SAME: kernel.grid = array<i64: 8>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: "kernel.workgroup_id"() {dim = 0 : i64} : () -> index
// CHECK: memref.subview %[[C]]
// CHECK: scf.for
// CHECK: vector.fma %{{.*}} : vector<64xf32>
// CHECK-LABEL: func.func @softmax(
// CHECK: math.exp %{{.*}} : vector<
// CHECK-NOT: transform.named_sequence
