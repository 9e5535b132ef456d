// RUN: %agent-opt %s --split-input-file --pass-pipeline=tensor-fuse-elementwise | FileCheck %s

// An elementwise chain (each value used once) becomes one group; a value used twice ends it.
// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.*]] = "tgraph.mul"(%arg0, %arg1) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: %[[B:.*]] = "tgraph.exp"(%[[A]]) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: %[[C:.*]] = "tgraph.add"(%[[B]], %arg1) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "elementwise"}
// CHECK-NEXT: "tgraph.neg"(%[[C]]) :
// CHECK-NEXT: "tgraph.sqrt"(%[[C]]) :
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %a = "tgraph.mul"(%x, %y) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %b = "tgraph.exp"(%a) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %c = "tgraph.add"(%b, %y) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %d = "tgraph.neg"(%c) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = "tgraph.sqrt"(%c) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %d, %e : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Into producers: a residual add after a matmul is its epilogue; an existing group (a
// matmul+silu) takes the SwiGLU product in. Into consumers: BERT's masked sum takes the
// mask multiply as its prologue.
// CHECK-LABEL: func.func @producers_consumers
// CHECK: "tgraph.matmul"(%arg0, %arg1) {tgraph.fusion_group = 1 : i64}
// CHECK-NEXT: "tgraph.add"({{.*}}) {tgraph.fusion_group = 1 : i64, tgraph.fusion_kind = "matmul+elementwise"}
// CHECK: "tgraph.matmul"(%arg0, %arg1) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: "tgraph.silu"({{.*}}) {tgraph.fusion_group = 0 : i64}
// CHECK-NEXT: "tgraph.mul"({{.*}}) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "matmul_activation+elementwise"}
// CHECK: "tgraph.mul"(%arg0, %arg3) {tgraph.fusion_group = 2 : i64}
// CHECK-NEXT: "tgraph.reduce_sum"({{.*}}) {axes = array<i64: 0>, tgraph.fusion_group = 2 : i64, tgraph.fusion_kind = "elementwise+reduce"}
func.func @producers_consumers(%x: tensor<?x8xf32>, %w: tensor<8x8xf32>, %u: tensor<?x8xf32>, %mask: tensor<?x1xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>) {
  %y = "tgraph.matmul"(%x, %w) : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %r = "tgraph.add"(%x, %y) : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %g = "tgraph.matmul"(%x, %w) {tgraph.fusion_group = 0 : i64} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %s = "tgraph.silu"(%g) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "matmul_activation"} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %p = "tgraph.mul"(%s, %u) : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %m = "tgraph.mul"(%x, %mask) : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %t = "tgraph.reduce_sum"(%m) {axes = array<i64: 0>} : (tensor<?x8xf32>) -> tensor<8xf32>
  return %r, %p, %t : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>
}
