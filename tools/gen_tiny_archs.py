#!/usr/bin/env python3
"""Make the tiny decoders of the architectures beyond Llama and their reference outputs.

Run once by hand, like tools/gen_tiny_models.py (whose helpers, tokenizer and prompts
this reuses); the outputs are committed, so neither set-up nor CI needs torch:

    /work/venv/bin/python tools/gen_tiny_archs.py           # writes the folders
    /work/venv/bin/python tools/gen_tiny_archs.py --check   # compares with disk

Writes examples/models/<name>/ (config.json, model.safetensors, the tiny-llama tokenizer
files, reference.json) for

    tiny-qwen2          Qwen2ForCausalLM: q/k/v biases, tied embeddings
    tiny-mistral        MistralForCausalLM: sliding_window = max_position_embeddings
    tiny-llama3-rope    LlamaForCausalLM with `rope_type: llama3` scaling whose
                        original_max_position_embeddings (64) puts the head's frequencies
                        in all three bands (kept, smoothed, divided by factor)
    tiny-llama-headdim  LlamaForCausalLM with head_dim 32 != hidden/heads (16), tied
                        embeddings and `rope_type: linear` scaling

Every reference is computed in float32 on the CPU, eager attention, seeded; the same
random-weight scheme as tiny-llama (see gen_tiny_models.py's docstring).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_tiny_models as g  # noqa: E402
import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

COMMON = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    hidden_act="silu",
    max_position_embeddings=512,
    rms_norm_eps=1e-5,
    initializer_range=0.1,
)


def variants(bos: int, eos: int, vocab: int) -> dict:
    ids = dict(vocab_size=vocab, bos_token_id=bos, eos_token_id=eos, pad_token_id=None)
    return {
        "tiny-qwen2": (Qwen2Config, Qwen2ForCausalLM, dict(
            **COMMON, **ids, rope_theta=10000.0, tie_word_embeddings=True,
            use_sliding_window=False)),
        "tiny-mistral": (MistralConfig, MistralForCausalLM, dict(
            **COMMON, **ids, head_dim=16, rope_theta=10000.0, tie_word_embeddings=False,
            sliding_window=512)),
        "tiny-llama3-rope": (LlamaConfig, LlamaForCausalLM, dict(
            **COMMON, **ids, head_dim=16, tie_word_embeddings=False, attention_bias=False,
            mlp_bias=False,
            rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                             "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64})),
        "tiny-llama-headdim": (LlamaConfig, LlamaForCausalLM, dict(
            **COMMON, **ids, head_dim=32, tie_word_embeddings=True, attention_bias=False,
            mlp_bias=False,
            rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0})),
    }


def make(name: str, config_cls, model_cls, kwargs: dict, raw, hf_tok, tok_files, seed: int):
    eos = kwargs["eos_token_id"]
    torch.manual_seed(seed)
    config = config_cls(**kwargs)
    config._attn_implementation = "eager"
    model = model_cls(config).to(torch.float32).eval()
    g.randomize(model, seed=seed)
    files = g.saved_files(lambda d: model.save_pretrained(d, safe_serialization=True))
    files.update(tok_files)

    cases = []
    with torch.no_grad():
        for text in g.LLAMA_PROMPTS:
            ids = hf_tok(text, return_tensors="pt")["input_ids"]
            out = model(input_ids=ids, use_cache=True)
            last_logits = out.logits[0, -1]
            gen, new_ids, margins = g.greedy_margins(model, ids, eos, g.GENERATE_NEW_TOKENS)
            first = torch.tensor([[new_ids[0]]])
            full = model(input_ids=torch.cat([ids, first], dim=1)).logits[0, -1]
            cases.append({
                "prompt": text,
                "input_ids": ids[0].tolist(),
                "last_logits": g.f32(last_logits),
                "generate": {
                    "max_new_tokens": g.GENERATE_NEW_TOKENS,
                    "new_ids": new_ids,
                    "new_text": hf_tok.decode(new_ids, skip_special_tokens=True),
                    "min_greedy_margin": g.f32(min(margins)),
                },
                # The logits after the first generated token at `position`, from a full
                # recompute over prompt + token (what a KV-cache step must equal).
                "decode_step": {"token": new_ids[0], "position": ids.shape[1], "logits": g.f32(full)},
            })
    ref = {
        "model": name,
        "architecture": model_cls.__name__,
        "made_by": "tools/gen_tiny_archs.py",
        "versions": g.versions(),
        "tolerance": {"abs": g.TOL_ABS, "rel": g.TOL_REL},
        "notes": (
            "as tiny-llama's reference.json: input_ids by tokenizer.json (BOS added), "
            "last_logits at the last prompt position, greedy generate, decode_step logits "
            "of prompt + first generated token at `position`."
        ),
        "cases": cases,
    }
    files["reference.json"] = g.dumps(ref).encode()
    return files


def verify(folder: Path) -> None:
    m = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    ref = g.json.loads((folder / "reference.json").read_text())
    with torch.no_grad():
        for c in ref["cases"]:
            out = m(input_ids=torch.tensor([c["input_ids"]]))
            assert g.close(out.logits[0, -1], torch.tensor(c["last_logits"])), folder.name
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 1 << 20, f"{folder} is {size} bytes"
    print(f"gen_tiny_archs: {folder.relative_to(g.ROOT)}: {size} bytes, loads back, matches")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing them")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    raw = g.train_llama_tokenizer()
    bos, eos = raw.token_to_id("<s>"), raw.token_to_id("</s>")
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", model_max_length=128)
    tok_files = g.tokenizer_files(raw, {"bos_token": "<s>", "eos_token": "</s>"}, model_max_length=128)

    outputs = {}
    for seed, (name, (config_cls, model_cls, kwargs)) in enumerate(variants(bos, eos, raw.get_vocab_size()).items(), start=1):
        outputs[g.MODELS / name] = make(name, config_cls, model_cls, kwargs, raw, hf_tok, tok_files, seed)

    if args.check:
        bad = [str(f.relative_to(g.ROOT)) for f, files in outputs.items() if not f.is_dir() or g.read_tree(f) != files]
        if bad:
            print("gen_tiny_archs: differs from this run: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("gen_tiny_archs: files on disk match this run")
        return 0
    for folder, files in outputs.items():
        g.write_tree(files, folder)
        verify(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
