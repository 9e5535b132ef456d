#!/usr/bin/env python3
"""Reference data for agentc's GGUF support, made ONCE with /work/venv (torch, transformers,
gguf); the outputs are committed and tests never need torch.

    /work/venv/bin/python tools/gguf_reference.py SmolLM2-135M-Instruct.Q4_1.gguf

Writes
- runtime/src/gguf/testdata/dequant.json: random blocks of every ggml type agentc reads
  (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K) as hex bytes, with the python `gguf`
  package's `gguf.quants.dequantize` of them (the runtime's unit tests compare with it);
- tools/reference/smollm2-reference.json: transformers loading the same GGUF
  (`gguf_file=`, dequantised to float32): token ids of a few texts, greedy continuations of
  prompts (`generate`) and of conversations rendered with the file's chat template (`chat`),
  in the format of examples/models/tiny-llama/reference.json (lit-tests/e2e/Inputs/
  check_reference.py and check_chat_reference.py read both).
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261205

# (type, block elements, block bytes, byte offsets of f16 fields)
BLOCKS = {
    "Q8_0": (32, 34, [0]),
    "Q4_0": (32, 18, [0]),
    "Q4_1": (32, 20, [0, 2]),
    "Q4_K": (256, 144, [0, 2]),
    "Q6_K": (256, 210, [208]),
}

PROMPTS = [
    "The capital of France is",
    "Here is a short list of fruits:",
    "def fibonacci(n):",
]
TOKENIZE = [
    "Hello world, it's me!",
    "  two spaces, tabs\tand\nnewlines 12345 ünïcødé 日本語",
    "<|im_start|>user\nhi<|im_end|>",
]
CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "Name three colors."},
    ],
]
GENERATE_NEW_TOKENS = 16
CHAT_NEW_TOKENS = 48


def dequant_vectors() -> dict:
    import gguf
    from gguf import GGMLQuantizationType as T

    rng = np.random.default_rng(SEED)
    out = {"made_by": "tools/gguf_reference.py", "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "?", "cases": []}
    # Plain types: values as stored, so the expected value is the round trip through the type.
    values = rng.standard_normal(64).astype(np.float32) * 3
    for name, dtype in [("F32", np.float32), ("F16", np.float16)]:
        raw = values.astype(dtype).tobytes()
        got = gguf.quants.dequantize(np.frombuffer(raw, dtype=np.uint8), getattr(T, name))
        out["cases"].append({"type": name, "bytes": raw.hex(), "values": [float(v) for v in np.asarray(got, np.float32).ravel()]})
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16).tobytes()
    got = gguf.quants.dequantize(np.frombuffer(bf16, dtype=np.uint8), T.BF16)
    out["cases"].append({"type": "BF16", "bytes": bf16.hex(), "values": [float(v) for v in np.asarray(got, np.float32).ravel()]})
    for name, (elements, size, f16s) in BLOCKS.items():
        blocks = 2
        raw = bytearray(rng.integers(0, 256, size=blocks * size, dtype=np.uint8).tobytes())
        for b in range(blocks):
            for off in f16s:
                # Finite scales of a realistic size (random bytes could be inf/nan).
                scale = np.float16(rng.uniform(-0.05, 0.05))
                raw[b * size + off : b * size + off + 2] = scale.tobytes()
        got = gguf.quants.dequantize(np.frombuffer(bytes(raw), dtype=np.uint8), getattr(T, name))
        got = np.asarray(got, np.float32).ravel()
        assert got.size == blocks * elements and np.all(np.isfinite(got))
        out["cases"].append({"type": name, "bytes": bytes(raw).hex(), "values": [float(v) for v in got]})
    return out


def versions() -> dict:
    import tokenizers
    import torch
    import transformers

    return {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "numpy": np.__version__}


def model_reference(gguf_path: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_tiny_models import greedy_margins

    folder, file = str(gguf_path.parent), gguf_path.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=file)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype=torch.float32)
    model.eval()
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    tokenized = [{"text": t, "ids": tok(t)["input_ids"]} for t in TOKENIZE]
    cases = []
    with torch.no_grad():
        for text in PROMPTS:
            ids = tok(text, return_tensors="pt")["input_ids"]
            _, new_ids, margins = greedy_margins(model, ids, eos, GENERATE_NEW_TOKENS)
            cases.append({
                "prompt": text,
                "input_ids": ids[0].tolist(),
                "generate": {
                    "max_new_tokens": GENERATE_NEW_TOKENS,
                    "new_ids": new_ids,
                    "new_text": tok.decode(new_ids, skip_special_tokens=True),
                    "min_greedy_margin": min(margins),
                },
            })
        chats = []
        for messages in CHATS:
            prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=CHAT_NEW_TOKENS,
                                 do_sample=False, num_beams=1, pad_token_id=eos, eos_token_id=eos,
                                 temperature=None, top_p=None, top_k=None)
            new_ids = gen[0, ids.shape[1]:].tolist()
            chats.append({
                "messages": messages,
                "prompt": prompt,
                "input_ids": ids[0].tolist(),
                "max_new_tokens": CHAT_NEW_TOKENS,
                "new_ids": new_ids,
                "stopped_at_eos": new_ids[-1] == eos,
                "new_text": tok.decode(new_ids, skip_special_tokens=True),
            })
    return {
        "model": gguf_path.name,
        "made_by": "tools/gguf_reference.py",
        "versions": versions(),
        "notes": "transformers AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32): the GGUF "
                 "dequantised to f32. tokenize: tok(text).input_ids. generate: greedy, eos <|im_end|>; new_text "
                 "decoded with skip_special_tokens=True; min_greedy_margin: smallest top1-top2 logit gap. chat: the "
                 "file's tokenizer.chat_template through apply_chat_template(add_generation_prompt=True).",
        "tokenize": tokenized,
        "cases": cases,
        "chat": chats,
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    gguf_path = Path(sys.argv[1]).resolve()
    dequant = ROOT / "runtime/src/gguf/testdata/dequant.json"
    dequant.parent.mkdir(parents=True, exist_ok=True)
    dequant.write_text(json.dumps(dequant_vectors()) + "\n", encoding="utf-8")
    reference = ROOT / "tools/reference/smollm2-reference.json"
    reference.write_text(json.dumps(model_reference(gguf_path), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {dequant} and {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
