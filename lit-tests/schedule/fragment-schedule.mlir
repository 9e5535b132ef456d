// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target h100+a100 --objective cost -o %t.cost.mlir
// RUN: FileCheck %s --check-prefix=COST < %t.cost.mlir
//
// Every fragment (host built-in, tool, prefill, decode) is placed and timed.
// RUN: grep -E '"fragment\.(prefill|decode|tool)"|fragment\.kind =' %t.cost.mlir | count 6
// RUN: grep -E '"fragment\.(prefill|decode|tool)"|fragment\.kind =' %t.cost.mlir | grep 'fragment.cost = ' | grep 'fragment.device = "' | grep 'fragment.finish = ' | grep 'fragment.start = ' | count 6
//
// Determinism: the same input schedules to the same text.
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target h100+a100 --objective cost -o %t.cost2.mlir
// RUN: diff %t.cost.mlir %t.cost2.mlir
//
// Stability: scheduling an already scheduled module again (its kv_transfers are dropped
// and placed anew) gives the same module.
// RUN: %agent-opt %t.cost.mlir --base-dir %S/Inputs --pass-pipeline=fragment-schedule --target h100+a100 --objective cost -o %t.again.mlir
// RUN: diff %t.cost.mlir %t.again.mlir
//
// Re-scheduling for latency keeps prefill and decode together: the old kv_transfers go.
// RUN: %agent-opt %t.cost.mlir --base-dir %S/Inputs --pass-pipeline=fragment-schedule --target h100+a100 --objective latency | FileCheck %s --check-prefix=LAT
// ... and gives what scheduling for latency from scratch gives.
// RUN: %agent-opt %t.cost.mlir --base-dir %S/Inputs --pass-pipeline=fragment-schedule --target h100+a100 --objective latency -o %t.lat1.mlir
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target h100+a100 --objective latency -o %t.lat2.mlir
// RUN: diff %t.lat1.mlir %t.lat2.mlir
//
// `agentc schedule` reads the scheduled IR too (no re-planning) and reports the moves: the
// generated story goes from the A100 pair to the H100 pair as text, 1024 tokens x 4 bytes,
// not as the 335 MB of KV cache its decode wrote (that stays on the A100s).
// RUN: %agentc schedule %t.cost.mlir --target h100+a100 --objective cost --json | FileCheck %s --check-prefix=MOVES
// MOVES-LABEL: "transfers": [
// MOVES:      "from_fragment": 2,
// MOVES-NEXT: "to_fragment": 3,
// MOVES:      "bytes": 84213760.0,
// MOVES:      "kv_transfer": true
// MOVES:      "from_fragment": 3,
// MOVES-NEXT: "to_fragment": 4,
// MOVES-NEXT: "from_device": "a100_{{[0-9]}}+a100_{{[0-9]}}",
// MOVES-NEXT: "to_device": "h100_{{[0-9]}}+h100_{{[0-9]}}",
// MOVES-NEXT: "bytes": 4096.0,
// MOVES:      "kv_transfer": false
// MOVES:      "bytes": 335872000.0,
// MOVES:      "kv_transfer": true

