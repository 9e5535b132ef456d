// For CPU kernels the workgroup id becomes a trailing index argument (the runtime calls
// the kernel once per workgroup of kernel.grid).
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline='convert-tensor-to-kernel,transform-interpreter,canonicalize,cse,kernel-drop-transform-scripts,eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize' | FileCheck %s --check-prefix=BEFORE
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline='convert-tensor-to-kernel,transform-interpreter,canonicalize,cse,kernel-drop-transform-scripts,eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize,kernel-lower-workgroup-ids' | FileCheck %s
// BEFORE-LABEL: func.func @matmul
// BEFORE-SAME: kernel.grid = array<i64: 4>
// BEFORE: "kernel.workgroup_id"() {dim = 0 : i64}
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %{{.*}}: memref<128x64xf32>, %{{.*}}: memref<64x512xf32>, %{{.*}}: memref<128x512xf32>, %[[WG:[a-z0-9]+]]: index)
// CHECK-SAME: kernel.grid = array<i64: 4>
// CHECK-NOT: kernel.workgroup_id
// CHECK: affine.apply {{.*}}[%[[WG]]]
