#!/usr/bin/env python3
"""Offline statistics tool for supervisor.agent.

Takes one argument, a text; prints "COUNT MEAN" for the numbers found in it
("sales 3, 4.5 and 6" -> "3 4.5"); "0 0.0" when there are none. The mean is printed
with at most 6 decimals and always with a decimal point, so float() parses it.
"""
import re
import sys


def main(argv):
    if len(argv) != 1:
        print("usage: stats.py TEXT", file=sys.stderr)
        return 2
    numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", argv[0])]
    mean = sum(numbers) / len(numbers) if numbers else 0.0
    text = f"{mean:.6f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    print(f"{len(numbers)} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
