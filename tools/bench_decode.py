#!/usr/bin/env python3
"""Decode speed of quantized GGUF models: agentc's exact kernels, agentc with int8
activations (`gguf(..., activations: "int8")`) and llama.cpp, in one run, interleaved.

    python3 tools/bench_decode.py FILE.gguf... [--threads 2] [--reps 5] [--new-tokens 64]
        [--baseline-agentc OTHER/agentc --baseline-label NAME] [--jobs 2]

For every GGUF: agentc builds two executables, three with a baseline
(`llm.generate(PROMPT, max_tokens: N)`), whose
decode steps are read from `--trace` (the median `decode_step` slice of a run); llama.cpp
(llama-cpp-python in `--llama-python`) loads the same file with `--threads` threads and
evaluates the same prompt, then N - 1 single tokens (greedy), timing each `eval`. The
systems take turns, rep by rep, so a slow minute of the machine hits them alike. With
`--baseline-agentc`, a second agentc's int8-activation executables take their turn too (an
A/B of a kernel change in one run). Printed:
the median over reps of each run's median step, tokens/s, the ratio to llama.cpp, and the
GGUF's bytes per step as a share of the gemv bandwidth limit (BANDWIDTH). docs/runtime-benchmark.md
"Quantized decode vs llama.cpp" has a result and the command.
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_models import BANDWIDTH, Worker, agentc_build  # noqa: E402

PROMPT = "Tell me about the history of Rome."


def llama_worker(path: str, threads: int) -> int:
    """llama.cpp through llama-cpp-python: answers {"new_tokens": N} with the prompt's
    evaluation and N - 1 greedy single-token evaluations."""
    import llama_cpp
    import numpy as np

    # logits_all: llama-cpp-python fills `scores` only then (0.3.16 left them zero, and
    # greedy decoding fed token 0 back); a one-token eval computes one row either way.
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=threads,
                          n_threads_batch=threads, logits_all=True, verbose=False)
    ids = llm.tokenize(PROMPT.encode(), add_bos=False, special=False)
    print(json.dumps({"ready": True, "llama_cpp": llama_cpp.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        llm.reset()
        llm.eval(ids)
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        steps, new = [], [nxt]
        for _ in range(req["new_tokens"] - 1):
            start = time.perf_counter()
            llm.eval([nxt])
            nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            steps.append(time.perf_counter() - start)
            new.append(nxt)
        text = llm.detokenize(new).decode("utf-8", "replace")
        print(json.dumps({"step_s": statistics.median(steps), "text": text}), flush=True)
    return 0


def agentc_step(exe: str, threads: int, work: str) -> tuple[float, str]:
    """The median decode step (s) of one run of `exe`, and its text."""
    trace = os.path.join(work, "trace.json")
    run = subprocess.run([exe, "--threads", str(threads), "--trace", trace, "--", PROMPT], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{exe} failed: {run.stderr.strip()}")
    with open(trace, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    steps = [e["dur"] / 1e6 for e in events if e.get("ph") == "X" and e.get("cat") == "decode_step"]
    return statistics.median(steps), run.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf", nargs="*", help="GGUF files (quantized: Q8_0, Q4_0, Q4_1, ...)")
    ap.add_argument("--agentc", default=os.path.join(ROOT, "target", "debug", "agentc"))
    ap.add_argument("--baseline-agentc", help="another agentc (e.g. a copy of an earlier build, with its "
                    "libagentc_runtime.a beside it) whose int8-activation executables run in the same reps")
    ap.add_argument("--baseline-label", default="baseline", help="the baseline's name in the table")
    ap.add_argument("--jobs", type=int, default=1, help="agentc builds at once (before any timing)")
    ap.add_argument("--llama-python", default="/tmp/llamacpp-venv/bin/python", help="a python with llama-cpp-python")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--llama-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.llama_worker:
        return llama_worker(args.llama_worker, args.threads)
    if not args.gguf:
        ap.error("give at least one GGUF file")
    for path in args.gguf:
        if not os.path.isfile(path):
            print(f"error: {path}: not a file", file=sys.stderr)
            return 2
    if not os.access(args.agentc, os.X_OK):
        print(f"error: {args.agentc} is not an executable (cargo build -p agentc -p agentc-runtime)", file=sys.stderr)
        return 2
    if args.baseline_agentc and not os.access(args.baseline_agentc, os.X_OK):
        print(f"error: {args.baseline_agentc} is not an executable (--baseline-agentc)", file=sys.stderr)
        return 2
    if not os.access(args.llama_python, os.X_OK):
        print(f"error: {args.llama_python} not found (a python with llama-cpp-python: --llama-python)", file=sys.stderr)
        return 2
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    here = os.path.abspath(__file__)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        # Every executable first, so the measurements run back to back; `--jobs` builds at
        # once (a SmolLM2 build with a debug agentc takes minutes, on one core).
        jobs = []
        for n, path in enumerate(args.gguf):
            path = os.path.abspath(path)
            int8 = f'gguf("{path}", activations: "int8")'
            variants = [("agentc exact", args.agentc, f'gguf("{path}")'), ("agentc int8 activations", args.agentc, int8)]
            if args.baseline_agentc:
                variants.append((f"agentc int8 activations ({args.baseline_label})", args.baseline_agentc, int8))
            jobs += [(path, label, agentc, expr, f"m{n}_{v}") for v, (label, agentc, expr) in enumerate(variants)]

        def build(job):
            path, label, agentc, expr, name = job
            print(f"{os.path.basename(path)}: building {label}", file=sys.stderr)
            return agentc_build(agentc, expr, work, name, args.new_tokens)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            built = list(pool.map(build, jobs))
        builds = {}
        for (path, label, _, _, _), (exe, why) in zip(jobs, built):
            if not exe:
                print(f"error: {path}: {label}: {why}", file=sys.stderr)
                return 1
            builds.setdefault(path, {})[label] = exe
        for path, systems in builds.items():
            name = os.path.basename(path)
            llama = Worker([args.llama_python, here, "--llama-worker", path, "--threads", str(args.threads)])
            label = f"llama.cpp {llama.hello['llama_cpp']}"
            systems[label] = llama
            steps = {k: [] for k in systems}
            texts = {}
            for rep in range(args.reps):
                for k, system in systems.items():
                    if isinstance(system, Worker):
                        answer = system.ask({"new_tokens": args.new_tokens})
                        step, text = answer["step_s"], answer["text"]
                    else:
                        step, text = agentc_step(system, args.threads, work)
                    steps[k].append(step)
                    texts[k] = text
                print(f"{name}: rep {rep + 1}/{args.reps}", file=sys.stderr)
            llama.close()
            size = os.path.getsize(path)
            base = statistics.median(steps[label])
            for k, v in steps.items():
                m = statistics.median(v)
                rows.append((name, k, m, base / m, size / m / BANDWIDTH[args.threads] if args.threads in BANDWIDTH else None, texts[k]))
    print(f"\nDecode, {args.threads} threads, median over {args.reps} runs of each run's median step "
          f"({args.new_tokens} tokens after a {len(PROMPT.split())}-word prompt); commit {commit}\n")
    print("| GGUF | system | step ms | tok/s | × llama.cpp | GGUF bytes per step, share of the bandwidth limit |")
    print("|---|---|---|---|---|---|")
    for name, k, m, ratio, share, _ in rows:
        print(f"| {name} | {k} | {m * 1e3:.2f} | {1 / m:.1f} | {ratio:.2f} | {'' if share is None else f'{share:.0%}'} |")
    print("\nFirst 60 characters of each system's text:")
    for r in rows:
        print(f"  {r[0]} {r[1]}: {r[5][:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
