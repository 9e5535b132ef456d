"""Writes a chain of N records R0 → R1 → … (each holds the next in `next`); with `cycle`,
the last holds R0, closing a cycle. Used by record-depth.agent."""
import sys

n = int(sys.argv[1])
cycle = len(sys.argv) > 2 and sys.argv[2] == "cycle"
for i in range(n - 1):
    print(f"record R{i} {{ next: R{i + 1}, n: int }}")
print(f"record R{n - 1} {{ next: R0 }}" if cycle else f"record R{n - 1} {{ x: text }}")
