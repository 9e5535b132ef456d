// RUN: %agent-opt %s --split-input-file --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment | FileCheck %s

// A decoder's generate becomes prefill (over the prompt) + decode (max_tokens tokens).
// Prompt tokens come from the model's tokenizer where the text is known: "Hello world"
// is <s> H ell o Ġw or ld = 7 tokens, as Hugging Face tokenizes it. A generate's output
// is estimated at its max_tokens, so the second prompt is 16 + <s> = 17 tokens.
// Llama-3-70B from config.json alone: 70.55e9 parameters × 2 bytes (bf16), KV cache
// 2 × 80 layers × 8 KV heads × 128 × 2 bytes = 327680 bytes per token.
// CHECK-LABEL: module
// CHECK: "workflow.model"() {{{.*}}fragment.dtype = "bf16", fragment.kv_bytes_per_token = 327680 : i64, fragment.layers = 80 : i64, fragment.weight_bytes = 141107412992 : i64{{.*}}sym_name = "big"
// CHECK: func.func @main
// CHECK: %[[KV:.*]] = "fragment.prefill"(%{{.*}}) {device = "", {{.*}}fragment.tokens = 7 : i64, fragment.weight = 1.000000e+00 : f64{{.*}}model = @tiny}
// CHECK-NEXT: %[[T:.*]] = "fragment.decode"(%[[KV]], %{{.*}}) {{{.*}}fragment.tokens = 16 : i64{{.*}}max_tokens = 16 : i64, model = @tiny
// The device pin carries over to both halves.
// CHECK-NEXT: %[[KV2:.*]] = "fragment.prefill"(%[[T]]) {device = "gpu", {{.*}}fragment.tokens = 17 : i64{{.*}}model = @big}
// CHECK-NEXT: "fragment.decode"(%[[KV2]], %{{.*}}) {device = "gpu", {{.*}}fragment.tokens = 100 : i64
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8192 : i64, kind = "decoder", path = "models/llama-3-70b", sym_name = "big"} : () -> ()
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "tiny"} : () -> ()
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %p = "workflow.text_constant"() {value = "Hello world"} : () -> !workflow.text
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %a = "workflow.generate"(%p, %stop) {device = "", max_tokens = 16 : i64, model = @tiny, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %b = "workflow.generate"(%a, %stop) {device = "gpu", max_tokens = 100 : i64, model = @big, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %b : !workflow.text
}

// -----

// The dtype option overrides the stored weight type: f32 doubles the bytes.
// CHECK-LABEL: module
// CHECK: "workflow.model"() {{{.*}}fragment.weight_bytes = 282214825984 : i64
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "f32", hidden_size = 8192 : i64, kind = "decoder", path = "models/llama-3-70b", sym_name = "big"} : () -> ()

// -----

// Encoders, tools, tensor fns and host built-ins; expected executions multiply through
// loops (trip counts) and branches (probabilities).
// CHECK-LABEL: module
// CHECK: func.func @main
// A map with @expect(iterations: 3): its body runs 3 times.
// CHECK: "fragment.tool"(%{{.*}}) {callee = @search, {{.*}}fragment.fixed_seconds = 5.000000e-02 : f64{{.*}}fragment.weight = 3.000000e+00 : f64
// CHECK: "fragment.encode"(%{{.*}}) {device = "cpu", {{.*}}fragment.weight = 3.000000e+00 : f64{{.*}}model = @enc}
// CHECK: func.call @score({{.*}}fragment.kind = "compute"{{.*}}fragment.weight = 3.000000e+00
// CHECK: } {fragment.trip_count = 3.000000e+00 : f64, workflow.expected_iterations = 3 : i64, workflow.parallel}
// An @likely branch runs with probability 0.9, its else with 0.1.
// CHECK: scf.if
// CHECK: "workflow.concat"{{.*}}fragment.kind = "host"{{.*}}fragment.weight = 9.000000e-01 : f64
// CHECK: else
// CHECK: "workflow.trim"{{.*}}fragment.kind = "host"{{.*}}fragment.weight = 1.000000e-01 : f64
// CHECK: } {fragment.branch_weights = [9.000000e-01, 1.000000e-01], workflow.likely = true}
"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 64 : i64, kind = "encoder", path = "models/tiny-bert", sym_name = "enc"} : () -> ()
func.func private @search(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func private @score(%v: tensor<64xf32>) -> f32 attributes {workflow.fn} {
  %s = "tgraph.reduce_sum"(%v) : (tensor<64xf32>) -> tensor<f32>
  %f = tensor.extract %s[] : tensor<f32>
  return %f : f32
}
func.func @main(%xs: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %n = "workflow.list_len"(%xs) : (!workflow.list<!workflow.text>) -> i64
  %init = "workflow.list_literal"() : () -> !workflow.list<f64>
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %scores = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> (!workflow.list<f64>) : i64 {
    %x = "workflow.list_get"(%xs, %i) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %found = "workflow.tool_call"(%x) {callee = @search} : (!workflow.text) -> !workflow.text
    %e = "workflow.embed"(%found) {device = "cpu", model = @enc} : (!workflow.text) -> tensor<64xf32>
    %s = func.call @score(%e) : (tensor<64xf32>) -> f32
    %d = arith.extf %s : f32 to f64
    %acc2 = "workflow.list_append"(%acc, %d) : (!workflow.list<f64>, f64) -> !workflow.list<f64>
    scf.yield %acc2 : !workflow.list<f64>
  } {workflow.parallel, workflow.expected_iterations = 3 : i64}
  %best = "workflow.argmax"(%scores) : (!workflow.list<f64>) -> i64
  %top = "workflow.list_get"(%xs, %best) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
  %ok = arith.constant true
  %r = scf.if %ok -> (!workflow.text) {
    %c = "workflow.concat"(%top, %top) : (!workflow.text, !workflow.text) -> !workflow.text
    scf.yield %c : !workflow.text
  } else {
    %t = "workflow.trim"(%top) : (!workflow.text) -> !workflow.text
    scf.yield %t : !workflow.text
  } {workflow.likely = true}
  return %r : !workflow.text
}
