// The GEMM's vectors and register tiles follow the target CPU's registers (gemm.rs
// `VectorRegs`), so each check names its CPU: AVX-512 (32 × 16 floats) and AVX2 (16 × 8).
// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu skylake-avx512 | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu x86-64-v3 | FileCheck %s --check-prefix=AVX2
// RUN: not %agent-opt %s --pass-pipeline=convert-tensor-to-kernel --cpu not-a-cpu 2>&1 | FileCheck %s --check-prefix=BADCPU

// The maps of @linear's generic (loops j, i, k): x[i, k], w[j, k], out[i, j].
// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[OMAP:.*]] = affine_map<(d0, d1, d2) -> (d1, d0)>

// A function that is one 2-D matmul is split over a grid of 64x256 output tiles: the
// kernel reads its workgroup id, slices A and B, and writes its C tile in place.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %{{.*}}: tensor<256x128xf32>, %{{.*}}: tensor<128x512xf32>, %[[C:.*]]: memref<256x512xf32>)
// CHECK-SAME: kernel.grid = array<i64: 8>, kernel.target = "cpu", llvm.emit_c_interface
// CHECK: %[[WG:.*]] = "kernel.workgroup_id"() {dim = 0 : i64} : () -> index
// CHECK: affine.apply #{{.*}}(%[[WG]])
// CHECK: tensor.extract_slice %{{.*}} [64, 128] [1, 1]
// CHECK: tensor.extract_slice %{{.*}} [128, 256] [1, 1]
// CHECK: %[[CS:.*]] = memref.subview %[[C]][%{{.*}}, %{{.*}}] [64, 256] [1, 1]
// CHECK: bufferization.to_tensor %[[CS]] restrict writable
// CHECK: linalg.fill
// CHECK: %[[R:.*]] = linalg.matmul {kernel.op = 2 : i64}
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[CS]]
func.func private @matmul(%a: tensor<256x128xf32>, %b: tensor<128x512xf32>) -> tensor<256x512xf32> attributes {workflow.fn} {
  %c = "tgraph.matmul"(%a, %b) : (tensor<256x128xf32>, tensor<128x512xf32>) -> tensor<256x512xf32>
  return %c : tensor<256x512xf32>
}

// Everything else is one workgroup. Elementwise ops broadcast (a 0-d operand maps to ());
// full reductions give 0-d tensors; a scalar result is stored into a 0-d memref.
// CHECK-LABEL: func.func @scaled_norm(
// CHECK-SAME: %{{.*}}: tensor<4x32xf32>, %{{.*}}: f32, %[[OUT:.*]]: memref<f32>)
// CHECK-SAME: kernel.grid = array<i64: 1>
// CHECK: tensor.from_elements
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["reduction", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} iterator_types = []
// CHECK: arith.mulf
// CHECK: memref.store %{{.*}}, %[[OUT]][] : memref<f32>
func.func private @scaled_norm(%x: tensor<4x32xf32>, %s: f32) -> f32 attributes {workflow.fn} {
  %st = tensor.from_elements %s : tensor<f32>
  %n = "tgraph.norm"(%x) : (tensor<4x32xf32>) -> tensor<f32>
  %m = "tgraph.mul"(%n, %st) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// matmul of a row by a transposed matrix, scaled, then softmax over the last dim (max,
// exp(x - max), sum, divide: four generics); reshape is an upstream op. With one static
// row, k is read in place as for @linear: the row is cast to a dynamic row count (so the
// generic stays scalar loops that LLVM vectorises) and the result cast back.
// CHECK-LABEL: func.func @attend(
// CHECK: %[[Q:.*]] = tensor.reshape
// CHECK-NOT: linalg.transpose
// CHECK: %[[QD:.*]] = tensor.cast %[[Q]] : tensor<1x32xf32> to tensor<?x32xf32>
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[OMAP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[QD]], %arg1 : tensor<?x32xf32>, tensor<4x32xf32>)
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// CHECK: tensor.cast %{{.*}} : tensor<?x4xf32> to tensor<1x4xf32>
// CHECK-NOT: linalg.matmul
// CHECK: arith.divf
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
// CHECK: bufferization.materialize_in_destination
func.func private @attend(%q: tensor<32xf32>, %k: tensor<4x32xf32>) -> tensor<1x4xf32> attributes {workflow.fn} {
  %q2 = "tgraph.reshape"(%q) : (tensor<32xf32>) -> tensor<1x32xf32>
  %kt = "tgraph.transpose"(%k) {permutation = array<i64: 1, 0>} : (tensor<4x32xf32>) -> tensor<32x4xf32>
  %s = "tgraph.matmul"(%q2, %kt) : (tensor<1x32xf32>, tensor<32x4xf32>) -> tensor<1x4xf32>
  %eight = arith.constant dense<8.0> : tensor<f32>
  %d = "tgraph.div"(%s, %eight) : (tensor<1x4xf32>, tensor<f32>) -> tensor<1x4xf32>
  %sm = "tgraph.softmax"(%d) : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %sm : tensor<1x4xf32>
}

