// RUN: %agent-opt %s | FileCheck %s
// RUN: %mlir-opt --irdl-file=%irdl %s | FileCheck %s

// Every model-level tgraph op in a valid use: agentc's verifier and upstream mlir-opt
// (IRDL structure only) both accept and print them.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "x", sym_name = "m"} : () -> ()
// CHECK-LABEL: func.func @ops
// CHECK: "tgraph.weight"() {model = @m, name = "model.embed_tokens.weight"} : () -> tensor<16x8xf32>
// CHECK: "tgraph.arange"
// CHECK: "tgraph.embedding"
// CHECK: "tgraph.rmsnorm"
// CHECK: "tgraph.layernorm"
// CHECK: "tgraph.rope"
// CHECK: "tgraph.attention"({{.*}}) {causal = true
// CHECK: "tgraph.attention"({{.*}}) {causal = false
// CHECK: "tgraph.kv_write"
// CHECK: "tgraph.attention_cached"
// CHECK: "tgraph.silu"
// CHECK: "tgraph.gelu"
// CHECK: "tgraph.concat"
// CHECK: "tgraph.slice"
// CHECK: "tgraph.reduce_max"({{.*}}) {axes = array<i64: 1>}
func.func @ops(%ids: tensor<?xi64>, %w: tensor<8xf32>, %cache: tensor<2x16x1x4xf32>, %pos: tensor<i64>, %mask: tensor<?xf32>) -> (tensor<?x2x4xf32>, tensor<2x16x1x4xf32>, tensor<?x8xf32>, tensor<?xf32>) {
  %table = "tgraph.weight"() {model = @m, name = "model.embed_tokens.weight"} : () -> tensor<16x8xf32>
  %p = "tgraph.arange"(%ids, %pos) : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %x = "tgraph.embedding"(%table, %ids) : (tensor<16x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
  %n = "tgraph.rmsnorm"(%x, %w) {epsilon = 1.0e-5 : f32} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %l = "tgraph.layernorm"(%n, %w, %w) {epsilon = 1.0e-12 : f32} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %q = "tgraph.reshape"(%l) : (tensor<?x8xf32>) -> tensor<?x2x4xf32>
  %k = "tgraph.slice"(%q) {axis = 1 : i64, size = 1 : i64, start = 0 : i64} : (tensor<?x2x4xf32>) -> tensor<?x1x4xf32>
  %qr = "tgraph.rope"(%q, %p) {theta = 1.0e4 : f64} : (tensor<?x2x4xf32>, tensor<?xi64>) -> tensor<?x2x4xf32>
  %a = "tgraph.attention"(%qr, %k, %k) {causal = true, scale = 0.5 : f32} : (tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<?x1x4xf32>) -> tensor<?x2x4xf32>
  %b = "tgraph.attention"(%a, %k, %k, %mask) {causal = false, scale = 0.5 : f32} : (tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?xf32>) -> tensor<?x2x4xf32>
  %c = "tgraph.kv_write"(%cache, %k, %pos) {layer = 1 : i64} : (tensor<2x16x1x4xf32>, tensor<?x1x4xf32>, tensor<i64>) -> tensor<2x16x1x4xf32>
  %d = "tgraph.attention_cached"(%b, %c, %c, %pos) {layer = 1 : i64, scale = 0.5 : f32} : (tensor<?x2x4xf32>, tensor<2x16x1x4xf32>, tensor<2x16x1x4xf32>, tensor<i64>) -> tensor<?x2x4xf32>
  %s = "tgraph.silu"(%l) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %g = "tgraph.gelu"(%s) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %cat = "tgraph.concat"(%g, %g) {axis = 0 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %last = "tgraph.slice"(%cat) {axis = 0 : i64, size = 1 : i64, start = -1 : i64} : (tensor<?x8xf32>) -> tensor<1x8xf32>
  %mx = "tgraph.reduce_max"(%cat) {axes = array<i64: 1>} : (tensor<?x8xf32>) -> tensor<?xf32>
  return %d, %c, %cat, %mx : tensor<?x2x4xf32>, tensor<2x16x1x4xf32>, tensor<?x8xf32>, tensor<?xf32>
}
