#!/usr/bin/env python3
"""Offline search tool for the examples: a fixed corpus, ranked by word overlap.

Reads the query from stdin. Prints the best three passages, one per line (fewer when
fewer match; nothing when none do). `--source NAME` restricts the corpus to one source
and prints only the best passage. Deterministic: ties keep corpus order. No network.
"""
import re
import sys

CORPUS = [
    ("wiki", "MLIR is a compiler infrastructure with extensible dialects, part of the LLVM project."),
    ("wiki", "A large language model generates text one token at a time after a prefill of the prompt."),
    ("wiki", "Prefill is compute-bound while decode is limited by memory bandwidth."),
    ("wiki", "Sentence embeddings map a text to a vector; cosine similarity compares two of them."),
    ("news", "GPU prices fell this quarter as new accelerators reached the market."),
    ("news", "Agentic workflows combine model calls, tool calls and retrieval in one graph."),
    ("news", "Datacenters schedule inference across CPUs and GPUs to cut cost per token."),
    ("forum", "Tip: cache the KV state between decode steps, or generation gets slow."),
    ("forum", "Bounded reflection loops stop a model from revising an answer forever."),
    ("forum", "Run tool calls in parallel when they do not depend on each other."),
    ("docs", "agentc compiles .agent workflows into a native executable with a small runtime."),
    ("docs", "A map expression runs its bodies in parallel and keeps the input order."),
    ("docs", "The scheduler places prefill and decode fragments on the cheapest device that meets the SLA."),
]


def words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def main(argv):
    source = None
    if len(argv) >= 2 and argv[0] == "--source":
        source = argv[1]
    elif argv:
        print("usage: search.py [--source NAME] < query", file=sys.stderr)
        return 2
    query = words(sys.stdin.read())
    ranked = []
    for index, (src, passage) in enumerate(CORPUS):
        if source is not None and src != source:
            continue
        score = len(query & words(passage))
        if score > 0:
            ranked.append((-score, index, passage))
    ranked.sort()
    limit = 1 if source is not None else 3
    for _, _, passage in ranked[:limit]:
        print(passage)
    if source is not None and not ranked:
        print(f"({source}: no match)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
