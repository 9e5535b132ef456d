// agent-opt's --target, --objective and --sla (the options of agentc build/schedule).
// main says @objective(cost) and @sla(latency: 1ms) (workflow.objective, workflow.sla_ms).
//
// Without --target, fragment-schedule uses the `host` preset (its numbers depend on the
// machine, so only the names are checked here).
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule | FileCheck %s --check-prefix=HOST
// HOST-LABEL: func.func @main
// HOST-SAME: fragment.objective = "cost",{{.*}} fragment.target = "host"
// HOST: "workflow.join"{{.*}}fragment.device = "cpu"
// HOST: "fragment.prefill"{{.*}}fragment.device = "cpu"
// HOST: "fragment.decode"{{.*}}fragment.device = "cpu"
//
// main's objective and SLA apply unless overridden: 100 decode steps on an H100 take more
// than 1 ms (10 µs launch overhead each), so the SLA is missed.
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target h100 | FileCheck %s --check-prefix=H100
// H100-LABEL: func.func @main
// H100-SAME: fragment.makespan = [[MS:1\.[0-9]+e-03]] : f64, fragment.objective = "cost",{{.*}} fragment.sla = 1.000000e-03 : f64, fragment.sla_met = false,{{.*}} fragment.target = "h100"
// H100: "fragment.prefill"{{.*}}fragment.device = "h100_0"
// H100: "fragment.decode"{{.*}}fragment.device = "h100_0", fragment.finish = [[MS]] : f64
//
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target h100 --objective latency --sla 2s | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE-LABEL: func.func @main
// OVERRIDE-SAME: fragment.objective = "latency",{{.*}} fragment.sla = 2.000000e+00 : f64, fragment.sla_met = true,{{.*}} fragment.target = "h100"
//
// A target file works as well as a preset name.
// RUN: %agentc targets --show h100 > %t.h100.toml
// RUN: %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target %t.h100.toml | FileCheck %s --check-prefix=H100
//
// Bad option values: usage errors (exit 2); an unknown target: the pass fails (exit 1).
// RUN: not %agent-opt %s --objective fast 2>&1 | FileCheck %s --check-prefix=BADOBJ
// BADOBJ: error: invalid value 'fast' for '--objective <OBJECTIVE>'
// BADOBJ: [possible values: latency, cost]
// RUN: %agent-opt %s --objective fast 2>/dev/null; test $? -eq 2
// RUN: %agent-opt %s --sla 1xs 2>/dev/null; test $? -eq 2
// RUN: not %agent-opt %s --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment,fragment-schedule --target no-such-preset 2>&1 | FileCheck %s --check-prefix=BADTARGET
// BADTARGET: error: cannot use target `no-such-preset`: no target preset or file named `no-such-preset` (presets: host, {{.*}}gpu+cpu)

"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/tiny-llama", sym_name = "llm"} : () -> ()
func.func @main(%args: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent, workflow.objective = "cost", workflow.sla_ms = 1 : i64} {
  %sep = "workflow.text_constant"() {value = " "} : () -> !workflow.text
  %q = "workflow.join"(%args, %sep) : (!workflow.list<!workflow.text>, !workflow.text) -> !workflow.text
  %stop = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
  %a = "workflow.generate"(%q, %stop) {device = "", max_tokens = 100 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text
  return %a : !workflow.text
}
