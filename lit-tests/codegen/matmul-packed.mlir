// RUN: %agentc build %S/Inputs/matmul-packed.mlir --emit=obj -o %t.o
// RUN: clang %S/Inputs/matmul-packed.c %t.o -lm -o %t.exe
// RUN: %t.exe | FileCheck %s
// RUN: %agentc build %S/Inputs/matmul-packed.mlir --emit=obj -O0 -o %t0.o
// RUN: clang %S/Inputs/matmul-packed.c %t0.o -lm -o %t0.exe
// RUN: %t0.exe | FileCheck %s
// RUN: %agent-opt %S/Inputs/matmul-packed.mlir --pass-pipeline=convert-tensor-to-kernel | FileCheck %s --check-prefix=KERNEL

// Matmuls with K >= 256 and N >= 256 take the packed-B split (each workgroup copies its
// K x 64 B panel into a contiguous buffer, then multiplies): every workgroup of two such
// kernels, at -O2 and -O0, against a double-precision reference.
// CHECK: mm_tall ok
// CHECK: mm_short ok

// KERNEL-LABEL: func.func @mm_tall(
// KERNEL-SAME: kernel.grid = array<i64: 10>
// KERNEL: tensor.extract_slice %{{.*}} [256, 384] [1, 1]
// KERNEL: %[[B:.*]] = tensor.extract_slice %{{.*}} [384, 64] [1, 1]
// KERNEL: %[[BP:.*]] = linalg.copy {kernel.op = 3 : i64} ins(%[[B]] : tensor<384x64xf32>)
// KERNEL: linalg.matmul {kernel.op = 2 : i64} ins(%{{.*}}, %[[BP]] :
// KERNEL-LABEL: func.func @mm_short(
// KERNEL-SAME: kernel.grid = array<i64: 12>
// KERNEL: transform.named_sequence @__transform_main
// KERNEL: attributes {sym_name = "mm_tall"}
// KERNEL: tile_sizes [0, 0, 128]
// KERNEL: tile_sizes [4, 64, 1]
// KERNEL: tile_sizes [8, 64]
