#!/usr/bin/env python3
"""Writes lit-tests/diagnostics/Inputs/q5k.gguf, once: a tiny `llama` GGUF whose
blk.0.attn_q.weight is Q5_K, a ggml type agentc neither computes from nor dequantises
(the checker must name the tensor and the type). Needs the `gguf` package (/work/venv).
The tensor bytes are zeros: only the table is read."""
import pathlib

import numpy as np
import gguf

out = pathlib.Path(__file__).resolve().parent.parent / "lit-tests/diagnostics/Inputs/q5k.gguf"
w = gguf.GGUFWriter(str(out), "llama")
w.add_block_count(1)
w.add_context_length(64)
w.add_embedding_length(256)
w.add_feed_forward_length(256)
w.add_head_count(2)
w.add_head_count_kv(2)
w.add_layer_norm_rms_eps(1e-5)
w.add_tokenizer_model("gpt2")
w.add_token_list(["a", "b", "c"])
w.add_tensor("token_embd.weight", np.zeros((3, 256), dtype=np.float32))
q5k = np.zeros((256, 256 // 256 * 176), dtype=np.uint8)
w.add_tensor("blk.0.attn_q.weight", q5k, raw_dtype=gguf.GGMLQuantizationType.Q5_K)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(out, out.stat().st_size)