// Llama-3-70B (141 GB in bf16) needs two 80 GB GPUs: tensor-parallel pairs. The tool's
// output is 256 tokens, so the first prompt is 257 tokens long: compute-bound enough that
// an H100 pair prefills it cheapest (989 vs 312 bf16 TFLOP/s at $2.99 vs $1.79 an hour),
// while the A100 pair decodes cheapest (2.04 TB/s per $1.79 beats 3.35 TB/s per $2.99).
// Each prompt's KV cache moves between the nodes: 327680 bytes per token.
//
// COST-LABEL: func.func @main
// COST-SAME: fragment.makespan = {{[0-9.]+e[+-][0-9]+}} : f64, fragment.objective = "cost",{{.*}} fragment.sla_met = true,{{.*}} fragment.target = "h100+a100", fragment.total_cost = {{[0-9.]+e[+-][0-9]+}} : f64
// COST: %[[Q:.*]] = "workflow.join"({{.*}}fragment.device = "cpu"{{.*}}fragment.kind = "host"
// COST-NEXT: %[[DOC:.*]] = "fragment.tool"(%[[Q]]) {callee = @fetch, {{.*}}fragment.device = "cpu"
// COST: %[[KV1:.*]] = "fragment.prefill"(%[[DOC]]) {{{.*}}fragment.bytes_written = [[KVB1:84213760]] : i64, {{.*}}fragment.device = "[[P1:h100_[0-9]\+h100_[0-9]]]", fragment.finish = [[PF1:[^ ]+]] : f64, {{.*}}fragment.tokens = 257 : i64
// COST-NEXT: %[[X1:.*]] = "fragment.kv_transfer"(%[[KV1]]) {bytes = [[KVB1]] : i64, fragment.finish = [[XF1:[^ ]+]] : f64, fragment.start = [[PF1]] : f64, from = "[[P1]]", to = "[[D1:a100_[0-9]\+a100_[0-9]]]"} : (!fragment.kv) -> !fragment.kv
// COST-NEXT: %[[S:.*]] = "fragment.decode"(%[[X1]], %{{.*}}) {{{.*}}fragment.device = "[[D1]]", {{.*}}fragment.start = [[XF1]] : f64, fragment.tokens = 1024 : i64
// The second prompt is the 1024 generated tokens (+ BOS): 1025 x 327680 bytes.
// COST-NEXT: %[[KV2:.*]] = "fragment.prefill"(%[[S]]) {{{.*}}fragment.bytes_written = [[KVB2:335872000]] : i64, {{.*}}fragment.device = "[[P2:h100_[0-9]\+h100_[0-9]]]", fragment.finish = [[PF2:[^ ]+]] : f64, {{.*}}fragment.tokens = 1025 : i64
// COST-NEXT: %[[X2:.*]] = "fragment.kv_transfer"(%[[KV2]]) {bytes = [[KVB2]] : i64, fragment.finish = [[XF2:[^ ]+]] : f64, fragment.start = [[PF2]] : f64, from = "[[P2]]", to = "[[D2:a100_[0-9]\+a100_[0-9]]]"}
// COST-NEXT: %[[R:.*]] = "fragment.decode"(%[[X2]], %{{.*}}) {{{.*}}fragment.device = "[[D2]]", fragment.finish = [[END:[^ ]+]] : f64, {{.*}}fragment.start = [[XF2]] : f64, fragment.tokens = 64 : i64
// COST-NEXT: return %[[R]]
// COST-NOT: fragment.kv_transfer
//
// For latency, all four model fragments stay on one group of H100s: all eight (every
// tensor-parallel degree is offered, and the widest is fastest at both phases).
// LAT-LABEL: func.func @main
// LAT-SAME: fragment.objective = "latency",{{.*}} fragment.sla_met = true,{{.*}} fragment.target = "h100+a100"
// LAT-NOT: kv_transfer
// LAT: %[[KV1:.*]] = "fragment.prefill"({{.*}}fragment.device = "[[G:h100_0\+h100_1\+h100_2\+h100_3\+h100_4\+h100_5\+h100_6\+h100_7]]"
// LAT-NEXT: %[[S:.*]] = "fragment.decode"(%[[KV1]], {{.*}}fragment.device = "[[G]]"
// LAT-NEXT: %[[KV2:.*]] = "fragment.prefill"(%[[S]]) {{.*}}fragment.device = "[[G]]"
// LAT-NEXT: "fragment.decode"(%[[KV2]], {{.*}}fragment.device = "[[G]]"
// LAT-NOT: kv_transfer

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 8192 : i64, kind = "decoder", path = "models/llama-3-70b", sym_name = "big"} : () -> ()
func.func private @fetch(%q: !workflow.text) -> !workflow.text attributes {workflow.tool} {
  %argv = "workflow.list_literal"(%q) : (!workflow.text) -> !workflow.list<!workflow.text>
  %r = "workflow.exec"(%argv) {program = "cat", retries = 0 : i64, timeout_ms = 0 : i64} : (!workflow.list<!workflow.text>) -> !workflow.text
  return %r : !workflow.text
}
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %doc = "workflow.tool_call"(%q) {callee = @fetch} : (!workflow.text) -> !workflow.text
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %story = "workflow.generate"(%doc, %stop) {device = "", max_tokens = 1024 : i64, model = @big, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  %summary = "workflow.generate"(%story, %stop) {device = "", max_tokens = 64 : i64, model = @big, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %summary : !workflow.text
}
