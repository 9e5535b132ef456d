// Two tensor fns for the kernel-pass tests: a softmax (intermediate buffers, one
// workgroup) and a matmul split over a grid of workgroups.
module {
  func.func @softmax(%x: tensor<4x64xf32>) -> tensor<4x64xf32> attributes {workflow.fn} {
    %s = "tgraph.softmax"(%x) : (tensor<4x64xf32>) -> tensor<4x64xf32>
    return %s : tensor<4x64xf32>
  }
  func.func @matmul(%a: tensor<128x64xf32>, %b: tensor<64x512xf32>) -> tensor<128x512xf32> attributes {workflow.fn} {
    %c = "tgraph.matmul"(%a, %b) : (tensor<128x64xf32>, tensor<64x512xf32>) -> tensor<128x512xf32>
    return %c : tensor<128x512xf32>
  }
}
