// The byte dot-product helpers that kernel-x86-vnni leaves generic get AVX2's vpmaddubsw +
// vpmaddwd as their body when the CPU has AVX2 (passes/kernel/x86_avx2_dot.rs): a u8 helper
// (any unsigned byte) splits its bytes into nibble halves, each through vpmaddubsw without
// saturation, the high half's pairs weighed by 16 in vpmaddwd; a u4 helper (nibbles only)
// is one vpmaddubsw and one vpmaddwd by ones. A 512-bit helper is two 256-bit halves
// joined in order, or AVX512BW's zmm forms where the CPU has them; a 128-bit one takes the
// SSSE3/SSE2 forms. After kernel-x86-vnni on a VNNI CPU the 512- and 256-bit helpers keep
// vpdpbusd and only the 128-bit one is rewritten here (and the i8 one, which has no
// vpdpbusd form); a second run changes nothing; a CPU without AVX2 keeps the generic bodies. kernel-x86-avx2-dot-exact.mlir runs the bodies.
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu x86-64-v3 | FileCheck %s --check-prefix=AVX2
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot,kernel-x86-avx2-dot --cpu znver3 | FileCheck %s --check-prefix=AVX2
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu skylake-avx512 | FileCheck %s --check-prefix=ZMM
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-vnni,kernel-x86-avx2-dot --cpu znver4 | FileCheck %s --check-prefix=VNNI
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu x86-64 | FileCheck %s --check-prefix=PLAIN
// RUN: not %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu not-a-cpu 2>&1 | FileCheck %s --check-prefix=BADCPU

// AVX2-LABEL: func.func @decode(
// AVX2: call @agentc_dot_u8i8_512(
// AVX2: call @agentc_dot_u4i8_256(
// AVX2: call @agentc_dot_u4i8_128(
// AVX2-LABEL: func.func private @other(
// AVX2-NEXT: arith.addi
// AVX2-LABEL: func.func private @agentc_dot_u8i8_512(
// AVX2-SAME: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// AVX2: vector.extract_strided_slice %arg1 {offsets = [0], sizes = [32], strides = [1]} : vector<64xi8> to vector<32xi8>
// AVX2: arith.andi
// AVX2: arith.shrui
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2: vector.extract_strided_slice %arg1 {offsets = [32], sizes = [32], strides = [1]} : vector<64xi8> to vector<32xi8>
// AVX2: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi32>, vector<8xi32>
// AVX2: arith.addi %arg0, %{{.*}} : vector<16xi32>
// AVX2-NEXT: return
// AVX2-LABEL: func.func private @agentc_dot_u4i8_256(
// AVX2-SAME: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// AVX2-NOT: arith.andi
// AVX2: %[[P:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %arg2) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2-NEXT: %[[S:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P]], %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2-NEXT: arith.addi %arg0, %[[S]] : vector<8xi32>
// AVX2-LABEL: func.func private @agentc_dot_u4i8_128(
// AVX2: llvm.call_intrinsic "llvm.x86.ssse3.pmadd.ub.sw.128"(%arg1, %arg2) : (vector<16xi8>, vector<16xi8>) -> vector<8xi16>
// AVX2: llvm.call_intrinsic "llvm.x86.sse2.pmadd.wd"
// AVX2-NOT: vector.shuffle %arg
// An i8 helper (signed bytes, an int8 W on a CPU without VNNI): vpsignb gives |a| and
// b·sign(a), then one vpmaddubsw and one vpmaddwd by ones per 256-bit half.
// AVX2-LABEL: func.func private @agentc_dot_i8i8_512(
// AVX2-SAME: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// AVX2: %[[A:.*]] = vector.extract_strided_slice %arg1 {offsets = [0], sizes = [32], strides = [1]}
// AVX2: %[[B:.*]] = vector.extract_strided_slice %arg2 {offsets = [0], sizes = [32], strides = [1]}
// AVX2-NEXT: %[[U:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[A]], %[[A]])
// AVX2-NEXT: %[[V:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[B]], %[[A]])
// AVX2-NEXT: %[[P:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[U]], %[[V]])
// AVX2-NEXT: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P]], %{{.*}})
// AVX2: offsets = [32]
// AVX2-COUNT-2: llvm.x86.avx2.psign.b
// AVX2-NOT: arith.andi
// AVX2: return

