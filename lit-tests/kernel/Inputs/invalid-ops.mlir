func.func @f() {
  // BAD: error: expected 'index' but got 'i64'
  %id = "kernel.workgroup_id"() {dim = 0 : i64} : () -> i64
  return
}

// -----

func.func @g(%a: memref<4xf32>) {
  // BAD: error: expected '!llvm.ptr' but got 'memref<4xf32>'
  "kernel.launch"(%a) {callee = @g, grid = array<i64: 1>} : (memref<4xf32>) -> ()
  return
}
