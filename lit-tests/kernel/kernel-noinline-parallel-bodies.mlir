// The loop bodies that async-parallel-for outlines (parallel_compute_fn…) get no_inline,
// so LLVM optimises each as a function of its own rather than inside an async coroutine
// (where the frame defeats alias analysis and the dot product was left scalar). Other
// functions, and functions that merely contain the name, are left alone.
// RUN: %agent-opt %s --pass-pipeline=kernel-noinline-parallel-bodies | FileCheck %s

// CHECK-LABEL: llvm.func @parallel_compute_fn(
// CHECK-SAME: attributes {no_inline}
// CHECK-LABEL: llvm.func @parallel_compute_fn_12(
// CHECK-SAME: attributes {no_inline}
// CHECK-LABEL: llvm.func @step(
// CHECK-NOT: no_inline
// CHECK-LABEL: llvm.func @my_parallel_compute_fn(
// CHECK-NOT: no_inline
// CHECK: }
module {
  llvm.func @parallel_compute_fn(%i: i64) {
    llvm.return
  }
  llvm.func @parallel_compute_fn_12(%i: i64) {
    llvm.return
  }
  llvm.func @step(%i: i64) {
    llvm.call @parallel_compute_fn(%i) : (i64) -> ()
    llvm.return
  }
  llvm.func @my_parallel_compute_fn(%i: i64) {
    llvm.return
  }
}
