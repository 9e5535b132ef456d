// RUN: sed 's/^define linkonce_odr /define /' %S/../../compiler/src/codegen/device_math.ll > %t.ll
// RUN: clang -O1 -Wno-override-module -c %t.ll -o %t.o
// RUN: clang -O1 -w %S/Inputs/device-math.c %t.o -lm -o %t.exe
// RUN: %t.exe | FileCheck %s

// The accuracy of agentc's device math library (compiler/src/codegen/device_math.ll, the
// definitions linked into PTX in place of CUDA's libdevice), measured on the CPU: the same
// IR compiled for x86-64 against libm in double precision over 200000 samples each.
// Functions over LLVM intrinsics only (sin, cos, pow, erf, the f64 exp; rsqrt over
// llvm.sqrt) are the same arithmetic on both targets. Those over llvm.exp2.f32 /
// llvm.log2.f32 (expf, logf, tanhf) use PTX's ex2.approx/lg2.approx on the GPU and libm's
// exp2f/log2f here, so their figures here are not the GPU's (tools/gpu-check measures
// those kernels on a GPU).
// CHECK: sinf     max rel err {{.*}} ok
// CHECK: cosf     max rel err {{.*}} ok
// CHECK: powf     max rel err {{.*}} ok
// CHECK: erff     max rel err {{.*}} (bound 1e-06) ok
// CHECK: rsqrtf   max rel err {{.*}} ok
// CHECK: exp      max rel err {{.*}} ok
// CHECK: special values ok
// CHECK: all ok
