// A one-row `x · Wᵀ` (a decode step's linear layer) by a quantised W with exact
// activations: the kernel of matvec_q.rs. Each group's weights meet x as f32 integers
// (`extui`/`extsi` to i32, int4 nibbles split there, `sitofp`), summed into P; the group's
// scale multiplies P once (`acc = fma(P, s, acc)`); an int4 W's mins are one short dot
// product per row with X, each group's sum of x (computed once per call); Q4_0's `q − 8`
// likewise, its scales dotted with −8·X. Vectors are the target's registers: 8 floats with
// AVX2, 16 with AVX-512.
// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu x86-64-v3 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu skylake-avx512 | FileCheck %s --check-prefixes=CHECK,ZMM

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m.gguf", sym_name = "qm"} : () -> ()

// CHECK-LABEL: func.func @matvec(
// CHECK-SAME: %arg1: tensor<8x2x16xi8>, %arg2: tensor<8x2xf16>, %arg3: tensor<8x2xf16>, %arg4: tensor<8x2x32xi8>, %arg5: tensor<8x2xf16>, %arg6: tensor<8x2x16xi8>, %arg7: tensor<8x2xf16>
// CHECK-NOT: arith.uitofp
// Q4_1: X, each group's sum of x.
// CHECK: %[[X:.*]] = scf.for %{{.*}} -> (tensor<2xf32>)
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<32xf32> into f32
// The K loop over groups, one row of W at a time (matvec_q.rs `RJ`).
// AVX2: scf.for %[[G:.*]] = %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8xf32>)
// ZMM: scf.for %[[G:.*]] = %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<16xf32>)
// AVX2: %[[X0:.*]] = vector.transfer_read %{{.*}} : tensor<?x64xf32>, vector<8xf32>
// AVX2: %[[X8:.*]] = vector.transfer_read %{{.*}} : tensor<?x64xf32>, vector<8xf32>
// AVX2: %[[X16:.*]] = vector.transfer_read %{{.*}} : tensor<?x64xf32>, vector<8xf32>
// AVX2: %[[X24:.*]] = vector.transfer_read %{{.*}} : tensor<?x64xf32>, vector<8xf32>
// AVX2: %[[B0:.*]] = vector.transfer_read %arg1[%{{.*}}, %[[G]], %{{.*}}], %{{.*}} : tensor<8x2x16xi8>, vector<8xi8>
// AVX2-NEXT: %[[W0:.*]] = arith.extui %[[B0]] : vector<8xi8> to vector<8xi32>
// AVX2-NEXT: %[[LO0:.*]] = arith.andi %[[W0]], %{{.*}} : vector<8xi32>
// AVX2-NEXT: %[[HI0:.*]] = arith.shrui %[[W0]], %{{.*}} : vector<8xi32>
// AVX2: %[[B8:.*]] = vector.transfer_read %arg1[%{{.*}}, %[[G]], %{{.*}}], %{{.*}} : tensor<8x2x16xi8>, vector<8xi8>
// AVX2-NEXT: %[[W8:.*]] = arith.extui %[[B8]] : vector<8xi8> to vector<8xi32>
// AVX2-NEXT: %[[LO8:.*]] = arith.andi %[[W8]], %{{.*}} : vector<8xi32>
// AVX2-NEXT: %[[HI8:.*]] = arith.shrui %[[W8]], %{{.*}} : vector<8xi32>
// Products in order of k: low nibbles of bytes 0-7 and 8-15 (elements 0-15), then the
// high ones (16-31).
// AVX2-NEXT: %[[F0:.*]] = arith.sitofp %[[LO0]] : vector<8xi32> to vector<8xf32>
// AVX2-NEXT: %[[P0:.*]] = arith.mulf %[[F0]], %[[X0]] : vector<8xf32>
// AVX2-NEXT: %[[F8:.*]] = arith.sitofp %[[LO8]] : vector<8xi32> to vector<8xf32>
// AVX2-NEXT: %[[P1:.*]] = vector.fma %[[F8]], %[[X8]], %[[P0]] : vector<8xf32>
// AVX2-NEXT: %[[F16:.*]] = arith.sitofp %[[HI0]] : vector<8xi32> to vector<8xf32>
// AVX2-NEXT: %[[P2:.*]] = vector.fma %[[F16]], %[[X16]], %[[P1]] : vector<8xf32>
// AVX2-NEXT: %[[F24:.*]] = arith.sitofp %[[HI8]] : vector<8xi32> to vector<8xf32>
// AVX2-NEXT: %[[P3:.*]] = vector.fma %[[F24]], %[[X24]], %[[P2]] : vector<8xf32>
// AVX2-NEXT: %[[S:.*]] = tensor.extract %arg2[%{{.*}}, %[[G]]] : tensor<8x2xf16>
// AVX2-NEXT: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// AVX2-NEXT: %[[SB:.*]] = vector.broadcast %[[SF]] : f32 to vector<8xf32>
// AVX2-NEXT: vector.fma %[[P3]], %[[SB]], %{{.*}} : vector<8xf32>
// AVX-512: one 16-byte read per row and group, its low and high nibbles.
// ZMM: %[[B:.*]] = vector.transfer_read %arg1[%{{.*}}, %[[G]], %{{.*}}], %{{.*}} : tensor<8x2x16xi8>, vector<16xi8>
// ZMM-NEXT: arith.extui %[[B]] : vector<16xi8> to vector<16xi32>
// ZMM: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// ZMM-NEXT: arith.mulf
// ZMM-NEXT: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// ZMM-NEXT: vector.fma
// The mins' share after the K loop: mins[j, :] · X.
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<{{8|16}}xf32> into f32
// CHECK: %[[M:.*]] = vector.transfer_read %arg3[%{{.*}}, %{{.*}}], %{{.*}} : tensor<8x2xf16>, vector<16xf16>
// CHECK-NEXT: %[[MF:.*]] = arith.extf %[[M]] : vector<16xf16> to vector<16xf32>
// CHECK-NEXT: %[[XS:.*]] = vector.transfer_read %[[X]][%{{.*}}], %{{.*}} : tensor<2xf32>, vector<16xf32>
// CHECK-NEXT: arith.mulf %[[MF]], %[[XS]] : vector<16xf32>
// Q8_0: signed bytes, no mins.
// AVX2: vector.transfer_read %arg4[{{.*}} : tensor<8x2x32xi8>, vector<8xi8>
// AVX2-NEXT: arith.extsi %{{.*}} : vector<8xi8> to vector<8xi32>
// ZMM: vector.transfer_read %arg4[{{.*}} : tensor<8x2x32xi8>, vector<16xi8>
// ZMM-NEXT: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// One scale per row and group, no min.
// CHECK: tensor.extract %arg5[
// CHECK-NOT: tensor.extract %arg5[
// CHECK: scf.forall.in_parallel
// Q4_0: its offset taken out as a min of −8·s would be: −8·X once per call, then after
// each row's K loop one short dot product of its scales (%arg7) with it. No −8 in the loop.
// CHECK: %[[EIGHT:.*]] = arith.constant -8.000000e+00 : f32
// CHECK: %[[NX:.*]] = scf.for %{{.*}} -> (tensor<2xf32>)
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<32xf32> into f32
// CHECK-NEXT: arith.mulf %[[SUM]], %[[EIGHT]] : f32
// CHECK: scf.forall
// CHECK-NOT: dense<-8.0
// CHECK: %[[Q:.*]] = arith.sitofp %{{.*}} : vector<{{8|16}}xi32> to vector<{{8|16}}xf32>
// CHECK-NEXT: arith.mulf %[[Q]], %{{.*}} : vector<{{8|16}}xf32>
// CHECK: %[[ROW:.*]] = vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<{{8|16}}xf32> into f32
// CHECK: %[[SC:.*]] = vector.transfer_read %arg7[
// CHECK-NEXT: %[[SCF:.*]] = arith.extf %[[SC]] : vector<16xf16> to vector<16xf32>
// CHECK-NEXT: %[[NXV:.*]] = vector.transfer_read %[[NX]][
// CHECK-NEXT: %[[OFF:.*]] = arith.mulf %[[SCF]], %[[NXV]] : vector<16xf32>
// CHECK-NEXT: %[[SHARE:.*]] = vector.reduction <add>, %[[OFF]]
// CHECK-NEXT: arith.addf %[[ROW]], %[[SHARE]] : f32
// CHECK-NOT: vector.transfer_read %arg7
func.func @matvec(%r: tensor<1x64xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) attributes {tgraph.entry = "decode"} {
  %w = "tgraph.weight"() {model = @qm, name = "w", tgraph.quant = "int4_g32h", tgraph.stored = "Q4_1"} : () -> tensor<8x64xf32>
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
  %a = "tgraph.matmul"(%r, %wt) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
  %e = "tgraph.weight"() {model = @qm, name = "e", tgraph.quant = "int8_g32h", tgraph.stored = "Q8_0"} : () -> tensor<8x64xf32>
  %et = "tgraph.transpose"(%e) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
  %b = "tgraph.matmul"(%r, %et) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
  %m = "tgraph.weight"() {model = @qm, name = "m", tgraph.quant = "int4s_g32h", tgraph.stored = "Q4_0"} : () -> tensor<8x64xf32>
  %mt = "tgraph.transpose"(%m) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
  %c = "tgraph.matmul"(%r, %mt) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
  return %a, %b, %c : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
}

// Any row count fits (3 rows; gemm.rs's tiles would not): the matvec, not a generic.
// CHECK-LABEL: func.func @odd_rows(
// CHECK-NOT: linalg.generic
// CHECK: arith.extsi %{{.*}} : vector<{{8|16}}xi8> to vector<{{8|16}}xi32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @odd_rows(%r: tensor<1x64xf32>) -> tensor<1x3xf32> attributes {tgraph.entry = "decode"} {
  %o = "tgraph.weight"() {model = @qm, name = "o", tgraph.quant = "int8_g32h", tgraph.stored = "Q8_0"} : () -> tensor<3x64xf32>
  %ot = "tgraph.transpose"(%o) {permutation = array<i64: 1, 0>} : (tensor<3x64xf32>) -> tensor<64x3xf32>
  %d = "tgraph.matmul"(%r, %ot) : (tensor<1x64xf32>, tensor<64x3xf32>) -> tensor<1x3xf32>
  return %d : tensor<1x3xf32>
}
