#!/usr/bin/env python3
"""The runtime's measured latency at N concurrent requests against `agentc simulate`
(issue 11's goal: within 15 % at N = 1-4 on this machine; docs/simulation.md, "The runtime
under concurrent requests").

For each model: builds once an executable whose `main` runs `map p in args {
llm.generate(p, max_tokens: T) }`, runs it with N copies of one prompt (`--max-parallel N`,
so all N calls run at once, and `--threads` = the cores, as for one call alone) once
untimed and then `--reps` times with `--trace`, and takes each call's latency from the trace: the end of its
`decode` slice minus the start of the first `prefill` slice (the N requests arrive
together). It calibrates the host target once per model (`agentc calibrate --target host
--model M`, the prompt's length in words and T new tokens) and simulates the one-call
program `llm.generate("<the prompt>", max_tokens: T)` on that target with N arrivals at
time 0 (`--trace-file`), without batching (`--batching none`: what the runtime does) and,
for comparison, with continuous batching (the default). Without batching it simulates
twice: on the calibrated target, whose cpu has `cores` and the measured
`busy_cores_per_call` (calls share the cores), and on the same file without
`busy_cores_per_call` (each round the sum of its calls' times, the model before them).
Prints every command it runs and a table: medians over the runs of the N calls' mean and
max latency, the simulated mean and max, their ratios and whether both are within 15 %,
and the sum-of-times ratios.

Standalone, python3's standard library only. Run from the repository root after
`cargo build --release -p agentc -p agentc-runtime`, with the SmolLM2 GGUF in
examples/models/smollm2/ (git ignores it: a fresh worktree must be given a copy). The
host's load moves every figure, the busy cores too (docs/simulation.md):

    python3 tools/concurrency_check.py --lock /tmp/agentc-bench.lock
"""

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

