#!/usr/bin/env python3
"""The model benchmark (docs/runtime-benchmark.md, "A real model"), run by hand, never in CI.

Times greedy generations of SmolLM2-135M-Instruct (the GGUF tools/setup.sh fetches,
dequantised to f32 at load) with agentc executables built from bench/smollm2.agent, for a
prompt of 8 and one of 64 tokens, optionally against PyTorch eager (transformers loading
the same GGUF, f32) in the same run, repetitions interleaved. agentc figures come from each
executable's --trace (the `prefill llm` fragment slice; the median `decode step llm`
slice); PyTorch's from a streamer that stamps every token (prefill: tokenise + forward +
first token; decode: median gap).

Each figure is also given as a share of this machine's limit: decode, the f32 weight bytes
read per token over the measured gemv bandwidth (--bandwidth, GB/s); prefill, 2 · params ·
prompt tokens FLOPs over --flops (GFLOP/s, all threads).

usage: tools/bench_models.py --exe before=/tmp/app-old --exe after=/tmp/app-new \
           [--torch --python /work/venv/bin/python] [--reps 5] [--threads 2]

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
DEFAULT_MODEL = os.path.join(ROOT, "examples", "models", "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
# SmolLM2's tokenizer makes 8 and 64 tokens of these (no BOS is added).
_SENTENCE = "The capital of France is Paris, and the capital of Italy is Rome."
PROMPTS = {8: "The capital of France is Paris and the", 64: " ".join([_SENTENCE] * 4) + " The capital of Spain"}
PARAMS = 134515008  # SmolLM2-135M's parameters (tied embeddings: the lm_head reads them all)
NEW_TOKENS = 32  # bench/smollm2.agent's max_tokens


def torch_worker(model_file: str) -> int:
    """Loads the model once, then answers {"prompt", "threads"} lines with timings."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    folder, name = os.path.split(model_file)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32, attn_implementation="eager").eval()

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", action="append", default=[], metavar="NAME=PATH", help="an agentc executable of bench/smollm2.agent")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--python", default="/work/venv/bin/python", help="python with torch and transformers")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (agentc uses every core)")
    ap.add_argument("--bandwidth", type=float, default=31.0, help="measured gemv bandwidth, GB/s (issue 9)")
    ap.add_argument("--flops", type=float, default=380.0, help="compute limit, GFLOP/s (2 x 190)")
    ap.add_argument("--torch", action="store_true", help="also time PyTorch eager")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args.model)

    exes = [e.split("=", 1) for e in args.exe]
    torch = None
    if args.torch:
        torch = subprocess.Popen([args.python, os.path.abspath(__file__), "--torch-worker", "--model", args.model],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        json.loads(torch.stdout.readline())
    names = [name for name, _ in exes] + (["pytorch"] if torch else [])
    results = {(name, n): [] for name in names for n in PROMPTS}
    for _ in range(args.reps):
        for n, prompt in PROMPTS.items():
            for name, exe in exes:
                results[(name, n)].append(agentc_run(exe, prompt, args.threads))
            if torch:
                torch.stdin.write(json.dumps({"prompt": prompt, "threads": args.threads}) + "\n")
                torch.stdin.flush()
                r = json.loads(torch.stdout.readline())
                assert r["prompt_tokens"] == n, f"the {n}-token prompt is {r['prompt_tokens']} tokens"
                results[("pytorch", n)].append(r)
    if torch:
        torch.stdin.close()
        torch.wait()

    weight_bytes = PARAMS * 4
    decode_limit = args.bandwidth * 1e9 / weight_bytes
    print(f"model {args.model}: {PARAMS / 1e6:.1f} M params, {weight_bytes / 1e6:.0f} MB f32; {args.reps} reps")
    print(f"limits: decode {decode_limit:.1f} tok/s ({args.bandwidth} GB/s); prefill "
          + ", ".join(f"{n} tokens {2 * PARAMS * n / (args.flops * 1e9) * 1e3:.1f} ms" for n in PROMPTS) + f" ({args.flops} GFLOP/s)")
    print("| run | prompt tokens | prefill ms (median, range) | share of limit | decode tok/s (median, range) | share of limit |")
    print("|---|---|---|---|---|---|")
    for (name, n), runs in results.items():
        pre = [r["prefill_s"] * 1e3 for r in runs]
        tps = [1 / r["step_s"] for r in runs]
        p, t = statistics.median(pre), statistics.median(tps)
        limit_ms = 2 * PARAMS * n / (args.flops * 1e9) * 1e3
        print(f"| {name} | {n} | {p:.1f} ({min(pre):.1f}–{max(pre):.1f}) | {limit_ms / p:.0%} | {t:.1f} ({min(tps):.1f}–{max(tps):.1f}) | {t / decode_limit:.0%} |")
    for (name, n), runs in results.items():
        print(f"{name} ({n} tokens) text: {runs[0]['text'][:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
