// RUN: %agentc build %S/Inputs/mistral.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-mistral/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=mistral -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=16 %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-mistral/model.safetensors %t.ref | FileCheck %s

// MistralForCausalLM (examples/models/tiny-mistral): sliding_window 512 = max_position_embeddings,
// which cannot change the numbers of a 512-slot context.
// Compiled to an x86-64 object and compared with transformers' outputs (reference.json of
// tools/gen_tiny_archs.py) as tiny-llama.mlir does: last-position logits of the prefill
// and of one decode step within |got - want| <= 1e-5 + 1e-4 |want|, and 8 greedy tokens.
// CHECK: case 0 prefill logits ok
// CHECK: case 0 decode logits ok
// CHECK: case 0 greedy: 331 18 208 358 18 35 8 177 ok
// CHECK: case 1 prefill logits ok
// CHECK: case 1 decode logits ok
// CHECK: case 1 greedy: {{.*}} ok
// CHECK: case 2 prefill logits ok
// CHECK: case 2 decode logits ok
// CHECK: case 2 greedy: {{.*}} ok
// CHECK: 3 cases, all ok
