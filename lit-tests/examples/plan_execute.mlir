// RUN: %agentc check %examples/plan_execute.agent 2>&1 | count 0
// RUN: %agentc build %examples/plan_execute.agent | FileCheck %s

// plan_execute.agent: a CPU-pinned planner, a parallel map over the plan's steps (the
// sub-agent `execute` inlined), logging through an HTTP post, a final answer.

// CHECK: "workflow.model"() {{{.*}}sym_name = "planner"}
// CHECK-LABEL: func.func private @lookup(
// CHECK: %[[URL:.*]] = "workflow.url_template"(%arg0) {names = ["term"], template = "http://127.0.0.1:8080/lookup?term={term}"}
// CHECK: "workflow.http"(%[[URL]]) {method = "get", retries = 2 : i64, timeout_ms = 2000 : i64}
// CHECK-LABEL: func.func private @note(
// CHECK: %[[URL:.*]] = "workflow.url_template"() {names = [], template = "http://127.0.0.1:8080/notes"}
// CHECK: "workflow.http"(%[[URL]], %arg0) {method = "post", retries = 0 : i64, timeout_ms = 500 : i64}
// CHECK-LABEL: func.func private @run_step(
// CHECK: "workflow.exec"({{.*}}) {program = "python3", retries = 1 : i64, timeout_ms = 60000 : i64}
// CHECK-NOT: @execute
// CHECK-LABEL: func.func @main(
// CHECK-SAME: attributes {workflow.agent, workflow.objective = "cost", workflow.sla_ms = 10000 : i64}
// CHECK: %[[PLAN:.*]] = "workflow.generate"({{.*}}) {device = "cpu", max_tokens = 48 : i64, model = @planner, temperature = 0.000000e+00 : f64}
// CHECK: %[[STEPS:.*]] = scf.if %{{.*}} -> (!workflow.list<!workflow.text>) {
// CHECK: } else {
// CHECK:   "workflow.lines"
// CHECK: }
// CHECK: %[[RESULTS:.*]] = scf.for {{.*}} -> (!workflow.list<!workflow.text>) : i64 {
// CHECK:   "workflow.list_get"(%[[STEPS]],
// CHECK:   "workflow.tool_call"(%{{.*}}) {callee = @lookup}
// CHECK:   "workflow.tool_call"(%{{.*}}) {callee = @run_step}
// The note's result is unused, but a tool call is an effect: it stays.
// CHECK:   "workflow.tool_call"(%{{.*}}) {callee = @note}
// CHECK:   "workflow.format"
// CHECK: } {workflow.expected_iterations = 3 : i64, workflow.parallel}
// CHECK: "workflow.join"(%[[RESULTS]],
// CHECK: "workflow.generate"({{.*}}max_tokens = 96 : i64