// A linear layer over dynamic rows (a prefill), x · wᵀ with w [out, in] as HF stores it:
// wᵀ is not materialised; a register-tiled GEMM (gemm.rs) reads w in place: an scf.forall
// over tiles of w's rows (one tile here: 16 rows), chunks of x's rows, then blocks of 4
// rows of w × groups of 4 rows of x (then the rows left one at a time) whose K loop keeps
// 16 (then 4) accumulators of 16 floats (one AVX-512 register each), summed horizontally
// once per output and written 4 at a time.
// CHECK-LABEL: func.func @linear(
// CHECK-NOT: linalg.transpose
// CHECK: scf.forall ({{.*}}) in (1) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<?x16xf32>)
// CHECK: scf.for {{.*}} -> (tensor<?x16xf32>)
// CHECK: scf.for {{.*}} -> (tensor<?x16xf32>)
// CHECK: scf.for {{.*}} step %c4{{.*}} -> (tensor<?x16xf32>)
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-4: vector.transfer_read %arg1[{{.*}}]{{.*}} : tensor<16x32xf32>, vector<16xf32>
// CHECK: vector.transfer_read %arg0[{{.*}}]{{.*}} : tensor<?x32xf32>, vector<16xf32>
// CHECK-COUNT-4: vector.fma
// CHECK: vector.reduction <add>, {{.*}} fastmath<reassoc> : vector<16xf32> into f32
// CHECK: vector.transfer_write {{.*}} : vector<4xf32>, tensor<?x16xf32>
// CHECK: scf.for {{.*}} step %c1{{.*}} -> (tensor<?x16xf32>)
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: tensor.parallel_insert_slice

// With AVX2's 16 registers of 8 floats the tile is 4 rows of w × 2 rows of x: 8
// accumulators, 4 vectors of w and one of x (AVX-512's 4 × 4 tile of 16 floats would need
// 32 of them for its accumulators alone).
// AVX2-LABEL: func.func @linear(
// AVX2: scf.for {{.*}} step %c4{{.*}} -> (tensor<?x16xf32>)
// AVX2: scf.for {{.*}} step %c2{{.*}} -> (tensor<?x16xf32>)
// AVX2: scf.for {{.*}} step %c8{{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-4: vector.transfer_read %arg1[{{.*}}]{{.*}} : tensor<16x32xf32>, vector<8xf32>
// AVX2-NEXT: vector.transfer_read %arg0[{{.*}}]{{.*}} : tensor<?x32xf32>, vector<8xf32>
// AVX2-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// AVX2-NEXT: vector.transfer_read %arg0[{{.*}}]{{.*}} : tensor<?x32xf32>, vector<8xf32>
// AVX2-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// AVX2-NEXT: scf.yield
// AVX2: vector.reduction <add>, {{.*}} fastmath<reassoc> : vector<8xf32> into f32
// AVX2: vector.transfer_write {{.*}} : vector<4xf32>, tensor<?x16xf32>
// AVX2: scf.for {{.*}} step %c1{{.*}} -> (tensor<?x16xf32>)
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-NOT: vector<16xf32>
// AVX2: tensor.parallel_insert_slice

// BADCPU: `--cpu not-a-cpu` is not an x86-64 CPU that LLVM knows
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func private @linear(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>) -> tensor<?x16xf32> attributes {workflow.fn} {
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<16x32xf32>) -> tensor<32x16xf32>
  %y = "tgraph.matmul"(%x, %wt) : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// A K that is not a multiple of the vector (12 here) keeps the dot-product generic over
