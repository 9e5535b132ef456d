// kernel-x86-avx2-dot's helper bodies compute exactly the helpers' definition: every helper
// width (128, 256, 512 bits) and operand kind (u8: any unsigned byte, split into nibble
// halves; u4: nibbles; i8: signed bytes, the sign moved onto b by vpsignb) runs under a C
// harness (Inputs/dot_harness.c) on pseudo-random and extreme inputs (255, 15 or -128
// against -128 or -127 and 127; i8's b stays in -127..127, the helper's contract), every
// 32-bit lane compared with acc + sum of a*b. The generic bodies run through the same
// harness, so the harness and the definition agree; a body that weighs the high nibbles'
// pairs by 1 instead of 16, or that takes b's own sign instead of a's (the `sed`s below)
// is caught, so the comparison can fail. 512-bit helpers run as two AVX2 halves, and as
// AVX512BW's zmm forms where the host has them (the i8 ones stay two halves).
// REQUIRES: x86-avx2
// RUN: %mlir-opt %s --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir -o %t.generic.ll
// RUN: clang -O2 -w %S/Inputs/dot_harness.c %t.generic.ll -o %t.generic.exe
// RUN: %t.generic.exe | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu x86-64-v3 -o %t.avx2.mlir
// RUN: FileCheck %s --check-prefix=REWRITTEN < %t.avx2.mlir
// RUN: %mlir-opt %t.avx2.mlir --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir -o %t.avx2.ll
// RUN: clang -O2 -mavx2 -w %S/Inputs/dot_harness.c %t.avx2.ll -o %t.avx2.exe
// RUN: %t.avx2.exe | FileCheck %s
// RUN: sed 's/dense<16> :/dense<1> :/' %t.avx2.mlir > %t.wrong.mlir
// RUN: %mlir-opt %t.wrong.mlir --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir -o %t.wrong.ll
// RUN: clang -O2 -mavx2 -w %S/Inputs/dot_harness.c %t.wrong.ll -o %t.wrong.exe
// RUN: not %t.wrong.exe | FileCheck %s --check-prefix=WRONG
// RUN: sed "s/avx2.psign.b\"(%%arg2, %%arg1)/avx2.psign.b\"(%%arg2, %%arg2)/" %t.avx2.mlir > %t.wrongsign.mlir
// RUN: %mlir-opt %t.wrongsign.mlir --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir -o %t.wrongsign.ll
// RUN: clang -O2 -mavx2 -w %S/Inputs/dot_harness.c %t.wrongsign.ll -o %t.wrongsign.exe
// RUN: not %t.wrongsign.exe | FileCheck %s --check-prefix=WRONGSIGN
// RUN: %if x86-avx512bw %{ %agent-opt %s --pass-pipeline=kernel-x86-avx2-dot --cpu skylake-avx512 -o %t.zmm.mlir %}
// RUN: %if x86-avx512bw %{ %mlir-opt %t.zmm.mlir --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir -o %t.zmm.ll %}
// RUN: %if x86-avx512bw %{ clang -O2 -march=skylake-avx512 -w %S/Inputs/dot_harness.c %t.zmm.ll -o %t.zmm.exe %}
// RUN: %if x86-avx512bw %{ %t.zmm.exe | FileCheck %s %}

// CHECK: u8 128: 80000 lanes, 0 differ
// CHECK: u8 256: 160000 lanes, 0 differ
// CHECK: u8 512: 320000 lanes, 0 differ
// CHECK: u4 128: 80000 lanes, 0 differ
// CHECK: u4 256: 160000 lanes, 0 differ
// CHECK: u4 512: 320000 lanes, 0 differ
// CHECK: i8 128: 80000 lanes, 0 differ
// CHECK: i8 256: 160000 lanes, 0 differ
// CHECK: i8 512: 320000 lanes, 0 differ

// REWRITTEN-COUNT-9: attributes {kernel.dot_u8i8 = "pmaddubsw"}
// REWRITTEN-NOT: vector.shuffle %a, %a

// WRONG: u8 128: 80000 lanes, {{[1-9][0-9]*}} differ
// WRONG: u4 128: 80000 lanes, 0 differ

// WRONGSIGN: i8 128: 80000 lanes, 0 differ
// WRONGSIGN: i8 256: 160000 lanes, {{[1-9][0-9]*}} differ

