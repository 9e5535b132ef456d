// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu sapphirerapids | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu x86-64-v3 | FileCheck %s --check-prefix=SIGNED
// RUN: %agentc build %s --emit=asm --cpu sapphirerapids -o %t.s
// RUN: FileCheck %s --check-prefix=ASM < %t.s
// RUN: sed 's/"int4_g32h"/"int4_g32f"/' %s > %t.unknown.mlir
// RUN: not %agent-opt %t.unknown.mlir --pass-pipeline=convert-tensor-to-kernel 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// One-row linear layers by quantised weights marked `tgraph.activations = "int8"` (a model
// declared `gguf(..., activations: "int8")`) become the int8-activation kernel of
// conversion/tensor_to_kernel/dot_i8.rs: x is rounded per block of the weight's group
// (vector<32xf32> → vector<32xi8>; 16 for Q6_K's int8), then each row of W meets it in
// byte dot products. int4 (K = 192: 96 bytes a row, so 32-byte vectors): low nibbles
// (`andi 15`) with the first half of each block, high ones (`shrui 4`) with the second,
// both summed into one i32 lane vector from zero, then scales expanded to the lanes
// (2 blocks × 4 lanes) times the blocks' d, one fma per vector and row (a row at a time: dot_i8.rs `RJ`); after a row's K loop the
// mins' share, a masked 16-wide dot product of its 6 mins with the blocks' `d·Σxq`. int8 (K = 128:
// 64-byte vectors, 2 blocks × 8 lanes), for a CPU with AVX512-VNNI: the bytes flipped to
// `q + 128` (`xori -128`, vpdpbusd's unsigned operand) and the lanes started at −128·Σxq;
// for one without (SIGNED): the bytes as they are, to a signed-by-signed helper, lanes
// from zero. The helpers are defined once each, with their generic body: `u4i8` where the
// unsigned bytes are nibbles (int4), `u8i8` for any byte (int8 with VNNI), `i8i8` for
// signed bytes; on an AVX512-VNNI CPU the first two become vpdpbusd (ymm for 256 bits, zmm
// for 512), on an AVX2 one all three vpmaddubsw (kernel-x86-avx2-dot).
// Scales and mins stored f16 (the forms ending in `h`: Q4_1, Q8_0, Q4_0) are f16 arguments,
// read as f16 vectors and widened (`arith.extf`, vcvtph2ps) before they are expanded to the
// lanes; the f32 ones (Q6_K's `int8_g16`, Q4_K's `int4_g32`) are read as they are.

