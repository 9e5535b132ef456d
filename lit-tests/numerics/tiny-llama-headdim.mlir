// RUN: %agentc build %S/Inputs/headdim.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-llama-headdim/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=headdim -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=32 %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-llama-headdim/model.safetensors %t.ref | FileCheck %s

// LlamaForCausalLM with head_dim 32 != hidden_size / num_attention_heads (16), tied
// embeddings and `rope_type: linear` (factor 4) (examples/models/tiny-llama-headdim).
// Compiled to an x86-64 object and compared with transformers' outputs (reference.json of
// tools/gen_tiny_archs.py) as tiny-llama.mlir does: last-position logits of the prefill
// and of one decode step within |got - want| <= 1e-5 + 1e-4 |want|, and 8 greedy tokens.
// CHECK: case 0 prefill logits ok
// CHECK: case 0 decode logits ok
// CHECK: case 0 greedy: 39 39 39 39 226 226 226 226 ok
// CHECK: case 1 prefill logits ok
// CHECK: case 1 decode logits ok
// CHECK: case 1 greedy: {{.*}} ok
// CHECK: case 2 prefill logits ok
// CHECK: case 2 decode logits ok
// CHECK: case 2 greedy: {{.*}} ok
// CHECK: 3 cases, all ok