// ZMM-LABEL: func.func private @agentc_dot_u8i8_512(
// ZMM-NOT: extract_strided_slice
// ZMM: llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"
// ZMM: llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"
// ZMM: llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"
// ZMM: llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"
// ZMM-LABEL: func.func private @agentc_dot_u4i8_256(
// ZMM: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// vpsignb has no 512-bit form: the i8 helper stays two AVX2 halves.
// ZMM-LABEL: func.func private @agentc_dot_i8i8_512(
// ZMM-NOT: pmaddubs.w.512
// ZMM: llvm.x86.avx2.psign.b
// ZMM-NOT: pmaddubs.w.512
// ZMM: return

// VNNI-LABEL: func.func private @agentc_dot_u8i8_512(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "vpdpbusd"}
// VNNI-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI-LABEL: func.func private @agentc_dot_u4i8_256(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "vpdpbusd"}
// VNNI-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// VNNI-LABEL: func.func private @agentc_dot_u4i8_128(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// VNNI-NOT: pmaddubs.w.512
// vpdpbusd multiplies unsigned by signed bytes: kernel-x86-vnni leaves the i8 helper alone.
// VNNI-LABEL: func.func private @agentc_dot_i8i8_512(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// VNNI-NOT: vpdpbusd

// PLAIN-NOT: llvm.call_intrinsic
// PLAIN-LABEL: func.func private @agentc_dot_u8i8_512(
// PLAIN-SAME: attributes {kernel.dot_u8i8}
// PLAIN-NEXT: vector.shuffle
// PLAIN-NOT: llvm.call_intrinsic

// BADCPU: error: `--cpu not-a-cpu` is not an x86-64 CPU that LLVM knows

