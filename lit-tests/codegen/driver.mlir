// RUN: sh -c '%agentc build %S/Inputs/numerics.mlir --emit=obj 2> %t.err; test $? -eq 2'
// RUN: FileCheck %s --check-prefix=NOOUT < %t.err
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=obj -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=SYMS
// RUN: not %agentc build %S/Inputs/unsupported.mlir --emit=kernel 2>&1 | FileCheck %s --check-prefix=UNSUP

// NOOUT: error: `--emit=obj` writes a binary file: give it a path with `-o FILE.o`
// SYMS: T _mlir_ciface_cosine
// SYMS: T _mlir_ciface_matmul
// SYMS: T cosine
// SYMS: T matmul
// UNSUP: error: cannot lower to kernels: element type `i32` (only floating-point tensors are lowered yet)
