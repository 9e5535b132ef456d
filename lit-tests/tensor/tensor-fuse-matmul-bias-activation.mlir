// RUN: %agent-opt %s --split-input-file --pass-pipeline=tensor-fuse-matmul-bias-activation | FileCheck %s

// BERT's intermediate dense: matmul, bias add, GELU become one group rooted at the GELU;
// the ops between them move out of the way so the group is contiguous.
// CHECK-LABEL: func.func @dense_gelu
// CHECK: "tgraph.neg"
// CHECK-NEXT: %[[Y:.*]] = "tgraph.matmul"(%arg0, %arg1) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: %[[B:.*]] = "tgraph.add"(%[[Y]], %arg2) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: "tgraph.gelu"(%[[B]]) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "matmul_bias_activation"}
func.func @dense_gelu(%x: tensor<?x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<?x16xf32>, tensor<?x8xf32>) {
  %y = "tgraph.matmul"(%x, %w) : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  %n = "tgraph.neg"(%x) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %z = "tgraph.add"(%y, %b) : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %g = "tgraph.gelu"(%z) : (tensor<?x16xf32>) -> tensor<?x16xf32>
  return %g, %n : tensor<?x16xf32>, tensor<?x8xf32>
}

// -----

// New groups are numbered after the existing ones (7 here). Bias without activation,
// activation without bias (Llama's gate: SiLU), and a matmul
// already fused with its norm: its group grows.
// CHECK-LABEL: func.func @variants
// CHECK: "tgraph.add"({{.*}}) {tgraph.fusion_group = 8 : i64, tgraph.fusion_kind = "matmul_bias"}
// CHECK: "tgraph.silu"({{.*}}) {tgraph.fusion_group = 9 : i64, tgraph.fusion_kind = "matmul_activation"}
// CHECK: "tgraph.rmsnorm"({{.*}}tgraph.fusion_group = 7 : i64}
// CHECK-NEXT: "tgraph.matmul"({{.*}}) {tgraph.fusion_group = 7 : i64}
// CHECK-NEXT: "tgraph.silu"({{.*}}) {tgraph.fusion_group = 7 : i64, tgraph.fusion_kind = "norm_matmul+activation"}
// A bias that is not 1-D along the output's last dimension is a residual, not a bias.
// CHECK: %[[R:.*]] = "tgraph.matmul"(%arg0, %arg1) : (
// CHECK-NEXT: "tgraph.add"(%[[R]], %arg5) : (
func.func @variants(%x: tensor<?x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %nw: tensor<8xf32>, %g: tensor<8x8xf32>, %res: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x16xf32>) {
  %y = "tgraph.matmul"(%x, %w) : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  %z = "tgraph.add"(%y, %b) : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %y2 = "tgraph.matmul"(%x, %w) : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  %s = "tgraph.silu"(%y2) : (tensor<?x16xf32>) -> tensor<?x16xf32>
  %n = "tgraph.rmsnorm"(%x, %nw) {epsilon = 1.0e-5 : f32, tgraph.fusion_group = 7 : i64} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %m = "tgraph.matmul"(%n, %g) {tgraph.fusion_group = 7 : i64, tgraph.fusion_kind = "norm_matmul"} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %a = "tgraph.silu"(%m) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %y3 = "tgraph.matmul"(%x, %w) : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  %r = "tgraph.add"(%y3, %res) : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %z, %s, %a, %r : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x16xf32>
}
