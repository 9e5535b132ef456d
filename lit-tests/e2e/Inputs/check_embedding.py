#!/usr/bin/env python3
"""Runs an embedding program on every pair of sentences of a sentence-transformers
reference file and compares its output (`SUM_A SUM_B COSINE`) with the reference
embeddings' sums and cosine.

    check_embedding.py APP reference.json

Tolerance: sums within 1e-3 (384 elements, each within 1e-5 + 1e-4 |want|), cosine within
1e-4. Prints `pair I J ok` or `pair I J FAIL ...`; exits 1 on any failure.
"""
import itertools
import json
import math
import subprocess
import sys

app, reference = sys.argv[1], sys.argv[2]
cases = json.load(open(reference, encoding="utf-8"))["cases"]
failed = 0
for i, j in itertools.combinations(range(len(cases)), 2):
    a, b = cases[i]["embedding"], cases[j]["embedding"]
    want = (sum(a), sum(b), sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b)))
    run = subprocess.run([app, "--", cases[i]["text"], cases[j]["text"]], capture_output=True, text=True)
    try:
        got = tuple(float(x) for x in run.stdout.split())
    except ValueError:
        got = ()
    ok = run.returncode == 0 and len(got) == 3 and all(abs(g - w) <= tol for g, w, tol in zip(got, want, (1e-3, 1e-3, 1e-4)))
    if ok:
        print(f"pair {i} {j} ok: sums {got[0]:.6f} {got[1]:.6f} cosine {got[2]:.6f}")
    else:
        failed += 1
        print(f"pair {i} {j} FAIL: got {got or run.stdout!r}, want {want}; exit {run.returncode}; {run.stderr.strip()}")
sys.exit(1 if failed else 0)
