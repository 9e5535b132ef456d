// RUN: %agent-opt %s --split-input-file --pass-pipeline=workflow-eliminate-dead-nodes | FileCheck %s

// A dead greedy generate is a whole LLM call for nothing: removed. A sampled generate
// (it draws from the run's random stream) and tool calls are effects: kept.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func private @note(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "logger", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ARGS:.*]]: !workflow.list<!workflow.text>)
// CHECK: %[[Q:.*]] = "workflow.join"
// CHECK-NOT: temperature = 0.000000e+00
// CHECK: "workflow.generate"(%[[Q]], %{{.*}}) {{{.*}}temperature = 8.000000e-01 : f64}
// CHECK-NEXT: "workflow.tool_call"(%[[Q]]) {callee = @note}
// CHECK-NEXT: return %[[Q]]
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %greedy = "workflow.generate"(%q, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %sampled = "workflow.generate"(%q, %stop) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.8 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %logged = "workflow.tool_call"(%q) {callee = @note} : (!workflow.text) -> !workflow.text
  return %q : !workflow.text
}

// -----

// Dead structured ops with pure bodies go (with everything they used); a dead map whose
// body calls a tool stays, and so does an if whose branch may fail at run time.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func private @note(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "logger", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-LABEL: func.func @main(
// CHECK-NOT: "workflow.generate"
// CHECK-NOT: "workflow.trim"
// CHECK: %[[KEPT:.*]] = scf.for
// CHECK: "workflow.tool_call"(%{{.*}}) {callee = @note}
// CHECK: } {workflow.parallel}
// CHECK: scf.if
// CHECK-NEXT: "workflow.list_get"
// CHECK-NEXT: "workflow.parse_int"
// CHECK-NOT: scf.for
// CHECK-NOT: scf.if
// CHECK: return
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %n = "workflow.list_len"(%args) : (!workflow.list<!workflow.text>) -> i64
  %some = arith.cmpi sgt, %n, %c0 : i64
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  // A dead pure if: both branches are pure (greedy generate, trim).
  %dead_if = scf.if %some -> (!workflow.text) {
    %x = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
    %s = "workflow.text_constant"() {value = "p"} : () -> !workflow.text
    %g = "workflow.generate"(%s, %x) {device = "", max_tokens = 8 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
    scf.yield %g : !workflow.text
  } else {
    %s = "workflow.text_constant"() {value = " q "} : () -> !workflow.text
    %t = "workflow.trim"(%s) : (!workflow.text) -> !workflow.text
    scf.yield %t : !workflow.text
  }
  %empty = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  // A dead pure map.
  %dead_map = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %empty) -> (!workflow.list<!workflow.text>) : i64 {
    %len = "workflow.list_len"(%acc) : (!workflow.list<!workflow.text>) -> i64
    %t = "workflow.to_text"(%len) : (i64) -> !workflow.text
    %next = "workflow.list_append"(%acc, %t) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.list<!workflow.text>
    scf.yield %next : !workflow.list<!workflow.text>
  } {workflow.parallel}
  // A dead map with an effect.
  %kept_map = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %empty) -> (!workflow.list<!workflow.text>) : i64 {
    %x = "workflow.list_get"(%args, %i) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %r = "workflow.tool_call"(%x) {callee = @note} : (!workflow.text) -> !workflow.text
    %next = "workflow.list_append"(%acc, %r) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.list<!workflow.text>
    scf.yield %next : !workflow.list<!workflow.text>
  } {workflow.parallel}
  // A dead if that may fail at run time (parse_int of bad text is an error).
  %kept_if = scf.if %some -> (i64) {
    %x = "workflow.list_get"(%args, %c0) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
    %v = "workflow.parse_int"(%x) : (!workflow.text) -> i64
    scf.yield %v : i64
  } else {
    scf.yield %c0 : i64
  }
  %r = "workflow.text_constant"() {value = "done"} : () -> !workflow.text
  return %r : !workflow.text
}

// -----

// With a main: declarations it cannot reach go (an agent, a tool, a fn, a model); what it
// reaches, directly or through other declarations, stays.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "used_llm"} : () -> ()
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "unused_llm"} : () -> ()
// CHECK: sym_name = "used_llm"
// CHECK-NOT: unused_llm
// CHECK-NOT: @unused_tool
// CHECK-LABEL: func.func private @used_tool(
// CHECK-NOT: @unused_fn
// CHECK-NOT: @unused_agent
// CHECK-LABEL: func.func private @helper(
// CHECK: func.func @main(
func.func private @used_tool(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func private @unused_tool(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func private @unused_fn(%x: tensor<4xf32>) -> tensor<4xf32> attributes {workflow.fn} {
  %r = "tgraph.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func private @unused_agent(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %r = "workflow.tool_call"(%q) {callee = @unused_tool} : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}
func.func private @helper(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %g = "workflow.generate"(%q, %stop) {device = "", max_tokens = 8 : i64, model = @used_llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %r = "workflow.tool_call"(%g) {callee = @used_tool} : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %r = func.call @helper(%q) : (!workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// -----

// Without a main nothing is unreachable: a library keeps every declaration.
// CHECK: sym_name = "lib_llm"
// CHECK-LABEL: func.func private @lib_tool(
// CHECK-LABEL: func.func private @lib_fn(
// CHECK-LABEL: func.func private @lib_agent(
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "lib_llm"} : () -> ()
func.func private @lib_tool(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "echo", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func private @lib_fn(%x: tensor<4xf32>) -> tensor<4xf32> attributes {workflow.fn} {
  %r = "tgraph.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func private @lib_agent(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  return %q : !workflow.text
}

// -----

// An unused `try` is removed only when neither arm has an effect: the one whose body calls
// a tool stays (the call is an effect), the pure one goes.
func.func private @note(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "logger", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-LABEL: func.func @main(
// CHECK: scf.execute_region -> !workflow.text {
// CHECK-NEXT: "workflow.tool_call"
// CHECK: } {workflow.try}
// CHECK-NOT: scf.execute_region
// CHECK: return
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %kept = scf.execute_region -> !workflow.text {
    %n = "workflow.tool_call"(%q) {callee = @note} : (!workflow.text) -> !workflow.text
    scf.yield %n : !workflow.text
  ^bb1(%e: !workflow.text):
    scf.yield %e : !workflow.text
  } {workflow.try}
  %gone = scf.execute_region -> !workflow.text {
    %t = "workflow.trim"(%q) : (!workflow.text) -> !workflow.text
    scf.yield %t : !workflow.text
  ^bb1(%e: !workflow.text):
    scf.yield %e : !workflow.text
  } {workflow.try}
  return %q : !workflow.text
}
