// RUN: %agentc check %examples/fanout.agent 2>&1 | count 0
// RUN: %agentc build %examples/fanout.agent | FileCheck %s

// fanout.agent: retrieval from four sources in parallel, parallel scoring, one sampled
// generate. len(sources) of the literal list folds to 4.

// CHECK: "workflow.model"() {architecture = "BertModel", {{.*}}hidden_size = 64 : i64, kind = "encoder", path = "models/tiny-bert", sym_name = "encoder"}
// CHECK: "workflow.model"() {architecture = "LlamaForCausalLM", {{.*}}sym_name = "writer"}
// CHECK-LABEL: func.func private @retrieve(
// CHECK-SAME: %[[SRC:.*]]: !workflow.text, %[[QUERY:.*]]: !workflow.text)
// CHECK: %[[ARGV:.*]] = "workflow.list_literal"(%{{.*}}, %{{.*}}, %[[SRC]])
// CHECK: "workflow.exec"(%[[ARGV]], %[[QUERY]]) {program = "python3", retries = 1 : i64, timeout_ms = 2000 : i64}
// CHECK-LABEL: func.func private @cosine(
// CHECK-SAME: attributes {workflow.fn}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: attributes {workflow.agent, workflow.objective = "latency"}
// CHECK: %[[SOURCES:.*]] = "workflow.list_literal"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!workflow.text, !workflow.text, !workflow.text, !workflow.text)
// CHECK: %[[FOUR:.*]] = arith.constant 4 : i64
// CHECK: %[[HITS:.*]] = scf.for %{{.*}} = %{{.*}} to %[[FOUR]] step
// CHECK:   "workflow.tool_call"(%{{.*}}, %{{.*}}) {callee = @retrieve}
// CHECK:   "workflow.trim"
// CHECK: } {workflow.expected_iterations = 4 : i64, workflow.parallel}
// CHECK: %[[Q:.*]] = "workflow.embed"({{.*}}) {device = "", model = @encoder} : (!workflow.text) -> tensor<64xf32>
// CHECK: %[[SCORES:.*]] = scf.for
// CHECK:   %[[E:.*]] = "workflow.embed"
// CHECK:   func.call @cosine(%[[Q]], %[[E]]) {workflow.device = "cpu"}
// CHECK: } {workflow.parallel}
// CHECK: %[[BEST:.*]] = "workflow.argmax"(%[[SCORES]])
// CHECK: "workflow.generate"({{.*}}max_tokens = 48 : i64, model = @writer, temperature = 0.69999999999999996 : f64}
// CHECK: "workflow.list_get"(%[[SOURCES]], %[[BEST]])
// CHECK: "workflow.text_constant"() {value = "4"}
