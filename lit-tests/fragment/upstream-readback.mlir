// Scheduled fragment IR from `agentc build --emit=fragment` reads back, unchanged, into
// agent-opt (IRDL + agentc's verifier) and into upstream mlir-opt (IRDL only).
//
// RUN: %agentc build %examples/fanout.agent --emit=fragment --target h100 -o %t.fanout.mlir
// RUN: %agent-opt %t.fanout.mlir | FileCheck %s
// RUN: %mlir-opt --irdl-file=%irdl %t.fanout.mlir | FileCheck %s
// RUN: %mlir-opt --irdl-file=%irdl --mlir-print-op-generic %t.fanout.mlir | %agent-opt | FileCheck %s
// RUN: %agent-opt %t.fanout.mlir -o %t.fanout.again.mlir
// RUN: diff %t.fanout.mlir %t.fanout.again.mlir
// RUN: %mlir-opt --irdl-file=%irdl %t.fanout.mlir | %agent-opt -o %t.fanout.up.mlir
// RUN: diff %t.fanout.mlir %t.fanout.up.mlir
//
// CHECK-LABEL: func.func @main
// CHECK-SAME: fragment.target = "h100"
// CHECK: "fragment.tool"({{.*}}callee = @retrieve{{.*}}fragment.device = "cpu"
// CHECK: "fragment.encode"({{.*}}fragment.device =
// CHECK: func.call @cosine({{.*}}fragment.device = "{{[a-z0-9_]+}}"{{.*}}fragment.kind = "compute"
// CHECK: %[[KV:.*]] = "fragment.prefill"({{.*}}fragment.device = "h100_0"
// CHECK-NEXT: "fragment.decode"(%[[KV]], {{.*}}fragment.device = "h100_0"
//
// With a kv_transfer (the 70B Splitwise placement).
// RUN: %agentc build %S/Inputs/splitwise.agent --emit=fragment --target h100+a100 --objective cost -o %t.split.mlir
// RUN: %mlir-opt --irdl-file=%irdl %t.split.mlir | %agent-opt | FileCheck %s --check-prefix=SPLIT
// RUN: %mlir-opt --irdl-file=%irdl %t.split.mlir | %agent-opt -o %t.split.up.mlir
// RUN: diff %t.split.mlir %t.split.up.mlir
// SPLIT: %[[KV:.*]] = "fragment.prefill"({{.*}}fragment.device = "[[P:h100_[0-9]\+h100_[0-9]]]"
// SPLIT-NEXT: %[[X:.*]] = "fragment.kv_transfer"(%[[KV]]) {bytes = 85196800 : i64, {{.*}}from = "[[P]]", to = "[[D:a100_[0-9]\+a100_[0-9]]]"} : (!fragment.kv) -> !fragment.kv
// SPLIT-NEXT: "fragment.decode"(%[[X]], {{.*}}fragment.device = "[[D]]"
//
// Upstream's IRDL verification runs too: a kv_transfer without its `bytes`, or a prefill
// renamed to an encode (whose result must be a tensor, not a KV cache), is rejected.
// RUN: sed -e 's/{bytes = [0-9]* : i64, /{/' %t.split.mlir | not %mlir-opt --irdl-file=%irdl 2>&1 | FileCheck %s --check-prefix=NOBYTES
// NOBYTES: error: 'fragment.kv_transfer' op attribute "bytes" is expected but not provided
// RUN: sed -e 's/"fragment.prefill"/"fragment.encode"/' %t.split.mlir | not %mlir-opt --irdl-file=%irdl 2>&1 | FileCheck %s --check-prefix=NOTKV
// NOTKV: error: expected base type 'builtin.tensor' but got 'fragment.kv'
