#!/usr/bin/env python3
"""The runtime benchmark (docs/runtime-benchmark.md), run by hand, never in CI or tests.

Measures, in one run:

1. The tiny Llama (examples/models/tiny-llama) compiled by agentc into an executable
   (bench/generate.agent, bench/generate_warm.agent) against PyTorch eager
   (transformers `LlamaForCausalLM.generate`, greedy, same weights, prompt and number of
   new tokens), with torch.set_num_threads equal to the executable's thread count, and
   with 1 thread on both sides. agentc figures come from the executable's --trace slices
   (`prefill llm`, `decode llm`, one `decode step llm` per step) and from the wall time of
   the whole process; PyTorch figures from a streamer that timestamps every new token.
   The same generation is also built against copies of the model with another KV cache
   capacity (--contexts), since the compiled decode step's cost follows the capacity.
2. The runtime's per-iteration and per-fragment overhead (bench/overhead.agent): a loop of
   N iterations with and without a host fragment in its body, N = 0 and N large.

agentc and PyTorch repetitions are interleaved (one PyTorch process stays loaded and is
asked for one generation at a time), so a busy machine slows both alike. Medians are
reported with the range of the repetitions.

usage: tools/bench_runtime.py [--python-venv DIR] [--reps N] [--build] ...  (see --help)

The PyTorch side runs this same file under the venv's python with --torch-worker.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(ROOT, "examples", "models", "tiny-llama")
BENCH = os.path.join(ROOT, "bench")
GENERATE = os.path.join(BENCH, "generate.agent")
GENERATE_WARM = os.path.join(BENCH, "generate_warm.agent")
OVERHEAD = os.path.join(BENCH, "overhead.agent")
DEFAULT_PROMPT = "Once upon a time"  # reference.json case 0: 117 greedy tokens, no EOS, before the 128-token context ends


# --------------------------------------------------------------------------- PyTorch side


def torch_worker(attn: str) -> int:
    """Loads the model once, then answers one JSON request per stdin line with one JSON line.

    Request: {"prompt", "max_new_tokens", "threads"}. The timed region starts before
    tokenising the prompt and ends after decoding the new tokens to text (as the
    executable's prefill fragment tokenises and its decode fragment detokenises).
    """
    started = time.perf_counter()
    import torch
    import transformers
    from transformers import AutoTokenizer, LlamaForCausalLM
    from transformers.generation.streamers import BaseStreamer

    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = LlamaForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation=attn).eval()
    eos = model.generation_config.eos_token_id

    class Stamps(BaseStreamer):
        """Records the time of every put: the prompt first, then each new token as it is chosen."""

        def __init__(self):
            self.times = []

        def put(self, value):
            self.times.append(time.perf_counter())

        def end(self):
            pass

    ready = {
        "ready": True,
        "load_s": time.perf_counter() - started,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "attn": attn,
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(req["threads"])
        stamps = Stamps()
        with torch.inference_mode():
            t0 = time.perf_counter()
            enc = tok(req["prompt"], return_tensors="pt")
            out = model.generate(
                **enc,
                max_new_tokens=req["max_new_tokens"],
                do_sample=False,
                pad_token_id=eos,
                streamer=stamps,
            )
            new_ids = out[0, enc["input_ids"].shape[1]:].tolist()
            text = tok.decode(new_ids, skip_special_tokens=True)
            t1 = time.perf_counter()
        token_times = stamps.times[1:]  # [0] is the prompt
        reply = {
            "threads": torch.get_num_threads(),
            "prompt_tokens": int(enc["input_ids"].shape[1]),
            "new_ids": new_ids,
            "text": text,
            "eos_in_new": eos in new_ids if isinstance(eos, int) else any(e in new_ids for e in (eos or [])),
            "total_s": t1 - t0,
            "prefill_s": token_times[0] - t0,  # tokenise + prefill forward + first token chosen
            "decode_s": token_times[-1] - token_times[0],  # len(new_ids) - 1 decode forwards
        }
        print(json.dumps(reply), flush=True)
    return 0


def torch_cold(attn: str, prompt: str, n: int, threads: int) -> int:
    """A whole PyTorch process for one generation (the parent times it)."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = LlamaForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation=attn).eval()
    with torch.inference_mode():
        enc = tok(prompt, return_tensors="pt")
        out = model.generate(**enc, max_new_tokens=n, do_sample=False, pad_token_id=model.generation_config.eos_token_id)
    sys.stdout.write(tok.decode(out[0, enc["input_ids"].shape[1]:].tolist(), skip_special_tokens=True) + "\n")
    return 0


class TorchWorker:
    def __init__(self, python: str, attn: str):
        self.proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--torch-worker", "--attn", attn],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.info = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"error: the PyTorch worker exited (status {self.proc.wait()}); run it by hand: "
                             f"{self.proc.args[0]} {__file__} --torch-worker")
        return json.loads(line)

    def generate(self, prompt: str, n: int, threads: int):
        self.proc.stdin.write(json.dumps({"prompt": prompt, "max_new_tokens": n, "threads": threads}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# --------------------------------------------------------------------------- agentc side


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def max_tokens_of(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        found = set(int(m) for m in re.findall(r"max_tokens:\s*(\d+)", f.read()))
    if len(found) != 1:
        raise SystemExit(f"error: {path}: expected one max_tokens value, found {sorted(found)}")
    return found.pop()


def find_agentc(explicit):
    if explicit:
        return os.path.abspath(explicit)
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "agentc")
        if os.path.isfile(path):
            return path
    raise SystemExit("error: no target/{release,debug}/agentc: run `cargo build -p agentc -p agentc-runtime` (or pass --build)")


def newest_source(folder: str) -> float:
    newest = 0.0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".rs") or name == "Cargo.toml":
                newest = max(newest, os.path.getmtime(os.path.join(dirpath, name)))
    return newest


def runtime_lib(profile: str) -> str:
    lib = os.path.join(ROOT, "target", profile, "libagentc_runtime.a")
    if not os.path.isfile(lib):
        flag = " --release" if profile == "release" else ""
        raise SystemExit(f"error: {lib} is missing: run `cargo build{flag} -p agentc-runtime` (or pass --build)")
    if newest_source(os.path.join(ROOT, "runtime")) > os.path.getmtime(lib):
        print(f"warning: {lib} is older than runtime/ sources; rebuild it (or pass --build)", file=sys.stderr)
    return lib


def trace_slices(path: str):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    return [e for e in events if e.get("ph") == "X"]


def generation_figures(slices, which: int):
    """Figures of the `which`-th generate call (0-based) of a trace, durations in seconds."""
    # Actual fragments only (cat `fragment`; a trace may also hold the schedule's planned slices).
    prefill = sorted((e for e in slices if e["name"] == "prefill llm" and e.get("cat") == "fragment"), key=lambda e: e["ts"])
    decode = sorted((e for e in slices if e["name"] == "decode llm" and e.get("cat") == "fragment"), key=lambda e: e["ts"])
    steps = sorted((e for e in slices if e.get("cat") == "decode_step"), key=lambda e: e["ts"])
    p, d = prefill[which], decode[which]
    mine = [e for e in steps if p["ts"] <= e["ts"] <= d["ts"] + d["dur"]]
    return {
        "prefill_s": p["dur"] / 1e6,
        "decode_s": d["dur"] / 1e6,
        "steps": len(mine),
        "step_kernels_s": sum(e["dur"] for e in mine) / 1e6,
        "generate_s": (d["ts"] + d["dur"] - p["ts"]) / 1e6,
    }


def timed(cmd, **kw):
    t0 = time.perf_counter()
    result = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, **kw)
    return time.perf_counter() - t0, result.stdout


