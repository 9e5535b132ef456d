module {
  // K >= 256 and N >= 256: workgroups are (up to 256) x 64 strips that copy their B panel
  // into a contiguous buffer first (compiler/src/conversion/tensor_to_kernel/matmul.rs).
  // 512/256 x 320/64 = 10 workgroups, K tile 128 (3 K tiles).
  func.func private @mm_tall(%a: tensor<512x384xf32>, %b: tensor<384x320xf32>) -> tensor<512x320xf32> attributes {workflow.fn} {
    %c = "tgraph.matmul"(%a, %b) : (tensor<512x384xf32>, tensor<384x320xf32>) -> tensor<512x320xf32>
    return %c : tensor<512x320xf32>
  }
  // 192 rows: 64-row strips; 3 x 4 = 12 workgroups, K 256 = 2 K tiles.
  func.func private @mm_short(%a: tensor<192x256xf32>, %b: tensor<256x256xf32>) -> tensor<192x256xf32> attributes {workflow.fn} {
    %c = "tgraph.matmul"(%a, %b) : (tensor<192x256xf32>, tensor<256x256xf32>) -> tensor<192x256xf32>
    return %c : tensor<192x256xf32>
  }
}