module {
  func.func @run_u8_128(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<4xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %r = call @agentc_dot_u8i8_128(%acc, %a, %b) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<4xi32>, !llvm.ptr
    return
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
  func.func @run_u4_128(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<4xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %r = call @agentc_dot_u4i8_128(%acc, %a, %b) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<4xi32>, !llvm.ptr
    return
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
  func.func @run_u8_256(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<8xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %r = call @agentc_dot_u8i8_256(%acc, %a, %b) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<8xi32>, !llvm.ptr
    return
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
  func.func @run_u4_256(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<8xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %r = call @agentc_dot_u4i8_256(%acc, %a, %b) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<8xi32>, !llvm.ptr
    return
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
  func.func @run_u8_512(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<16xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %r = call @agentc_dot_u8i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<16xi32>, !llvm.ptr
    return
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
  func.func @run_u4_512(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<16xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %r = call @agentc_dot_u4i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<16xi32>, !llvm.ptr
    return
  }
  func.func private @agentc_dot_u4i8_512(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> attributes {kernel.dot_u8i8} {
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
  func.func @run_i8_128(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<4xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<16xi8>
    %r = call @agentc_dot_i8i8_128(%acc, %a, %b) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<4xi32>, !llvm.ptr
    return
  }
  func.func private @agentc_dot_i8i8_128(%acc: vector<4xi32>, %a: vector<16xi8>, %b: vector<16xi8>) -> vector<4xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12] : vector<16xi8>, vector<16xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12] : vector<16xi8>, vector<16xi8>
    %u0 = arith.extsi %a0 : vector<4xi8> to vector<4xi32>
    %s0 = arith.extsi %b0 : vector<4xi8> to vector<4xi32>
    %p0 = arith.muli %u0, %s0 : vector<4xi32>
    %t0 = arith.addi %acc, %p0 : vector<4xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13] : vector<16xi8>, vector<16xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13] : vector<16xi8>, vector<16xi8>
    %u1 = arith.extsi %a1 : vector<4xi8> to vector<4xi32>
    %s1 = arith.extsi %b1 : vector<4xi8> to vector<4xi32>
    %p1 = arith.muli %u1, %s1 : vector<4xi32>
    %t1 = arith.addi %t0, %p1 : vector<4xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14] : vector<16xi8>, vector<16xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14] : vector<16xi8>, vector<16xi8>
    %u2 = arith.extsi %a2 : vector<4xi8> to vector<4xi32>
    %s2 = arith.extsi %b2 : vector<4xi8> to vector<4xi32>
    %p2 = arith.muli %u2, %s2 : vector<4xi32>
    %t2 = arith.addi %t1, %p2 : vector<4xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15] : vector<16xi8>, vector<16xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15] : vector<16xi8>, vector<16xi8>
    %u3 = arith.extsi %a3 : vector<4xi8> to vector<4xi32>
    %s3 = arith.extsi %b3 : vector<4xi8> to vector<4xi32>
    %p3 = arith.muli %u3, %s3 : vector<4xi32>
    %t3 = arith.addi %t2, %p3 : vector<4xi32>
    return %t3 : vector<4xi32>
  }
  func.func @run_i8_256(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<8xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<32xi8>
    %r = call @agentc_dot_i8i8_256(%acc, %a, %b) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<8xi32>, !llvm.ptr
    return
  }
  func.func private @agentc_dot_i8i8_256(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> attributes {kernel.dot_u8i8} {
    %a0 = vector.shuffle %a, %a [0, 4, 8, 12, 16, 20, 24, 28] : vector<32xi8>, vector<32xi8>
    %b0 = vector.shuffle %b, %b [0, 4, 8, 12, 16, 20, 24, 28] : vector<32xi8>, vector<32xi8>
    %u0 = arith.extsi %a0 : vector<8xi8> to vector<8xi32>
    %s0 = arith.extsi %b0 : vector<8xi8> to vector<8xi32>
    %p0 = arith.muli %u0, %s0 : vector<8xi32>
    %t0 = arith.addi %acc, %p0 : vector<8xi32>
    %a1 = vector.shuffle %a, %a [1, 5, 9, 13, 17, 21, 25, 29] : vector<32xi8>, vector<32xi8>
    %b1 = vector.shuffle %b, %b [1, 5, 9, 13, 17, 21, 25, 29] : vector<32xi8>, vector<32xi8>
    %u1 = arith.extsi %a1 : vector<8xi8> to vector<8xi32>
    %s1 = arith.extsi %b1 : vector<8xi8> to vector<8xi32>
    %p1 = arith.muli %u1, %s1 : vector<8xi32>
    %t1 = arith.addi %t0, %p1 : vector<8xi32>
    %a2 = vector.shuffle %a, %a [2, 6, 10, 14, 18, 22, 26, 30] : vector<32xi8>, vector<32xi8>
    %b2 = vector.shuffle %b, %b [2, 6, 10, 14, 18, 22, 26, 30] : vector<32xi8>, vector<32xi8>
    %u2 = arith.extsi %a2 : vector<8xi8> to vector<8xi32>
    %s2 = arith.extsi %b2 : vector<8xi8> to vector<8xi32>
    %p2 = arith.muli %u2, %s2 : vector<8xi32>
    %t2 = arith.addi %t1, %p2 : vector<8xi32>
    %a3 = vector.shuffle %a, %a [3, 7, 11, 15, 19, 23, 27, 31] : vector<32xi8>, vector<32xi8>
    %b3 = vector.shuffle %b, %b [3, 7, 11, 15, 19, 23, 27, 31] : vector<32xi8>, vector<32xi8>
    %u3 = arith.extsi %a3 : vector<8xi8> to vector<8xi32>
    %s3 = arith.extsi %b3 : vector<8xi8> to vector<8xi32>
    %p3 = arith.muli %u3, %s3 : vector<8xi32>
    %t3 = arith.addi %t2, %p3 : vector<8xi32>
    return %t3 : vector<8xi32>
  }
  func.func @run_i8_512(%pacc: !llvm.ptr, %pa: !llvm.ptr, %pb: !llvm.ptr, %po: !llvm.ptr) {
    %acc = llvm.load %pacc {alignment = 1 : i64} : !llvm.ptr -> vector<16xi32>
    %a = llvm.load %pa {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %b = llvm.load %pb {alignment = 1 : i64} : !llvm.ptr -> vector<64xi8>
    %r = call @agentc_dot_i8i8_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    llvm.store %r, %po {alignment = 1 : i64} : vector<16xi32>, !llvm.ptr
    return
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
