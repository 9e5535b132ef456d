// RUN: %agent-opt %s --split-input-file --pass-pipeline=tensor-specialize-shapes | FileCheck %s

// A tensor.cast that erases a static size (T = 7) is looked through: the shape flows
// through the norm, the matmul, the reshapes (one dynamic dim, from the element count) and
// the activation. The function's signature is unchanged: the return gets a cast back.
// CHECK-LABEL: func.func @known_tokens
// CHECK: %[[N:.*]] = "tgraph.rmsnorm"(%arg0, %arg1) {{.*}} : (tensor<7x64xf32>, tensor<64xf32>) -> tensor<7x64xf32>
// CHECK: %[[Y:.*]] = "tgraph.matmul"(%[[N]], %arg2) : (tensor<7x64xf32>, tensor<64x32xf32>) -> tensor<7x32xf32>
// CHECK: %[[R:.*]] = "tgraph.reshape"(%[[Y]]) : (tensor<7x32xf32>) -> tensor<7x4x8xf32>
// CHECK: %[[S:.*]] = "tgraph.silu"(%[[R]]) : (tensor<7x4x8xf32>) -> tensor<7x4x8xf32>
// CHECK: %[[B:.*]] = "tgraph.reshape"(%[[S]]) : (tensor<7x4x8xf32>) -> tensor<7x32xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[B]] : tensor<7x32xf32> to tensor<?x32xf32>
// CHECK: return %[[C]] : tensor<?x32xf32>
func.func @known_tokens(%x: tensor<7x64xf32>, %w: tensor<64xf32>, %m: tensor<64x32xf32>) -> tensor<?x32xf32> {
  %d = tensor.cast %x : tensor<7x64xf32> to tensor<?x64xf32>
  %n = "tgraph.rmsnorm"(%d, %w) {epsilon = 1.0e-5 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = "tgraph.matmul"(%n, %m) : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
  %r = "tgraph.reshape"(%y) : (tensor<?x32xf32>) -> tensor<?x4x8xf32>
  %s = "tgraph.silu"(%r) : (tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %b = "tgraph.reshape"(%s) : (tensor<?x4x8xf32>) -> tensor<?x32xf32>
  return %b : tensor<?x32xf32>
}

// -----

// Static operands alone specialise too (a broadcast, a concat, a slice of a weight-like
// argument); a dynamic input stays dynamic.
// CHECK-LABEL: func.func @from_operands
// CHECK: "tgraph.add"(%arg0, %arg1) : (tensor<3x1xf32>, tensor<1x5xf32>) -> tensor<3x5xf32>
// CHECK: "tgraph.concat"(%{{.*}}, %{{.*}}) {axis = 0 : i64} : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<6x5xf32>
// CHECK: "tgraph.embedding"(%arg2, %arg3) : (tensor<10x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
func.func @from_operands(%a: tensor<3x1xf32>, %b: tensor<1x5xf32>, %table: tensor<10x4xf32>, %ids: tensor<?xi64>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %s = "tgraph.add"(%a, %b) : (tensor<3x1xf32>, tensor<1x5xf32>) -> tensor<?x?xf32>
  %c = "tgraph.concat"(%s, %s) {axis = 0 : i64} : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %e = "tgraph.embedding"(%table, %ids) : (tensor<10x4xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  return %c, %e : tensor<?x?xf32>, tensor<?x?xf32>
}
