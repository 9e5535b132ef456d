// RUN: %agentc build %S/Inputs/bert.agent --emit=obj -o %t.o
// RUN: python3 %S/Inputs/flatten_reference.py %examples/models/tiny-bert/reference.json > %t.ref
// RUN: clang -w %S/Inputs/harness.c %t.o -DMODEL=bert -DBERT %runtime-libs -o %t.exe
// RUN: %t.exe %examples/models/tiny-bert/model.safetensors %t.ref | FileCheck %s

// The tiny BERT (examples/models/tiny-bert) compiled to an x86-64 object: the encode
// function's mean-pooled, L2-normalised embedding against transformers (reference.json)
// within |got - want| <= 1e-5 + 1e-4 |want|, once as given (mask all ones) and once
// padded with five [PAD] tokens whose mask is 0 (the key mask and the pooling must ignore
// them).
// CHECK: case 0 embedding ok
// CHECK: case 0 padded embedding ok
// CHECK: case 1 embedding ok
// CHECK: case 1 padded embedding ok
// CHECK: case 2 embedding ok
// CHECK: case 2 padded embedding ok
// CHECK: 3 cases, all ok
