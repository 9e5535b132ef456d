#!/bin/bash
# Usage: every-example-every-preset.sh AGENTC TMPDIR FILE.agent...
# Schedules every FILE on every preset `agentc targets` lists. Each run must either
# succeed (exit 0, a report on stdout, no error) or fail with exit 1 and a clear
# `error: cannot schedule on target `PRESET`: ...` line; never a panic, never another
# exit status. Prints one `ok`/`FAIL` line per pair; exits 1 if any failed.
agentc=$1
tmp=$2
shift 2
mkdir -p "$tmp"
presets=$("$agentc" targets | grep -v '^ ' | awk '{print $1}')
status=0
for preset in $presets; do
  for file in "$@"; do
    "$agentc" schedule "$file" --target "$preset" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    why=""
    case $rc in
      0)
        grep -q '^latency per request: ' "$tmp/out" || why="no report on stdout"
        grep -q '^error' "$tmp/err" && why="an error on stderr despite exit 0"
        ;;
      1)
        grep -q "^error: cannot schedule on target \`$preset\`: " "$tmp/err" || why="exit 1 without a clear error: $(head -c 300 "$tmp/err")"
        ;;
      *)
        why="exit $rc: $(head -c 300 "$tmp/err")"
        ;;
    esac
    grep -qi 'panick\|RUST_BACKTRACE' "$tmp/err" && why="a panic: $(head -c 300 "$tmp/err")"
    if [ -n "$why" ]; then
      echo "FAIL $preset $(basename "$file"): $why"
      status=1
    else
      echo "ok $preset $(basename "$file") exit $rc"
    fi
  done
done
exit $status
