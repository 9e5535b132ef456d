#!/usr/bin/env bash
# Installs agentc under PREFIX: the driver as PREFIX/bin/agentc and the runtime library that
# executables are linked with as PREFIX/lib/agentc/libagentc_runtime.a, where the installed
# agentc looks for it (release builds of both).
#
#   tools/install.sh PREFIX        e.g. tools/install.sh ~/.local
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: tools/install.sh PREFIX   (installs PREFIX/bin/agentc and PREFIX/lib/agentc/libagentc_runtime.a)" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
PREFIX="$(cd "$1" && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

# One target folder for both, so the runtime and the crates they share build once.
cargo install --locked --path tools/agentc --root "$PREFIX" --target-dir "$ROOT/target"
cargo build --locked --release -p agentc-runtime
install -D -m 644 "$ROOT/target/release/libagentc_runtime.a" "$PREFIX/lib/agentc/libagentc_runtime.a"
echo "install: $PREFIX/bin/agentc and $PREFIX/lib/agentc/libagentc_runtime.a"
