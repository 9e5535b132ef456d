// RUN: %agentc build %S/Inputs/minilm.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %S/../../tools/reference/minilm-reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=minilm -DBERT -DCOSINE %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/minilm/model.safetensors %t.ref | FileCheck %s

// The real all-MiniLM-L6-v2 (examples/models/minilm, fetched by tools/setup.sh: 6 layers,
// 12 heads, hidden 384, vocab 30522) compiled to an x86-64 object: the encode function's
// embedding against sentence-transformers' (tools/reference/minilm-reference.json, ids
// unpadded) with cosine >= 0.9999, and elementwise within 1e-5 + 1e-4 |want| as well;
// again padded with five masked [PAD] tokens.
// CHECK: case 0 embedding ok: cosine
// CHECK: case 0 embedding ok: max
// CHECK: case 0 padded embedding ok: cosine
// CHECK: case 0 padded embedding ok: max
// CHECK: case 1 embedding ok: cosine
// CHECK: case 2 padded embedding ok: max
// CHECK: 3 cases, all ok
