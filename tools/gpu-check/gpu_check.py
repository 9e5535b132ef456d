#!/usr/bin/env python3
"""Runs agentc's PTX kernels on an NVIDIA GPU and compares them with the same kernels
compiled for the CPU and with float64 references.

Prepared here, run once on a lent GPU machine (see README.md beside this file):
  python3 gpu_check.py --ptx k.ptx --cpu-lib libk.so [--llama-ptx llama.ptx --llama-dir DIR]

The kernels are those of lit-tests/codegen/Inputs/numerics.mlir (cosine, a 256x128x512
matmul over 8 workgroups, a 4x64 softmax). Each kernel computes one workgroup; on the
CPU the harness calls it once per workgroup, on the GPU the grid is the CUDA grid (one
thread per block, as agentc's PTX mapping does today). Arguments follow MLIR's expanded
memref-descriptor ABI: (allocated, aligned, offset, sizes..., strides...) per memref.
Tolerance: |got - want| <= 1e-5 + 1e-4 |want|.

With --llama-ptx (the PTX of a program using the tiny Llama, lit-tests/numerics/Inputs/
llama.agent) it also runs the model: for each case of DIR/reference.json, the
llama_prefill kernel over the prompt's ids with the weights of DIR/model.safetensors
(bound in the order of the `llama_prefill__weights` string the PTX carries: weight names,
one per line), compared with transformers' last-position logits; then one
llama_decode_step from the prefill's KV cache, compared with the reference decode logits.
Same tolerance as the CPU numerics test (lit-tests/numerics/tiny-llama.mlir).
"""
import argparse
import ctypes
import json
import os
import re
import sys

import numpy as np

KERNELS = {
    # name: (grid, [input shapes], output shape)
    "cosine": (1, [(64,), (64,)], ()),
    "matmul": (8, [(256, 128), (128, 512)], (256, 512)),
    "softmax": (1, [(4, 64)], (4, 64)),
}


