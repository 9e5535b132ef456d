# lit configuration for agentc's golden tests (LLVM 22's lit and FileCheck).
#
# Tests are .mlir and .agent files with `// RUN:` lines. Non-test inputs live in folders
# named Inputs/. Binaries come from AGENTC_BIN_DIR (default: target/debug of this
# checkout); LLVM tools from LLVM_BIN_DIR (default: /usr/lib/llvm-22/bin).

import os
import lit.formats

config.name = "agentc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".agent"]
config.excludes = ["Inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)

repo = os.path.dirname(config.test_source_root)
bin_dir = os.environ.get("AGENTC_BIN_DIR", os.path.join(repo, "target", "debug"))
llvm_bin = os.environ.get("LLVM_BIN_DIR", "/usr/lib/llvm-22/bin")

for tool in ("agentc", "agent-opt"):
    path = os.path.join(bin_dir, tool)
    if not os.path.exists(path):
        lit_config.fatal(f"{path} does not exist: build the workspace first (cargo build)")
# plan-check validates plans with the runtime's loader (tools/plan-check; no MLIR in it).
if not os.path.exists(os.path.join(bin_dir, "plan-check")):
    lit_config.fatal(f"{os.path.join(bin_dir, 'plan-check')} does not exist: build it first (cargo build -p plan-check)")

# One IRDL file holding every dialect, for upstream `mlir-opt --irdl-file` (it takes one).
irdl_dir = os.path.join(config.test_source_root, "Output")
os.makedirs(irdl_dir, exist_ok=True)
irdl_file = os.path.join(irdl_dir, "all.irdl.mlir")
with open(irdl_file, "w") as out:
    for dialect in ("workflow", "tgraph", "fragment", "kernel"):
        with open(os.path.join(repo, "dialects", dialect, dialect + ".irdl.mlir")) as f:
            out.write(f.read())
            out.write("\n")

config.substitutions.append(("%agentc", os.path.join(bin_dir, "agentc")))
config.substitutions.append(("%agent-opt", os.path.join(bin_dir, "agent-opt")))
config.substitutions.append(("%plan-check", os.path.join(bin_dir, "plan-check")))
config.substitutions.append(("%mlir-opt", os.path.join(llvm_bin, "mlir-opt")))
config.substitutions.append(("%irdl", irdl_file))
config.substitutions.append(("%examples", os.path.join(repo, "examples")))
# What a C harness links a kernel object with: the runtime library, whose
# async_runtime.rs runs the kernels' parallel loops (mlirAsyncRuntime*), and what it needs.
config.substitutions.append(("%runtime-libs", os.path.join(bin_dir, "libagentc_runtime.a") + " -lpthread -ldl -lm -lgcc_s -lutil -lrt"))

# FileCheck, not, count and split-file come from LLVM.
config.environment["PATH"] = os.pathsep.join([llvm_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.environment["NO_COLOR"] = "1"

# The host CPU's x86 features that tests running generated code need (`REQUIRES: x86-avx2`,
# `%if x86-avx512bw %{ ... %}`): read from /proc/cpuinfo, absent elsewhere.
try:
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
except OSError:
    flags = []
for flag in ("avx2", "avx512bw"):
    if flag in flags:
        config.available_features.add("x86-" + flag)
