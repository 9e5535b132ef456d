// RUN: %agent-opt %s | %agent-opt | FileCheck %s

// Round trip of every workflow and tgraph op and type (IRDL ops print in generic form).

// CHECK: "workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/dec", sym_name = "llm"} : () -> ()
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/dec", sym_name = "llm"} : () -> ()
// CHECK: "workflow.model"() {architecture = "BertModel", dtype = "f16", hidden_size = 32 : i64, kind = "encoder", path = "models/enc", sym_name = "enc"} : () -> ()
"workflow.model"() {architecture = "BertModel", dtype = "f16", hidden_size = 32 : i64, kind = "encoder", path = "models/enc", sym_name = "enc"} : () -> ()
// CHECK: "workflow.model"() {architecture = "", dtype = "", hidden_size = 0 : i64, kind = "unknown", path = "models/gone", sym_name = "gone"} : () -> ()
"workflow.model"() {architecture = "", dtype = "", hidden_size = 0 : i64, kind = "unknown", path = "models/gone", sym_name = "gone"} : () -> ()

// CHECK-LABEL: func.func private @run_tool(
// CHECK-SAME: %[[Q:.*]]: !workflow.text) -> !workflow.text attributes {workflow.tool}
// CHECK: %[[ARGV:.*]] = "workflow.list_literal"(%[[Q]]) : (!workflow.text) -> !workflow.list<!workflow.text>
// CHECK: %[[A:.*]] = "workflow.exec"(%[[ARGV]]) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
// CHECK: %[[B:.*]] = "workflow.exec"(%[[ARGV]], %[[Q]]) {program = "cat", retries = 2 : i64, timeout_ms = 500 : i64} : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
// CHECK: %[[URL:.*]] = "workflow.url_template"(%[[A]], %[[B]]) {names = ["a", "b"], template = "http://h/{a}/{b}"} : (!workflow.text, !workflow.text) -> !workflow.text
// CHECK: %[[G:.*]] = "workflow.http"(%[[URL]]) {method = "get", retries = 1 : i64, timeout_ms = 2000 : i64} : (!workflow.text) -> !workflow.text
// CHECK: %[[P:.*]] = "workflow.http"(%[[URL]], %[[G]]) {method = "post", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.text, !workflow.text) -> !workflow.text
// CHECK: return %[[P]] : !workflow.text
func.func private @run_tool(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %a = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  %b = "workflow.exec"(%argv, %q) {program = "cat", retries = 2 : i64, timeout_ms = 500 : i64} : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %url = "workflow.url_template"(%a, %b) {names = ["a", "b"], template = "http://h/{a}/{b}"} : (!workflow.text, !workflow.text) -> !workflow.text
  %g = "workflow.http"(%url) {method = "get", retries = 1 : i64, timeout_ms = 2000 : i64} : (!workflow.text) -> !workflow.text
  %p = "workflow.http"(%url, %g) {method = "post", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.text, !workflow.text) -> !workflow.text
  return %p : !workflow.text
}