# --------------------------------------------------------------------------- helpers


def med(xs):
    return statistics.median(xs)


def num(x, digits=3):
    """`digits` significant digits, or the whole number when it has more digits than that."""
    if x >= 10 ** (digits - 1):
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def fmt(xs, scale=1.0, digits=3):
    """median (min–max) of xs × scale."""
    xs = [x * scale for x in xs]
    return f"{num(med(xs), digits)} ({num(min(xs), digits)}–{num(max(xs), digits)})"


def machine():
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    flags = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("flags"):
                have = line.split(":", 1)[1].split()
                flags = " ".join(x for x in ("avx2", "avx512f", "amx_tile") if x in have)
                break
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem, "isa": flags, "kernel": platform.release()}


def git_state():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "?"


def busy_cpu_s():
    """CPU seconds all processes of the machine have used since boot (/proc/stat: user, nice,
    system, irq, softirq; USER_HZ ticks)."""
    with open("/proc/stat", encoding="utf-8") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def own_cpu_s():
    """CPU seconds of this process and of its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def loadavg():
    with open("/proc/loadavg", encoding="utf-8") as f:
        return " ".join(f.read().split()[:3])


def count_iteration_ops(plan):
    """Plan ops executed by one iteration of each `loop` in main (an `if` counts itself and
    its longer region: the branch that continues the loop, not the one that breaks)."""

    def region_ops(region):
        return region if isinstance(region, list) else region.get("ops", region.get("body", []))

    def executed(ops):
        n = 0
        for op in ops:
            n += 1
            regions = op.get("regions", [])
            if op["op"] == "if" and regions:
                n += max(executed(region_ops(r)) for r in regions)
            elif op["op"] != "loop":
                n += sum(executed(region_ops(r)) for r in regions)
        return n

    def fragments(ops):
        n = 0
        for op in ops:
            n += "placement" in op
            regions = op.get("regions", [])
            if op["op"] == "if" and regions:
                n += max(fragments(region_ops(r)) for r in regions)
            else:
                n += sum(fragments(region_ops(r)) for r in regions)
        return n

    loops = []

    def find(ops):
        for op in ops:
            if op["op"] == "loop":
                body = [o for r in op["regions"] for o in region_ops(r)]
                loops.append((executed(body), fragments(body), [o["op"] for o in body]))
            for r in op.get("regions", []):
                find(region_ops(r))

    main = next(f for f in plan["functions"] if f["name"] == "main")
    find(main["body"])
    return loops


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python-venv", default="/tmp/refvenv", help="venv with torch and transformers (default /tmp/refvenv)")
    ap.add_argument("--reps", type=int, default=11, help="repetitions of each generation measurement (default 11)")
    ap.add_argument("--cold-reps", type=int, default=3, help="whole PyTorch processes timed (default 3; each imports torch)")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT)
    ap.add_argument("--attn", default="eager", help="transformers attn_implementation (default eager, as tools/gen_tiny_models.py)")
    ap.add_argument("--overhead-iterations", type=int, default=200000, help="N of the overhead loop (default 200000)")
    ap.add_argument("--overhead-reps", type=int, default=5)
    ap.add_argument("--agentc", help="the agentc to build with (default target/release/agentc, else target/debug/agentc)")
    ap.add_argument("--runtime-profile", choices=("release", "debug"), default="release",
                    help="link target/PROFILE/libagentc_runtime.a through AGENTC_RUNTIME_LIB (default release)")
    ap.add_argument("--runtime-lib", help="link this libagentc_runtime.a instead of target/PROFILE's")
    ap.add_argument("--build", action="store_true",
                    help="first run `cargo build -p agentc -p agentc-runtime` and, for --runtime-profile release, "
                         "`cargo build --release -p agentc-runtime` (one after the other)")
    ap.add_argument("--skip-torch", action="store_true", help="agentc figures only")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--contexts", default="128",
                    help="also build bench/generate.agent against copies of the model whose max_position_embeddings "
                         "is each of these (comma-separated; '' for none) and time its decode steps: the compiled "
                         "decode step attends over the whole KV cache capacity (default 128)")
    ap.add_argument("--json", help="also write every sample to this file")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--torch-cold", nargs=3, metavar=("PROMPT", "N", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.torch_worker:
        return torch_worker(args.attn)
    if args.torch_cold:
        prompt, n, threads = args.torch_cold
        return torch_cold(args.attn, prompt, int(n), int(threads))

    if args.build:
        run(["cargo", "build", "-p", "agentc", "-p", "agentc-runtime"], cwd=ROOT)
        if args.runtime_profile == "release":
            run(["cargo", "build", "--release", "-p", "agentc-runtime"], cwd=ROOT)
    agentc = find_agentc(args.agentc)
    lib = os.path.abspath(args.runtime_lib) if args.runtime_lib else runtime_lib(args.runtime_profile)
    n_new = max_tokens_of(GENERATE)
    if max_tokens_of(GENERATE_WARM) != n_new:
        raise SystemExit("error: bench/generate.agent and bench/generate_warm.agent disagree on max_tokens")
    cores = os.cpu_count() or 1
    python = os.path.join(args.python_venv, "bin", "python")
    if not args.skip_torch and not os.path.isfile(python):
        raise SystemExit(f"error: no {python}: python3 -m venv {args.python_venv} && {args.python_venv}/bin/pip install torch transformers "
                         "(or pass --python-venv, or --skip-torch)")

    work = tempfile.mkdtemp(prefix="bench-runtime-")
    env = dict(os.environ, AGENTC_RUNTIME_LIB=lib)
    apps = {}
    for name, src in (("generate", GENERATE), ("warm", GENERATE_WARM), ("overhead", OVERHEAD)):
        apps[name] = os.path.join(work, name)
        run([agentc, "build", src, "-o", apps[name]], env=env, cwd=ROOT)
    with open(os.path.join(MODEL_DIR, "config.json"), encoding="utf-8") as f:
        context = json.load(f)["max_position_embeddings"]
    contexts = [int(c) for c in args.contexts.split(",") if c.strip() and int(c) != context]
    for c in contexts:
        # The same weights and tokenizer (linked, not copied), another KV cache capacity.
        model = os.path.join(work, f"tiny-llama-{c}")
        os.makedirs(model)
        for name in os.listdir(MODEL_DIR):
            os.symlink(os.path.join(MODEL_DIR, name), os.path.join(model, name))
        os.remove(os.path.join(model, "config.json"))
        with open(os.path.join(MODEL_DIR, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        config["max_position_embeddings"] = c
        with open(os.path.join(model, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        with open(GENERATE, encoding="utf-8") as f:
            source = f.read().replace('hf("../examples/models/tiny-llama")', f"hf({json.dumps(model)})")
        src = os.path.join(work, f"generate-{c}.agent")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        apps[f"context {c}"] = os.path.join(work, f"generate-{c}")
        run([agentc, "build", src, "-o", apps[f"context {c}"]], env=env, cwd=ROOT)
    plan = json.loads(run([agentc, "build", OVERHEAD, "--emit=plan"], cwd=ROOT, stdout=subprocess.PIPE).stdout)
    trace = os.path.join(work, "trace.json")

    info = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "git": git_state(),
        "agentc": os.path.relpath(agentc, ROOT),
        "runtime_lib": os.path.relpath(lib, ROOT) if lib.startswith(ROOT) else lib,
        "prompt": args.prompt,
        "new_tokens": n_new,
        "load_before": loadavg(),
    }
    started, busy0, own0 = time.perf_counter(), busy_cpu_s(), own_cpu_s()
    print(f"# {info['date']}  {info['machine']}  git {info['git']}", file=sys.stderr)
    print(f"# agentc {info['agentc']}, runtime {info['runtime_lib']}, load {info['load_before']}", file=sys.stderr)

    # ---------------------------------------------------------------- 1. tokens per second
    configs = [("cores", cores, []), ("1", 1, ["--max-parallel", "1"])] if cores > 1 else [("1", 1, [])]
    worker = None if args.skip_torch else TorchWorker(python, args.attn)
    if worker:
        info["torch"] = {k: worker.info[k] for k in ("torch", "transformers", "python", "attn")}
    samples = {label: {"agentc": [], "agentc_warm": [], "agentc_wall": [], "torch": []} for label, _, _ in configs}
    expected_text = None
    for label, threads, flags in configs:
        # Warm-up: page cache, CPU frequency, PyTorch's first calls.
        subprocess.run([apps["generate"], *flags, "--", *args.prompt.split(" ")], check=True, stdout=subprocess.DEVNULL)
        if worker:
            for _ in range(2):
                worker.generate(args.prompt, n_new, threads)
        for rep in range(args.reps):
            wall, out = timed([apps["generate"], *flags, "--", *args.prompt.split(" ")])
            samples[label]["agentc_wall"].append(wall)
            _, out_traced = timed([apps["generate"], *flags, "--trace", trace, "--", *args.prompt.split(" ")])
            cold = generation_figures(trace_slices(trace), 0)
            _, out_warm = timed([apps["warm"], *flags, "--trace", trace, "--", *args.prompt.split(" ")])
            warm = generation_figures(trace_slices(trace), 1)
            texts = {out.decode("utf-8", "replace"), out_traced.decode("utf-8", "replace"), out_warm.decode("utf-8", "replace")}
            if len(texts) != 1:
                raise SystemExit("error: the agentc runs gave different results")
            text = texts.pop()[:-1]  # the executable adds one newline
            if cold["steps"] != n_new - 1 or warm["steps"] != n_new - 1:
                raise SystemExit(f"error: agentc ran {cold['steps']} / {warm['steps']} decode steps, not {n_new - 1}: "
                                 "the generation stopped early (EOS?); pick another --prompt")
            samples[label]["agentc"].append(cold)
            samples[label]["agentc_warm"].append(warm)
            if worker:
                t = worker.generate(args.prompt, n_new, threads)
                if t["threads"] != threads:
                    raise SystemExit(f"error: torch runs {t['threads']} threads, asked {threads}")
                if len(t["new_ids"]) != n_new or t["eos_in_new"]:
                    raise SystemExit(f"error: PyTorch generated {len(t['new_ids'])} tokens (EOS: {t['eos_in_new']}), "
                                     f"not {n_new}; pick another --prompt")
                if t["text"] != text:
                    raise SystemExit(f"error: different texts:\n agentc  {text!r}\n PyTorch {t['text']!r}")
                samples[label]["torch"].append(t)
            if expected_text is None:
                expected_text = text
            print(f"  {label} threads, rep {rep + 1}/{args.reps}", file=sys.stderr)
    if worker:
        info["torch_load_s"] = worker.info["load_s"]
        worker.close()
    cold_torch = []
    if worker:
        for _ in range(args.cold_reps):
            wall, out = timed([python, os.path.abspath(__file__), "--attn", args.attn, "--torch-cold", args.prompt, str(n_new), str(cores)],
                              stderr=subprocess.DEVNULL, cwd=ROOT)
            if out.decode("utf-8", "replace")[:-1] != expected_text:
                raise SystemExit("error: the whole-process PyTorch run gave another text")
            cold_torch.append(wall)

    # ---------------------------------------------------------------- 1b. KV cache capacity
    by_context = {context: [x for x in samples[configs[-1][0]]["agentc"]]}
    for c in contexts:
        flags = configs[-1][2]
        by_context[c] = []
        for _ in range(args.reps):
            _, out = timed([apps[f"context {c}"], *flags, "--trace", trace, "--", *args.prompt.split(" ")])
            if out.decode("utf-8", "replace")[:-1] != expected_text:
                raise SystemExit(f"error: the build with a {c}-token context gave another text")
            by_context[c].append(generation_figures(trace_slices(trace), 0))

    # ---------------------------------------------------------------- 2. overhead
    overhead = {}
    if not args.skip_overhead:
        n_iter = args.overhead_iterations
        variants = [("ops", "ops", []), ("fragment", "fragment", []), ("fragment, --trace", "fragment", ["--trace", trace])]
        for label, mode, flags in variants:
            overhead[label] = {"0": [], "N": []}
        for _ in range(args.overhead_reps):
            for label, mode, flags in variants:
                for key, n in (("0", 0), ("N", n_iter)):
                    wall, out = timed([apps["overhead"], *flags, "--", str(n), mode, "hello"])
                    want = n * (5 if mode == "fragment" else 1)
                    if out.decode().strip() != str(want):
                        raise SystemExit(f"error: overhead.agent printed {out.decode().strip()!r}, not {want}")
                    overhead[label][key].append(wall)
        if os.path.exists(trace):
            os.remove(trace)

    info["load_after"] = loadavg()
    elapsed = time.perf_counter() - started
    info["others_cores"] = max(0.0, (busy_cpu_s() - busy0) - (own_cpu_s() - own0)) / elapsed
    info["elapsed_s"] = elapsed
    shutil.rmtree(work, ignore_errors=True)

    # ---------------------------------------------------------------- report
    print(f"\nMachine: {info['machine']['cores']} vCPU {info['machine']['cpu']} ({info['machine']['isa']}), "
          f"{info['machine']['memory']}, Linux {info['machine']['kernel']}; load {info['load_before']} → {info['load_after']}; "
          f"other processes used {info['others_cores']:.2f} cores on average during the {info['elapsed_s']:.0f} s of measurement")
    print(f"Date {info['date']}, git {info['git']}; built with {info['agentc']}, runtime {info['runtime_lib']}")
    if "torch" in info:
        t = info["torch"]
        print(f"PyTorch {t['torch']}, transformers {t['transformers']}, Python {t['python']}, attn_implementation={t['attn']}")
    first = next(iter(samples.values()))
    prompt_tokens = first["torch"][0]["prompt_tokens"] if first["torch"] else "?"
    print(f"Prompt {args.prompt!r} ({prompt_tokens} tokens incl. BOS), {n_new} new tokens (prefill + {n_new - 1} decode steps), "
          f"greedy; texts equal on both sides; {args.reps} repetitions, median (min–max)\n")

    print("| threads (agentc / torch) | figure | agentc | PyTorch eager | speed-up (PyTorch time ÷ agentc time) |")
    print("|---|---|---|---|---|")
    for label, threads, flags in configs:
        s = samples[label]
        tl = f"{threads} ({' '.join(flags) or 'default'}) / {threads}"
        a, w, tw = s["agentc"], s["agentc_warm"], s["torch"]

        def row(name, agentc_xs, torch_xs, unit_scale, digits=3, higher_better=False):
            ratio = ""
            if torch_xs:
                r = (med(agentc_xs) / med(torch_xs)) if higher_better else (med(torch_xs) / med(agentc_xs))
                ratio = f"{r:.2f}×"
            tv = fmt(torch_xs, unit_scale, digits) if torch_xs else "—"
            print(f"| {tl} | {name} | {fmt(agentc_xs, unit_scale, digits)} | {tv} | {ratio} |")

        dec_tps = lambda xs: [(n_new - 1) / x for x in xs]  # noqa: E731
        row("prefill, ms (fresh process)", [x["prefill_s"] for x in a], [x["prefill_s"] for x in tw], 1e3)
        row("prefill, ms (second call in the process)", [x["prefill_s"] for x in w], [x["prefill_s"] for x in tw], 1e3)
        row("decode, tokens/s (decode fragment)", dec_tps([x["decode_s"] for x in a]), dec_tps([x["decode_s"] for x in tw]), 1, 3, True)
        row("decode, tokens/s (decode step kernels only)", dec_tps([x["step_kernels_s"] for x in a]), [], 1, 3, True)
        row(f"generate, {n_new} tokens: tokens/s", [n_new / x["generate_s"] for x in a], [n_new / x["total_s"] for x in tw], 1, 3, True)
        row(f"generate, {n_new} tokens: tokens/s (second call)", [n_new / x["generate_s"] for x in w], [n_new / x["total_s"] for x in tw], 1, 3, True)
        if label == configs[0][0]:
            row("whole process, ms", s["agentc_wall"], cold_torch, 1e3)
        else:
            row("whole process, ms", s["agentc_wall"], [], 1e3)
    if worker:
        print(f"\n(PyTorch 'whole process': python + import torch/transformers + load + one generate, {args.cold_reps} runs, "
              f"torch threads = {cores}; the worker's import + load took {info['torch_load_s']:.2f} s.)")

    if contexts:
        print(f"\nKV cache capacity (max_position_embeddings; the model's own is {context}), agentc with "
              f"{configs[-1][1]} thread, fresh process, {args.reps} repetitions, median (min–max)\n")
        print("| KV cache capacity C | decode step kernel, µs | decode, tokens/s (decode fragment) | prefill, ms |")
        print("|---|---|---|---|")
        for c in sorted(by_context):
            xs = by_context[c]
            print(f"| {c} | {fmt([x['step_kernels_s'] / x['steps'] for x in xs], 1e6)} | "
                  f"{fmt([(n_new - 1) / x['decode_s'] for x in xs])} | {fmt([x['prefill_s'] for x in xs], 1e3)} |")

    if overhead:
        n_iter = args.overhead_iterations
        loops = count_iteration_ops(plan)
        print(f"\nOverhead (bench/overhead.agent, N = {n_iter}, {args.overhead_reps} repetitions; per iteration = "
              "(median wall at N − median wall at 0) / N)\n")
        print("| loop body | process at N = 0, ms | process at N, s | per iteration, µs | plan ops per iteration | fragments per iteration | per op, µs |")
        print("|---|---|---|---|---|---|---|")
        per_iter = {}
        with_fragment = [lp for lp in loops if lp[1] > 0]
        without = [lp for lp in loops if lp[1] == 0]
        if len(loops) != 2 or len(with_fragment) != 1:
            raise SystemExit(f"error: expected two loops in bench/overhead.agent's plan, one with a fragment: {loops}")
        for label, xs in overhead.items():
            it = (med(xs["N"]) - med(xs["0"])) / n_iter * 1e6
            per_iter[label] = it
            ops, frags, _ = (without if label == "ops" else with_fragment)[0]
            print(f"| {label} | {fmt(xs['0'], 1e3)} | {fmt(xs['N'])} | {it:.3g} | {ops} | {frags} | {it / ops:.3g} |")
        print(f"\nOne host fragment adds {per_iter['fragment'] - per_iter['ops']:.3g} µs over a non-fragment op "
              f"(`len(word)` vs `1`); recording its trace slice adds {per_iter['fragment, --trace'] - per_iter['fragment']:.3g} µs more.")
        for i, (ops, frags, names) in enumerate(loops):
            print(f"loop {i}: {ops} ops per iteration, {frags} fragment(s); ops in its regions: {' '.join(names)}", file=sys.stderr)

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"info": info, "generate": samples, "torch_cold_s": cold_torch, "by_context": by_context, "overhead": overhead}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
