#!/usr/bin/env python3
"""Offline draft checker for reflection.agent: reads a draft on stdin.

Prints the problems it finds, separated by "; ", or nothing when the draft is fine:
empty draft, fewer than two sentences, more than 80 words, a word repeated three
times in a row. Always exits 0 (finding problems is not a failure).
"""
import re
import sys


def main():
    draft = sys.stdin.read().strip()
    problems = []
    if not draft:
        problems.append("the draft is empty")
    else:
        sentences = [s for s in re.split(r"[.!?]+", draft) if s.strip()]
        if len(sentences) < 2:
            problems.append("write at least two sentences")
        words = draft.split()
        if len(words) > 80:
            problems.append(f"too long ({len(words)} words, at most 80)")
        for a, b, c in zip(words, words[1:], words[2:]):
            if a.lower() == b.lower() == c.lower():
                problems.append(f"'{a}' is repeated")
                break
    print("; ".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
