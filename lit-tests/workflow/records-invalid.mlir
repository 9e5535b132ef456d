// RUN: %agent-opt %s --split-input-file --verify-diagnostics

// The verifier's rules for records (compiler/src/verify/records.rs).

func.func @fields_count(%t: !workflow.text) -> !workflow.record<"A"> {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  // expected-error @+1 {{2 `fields` for 1 operands}}
  %r = "workflow.record_new"(%a) {fields = ["x", "y"]} : (!workflow.field) -> !workflow.record<"A">
  return %r : !workflow.record<"A">
}

// -----

func.func @named_twice(%t: !workflow.text) -> !workflow.record<"A"> {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  // expected-error @+1 {{field `x` is named twice}}
  %r = "workflow.record_new"(%a, %a) {fields = ["x", "x"]} : (!workflow.field, !workflow.field) -> !workflow.record<"A">
  return %r : !workflow.record<"A">
}

// -----

func.func @disagree(%t: !workflow.text, %n: i64) -> !workflow.record<"A"> {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %b = "workflow.field_value"(%n) : (i64) -> !workflow.field
  %r = "workflow.record_new"(%a) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  // expected-error @+1 {{record `A` is built with fields (x: i64) here but (x: !workflow.text) elsewhere}}
  %s = "workflow.record_new"(%b) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  return %r : !workflow.record<"A">
}

// -----

func.func @wrong_field(%t: !workflow.text) -> !workflow.text {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %r = "workflow.record_new"(%a) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  // expected-error @+1 {{record `A` has no field `y` at index 0}}
  %g = "workflow.record_get"(%r) {field = "y", index = 0 : i64} : (!workflow.record<"A">) -> !workflow.text
  return %g : !workflow.text
}

// -----

func.func @wrong_field_type(%t: !workflow.text) -> i64 {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %r = "workflow.record_new"(%a) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  // expected-error @+1 {{field `x` of record `A` is !workflow.text, not i64}}
  %g = "workflow.record_get"(%r) {field = "x", index = 0 : i64} : (!workflow.record<"A">) -> i64
  return %g : i64
}

// -----

func.func @not_a_field_value(%f: !workflow.field) -> !workflow.record<"A"> {
  // expected-error @+1 {{operand 0 must be a workflow.field_value}}
  %r = "workflow.record_new"(%f) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  return %r : !workflow.record<"A">
}

// -----

func.func @parse_not_record(%t: !workflow.text) -> i64 {
  // expected-error @+1 {{the result must be a record, not i64}}
  %p = "workflow.json_parse"(%t) {schema = "{}"} : (!workflow.text) -> i64
  return %p : i64
}

// -----

func.func @parse_bad_schema(%t: !workflow.text) -> !workflow.record<"A"> {
  // expected-error @+1 {{`schema` must be a JSON object schema with `required` fields}}
  %p = "workflow.json_parse"(%t) {schema = "[1"} : (!workflow.text) -> !workflow.record<"A">
  return %p : !workflow.record<"A">
}

// -----

func.func @parse_other_fields(%t: !workflow.text) -> !workflow.record<"A"> {
  %a = "workflow.field_value"(%t) : (!workflow.text) -> !workflow.field
  %r = "workflow.record_new"(%a) {fields = ["x"]} : (!workflow.field) -> !workflow.record<"A">
  // expected-error @+1 {{`schema` requires (y) but record `A` has fields (x)}}
  %p = "workflow.json_parse"(%t) {schema = "{\"type\":\"object\",\"properties\":{\"y\":{\"type\":\"string\"}},\"required\":[\"y\"],\"additionalProperties\":false}"} : (!workflow.text) -> !workflow.record<"A">
  return %p : !workflow.record<"A">
}

// -----

// IRDL: record_new's operands are fields, a record_get reads a record.
func.func @raw_operand(%t: !workflow.text) -> !workflow.record<"A"> {
  // expected-error @+1 {{expected base type 'workflow.field' but got '!workflow.text'}}
  %r = "workflow.record_new"(%t) {fields = ["x"]} : (!workflow.text) -> !workflow.record<"A">
  return %r : !workflow.record<"A">
}
