#!/usr/bin/env python3
"""Make the tiny Llama in other storage formats, with their transformers references.

Run once (the outputs are committed), after tools/gen_tiny_models.py made
examples/models/tiny-llama:

    /work/venv/bin/python tools/gen_tiny_dtypes.py

Writes, next to examples/models/tiny-llama (its tokenizer files copied unchanged):

    tiny-llama-bf16/     every weight rounded to bfloat16, one model.safetensors
    tiny-llama-f16/      every weight rounded to float16, one model.safetensors
    tiny-llama-sharded/  bfloat16 matrices with float32 norm weights (a mixed folder),
                         saved in shards: model-0000N-of-0000M.safetensors plus
                         model.safetensors.index.json

and a reference.json in each (the format of tiny-llama/reference.json: prompt, input_ids,
last_logits, greedy generate, one decode step). The reference is transformers' model
loaded from the saved folder and then upcast with `model.float()`: the weights exactly as
stored, the arithmetic in float32, which is what agentc's kernels do (docs/language.md,
`dtype:`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_tiny_models as g  # noqa: E402  (sets the offline environment first)
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast  # noqa: E402

SOURCE = g.MODELS / "tiny-llama"
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]
# The tiny Llama is about 250 KB in 16 bits: shards of at most 100 KB make three files.
SHARD_SIZE = "100KB"


def save(model, dtype: torch.dtype, norms_f32: bool, shard: str | None) -> dict[str, bytes]:
    model = model.to(dtype)
    if norms_f32:
        for name, p in model.named_parameters():
            if "norm" in name:
                p.data = p.data.float()
    kwargs = {"safe_serialization": True}
    if shard:
        kwargs["max_shard_size"] = shard
    files = g.saved_files(lambda d: model.save_pretrained(d, **kwargs))
    for name in TOKENIZER_FILES:
        files[name] = (SOURCE / name).read_bytes()
    dtype_name = {torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype]
    files["config.json"] = g.patch_json(files["config.json"], rope_theta=10000.0, torch_dtype=dtype_name)
    return files


def reference(folder: Path, name: str) -> bytes:
    tok = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token="<s>", eos_token="</s>")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto").float().eval()
    model.config._attn_implementation = "eager"
    bos, eos = model.config.bos_token_id, model.config.eos_token_id
    cases = []
    with torch.no_grad():
        for text in g.LLAMA_PROMPTS:
            ids = tok(text, return_tensors="pt")["input_ids"]
            assert ids[0, 0].item() == bos
            out = model(input_ids=ids, use_cache=True, output_hidden_states=True)
            last_logits = out.logits[0, -1]
            gen, new_ids, margins = g.greedy_margins(model, ids, eos, g.GENERATE_NEW_TOKENS)
            first = torch.tensor([[new_ids[0]]])
            step = model(input_ids=torch.cat([ids, first], dim=1)).logits[0, -1]
            cases.append({
                "prompt": text,
                "input_ids": ids[0].tolist(),
                "last_logits": g.f32(last_logits),
                "last_hidden_state": g.f32(out.hidden_states[-1][0, -1]),
                "generate": {
                    "max_new_tokens": g.GENERATE_NEW_TOKENS,
                    "new_ids": new_ids,
                    "new_text": tok.decode(new_ids, skip_special_tokens=True),
                    "full_text": tok.decode(gen[0].tolist(), skip_special_tokens=True),
                    "min_greedy_margin": g.f32(min(margins)),
                },
                "decode_step": {"token": new_ids[0], "position": ids.shape[1], "logits": g.f32(step)},
            })
    ref = {
        "model": name,
        "made_by": "tools/gen_tiny_dtypes.py",
        "versions": g.versions(),
        "tolerance": {"abs": g.TOL_ABS, "rel": g.TOL_REL},
        "notes": (
            "The weights as stored in this folder, upcast to float32 after loading "
            "(model.float()); arithmetic in float32. Fields as in tiny-llama/reference.json; "
            "decode_step.logits from a full recompute of prompt + token."
        ),
        "cases": cases,
    }
    return g.dumps(ref).encode()


def main() -> int:
    for variant, dtype, norms_f32, shard in [
        ("tiny-llama-bf16", torch.bfloat16, False, None),
        ("tiny-llama-f16", torch.float16, False, None),
        ("tiny-llama-sharded", torch.bfloat16, True, SHARD_SIZE),
    ]:
        model = AutoModelForCausalLM.from_pretrained(SOURCE, dtype=torch.float32).eval()
        files = save(model, dtype, norms_f32, shard)
        dest = g.MODELS / variant
        g.write_tree(files, dest)
        (dest / "reference.json").write_bytes(reference(dest, variant))
        size = sum(p.stat().st_size for p in dest.iterdir())
        print(f"gen_tiny_dtypes: {dest.relative_to(g.ROOT)}: {len(list(dest.iterdir()))} files, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
