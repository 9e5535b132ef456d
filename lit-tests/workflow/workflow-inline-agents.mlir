// RUN: %agent-opt %s --split-input-file --pass-pipeline=workflow-inline-agents | FileCheck %s

// Nested sub-agents are inlined all the way down; agents left uncalled are removed; tools
// and tensor fns stay calls (they are fragments of their own).
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func private @search(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func private @score(%x: f32) -> f32 attributes {workflow.fn} {
  %t = tensor.from_elements %x : tensor<f32>
  %n = "tgraph.neg"(%t) : (tensor<f32>) -> tensor<f32>
  %r = tensor.extract %n[] : tensor<f32>
  return %r : f32
}
func.func private @leaf(%q: !workflow.text, %n: i64) -> !workflow.text attributes {workflow.agent} {
  %s = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %g = "workflow.generate"(%q, %s) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %t = "workflow.to_text"(%n) : (i64) -> !workflow.text
  %c = "workflow.concat"(%g, %t) : (!workflow.text, !workflow.text) -> !workflow.text
  return %c : !workflow.text
}
func.func private @middle(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %found = "workflow.tool_call"(%q) {callee = @search} : (!workflow.text) -> !workflow.text
  %c2 = arith.constant 2 : i64
  %r = func.call @leaf(%found, %c2) : (!workflow.text, i64) -> !workflow.text
  return %r : !workflow.text
}
func.func private @unused(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  return %q : !workflow.text
}
// CHECK: "workflow.model"
// CHECK-LABEL: func.func private @search(
// CHECK-SAME: attributes {workflow.tool}
// CHECK-LABEL: func.func private @score(
// CHECK-SAME: attributes {workflow.fn}
// CHECK-NOT: func.func private @leaf
// CHECK-NOT: func.func private @middle
// CHECK-NOT: func.func private @unused
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ARGS:.*]]: !workflow.list<!workflow.text>)
// CHECK-NOT: call @middle
// CHECK-NOT: call @leaf
// Both calls of @middle are inlined, each with its own copy of @leaf's body.
// CHECK: %[[Q:.*]] = "workflow.join"(%[[ARGS]]
// CHECK: %[[F1:.*]] = "workflow.tool_call"(%[[Q]]) {callee = @search}
// CHECK: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK: %[[G1:.*]] = "workflow.generate"(%[[F1]],
// CHECK: %[[T1:.*]] = "workflow.to_text"(%[[TWO]])
// CHECK: %[[R1:.*]] = "workflow.concat"(%[[G1]], %[[T1]])
// CHECK: %[[F2:.*]] = "workflow.tool_call"(%[[R1]]) {callee = @search}
// CHECK: %[[G2:.*]] = "workflow.generate"(%[[F2]],
// CHECK: %[[R2:.*]] = "workflow.concat"(%[[G2]],
// CHECK: %[[S:.*]] = call @score(%{{.*}}) : (f32) -> f32
// CHECK: return %[[R2]]
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %a = func.call @middle(%q) : (!workflow.text) -> !workflow.text
  %b = func.call @middle(%a) : (!workflow.text) -> !workflow.text
  %h = arith.constant 0.5 : f32
  %s = func.call @score(%h) : (f32) -> f32
  return %b : !workflow.text
}

// -----

// Calls inside structured ops (an if branch, a map body) are inlined in place.
func.func private @shout(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %bang = "workflow.text_constant"() {value = "!"} : () -> !workflow.text
  %r = "workflow.concat"(%q, %bang) : (!workflow.text, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-NOT: @shout(
// CHECK-LABEL: func.func @main(
// CHECK: scf.if
// CHECK-NEXT: "workflow.list_get"
// CHECK-NEXT: %[[B1:.*]] = "workflow.text_constant"() {value = "!"}
// CHECK-NEXT: %[[R1:.*]] = "workflow.concat"(%{{.*}}, %[[B1]])
// CHECK-NEXT: scf.yield %[[R1]]
// CHECK: scf.for
// CHECK: %[[X:.*]] = "workflow.list_get"
// CHECK-NEXT: %[[B2:.*]] = "workflow.text_constant"() {value = "!"}
// CHECK-NEXT: %[[R2:.*]] = "workflow.concat"(%[[X]], %[[B2]])
// CHECK-NEXT: "workflow.list_append"(%{{.*}}, %[[R2]])
// CHECK: } {workflow.parallel}
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %n = "workflow.list_len"(%args) : (!workflow.list<!workflow.text>) -> i64
  %some = arith.cmpi sgt, %n, %c0 : i64
  %first = scf.if %some -> (!workflow.text) {
    %x = "workflow.list_get"(%args, %c0) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %y = func.call @shout(%x) : (!workflow.text) -> !workflow.text
    scf.yield %y : !workflow.text
  } else {
    %e = "workflow.text_constant"() {value = ""} : () -> !workflow.text
    scf.yield %e : !workflow.text
  }
  %empty = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %all = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %empty) -> (!workflow.list<!workflow.text>) : i64 {
    %x = "workflow.list_get"(%args, %i) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %y = func.call @shout(%x) : (!workflow.text) -> !workflow.text
    %next = "workflow.list_append"(%acc, %y) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.list<!workflow.text>
    scf.yield %next : !workflow.list<!workflow.text>
  } {workflow.parallel}
  %j = "workflow.join"(%all, %first) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  return %j : !workflow.text
}

// -----

// Without a main (a library of agents), the uncalled agents are its entry points and stay;
// only agents that were inlined and are no longer called go.
// CHECK-NOT: @helper
// CHECK-LABEL: func.func private @api(
// CHECK-SAME: %[[Q:.*]]: !workflow.text)
// CHECK-NEXT: %[[R:.*]] = "workflow.trim"(%[[Q]])
// CHECK-NEXT: return %[[R]]
// CHECK-LABEL: func.func private @other(
// CHECK-NOT: @helper
func.func private @helper(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %r = "workflow.trim"(%q) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}
func.func private @api(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %r = func.call @helper(%q) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}
func.func private @other(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  return %q : !workflow.text
}
