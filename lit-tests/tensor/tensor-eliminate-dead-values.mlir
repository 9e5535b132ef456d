// RUN: %agent-opt %s --pass-pipeline=tensor-eliminate-dead-values | FileCheck %s

// Unused weights, transposes, casts and constants go, bottom-up (the transpose's weight
// becomes dead once the transpose is gone); used values and returns stay.
// CHECK-LABEL: func.func @dead
// CHECK-NEXT: %[[W:.*]] = "tgraph.weight"() {model = @m, name = "b"}
// CHECK-NEXT: %[[Y:.*]] = "tgraph.add"(%arg0, %[[W]])
// CHECK-NEXT: return %[[Y]]
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 4 : i64, kind = "decoder", path = "x", sym_name = "m"} : () -> ()
func.func @dead(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = "tgraph.weight"() {model = @m, name = "a"} : () -> tensor<4x4xf32>
  %t = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %d = tensor.cast %x : tensor<?x4xf32> to tensor<?x?xf32>
  %b = "tgraph.weight"() {model = @m, name = "b"} : () -> tensor<4xf32>
  %y = "tgraph.add"(%x, %b) : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
