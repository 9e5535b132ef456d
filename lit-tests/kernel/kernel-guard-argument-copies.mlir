// A whole-buffer copy from one argument into another (the decode step's k_cache → k_out)
// runs only when the two are different memory; copies from allocations, into subviews, or
// between arguments with a non-identity layout stay unconditional.
// RUN: %agent-opt %s --pass-pipeline=kernel-guard-argument-copies | FileCheck %s

// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[IN:[a-z0-9]+]]: memref<2x8x2x4xf32>, %[[OUT:[a-z0-9]+]]: memref<2x8x2x4xf32>, %[[LOGITS:[a-z0-9]+]]: memref<16xf32>)
// CHECK: memref.copy %{{.*}}, %[[LOGITS]]
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[IN]] : memref<2x8x2x4xf32> -> index
// CHECK-NEXT: %[[Q:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]] : memref<2x8x2x4xf32> -> index
// CHECK-NEXT: %[[NE:.*]] = arith.cmpi ne, %[[P]], %[[Q]] : index
// CHECK-NEXT: scf.if %[[NE]] {
// CHECK-NEXT:   memref.copy %[[IN]], %[[OUT]] : memref<2x8x2x4xf32> to memref<2x8x2x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @step(%k: memref<2x8x2x4xf32>, %k_out: memref<2x8x2x4xf32>, %logits: memref<16xf32>) attributes {kernel.grid = array<i64: 1>, kernel.target = "cpu"} {
  %c0 = arith.constant 0.0 : f32
  %row = memref.alloc() : memref<16xf32>
  linalg.fill ins(%c0 : f32) outs(%row : memref<16xf32>)
  memref.copy %row, %logits : memref<16xf32> to memref<16xf32>
  memref.dealloc %row : memref<16xf32>
  memref.copy %k, %k_out : memref<2x8x2x4xf32> to memref<2x8x2x4xf32>
  return
}

// CHECK-LABEL: func.func @untouched(
// CHECK-NOT: scf.if
// CHECK-NOT: extract_aligned_pointer
// CHECK: return
func.func @untouched(%a: memref<8xf32>, %b: memref<16xf32>, %c: memref<8xf32, strided<[2]>>, %d: memref<8xf32, strided<[2]>>) {
  %sub = memref.subview %b[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  memref.copy %a, %sub : memref<8xf32> to memref<8xf32, strided<[1]>>
  memref.copy %c, %d : memref<8xf32, strided<[2]>> to memref<8xf32, strided<[2]>>
  memref.copy %a, %a : memref<8xf32> to memref<8xf32>
  return
}
