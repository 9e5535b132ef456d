// RUN: %agentc check %examples/supervisor.agent 2>&1 | count 0
// RUN: %agentc build %examples/supervisor.agent | FileCheck %s

// supervisor.agent: a boss model picks a worker each round (three inlined sub-agents),
// the best report is kept across rounds in loop-carried values.

// CHECK: "workflow.model"() {{{.*}}sym_name = "boss"}
// CHECK-LABEL: func.func private @search(
// CHECK: "workflow.exec"({{.*}}) {program = "python3", retries = 2 : i64, timeout_ms = 2000 : i64}
// CHECK-LABEL: func.func private @stats(
// CHECK: "workflow.exec"({{.*}}) {program = "python3", retries = 0 : i64, timeout_ms = 60000 : i64}
// CHECK-NOT: func.func private @
// CHECK-LABEL: func.func @main(
// min(200, 40 * len(words)).
// CHECK: arith.muli
// CHECK: arith.minsi
// CHECK: %[[NEG:.*]] = arith.constant -1.000000e+06 : f64
// Carried: best (text), best_score (f64), history (text).
// CHECK: %[[LOOP:.*]]:5 = scf.while ({{.*}}, %{{.*}} = %[[NEG]], {{.*}}) : (i64, i1, !workflow.text, f64, !workflow.text)
// CHECK: } do {
// CHECK:   "workflow.generate"({{.*}}max_tokens = 3 : i64, model = @boss
// CHECK:   "workflow.starts_with"
// The three workers, chosen by an else-if chain.
// CHECK:     "workflow.tool_call"(%{{.*}}) {callee = @stats, workflow.sla_ms = 5000 : i64}
// CHECK:     "workflow.parse_int"
// CHECK:     "workflow.parse_float"
// CHECK:     "workflow.generate"({{.*}}max_tokens = 80 : i64
// CHECK:     "workflow.tool_call"(%{{.*}}) {callee = @search, workflow.sla_ms = 5000 : i64}
// CHECK:     "workflow.lines"
// The fit score and the running maximum.
// CHECK:     math.absi
// CHECK:     arith.cmpf ogt
// CHECK:     arith.maximumf
// CHECK: } attributes {workflow.expected_iterations = 2 : i64, workflow.max_iterations = 3 : i64}
// CHECK: "workflow.text_eq"(%[[LOOP]]#2,
