// `--cpu` and `--gpu` are checked against the CPUs and architectures LLVM knows before any
// work: a usage error (exit 2), never LLVM's warning ("is not a recognized processor",
// generating for a generic CPU) or fatal error ("LLVM ERROR: PTX version 8.0 does not
// support target 'sm_100'").
// RUN: rm -rf %t && mkdir -p %t
// RUN: sh -c '%agentc build %S/Inputs/numerics.mlir --emit=asm --cpu bogus > %t/out 2> %t/cpu.err; test $? -eq 2'
// RUN: FileCheck %s --check-prefix=CPU --implicit-check-not=recognized < %t/cpu.err
// RUN: count 0 < %t/out
// RUN: sh -c '%agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_bogus > %t/out 2> %t/gpu.err; test $? -eq 2'
// RUN: FileCheck %s --check-prefix=GPU --implicit-check-not=recognized < %t/gpu.err
// RUN: count 0 < %t/out
// The checks come first, whatever the phase (here one that never generates code).
// RUN: sh -c '%agentc build %S/Inputs/numerics.mlir --emit=tensor --gpu sm_999 2> %t/early.err; test $? -eq 2'
// RUN: FileCheck %s --check-prefix=EARLY < %t/early.err
//
// Newer architectures get the PTX version they need (the b200 preset is sm_100); older
// ones keep PTX 8.0.
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_100 | FileCheck %s --check-prefix=SM100
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_120 | FileCheck %s --check-prefix=SM120
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=ptx --gpu sm_90a | FileCheck %s --check-prefix=SM90A
// A valid --cpu generates for that CPU (znver4 has AVX-512: zmm registers).
// RUN: %agentc build %S/Inputs/numerics.mlir --emit=asm --cpu znver4 | FileCheck %s --check-prefix=ZNVER4

// CPU: error: `--cpu bogus` is not an x86-64 CPU that LLVM knows: write e.g. `x86-64-v3`, `znver4` or `skylake-avx512` (`llc -mtriple=x86_64 -mcpu=help` lists all {{[0-9]+}})
// GPU: error: `--gpu sm_bogus` is not an NVIDIA architecture that LLVM's NVPTX back end knows: one of sm_20, sm_21, {{.*}}, sm_90, sm_90a, sm_100, {{.*}}sm_121f{{$}}
// EARLY: error: `--gpu sm_999` is not an NVIDIA architecture
// SM100: .version 8.6
// SM100: .target sm_100
// SM100: .entry
// SM120: .version 8.7
// SM120: .target sm_120
// SM90A: .version 8.0
// SM90A: .target sm_90a
// ZNVER4: zmm