// CHECK-LABEL: func.func @text_ops(
// CHECK-SAME: %[[T:.*]]: !workflow.text, %[[L:.*]]: !workflow.list<!workflow.text>)
func.func @text_ops(%t: !workflow.text, %l: !workflow.list<!workflow.text>) -> !workflow.text {
  // CHECK: %[[C:.*]] = "workflow.text_constant"() {value = "a{}\0Ab"} : () -> !workflow.text
  %c = "workflow.text_constant"() {value = "a{}\0Ab"} : () -> !workflow.text
  // CHECK: %[[CAT:.*]] = "workflow.concat"(%[[T]], %[[C]]) : (!workflow.text, !workflow.text) -> !workflow.text
  %cat = "workflow.concat"(%t, %c) : (!workflow.text, !workflow.text) -> !workflow.text
  // CHECK: %[[EQ:.*]] = "workflow.text_eq"(%[[T]], %[[CAT]]) : (!workflow.text, !workflow.text) -> i1
  %eq = "workflow.text_eq"(%t, %cat) : (!workflow.text, !workflow.text) -> i1
  // CHECK: %[[LINES:.*]] = "workflow.lines"(%[[T]]) : (!workflow.text) -> !workflow.list<!workflow.text>
  %lines = "workflow.lines"(%t) : (!workflow.text) -> !workflow.list<!workflow.text>
  // CHECK: %[[SPLIT:.*]] = "workflow.split"(%[[T]], %[[C]]) : (!workflow.text, !workflow.text) -> !workflow.list<!workflow.text>
  %split = "workflow.split"(%t, %c) : (!workflow.text, !workflow.text) -> !workflow.list<!workflow.text>
  // CHECK: %[[JOIN:.*]] = "workflow.join"(%[[SPLIT]], %[[T]]) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %join = "workflow.join"(%split, %t) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  // CHECK: "workflow.contains"(%[[T]], %[[C]]) : (!workflow.text, !workflow.text) -> i1
  %has = "workflow.contains"(%t, %c) : (!workflow.text, !workflow.text) -> i1
  // CHECK: "workflow.starts_with"(%[[T]], %[[C]]) : (!workflow.text, !workflow.text) -> i1
  %st = "workflow.starts_with"(%t, %c) : (!workflow.text, !workflow.text) -> i1
  // CHECK: %[[LEN:.*]] = "workflow.text_len"(%[[T]]) : (!workflow.text) -> i64
  %len = "workflow.text_len"(%t) : (!workflow.text) -> i64
  // CHECK: %[[TRIM:.*]] = "workflow.trim"(%[[JOIN]]) : (!workflow.text) -> !workflow.text
  %trim = "workflow.trim"(%join) : (!workflow.text) -> !workflow.text
  // CHECK: %[[LT:.*]] = "workflow.to_text"(%[[LEN]]) : (i64) -> !workflow.text
  %lt = "workflow.to_text"(%len) : (i64) -> !workflow.text
  // CHECK: "workflow.to_text"(%[[EQ]]) : (i1) -> !workflow.text
  %et = "workflow.to_text"(%eq) : (i1) -> !workflow.text
  // CHECK: "workflow.to_text"(%[[LINES]]) : (!workflow.list<!workflow.text>) -> !workflow.text
  %lst = "workflow.to_text"(%lines) : (!workflow.list<!workflow.text>) -> !workflow.text
  // CHECK: "workflow.parse_int"(%[[TRIM]]) : (!workflow.text) -> i64
  %pi = "workflow.parse_int"(%trim) : (!workflow.text) -> i64
  // CHECK: "workflow.parse_float"(%[[TRIM]]) : (!workflow.text) -> f64
  %pf = "workflow.parse_float"(%trim) : (!workflow.text) -> f64
  // CHECK: %[[F:.*]] = "workflow.format"(%[[C]], %[[LT]]) : (!workflow.text, !workflow.text) -> !workflow.text
  %f = "workflow.format"(%c, %lt) : (!workflow.text, !workflow.text) -> !workflow.text
  // CHECK: return %[[F]]
  return %f : !workflow.text
}

// CHECK-LABEL: func.func @list_and_number_ops(
// CHECK-SAME: %[[X:.*]]: i64, %[[Y:.*]]: f64)
func.func @list_and_number_ops(%x: i64, %y: f64) -> !workflow.list<!workflow.list<f64>> {
  // CHECK: %[[E:.*]] = "workflow.list_literal"() : () -> !workflow.list<f64>
  %e = "workflow.list_literal"() : () -> !workflow.list<f64>
  // CHECK: %[[L:.*]] = "workflow.list_literal"(%[[Y]], %[[Y]]) : (f64, f64) -> !workflow.list<f64>
  %l = "workflow.list_literal"(%y, %y) : (f64, f64) -> !workflow.list<f64>
  // CHECK: %[[A:.*]] = "workflow.list_append"(%[[E]], %[[Y]]) : (!workflow.list<f64>, f64) -> !workflow.list<f64>
  %a = "workflow.list_append"(%e, %y) : (!workflow.list<f64>, f64) -> !workflow.list<f64>
  // CHECK: %[[N:.*]] = "workflow.list_len"(%[[L]]) : (!workflow.list<f64>) -> i64
  %n = "workflow.list_len"(%l) : (!workflow.list<f64>) -> i64
  // CHECK: "workflow.list_get"(%[[L]], %[[X]]) : (!workflow.list<f64>, i64) -> f64
  %g = "workflow.list_get"(%l, %x) : (!workflow.list<f64>, i64) -> f64
  // CHECK: "workflow.argmax"(%[[A]]) : (!workflow.list<f64>) -> i64
  %m = "workflow.argmax"(%a) : (!workflow.list<f64>) -> i64
  // CHECK: "workflow.div"(%[[X]], %[[N]]) : (i64, i64) -> i64
  %di = "workflow.div"(%x, %n) : (i64, i64) -> i64
  // CHECK: "workflow.div"(%[[Y]], %[[Y]]) : (f64, f64) -> f64
  %df = "workflow.div"(%y, %y) : (f64, f64) -> f64
  // CHECK: "workflow.rem"(%[[X]], %[[N]]) : (i64, i64) -> i64
  %r = "workflow.rem"(%x, %n) : (i64, i64) -> i64
  // CHECK: %[[NESTED:.*]] = "workflow.list_literal"(%[[L]], %[[A]]) : (!workflow.list<f64>, !workflow.list<f64>) -> !workflow.list<!workflow.list<f64>>
  %nested = "workflow.list_literal"(%l, %a) : (!workflow.list<f64>, !workflow.list<f64>) -> !workflow.list<!workflow.list<f64>>
  // CHECK: return %[[NESTED]]
  return %nested : !workflow.list<!workflow.list<f64>>
}

