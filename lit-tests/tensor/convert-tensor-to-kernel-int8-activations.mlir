// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel | FileCheck %s
// RUN: %agentc build %s --emit=asm --cpu sapphirerapids -o %t.s
// RUN: FileCheck %s --check-prefix=ASM < %t.s

// One-row linear layers by quantised weights marked `tgraph.activations = "int8"` (a model
// declared `gguf(..., activations: "int8")`) become the int8-activation kernel of
// conversion/tensor_to_kernel/dot_i8.rs: x is rounded per block of the weight's group
// (vector<32xf32> → vector<32xi8>; 16 for Q6_K's int8), then each row of W meets it in
// byte dot products. int4 (K = 192: 96 bytes a row, so 32-byte vectors): low nibbles
// (`andi 15`) with the first half of each block, high ones (`shrui 4`) with the second,
// both summed into one i32 lane vector from zero, then scales expanded to the lanes
// (2 blocks × 4 lanes) times the blocks' d, one fma per vector and row (4 rows); after a row's K loop the
// mins' share, a masked 16-wide dot product of its 6 mins with the blocks' `d·Σxq`. int8 (K = 128:
// 64-byte vectors, 2 blocks × 8 lanes): the bytes flipped to `q + 128` (`xori -128`) and
// the lanes started at −128·Σxq. The helpers are defined once each, with their generic
// body; on an AVX512-VNNI CPU they become vpdpbusd (ymm for 256 bits, zmm for 512).

// CHECK-LABEL: func.func @step(
// CHECK: arith.fptosi {{.*}} : vector<32xf32> to vector<32xi8>
// CHECK: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// CHECK: vector.extract_strided_slice {{.*}} {offsets = [16], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// CHECK: tensor.collapse_shape %arg3 {{\[}}[0], [1, 2]] : tensor<8x6x16xi8> into tensor<8x96xi8>
// CHECK: scf.forall
// CHECK: %[[LO:.*]] = arith.andi %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: %[[HI:.*]] = arith.shrui %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: %[[P:.*]] = func.call @agentc_dot_u8i8_256(%{{.*}}, %[[LO]], %{{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// CHECK: %[[S:.*]] = func.call @agentc_dot_u8i8_256(%[[P]], %[[HI]], %{{.*}})
// CHECK: arith.sitofp %[[S]] : vector<8xi32> to vector<8xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 0, 0, 0, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// CHECK-COUNT-4: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK: %[[MV:.*]] = vector.transfer_read %arg5[%{{.*}}, %{{.*}}], %{{.*}} : tensor<8x6xf32>, vector<16xf32>
// CHECK: %[[SB:.*]] = vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}} : tensor<6xf32>, vector<16xf32>
// CHECK: arith.mulf %[[MV]], %[[SB]] : vector<16xf32>
// CHECK: arith.fptosi {{.*}} : vector<32xf32> to vector<32xi8>
// CHECK: tensor.collapse_shape %arg6 {{\[}}[0], [1, 2]] : tensor<8x4x32xi8> into tensor<8x128xi8>
// CHECK: %[[U:.*]] = arith.xori %{{.*}}, %{{.*}} : vector<64xi8>
// CHECK: func.call @agentc_dot_u8i8_512(%{{.*}}, %[[U]], %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// CHECK: arith.fptosi {{.*}} : vector<16xf32> to vector<16xi8>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3] : vector<4xf32>, vector<4xf32>
// Q4_0 (`int4s_g32`: values q − 8, no min array): the lanes start at −8 · (the 8 xq each
// lane meets), and no mins' dot product follows the K loop.
// CHECK: %[[M8:.*]] = arith.constant dense<-8> : vector<4xi32>
// CHECK: arith.muli %{{.*}}, %[[M8]] : vector<4xi32>
// CHECK: scf.forall
// CHECK: %[[START:.*]] = vector.transfer_read %{{.*}} : tensor<24xi32>, vector<8xi32>
// CHECK: func.call @agentc_dot_u8i8_256(%[[START]], %{{.*}}, %{{.*}})
// CHECK-COUNT-4: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK-NOT: tensor<8x6xf32>, vector<16xf32>
// CHECK: bufferization.materialize_in_destination
// CHECK: func.func private @agentc_dot_u8i8_256(%{{.*}}: vector<8xi32>, %{{.*}}: vector<32xi8>, %{{.*}}: vector<32xi8>) -> vector<8xi32> attributes {kernel.dot_u8i8}
// CHECK: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK: arith.extsi {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK: func.func private @agentc_dot_u8i8_512(
// CHECK-NOT: func.func private @agentc_dot_u8i8

// ASM: vpdpbusd %ymm
// ASM: vpdpbusd %zmm

module {
  "workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 192 : i64, kind = "decoder", path = "m.gguf", sym_name = "m", workflow.activations = "int8"} : () -> ()
  func.func @step(%x: tensor<1x192xf32>, %y: tensor<1x128xf32>, %z: tensor<1x64xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) attributes {tgraph.entry = "decode_step"} {
    %w4 = "tgraph.weight"() {model = @m, name = "w4", tgraph.activations = "int8", tgraph.quant = "int4_g32", tgraph.stored = "Q4_1"} : () -> tensor<8x192xf32>
    %t4 = "tgraph.transpose"(%w4) {permutation = array<i64: 1, 0>} : (tensor<8x192xf32>) -> tensor<192x8xf32>
    %a = "tgraph.matmul"(%x, %t4) : (tensor<1x192xf32>, tensor<192x8xf32>) -> tensor<1x8xf32>
    %w8 = "tgraph.weight"() {model = @m, name = "w8", tgraph.activations = "int8", tgraph.quant = "int8_g32", tgraph.stored = "Q8_0"} : () -> tensor<8x128xf32>
    %t8 = "tgraph.transpose"(%w8) {permutation = array<i64: 1, 0>} : (tensor<8x128xf32>) -> tensor<128x8xf32>
    %b = "tgraph.matmul"(%y, %t8) : (tensor<1x128xf32>, tensor<128x8xf32>) -> tensor<1x8xf32>
    %w6 = "tgraph.weight"() {model = @m, name = "w6", tgraph.activations = "int8", tgraph.quant = "int8_g16", tgraph.stored = "Q6_K"} : () -> tensor<8x64xf32>
    %t6 = "tgraph.transpose"(%w6) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
    %c = "tgraph.matmul"(%z, %t6) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
    %w0 = "tgraph.weight"() {model = @m, name = "w0", tgraph.activations = "int8", tgraph.quant = "int4s_g32", tgraph.stored = "Q4_0"} : () -> tensor<8x192xf32>
    %t0 = "tgraph.transpose"(%w0) {permutation = array<i64: 1, 0>} : (tensor<8x192xf32>) -> tensor<192x8xf32>
    %d = "tgraph.matmul"(%x, %t0) : (tensor<1x192xf32>, tensor<192x8xf32>) -> tensor<1x8xf32>
    return %a, %b, %c, %d : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
  }
}
