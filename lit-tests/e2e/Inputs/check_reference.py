#!/usr/bin/env python3
"""Runs a compiled generate program on every prompt of a transformers reference file and
compares its output with the reference's greedy continuation, byte for byte.

    check_reference.py APP reference.json

APP is `main(args) = llm.generate(join(args, " "), max_tokens: 8)`; it must print exactly
`new_text` and a newline (stdout holds only main's result). Prints one line per case and
exits 1 if any differs.
"""
import json
import subprocess
import sys

app, reference = sys.argv[1], sys.argv[2]
cases = json.load(open(reference, encoding="utf-8"))["cases"]
failed = 0
for n, case in enumerate(cases):
    want = case["generate"]["new_text"]
    run = subprocess.run([app, "--", case["prompt"]], capture_output=True)
    got = run.stdout.decode("utf-8")
    if run.returncode != 0 or got != want + "\n":
        failed += 1
        print(f"case {n} FAIL: exit {run.returncode}, got {got!r}, want {want + chr(10)!r}; stderr: {run.stderr.decode()!r}")
    else:
        print(f"case {n} ok: {len(case['generate']['new_ids'])} tokens, {want!r}")
sys.exit(1 if failed else 0)