// CHECK-LABEL: func.func @step(
// CHECK-SAME: %arg3: tensor<8x6x16xi8>, %arg4: tensor<8x6xf16>, %arg5: tensor<8x6xf16>, %arg6: tensor<8x4x32xi8>, %arg7: tensor<8x4xf16>, %arg8: tensor<8x4x16xi8>, %arg9: tensor<8x4xf32>, %arg10: tensor<8x6x16xi8>, %arg11: tensor<8x6xf16>, %arg12: tensor<8x6x16xi8>, %arg13: tensor<8x6xf32>, %arg14: tensor<8x6xf32>,
// CHECK-SAME: kernel.weights = ["w4#q", "w4#scale", "w4#min", "w8#q", "w8#scale", "w6#q", "w6#scale", "w0#q", "w0#scale", "wk#q", "wk#scale", "wk#min"]
// Q4_1 (`int4_g32h`: f16 scales and mins).
// CHECK: arith.fptosi {{.*}} : vector<32xf32> to vector<32xi8>
// CHECK: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// CHECK: vector.extract_strided_slice {{.*}} {offsets = [16], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// CHECK: tensor.collapse_shape %arg3 {{\[}}[0], [1, 2]] : tensor<8x6x16xi8> into tensor<8x96xi8>
// CHECK: scf.forall
// CHECK: %[[LO:.*]] = arith.andi %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: %[[HI:.*]] = arith.shrui %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: %[[P:.*]] = func.call @agentc_dot_u4i8_256(%{{.*}}, %[[LO]], %{{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// CHECK: %[[S:.*]] = func.call @agentc_dot_u4i8_256(%[[P]], %[[HI]], %{{.*}})
// CHECK: arith.sitofp %[[S]] : vector<8xi32> to vector<8xf32>
// CHECK: %[[SH:.*]] = vector.transfer_read %arg4[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x6xf16>, vector<2xf16>
// CHECK: %[[SW:.*]] = arith.extf %[[SH]] : vector<2xf16> to vector<2xf32>
// CHECK: vector.shuffle %[[SW]], %[[SW]] [0, 0, 0, 0, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// CHECK: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK: %[[MH:.*]] = vector.transfer_read %arg5[%{{.*}}, %{{.*}}], %{{.*}} : tensor<8x6xf16>, vector<16xf16>
// CHECK: %[[MV:.*]] = arith.extf %[[MH]] : vector<16xf16> to vector<16xf32>
// CHECK: %[[SB:.*]] = vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}} : tensor<6xf32>, vector<16xf32>
// CHECK: arith.mulf %[[MV]], %[[SB]] : vector<16xf32>
// Q8_0 (`int8_g32h`: f16 scales).
// CHECK: arith.fptosi {{.*}} : vector<32xf32> to vector<32xi8>
// CHECK: tensor.collapse_shape %arg6 {{\[}}[0], [1, 2]] : tensor<8x4x32xi8> into tensor<8x128xi8>
// CHECK: %[[U:.*]] = arith.xori %{{.*}}, %{{.*}} : vector<64xi8>
// CHECK: func.call @agentc_dot_u8i8_512(%{{.*}}, %[[U]], %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: %[[S8H:.*]] = vector.transfer_read %arg7[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x4xf16>, vector<2xf16>
// CHECK: %[[S8:.*]] = arith.extf %[[S8H]] : vector<2xf16> to vector<2xf32>
// CHECK: vector.shuffle %[[S8]], %[[S8]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// Q6_K (`int8_g16`: f32 scales, products not exact in f16).
// CHECK: arith.fptosi {{.*}} : vector<16xf32> to vector<16xi8>
// CHECK-NOT: arith.extf
// CHECK: vector.transfer_read %arg9[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x4xf32>, vector<4xf32>
// CHECK-NEXT: vector.shuffle %{{.*}}, %{{.*}} [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3] : vector<4xf32>, vector<4xf32>
// Q4_0 (`int4s_g32h`: values q − 8, no min array): the lanes start at −8 · (the 8 xq each
// lane meets), and no mins' dot product follows the K loop.
// CHECK: %[[M8:.*]] = arith.constant dense<-8> : vector<4xi32>
// CHECK: arith.muli %{{.*}}, %[[M8]] : vector<4xi32>
// CHECK: scf.forall
// CHECK: %[[START:.*]] = vector.transfer_read %{{.*}} : tensor<24xi32>, vector<8xi32>
// CHECK: func.call @agentc_dot_u4i8_256(%[[START]], %{{.*}}, %{{.*}})
// CHECK: vector.transfer_read %arg11[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x6xf16>, vector<2xf16>
// CHECK-NEXT: arith.extf %{{.*}} : vector<2xf16> to vector<2xf32>
// CHECK: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK-NOT: vector<16xf16>
// Q4_K (`int4_g32`: f32 scales and mins, products), read without widening.
// CHECK: scf.forall
// CHECK-NOT: arith.extf
// CHECK: vector.transfer_read %arg13[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x6xf32>, vector<2xf32>
// CHECK-NEXT: vector.shuffle
// CHECK-NOT: arith.extf
// CHECK: vector.transfer_read %arg14[%{{.*}}, %{{.*}}], %{{.*}} : tensor<8x6xf32>, vector<16xf32>
// CHECK-NOT: arith.extf
// CHECK: bufferization.materialize_in_destination
// CHECK: func.func private @agentc_dot_u4i8_256(%{{.*}}: vector<8xi32>, %{{.*}}: vector<32xi8>, %{{.*}}: vector<32xi8>) -> vector<8xi32> attributes {kernel.dot_u8i8}
// CHECK: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK: arith.extsi {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK: func.func private @agentc_dot_u8i8_512(
// CHECK-NOT: func.func private @agentc_dot_

