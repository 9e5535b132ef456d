#!/usr/bin/env bash
# Builds and runs one of the examples end to end with `agentc run`, from examples/ (the
# examples' exec tools are scripts there, by relative path), while examples/tools/serve.py
# serves 127.0.0.1:8080 for their http tools (started here if nothing listens there yet,
# stopped at the end). Everything after the example's name goes to its `main`.
#
#   tools/run-example.sh [EXAMPLE] [ARGS...]     (default: research "how do compilers work")
#
# Uses target/debug/agentc (build it with `cargo build -p agentc -p agentc-runtime`) or
# $AGENTC. The exit status is the example's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENTC=${AGENTC:-$ROOT/target/debug/agentc}
example=${1:-research}
shift || true
if [ $# -eq 0 ]; then set -- how do compilers work; fi
if [ ! -x "$AGENTC" ]; then
    echo "run-example.sh: $AGENTC not found: build it first (cargo build -p agentc -p agentc-runtime)" >&2
    exit 2
fi
if [ ! -f "$ROOT/examples/$example.agent" ]; then
    echo "run-example.sh: no example named \`$example\` (examples/*.agent)" >&2
    exit 2
fi
cd "$ROOT/examples"
server=
if ! python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), timeout=0.2)' 2>/dev/null; then
    python3 tools/serve.py 8080 2>/dev/null &
    server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), timeout=0.2)' 2>/dev/null && break
        sleep 0.05
    done
fi
"$AGENTC" run "$example.agent" -- "$@"
