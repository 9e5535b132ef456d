// The kernel dialect `kernel`: bufferised kernels (see README.md beside this file).
// Structure comes from upstream (IRDL facts in the design notes): a kernel is a func.func
// (cpu) or gpu.func (nvptx) carrying the discardable attributes
//   kernel.grid = array<i64: N...>   the number of workgroups in each dimension
//   kernel.target = "cpu" | "nvptx"
// and computes ONE workgroup, whose id it reads with kernel.workgroup_id. Bodies are
// upstream scf / arith / math / memref / vector. These ops supply what upstream does not:
// the workgroup id, the grid size, and the host-side launch.
irdl.dialect @kernel {
  // The id of the workgroup this kernel instance computes, along dimension `dim`
  // (0 <= id < grid[dim]). On the cpu the runtime passes it in (a trailing index argument
  // after code generation); on nvptx it is the block id.
  irdl.operation @workgroup_id {
    %dim = irdl.base "#builtin.integer"
    irdl.attributes {"dim" = %dim}
    %result = irdl.is index
    irdl.results(result: %result)
  }

  // The number of workgroups along dimension `dim` (the kernel's kernel.grid entry).
  irdl.operation @num_workgroups {
    %dim = irdl.base "#builtin.integer"
    irdl.attributes {"dim" = %dim}
    %result = irdl.is index
    irdl.results(result: %result)
  }

  // Host side: runs every workgroup of the kernel `callee` over `grid`. Workgroups are
  // independent. IRDL variadic operands share one type, so the operands are pointers to
  // the kernel's arguments (memref descriptors or scalars), the runtime's launch ABI.
  irdl.operation @launch {
    %callee = irdl.base "#builtin.symbol_ref"
    %grid = irdl.base "#builtin.dense_array"
    irdl.attributes {"callee" = %callee, "grid" = %grid}
    %operands = irdl.is !llvm.ptr
    irdl.operands(operands: variadic %operands)
  }
}
