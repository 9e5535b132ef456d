// RUN: %mlir-opt --irdl-file=%irdl %s | %mlir-opt --irdl-file=%irdl | FileCheck %s
// RUN: not %mlir-opt --irdl-file=%irdl --split-input-file %S/Inputs/invalid-ops.mlir 2>&1 | FileCheck %S/Inputs/invalid-ops.mlir --check-prefix=BAD

// The kernel ops round-trip through upstream mlir-opt (IRDL, generic form); a kernel is a
// func.func carrying kernel.grid and kernel.target.
// CHECK-LABEL: func.func @wg
// CHECK-SAME: kernel.grid = array<i64: 4>, kernel.target = "cpu"
// CHECK: "kernel.workgroup_id"() {dim = 0 : i64} : () -> index
// CHECK: "kernel.num_workgroups"() {dim = 0 : i64} : () -> index
func.func @wg(%out: memref<4xindex>) attributes {kernel.grid = array<i64: 4>, kernel.target = "cpu"} {
  %id = "kernel.workgroup_id"() {dim = 0 : i64} : () -> index
  %n = "kernel.num_workgroups"() {dim = 0 : i64} : () -> index
  memref.store %n, %out[%id] : memref<4xindex>
  return
}

// CHECK-LABEL: func.func @host
// CHECK: "kernel.launch"(%{{.*}}, %{{.*}}) {callee = @wg, grid = array<i64: 4>} : (!llvm.ptr, !llvm.ptr) -> ()
func.func @host(%a: !llvm.ptr, %b: !llvm.ptr) {
  "kernel.launch"(%a, %b) {callee = @wg, grid = array<i64: 4>} : (!llvm.ptr, !llvm.ptr) -> ()
  return
}
