// RUN: %agentc build %S/Inputs/numerics.mlir --emit=obj -o %t.o
// RUN: clang %S/Inputs/numerics.c %t.o -DGRID_MATMUL=8 -lm -o %t.exe
// RUN: %t.exe | FileCheck %s
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=obj -O0 -o %t0.o
// RUN: clang %S/Inputs/numerics.c %t0.o -DGRID_MATMUL=8 -lm -o %t0.exe
// RUN: %t0.exe | FileCheck %s

// Cosine, a 256x128x512 matmul (8 workgroups, each called by the harness) and a softmax,
// compiled to an x86-64 object for the host CPU at -O2 and -O0, linked with a C harness
// that computes references in double precision: |got - want| <= 1e-5 + 1e-4 |want|.
// CHECK: cosine ok
// CHECK: matmul ok
// CHECK: softmax ok
