// RUN: %agentc check %examples/research.agent 2>&1 | count 0
// RUN: %agentc build %examples/research.agent | FileCheck %s

// research.agent: plan, search in parallel, score with the real MiniLM encoder (384 wide),
// answer, then a bounded reflection loop. The sub-agent `answer` is inlined into main.

// CHECK: "workflow.model"() {architecture = "LlamaForCausalLM", {{.*}}kind = "decoder", path = "models/tiny-llama", sym_name = "planner"}
// CHECK: "workflow.model"() {architecture = "BertModel", {{.*}}hidden_size = 384 : i64, kind = "encoder", path = "models/minilm", sym_name = "embedder"}
// CHECK-LABEL: func.func private @search(
// CHECK-SAME: attributes {workflow.tool}
// CHECK: "workflow.exec"(%{{.*}}, %arg0) {backoff_ms = 200 : i64, program = "python3", retries = 2 : i64, timeout_ms = 0 : i64}
// `fetch` is declared but never called: removed.
// CHECK-NOT: @fetch
// CHECK-LABEL: func.func private @cosine(
// CHECK-SAME: tensor<384xf32>, %{{.*}}: tensor<384xf32>) -> f32 attributes {workflow.fn}
// CHECK: "tgraph.reduce_sum"
// CHECK: "tgraph.norm"
// CHECK: tensor.extract
// CHECK-NOT: @answer
// CHECK-LABEL: func.func @main(
// `answer`'s @sla(latency: 3s) stays on its inlined work.
// CHECK: %[[PLAN:.*]] = "workflow.generate"({{.*}}) {device = "", max_tokens = 48 : i64, model = @planner, temperature = 0.000000e+00 : f64, workflow.sla_ms = 3000 : i64}
// CHECK: %[[QUERIES:.*]] = "workflow.lines"(%[[PLAN]])
// The parallel fan-out over the plan's lines, each search in a try ...
// CHECK: %[[HITS:.*]] = scf.for {{.*}} -> (!workflow.list<!workflow.text>) : i64 {
// CHECK:   "workflow.list_get"(%[[QUERIES]],
// CHECK:   scf.execute_region -> !workflow.text {
// CHECK:   "workflow.tool_call"(%{{.*}}) {callee = @search, workflow.sla_ms = 3000 : i64}
// CHECK:   ^bb1(%{{.*}}: !workflow.text):
// CHECK:   } {workflow.try}
// CHECK: } {workflow.parallel}
// CHECK: %[[Q:.*]] = "workflow.embed"(%{{.*}}) {device = "", model = @embedder, workflow.sla_ms = 3000 : i64} : (!workflow.text) -> tensor<384xf32>
// ... and the parallel scoring of the hits.
// CHECK: %[[SCORES:.*]] = scf.for {{.*}} -> (!workflow.list<f64>) : i64 {
// CHECK:   %[[E:.*]] = "workflow.embed"({{.*}}model = @embedder
// CHECK:   %[[S:.*]] = func.call @cosine(%[[Q]], %[[E]])
// CHECK:   arith.extf %[[S]] : f32 to f64
// CHECK: } {workflow.parallel}
// CHECK: %[[BEST:.*]] = "workflow.argmax"(%[[SCORES]])
// CHECK: "workflow.list_get"(%[[HITS]], %[[BEST]])
// CHECK: %[[DRAFT:.*]] = "workflow.generate"({{.*}}max_tokens = 96 : i64
// The reflection loop carries the draft; its break `if` is folded into the loop's flag.
// CHECK: %[[LOOP:.*]]:3 = scf.while ({{.*}}, %{{.*}} = %[[DRAFT]]) : (i64, i1, !workflow.text)
// CHECK: "workflow.generate"({{.*}}max_tokens = 4 : i64
// CHECK: "workflow.starts_with"
// CHECK: } attributes {workflow.max_iterations = 3 : i64}
// CHECK: return %[[LOOP]]#2
