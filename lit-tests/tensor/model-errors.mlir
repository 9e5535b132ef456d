// RUN: %agent-opt %s --split-input-file --verify-diagnostics --base-dir %S/Inputs --pass-pipeline=convert-fragment-to-tensor

// Weights bind by name to model.safetensors and must have the shapes config.json implies;
// errors are reported at the workflow.model and name the file and the tensor. The mini
// models (Inputs/models/mini-llama-*: hidden 8, 1 layer, 2 query heads and 1 KV head of 4)
// were made by hand with a header and zeroed data.

// One error per model, however many fragments use it.
// expected-error @+1 {{cannot convert model `m` to tensor functions: `}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "models/mini-llama-missing-weight", sym_name = "m"} : () -> ()
func.func @ask(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %kv = "fragment.prefill"(%p) {device = "", model = @m} : (!workflow.text) -> !fragment.kv
  %t = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 4 : i64, model = @m, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  return %t : !workflow.text
}

// -----

// expected-error @+1 {{mini-llama-missing-weight/model.safetensors` has no tensor `model.layers.0.mlp.up_proj.weight`}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "models/mini-llama-missing-weight", sym_name = "m"} : () -> ()
func.func @ask(%p: !workflow.text) -> !fragment.kv attributes {workflow.agent} {
  %kv = "fragment.prefill"(%p) {device = "", model = @m} : (!workflow.text) -> !fragment.kv
  return %kv : !fragment.kv
}

// -----

// expected-error @+1 {{mini-llama-bad-shape/model.safetensors`: tensor `model.layers.0.self_attn.k_proj.weight` has shape [8, 8], but config.json implies [4, 8]}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "models/mini-llama-bad-shape", sym_name = "m"} : () -> ()
func.func @ask(%p: !workflow.text) -> !fragment.kv attributes {workflow.agent} {
  %kv = "fragment.prefill"(%p) {device = "", model = @m} : (!workflow.text) -> !fragment.kv
  return %kv : !fragment.kv
}

// -----

// A model folder that is not there.
// expected-error @+1 {{models/tiny-llama-nowhere/config.json`: No such file}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama-nowhere", sym_name = "m"} : () -> ()
func.func @ask(%p: !workflow.text) -> !fragment.kv attributes {workflow.agent} {
  %kv = "fragment.prefill"(%p) {device = "", model = @m} : (!workflow.text) -> !fragment.kv
  return %kv : !fragment.kv
}

// -----

// A model no fragment uses is not converted (its folder is never read).
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "models/mini-llama-bad-shape", sym_name = "unused"} : () -> ()
