// What a plan cannot express is an error at the op's location naming the op.
// RUN: not %agentc build %s --emit=plan --pass-pipeline=workflow-canonicalize 2>&1 | FileCheck %s
// RUN: not %plan-check %S/Inputs/bad-version.json 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not %plan-check %S/Inputs/use-before-def.json 2>&1 | FileCheck %s --check-prefix=UNDEF
// A quantised weight's form must be the one of its ggml type: Q4_1 is `int4_g32h` (f16
// scales and mins); the f32 form `int4_g32` (Q4_K's) or an unknown name is refused.
// RUN: %agentc build %S/../e2e/tiny-gguf-quantized.agent --emit=plan -o %t.json
// RUN: sed 's/"quant": "int4_g32h"/"quant": "int4_g32"/' %t.json > %t.f32.json
// RUN: not %plan-check %t.f32.json 2>&1 | FileCheck %s --check-prefix=FORM
// RUN: sed 's/"quant": "int4_g32h"/"quant": "int4_g32x"/' %t.json > %t.unknown.json
// RUN: not %plan-check %t.unknown.json 2>&1 | FileCheck %s --check-prefix=UNKNOWN

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

// FORM: plan-check: {{.*}}: weight `model.layers.0.mlp.up_proj.weight` is read as int4_g32 from F32 stored as `Q4_1` ({{[0-9]+}} bytes, shape [256, 256]): not a quantised form of that type

// UNKNOWN: plan-check: {{.*}}: weight `model.layers.0.mlp.up_proj.weight` has an unknown quantised form `int4_g32x`
