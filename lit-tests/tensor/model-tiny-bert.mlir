// RUN: %agentc build %S/Inputs/tiny.agent --emit=fragment --target host -o %t.fragment.mlir
// RUN: %agent-opt %t.fragment.mlir --base-dir %S/Inputs --pass-pipeline=convert-fragment-to-tensor | FileCheck %s

// The tiny BERT of examples/models (BertModel: hidden 64, 2 layers, 4 heads of 16,
// intermediate 128, vocab 320) becomes a sentence encoder: ids [T] and a mask [T] (1 for
// real tokens, 0 for padding) → the mean-pooled, L2-normalised embedding [64], as
// sentence-transformers computes it. Token type 0 throughout (one sentence).

// CHECK: "fragment.encode"({{.*}}fragment.kernel = @encoder_encode
// CHECK-LABEL: func.func @encoder_encode(%arg0: tensor<?xi64>, %arg1: tensor<?xf32>) -> tensor<64xf32> attributes {tgraph.config = {head_dim = 16 : i64, hidden_size = 64 : i64, intermediate_size = 128 : i64, max_position_embeddings = 128 : i64, num_attention_heads = 4 : i64, num_hidden_layers = 2 : i64, num_key_value_heads = 4 : i64, type_vocab_size = 2 : i64, vocab_size = 320 : i64}, tgraph.entry = "encode", tgraph.model = @encoder}
// CHECK: %[[POS:.*]] = "tgraph.arange"(%arg0, %{{.*}}) : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
// CHECK: "tgraph.weight"() {model = @encoder, name = "embeddings.word_embeddings.weight"} : () -> tensor<320x64xf32>
// CHECK: "tgraph.embedding"(%{{.*}}, %arg0)
// CHECK: "tgraph.weight"() {model = @encoder, name = "embeddings.position_embeddings.weight"} : () -> tensor<128x64xf32>
// CHECK: "tgraph.embedding"(%{{.*}}, %[[POS]])
// CHECK: "tgraph.weight"() {model = @encoder, name = "embeddings.token_type_embeddings.weight"} : () -> tensor<2x64xf32>
// CHECK: "tgraph.slice"({{.*}}) {axis = 0 : i64, size = 1 : i64, start = 0 : i64} : (tensor<2x64xf32>) -> tensor<1x64xf32>
// CHECK: "tgraph.layernorm"({{.*}}) {epsilon = 9.99999996E-13 : f32} : (tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.query.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.query.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.key.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.key.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.value.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.self.value.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.attention"(%{{.*}}, %{{.*}}, %{{.*}}, %arg1) {causal = false, scale = 2.500000e-01 : f32} : (tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?xf32>) -> tensor<?x4x16xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.output.dense.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.output.dense.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.output.LayerNorm.weight"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.attention.output.LayerNorm.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.layernorm"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.intermediate.dense.weight"} : () -> tensor<128x64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.intermediate.dense.bias"} : () -> tensor<128xf32>
// CHECK: "tgraph.gelu"({{.*}}) : (tensor<?x128xf32>) -> tensor<?x128xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.output.dense.weight"} : () -> tensor<64x128xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.output.dense.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.output.LayerNorm.weight"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.0.output.LayerNorm.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.layernorm"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.query.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.query.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.key.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.key.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.value.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.matmul"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.self.value.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.add"
// CHECK: "tgraph.attention"(%{{.*}}, %{{.*}}, %{{.*}}, %arg1) {causal = false, scale = 2.500000e-01 : f32} : (tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?xf32>) -> tensor<?x4x16xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.output.dense.weight"} : () -> tensor<64x64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.output.dense.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.output.LayerNorm.weight"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.attention.output.LayerNorm.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.layernorm"
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.intermediate.dense.weight"} : () -> tensor<128x64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.intermediate.dense.bias"} : () -> tensor<128xf32>
// CHECK: "tgraph.gelu"({{.*}}) : (tensor<?x128xf32>) -> tensor<?x128xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.output.dense.weight"} : () -> tensor<64x128xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.output.dense.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.output.LayerNorm.weight"} : () -> tensor<64xf32>
// CHECK: "tgraph.weight"() {model = @encoder, name = "encoder.layer.1.output.LayerNorm.bias"} : () -> tensor<64xf32>
// CHECK: "tgraph.layernorm"
// Mean pooling over real tokens (mask-weighted sum / mask count), then x / |x|.
// CHECK: %[[COL:.*]] = "tgraph.reshape"(%arg1) : (tensor<?xf32>) -> tensor<?x1xf32>
// CHECK: %[[MASKED:.*]] = "tgraph.mul"(%{{.*}}, %[[COL]]) : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
// CHECK: %[[SUM:.*]] = "tgraph.reduce_sum"(%[[MASKED]]) {axes = array<i64: 0>} : (tensor<?x64xf32>) -> tensor<64xf32>
// CHECK: %[[COUNT:.*]] = "tgraph.reduce_sum"(%arg1) : (tensor<?xf32>) -> tensor<f32>
// CHECK: %[[MEAN:.*]] = "tgraph.div"(%[[SUM]], %[[COUNT]]) : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
// CHECK: %[[LEN:.*]] = "tgraph.norm"(%[[MEAN]]) : (tensor<64xf32>) -> tensor<f32>
// CHECK: %[[OUT:.*]] = "tgraph.div"(%[[MEAN]], %[[LEN]])
// CHECK-NEXT: return %[[OUT]] : tensor<64xf32>
