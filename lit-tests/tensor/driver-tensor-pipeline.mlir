// `agentc build --emit=tensor` runs the tensor-level pipeline after the model lowering
// (passes/tensor/mod.rs `pipeline`): at -O2 the norm+matmul fusion groups are marked on the
// tiny Llama's functions; at -O0 only dead values are removed, so no groups appear.
// RUN: %agentc build %S/../numerics/Inputs/llama.agent --emit=tensor | FileCheck %s
// RUN: %agentc build %S/../numerics/Inputs/llama.agent --emit=tensor -O0 | FileCheck %s --check-prefix=O0
// CHECK-LABEL: func.func @llama_prefill
// CHECK: "tgraph.rmsnorm"{{.*}}tgraph.fusion_group = [[G:[0-9]+]] : i64
// CHECK: "tgraph.matmul"{{.*}}tgraph.fusion_group = [[G]] : i64, tgraph.fusion_kind = "norm_matmul"
// O0-NOT: tgraph.fusion_group
