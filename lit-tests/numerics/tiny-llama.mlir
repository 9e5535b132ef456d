// RUN: %agentc build %S/Inputs/llama.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-llama/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=llama -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=16 %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-llama/model.safetensors %t.ref | FileCheck %s

// The tiny Llama (examples/models/tiny-llama: GQA 4/2 heads, RoPE, RMSNorm, SwiGLU)
// compiled to an x86-64 object (prefill and decode step, weights bound from
// model.safetensors by the object's `llama_*__weights` lists) against transformers'
// outputs (reference.json): last-position logits of the prefill and of one decode step
// with the prefill's KV cache within |got - want| <= 1e-5 + 1e-4 |want|, and greedy
// decoding of 8 tokens (prefill, then 7 decode steps) giving the same token ids.
// CHECK: case 0 prefill logits ok
// CHECK: case 0 decode logits ok
// CHECK: case 0 greedy: 26 60 115 150 355 376 26 320 ok
// CHECK: case 1 prefill logits ok
// CHECK: case 1 decode logits ok
// CHECK: case 1 greedy: {{.*}} ok
// CHECK: case 2 prefill logits ok
// CHECK: case 2 decode logits ok
// CHECK: case 2 greedy: {{.*}} ok
// CHECK: 3 cases, all ok
