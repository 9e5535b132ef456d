// Each one-dimensional parallel loop from 0 by 1 becomes min(iterations, worker threads)
// parts, the worker count asked at run time: part p runs iterations [p·n/parts,
// (p+1)·n/parts) in order with the loop's own body, so async-parallel-for makes one task
// per thread instead of up to 8. Loops of other shapes, and
// loops inside a parallel loop, are left alone.
// RUN: %agent-opt %s --pass-pipeline=kernel-coarsen-parallel-loops | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline=kernel-coarsen-parallel-loops,kernel-coarsen-parallel-loops | FileCheck %s --check-prefix=TWICE

// CHECK-LABEL: func.func @tiles(
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<64xf32>
// CHECK: %[[N:.*]] = arith.constant 18 : index
// CHECK: %[[W:.*]] = async.runtime.num_worker_threads : index
// CHECK-NEXT: %[[PER:.*]] = arith.constant 1 : index
// CHECK: %[[WANT:.*]] = arith.muli %[[W]], %[[PER]] : index
// CHECK: %[[PARTS:.*]] = arith.minsi %[[N]], %[[WANT]] : index
// CHECK: scf.parallel (%[[P:.*]]) = (%{{.*}}) to (%[[PARTS]]) step (%[[ONE:[a-z0-9_]+]]) {
// CHECK-NEXT: %[[A:.*]] = arith.muli %[[P]], %[[N]] : index
// CHECK-NEXT: %[[BEGIN:.*]] = arith.divui %[[A]], %[[PARTS]] : index
// CHECK-NEXT: %[[P1:.*]] = arith.addi %[[P]], %[[ONE]] : index
// CHECK-NEXT: %[[B:.*]] = arith.muli %[[P1]], %[[N]] : index
// CHECK-NEXT: %[[END:.*]] = arith.divui %[[B]], %[[PARTS]] : index
// CHECK-NEXT: scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]] step %[[ONE]] {
// CHECK-NEXT: %[[X:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK-NEXT: %[[V:.*]] = arith.uitofp %[[X]] : i64 to f32
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[I]]] : memref<64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: scf.reduce
// CHECK-NEXT: } {kernel.parts}
// CHECK-NEXT: return

// A run-time trip count is split the same way.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %{{.*}}: memref<64xf32>, %[[DN:[a-z0-9]+]]: index
// CHECK: %[[DPARTS:.*]] = arith.minsi %[[DN]], %{{.*}} : index
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[DPARTS]])
// CHECK: scf.for

// Left alone: a lower bound of 1, a step of 2, two dimensions, a reduction. A loop inside
// a parallel loop stays parallel (only the outer one is split).
// CHECK-LABEL: func.func @others(
// CHECK-NOT: async.runtime.num_worker_threads
// CHECK: scf.parallel (%{{.*}}) = (%c1) to (%c18) step (%c1) {
// CHECK-NOT: scf.for
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c18) step (%c2) {
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c18, %c18)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c18) step (%c1) init
// CHECK-LABEL: func.func @nested(
// CHECK: async.runtime.num_worker_threads
// CHECK-NOT: async.runtime.num_worker_threads
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1) {
// CHECK-NOT: scf.for

// The loop over parts carries `kernel.parts`, so a second run changes nothing.
// TWICE-LABEL: func.func @tiles(
// TWICE-COUNT-1: async.runtime.num_worker_threads
// TWICE-NOT: async.runtime.num_worker_threads
// TWICE-LABEL: func.func @dynamic(
module {
  func.func @tiles(%out: memref<64xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c18 = arith.constant 18 : index
    scf.parallel (%i) = (%c0) to (%c18) step (%c1) {
      %x = arith.index_cast %i : index to i64
      %v = arith.uitofp %x : i64 to f32
      memref.store %v, %out[%i] : memref<64xf32>
      scf.reduce
    }
    return
  }
  func.func @dynamic(%out: memref<64xf32>, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f = arith.constant 1.0 : f32
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      memref.store %f, %out[%i] : memref<64xf32>
      scf.reduce
    }
    return
  }
  func.func @others(%out: memref<64xf32>) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c18 = arith.constant 18 : index
    %f = arith.constant 1.0 : f32
    scf.parallel (%i) = (%c1) to (%c18) step (%c1) {
      memref.store %f, %out[%i] : memref<64xf32>
      scf.reduce
    }
    scf.parallel (%i) = (%c0) to (%c18) step (%c2) {
      memref.store %f, %out[%i] : memref<64xf32>
      scf.reduce
    }
    scf.parallel (%i, %j) = (%c0, %c0) to (%c18, %c18) step (%c1, %c1) {
      memref.store %f, %out[%j] : memref<64xf32>
      scf.reduce
    }
    %sum = scf.parallel (%i) = (%c0) to (%c18) step (%c1) init (%f) -> f32 {
      %x = memref.load %out[%i] : memref<64xf32>
      scf.reduce(%x : f32) {
      ^bb0(%a: f32, %b: f32):
        %s = arith.addf %a, %b : f32
        scf.reduce.return %s : f32
      }
    }
    return %sum : f32
  }
  func.func @nested(%out: memref<64xf32>, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f = arith.constant 1.0 : f32
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      scf.parallel (%j) = (%c0) to (%n) step (%c1) {
        memref.store %f, %out[%j] : memref<64xf32>
        scf.reduce
      }
      scf.reduce
    }
    return
  }
}
