module {
  func.func private @cosine(%a: tensor<64xf32>, %b: tensor<64xf32>) -> f32 attributes {workflow.fn} {
    %p = "tgraph.mul"(%a, %b) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    %d = "tgraph.reduce_sum"(%p) : (tensor<64xf32>) -> tensor<f32>
    %na = "tgraph.norm"(%a) : (tensor<64xf32>) -> tensor<f32>
    %nb = "tgraph.norm"(%b) : (tensor<64xf32>) -> tensor<f32>
    %n = "tgraph.mul"(%na, %nb) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %c = "tgraph.div"(%d, %n) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %s = tensor.extract %c[] : tensor<f32>
    return %s : f32
  }
  func.func private @matmul(%a: tensor<256x128xf32>, %b: tensor<128x512xf32>) -> tensor<256x512xf32> attributes {workflow.fn} {
    %c = "tgraph.matmul"(%a, %b) : (tensor<256x128xf32>, tensor<128x512xf32>) -> tensor<256x512xf32>
    return %c : tensor<256x512xf32>
  }
  func.func private @softmax(%x: tensor<4x64xf32>) -> tensor<4x64xf32> attributes {workflow.fn} {
    %s = "tgraph.softmax"(%x) : (tensor<4x64xf32>) -> tensor<4x64xf32>
    return %s : tensor<4x64xf32>
  }
}