module {
  func.func @decode(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>, %c: vector<8xi32>, %d: vector<32xi8>, %e: vector<4xi32>, %f: vector<16xi8>) -> (vector<16xi32>, vector<8xi32>, vector<4xi32>) {
    %r = call @agentc_dot_u8i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    %s = call @agentc_dot_u4i8_256(%c, %d, %d) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    %t = call @agentc_dot_u4i8_128(%e, %f, %f) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
    return %r, %s, %t : vector<16xi32>, vector<8xi32>, vector<4xi32>
  }
  func.func private @other(%x: vector<16xi32>) -> vector<16xi32> attributes {kernel.other} {
    %y = arith.addi %x, %x : vector<16xi32>
    return %y : vector<16xi32>
  }
  func.func private @agentc_dot_u8i8_512(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi8>, vector<64xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi8>, vector<64xi8>
    %u0 = arith.extui %a0 : vector<16xi8> to vector<16xi32>
    %s0 = arith.extsi %b0 : vector<16xi8> to vector<16xi32>
    %p0 = arith.muli %u0, %s0 : vector<16xi32>
    %t0 = arith.addi %acc, %p0 : vector<16xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi8>, vector<64xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi8>, vector<64xi8>
    %u1 = arith.extui %a1 : vector<16xi8> to vector<16xi32>
    %s1 = arith.extsi %b1 : vector<16xi8> to vector<16xi32>
    %p1 = arith.muli %u1, %s1 : vector<16xi32>
    %t1 = arith.addi %t0, %p1 : vector<16xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi8>, vector<64xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi8>, vector<64xi8>
    %u2 = arith.extui %a2 : vector<16xi8> to vector<16xi32>
    %s2 = arith.extsi %b2 : vector<16xi8> to vector<16xi32>
    %p2 = arith.muli %u2, %s2 : vector<16xi32>
    %t2 = arith.addi %t1, %p2 : vector<16xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi8>, vector<64xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi8>, vector<64xi8>
    %u3 = arith.extui %a3 : vector<16xi8> to vector<16xi32>
    %s3 = arith.extsi %b3 : vector<16xi8> to vector<16xi32>
    %p3 = arith.muli %u3, %s3 : vector<16xi32>
    %t3 = arith.addi %t2, %p3 : vector<16xi32>
    return %t3 : vector<16xi32>
  }
  func.func private @agentc_dot_u4i8_256(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12, 16, 20, 24, 28] : vector<32xi8>, vector<32xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12, 16, 20, 24, 28] : vector<32xi8>, vector<32xi8>
    %u0 = arith.extui %a0 : vector<8xi8> to vector<8xi32>
    %s0 = arith.extsi %b0 : vector<8xi8> to vector<8xi32>
    %p0 = arith.muli %u0, %s0 : vector<8xi32>
    %t0 = arith.addi %acc, %p0 : vector<8xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13, 17, 21, 25, 29] : vector<32xi8>, vector<32xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13, 17, 21, 25, 29] : vector<32xi8>, vector<32xi8>
    %u1 = arith.extui %a1 : vector<8xi8> to vector<8xi32>
    %s1 = arith.extsi %b1 : vector<8xi8> to vector<8xi32>
    %p1 = arith.muli %u1, %s1 : vector<8xi32>
    %t1 = arith.addi %t0, %p1 : vector<8xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14, 18, 22, 26, 30] : vector<32xi8>, vector<32xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14, 18, 22, 26, 30] : vector<32xi8>, vector<32xi8>
    %u2 = arith.extui %a2 : vector<8xi8> to vector<8xi32>
    %s2 = arith.extsi %b2 : vector<8xi8> to vector<8xi32>
    %p2 = arith.muli %u2, %s2 : vector<8xi32>
    %t2 = arith.addi %t1, %p2 : vector<8xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15, 19, 23, 27, 31] : vector<32xi8>, vector<32xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15, 19, 23, 27, 31] : vector<32xi8>, vector<32xi8>
    %u3 = arith.extui %a3 : vector<8xi8> to vector<8xi32>
    %s3 = arith.extsi %b3 : vector<8xi8> to vector<8xi32>
    %p3 = arith.muli %u3, %s3 : vector<8xi32>
    %t3 = arith.addi %t2, %p3 : vector<8xi32>
    return %t3 : vector<8xi32>
  }
  func.func private @agentc_dot_u4i8_128(%acc: vector<4xi32>, %a: vector<16xi8>, %b: vector<16xi8>) -> vector<4xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12] : vector<16xi8>, vector<16xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12] : vector<16xi8>, vector<16xi8>
    %u0 = arith.extui %a0 : vector<4xi8> to vector<4xi32>
    %s0 = arith.extsi %b0 : vector<4xi8> to vector<4xi32>
    %p0 = arith.muli %u0, %s0 : vector<4xi32>
    %t0 = arith.addi %acc, %p0 : vector<4xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13] : vector<16xi8>, vector<16xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13] : vector<16xi8>, vector<16xi8>
    %u1 = arith.extui %a1 : vector<4xi8> to vector<4xi32>
    %s1 = arith.extsi %b1 : vector<4xi8> to vector<4xi32>
    %p1 = arith.muli %u1, %s1 : vector<4xi32>
    %t1 = arith.addi %t0, %p1 : vector<4xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14] : vector<16xi8>, vector<16xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14] : vector<16xi8>, vector<16xi8>
    %u2 = arith.extui %a2 : vector<4xi8> to vector<4xi32>
    %s2 = arith.extsi %b2 : vector<4xi8> to vector<4xi32>
    %p2 = arith.muli %u2, %s2 : vector<4xi32>
    %t2 = arith.addi %t1, %p2 : vector<4xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15] : vector<16xi8>, vector<16xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15] : vector<16xi8>, vector<16xi8>
    %u3 = arith.extui %a3 : vector<4xi8> to vector<4xi32>
    %s3 = arith.extsi %b3 : vector<4xi8> to vector<4xi32>
    %p3 = arith.muli %u3, %s3 : vector<4xi32>
    %t3 = arith.addi %t2, %p3 : vector<4xi32>
    return %t3 : vector<4xi32>
  }
  func.func @signed(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
    %r = call @agentc_dot_i8i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    return %r : vector<16xi32>
  }
  func.func private @agentc_dot_i8i8_512(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi8>, vector<64xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi8>, vector<64xi8>
    %u0 = arith.extsi %a0 : vector<16xi8> to vector<16xi32>
    %s0 = arith.extsi %b0 : vector<16xi8> to vector<16xi32>
    %p0 = arith.muli %u0, %s0 : vector<16xi32>
    %t0 = arith.addi %acc, %p0 : vector<16xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi8>, vector<64xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi8>, vector<64xi8>
    %u1 = arith.extsi %a1 : vector<16xi8> to vector<16xi32>
    %s1 = arith.extsi %b1 : vector<16xi8> to vector<16xi32>
    %p1 = arith.muli %u1, %s1 : vector<16xi32>
    %t1 = arith.addi %t0, %p1 : vector<16xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi8>, vector<64xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi8>, vector<64xi8>
    %u2 = arith.extsi %a2 : vector<16xi8> to vector<16xi32>
    %s2 = arith.extsi %b2 : vector<16xi8> to vector<16xi32>
    %p2 = arith.muli %u2, %s2 : vector<16xi32>
    %t2 = arith.addi %t1, %p2 : vector<16xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi8>, vector<64xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi8>, vector<64xi8>
    %u3 = arith.extsi %a3 : vector<16xi8> to vector<16xi32>
    %s3 = arith.extsi %b3 : vector<16xi8> to vector<16xi32>
    %p3 = arith.muli %u3, %s3 : vector<16xi32>
    %t3 = arith.addi %t2, %p3 : vector<16xi32>
    return %t3 : vector<16xi32>
  }
}