def reference(name, inputs):
    x = [i.astype(np.float64) for i in inputs]
    if name == "cosine":
        return np.array(np.dot(x[0], x[1]) / (np.linalg.norm(x[0]) * np.linalg.norm(x[1])))
    if name == "matmul":
        return x[0] @ x[1]
    e = np.exp(x[0] - x[0].max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def descriptor(array):
    """The C-interface memref descriptor of a contiguous float32 array."""
    rank = array.ndim
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    D = type(f"D{rank}", (ctypes.Structure,), {"_fields_": fields})
    d = D()
    d.allocated = d.aligned = array.ctypes.data
    d.offset = 0
    if rank:
        d.sizes[:] = array.shape
        d.strides[:] = [s // 4 for s in array.strides]
    return d


def run_cpu(lib, name, grid, inputs, out):
    fn = getattr(lib, f"_mlir_ciface_{name}")
    descs = [descriptor(a) for a in inputs] + [descriptor(out)]
    for wg in range(grid):
        fn(*[ctypes.byref(d) for d in descs], ctypes.c_int64(wg))
    return out


def expanded(cp, array):
    """Expanded descriptor arguments for a cupy array (strides in elements)."""
    args = [array, array, np.int64(0)]
    args += [np.int64(s) for s in array.shape]
    args += [np.int64(s // array.itemsize) for s in array.strides]
    return args


def close(got, want):
    got = np.asarray(got, dtype=np.float64)
    ok = np.abs(got - want) <= 1e-5 + 1e-4 * np.abs(want)
    return bool(ok.all()), float(np.max(np.abs(got - want)))


# ---- the tiny Llama's prefill and decode step ----

def ptx_string(ptx, symbol):
    """The bytes of `.global .b8 SYMBOL[N] = {...}` in the PTX text, as a str."""
    m = re.search(r"\.b8 " + re.escape(symbol) + r"\[\d+\] = \{([^}]*)\}", ptx)
    if not m:
        raise SystemExit(f"the PTX has no global string {symbol}")
    return bytes(int(b) for b in m.group(1).split(",")).decode().rstrip("\x00")


def ptx_param_count(ptx, entry):
    m = re.search(r"\.entry " + re.escape(entry) + r"\((.*?)\)", ptx, re.S)
    if not m:
        raise SystemExit(f"the PTX has no kernel {entry}")
    return len(re.findall(re.escape(entry) + r"_param_\d+", m.group(1)))


def safetensors(path):
    """name -> float32 numpy array, from the 8-byte header length, JSON header, data."""
    data = open(path, "rb").read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {entry['dtype']}, only F32 is read")
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=np.float32).reshape(entry["shape"])
    return out


def llama_check(cp, ptx_path, model_dir):
    ptx = open(ptx_path).read()
    module = cp.RawModule(path=ptx_path)
    config = json.load(open(os.path.join(model_dir, "config.json")))
    weights = safetensors(os.path.join(model_dir, "model.safetensors"))
    reference = json.load(open(os.path.join(model_dir, "reference.json")))
    heads = config["num_attention_heads"]
    hd = config.get("head_dim") or config["hidden_size"] // heads
    cache_shape = (config["num_hidden_layers"], config["max_position_embeddings"], config["num_key_value_heads"], hd)
    vocab = config["vocab_size"]
    bound = {}
    for fn in ("llama_prefill", "llama_decode_step"):
        names = [n for n in ptx_string(ptx, fn + "__weights").split("\n") if n]
        bound[fn] = [cp.asarray(weights[n]) for n in names]
        print(f"{fn}: {len(names)} weights bound by the PTX's {fn}__weights, {ptx_param_count(ptx, fn)} kernel parameters")

    def launch(fn, arrays):
        args = []
        for a in arrays:
            args += expanded(cp, a)
        want = ptx_param_count(ptx, fn)
        if len(args) != want:
            raise SystemExit(f"{fn}: {len(args)} arguments built, the kernel has {want}: the ABI assumed here is stale")
        module.get_function(fn)((1, 1, 1), (1, 1, 1), tuple(args))
        cp.cuda.runtime.deviceSynchronize()

    failures = 0
    for c, case in enumerate(reference["cases"]):
        ids = cp.asarray(np.array(case["input_ids"], dtype=np.int64))
        logits = cp.full((vocab,), cp.nan, dtype=cp.float32)
        k = cp.zeros(cache_shape, dtype=cp.float32)
        v = cp.zeros(cache_shape, dtype=cp.float32)
        # logits, k, v = prefill(ids)
        launch("llama_prefill", [ids] + bound["llama_prefill"] + [logits, k, v])
        want = np.array(case["last_logits"], dtype=np.float64)
        ok, err = close(cp.asnumpy(logits), want)
        failures += not ok
        print(f"case {c} prefill logits (T={len(case['input_ids'])}): max err {err:.3g}: {'ok' if ok else 'FAIL'}")
        step = case.get("decode_step")
        if not step:
            continue
        # logits, k2, v2 = decode_step(token, position, k, v)
        token = cp.asarray(np.array(step["token"], dtype=np.int64))
        position = cp.asarray(np.array(step["position"], dtype=np.int64))
        k2 = cp.zeros(cache_shape, dtype=cp.float32)
        v2 = cp.zeros(cache_shape, dtype=cp.float32)
        logits[...] = cp.nan
        launch("llama_decode_step", [token, position, k, v] + bound["llama_decode_step"] + [logits, k2, v2])
        ok, err = close(cp.asnumpy(logits), np.array(step["logits"], dtype=np.float64))
        failures += not ok
        print(f"case {c} decode logits (position {step['position']}): max err {err:.3g}: {'ok' if ok else 'FAIL'}")
    checks = sum(2 if case.get("decode_step") else 1 for case in reference["cases"])
    print(f"tiny llama: {checks - failures} passed, {failures} failed")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptx", help="PTX of lit-tests/codegen/Inputs/numerics.mlir")
    parser.add_argument("--cpu-lib", help="the same kernels as a shared library for the CPU")
    parser.add_argument("--llama-ptx", help="PTX of a program using the tiny Llama (prefill, decode step)")
    parser.add_argument("--llama-dir", default="examples/models/tiny-llama")
    parser.add_argument("--heap-mib", type=int, default=256, help="device malloc heap (the model kernels' buffers)")
    args = parser.parse_args()
    if not args.llama_ptx and not (args.ptx and args.cpu_lib):
        parser.error("give --ptx and --cpu-lib, or --llama-ptx, or both")

    import cupy as cp

    # The kernels' intermediate buffers come from the device heap (PTX malloc/free); its
    # size can only be set before the first kernel that uses it.
    cp.cuda.runtime.deviceSetLimit(getattr(cp.cuda.runtime, "cudaLimitMallocHeapSize", 2), args.heap_mib << 20)
    print(f"device: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    failures = 0
    if args.ptx and args.cpu_lib:
        failures += fn_kernels_check(cp, args)
    if args.llama_ptx:
        failures += llama_check(cp, args.llama_ptx, args.llama_dir)
    print("all ok" if not failures else f"{failures} checks failed")
    return 1 if failures else 0


def fn_kernels_check(cp, args):
    lib = ctypes.CDLL(args.cpu_lib)
    module = cp.RawModule(path=args.ptx)
    rng = np.random.default_rng(0)
    failures = 0
    for name, (grid, shapes, out_shape) in KERNELS.items():
        inputs = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]
        want = reference(name, inputs)
        cpu = run_cpu(lib, name, grid, inputs, np.full(out_shape, np.nan, dtype=np.float32))
        gpu_inputs = [cp.asarray(a) for a in inputs]
        gpu_out = cp.full(out_shape, cp.nan, dtype=cp.float32)
        kernel_args = []
        for a in gpu_inputs + [gpu_out]:
            kernel_args += expanded(cp, a)
        module.get_function(name)((grid, 1, 1), (1, 1, 1), tuple(kernel_args))
        cp.cuda.runtime.deviceSynchronize()
        gpu = cp.asnumpy(gpu_out)
        ok_ref, err_ref = close(gpu, want)
        ok_cpu, err_cpu = close(gpu, cpu.astype(np.float64))
        ok_cpu_ref, err_cpu_ref = close(cpu, want)
        status = "ok" if ok_ref and ok_cpu and ok_cpu_ref else "FAIL"
        failures += status != "ok"
        print(f"{name:8} grid {grid}: gpu vs float64 max err {err_ref:.3g}, gpu vs cpu kernel {err_cpu:.3g}, "
              f"cpu vs float64 {err_cpu_ref:.3g}: {status}")
    print(f"fn kernels: {3 - failures} passed, {failures} failed")
    return failures


if __name__ == "__main__":
    sys.exit(main())
