// RUN: %agentc build %S/Inputs/tiny.agent --emit=fragment --target host -o %t.fragment.mlir
// RUN: %agent-opt %t.fragment.mlir --base-dir %S/Inputs --pass-pipeline=convert-fragment-to-tensor,convert-tensor-to-kernel -o %t.kernel.mlir
// RUN: FileCheck %s < %t.kernel.mlir
// RUN: grep -c "math.cos" %t.kernel.mlir | FileCheck %s --check-prefix=COS
// RUN: %agentc build %S/Inputs/tiny.agent --emit=obj -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=SYMS

// The model functions of the tiny Llama and BERT become kernels (numerics:
// lit-tests/numerics). Weights are arguments after the function's own, one per name in
// order of first use, listed in `kernel.weights` and in the global `<fn>__weights`
// (newline-separated names); results are output memrefs. The splat-zero KV caches are
// `tensor.empty`s, not filled (only the slots written are ever read), each tagged with
// its own `kernel.splat` name so that cse keeps K and V apart and empty-tensor
// elimination writes each into its output; reshapes with a dynamic T are expand/collapse_shape; rope
// reads [T, D/2] cos and sin tables (angles from powf), made once per function and shared
// by q and k of both layers (no second cos in the function); attention's KV head is `h floordiv 2`
// (GQA 4/2); kv_write is an insert_slice at (layer, position). The decode step attends
// over the slots 0 ..= position only: a slice of min(position + 1, C) slots of the layer,
// no mask (one query sees them all), up to its p · v generic.
// COS: {{^}}2{{$}}
// CHECK: memref.global constant @writer_prefill__weights : memref<754xi8>
// CHECK: func.func @writer_prefill(%arg0: tensor<?xi64>, %[[TABLE:[a-z0-9]+]]: tensor<384x64xf32>, %{{.*}}: tensor<64xf32>
// CHECK-SAME: : memref<384xf32>, %{{.*}}: memref<2x512x2x16xf32>, %{{.*}}: memref<2x512x2x16xf32>)
// CHECK-SAME: kernel.weights = ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight"
// CHECK: tensor.extract %[[TABLE]]
// CHECK: tensor.empty() {kernel.splat = "[[K:splat[0-9]+]]"} : tensor<2x512x2x16xf32>
// CHECK-NOT: kernel.splat = "[[K]]"
// CHECK: tensor.empty() {kernel.splat = "{{splat[0-9]+}}"} : tensor<2x512x2x16xf32>
// CHECK-NOT: linalg.fill {{.*}} tensor<2x512x2x16xf32>
// CHECK: tensor.expand_shape {{.*}} {{\[}}[0], [1, 2]] output_shape [{{.*}}, 4, 16] : tensor<?x64xf32> into tensor<?x4x16xf32>
// CHECK: math.powf
// CHECK: math.cos
// CHECK: math.powf
// CHECK: math.sin
// CHECK-NOT: math.cos
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[PAIR:map[0-9]*]], #[[PAIR]], #{{.*}}]
// CHECK-NOT: math.cos
// CHECK: tensor.insert_slice {{.*}}[0, {{.*}}, 0, 0] [1, {{.*}}, 2, 16] [1, 1, 1, 1] : tensor<?x2x16xf32> into tensor<2x512x2x16xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KV:map[0-9]*]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.cmpi ule
// CHECK: tensor.collapse_shape {{.*}} : tensor<?x4x16xf32> into tensor<?x64xf32>
// CHECK: tensor.extract_slice {{.*}} [1, 64] [1, 1] : tensor<?x64xf32> to tensor<1x64xf32>
// CHECK-NOT: math.cos
// CHECK-LABEL: func.func @writer_decode_step(%arg0: tensor<i64>, %arg1: tensor<i64>, %arg2: tensor<2x512x2x16xf32>, %arg3: tensor<2x512x2x16xf32>, %arg4: tensor<384x64xf32>
// CHECK: %[[N:[0-9]+]] = arith.minui %{{.*}}, %c512{{.*}} : index
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, %[[N]], 2, 16] [1, 1, 1, 1] : tensor<2x512x2x16xf32> to tensor<?x2x16xf32>
// CHECK-NOT: arith.cmpi ule
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-LABEL: func.func @encoder_encode(%arg0: tensor<?xi64>, %arg1: tensor<?xf32>, %arg2: tensor<320x64xf32>
// CHECK-SAME: : memref<64xf32>)
// CHECK: math.copysign
// CHECK: iterator_types = ["reduction", "parallel"]

// SYMS: R encoder_encode__weights
// SYMS: T writer_decode_step
// SYMS: R writer_decode_step__weights
// SYMS: T writer_prefill
// SYMS: R writer_prefill__weights
