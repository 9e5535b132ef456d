// RUN: %agentc build %S/Inputs/tiny.agent --emit=fragment --target host -o %t.fragment.mlir
// RUN: %agent-opt %t.fragment.mlir --base-dir %S/Inputs --pass-pipeline=convert-fragment-to-tensor | FileCheck %s --check-prefixes=CHECK,PREFILL,DECODE

// The tiny Llama of examples/models (LlamaForCausalLM: hidden 64, 2 layers, 4 query heads
// and 2 KV heads of 16 (GQA), intermediate 128, vocab 384, 512 positions) becomes a
// prefill function over T prompt tokens and a decode step over a 512-slot KV cache. Every
// weight is bound by its safetensors name, with the header's shape; the fragments name the
// functions they run. The user fn `total` stays a tensor function, untouched.

// CHECK: func.func private @total(%{{.*}}: tensor<64xf32>) -> f32 attributes {workflow.fn} {
// CHECK-NEXT: "tgraph.reduce_sum"
// CHECK: "fragment.encode"({{.*}}fragment.kernel = @encoder_encode
// CHECK: "fragment.prefill"({{.*}}fragment.kernel = @writer_prefill
// CHECK: "fragment.decode"({{.*}}fragment.kernel = @writer_decode_step

// Prefill: ids [T] → logits of the last position [384], K and V caches [2, 512, 2, 16].
// PREFILL-LABEL: func.func @writer_prefill(%arg0: tensor<?xi64>) -> (tensor<384xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>) attributes {tgraph.config = {head_dim = 16 : i64, hidden_size = 64 : i64, intermediate_size = 128 : i64, max_position_embeddings = 512 : i64, num_attention_heads = 4 : i64, num_hidden_layers = 2 : i64, num_key_value_heads = 2 : i64, vocab_size = 384 : i64}, tgraph.entry = "prefill", tgraph.model = @writer}
// PREFILL: %[[ZERO:.*]] = arith.constant dense<0> : tensor<i64>
// PREFILL: "tgraph.arange"(%arg0, %[[ZERO]]) : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.embed_tokens.weight"} : () -> tensor<384x64xf32>
// PREFILL: "tgraph.embedding"({{.*}}) : (tensor<384x64xf32>, tensor<?xi64>) -> tensor<?x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.input_layernorm.weight"} : () -> tensor<64xf32>
// PREFILL: "tgraph.rmsnorm"({{.*}}) {epsilon = 9.99999974E-6 : f32}
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.q_proj.weight"} : () -> tensor<64x64xf32>
// PREFILL: "tgraph.transpose"({{.*}}) {permutation = array<i64: 1, 0>}
// PREFILL: "tgraph.matmul"({{.*}}) : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.k_proj.weight"} : () -> tensor<32x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.v_proj.weight"} : () -> tensor<32x64xf32>
// PREFILL: "tgraph.reshape"({{.*}}) : (tensor<?x64xf32>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<?x4x16xf32>, tensor<?xi64>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<?x2x16xf32>
// PREFILL: "tgraph.kv_write"({{.*}}) {layer = 0 : i64} : (tensor<2x512x2x16xf32>, tensor<?x2x16xf32>, tensor<i64>) -> tensor<2x512x2x16xf32>
// PREFILL: "tgraph.kv_write"({{.*}}) {layer = 0 : i64}
// PREFILL: "tgraph.attention"({{.*}}) {causal = true, scale = 2.500000e-01 : f32} : (tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.o_proj.weight"} : () -> tensor<64x64xf32>
// PREFILL: "tgraph.add"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.post_attention_layernorm.weight"} : () -> tensor<64xf32>
// PREFILL: "tgraph.rmsnorm"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.gate_proj.weight"} : () -> tensor<128x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.up_proj.weight"} : () -> tensor<128x64xf32>
// PREFILL: "tgraph.silu"({{.*}}) : (tensor<?x128xf32>) -> tensor<?x128xf32>
// PREFILL: "tgraph.mul"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.down_proj.weight"} : () -> tensor<64x128xf32>
// PREFILL: "tgraph.add"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.input_layernorm.weight"} : () -> tensor<64xf32>
// PREFILL: "tgraph.rmsnorm"({{.*}}) {epsilon = 9.99999974E-6 : f32}
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.q_proj.weight"} : () -> tensor<64x64xf32>
// PREFILL: "tgraph.transpose"({{.*}}) {permutation = array<i64: 1, 0>}
// PREFILL: "tgraph.matmul"({{.*}}) : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.k_proj.weight"} : () -> tensor<32x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.v_proj.weight"} : () -> tensor<32x64xf32>
// PREFILL: "tgraph.reshape"({{.*}}) : (tensor<?x64xf32>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<?x4x16xf32>, tensor<?xi64>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<?x2x16xf32>
// PREFILL: "tgraph.kv_write"({{.*}}) {layer = 1 : i64} : (tensor<2x512x2x16xf32>, tensor<?x2x16xf32>, tensor<i64>) -> tensor<2x512x2x16xf32>
// PREFILL: "tgraph.kv_write"({{.*}}) {layer = 1 : i64}
// PREFILL: "tgraph.attention"({{.*}}) {causal = true, scale = 2.500000e-01 : f32} : (tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>) -> tensor<?x4x16xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.o_proj.weight"} : () -> tensor<64x64xf32>
// PREFILL: "tgraph.add"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.post_attention_layernorm.weight"} : () -> tensor<64xf32>
// PREFILL: "tgraph.rmsnorm"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.gate_proj.weight"} : () -> tensor<128x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.up_proj.weight"} : () -> tensor<128x64xf32>
// PREFILL: "tgraph.silu"({{.*}}) : (tensor<?x128xf32>) -> tensor<?x128xf32>
// PREFILL: "tgraph.mul"
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.down_proj.weight"} : () -> tensor<64x128xf32>
// PREFILL: "tgraph.add"
// Only the last position goes through the final norm and the vocabulary projection.
// PREFILL: "tgraph.slice"({{.*}}) {axis = 0 : i64, size = 1 : i64, start = -1 : i64} : (tensor<?x64xf32>) -> tensor<1x64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "model.norm.weight"} : () -> tensor<64xf32>
// PREFILL: "tgraph.weight"() {model = @writer, name = "lm_head.weight"} : () -> tensor<384x64xf32>
// PREFILL: %[[LOGITS:.*]] = "tgraph.reshape"({{.*}}) : (tensor<1x384xf32>) -> tensor<384xf32>
// PREFILL-NEXT: return %[[LOGITS]], %{{.*}}, %{{.*}} : tensor<384xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>

