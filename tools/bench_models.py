#!/usr/bin/env python3
"""The model benchmark (docs/runtime-benchmark.md, "A real model"), run by hand, never in CI.

Times one greedy generation of a real model (default: SmolLM2-135M-Instruct as an f32 HF
folder, made once by tools/convert_smollm2.py) with agentc executables built from
bench/smollm2.agent, against PyTorch eager (transformers, greedy, same folder and prompt) in
the same run, repetitions interleaved. agentc figures come from each executable's --trace
(`prefill llm` fragment slice; the median `decode step llm` slice); PyTorch's from a streamer
that stamps every token (prefill: tokenise + forward + first token; decode: median gap).

Each figure is also given as a share of this machine's limit: decode, the f32 weight bytes
read per token over the measured gemv bandwidth (--bandwidth, GB/s); prefill, 2 · params ·
prompt tokens FLOPs over --flops (GFLOP/s, all threads).

usage: tools/bench_models.py --exe before=/tmp/app-old --exe after=/tmp/app-new \
           [--python /work/venv/bin/python] [--reps 5] [--threads 2] [--prompt TEXT]

The executables must have been built (`agentc build bench/smollm2.agent -o APP`); the
PyTorch side runs this file under --python with --torch-worker.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, "examples", "models", "smollm2-135m-f32")
DEFAULT_PROMPT = "The capital of France is"
NEW_TOKENS = 32  # bench/smollm2.agent's max_tokens


def torch_worker(model_dir: str) -> int:
    """Loads the model once, then answers {"prompt", "threads"} lines with timings."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()

    class Stamps(BaseStreamer):
        def __init__(self):
            self.times = []

        def put(self, value):
            self.times.append(time.perf_counter())

        def end(self):
            pass

    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(req["threads"])
        stamps = Stamps()
        with torch.inference_mode():
            t0 = time.perf_counter()
            enc = tok(req["prompt"], return_tensors="pt")
            out = model.generate(**enc, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False, streamer=stamps)
        times = stamps.times[1:]
        gaps = [b - a for a, b in zip(times, times[1:])]
        print(json.dumps({
            "prompt_tokens": int(enc["input_ids"].shape[1]),
            "prefill_s": times[0] - t0,
            "step_s": statistics.median(gaps),
            "text": tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True),
        }), flush=True)
    return 0


def agentc_run(exe: str, prompt: str, threads: int):
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.json")
        env = dict(os.environ)
        out = subprocess.run([exe, "--trace", trace, "--", *prompt.split(" ")], check=True, capture_output=True, text=True, env=env)
        with open(trace, encoding="utf-8") as f:
            data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    slices = [e for e in events if e.get("ph") == "X"]
    prefill = [e for e in slices if e["name"] == "prefill llm" and e.get("cat") == "fragment"][0]
    steps = [e["dur"] / 1e6 for e in slices if e.get("cat") == "decode_step"]
    return {"prefill_s": prefill["dur"] / 1e6, "step_s": statistics.median(steps), "text": out.stdout.strip()}


def model_figures(model_dir: str):
    """(f32 weight bytes, parameters) from the folder's safetensors header."""
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    params = 0
    for name, t in header.items():
        if name != "__metadata__":
            count = 1
            for d in t["shape"]:
                count *= d
            params += count
    return params * 4, params


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", action="append", default=[], metavar="NAME=PATH", help="an agentc executable of bench/smollm2.agent")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--python", default="/work/venv/bin/python", help="python with torch and transformers")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (agentc uses every core)")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT)
    ap.add_argument("--bandwidth", type=float, default=31.0, help="measured gemv bandwidth, GB/s (issue 9)")
    ap.add_argument("--flops", type=float, default=380.0, help="compute limit, GFLOP/s (2 x 190)")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args.model)

    exes = [e.split("=", 1) for e in args.exe]
    torch = None
    if not args.skip_torch:
        torch = subprocess.Popen([args.python, os.path.abspath(__file__), "--torch-worker", "--model", args.model],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        json.loads(torch.stdout.readline())
    results = {name: [] for name, _ in exes}
    results["pytorch"] = []
    for _ in range(args.reps):
        for name, exe in exes:
            results[name].append(agentc_run(exe, args.prompt, args.threads))
        if torch:
            torch.stdin.write(json.dumps({"prompt": args.prompt, "threads": args.threads}) + "\n")
            torch.stdin.flush()
            results["pytorch"].append(json.loads(torch.stdout.readline()))
    if torch:
        torch.stdin.close()
        torch.wait()

    weight_bytes, params = model_figures(args.model)
    prompt_tokens = results["pytorch"][0]["prompt_tokens"] if results["pytorch"] else None
    decode_limit = args.bandwidth * 1e9 / weight_bytes
    print(f"model {args.model}: {params / 1e6:.1f} M params, {weight_bytes / 1e6:.0f} MB f32; prompt {args.prompt!r}"
          + (f" ({prompt_tokens} tokens)" if prompt_tokens else ""))
    print(f"limits: decode {decode_limit:.1f} tok/s ({args.bandwidth} GB/s)"
          + (f", prefill {2 * params * prompt_tokens / (args.flops * 1e9) * 1e3:.1f} ms ({args.flops} GFLOP/s)" if prompt_tokens else ""))
    print("| run | prefill ms (median, range) | share of limit | decode tok/s (median) | share of limit |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        if not runs:
            continue
        pre = [r["prefill_s"] * 1e3 for r in runs]
        tps = [1 / r["step_s"] for r in runs]
        p, t = statistics.median(pre), statistics.median(tps)
        share_p = f"{2 * params * prompt_tokens / (args.flops * 1e9) * 1e3 / p:.0%}" if prompt_tokens else "-"
        print(f"| {name} | {p:.1f} ({min(pre):.1f}–{max(pre):.1f}) | {share_p} | {t:.1f} ({min(tps):.1f}–{max(tps):.1f}) | {t / decode_limit:.0%} |")
    for name, runs in results.items():
        if runs:
            print(f"{name} text: {runs[0]['text'][:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
