// The byte dot-product helpers of the int8-activation decode kernels
// (conversion/tensor_to_kernel/dot_i8.rs: `@agentc_dot_u8i8_<bits>`, marked
// `kernel.dot_u8i8`) get one vpdpbusd as their body when the CPU has AVX512-VNNI (512 and
// 256 bits; the callers are unchanged), and keep their generic body on a CPU without it,
// where the intrinsic would stop LLVM. A rewritten helper (`kernel.dot_u8i8 = "vpdpbusd"`)
// is left alone by a second run; a function that is not a marked helper is never touched.
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-vnni --cpu sapphirerapids | FileCheck %s --check-prefix=VNNI
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-vnni,kernel-x86-vnni --cpu znver4 | FileCheck %s --check-prefix=VNNI
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-vnni --cpu x86-64-v3 | FileCheck %s --check-prefix=PLAIN
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-vnni --cpu skylake-avx512 | FileCheck %s --check-prefix=PLAIN
// RUN: not %agent-opt %s --pass-pipeline=kernel-x86-vnni --cpu not-a-cpu 2>&1 | FileCheck %s --check-prefix=BADCPU

// VNNI-LABEL: func.func @decode(
// VNNI: call @agentc_dot_u8i8_512(
// VNNI: call @agentc_dot_u8i8_256(
// VNNI-LABEL: func.func private @agentc_dot_u8i8_512(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "vpdpbusd"}
// VNNI-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%arg0, %arg1, %arg2) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI-NEXT: return
// VNNI-LABEL: func.func private @agentc_dot_u8i8_256(
// VNNI-SAME: attributes {kernel.dot_u8i8 = "vpdpbusd"}
// VNNI-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%arg0, %arg1, %arg2) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// VNNI-LABEL: func.func private @agentc_dot_u8i8_128(
// VNNI-SAME: attributes {kernel.dot_u8i8}
// VNNI-NEXT: vector.shuffle
// VNNI-LABEL: func.func private @other(
// VNNI-NEXT: arith.addi

// PLAIN-NOT: llvm.call_intrinsic
// PLAIN-LABEL: func.func private @agentc_dot_u8i8_512(
// PLAIN-SAME: attributes {kernel.dot_u8i8}
// PLAIN-NEXT: vector.shuffle
// PLAIN-NOT: llvm.call_intrinsic

// BADCPU: error: `--cpu not-a-cpu` is not an x86-64 CPU that LLVM knows

module {
  func.func @decode(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>, %c: vector<8xi32>, %d: vector<32xi8>) -> (vector<16xi32>, vector<8xi32>) {
    %r = call @agentc_dot_u8i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    %s = call @agentc_dot_u8i8_256(%c, %d, %d) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    return %r, %s : vector<16xi32>, vector<8xi32>
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
  func.func private @agentc_dot_u8i8_256(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> attributes {kernel.dot_u8i8} {
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
  func.func private @agentc_dot_u8i8_128(%acc: vector<4xi32>, %a: vector<16xi8>, %b: vector<16xi8>) -> vector<4xi32> attributes {kernel.dot_u8i8} {
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
  func.func private @other(%x: vector<16xi32>) -> vector<16xi32> attributes {kernel.other} {
    %y = arith.addi %x, %x : vector<16xi32>
    return %y : vector<16xi32>
  }
}
