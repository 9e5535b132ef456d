#!/usr/bin/env python3
"""Flattens a reference.json of tools/gen_tiny_models.py into the whitespace-separated
text the numerics harness reads: per case `case`, then `KEY N v1 ... vN` records
(ids, logits, new_ids, decode_token, decode_position, decode_logits, embedding), then
`end`. Only the fields the harness checks are written."""
import json
import sys

data = json.load(open(sys.argv[1]))
out = []


def record(key, values):
    out.append(f"{key} {len(values)} " + " ".join(repr(v) for v in values))


for case in data["cases"]:
    out.append("case")
    record("ids", case["input_ids"])
    if "last_logits" in case:
        record("logits", case["last_logits"])
    if "generate" in case:
        record("new_ids", case["generate"]["new_ids"])
    if "decode_step" in case:
        step = case["decode_step"]
        record("decode_token", [step["token"]])
        record("decode_position", [step["position"]])
        record("decode_logits", step["logits"])
    if "embedding" in case:
        record("embedding", case["embedding"])
    out.append("end")
print("\n".join(out))
