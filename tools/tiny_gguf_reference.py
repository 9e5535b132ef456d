#!/usr/bin/env python3
"""Writes examples/models/tiny-gguf/reference.json, once: transformers (which dequantises
the GGUF to f32 with the `gguf` package) loading tools/gen_tiny_gguf.py's file, greedy
generation of 8 tokens for a few prompts, with the smallest top-1/top-2 logit margin seen
(a margin far above f32 rounding means a reassociated sum cannot flip a token). The format
is check_reference.py's (`cases[].prompt`, `generate.new_ids`, `generate.new_text`)."""
import json
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

folder = pathlib.Path(__file__).resolve().parent.parent / "examples/models/tiny-gguf"
name = "tiny-llama-quant.gguf"
tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
cases = []
for prompt in ["cdefg", "hello", "zzyx"]:
    ids = tok(prompt, return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=8, do_sample=False, output_scores=True, return_dict_in_generate=True)
    new = out.sequences[0, ids.shape[1]:].tolist()
    margins = [float(torch.topk(s[0], 2).values[0] - torch.topk(s[0], 2).values[1]) for s in out.scores]
    cases.append({
        "prompt": prompt,
        "input_ids": ids[0].tolist(),
        "generate": {"new_ids": new, "new_text": tok.decode(new, skip_special_tokens=True), "min_margin": min(margins)},
    })
(folder / "reference.json").write_text(json.dumps({"model": name, "cases": cases}, indent=1) + "\n")
print(json.dumps(cases, indent=1))
