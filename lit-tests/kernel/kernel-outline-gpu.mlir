// For NVPTX the kernels move into a gpu.module as gpu.func kernels; the workgroup id is
// the block id.
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline='convert-tensor-to-kernel,transform-interpreter,canonicalize,cse,kernel-drop-transform-scripts,eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize,kernel-outline-gpu' | FileCheck %s
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @kernels
// CHECK: gpu.func @softmax({{.*}}) kernel attributes {kernel.grid = array<i64: 1>, kernel.target = "nvptx"}
// CHECK: gpu.func @matmul({{.*}}) kernel attributes {kernel.grid = array<i64: 4>, kernel.target = "nvptx"}
// CHECK: gpu.block_id x
// CHECK-NOT: kernel.workgroup_id
