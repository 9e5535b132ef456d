// RUN: %agent-opt %s --split-input-file --verify-diagnostics

// ===== Structure (IRDL) =====

func.func @wrong_operand_type(%x: i64) -> !workflow.text {
  // expected-error @+1 {{expected base type 'workflow.text' but got 'i64'}}
  %0 = "workflow.trim"(%x) : (i64) -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func @wrong_result_type(%t: !workflow.text) -> i1 {
  // expected-error @+1 {{expected 'i64' but got 'i1'}}
  %0 = "workflow.text_len"(%t) : (!workflow.text) -> i1
  return %0 : i1
}

// -----

// div takes two operands of one type: i64 and f64 do not mix.
func.func @div_mixes_types(%a: i64, %b: f64) -> i64 {
  // expected-error @+1 {{expected 'i64' but got 'f64'}}
  %0 = "workflow.div"(%a, %b) : (i64, f64) -> i64
  return %0 : i64
}

// -----

// list_get's result is the list's element type.
func.func @list_get_element_type(%l: !workflow.list<i64>, %i: i64) -> f64 {
  // expected-error @+1 {{expected 'i64' but got 'f64'}}
  %0 = "workflow.list_get"(%l, %i) : (!workflow.list<i64>, i64) -> f64
  return %0 : f64
}

// -----

func.func @list_literal_mixed(%a: i64, %b: f64) -> !workflow.list<i64> {
  // expected-error @+1 {{expected 'i64' but got 'f64'}}
  %0 = "workflow.list_literal"(%a, %b) : (i64, f64) -> !workflow.list<i64>
  return %0 : !workflow.list<i64>
}

// -----

func.func @missing_attribute() -> !workflow.text {
  // expected-error @+1 {{'workflow.text_constant' op attribute "value" is expected but not provided}}
  %0 = "workflow.text_constant"() : () -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func @missing_permutation(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'tgraph.transpose' op attribute "permutation" is expected but not provided}}
  %0 = "tgraph.transpose"(%a) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @wrong_attribute_kind() -> !workflow.text {
  // expected-error @+1 {{expected base attribute 'builtin.string' but got 'builtin.integer'}}
  %0 = "workflow.text_constant"() {value = 3 : i64} : () -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func @integer_temperature(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{expected base attribute 'builtin.float' but got 'builtin.integer'}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 1 : i64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func @embed_not_a_tensor(%t: !workflow.text) -> f32 {
  // expected-error @+1 {{expected base type 'builtin.tensor' but got 'builtin.f32'}}
  %0 = "workflow.embed"(%t) {device = "", model = @enc} : (!workflow.text) -> f32
  return %0 : f32
}

// -----

func.func @tgraph_on_a_scalar(%a: f32) -> tensor<f32> {
  // expected-error @+1 {{expected base type 'builtin.tensor' but got 'builtin.f32'}}
  %0 = "tgraph.neg"(%a) : (f32) -> tensor<f32>
  return %0 : tensor<f32>
}

// ===== Semantics (agentc's verifier) =====

// -----

// expected-error @+1 {{model `m` has kind `transformer`; expected "decoder", "encoder" or "unknown"}}
"workflow.model"() {architecture = "X", dtype = "", hidden_size = 8 : i64, kind = "transformer", path = "m", sym_name = "m"} : () -> ()

// -----

// expected-error @+1 {{model `m` has `workflow.activations = "int4"`; expected "int8"}}
"workflow.model"() {architecture = "X", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "m.gguf", sym_name = "m", workflow.activations = "int4"} : () -> ()

// -----

// expected-error @+1 {{model `m` has `workflow.activations = 8 : i64`; expected "int8"}}
"workflow.model"() {architecture = "X", dtype = "", hidden_size = 8 : i64, kind = "decoder", path = "m.gguf", sym_name = "m", workflow.activations = 8 : i64} : () -> ()

// -----

// expected-error @+1 {{model `e` is an encoder; `workflow.activations` is for a decoder's quantised weights}}
"workflow.model"() {architecture = "X", dtype = "", hidden_size = 8 : i64, kind = "encoder", path = "e.gguf", sym_name = "e", workflow.activations = "int8"} : () -> ()

// -----

// Models are symbols: MLIR's symbol table rejects a second `m` before our verifier runs.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "a", sym_name = "m"} : () -> ()
// expected-error @+1 {{redefinition of symbol named 'm'}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "b", sym_name = "m"} : () -> ()

// -----

func.func @unknown_model(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{`@nope` does not name a workflow.model}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @nope, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 32 : i64, kind = "encoder", path = "e", sym_name = "enc"} : () -> ()
func.func @generate_on_encoder(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{`generate` needs a decoder, but model `enc` is an encoder}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @enc, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @embed_on_decoder(%t: !workflow.text) -> tensor<64xf32> {
  // expected-error @+1 {{`embed` needs an encoder, but model `llm` is a decoder}}
  %0 = "workflow.embed"(%t) {device = "", model = @llm} : (!workflow.text) -> tensor<64xf32>
  return %0 : tensor<64xf32>
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @zero_max_tokens(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{max_tokens must be positive}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 0 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @negative_max_tokens(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{max_tokens must be positive}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = -3 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @negative_temperature(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{temperature must be a finite number ≥ 0, not -0.5}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @llm, temperature = -0.5 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @zero_top_k(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{top_k must be ≥ 1, not 0}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 1.0 : f64, top_k = 0 : i64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @bad_json_schema(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{json_schema: at /: unsupported keyword `minimum`}}
  %0 = "workflow.generate"(%t, %s) {device = "", json_schema = "{\"type\":\"integer\",\"minimum\":0}", max_tokens = 4 : i64, model = @llm, temperature = 1.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @json_schema_not_a_string(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{json_schema must be a string attribute, not 3 : i64}}
  %0 = "workflow.generate"(%t, %s) {device = "", json_schema = 3 : i64, max_tokens = 4 : i64, model = @llm, temperature = 1.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @min_p_above_one(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{min_p 2 is not in [0, 1]}}
  %0 = "workflow.generate"(%t, %s) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 1.0 : f64, min_p = 2.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "d", sym_name = "llm"} : () -> ()
func.func @bad_device_pin(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{device pin `tpu` is neither a device kind (cpu, gpu) nor `name:DEVICE`}}
  %0 = "workflow.generate"(%t, %s) {device = "tpu", max_tokens = 4 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 32 : i64, kind = "encoder", path = "e", sym_name = "enc"} : () -> ()
func.func @bad_embed_pin(%t: !workflow.text) -> tensor<32xf32> {
  // expected-error @+1 {{device pin `h100_0` is neither a device kind}}
  %0 = "workflow.embed"(%t) {device = "h100_0", model = @enc} : (!workflow.text) -> tensor<32xf32>
  return %0 : tensor<32xf32>
}

// -----

"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 32 : i64, kind = "encoder", path = "e", sym_name = "enc"} : () -> ()
func.func @embed_wrong_width(%t: !workflow.text) -> tensor<64xf32> {
  // expected-error @+1 {{embed result `tensor<64xf32>` does not match the model's hidden size 32}}
  %0 = "workflow.embed"(%t) {device = "", model = @enc} : (!workflow.text) -> tensor<64xf32>
  return %0 : tensor<64xf32>
}

// -----

"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 32 : i64, kind = "encoder", path = "e", sym_name = "enc"} : () -> ()
func.func @embed_wrong_shape(%t: !workflow.text) -> tensor<1x32xf32> {
  // expected-error @+1 {{embed must return a 1-D tensor of f32, not `tensor<1x32xf32>`}}
  %0 = "workflow.embed"(%t) {device = "", model = @enc} : (!workflow.text) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

func.func private @not_a_tool(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  return %q : !workflow.text
}
func.func @tool_call_to_agent(%t: !workflow.text) -> !workflow.text {
  // expected-error @+1 {{`@not_a_tool` does not name a tool function}}
  %0 = "workflow.tool_call"(%t) {callee = @not_a_tool} : (!workflow.text) -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func private @echo(%a: !workflow.text, %b: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%a, %b) : (!workflow.text, !workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func @tool_call_arity(%t: !workflow.text) -> !workflow.text {
  // expected-error @+1 {{tool `echo` takes 2 arguments but 1 were given}}
  %0 = "workflow.tool_call"(%t) {callee = @echo} : (!workflow.text) -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func @exec_outside_tool(%t: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %argv = "workflow.list_literal"(%t) : (!workflow.text) -> !workflow.list<!workflow.text>
  // expected-error @+1 {{`workflow.exec` may only appear inside a tool function}}
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}

// -----

func.func @http_outside_tool(%t: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{`workflow.url_template` may only appear inside a tool function}}
  %url = "workflow.url_template"() {names = [], template = "http://h/"} : () -> !workflow.text
  // expected-error @+1 {{`workflow.http` may only appear inside a tool function}}
  %r = "workflow.http"(%url) {method = "get", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

// `{{` and `}}` are literal braces, not placeholders.
func.func @format_count(%t: !workflow.text) -> !workflow.text {
  %f = "workflow.text_constant"() {value = "{} and {} but {{}}"} : () -> !workflow.text
  // expected-error @+1 {{format has 2 `{}` but 1 arguments}}
  %r = "workflow.format"(%f, %t) : (!workflow.text, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

// Indirect recursion is reported at the call that closes the cycle.
func.func private @ping(%t: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %r = func.call @pong(%t) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}
func.func private @pong(%t: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{recursion: `ping` calls itself through this call}}
  %r = func.call @ping(%t) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

func.func private @self(%t: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{recursion: `self` calls itself through this call}}
  %r = func.call @self(%t) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

func.func private @add_no_broadcast(%a: tensor<8x64xf32>, %b: tensor<32xf32>) -> tensor<8x64xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.add` operands cannot be broadcast together}}
  %0 = "tgraph.add"(%a, %b) : (tensor<8x64xf32>, tensor<32xf32>) -> tensor<8x64xf32>
  return %0 : tensor<8x64xf32>
}

// -----

func.func private @add_wrong_result(%a: tensor<4x1xf32>, %b: tensor<1x3xf32>) -> tensor<4x1xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.add` result shape does not match the broadcast of its operands}}
  %0 = "tgraph.add"(%a, %b) : (tensor<4x1xf32>, tensor<1x3xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

func.func private @mul_mixed(%a: tensor<4xf16>, %b: tensor<4xf32>) -> tensor<4xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.mul` mixes element types}}
  %0 = "tgraph.mul"(%a, %b) : (tensor<4xf16>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @matmul_inner(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.matmul` inner dimensions differ: 3 vs 4}}
  %0 = "tgraph.matmul"(%a, %b) : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func private @reshape_count(%a: tensor<2x3xf32>) -> tensor<4xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.reshape` changes the element count from 6 to 4}}
  %0 = "tgraph.reshape"(%a) : (tensor<2x3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @reduce_not_scalar(%a: tensor<2x3xf32>) -> tensor<3xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.reduce_sum` must return a 0-d tensor of its element type}}
  %0 = "tgraph.reduce_sum"(%a) : (tensor<2x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func private @softmax_changes_shape(%a: tensor<2x3xf32>) -> tensor<3x2xf32> attributes {workflow.fn} {
  // expected-error @+1 {{`tgraph.softmax` must keep its operand's type}}
  %0 = "tgraph.softmax"(%a) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// `workflow.max_parallel` (the source's `@max_parallel(N)`) is for maps, from 1 to 1024.
func.func @max_parallel(%xs: !workflow.list<!workflow.text>) -> !workflow.list<!workflow.text> attributes {workflow.agent} {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %n = "workflow.list_len"(%xs) : (!workflow.list<!workflow.text>) -> i64
  %empty = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  // expected-error @+1 {{`workflow.max_parallel` must be an integer from 1 to 1024}}
  %a = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %empty) -> (!workflow.list<!workflow.text>) : i64 {
    scf.yield %acc : !workflow.list<!workflow.text>
  } {workflow.parallel, workflow.max_parallel = 0 : i64}
  // expected-error @+1 {{`workflow.max_parallel` belongs on a map's `scf.for` (marked `workflow.parallel`)}}
  %b = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %a) -> (!workflow.list<!workflow.text>) : i64 {
    scf.yield %acc : !workflow.list<!workflow.text>
  } {workflow.max_parallel = 4 : i64}
  return %b : !workflow.list<!workflow.text>
}

// -----

// An agent runs an scf.execute_region only as a `try`.
func.func @unmarked_execute_region() -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{an agent's `scf.execute_region` must be a `try` (marked `workflow.try`)}}
  %0 = scf.execute_region -> !workflow.text {
    %t = "workflow.text_constant"() {value = "a"} : () -> !workflow.text
    scf.yield %t : !workflow.text
  }
  return %0 : !workflow.text
}

// -----

func.func @try_without_catch_block() -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{a `try` has two blocks: the body (no arguments), then the catch arm `^catch(%error: !workflow.text)`}}
  %0 = scf.execute_region -> !workflow.text {
    %t = "workflow.text_constant"() {value = "a"} : () -> !workflow.text
    scf.yield %t : !workflow.text
  } {workflow.try}
  return %0 : !workflow.text
}

// -----

func.func @try_catch_takes_an_int() -> !workflow.text attributes {workflow.agent} {
  // expected-error @+1 {{a `try` has two blocks: the body (no arguments), then the catch arm `^catch(%error: !workflow.text)`}}
  %0 = scf.execute_region -> !workflow.text {
    %t = "workflow.text_constant"() {value = "a"} : () -> !workflow.text
    scf.yield %t : !workflow.text
  ^bb1(%e: i64):
    %u = "workflow.text_constant"() {value = "b"} : () -> !workflow.text
    scf.yield %u : !workflow.text
  } {workflow.try}
  return %0 : !workflow.text
}

// -----

// ===== chat (workflow.chat_prompt and `chat` generates) =====

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func @chat_template_does_not_parse(%m: !workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text {
  // expected-error @+1 {{the chat template of `@llm` does not parse: syntax error: unexpected end of input, expected end of block (template line 1)}}
  %0 = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @llm, template = "{% for m in messages %}"} : (!workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "BertModel", dtype = "", hidden_size = 32 : i64, kind = "encoder", path = "e", sym_name = "enc"} : () -> ()
func.func @chat_on_encoder(%m: !workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text {
  // expected-error @+1 {{`chat` needs a decoder, but model `enc` is an encoder}}
  %0 = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @enc, template = "x"} : (!workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

func.func @chat_unknown_model(%m: !workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text {
  // expected-error @+1 {{`@nope` does not name a workflow.model}}
  %0 = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @nope, template = "x"} : (!workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

// The messages are [role, content] pairs: a list<text> is not a conversation.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func @chat_messages_not_pairs(%m: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{expected base type 'workflow.list' but got '!workflow.text'}}
  %0 = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @llm, template = "x"} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func @chat_generate_without_chat_prompt(%t: !workflow.text, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  // expected-error @+1 {{a `chat` generate's prompt must be a workflow.chat_prompt}}
  %0 = "workflow.generate"(%t, %s) {chat, device = "", max_tokens = 4 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func @chat_prompt_into_plain_generate(%m: !workflow.list<!workflow.list<!workflow.text>>, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  %p = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @llm, template = "x"} : (!workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text
  // expected-error @+1 {{a workflow.chat_prompt is the prompt of a `chat` generate only}}
  %0 = "workflow.generate"(%p, %s) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}

// -----

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "other"} : () -> ()
func.func @chat_prompt_of_another_model(%m: !workflow.list<!workflow.list<!workflow.text>>, %s: !workflow.list<!workflow.text>) -> !workflow.text {
  %p = "workflow.chat_prompt"(%m) {bos_token = "", eos_token = "", model = @other, template = "x"} : (!workflow.list<!workflow.list<!workflow.text>>) -> !workflow.text
  // expected-error @+1 {{a `chat` generate of `@llm` needs the prompt of `@llm`'s chat template}}
  %0 = "workflow.generate"(%p, %s) {chat, device = "", max_tokens = 4 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %0 : !workflow.text
}
