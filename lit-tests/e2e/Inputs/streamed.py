#!/usr/bin/env python3
"""streamed.py STDOUT STDERR: prints `streamed: yes` when main's result (stdout without its
final newline) was written to stderr as generated text, else `streamed: no` and both."""
import sys

out = open(sys.argv[1], encoding="utf-8", errors="replace").read()
err = open(sys.argv[2], encoding="utf-8", errors="replace").read()
ok = out.endswith("\n") and out[:-1] in err
print("streamed: yes" if ok else f"streamed: no\nstdout: {out!r}\nstderr: {err!r}")
