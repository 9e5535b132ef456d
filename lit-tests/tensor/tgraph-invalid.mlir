// RUN: %agent-opt %s --split-input-file --verify-diagnostics

// agentc's verifier checks what IRDL cannot: shapes, element types, attribute values.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "x", sym_name = "m"} : () -> ()
func.func @f(%x: tensor<?x8xf32>, %w: tensor<4xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{`tgraph.rmsnorm` weight has 4 entries but the input's last dimension is 8}}
  %n = "tgraph.rmsnorm"(%x, %w) {epsilon = 1.0e-5 : f32} : (tensor<?x8xf32>, tensor<4xf32>) -> tensor<?x8xf32>
  return %n : tensor<?x8xf32>
}

// -----

func.func @f(%q: tensor<?x3x4xf32>, %k: tensor<?x2x4xf32>) -> tensor<?x3x4xf32> {
  // expected-error @+1 {{`tgraph.attention` has 3 query heads, not a multiple of 2 KV heads}}
  %a = "tgraph.attention"(%q, %k, %k) {causal = true, scale = 0.5 : f32} : (tensor<?x3x4xf32>, tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x3x4xf32>
  return %a : tensor<?x3x4xf32>
}

// -----

func.func @f(%q: tensor<?x2x5xf32>, %p: tensor<?xi64>) -> tensor<?x2x5xf32> {
  // expected-error @+1 {{`tgraph.rope` head_dim 5 must be even}}
  %a = "tgraph.rope"(%q, %p) {theta = 1.0e4 : f64} : (tensor<?x2x5xf32>, tensor<?xi64>) -> tensor<?x2x5xf32>
  return %a : tensor<?x2x5xf32>
}

// -----

// Scaled RoPE: the inverse-frequency table has one positive entry per pair of the head.
func.func @f(%q: tensor<?x2x4xf32>, %p: tensor<?xi64>) -> tensor<?x2x4xf32> {
  // expected-error @+1 {{`tgraph.rope` inv_freq has 3 entries for head_dim 4 (needs 2)}}
  %a = "tgraph.rope"(%q, %p) {inv_freq = array<f32: 1.0, 0.5, 0.25>, theta = 1.0e4 : f64} : (tensor<?x2x4xf32>, tensor<?xi64>) -> tensor<?x2x4xf32>
  return %a : tensor<?x2x4xf32>
}

// -----

func.func @f(%q: tensor<?x2x4xf32>, %p: tensor<?xi64>) -> tensor<?x2x4xf32> {
  // expected-error @+1 {{`tgraph.rope` inv_freq entries must be positive and finite}}
  %a = "tgraph.rope"(%q, %p) {inv_freq = array<f32: 1.0, 0.0>, theta = 1.0e4 : f64} : (tensor<?x2x4xf32>, tensor<?xi64>) -> tensor<?x2x4xf32>
  return %a : tensor<?x2x4xf32>
}

// -----

func.func @f(%q: tensor<?x2x4xf32>, %p: tensor<?xi64>) -> tensor<?x2x4xf32> {
  // expected-error @+1 {{`tgraph.rope` inv_freq must be a dense_array<f32>}}
  %a = "tgraph.rope"(%q, %p) {inv_freq = array<i64: 1, 2>, theta = 1.0e4 : f64} : (tensor<?x2x4xf32>, tensor<?xi64>) -> tensor<?x2x4xf32>
  return %a : tensor<?x2x4xf32>
}

// -----

func.func @f(%c: tensor<2x16x1x4xf32>, %k: tensor<1x1x4xf32>, %p: tensor<i64>) -> tensor<2x16x1x4xf32> {
  // expected-error @+1 {{`tgraph.kv_write` layer 2 is outside the cache's 2 layers}}
  %a = "tgraph.kv_write"(%c, %k, %p) {layer = 2 : i64} : (tensor<2x16x1x4xf32>, tensor<1x1x4xf32>, tensor<i64>) -> tensor<2x16x1x4xf32>
  return %a : tensor<2x16x1x4xf32>
}

// -----

func.func @f(%t: tensor<16x8xf32>, %ids: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{`tgraph.embedding` ids must have i64 elements, not i32}}
  %a = "tgraph.embedding"(%t, %ids) : (tensor<16x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %a : tensor<?x8xf32>
}

// -----

func.func @f(%x: tensor<3x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{`tgraph.slice` [-4, +1) is outside dimension 0 of size 3}}
  %a = "tgraph.slice"(%x) {axis = 0 : i64, size = 1 : i64, start = -4 : i64} : (tensor<3x8xf32>) -> tensor<1x8xf32>
  return %a : tensor<1x8xf32>
}

// -----

func.func @f(%x: tensor<3x8xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{`tgraph.reduce_sum` result shape [3] does not match [8] from its operands}}
  %a = "tgraph.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<3x8xf32>) -> tensor<3xf32>
  return %a : tensor<3xf32>
}

// -----

func.func @f() -> tensor<4xf32> {
  // expected-error @+1 {{weight `@nope` does not name a workflow.model}}
  %w = "tgraph.weight"() {model = @nope, name = "a"} : () -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @f(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = "tgraph.neg"(%x) {tgraph.fusion_group = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{fusion group 0: `tgraph.neg` is used outside the group but is not its last op}}
  %b = "tgraph.exp"(%a) {tgraph.fusion_group = 0 : i64, tgraph.fusion_kind = "elementwise"} : (tensor<4xf32>) -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
