// RUN: %agentc build %S/Inputs/llama3rope.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-llama3-rope/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=llama3rope -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=16 %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-llama3-rope/model.safetensors %t.ref | FileCheck %s

// LlamaForCausalLM with `rope_type: llama3` (examples/models/tiny-llama3-rope): factor 8,
// original_max_position_embeddings 64, so the head's frequencies fall in all three bands
// (kept, smoothed, divided); the scaled inverse frequencies are computed at compile time.
// Compiled to an x86-64 object and compared with transformers' outputs (reference.json of
// tools/gen_tiny_archs.py) as tiny-llama.mlir does: last-position logits of the prefill
// and of one decode step within |got - want| <= 1e-5 + 1e-4 |want|, and 8 greedy tokens.
// CHECK: case 0 prefill logits ok
// CHECK: case 0 decode logits ok
// CHECK: case 0 greedy: 129 196 225 207 196 215 31 136 ok
// CHECK: case 1 prefill logits ok
// CHECK: case 1 decode logits ok
// CHECK: case 1 greedy: {{.*}} ok
// CHECK: case 2 prefill logits ok
// CHECK: case 2 decode logits ok
// CHECK: case 2 greedy: {{.*}} ok
// CHECK: 3 cases, all ok
