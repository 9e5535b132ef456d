// RUN: %agent-opt %s --split-input-file --verify-diagnostics --base-dir %S/Inputs --pass-pipeline=convert-workflow-to-fragment

// expected-error @+1 {{cannot plan model `gone`: cannot read}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "", hidden_size = 64 : i64, kind = "decoder", path = "models/not-there", sym_name = "gone"} : () -> ()

// -----

// expected-error @+1 {{cannot plan model `odd`: unknown weight dtype `int3`}}
"workflow.model"() {architecture = "LlamaForCausalLM", dtype = "int3", hidden_size = 8192 : i64, kind = "decoder", path = "models/llama-3-70b", sym_name = "odd"} : () -> ()
