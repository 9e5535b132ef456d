// RUN: %agentc build %S/Inputs/llama-bf16.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-llama-bf16/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=llama -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=16 %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-llama-bf16/model.safetensors %t.ref | FileCheck %s

// The tiny Llama saved in bf16 (examples/models/tiny-llama-bf16, tools/gen_tiny_dtypes.py),
// compiled with its weights kept in bf16 (kernel arguments of element type bf16, extended to
// f32 as they are read) against transformers' model loaded from the same folder and
// upcast with model.float(): last-position logits of the prefill and of one decode step
// within |got - want| <= 1e-5 + 1e-4 |want|, and greedy decoding of 8 tokens.
// CHECK: case 0 prefill logits ok
// CHECK: case 0 decode logits ok
// CHECK: case 0 greedy: {{.*}} ok
// CHECK: case 1 prefill logits ok
// CHECK: case 1 decode logits ok
// CHECK: case 1 greedy: {{.*}} ok
// CHECK: case 2 prefill logits ok
// CHECK: case 2 decode logits ok
// CHECK: case 2 greedy: {{.*}} ok
// CHECK: 3 cases, all ok
