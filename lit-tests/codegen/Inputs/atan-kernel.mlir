// A softmax kernel (from `--emit=kernel` of a tgraph.softmax fn) with math.exp replaced by
// math.atan, for which agentc's device math library has no PTX definition yet.
module {
  func.func @softmax(%arg0: memref<4x64xf32>, %arg1: memref<4x64xf32>) attributes {kernel.grid = array<i64: 1>, kernel.target = "cpu", llvm.emit_c_interface} {
    %cst = arith.constant dense<0.000000e+00> : vector<4xf32>
    %0 = ub.poison : f32
    %cst_0 = arith.constant dense<0xFF800000> : vector<4xf32>
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %alloc = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
    vector.transfer_write %cst_0, %alloc[%c0] {in_bounds = [true]} : vector<4xf32>, memref<4xf32>
    scf.for %arg2 = %c0 to %c4 step %c1 {
      %1 = vector.transfer_read %arg0[%arg2, %c0], %0 {in_bounds = [true, true]} : memref<4x64xf32>, vector<1x64xf32>
      %2 = vector.transfer_read %alloc[%arg2], %0 {in_bounds = [true]} : memref<4xf32>, vector<1xf32>
      %3 = vector.extract %1[0] : vector<64xf32> from vector<1x64xf32>
      %4 = vector.extract %2[0] : f32 from vector<1xf32>
      %5 = vector.reduction <maximumf>, %3, %4 : vector<64xf32> into f32
      %6 = vector.broadcast %5 : f32 to vector<1xf32>
      vector.transfer_write %6, %alloc[%arg2] {in_bounds = [true]} : vector<1xf32>, memref<4xf32>
    }
    %alloc_1 = memref.alloc() {alignment = 64 : i64} : memref<4x64xf32>
    scf.for %arg2 = %c0 to %c4 step %c1 {
      %1 = vector.transfer_read %arg0[%arg2, %c0], %0 {in_bounds = [true, true]} : memref<4x64xf32>, vector<1x64xf32>
      %2 = vector.transfer_read %alloc[%arg2], %0 {in_bounds = [true]} : memref<4xf32>, vector<1xf32>
      %3 = vector.broadcast %2 : vector<1xf32> to vector<1x64xf32>
      %4 = arith.subf %1, %3 : vector<1x64xf32>
      %5 = math.atan %4 : vector<1x64xf32>
      vector.transfer_write %5, %alloc_1[%arg2, %c0] {in_bounds = [true, true]} : vector<1x64xf32>, memref<4x64xf32>
    }
    vector.transfer_write %cst, %alloc[%c0] {in_bounds = [true]} : vector<4xf32>, memref<4xf32>
    scf.for %arg2 = %c0 to %c4 step %c1 {
      %1 = vector.transfer_read %alloc_1[%arg2, %c0], %0 {in_bounds = [true, true]} : memref<4x64xf32>, vector<1x64xf32>
      %2 = vector.transfer_read %alloc[%arg2], %0 {in_bounds = [true]} : memref<4xf32>, vector<1xf32>
      %3 = vector.extract %1[0] : vector<64xf32> from vector<1x64xf32>
      %4 = vector.extract %2[0] : f32 from vector<1xf32>
      %5 = vector.reduction <add>, %3, %4 : vector<64xf32> into f32
      %6 = vector.broadcast %5 : f32 to vector<1xf32>
      vector.transfer_write %6, %alloc[%arg2] {in_bounds = [true]} : vector<1xf32>, memref<4xf32>
    }
    scf.for %arg2 = %c0 to %c4 step %c1 {
      %1 = vector.transfer_read %alloc_1[%arg2, %c0], %0 {in_bounds = [true, true]} : memref<4x64xf32>, vector<1x64xf32>
      %2 = vector.transfer_read %alloc[%arg2], %0 {in_bounds = [true]} : memref<4xf32>, vector<1xf32>
      %3 = vector.broadcast %2 : vector<1xf32> to vector<1x64xf32>
      %4 = arith.divf %1, %3 : vector<1x64xf32>
      vector.transfer_write %4, %arg1[%arg2, %c0] {in_bounds = [true, true]} : vector<1x64xf32>, memref<4x64xf32>
    }
    memref.dealloc %alloc : memref<4xf32>
    memref.dealloc %alloc_1 : memref<4x64xf32>
    return
  }
}
