// After one-shot bufferisation the softmax's intermediates are memref.alloc without a
// dealloc (upstream buffer-deallocation rejects our IRDL ops); kernel-free-buffers frees
// each one before the kernel returns.
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline='convert-tensor-to-kernel,transform-interpreter,canonicalize,cse,kernel-drop-transform-scripts,eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize' | FileCheck %s --check-prefix=BEFORE
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline='convert-tensor-to-kernel,transform-interpreter,canonicalize,cse,kernel-drop-transform-scripts,eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize,kernel-free-buffers' | FileCheck %s
// BEFORE-LABEL: func.func @softmax
// BEFORE-NOT: memref.dealloc
// BEFORE: return
// CHECK-LABEL: func.func @softmax
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: %[[B:.*]] = memref.alloc
// CHECK-DAG: memref.dealloc %[[A]]
// CHECK-DAG: memref.dealloc %[[B]]
// CHECK: return
