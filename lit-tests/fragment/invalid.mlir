// RUN: %agent-opt %s --split-input-file --verify-diagnostics
// The fragment verifier's rules (compiler/src/verify/fragment.rs), after IRDL's.

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
// A decode's KV cache comes from a prefill (or a kv_transfer of one), not from elsewhere.
func.func @kv_from_argument(%kv: !fragment.kv, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{a decode's KV cache must come from a prefill or a kv_transfer}}
  %t = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  return %t : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
// One prefill feeds one decode: a KV cache is consumed (extended) by its decode.
func.func @kv_used_twice(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{a prefill's KV cache must be used by exactly one decode or kv_transfer}}
  %kv = "fragment.prefill"(%p) {device = "", model = @llm} : (!workflow.text) -> !fragment.kv
  %a = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  %b = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  %c = "workflow.concat"(%a, %b) : (!workflow.text, !workflow.text) -> !workflow.text
  return %c : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
// ... and an unused prefill is as wrong.
func.func @kv_unused(%p: !workflow.text) {
  // expected-error @+1 {{a prefill's KV cache must be used by exactly one decode or kv_transfer}}
  %kv = "fragment.prefill"(%p) {device = "", model = @llm} : (!workflow.text) -> !fragment.kv
  return
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
// A kv_transfer joins two different devices and moves a non-negative number of bytes.
func.func @kv_transfer_to_itself(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  %kv = "fragment.prefill"(%p) {device = "", model = @llm} : (!workflow.text) -> !fragment.kv
  // expected-error @+1 {{a kv_transfer from `h100_0` to itself moves nothing}}
  %moved = "fragment.kv_transfer"(%kv) {bytes = 1024 : i64, from = "h100_0", to = "h100_0"} : (!fragment.kv) -> !fragment.kv
  %t = "fragment.decode"(%moved, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  return %t : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
func.func @kv_transfer_negative_bytes(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  %kv = "fragment.prefill"(%p) {device = "", model = @llm} : (!workflow.text) -> !fragment.kv
  // expected-error @+1 {{a kv_transfer needs a non-negative `bytes`}}
  %moved = "fragment.kv_transfer"(%kv) {bytes = -1 : i64, from = "h100_0", to = "a100_0"} : (!fragment.kv) -> !fragment.kv
  %t = "fragment.decode"(%moved, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  return %t : !workflow.text
}

// -----

// fragment.tool calls a {workflow.tool} function with as many arguments as it takes.
func.func private @helper(%q: !workflow.text) -> !workflow.text {
  return %q : !workflow.text
}
func.func @tool_not_a_tool(%q: !workflow.text) -> !workflow.text {
  // expected-error @+1 {{`@helper` does not name a tool function}}
  %r = "fragment.tool"(%q) {callee = @helper} : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

func.func private @search(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func @tool_arity(%q: !workflow.text) -> !workflow.text {
  // expected-error @+1 {{tool `search` takes 1 arguments but 2 were given}}
  %r = "fragment.tool"(%q, %q) {callee = @search} : (!workflow.text, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

// A decoder's generate splits into prefill and decode; an encoder's embed is an encode.
// Each names a model of the right kind.
"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 64 : i64, kind = "encoder", path = "models/tiny-bert", sym_name = "enc"} : () -> ()
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
func.func @kinds(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{`fragment.prefill` needs a decoder model, but model `enc` is an encoder model}}
  %kv = "fragment.prefill"(%p) {device = "", model = @enc} : (!workflow.text) -> !fragment.kv
  // expected-error @+1 {{`fragment.decode` needs a decoder model, but model `enc` is an encoder model}}
  %t = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 8 : i64, model = @enc, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  // expected-error @+1 {{`fragment.encode` needs an encoder model, but model `llm` is a decoder model}}
  %e = "fragment.encode"(%p) {device = "", model = @llm} : (!workflow.text) -> tensor<64xf32>
  return %t : !workflow.text
}

// -----

func.func @unknown_model(%p: !workflow.text, %stop: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{`@nope` does not name a workflow.model}}
  %kv = "fragment.prefill"(%p) {device = "", model = @nope} : (!workflow.text) -> !fragment.kv
  // expected-error @+1 {{`@nope` does not name a workflow.model}}
  %t = "fragment.decode"(%kv, %stop) {device = "", max_tokens = 8 : i64, model = @nope, temperature = 0.0 : f64} : (!fragment.kv, !workflow.list<!workflow.text>) -> !workflow.text
  return %t : !workflow.text
}
