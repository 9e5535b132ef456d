// RUN: %agent-opt %s --split-input-file --pass-pipeline=workflow-canonicalize | FileCheck %s

// Literal text built-ins fold with the runtime's own semantics.
// CHECK-LABEL: func.func @text_folds
func.func @text_folds() -> !workflow.text {
  // CHECK-NEXT: %[[T:.*]] = "workflow.text_constant"() {value = "a | b"}
  // CHECK-NEXT: return %[[T]]
  %0 = "workflow.text_constant"() {value = "a\n\nb\n"} : () -> !workflow.text
  %1 = "workflow.lines"(%0) : (!workflow.text) -> !workflow.list<!workflow.text>
  %2 = "workflow.text_constant"() {value = " | "} : () -> !workflow.text
  %3 = "workflow.join"(%1, %2) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  return %3 : !workflow.text
}

// -----

// Arithmetic folds; an int division by zero is left for the run-time error.
// CHECK-LABEL: func.func @arith_folds
func.func @arith_folds() -> (i64, i64) {
  // CHECK-DAG: %[[SEVEN:.*]] = arith.constant 7 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: %[[DIV:.*]] = "workflow.div"(%[[SEVEN]], %[[ZERO]])
  // CHECK: return %[[SEVEN]], %[[DIV]]
  %c3 = arith.constant 3 : i64
  %c4 = arith.constant 4 : i64
  %c0 = arith.constant 0 : i64
  %0 = arith.addi %c3, %c4 : i64
  %1 = "workflow.div"(%0, %c0) : (i64, i64) -> i64
  return %0, %1 : i64, i64
}

// -----

// format, to_text and len fold when every operand is known.
// CHECK-LABEL: func.func @format_folds
func.func @format_folds() -> (!workflow.text, i64) {
  // CHECK-DAG: "workflow.text_constant"() {value = "3 of 2.5"}
  // CHECK-DAG: arith.constant 8 : i64
  // CHECK-NOT: workflow.format
  %c3 = arith.constant 3 : i64
  %f = arith.constant 2.5 : f64
  %t = "workflow.text_constant"() {value = "{} of {}"} : () -> !workflow.text
  %a = "workflow.to_text"(%c3) : (i64) -> !workflow.text
  %b = "workflow.to_text"(%f) : (f64) -> !workflow.text
  %r = "workflow.format"(%t, %a, %b) : (!workflow.text, !workflow.text, !workflow.text) -> !workflow.text
  %n = "workflow.text_len"(%t) : (!workflow.text) -> i64
  return %r, %n : !workflow.text, i64
}

// -----

// An if on a constant condition becomes the taken branch.
// CHECK-LABEL: func.func @if_folds
func.func @if_folds(%x: !workflow.text) -> !workflow.text {
  // CHECK-NOT: scf.if
  // CHECK: %[[C:.*]] = "workflow.concat"(%arg0, %arg0)
  // CHECK-NEXT: return %[[C]]
  %0 = "workflow.text_constant"() {value = "yes sir"} : () -> !workflow.text
  %1 = "workflow.text_constant"() {value = "yes"} : () -> !workflow.text
  %2 = "workflow.starts_with"(%0, %1) : (!workflow.text, !workflow.text) -> i1
  %3 = scf.if %2 -> (!workflow.text) {
    %4 = "workflow.concat"(%x, %x) : (!workflow.text, !workflow.text) -> !workflow.text
    scf.yield %4 : !workflow.text
  } else {
    scf.yield %x : !workflow.text
  }
  return %3 : !workflow.text
}

// -----

// Dead lets go; effects (tool calls, sampled generate) and run-time failures stay.
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
func.func private @tool(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %args = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%args, %q) {program = "cat", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-LABEL: func.func @dead_lets
func.func @dead_lets(%x: !workflow.text, %l: !workflow.list<!workflow.text>) -> !workflow.text {
  // CHECK-NOT: workflow.concat
  // CHECK: workflow.tool_call
  // CHECK: workflow.generate
  // CHECK: workflow.list_get
  // CHECK: return %arg0
  %0 = "workflow.concat"(%x, %x) : (!workflow.text, !workflow.text) -> !workflow.text
  %1 = "workflow.tool_call"(%x) {callee = @tool} : (!workflow.text) -> !workflow.text
  %2 = "workflow.generate"(%x, %l) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 0.7 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %c9 = arith.constant 9 : i64
  %3 = "workflow.list_get"(%l, %c9) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
  return %x : !workflow.text
}

// -----

// A field of a record built in sight is the field's value; the record, unused, goes; a
// json_parse stays (it can fail), its field read stays.
// CHECK-LABEL: func.func @record_fields
func.func @record_fields(%t: !workflow.text, %n: i64) -> (i64, !workflow.text) {
  // CHECK-NOT: workflow.record_new
  // CHECK-NOT: workflow.field_value
  // CHECK: %[[P:.*]] = "workflow.json_parse"(%arg0)
  // CHECK: %[[C:.*]] = "workflow.record_get"(%[[P]]) {field = "city", index = 0 : i64}
  // CHECK: return %arg1, %[[C]] : i64, !workflow.text
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %b = "workflow.field_value"(%n) : (i64) -> !workflow.field
  %r = "workflow.record_new"(%a, %b) {fields = ["city", "score"]} : (!workflow.field, !workflow.field) -> !workflow.record<"A">
  %g = "workflow.record_get"(%r) {field = "score", index = 1 : i64} : (!workflow.record<"A">) -> i64
  %p = "workflow.json_parse"(%t) {schema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"score\":{\"type\":\"integer\"}},\"required\":[\"city\",\"score\"],\"additionalProperties\":false}"} : (!workflow.text) -> !workflow.record<"A">
  %c = "workflow.record_get"(%p) {field = "city", index = 0 : i64} : (!workflow.record<"A">) -> !workflow.text
  return %g, %c : i64, !workflow.text
}
