#!/usr/bin/env python3
"""Runs agentc's PTX kernels on an NVIDIA GPU and compares them with the same kernels
compiled for the CPU and with float64 references.

Prepared here, run once on a lent GPU machine (see README.md beside this file):
  python3 gpu_check.py --ptx k.ptx --cpu-lib libk.so

The kernels are those of lit-tests/codegen/Inputs/numerics.mlir (cosine, a 256x128x512
matmul over 8 workgroups, a 4x64 softmax). Each kernel computes one workgroup; on the
CPU the harness calls it once per workgroup, on the GPU the grid is the CUDA grid (one
thread per block, as agentc's PTX mapping does today). Arguments follow MLIR's expanded
memref-descriptor ABI: (allocated, aligned, offset, sizes..., strides...) per memref.
Tolerance: |got - want| <= 1e-5 + 1e-4 |want|.
"""
import argparse
import ctypes
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
    """Expanded descriptor arguments for a cupy array."""
    args = [array, array, np.int64(0)]
    args += [np.int64(s) for s in array.shape]
    args += [np.int64(s // 4) for s in array.strides]
    return args


def close(got, want):
    got = np.asarray(got, dtype=np.float64)
    ok = np.abs(got - want) <= 1e-5 + 1e-4 * np.abs(want)
    return bool(ok.all()), float(np.max(np.abs(got - want)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptx", required=True)
    parser.add_argument("--cpu-lib", required=True)
    args = parser.parse_args()

    import cupy as cp

    lib = ctypes.CDLL(args.cpu_lib)
    module = cp.RawModule(path=args.ptx)
    print(f"device: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
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
    print(f"{3 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
