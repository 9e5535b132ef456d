// convert-tensor-to-kernel attaches a transform script per function; once the transform
// interpreter has run it, kernel-drop-transform-scripts removes the scripts.
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline=convert-tensor-to-kernel | FileCheck %s --check-prefix=BEFORE
// RUN: %agent-opt %S/Inputs/kernel-passes.mlir --pass-pipeline=convert-tensor-to-kernel,transform-interpreter,kernel-drop-transform-scripts | FileCheck %s
// BEFORE: transform.named_sequence
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: transform.