// SIGNED-LABEL: func.func @step(
// SIGNED: tensor.collapse_shape %arg6 {{\[}}[0], [1, 2]] : tensor<8x4x32xi8> into tensor<8x128xi8>
// SIGNED: %[[Z:.*]] = arith.constant dense<0> : vector<16xi32>
// SIGNED-NOT: arith.xori
// SIGNED: %[[W:.*]] = vector.transfer_read %collapsed{{.*}} : tensor<8x128xi8>, vector<64xi8>
// SIGNED-NEXT: func.call @agentc_dot_i8i8_512(%[[Z]], %[[W]], %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// SIGNED: func.func private @agentc_dot_u4i8_256(
// SIGNED: func.func private @agentc_dot_i8i8_512(
// SIGNED: arith.extsi {{.*}} : vector<16xi8> to vector<16xi32>
// SIGNED-NEXT: arith.extsi {{.*}} : vector<16xi8> to vector<16xi32>
// SIGNED-NOT: func.func private @agentc_dot_

// A form the runtime does not write is an error at the weight.
// UNKNOWN: error: cannot lower to kernels: unknown quantised form `int4_g32f`

// ASM: vcvtph2ps
// ASM: vpdpbusd %ymm
// ASM: vpdpbusd %zmm

module {
  "workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 192 : i64, kind = "decoder", path = "m.gguf", sym_name = "m", workflow.activations = "int8"} : () -> ()
  func.func @step(%x: tensor<1x192xf32>, %y: tensor<1x128xf32>, %z: tensor<1x64xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) attributes {tgraph.entry = "decode_step"} {
    %w4 = "tgraph.weight"() {model = @m, name = "w4", tgraph.activations = "int8", tgraph.quant = "int4_g32h", tgraph.stored = "Q4_1"} : () -> tensor<8x192xf32>
    %t4 = "tgraph.transpose"(%w4) {permutation = array<i64: 1, 0>} : (tensor<8x192xf32>) -> tensor<192x8xf32>
    %a = "tgraph.matmul"(%x, %t4) : (tensor<1x192xf32>, tensor<192x8xf32>) -> tensor<1x8xf32>
    %w8 = "tgraph.weight"() {model = @m, name = "w8", tgraph.activations = "int8", tgraph.quant = "int8_g32h", tgraph.stored = "Q8_0"} : () -> tensor<8x128xf32>
    %t8 = "tgraph.transpose"(%w8) {permutation = array<i64: 1, 0>} : (tensor<8x128xf32>) -> tensor<128x8xf32>
    %b = "tgraph.matmul"(%y, %t8) : (tensor<1x128xf32>, tensor<128x8xf32>) -> tensor<1x8xf32>
    %w6 = "tgraph.weight"() {model = @m, name = "w6", tgraph.activations = "int8", tgraph.quant = "int8_g16", tgraph.stored = "Q6_K"} : () -> tensor<8x64xf32>
    %t6 = "tgraph.transpose"(%w6) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
    %c = "tgraph.matmul"(%z, %t6) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
    %w0 = "tgraph.weight"() {model = @m, name = "w0", tgraph.activations = "int8", tgraph.quant = "int4s_g32h", tgraph.stored = "Q4_0"} : () -> tensor<8x192xf32>
    %t0 = "tgraph.transpose"(%w0) {permutation = array<i64: 1, 0>} : (tensor<8x192xf32>) -> tensor<192x8xf32>
    %d = "tgraph.matmul"(%x, %t0) : (tensor<1x192xf32>, tensor<192x8xf32>) -> tensor<1x8xf32>
    %wk = "tgraph.weight"() {model = @m, name = "wk", tgraph.activations = "int8", tgraph.quant = "int4_g32", tgraph.stored = "Q4_K"} : () -> tensor<8x192xf32>
    %tk = "tgraph.transpose"(%wk) {permutation = array<i64: 1, 0>} : (tensor<8x192xf32>) -> tensor<192x8xf32>
    %f = "tgraph.matmul"(%x, %tk) : (tensor<1x192xf32>, tensor<192x8xf32>) -> tensor<1x8xf32>
    return %a, %b, %c, %d, %f : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
  }
}
