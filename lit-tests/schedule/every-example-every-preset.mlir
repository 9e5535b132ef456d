// `agentc schedule` works on every example for every preset, or says clearly why it
// cannot (exit 1, `error: cannot schedule on target ...`); never a panic or another exit.
// Llama-3-70B (141 GB) is added: it fits nowhere on the one-GPU presets, so the error path
// runs too.
//
// RUN: %agentc targets | grep -v '^ ' | awk '{print $1}' | count 14
// RUN: bash %S/Inputs/every-example-every-preset.sh %agentc %t %examples/*.agent %S/llama70b-h100-a100.agent > %t.log
// RUN: grep -c '^ok ' %t.log | FileCheck %s --check-prefix=ALL
// RUN: not grep FAIL %t.log
// 14 presets x (7 examples + the 70B file):
// ALL: {{^}}112{{$}}
//
// Every example schedules on every preset (exit 0) ...
// RUN: grep -v llama70b %t.log | grep -c '^ok .* exit 0$' | FileCheck %s --check-prefix=EXAMPLES
// EXAMPLES: {{^}}98{{$}}
// ... and the 70B model fails with a clear error where no device (not even the host CPU)
// holds it even at int4 (40 GB), and runs where a GPU pair, a big GPU or a big CPU
// does, or a 48 GB L40S at int4.
// RUN: FileCheck %s --check-prefix=BIG < %t.log
// BIG-DAG: ok l4 llama70b-h100-a100.agent exit 1
// BIG-DAG: ok l40s llama70b-h100-a100.agent exit 0
// BIG-DAG: ok mi300x llama70b-h100-a100.agent exit 0
// BIG-DAG: ok h100x8 llama70b-h100-a100.agent exit 0
// BIG-DAG: ok h100+a100 llama70b-h100-a100.agent exit 0
