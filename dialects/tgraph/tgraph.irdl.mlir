// The tensor-level dialect `tgraph` (upstream owns `tensor`): value-semantics ops on builtin
// tensor types (see README.md beside this file). Scalars inside tensor functions are 0-d
// tensors; constants are upstream arith.constant with a dense attribute. IRDL checks that
// operands and results are tensors; shapes and element types are checked by agentc's own
// verifier.
irdl.dialect @tgraph {
  // Elementwise lhs + rhs with NumPy broadcasting (a 0-d tensor is a scalar).
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs - rhs with NumPy broadcasting.
  irdl.operation @sub {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs * rhs with NumPy broadcasting.
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs / rhs with NumPy broadcasting (IEEE division for floats).
  irdl.operation @div {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise negation.
  irdl.operation @neg {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise e^x.
  irdl.operation @exp {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise square root.
  irdl.operation @sqrt {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Matrix product over the last two dimensions, batched over the leading ones:
  // [..., m, k] x [..., k, n] -> [..., m, n]. A 1-D lhs is a row vector, a 1-D rhs a column.
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The sum of all elements, as a 0-d tensor.
  irdl.operation @reduce_sum {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The mean of all elements, as a 0-d tensor.
  irdl.operation @reduce_mean {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The largest element, as a 0-d tensor.
  irdl.operation @reduce_max {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The L2 norm of all elements (sqrt of the sum of squares), as a 0-d tensor.
  irdl.operation @norm {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Softmax over the last dimension (numerically stable: max-subtracted).
  irdl.operation @softmax {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Permutes the dimensions: result dim i is input dim permutation[i].
  irdl.operation @transpose {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %attr_permutation = irdl.base "#builtin.dense_array"
    irdl.attributes {"permutation" = %attr_permutation}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The same elements in row-major order with the result type's shape.
  irdl.operation @reshape {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }
}