// CHECK-LABEL: func.func private @scale(
// CHECK-SAME: %[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8x2xf32>, %[[V:.*]]: tensor<?x8xf32>) -> tensor<f32> attributes {workflow.fn}
func.func private @scale(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %v: tensor<?x8xf32>) -> tensor<f32> attributes {workflow.fn} {
  // CHECK: %[[ADD:.*]] = "tgraph.add"(%[[A]], %[[A]]) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %add = "tgraph.add"(%a, %a) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[SUB:.*]] = "tgraph.sub"(%[[ADD]], %[[A]]) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %sub = "tgraph.sub"(%add, %a) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[MUL:.*]] = "tgraph.mul"(%[[SUB]], %[[V]]) : (tensor<4x8xf32>, tensor<?x8xf32>) -> tensor<4x8xf32>
  %mul = "tgraph.mul"(%sub, %v) : (tensor<4x8xf32>, tensor<?x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[DIV:.*]] = "tgraph.div"(%[[MUL]], %[[ADD]]) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %div = "tgraph.div"(%mul, %add) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[NEG:.*]] = "tgraph.neg"(%[[DIV]]) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %neg = "tgraph.neg"(%div) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[EXP:.*]] = "tgraph.exp"(%[[NEG]])
  %exp = "tgraph.exp"(%neg) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[SQRT:.*]] = "tgraph.sqrt"(%[[EXP]])
  %sqrt = "tgraph.sqrt"(%exp) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: %[[MM:.*]] = "tgraph.matmul"(%[[SQRT]], %[[B]]) : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  %mm = "tgraph.matmul"(%sqrt, %b) : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  // CHECK: %[[SM:.*]] = "tgraph.softmax"(%[[MM]]) : (tensor<4x2xf32>) -> tensor<4x2xf32>
  %sm = "tgraph.softmax"(%mm) : (tensor<4x2xf32>) -> tensor<4x2xf32>
  // CHECK: %[[TR:.*]] = "tgraph.transpose"(%[[SM]]) {permutation = array<i64: 1, 0>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  %tr = "tgraph.transpose"(%sm) {permutation = array<i64: 1, 0>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  // CHECK: %[[RS:.*]] = "tgraph.reshape"(%[[TR]]) : (tensor<2x4xf32>) -> tensor<8xf32>
  %rs = "tgraph.reshape"(%tr) : (tensor<2x4xf32>) -> tensor<8xf32>
  // CHECK: %[[S:.*]] = "tgraph.reduce_sum"(%[[RS]]) : (tensor<8xf32>) -> tensor<f32>
  %s = "tgraph.reduce_sum"(%rs) : (tensor<8xf32>) -> tensor<f32>
  // CHECK: %[[M:.*]] = "tgraph.reduce_mean"(%[[RS]]) : (tensor<8xf32>) -> tensor<f32>
  %m = "tgraph.reduce_mean"(%rs) : (tensor<8xf32>) -> tensor<f32>
  // CHECK: %[[X:.*]] = "tgraph.reduce_max"(%[[RS]]) : (tensor<8xf32>) -> tensor<f32>
  %x = "tgraph.reduce_max"(%rs) : (tensor<8xf32>) -> tensor<f32>
  // CHECK: %[[NRM:.*]] = "tgraph.norm"(%[[RS]]) : (tensor<8xf32>) -> tensor<f32>
  %n = "tgraph.norm"(%rs) : (tensor<8xf32>) -> tensor<f32>
  // CHECK: %[[T1:.*]] = "tgraph.add"(%[[S]], %[[M]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %t1 = "tgraph.add"(%s, %m) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  // CHECK: %[[T2:.*]] = "tgraph.add"(%[[X]], %[[NRM]])
  %t2 = "tgraph.add"(%x, %n) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  // CHECK: %[[T3:.*]] = "tgraph.add"(%[[T1]], %[[T2]])
  %t3 = "tgraph.add"(%t1, %t2) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  // CHECK: return %[[T3]] : tensor<f32>
  return %t3 : tensor<f32>
}

