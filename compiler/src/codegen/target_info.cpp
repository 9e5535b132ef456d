// What LLVM's targets know about their CPUs, for validating `--cpu` and `--gpu` before a
// target machine is made from them (LLVM's C API has no way to ask; an unknown CPU is only
// a warning printed by LLVM, and an impossible PTX version a fatal error).
//
// Built by compiler/build.rs with `llvm-config --cxxflags`; linked with the static LLVM 22
// libraries that inkwell and mlir-sys link. The targets must be initialised (inkwell's
// Target::initialize_x86 / initialize_nvptx) before these are called.

#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/TargetParser/Triple.h"

#include <cstring>
#include <memory>
#include <string>

namespace {

std::unique_ptr<llvm::MCSubtargetInfo> subtarget(const char *triple, const char *cpu) {
  llvm::Triple parsed(triple);
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(parsed, error);
  if (target == nullptr) {
    return nullptr;
  }
  return std::unique_ptr<llvm::MCSubtargetInfo>(target->createMCSubtargetInfo(parsed, cpu, ""));
}

} // namespace

extern "C" {

// 1 when `cpu` is a processor the target of `triple` knows, 0 when not, -1 when the target
// is not registered.
int agentc_cpu_is_valid(const char *triple, const char *cpu) {
  std::unique_ptr<llvm::MCSubtargetInfo> info = subtarget(triple, "");
  if (!info) {
    return -1;
  }
  return info->isCPUStringValid(cpu) ? 1 : 0;
}

// Calls `each(name, data)` with every processor name of the target of `triple`, in LLVM's
// (sorted) order; -1 when the target is not registered.
int agentc_cpu_names(const char *triple, void (*each)(const char *name, void *data), void *data) {
  std::unique_ptr<llvm::MCSubtargetInfo> info = subtarget(triple, "");
  if (!info) {
    return -1;
  }
  for (const llvm::SubtargetSubTypeKV &kv : info->getAllProcessorDescriptions()) {
    each(kv.Key, data);
  }
  return 0;
}

// 1 when processor `cpu` of the target of `triple` has `feature` (LLVM's name without the
// `+`, e.g. `avx512vnni`), 0 when not, -1 when the target is not registered.
int agentc_cpu_has_feature(const char *triple, const char *cpu, const char *feature) {
  std::unique_ptr<llvm::MCSubtargetInfo> info = subtarget(triple, cpu);
  if (!info) {
    return -1;
  }
  return info->checkFeatures(std::string("+") + feature) ? 1 : 0;
}

} // extern "C"
