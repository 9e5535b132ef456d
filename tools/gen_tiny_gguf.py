#!/usr/bin/env python3
"""Writes examples/models/tiny-gguf/tiny-llama-quant.gguf, once: a tiny random `llama` GGUF
(1 layer, hidden 256, GQA 2/1, vocab 64, tied embeddings) whose matrices use every type the
quantised kernels read: token_embd Q8_0, attn_q Q4_K, attn_k Q4_0, attn_v Q4_1,
attn_output Q6_K, ffn_gate Q8_0, ffn_up Q4_1, ffn_down Q4_K; norms F32. Q8_0/Q4_0/Q4_1
blocks are quantised from random weights with gguf.quants; Q4_K/Q6_K blocks are random
bytes with small f16 scales. Needs the `gguf` package (/work/venv)."""
import pathlib

import numpy as np
import gguf

rng = np.random.default_rng(7)
out = pathlib.Path(__file__).resolve().parent.parent / "examples/models/tiny-gguf/tiny-llama-quant.gguf"
out.parent.mkdir(parents=True, exist_ok=True)
H, F, V = 256, 256, 64
Q = gguf.GGMLQuantizationType


def quantized(rows, cols, qtype):
    if qtype in (Q.Q8_0, Q.Q4_0, Q.Q4_1):
        return gguf.quants.quantize(rng.normal(0, 0.08, (rows, cols)).astype(np.float32), qtype)
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, (rows, cols // block, size), dtype=np.uint8)
    d = np.array([0.002 if qtype == Q.Q4_K else 0.0005], dtype=np.float16).view(np.uint8)
    if qtype == Q.Q4_K:
        b[:, :, 0:2] = d
        b[:, :, 2:4] = d
    else:
        b[:, :, 208:210] = d
    return b.reshape(rows, -1)


w = gguf.GGUFWriter(str(out), "llama")
w.add_block_count(1)
w.add_context_length(64)
w.add_embedding_length(H)
w.add_feed_forward_length(F)
w.add_head_count(2)
w.add_head_count_kv(1)
w.add_rope_dimension_count(H // 2)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_freq_base(10000.0)
w.add_tokenizer_model("gpt2")
tokens = ["<s>", "</s>"] + [chr(ord("a") + i % 26) * (1 + i // 26) for i in range(V - 2)]
w.add_token_list(tokens)
w.add_token_types([3, 3] + [1] * (V - 2))
w.add_token_merges(["a a", "b b"])
w.add_bos_token_id(0)
w.add_eos_token_id(1)
w.add_add_bos_token(False)
tensors = [
    ("token_embd.weight", V, H, Q.Q8_0),
    ("blk.0.attn_q.weight", H, H, Q.Q4_K),
    ("blk.0.attn_k.weight", H // 2, H, Q.Q4_0),
    ("blk.0.attn_v.weight", H // 2, H, Q.Q4_1),
    ("blk.0.attn_output.weight", H, H, Q.Q6_K),
    ("blk.0.ffn_gate.weight", F, H, Q.Q8_0),
    ("blk.0.ffn_up.weight", F, H, Q.Q4_1),
    ("blk.0.ffn_down.weight", H, F, Q.Q4_K),
]
for name, rows, cols, qtype in tensors:
    w.add_tensor(name, quantized(rows, cols, qtype), raw_dtype=qtype)
for name in ("blk.0.attn_norm.weight", "blk.0.ffn_norm.weight", "output_norm.weight"):
    w.add_tensor(name, (1 + rng.normal(0, 0.1, H)).astype(np.float32))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(out, out.stat().st_size)
