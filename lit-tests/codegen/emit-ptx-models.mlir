// RUN: %agentc build %S/../numerics/Inputs/llama.agent --emit=ptx --gpu sm_90 -o %t.llama.ptx
// RUN: FileCheck %s --check-prefix=LLAMA --implicit-check-not=__nv_ --implicit-check-not=sin.approx --implicit-check-not=cos.approx < %t.llama.ptx
// RUN: grep -c "^\.visible \.entry" %t.llama.ptx | FileCheck %s --check-prefix=LLAMA-ENTRIES
// RUN: %agentc build %S/../numerics/Inputs/bert.agent --emit=ptx --gpu sm_90 -o %t.bert.ptx
// RUN: FileCheck %s --check-prefix=BERT --implicit-check-not=__nv_ < %t.bert.ptx
// RUN: grep -c "^\.visible \.entry" %t.bert.ptx | FileCheck %s --check-prefix=BERT-ENTRIES

// PTX for the model functions of a program (issue 4): the tiny Llama's prefill and decode
// step, the tiny BERT's encode (examples/models), each one kernel on the GPU (one thread,
// as the nvptx route maps every kernel today; tools/gpu-check runs the Llama's prefill on
// a lent GPU against transformers). Their math comes from agentc's device math library:
// no libdevice call is left (`__nv_`), RMSNorm's rsqrt is sqrt.rn + div.rn, RoPE's pow,
// sin and cos compute in f64 (fma.rn.f64, cvt.rni.f64: no sin.approx/cos.approx, whose
// error grows outside [-pi, pi]), BERT's gelu erf polynomial uses the f64 exp.
// Intermediate buffers are device-heap malloc/free (PTX system calls the CUDA driver
// provides); copies into subviews (the KV cache) are loops, not the runtime's memrefCopy.
// The weight names of each function, in argument order, travel in the PTX as a global
// string `<fn>__weights` (as in the x86-64 object).

// LLAMA: .target sm_90
// LLAMA: .extern .func free
// LLAMA: .extern .func {{.*}}malloc
// LLAMA: .visible .global .align 1 .b8 llama_prefill__weights[
// LLAMA: .visible .global .align 1 .b8 llama_decode_step__weights[
// LLAMA: .visible .entry llama_prefill(
// LLAMA: ld.global
// LLAMA: sqrt.rn.f32
// LLAMA: cvt.rni.f64.f64
// LLAMA: fma.rn.f64
// LLAMA: ex2.approx
// LLAMA: st.global
// LLAMA: .visible .entry llama_decode_step(
// LLAMA: ld.global
// LLAMA: fma.rn.f64
// LLAMA: st.global
// LLAMA-ENTRIES: 2

// BERT: .target sm_90
// BERT: .visible .global .align 1 .b8 bert_encode__weights[
// BERT: .visible .entry first(
// BERT: .visible .entry bert_encode(
// BERT: ld.global
// BERT: sqrt.rn.f32
// BERT: ex2.approx
// BERT: fma.rn.f64
// BERT: st.global
// BERT-ENTRIES: 2
