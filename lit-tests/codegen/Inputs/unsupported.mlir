module {
  func.func private @iadd(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> attributes {workflow.fn} {
    %c = "tgraph.add"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
    return %c : tensor<4xi32>
  }
}
