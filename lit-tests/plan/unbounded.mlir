// Crafted IR cannot become a plan that iterates without the language's bounds or a `main`
// the executable cannot call: agentc's verifier rejects it when the IR is read (the plan
// loader enforces the same rules: runtime/src/plan/tests.rs).
// RUN: not %agentc build %s --emit=plan 2>&1 | FileCheck %s

module {
  func.func @main(%arg0: i64) -> i64 attributes {workflow.agent} {
    %c0 = arith.constant 0 : i64
    %c1 = arith.constant 1 : i64
    %big = arith.constant 9223372036854775807 : i64
    %true = arith.constant true
    %w = scf.while (%k = %c0) : (i64) -> i64 {
      scf.condition(%true) %k : i64
    } do {
    ^bb0(%k: i64):
      scf.yield %k : i64
    }
    %f = scf.for %i = %c0 to %big step %c1 iter_args(%acc = %w) -> (i64) : i64 {
      scf.yield %acc : i64
    }
    return %f : i64
  }
}

// CHECK: error: `main` has type `(i64) -> i64`; it must take no parameters or one `!workflow.list<!workflow.text>` and return `!workflow.text`
// CHECK-NEXT: ┌─ {{.*}}unbounded.mlir:7:3
// CHECK: error: an agent's `scf.while` needs a positive `workflow.max_iterations` (every loop is bounded)
// CHECK-NEXT: ┌─ {{.*}}unbounded.mlir:12:10
// CHECK: error: the upper bound of an agent's `scf.for` must be a list's `workflow.list_len` or a constant of at most 16777216 (every iteration is bounded)
// CHECK-NEXT: ┌─ {{.*}}unbounded.mlir:18:10
