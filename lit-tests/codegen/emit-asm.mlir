// RUN: %agentc build %S/Inputs/numerics.mlir --emit=asm --cpu znver4 | FileCheck %s
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=asm --cpu x86-64-v3 | FileCheck %s --check-prefix=AVX2

// x86-64 assembly for a named CPU (not the host, so the output is fixed): the matmul's
// register tile is broadcast + vector FMA.
// CHECK-LABEL: matmul:
// CHECK: vbroadcastss
// CHECK: vfmadd{{[0-9]+}}ps {{.*}}%zmm
// CHECK: _mlir_ciface_matmul:
// AVX2-LABEL: matmul:
// AVX2: vfmadd{{[0-9]+}}ps {{.*}}%ymm