// Model calls and tool calls, and the structured ops with the workflow hint attributes.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ARGS:.*]]: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent, workflow.objective = "cost", workflow.sla_ms = 3000 : i64}
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent, workflow.objective = "cost", workflow.sla_ms = 3000 : i64} {
  %c0 = arith.constant 0 : i64
  %q = "workflow.list_get"(%args, %c0) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  // CHECK: %[[GEN:.*]] = "workflow.generate"(%{{.*}}, %{{.*}}) {device = "name:h100_0", max_tokens = 16 : i64, model = @llm, temperature = 5.000000e-01 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %gen = "workflow.generate"(%q, %stop) {device = "name:h100_0", max_tokens = 16 : i64, model = @llm, temperature = 0.5 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  // CHECK: %[[EMB:.*]] = "workflow.embed"(%[[GEN]]) {device = "gpu", model = @enc} : (!workflow.text) -> tensor<32xf32>
  %emb = "workflow.embed"(%gen) {device = "gpu", model = @enc} : (!workflow.text) -> tensor<32xf32>
  // CHECK: "workflow.embed"(%[[GEN]]) {device = "", model = @gone} : (!workflow.text) -> tensor<?xf32>
  %dyn = "workflow.embed"(%gen) {device = "", model = @gone} : (!workflow.text) -> tensor<?xf32>
  // CHECK: %[[TOOL:.*]] = "workflow.tool_call"(%[[GEN]]) {callee = @run_tool} : (!workflow.text) -> !workflow.text
  %tool = "workflow.tool_call"(%gen) {callee = @run_tool} : (!workflow.text) -> !workflow.text
  // CHECK: scf.if %{{.*}} -> (!workflow.text) {
  // CHECK: } {workflow.likely = true}
  %true = arith.constant true
  %r = scf.if %true -> (!workflow.text) {
    scf.yield %tool : !workflow.text
  } else {
    scf.yield %gen : !workflow.text
  } {workflow.likely = true}
  // CHECK: scf.for
  // CHECK: } {workflow.expected_iterations = 4 : i64, workflow.parallel}
  %n = "workflow.list_len"(%args) : (!workflow.list<!workflow.text>) -> i64
  %c1 = arith.constant 1 : i64
  %empty = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %all = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %empty) -> (!workflow.list<!workflow.text>) : i64 {
    %x = "workflow.list_get"(%args, %i) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %next = "workflow.list_append"(%acc, %x) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.list<!workflow.text>
    scf.yield %next : !workflow.list<!workflow.text>
  } {workflow.expected_iterations = 4 : i64, workflow.parallel}
  // CHECK: scf.while
  // CHECK: } attributes {workflow.expected_iterations = 2 : i64, workflow.max_iterations = 3 : i64}
  %w:2 = scf.while (%k = %c0, %go = %true) : (i64, i1) -> (i64, i1) {
    %c3 = arith.constant 3 : i64
    %in = arith.cmpi slt, %k, %c3 : i64
    %cond = arith.andi %in, %go : i1
    scf.condition(%cond) %k, %go : i64, i1
  } do {
  ^bb0(%k: i64, %go: i1):
    %k1 = arith.addi %k, %c1 : i64
    scf.yield %k1, %go : i64, i1
  } attributes {workflow.expected_iterations = 2 : i64, workflow.max_iterations = 3 : i64}
  %j = "workflow.join"(%all, %r) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  return %j : !workflow.text
}

// A `try`: the body block, then the catch block taking the error message.
// CHECK-LABEL: func.func @try_catch(
// CHECK: scf.execute_region -> !workflow.text {
// CHECK: ^bb1(%{{.*}}: !workflow.text):
// CHECK: } {workflow.try}
func.func @try_catch(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %0 = scf.execute_region -> !workflow.text {
    %n = "workflow.parse_int"(%q) : (!workflow.text) -> i64
    %t = "workflow.to_text"(%n) : (i64) -> !workflow.text
    scf.yield %t : !workflow.text
  ^bb1(%e: !workflow.text):
    scf.yield %e : !workflow.text
  } {workflow.try}
  return %0 : !workflow.text
}
