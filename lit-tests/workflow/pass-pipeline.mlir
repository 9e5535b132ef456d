// RUN: %agent-opt %s --pass-pipeline=workflow-inline-agents,cse,workflow-canonicalize | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline='builtin.module(workflow-inline-agents,cse,workflow-canonicalize)' | FileCheck %s
// RUN: %agent-opt %s --pass-pipeline=workflow-inline-agents,cse --print-ir-after-all 2>&1 >/dev/null | FileCheck %s --check-prefix=DUMPS
// RUN: not %agent-opt %s --pass-pipeline=workflow-inline-agents,no-such-pass 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// A pipeline mixes agentc's passes with upstream ones: after inlining, upstream cse merges
// the duplicate arith constants (but leaves the IRDL ops alone: they declare no effects),
// then workflow-canonicalize folds to_text of a constant into a text constant.
func.func private @tag(%q: !workflow.text) -> !workflow.text attributes {workflow.agent} {
  %c2 = arith.constant 2 : i64
  %t = "workflow.to_text"(%c2) : (i64) -> !workflow.text
  %r = "workflow.concat"(%q, %t) : (!workflow.text, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}
// CHECK-NOT: @tag
// CHECK-LABEL: func.func @main(
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-NOT: arith.constant 0
// CHECK: %[[A:.*]] = "workflow.list_get"(%arg0, %[[ZERO]])
// CHECK: %[[B:.*]] = "workflow.list_get"(%arg0, %[[ZERO]])
// CHECK-NOT: workflow.to_text
// CHECK: %[[TWO:.*]] = "workflow.text_constant"() {value = "2"}
// CHECK: "workflow.concat"(%[[A]], %[[TWO]])
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %c0 = arith.constant 0 : i64
  %c0b = arith.constant 0 : i64
  %a = "workflow.list_get"(%args, %c0) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
  %b = "workflow.list_get"(%args, %c0b) : (!workflow.list<!workflow.text>, i64) -> !workflow.text
  %x = func.call @tag(%a) : (!workflow.text) -> !workflow.text
  %y = func.call @tag(%b) : (!workflow.text) -> !workflow.text
  %r = "workflow.concat"(%x, %y) : (!workflow.text, !workflow.text) -> !workflow.text
  return %r : !workflow.text
}

// DUMPS: // -----// IR Dump After workflow-inline-agents //----- //
// DUMPS: arith.constant 0 : i64
// DUMPS: arith.constant 0 : i64
// DUMPS: // -----// IR Dump After cse //----- //
// DUMPS: arith.constant 0 : i64
// DUMPS-NOT: arith.constant 0 : i64
// DUMPS: return

// UNKNOWN: error: bad pass pipeline `no-such-pass`
// UNKNOWN: 'no-such-pass' does not refer to a registered pass or pass pipeline
