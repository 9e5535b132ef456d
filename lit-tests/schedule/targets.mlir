// `agentc targets`: the 14 presets, each with its devices; `--show NAME` prints one as
// TOML (the preset's source, comments included) that loads back as the same target.
//
// RUN: %agentc targets | FileCheck %s
// CHECK:      {{^}}host           the machine running agentc
// CHECK-NEXT: {{^}}               devices: cpu{{$}}
// CHECK-NEXT: {{^}}cpu-server{{ }}
// CHECK-NEXT: {{^}}               devices: cpu{{$}}
// CHECK-NEXT: {{^}}h100{{ +}}one H100 SXM 80GB
// CHECK-NEXT: {{^}}               devices: cpu h100_0{{$}}
// CHECK-NEXT: {{^}}h200{{ }}
// CHECK-NEXT: devices: cpu h200_0{{$}}
// CHECK-NEXT: {{^}}b200{{ }}
// CHECK-NEXT: devices: cpu b200_0{{$}}
// CHECK-NEXT: {{^}}a100-80gb{{ }}
// CHECK-NEXT: devices: cpu a100_0{{$}}
// CHECK-NEXT: {{^}}l4{{ }}
// CHECK-NEXT: devices: cpu l4_0{{$}}
// CHECK-NEXT: {{^}}l40s{{ }}
// CHECK-NEXT: devices: cpu l40s_0{{$}}
// CHECK-NEXT: {{^}}gaudi3{{ }}
// CHECK-NEXT: devices: cpu gaudi3_0{{$}}
// CHECK-NEXT: {{^}}mi300x{{ }}
// CHECK-NEXT: devices: cpu mi300x_0{{$}}
// CHECK-NEXT: {{^}}h100x8{{ }}
// CHECK-NEXT: devices: cpu h100_0 h100_1 h100_2 h100_3 h100_4 h100_5 h100_6 h100_7{{$}}
// CHECK-NEXT: {{^}}h100+a100{{ +}}Splitwise-like
// CHECK-NEXT: devices: cpu h100_0 h100_1 h100_2 h100_3 h100_4 h100_5 h100_6 h100_7 cpu_b a100_0 a100_1 a100_2 a100_3 a100_4 a100_5 a100_6 a100_7{{$}}
// CHECK-NEXT: {{^}}b200+gaudi3{{ }}
// CHECK-NEXT: devices: cpu b200_0 b200_1 b200_2 b200_3 b200_4 b200_5 b200_6 b200_7 cpu_b gaudi3_0 gaudi3_1 gaudi3_2 gaudi3_3 gaudi3_4 gaudi3_5 gaudi3_6 gaudi3_7{{$}}
// CHECK-NEXT: {{^}}gpu+cpu{{ }}
// CHECK-NEXT: devices: cpu l40s_0 l40s_1{{$}}
// CHECK-EMPTY:
// CHECK-NOT: {{.}}
//
// --show prints the preset's TOML with the comments that source its numbers.
// RUN: %agentc targets --show h100 > %t.h100.toml
// RUN: FileCheck %s --check-prefix=SHOW < %t.h100.toml
// SHOW: # One H100 SXM with a slice of its host.
// SHOW-NEXT: name = "h100"
// SHOW: {{\[\[device\]\]}}
// SHOW-NEXT: name = "cpu"
// SHOW: {{\[\[device\]\]}}
// SHOW-NEXT: name = "h100"
// SHOW: # datasheet: 3.35 TB/s HBM3
// SHOW-NEXT: mem_bandwidth = 3.35e12
// SHOW: # Lambda on-demand, {{.*}}
// SHOW-NEXT: price_per_hour = 2.99
// SHOW: {{\[\[link\]\]}}
//
// ... and it loads back as the same target: scheduling with the file or the name agree.
// RUN: %agentc schedule %examples/router.agent --target %t.h100.toml --json > %t.file.json
// RUN: %agentc schedule %examples/router.agent --target h100 --json > %t.name.json
// RUN: diff %t.file.json %t.name.json
// RUN: FileCheck %s --check-prefix=USED < %t.file.json
// USED: "placements": [
// USED: "device": "cpu"
//
// So does every other preset.
// RUN: rm -rf %t.dir && mkdir %t.dir
// RUN: for p in $(%agentc targets | grep -v '^ ' | awk '{print $1}'); do %agentc targets --show $p > %t.dir/$p.toml && %agentc schedule %examples/fanout.agent --target %t.dir/$p.toml --json > %t.dir/$p.file.json && %agentc schedule %examples/fanout.agent --target $p --json > %t.dir/$p.name.json && diff %t.dir/$p.file.json %t.dir/$p.name.json && echo "round-trip $p"; done | count 14
//
// An unknown name is a usage error that lists the presets.
// RUN: not %agentc targets --show nope 2>&1 | FileCheck %s --check-prefix=NOPE
// NOPE: error: no preset named `nope`; the presets are: host, cpu-server, h100, h200, b200, a100-80gb, l4, l40s, gaudi3, mi300x, h100x8, h100+a100, b200+gaudi3, gpu+cpu
// RUN: %agentc targets --show nope 2>/dev/null; test $? -eq 2
