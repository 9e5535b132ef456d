// RUN: %agent-opt %s --split-input-file --pass-pipeline=tensor-fuse-norm-matmul | FileCheck %s

// One rmsnorm feeding three projections (Llama's q, k, v): the norm is duplicated so each
// matmul gets its own copy right before it, and each pair is a fusion group rooted at the
// matmul. Groups are numbered in program order.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[N0:.*]] = "tgraph.rmsnorm"(%arg0, %arg1) {epsilon = {{.*}}, tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: "tgraph.matmul"(%[[N0]], %arg2) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "norm_matmul"}
// CHECK-NEXT: %[[N1:.*]] = "tgraph.rmsnorm"(%arg0, %arg1) {epsilon = {{.*}}, tgraph.fusion_group = 1 : i64}
// CHECK-NEXT: "tgraph.matmul"(%[[N1]], %arg3) {tgraph.fusion_group = 1 : i64, tgraph.fusion_kind = "norm_matmul"}
// CHECK-NEXT: "tgraph.silu"
// CHECK-NEXT: %[[N2:.*]] = "tgraph.rmsnorm"(%arg0, %arg1) {epsilon = {{.*}}, tgraph.fusion_group = 2 : i64}
// CHECK-NEXT: "tgraph.matmul"(%[[N2]], %arg4) {tgraph.fusion_group = 2 : i64, tgraph.fusion_kind = "norm_matmul"}
// CHECK-NOT: rmsnorm
func.func @qkv(%x: tensor<?x8xf32>, %w: tensor<8xf32>, %q: tensor<8x8xf32>, %k: tensor<8x4xf32>, %v: tensor<8x4xf32>) -> (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %n = "tgraph.rmsnorm"(%x, %w) {epsilon = 1.0e-5 : f32} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %a = "tgraph.matmul"(%n, %q) : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %b = "tgraph.matmul"(%n, %k) : (tensor<?x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
  %s = "tgraph.silu"(%b) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %c = "tgraph.matmul"(%n, %v) : (tensor<?x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
  return %a, %s, %c : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// A layernorm that something besides a matmul's lhs also reads is left alone.
// CHECK-LABEL: func.func @shared
// CHECK-NOT: fusion_group
func.func @shared(%x: tensor<?x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>, %m: tensor<8x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %n = "tgraph.layernorm"(%x, %w, %b) {epsilon = 1.0e-12 : f32} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %a = "tgraph.matmul"(%n, %m) : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %r = "tgraph.add"(%n, %a) : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %a, %r : tensor<?x8xf32>, tensor<?x8xf32>
}
