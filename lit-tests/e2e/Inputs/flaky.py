"""An exec tool that fails until its Nth attempt (tool-backoff.agent).

argv: STAMPS N. Each attempt appends the time it started (CLOCK_MONOTONIC, in ns) to the file
STAMPS; attempts before the Nth exit with status 5, the Nth prints `ok after N attempts`.
"""
import sys
import time

stamps, succeed_at = sys.argv[1], int(sys.argv[2])
with open(stamps, "a") as f:
    f.write(f"{time.monotonic_ns()}\n")
with open(stamps) as f:
    attempt = len(f.read().split())
if attempt < succeed_at:
    print(f"attempt {attempt} fails", file=sys.stderr)
    sys.exit(5)
print(f"ok after {attempt} attempts")
