"""Checks the attempt times a flaky tool recorded (tool-backoff.agent).

argv: STAMPS BACKOFF_MS. The wait before attempt k+1 (k >= 1) must be at least
BACKOFF_MS * 2^(k-1): the backoff, doubled after each failure. Prints one line per gap.
"""
import sys

stamps = [int(line) for line in open(sys.argv[1]).read().split()]
backoff_ms = int(sys.argv[2])
ok = True
for k in range(1, len(stamps)):
    gap_ms = (stamps[k] - stamps[k - 1]) / 1e6
    want = backoff_ms * 2 ** (k - 1)
    verdict = "ok" if gap_ms >= want else "TOO SOON"
    ok &= gap_ms >= want
    print(f"wait before attempt {k + 1}: at least {want} ms: {verdict}")
sys.exit(0 if ok else 1)
