#!/usr/bin/env python3
"""Checks in an `agentc schedule --json` report that every fragment whose name starts with
FIRST starts no earlier than every fragment whose name starts with one of the LATER
prefixes finishes (each prefix must match at least one fragment). Prints
`FIRST starts after LATER, ...` or the first violation, and exits 1 on a violation.

usage: after_all.py REPORT.json FIRST LATER...
"""
import json
import sys


def main():
    with open(sys.argv[1]) as f:
        placements = json.load(f)["placements"]
    first, later = sys.argv[2], sys.argv[3:]
    def matching(prefix):
        found = [p for p in placements if p["name"].startswith(prefix)]
        if not found:
            sys.exit(f"no fragment named {prefix!r}")
        return found
    for a in matching(first):
        for prefix in later:
            for b in matching(prefix):
                if a["start"] < b["finish"] - 1e-12:
                    print(f"{a['name']} starts at {a['start']} before {b['name']} finishes at {b['finish']}")
                    sys.exit(1)
    print(f"{first} starts after {', '.join(later)}")


if __name__ == "__main__":
    main()
