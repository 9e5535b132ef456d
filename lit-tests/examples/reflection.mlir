// RUN: %agentc check %examples/reflection.agent 2>&1 | count 0
// RUN: %agentc build %examples/reflection.agent | FileCheck %s

// reflection.agent: draft, then at most four critique rounds (the sub-agent `critique`
// inlined into the loop), each a tool call and a greedy generate, revised by a sampled one.

// CHECK: "workflow.model"() {{{.*}}sym_name = "writer"}
// CHECK-LABEL: func.func private @lint(
// CHECK: "workflow.exec"({{.*}}) {program = "python3", retries = 0 : i64, timeout_ms = 1000 : i64}
// CHECK-NOT: @critique
// CHECK-LABEL: func.func @main(
// CHECK: %[[DRAFT:.*]] = "workflow.generate"({{.*}}max_tokens = 64 : i64, model = @writer, temperature = 0.000000e+00 : f64}
// CHECK: %[[LOOP:.*]]:4 = scf.while ({{.*}}, %{{.*}} = %[[DRAFT]], %{{.*}} = %{{.*}}) : (i64, i1, !workflow.text, i64)
// CHECK: } do {
// CHECK:   "workflow.tool_call"(%{{.*}}) {callee = @lint}
// CHECK:   "workflow.generate"({{.*}}max_tokens = 24 : i64
// `@unlikely { break }`: the rest of the body (the revision) is likely to run.
// CHECK:   scf.if %{{.*}} -> (i1, !workflow.text, i64) {
// CHECK:     "workflow.generate"({{.*}}max_tokens = 64 : i64, model = @writer, temperature = 2.000000e-01 : f64}
// CHECK:   } {workflow.likely = true}
// CHECK: } attributes {workflow.expected_iterations = 2 : i64, workflow.max_iterations = 4 : i64}
// CHECK: "workflow.to_text"(%[[LOOP]]#3)
