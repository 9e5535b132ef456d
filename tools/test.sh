#!/usr/bin/env bash
# Sets up (tools/setup.sh), builds, and runs every test: the Rust unit and integration
# tests (front end, runtime, scheduler) and the lit golden tests (LLVM 22's lit + FileCheck) that
# drive agentc and agent-opt. This is the README's test command and what CI runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

"$ROOT/tools/setup.sh"

# A full run needs about 12 GB: target/ (about 7 GB of debug builds) and the executables the
# lit tests link (about 2 GB). A CI run once failed with 34 tests on "No space left on device";
# say so up front instead.
free_kb=$(df -Pk "$ROOT" | awk 'NR == 2 {print $4}')
echo "test: $((free_kb / 1024 / 1024)) GB free on the disk of $ROOT"
if ((free_kb < 6 * 1024 * 1024)); then
  echo "test: warning: less than 6 GB free; the build and the lit tests' executables may not fit" >&2
fi

echo "test: building agentc, agent-opt, plan-check and the runtime library"
# The runtime library (target/debug/libagentc_runtime.a, which agentc links executables
# with) is only put beside agentc when agentc-runtime is named: building it as a dependency
# of agentc leaves it under target/debug/deps.
cargo build --locked -p agentc -p agent-opt -p agentc-runtime
cargo build --locked -p plan-check
# The distillation engine (agentc distill runs it) on its own: built with agentc, its
# dependencies' features would unify with the MLIR crates' and rebuild them.
cargo build --locked -p agentc-distill

echo "test: cargo tests (front end, runtime, scheduler, compiler)"
cargo test --locked -p agentc-frontend -p agentc-runtime -p agentc-scheduler 2>&1 | tee /tmp/agentc-cargo-test.log
cargo test --locked -p agentc-compiler --lib 2>&1 | tee -a /tmp/agentc-cargo-test.log
cargo test --locked -p agentc-distill 2>&1 | tee -a /tmp/agentc-cargo-test.log

echo "test: lit golden tests"
set +e
/usr/lib/llvm-22/bin/lit -sv "$ROOT/lit-tests" 2>&1 | tee /tmp/agentc-lit.log
lit_status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run: "N passed, N failed".
set +o pipefail
cargo_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' /tmp/agentc-cargo-test.log | awk '{s+=$4} END {print s+0}')
lit_passed=$(grep -Eo 'Passed *: *[0-9]+' /tmp/agentc-lit.log | grep -Eo '[0-9]+$' | awk '{s+=$1} END {print s+0}')
lit_failed=$(grep -Eo '(Failed|Unresolved|Timed Out) *: *[0-9]+' /tmp/agentc-lit.log | grep -Eo '[0-9]+$' | awk '{s+=$1} END {print s+0}')
echo "$((cargo_passed + lit_passed)) passed, ${lit_failed} failed"
exit "$lit_status"