MODELS = {
    "tiny-llama": ("examples/models/tiny-llama", 'hf("{path}")'),
    "smollm2": ("examples/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 'gguf("{path}", dtype: "f32")'),
}
# A story opening: SmolLM2-135M-Instruct continues it for well over 32 tokens without an
# end of sequence (a question gets a one-token answer), so every call decodes T tokens as
# the simulator assumes; the table shows the tokens each call generated.
PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="tiny-llama,smollm2", help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--ns", default="1,2,3,4", help="concurrent requests, comma-separated")
    ap.add_argument("--reps", type=int, default=5, help="runs per N (median)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--calibrate-reps", type=int, default=3)
    ap.add_argument("--agentc", default="target/release/agentc")
    ap.add_argument("--work", default="/tmp/agentc-concurrency", help="folder for programs, executables, traces")
    ap.add_argument("--lock", help="hold this flock(2) lock around every CPU-heavy command")
    ap.add_argument("--tolerance", type=float, default=0.15)
    return ap.parse_args()


@contextlib.contextmanager
def locked(path):
    if not path:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(cmd, lock, capture=True):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    with locked(lock):
        started = time.monotonic()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout, wall


def call_latencies(trace_path):
    """Per call (a prefill and the decode after it on the same lane): its latency from
    the first prefill's start, and the tokens it generated; and the most calls running at
    once."""
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    frags = sorted((e for e in events if e.get("cat") == "fragment" and e["name"] in ("prefill llm", "decode llm")), key=lambda e: e["ts"])
    steps = [e for e in events if e.get("cat") == "decode_step"]
    t0 = min(e["ts"] for e in frags if e["name"] == "prefill llm")
    calls, open_prefill = [], {}
    for e in frags:
        if e["name"] == "prefill llm":
            open_prefill[e["tid"]] = e
        else:
            p = open_prefill.pop(e["tid"])
            end = e["ts"] + e["dur"]
            n_steps = sum(1 for s in steps if s["tid"] == e["tid"] and e["ts"] <= s["ts"] <= end)
            calls.append({"start": p["ts"], "end": end, "latency": (end - t0) / 1e6, "tokens": n_steps + 1})
    edges = sorted([(c["start"], 1) for c in calls] + [(c["end"], -1) for c in calls])
    running = peak = 0
    for _, d in edges:
        running += d
        peak = max(peak, running)
    return calls, peak


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    args = parse_args()
    root = os.getcwd()
    agentc = os.path.abspath(args.agentc)
    if not os.path.exists(agentc):
        sys.exit(f"{agentc} not found: build it with `cargo build --release -p agentc -p agentc-runtime`")
    os.makedirs(args.work, exist_ok=True)
    ns = [int(n) for n in args.ns.split(",")]
    threads = os.cpu_count() or 1
    rows = []
    for name in args.models.split(","):
        rel, source = MODELS[name]
        path = os.path.join(root, rel)
        model = source.format(path=path)
        conc = os.path.join(args.work, f"conc-{name}.agent")
        write(conc, f"model llm = {model}\n\nagent main(args: list<text>) -> text {{\n"
                    f"    let outs = map p in args {{ llm.generate(p, max_tokens: {args.max_tokens}) }}\n"
                    f"    return join(outs, \"\\n\")\n}}\n")
        one = os.path.join(args.work, f"one-{name}.agent")
        write(one, f"model llm = {model}\n\nagent main() -> text {{\n"
                   f"    llm.generate(\"{PROMPT}\", max_tokens: {args.max_tokens})\n}}\n")
        exe = os.path.join(args.work, f"conc-{name}")
        run([agentc, "build", conc, "-o", exe], args.lock)
        target = os.path.join(args.work, f"host-{name}.toml")
        run([agentc, "calibrate", "--target", "host", "--model", path, "--prompt-words", str(len(PROMPT.split())),
             "--new-tokens", str(args.max_tokens), "--reps", str(args.calibrate_reps), "-o", target], args.lock)
        with open(target) as f:
            lines = f.read().splitlines(keepends=True)
        busy = [l.strip() for l in lines if l.startswith("busy_cores_per_call")]
        print(f"{name}: {busy[0] if busy else 'no busy_cores_per_call measured'}", flush=True)
        summed = os.path.join(args.work, f"host-{name}-sum.toml")
        write(summed, "".join(l for l in lines if not l.startswith("busy_cores_per_call")))
        for n in ns:
            means, maxes, walls, tokens, peaks = [], [], [], set(), set()
            # One untimed run first: the first run after building, calibrating or
            # simulating was up to 2.5x slower than the next ones for a 2 ms call.
            run([exe, "--max-parallel", str(n), "--threads", str(threads), "--"] + [PROMPT] * n, args.lock)
            for rep in range(args.reps):
                trace = os.path.join(args.work, f"trace-{name}-{n}-{rep}.json")
                _, wall = run([exe, "--max-parallel", str(n), "--threads", str(threads), "--trace", trace, "--"] + [PROMPT] * n, args.lock)
                calls, peak = call_latencies(trace)
                if len(calls) != n:
                    sys.exit(f"{trace}: {len(calls)} calls, expected {n}")
                lat = [c["latency"] for c in calls]
                means.append(statistics.fmean(lat))
                maxes.append(max(lat))
                walls.append(wall)
                tokens.update(c["tokens"] for c in calls)
                peaks.add(peak)
            arrivals = os.path.join(args.work, f"arrivals-{n}.csv")
            write(arrivals, "0\n" * n)
            sim = {}
            for key, on, batching in (("none", target, "none"), ("sum", summed, "none"), ("continuous", target, "continuous")):
                out, _ = run([agentc, "simulate", one, "--target", on, "--trace-file", arrivals, "--batching", batching, "--json"], None)
                lat = json.loads(out)["latency"]
                sim[key] = (lat["mean"], lat["p99"])  # p99 of at most 100 requests: the max
            rows.append((name, n, statistics.median(means), statistics.median(maxes), sim, statistics.median(walls),
                         sorted(tokens), sorted(peaks)))
    print()
    print(f"median of {args.reps} runs; latency of a call = end of its decode - start of the first prefill; "
          f"--threads {threads}; {args.max_tokens} tokens per call")
    print("| model | N | at once | tokens | measured mean | measured max | simulated mean | simulated max | ratio mean | ratio max "
          f"| within {args.tolerance:.0%} | sum of times: ratio mean | ratio max | batched (vLLM-style) max | process wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, mean, mx, sim, wall, tokens, peaks in rows:
        s_mean, s_max = sim["none"]
        r_mean, r_max = s_mean / mean, s_max / mx
        ok = all(abs(r - 1) <= args.tolerance for r in (r_mean, r_max))
        print(f"| {name} | {n} | {'/'.join(map(str, peaks))} | {'/'.join(map(str, tokens))} | {mean * 1e3:.1f} ms | {mx * 1e3:.1f} ms "
              f"| {s_mean * 1e3:.1f} ms | {s_max * 1e3:.1f} ms | {r_mean:.3f} | {r_max:.3f} | {'yes' if ok else 'no'} "
              f"| {sim['sum'][0] / mean:.3f} | {sim['sum'][1] / mx:.3f} | {sim['continuous'][1] * 1e3:.1f} ms | {wall:.2f} s |")


if __name__ == "__main__":
    main()
