// RUN: %agent-opt %s --split-input-file --pass-pipeline=kernel-pack-buffers | FileCheck %s

// A kernel's fixed-size intermediates (entry-block memref.allocs of static shape) become
// views of one i8 allocation at 64-byte-aligned offsets; two share bytes only when one is
// dead (last used, through its aliases and the loops that use it) before the other's
// alloc. %a dies at the copy into %b's collapse_shape, so %c takes its bytes; %b lives
// through the first loop, which reads it, so %c cannot take %b's. %e is never used and
// %f takes its offset. A dynamic size (%d) and an alloc inside a loop (%t, one per
// iteration) stay allocs.
// CHECK-LABEL: func.func @step(
// CHECK-NEXT: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.copy %arg0, %[[A]]
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%c64{{.*}}][] : memref<128xi8> to memref<4x4xf32>
// CHECK: %[[BS:.*]] = memref.collapse_shape %[[B]]
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: scf.for
// CHECK: memref.load %[[BS]]
// CHECK: memref.store {{.*}}, %[[C]]
// CHECK: memref.alloc(%arg1) {alignment = 64 : i64} : memref<?xf32>
// CHECK: scf.for
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: memref.view %[[ARENA]][%c64{{.*}}][] : memref<128xi8> to memref<3xi8>
// CHECK: %[[F:.*]] = memref.view %[[ARENA]][%c64{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.copy %[[C]], %[[F]]
// CHECK: memref.copy %[[F]], %arg2
// CHECK-NOT: memref.alloc
// CHECK: return
func.func @step(%x: memref<16xf32>, %n: index, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  %bs = memref.collapse_shape %b [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  memref.copy %a, %bs : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %bs[%i] : memref<16xf32>
    memref.store %v, %c[%i] : memref<16xf32>
  }
  %d = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %t = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
    memref.copy %c, %t : memref<16xf32> to memref<16xf32>
    memref.dealloc %t : memref<16xf32>
  }
  %e = memref.alloc() {alignment = 64 : i64} : memref<3xi8>
  %f = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %c, %f : memref<16xf32> to memref<16xf32>
  memref.copy %f, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A returned buffer escapes: left alone, and the one intermediate left is not worth an
// arena.
// CHECK-LABEL: func.func @escape(
// CHECK-NEXT: %[[R:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK-NEXT: %[[T:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK-NOT: memref.view
// CHECK: return %[[R]]
func.func @escape(%x: memref<4xf32>) -> memref<4xf32> {
  %r = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  memref.copy %x, %t : memref<4xf32> to memref<4xf32>
  memref.copy %t, %r : memref<4xf32> to memref<4xf32>
  return %r : memref<4xf32>
}

// -----

// An alloc asking for 128-byte alignment stays an alloc (views are 64-byte aligned); the
// other two are packed.
// CHECK-LABEL: func.func @wide(
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// CHECK: memref.alloc() {alignment = 128 : i64} : memref<16xf32>
// CHECK-COUNT-2: memref.view
func.func @wide(%x: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() {alignment = 128 : i64} : memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}