// (j, i, k), reading w in place: the scalar loops' innermost k walks a row of x and a
// row of w (both contiguous). The add may be reassociated, so that LLVM vectorises the
// dot product over k.
// CHECK-LABEL: func.func @linear_odd_k(
// CHECK-NOT: linalg.transpose
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[OMAP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x12xf32>, tensor<16x12xf32>) outs(%[[Z]] : tensor<?x16xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[W:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[X]], %[[W]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f32
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func private @linear_odd_k(%x: tensor<?x12xf32>, %w: tensor<16x12xf32>) -> tensor<?x16xf32> attributes {workflow.fn} {
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<16x12xf32>) -> tensor<12x16xf32>
  %y = "tgraph.matmul"(%x, %wt) : (tensor<?x12xf32>, tensor<12x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// The same matmul where wᵀ is also a result: the transpose is materialised for the result,
// and the matmul still reads w in place.
// CHECK-LABEL: func.func @linear_and_transpose(
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: vector.transfer_read %arg1[{{.*}}]{{.*}} : tensor<16x32xf32>, vector<16xf32>
// CHECK: bufferization.materialize_in_destination %[[T]]
func.func private @linear_and_transpose(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>) -> (tensor<?x16xf32>, tensor<32x16xf32>) attributes {workflow.fn} {
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<16x32xf32>) -> tensor<32x16xf32>
  %y = "tgraph.matmul"(%x, %wt) : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %y, %wt : tensor<?x16xf32>, tensor<32x16xf32>
}

// With more than one static row the transpose is materialised: the tiled, vectorised
// linalg.matmul reuses each row of wᵀ over the rows of its register tile.
// CHECK-LABEL: func.func @linear_static_rows(
// CHECK: linalg.transpose ins(%arg1 : tensor<16x32xf32>)
// CHECK: linalg.matmul {{.*}} : tensor<4x32xf32>, tensor<32x16xf32>)
func.func private @linear_static_rows(%x: tensor<4x32xf32>, %w: tensor<16x32xf32>) -> tensor<4x16xf32> attributes {workflow.fn} {
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<16x32xf32>) -> tensor<32x16xf32>
  %y = "tgraph.matmul"(%x, %wt) : (tensor<4x32xf32>, tensor<32x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// A transpose of a tensor with a dynamic size is materialised, its result sized from the
// input's permuted sizes; the matmul reads it as before.
// CHECK-LABEL: func.func @linear_dynamic_w(
// CHECK: %[[D:.*]] = tensor.dim %arg1, %{{.*}} : tensor<?x32xf32>
// CHECK: tensor.empty(%[[D]]) : tensor<32x?xf32>
// CHECK: linalg.transpose ins(%arg1 : tensor<?x32xf32>)
// CHECK: linalg.matmul
func.func private @linear_dynamic_w(%x: tensor<?x32xf32>, %w: tensor<?x32xf32>) -> tensor<?x?xf32> attributes {workflow.fn} {
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<?x32xf32>) -> tensor<32x?xf32>
  %y = "tgraph.matmul"(%x, %wt) : (tensor<?x32xf32>, tensor<32x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// A GGUF model's quantised weights in the forms with f16 scales and mins (`int4_g32h` from
// Q4_1, `int8_g32h` from Q8_0, `int4s_g32h` from Q4_0): their arrays are f16 arguments,
// and every reader widens a scale or min to f32 as it reads it (`arith.extf`, exact),
// before the dequantisation of the f32 forms: the register-tiled GEMM (`w`, many rows),
// then the one-row kernel of matvec_q.rs (`w`, one row), the embedding gather (`e`), a use
// that dequantises the whole weight (`m`, an untransposed matmul operand), and the
// generic of a shape the GEMM does not fit (`o`, 3 rows of W by many rows of x).
// CHECK-LABEL: func.func @quantized_f16(
// CHECK-SAME: %arg3: tensor<8x2x16xi8>, %arg4: tensor<8x2xf16>, %arg5: tensor<8x2xf16>, %arg6: tensor<16x2x32xi8>, %arg7: tensor<16x2xf16>, %arg8: tensor<64x1x16xi8>, %arg9: tensor<64x1xf16>, %arg10: tensor<3x2x32xi8>, %arg11: tensor<3x2xf16>,
// CHECK-SAME: kernel.weights = ["w#q", "w#scale", "w#min", "e#q", "e#scale", "m#q", "m#scale", "o#q", "o#scale"]
// CHECK: %[[S:.*]] = tensor.extract %arg4[%{{.*}}, %{{.*}}] : tensor<8x2xf16>
// CHECK-NEXT: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK-NEXT: %[[SB:.*]] = vector.broadcast %[[SF]] : f32 to vector<16xf32>
// CHECK-NEXT: %[[M:.*]] = tensor.extract %arg5[%{{.*}}, %{{.*}}] : tensor<8x2xf16>
// CHECK-NEXT: %[[MF:.*]] = arith.extf %[[M]] : f16 to f32
// CHECK-NEXT: %[[MB:.*]] = vector.broadcast %[[MF]] : f32 to vector<16xf32>
// CHECK: %[[Q:.*]] = arith.uitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[Q]], %[[SB]] : vector<16xf32>
// CHECK-NEXT: arith.addf %[[P]], %[[MB]] : vector<16xf32>
// CHECK: tensor.extract %arg4[%{{.*}}, %{{.*}}] : tensor<8x2xf16>
// CHECK-NEXT: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[ES:.*]] = tensor.extract %arg7[%{{.*}}, %{{.*}}] : tensor<16x2xf16>
// CHECK-NEXT: %[[ESF:.*]] = arith.extf %[[ES]] : f16 to f32
// CHECK-NEXT: %[[EQ:.*]] = tensor.extract %arg6[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<16x2x32xi8>
// CHECK-NEXT: %[[EV:.*]] = arith.sitofp %[[EQ]] : i8 to f32
// CHECK-NEXT: arith.mulf %[[EV]], %[[ESF]] : f32
// CHECK: linalg.generic {{.*}} ins(%arg8, %arg9 : tensor<64x1x16xi8>, tensor<64x1xf16>)
// CHECK-NEXT: ^bb0(%{{.*}}: i8, %[[MS:.*]]: f16, %{{.*}}: f32):
// CHECK-NEXT: %[[MSF:.*]] = arith.extf %[[MS]] : f16 to f32
// CHECK: %[[C:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: arith.mulf %[[C]], %[[MSF]] : f32
// CHECK: linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %arg10, %arg11 : tensor<?x2x32xf32>, tensor<3x2x32xi8>, tensor<3x2xf16>)
// CHECK-NEXT: ^bb0(%{{.*}}: f32, %[[OQ:.*]]: i8, %[[OS:.*]]: f16, %{{.*}}: f32):
// CHECK-NEXT: %[[OSF:.*]] = arith.extf %[[OS]] : f16 to f32
// CHECK-NEXT: %[[OV:.*]] = arith.sitofp %[[OQ]] : i8 to f32
// CHECK-NEXT: arith.mulf %[[OV]], %[[OSF]] : f32
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m.gguf", sym_name = "qm"} : () -> ()
func.func @quantized_f16(%x: tensor<?x64xf32>, %r: tensor<1x64xf32>, %ids: tensor<?xi64>) -> (tensor<?x8xf32>, tensor<1x8xf32>, tensor<?x64xf32>, tensor<1x32xf32>, tensor<?x3xf32>) attributes {tgraph.entry = "prefill"} {
  %w = "tgraph.weight"() {model = @qm, name = "w", tgraph.quant = "int4_g32h", tgraph.stored = "Q4_1"} : () -> tensor<8x64xf32>
  %wt = "tgraph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<8x64xf32>) -> tensor<64x8xf32>
  %a = "tgraph.matmul"(%x, %wt) : (tensor<?x64xf32>, tensor<64x8xf32>) -> tensor<?x8xf32>
  %b = "tgraph.matmul"(%r, %wt) : (tensor<1x64xf32>, tensor<64x8xf32>) -> tensor<1x8xf32>
  %e = "tgraph.weight"() {model = @qm, name = "e", tgraph.quant = "int8_g32h", tgraph.stored = "Q8_0"} : () -> tensor<16x64xf32>
  %g = "tgraph.embedding"(%e, %ids) : (tensor<16x64xf32>, tensor<?xi64>) -> tensor<?x64xf32>
  %m = "tgraph.weight"() {model = @qm, name = "m", tgraph.quant = "int4s_g32h", tgraph.stored = "Q4_0"} : () -> tensor<64x32xf32>
  %c = "tgraph.matmul"(%r, %m) : (tensor<1x64xf32>, tensor<64x32xf32>) -> tensor<1x32xf32>
  %o = "tgraph.weight"() {model = @qm, name = "o", tgraph.quant = "int8_g32h", tgraph.stored = "Q8_0"} : () -> tensor<3x64xf32>
  %ot = "tgraph.transpose"(%o) {permutation = array<i64: 1, 0>} : (tensor<3x64xf32>) -> tensor<64x3xf32>
  %d = "tgraph.matmul"(%x, %ot) : (tensor<?x64xf32>, tensor<64x3xf32>) -> tensor<?x3xf32>
  return %a, %b, %g, %c, %d : tensor<?x8xf32>, tensor<1x8xf32>, tensor<?x64xf32>, tensor<1x32xf32>, tensor<?x3xf32>
}

// The transform script tiles each tagged op inside its function: the matmul with a K cache
// tile then a 4x64x1 register tile, then vectorises and lowers contractions.
// CHECK: module attributes {transform.with_named_sequence}
// CHECK: transform.named_sequence @__transform_main
// CHECK: transform.structured.match ops{["func.func"]} attributes {sym_name = "matmul"}
// CHECK: transform.structured.tile_using_for %{{.*}} tile_sizes [4, 64, 1]
// CHECK: transform.structured.vectorize_children_and_apply_patterns
// CHECK: transform.loop.hoist_loop_invariant_subsets
// CHECK: transform.apply_patterns.vector.lower_contraction
