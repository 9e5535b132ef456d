// RUN: %agentc check %examples/router.agent 2>&1 | count 0
// RUN: %agentc build %examples/router.agent | FileCheck %s

// router.agent: a classifier, then early-return edges to one of three inlined sub-agents.

// CHECK: "workflow.model"() {{{.*}}sym_name = "llm"}
// CHECK-LABEL: func.func private @calc(
// CHECK: "workflow.exec"({{.*}}) {program = "python3", retries = 0 : i64, timeout_ms = 2000 : i64}
// CHECK-LABEL: func.func private @weather(
// CHECK: %[[URL:.*]] = "workflow.url_template"(%arg0) {names = ["city"], template = "http://127.0.0.1:8080/weather?city={city}"}
// CHECK: "workflow.http"(%[[URL]]) {method = "get", retries = 1 : i64, timeout_ms = 500 : i64}
// CHECK-NOT: func.func private @
// CHECK-LABEL: func.func @main(
// CHECK-SAME: attributes {workflow.agent, workflow.sla_ms = 2000 : i64}
// The classifier's label (a 4-token greedy generate) ...
// CHECK: "workflow.generate"({{.*}}max_tokens = 4 : i64, model = @llm
// ... `||` short-circuits ...
// CHECK: %[[MATHY:.*]] = scf.if %{{.*}} -> (i1) {
// CHECK: %[[ROUTE:.*]] = scf.if %[[MATHY]] -> (!workflow.text) {
// ... and the edges as early returns: chat (likely) returns; otherwise (the guard, weighted
// unlikely) math returns; otherwise weather. The result local is what main returns.
// CHECK: %[[IS_CHAT:.*]] = "workflow.text_eq"(%[[ROUTE]], %{{.*}})
// CHECK: %[[CHAT:.*]]:3 = scf.if %[[IS_CHAT]] -> (i1, i1, !workflow.text) {
// CHECK:   %[[PROMPT:.*]] = "workflow.chat_prompt"(%{{.*}}) {bos_token = "<s>", eos_token = "</s>", model = @llm, template = "{{.*}}"}
// CHECK:   "workflow.generate"(%[[PROMPT]], %{{.*}}) {chat, device = "", max_tokens = 64 : i64
// CHECK: } {workflow.likely = true}
// CHECK: %[[NOT_CHAT:.*]] = arith.xori %[[IS_CHAT]], %{{.*}} : i1
// CHECK: %[[R:.*]]:3 = scf.if %[[NOT_CHAT]] -> (i1, i1, !workflow.text) {
// CHECK:   scf.if
// CHECK:     "workflow.tool_call"(%{{.*}}) {callee = @calc}
// CHECK:   scf.if
// CHECK:     "workflow.tool_call"(%{{.*}}) {callee = @weather}
// CHECK: } else {
// CHECK:   scf.yield %{{.*}}, %[[IS_CHAT]], %[[CHAT]]#2 : i1, i1, !workflow.text
// CHECK: } {workflow.likely = false}
// CHECK: return %[[R]]#2
