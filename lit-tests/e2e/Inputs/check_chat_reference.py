#!/usr/bin/env python3
"""Runs a compiled chat program on every conversation of a transformers reference file and
compares its output with the reference's greedy reply, byte for byte.

    check_chat_reference.py APP reference.json [OPTION...]

APP takes the conversation's message contents, in order, as its arguments (it knows the
roles from their number) and prints `llm.chat(...)`'s result and a newline. The reference
(`chat` of examples/models/tiny-llama/reference.json, made by tools/gen_tiny_models.py)
holds the prompt transformers' apply_chat_template rendered and the greedy reply, which
ends at the end-of-turn token before max_new_tokens. Prints one line per conversation
and exits 1 if any differs. OPTIONs are passed to APP (`--models DIR`).
"""
import json
import subprocess
import sys

app, reference, options = sys.argv[1], sys.argv[2], sys.argv[3:]
chats = json.load(open(reference, encoding="utf-8"))["chat"]
failed = 0
for n, chat in enumerate(chats):
    want = chat["new_text"]
    args = [m["content"] for m in chat["messages"]]
    run = subprocess.run([app, *options, "--", *args], capture_output=True)
    got = run.stdout.decode("utf-8")
    ended = "end of turn" if chat["stopped_at_eos"] else "max tokens"
    if run.returncode != 0 or got != want + "\n":
        failed += 1
        print(f"chat {n} FAIL: exit {run.returncode}, got {got!r}, want {want + chr(10)!r}; stderr: {run.stderr.decode()!r}")
    else:
        print(f"chat {n} ok: {len(chat['messages'])} messages, {len(chat['new_ids'])} tokens, {ended}")
sys.exit(1 if failed else 0)
