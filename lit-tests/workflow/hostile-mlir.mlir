// MLIR input with a NUL byte or nesting past 1024 levels is refused before MLIR's parser
// (which panics on NUL and overflows its stack on deep nesting), in agentc and agent-opt.
//
// RUN: printf 'func.func @f() {\n  re\000turn\n}\n' > %t.nul.mlir
// RUN: not %agent-opt %t.nul.mlir 2>&1 | FileCheck %s --check-prefix=NUL-OPT
// RUN: not %agentc build %t.nul.mlir --emit=workflow 2>&1 | FileCheck %s --check-prefix=NUL
// NUL-OPT: nul.mlir:2:5: error: NUL byte in MLIR input
// NUL: error: NUL byte in MLIR input
// NUL-NEXT: ┌─ {{.*}}nul.mlir:2:5
// NUL: 2 │   re␀turn
//
// RUN: python3 -c "print('func.func @f(%%c: i1) {\n' + 'scf.if %%c {\n' * 10000 + '}\n' * 10000 + 'return\n}')" > %t.deep.mlir
// RUN: not %agent-opt %t.deep.mlir 2>&1 | FileCheck %s --check-prefix=DEEP-OPT
// RUN: not %agentc build %t.deep.mlir --emit=workflow 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP-OPT: deep.mlir:1025:11: error: MLIR nested deeper than 1024 levels
// DEEP: error: MLIR nested deeper than 1024 levels
// DEEP-NEXT: ┌─ {{.*}}deep.mlir:1025:11
//
// Under the limit is fine.
// RUN: python3 -c "print('func.func @f(%%c: i1) {\n' + 'scf.if %%c {\n' * 1000 + '}\n' * 1000 + 'return\n}')" > %t.ok.mlir
// RUN: %agent-opt %t.ok.mlir -o /dev/null
