#!/usr/bin/env python3
"""Replaces the chat template of a plan's model, to test what the runtime does with one.

    set_chat_template.py PLAN.json MODEL TEMPLATE OUT.json
"""
import json
import sys

plan_path, model, template, out = sys.argv[1:5]
with open(plan_path, encoding="utf-8") as f:
    plan = json.load(f)
[entry] = [m for m in plan["models"] if m["name"] == model]
entry["chat"]["template"] = template
with open(out, "w", encoding="utf-8") as f:
    json.dump(plan, f)
