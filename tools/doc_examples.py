#!/usr/bin/env python3
"""Extracts every ```agent block of a Markdown file into its own .agent file.

Used by lit-tests/syntax/docs-examples.mlir so that every complete program the language
reference shows is checked by `agentc check` (fragments are tagged ```text there).

usage: doc_examples.py DOC.md OUT_DIR   (prints the written paths, one per line)
"""
import os
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    doc, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    blocks, current = [], None
    with open(doc, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if current is None and line.strip() == "```agent":
                current = (number, [])
            elif current is not None and line.strip() == "```":
                blocks.append(current)
                current = None
            elif current is not None:
                current[1].append(line)
    if current is not None:
        print(f"{doc}:{current[0]}: unterminated ```agent block", file=sys.stderr)
        return 1
    for number, lines in blocks:
        path = os.path.join(out_dir, f"line{number}.agent")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
