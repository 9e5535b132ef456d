// What a plan cannot express is an error at the op's location naming the op.
// RUN: not %agentc build %s --emit=plan --pass-pipeline=workflow-canonicalize 2>&1 | FileCheck %s
// RUN: not %plan-check %S/Inputs/bad-version.json 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not %plan-check %S/Inputs/use-before-def.json 2>&1 | FileCheck %s --check-prefix=UNDEF

module {
  "workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "m", sym_name = "llm"} : () -> ()
  func.func @main(%arg0: !workflow.list<!workflow.text>) -> !workflow.text attributes {workflow.agent} {
    %0 = "workflow.text_constant"() {value = "hi"} : () -> !workflow.text
    %1 = "workflow.list_literal"() : () -> !workflow.list<!workflow.text>
    %2 = "workflow.generate"(%0, %1) {device = "", max_tokens = 4 : i64, model = @llm, temperature = 0.0 : f64} : (!workflow.text, !workflow.list<!workflow.text>) -> !workflow.text loc("t.agent":3:7)
    return %2 : !workflow.text
  }
}

// CHECK: t.agent:3:7: error: `workflow.generate` cannot be expressed in a plan: plan it into fragments first (convert-workflow-to-fragment)

// VERSION: plan-check: {{.*}}bad-version.json: plan format version 99 is not supported: this runtime reads version 3

// UNDEF: plan-check: {{.*}}use-before-def.json: t.agent:2:3: function `main`, op 0 (`trim`): operand %7 is used before it is defined
