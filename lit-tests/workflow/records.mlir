// RUN: %agent-opt %s | %agent-opt | FileCheck %s

// Round trip of the record type and ops (lit-tests/workflow/records-invalid.mlir holds the
// verifier's rules).

// CHECK-LABEL: func.func @records(
// CHECK-SAME: %[[T:.*]]: !workflow.text, %[[N:.*]]: i64)
// CHECK: %[[A:.*]] = "workflow.field_value"(%[[T]]) : (!workflow.text) -> !workflow.field
// CHECK: %[[B:.*]] = "workflow.field_value"(%[[N]]) : (i64) -> !workflow.field
// CHECK: %[[R:.*]] = "workflow.record_new"(%[[A]], %[[B]]) {fields = ["city", "score"]} : (!workflow.field, !workflow.field) -> !workflow.record<"Answer">
// CHECK: %[[G:.*]] = "workflow.record_get"(%[[R]]) {field = "score", index = 1 : i64} : (!workflow.record<"Answer">) -> i64
// CHECK: %[[J:.*]] = "workflow.to_json"(%[[R]]) : (!workflow.record<"Answer">) -> !workflow.text
// CHECK: %[[P:.*]] = "workflow.json_parse"(%[[J]]) {schema = "{\22type\22:\22object\22,\22properties\22:{\22city\22:{\22type\22:\22string\22},\22score\22:{\22type\22:\22integer\22}},\22required\22:[\22city\22,\22score\22],\22additionalProperties\22:false}"} : (!workflow.text) -> !workflow.record<"Answer">
func.func @records(%t: !workflow.text, %n: i64) -> (i64, !workflow.record<"Answer">) {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %b = "workflow.field_value"(%n) : (i64) -> !workflow.field
  %r = "workflow.record_new"(%a, %b) {fields = ["city", "score"]} : (!workflow.field, !workflow.field) -> !workflow.record<"Answer">
  %g = "workflow.record_get"(%r) {field = "score", index = 1 : i64} : (!workflow.record<"Answer">) -> i64
  %j = "workflow.to_json"(%r) : (!workflow.record<"Answer">) -> !workflow.text
  %p = "workflow.json_parse"(%j) {schema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"score\":{\"type\":\"integer\"}},\"required\":[\"city\",\"score\"],\"additionalProperties\":false}"} : (!workflow.text) -> !workflow.record<"Answer">
  return %g, %p : i64, !workflow.record<"Answer">
}