// Decode step: the token and its position (0-d), the caches in, logits and caches out.
// The step writes its own K/V at `position` (kv_write) and attends over slots 0..=position.
// DECODE-LABEL: func.func @writer_decode_step(%arg0: tensor<i64>, %arg1: tensor<i64>, %arg2: tensor<2x512x2x16xf32>, %arg3: tensor<2x512x2x16xf32>) -> (tensor<384xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>) attributes {tgraph.config = {head_dim = 16 : i64, hidden_size = 64 : i64, intermediate_size = 128 : i64, max_position_embeddings = 512 : i64, num_attention_heads = 4 : i64, num_hidden_layers = 2 : i64, num_key_value_heads = 2 : i64, vocab_size = 384 : i64}, tgraph.entry = "decode_step", tgraph.model = @writer}
// DECODE: "tgraph.reshape"(%arg0) : (tensor<i64>) -> tensor<1xi64>
// DECODE: "tgraph.arange"(%{{.*}}, %arg1) : (tensor<1xi64>, tensor<i64>) -> tensor<1xi64>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.embed_tokens.weight"} : () -> tensor<384x64xf32>
// DECODE: "tgraph.embedding"({{.*}}) : (tensor<384x64xf32>, tensor<1xi64>) -> tensor<1x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.input_layernorm.weight"} : () -> tensor<64xf32>
// DECODE: "tgraph.rmsnorm"({{.*}}) {epsilon = 9.99999974E-6 : f32}
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.q_proj.weight"} : () -> tensor<64x64xf32>
// DECODE: "tgraph.transpose"({{.*}}) {permutation = array<i64: 1, 0>}
// DECODE: "tgraph.matmul"({{.*}}) : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.k_proj.weight"} : () -> tensor<32x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.v_proj.weight"} : () -> tensor<32x64xf32>
// DECODE: "tgraph.reshape"({{.*}}) : (tensor<1x64xf32>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<1x4x16xf32>, tensor<1xi64>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<1x2x16xf32>, tensor<1xi64>) -> tensor<1x2x16xf32>
// DECODE: "tgraph.kv_write"({{.*}}) {layer = 0 : i64} : (tensor<2x512x2x16xf32>, tensor<1x2x16xf32>, tensor<i64>) -> tensor<2x512x2x16xf32>
// DECODE: "tgraph.kv_write"({{.*}}) {layer = 0 : i64}
// DECODE: "tgraph.attention_cached"({{.*}}) {layer = 0 : i64, scale = 2.500000e-01 : f32} : (tensor<1x4x16xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>, tensor<i64>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.self_attn.o_proj.weight"} : () -> tensor<64x64xf32>
// DECODE: "tgraph.add"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.post_attention_layernorm.weight"} : () -> tensor<64xf32>
// DECODE: "tgraph.rmsnorm"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.gate_proj.weight"} : () -> tensor<128x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.up_proj.weight"} : () -> tensor<128x64xf32>
// DECODE: "tgraph.silu"({{.*}}) : (tensor<1x128xf32>) -> tensor<1x128xf32>
// DECODE: "tgraph.mul"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.0.mlp.down_proj.weight"} : () -> tensor<64x128xf32>
// DECODE: "tgraph.add"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.input_layernorm.weight"} : () -> tensor<64xf32>
// DECODE: "tgraph.rmsnorm"({{.*}}) {epsilon = 9.99999974E-6 : f32}
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.q_proj.weight"} : () -> tensor<64x64xf32>
// DECODE: "tgraph.transpose"({{.*}}) {permutation = array<i64: 1, 0>}
// DECODE: "tgraph.matmul"({{.*}}) : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.k_proj.weight"} : () -> tensor<32x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.v_proj.weight"} : () -> tensor<32x64xf32>
// DECODE: "tgraph.reshape"({{.*}}) : (tensor<1x64xf32>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<1x4x16xf32>, tensor<1xi64>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.rope"({{.*}}) {theta = 1.000000e+04 : f64} : (tensor<1x2x16xf32>, tensor<1xi64>) -> tensor<1x2x16xf32>
// DECODE: "tgraph.kv_write"({{.*}}) {layer = 1 : i64} : (tensor<2x512x2x16xf32>, tensor<1x2x16xf32>, tensor<i64>) -> tensor<2x512x2x16xf32>
// DECODE: "tgraph.kv_write"({{.*}}) {layer = 1 : i64}
// DECODE: "tgraph.attention_cached"({{.*}}) {layer = 1 : i64, scale = 2.500000e-01 : f32} : (tensor<1x4x16xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>, tensor<i64>) -> tensor<1x4x16xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.self_attn.o_proj.weight"} : () -> tensor<64x64xf32>
// DECODE: "tgraph.add"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.post_attention_layernorm.weight"} : () -> tensor<64xf32>
// DECODE: "tgraph.rmsnorm"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.gate_proj.weight"} : () -> tensor<128x64xf32>
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.up_proj.weight"} : () -> tensor<128x64xf32>
// DECODE: "tgraph.silu"({{.*}}) : (tensor<1x128xf32>) -> tensor<1x128xf32>
// DECODE: "tgraph.mul"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.layers.1.mlp.down_proj.weight"} : () -> tensor<64x128xf32>
// DECODE: "tgraph.add"
// DECODE: "tgraph.weight"() {model = @writer, name = "model.norm.weight"}
// DECODE: "tgraph.weight"() {model = @writer, name = "lm_head.weight"}
// DECODE: return %{{.*}} : tensor<384xf32>, tensor<2x512x2x16xf32>, tensor<2x512x2x16xf32>
