#!/usr/bin/env python3
"""Offline step executor for plan_execute.agent: reads one plan step on stdin.

Understands a few verbs (after an optional "1." / "-" list marker):
  count WORDS...   -> how many words follow
  upper TEXT       -> TEXT in upper case
  reverse TEXT     -> TEXT reversed word by word
  search QUERY     -> the best passage of the offline corpus (search.py)
Anything else is echoed back as "noted: STEP". Deterministic; exits 0.
"""
import os
import re
import subprocess
import sys


def main():
    step = re.sub(r"^\s*(?:\d+[.)]|[-*])\s*", "", sys.stdin.read().strip())
    verb, _, rest = step.partition(" ")
    verb = verb.lower()
    if verb == "count":
        print(f"{len(rest.split())} words")
    elif verb == "upper":
        print(rest.upper())
    elif verb == "reverse":
        print(" ".join(reversed(rest.split())))
    elif verb == "search":
        here = os.path.dirname(os.path.abspath(__file__))
        result = subprocess.run(
            [sys.executable, os.path.join(here, "search.py")],
            input=rest, capture_output=True, text=True, check=False,
        )
        best = result.stdout.splitlines()
        print(best[0] if best else "no match")
    else:
        print(f"noted: {step}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
