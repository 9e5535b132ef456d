#!/usr/bin/env python3
"""The real-model benchmark (docs/runtime-benchmark.md, section 0), run by hand, never in CI.

One command, one run, ratios: each model source below is timed with agentc executables,
PyTorch eager (transformers, float32, the same GGUF or folder) and llama.cpp
(llama-cpp-python, GGUF sources only), at 1 and 2 threads, repetitions interleaved:

  prefill tokens/s at 8, 64 and 512 prompt tokens (the compiled prefill kernel alone /
      one `model(ids)` forward / one `llama_eval` of the prompt),
  decode tokens/s (1 / the median decode step; prompt of 8 tokens),
  time to first token (tokenise + cache + prefill + the first token chosen),
  peak RSS of the process (agentc: the executable; PyTorch and llama.cpp: their worker,
      interpreter and libraries included).

Each figure is also a share of this machine's limit: decode, the weight bytes read per token
over 15 GB/s (1 thread) or 31 GB/s (2 threads), the measured gemv bandwidth of issue 9;
prefill, the planner's FLOPs (docs/cost-model.md) over threads x 190 GFLOP/s.

usage: python3 tools/bench_models.py [--sources smollm2-f32,smollm2-q8_0,...] [--reps 3]
           [--agentc target/debug/agentc] [--baseline-agentc OTHER/agentc --baseline-label NAME]
           [--python /work/venv/bin/python]
           [--llama-python /tmp/llamacpp-venv/bin/python] [--json out.json]

A source whose file is missing, whose agentc build fails (e.g. the quantized default path
before it exists) or whose side has no tool is printed as an `absent` row with the reason.
agentc's figures come from each executable's --trace (docs/runtime.md, Trace): the
`prefill kernel MODEL` slice (its `tokens` arg), the `prefill MODEL` fragment slice and the
`decode step MODEL` slices. The workers are this file run under the other pythons.

With `--baseline-agentc`, a second agentc (e.g. a copy built at an earlier commit, with its
libagentc_runtime.a beside it) builds the same programs, both builds run at once, and its
executables take their turn in every rep as the system "agentc (NAME)": the ratio table's
"agentc vs agentc (NAME)" row is an A/B of a compiler change in one run.
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
SMOL = os.path.join(ROOT, "examples", "models", "smollm2")
# name: (agentc model source, file or folder, gguf?, llama.cpp runs it?, what it is)
SOURCES = {
    "smollm2-f32": ('gguf("{path}", dtype: "f32")', os.path.join(SMOL, "SmolLM2-135M-Instruct.Q4_1.gguf"), True, False,
                    "SmolLM2-135M-Instruct, the Q4_1 GGUF dequantised to f32 at load"),
    "smollm2-q4_1": ('gguf("{path}")', os.path.join(SMOL, "SmolLM2-135M-Instruct.Q4_1.gguf"), True, True,
                     "SmolLM2-135M-Instruct Q4_1, computed from the quantized blocks"),
    "smollm2-q8_0": ('gguf("{path}")', os.path.join(SMOL, "SmolLM2-135M-Instruct.Q8_0.gguf"), True, True,
                     "SmolLM2-135M-Instruct Q8_0, computed from the quantized blocks"),
    "smollm2-q4_0": ('gguf("{path}")', os.path.join(SMOL, "SmolLM2-135M-Instruct.Q4_0.gguf"), True, True,
                     "SmolLM2-135M-Instruct Q4_0, computed from the quantized blocks"),
    "tiny-llama": ('hf("{path}")', os.path.join(ROOT, "examples", "models", "tiny-llama"), False, False,
                   "the tiny random Llama of the tests (f32 safetensors)"),
}
DEFAULT_SOURCES = "smollm2-f32,tiny-llama,smollm2-q4_1,smollm2-q8_0,smollm2-q4_0"
BANDWIDTH = {1: 15e9, 2: 31e9}
FLOPS_PER_THREAD = 190e9
WORDS = "the cat sat on a warm mat and looked at the birds in the old tree".split()


# ---------------------------------------------------------------- workers (other pythons)

def torch_worker(path: str, is_gguf: bool) -> int:
    """Loads the model in f32 once; answers JSON requests on stdin, one per line."""
    import resource
    import warnings
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    warnings.filterwarnings("ignore")
    kw = {"gguf_file": os.path.basename(path)} if is_gguf else {}
    folder = os.path.dirname(path) if is_gguf else path
    tok = AutoTokenizer.from_pretrained(folder, **kw)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager", **kw).eval()
    c = model.config
    config = {k: getattr(c, k, None) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                              "num_key_value_heads", "intermediate_size", "vocab_size",
                                              "max_position_embeddings", "tie_word_embeddings")}
    config["head_dim"] = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    config["parameters"] = sum(p.numel() for p in model.parameters())
    print(json.dumps({"ready": True, "torch": torch.__version__, "config": config}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "prompt":
            # The longest text of WORDS cycled whose token count (special tokens included, as
            # generate tokenises) is at most the request's; then the exact count is reported.
            n = req["tokens"]
            lo, hi = 1, n
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if len(tok(" ".join(WORDS[i % len(WORDS)] for i in range(mid)))["input_ids"]) <= n:
                    lo = mid
                else:
                    hi = mid - 1
            text = " ".join(WORDS[i % len(WORDS)] for i in range(lo))
            ids = tok(text)["input_ids"]
            print(json.dumps({"text": text, "ids": ids}), flush=True)
            continue
        torch.set_num_threads(req["threads"])
        with torch.inference_mode():
            t0 = time.perf_counter()
            ids = tok(req["text"], return_tensors="pt")["input_ids"]
            t1 = time.perf_counter()
            out = model(ids, use_cache=True, logits_to_keep=1)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            t2 = time.perf_counter()
            past, new, steps = out.past_key_values, [int(nxt)], []
            for _ in range(req["new_tokens"] - 1):
                s = time.perf_counter()
                out = model(nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                steps.append(time.perf_counter() - s)
                new.append(int(nxt))
        print(json.dumps({
            "prompt_tokens": int(ids.shape[1]), "prefill_s": t2 - t1, "ttft_s": t2 - t0,
            "step_s": statistics.median(steps) if steps else None,
            "text": tok.decode(new, skip_special_tokens=True),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }), flush=True)
    return 0


def llama_worker(path: str) -> int:
    """llama.cpp through llama-cpp-python: one Llama per thread count; eval of token ids."""
    import resource
    import llama_cpp
    import numpy as np

    # Loaded before saying ready, so a model llama.cpp cannot load is an absent row.
    def load(t):
        return llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512, n_ubatch=512, n_threads=t,
                               n_threads_batch=t, verbose=False)

    def last_logits(llm):
        # The last evaluated position's logits from the context: llama-cpp-python 0.3.16
        # leaves `Llama.scores` zero unless every position's logits are kept
        # (`logits_all`, which would add the whole prompt's output layer to the prefill).
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
    models = {1: load(1)}
    print(json.dumps({"ready": True, "llama_cpp": llama_cpp.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        t = req["threads"]
        if t not in models:
            models.clear()
            models[t] = load(t)
        llm = models[t]
        llm.reset()
        ids = req["ids"]
        t0 = time.perf_counter()
        llm.eval(ids)
        nxt = int(np.argmax(last_logits(llm)))
        t1 = time.perf_counter()
        steps, new = [], [nxt]
        for _ in range(req["new_tokens"] - 1):
            s = time.perf_counter()
            llm.eval([nxt])
            nxt = int(np.argmax(last_logits(llm)))
            steps.append(time.perf_counter() - s)
            new.append(nxt)
        text = llm.detokenize(new).decode("utf-8", "replace")
        print(json.dumps({"prompt_tokens": len(ids), "prefill_s": t1 - t0, "ttft_s": t1 - t0,
                          "step_s": statistics.median(steps) if steps else None, "text": text,
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    return 0


# ---------------------------------------------------------------- the driver

class Worker:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line:
            code = self.p.wait()
            raise RuntimeError(f"the worker exited with status {code} before it was ready" + (" (a segmentation fault)" if code == -11 else ""))
        self.hello = json.loads(line)

    def ask(self, req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the worker died")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def agentc_build(agentc, source_expr, work, name, new_tokens):
    program = os.path.join(work, f"{name}.agent")
    with open(program, "w", encoding="utf-8") as f:
        f.write(f"model llm = {source_expr}\n\nagent main(args: list<text>) -> text {{\n"
                f"    llm.generate(join(args, \" \"), max_tokens: {new_tokens})\n}}\n")
    exe = os.path.join(work, name)
    r = subprocess.run([agentc, "build", program, "-o", exe], capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["agentc build failed"])[0]
    return exe, None


def agentc_run(exe, text, threads, work):
    trace = os.path.join(work, "trace.json")
    p = subprocess.Popen([exe, "--threads", str(threads), "--trace", trace, "--", text],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"{exe} failed: {err.strip()}")
    with open(trace, encoding="utf-8") as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]
    kernel = [e for e in events if e.get("cat") == "prefill_kernel"][0]
    prefill = [e for e in events if e.get("cat") == "fragment" and e["name"].startswith("prefill ")][0]
    steps = [e["dur"] / 1e6 for e in events if e.get("cat") == "decode_step"]
    return {"prompt_tokens": int(kernel["args"]["tokens"]), "prefill_s": kernel["dur"] / 1e6,
            "ttft_s": prefill["dur"] / 1e6, "step_s": statistics.median(steps) if steps else None,
            "text": out.rstrip("\n"), "rss_mb": None}


def rss_of(exe, text, threads):
    """Peak RSS (MB) of one run of the executable, from wait4's rusage."""
    p = subprocess.Popen([exe, "--threads", str(threads), "--", text], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(p.pid, 0)
    return usage.ru_maxrss / 1024


def prefill_flops(c, t):
    """The planner's prefill FLOPs (docs/cost-model.md): L(2 P_l T + 2 T^2 n_h d) + 2 V H."""
    h, d, nh, nkv, i = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"]
    pl = h * nh * d + 2 * h * nkv * d + nh * d * h + 3 * h * i
    return c["num_hidden_layers"] * (2 * pl * t + 2 * t * t * nh * d) + 2 * c["vocab_size"] * h


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", default=DEFAULT_SOURCES, help=f"comma-separated, of: {', '.join(SOURCES)}")
    ap.add_argument("--agentc", default=os.path.join(ROOT, "target", "debug", "agentc"))
    ap.add_argument("--baseline-agentc", help="a second agentc whose executables run in the same reps (an A/B)")
    ap.add_argument("--baseline-label", default="baseline", help="the baseline's name in the tables")
    ap.add_argument("--python", default="/work/venv/bin/python", help="a python with torch, transformers and gguf")
    ap.add_argument("--llama-python", default="/tmp/llamacpp-venv/bin/python", help="a python with llama-cpp-python")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prompt-tokens", default="8,64,512")
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--json", help="write every measurement here")
    ap.add_argument("--torch-worker", help=argparse.SUPPRESS)
    ap.add_argument("--llama-worker", help=argparse.SUPPRESS)
    ap.add_argument("--gguf", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.gguf)
    if args.llama_worker:
        return llama_worker(args.llama_worker)

    names = [s for s in args.sources.split(",") if s]
    unknown = [s for s in names if s not in SOURCES]
    if unknown:
        print(f"error: unknown source {unknown[0]!r}; the sources are: {', '.join(SOURCES)}", file=sys.stderr)
        return 2
    if not os.access(args.agentc, os.X_OK):
        print(f"error: {args.agentc} is not an executable (build it: cargo build -p agentc -p agentc-runtime)", file=sys.stderr)
        return 2
    if args.baseline_agentc and not os.access(args.baseline_agentc, os.X_OK):
        print(f"error: --baseline-agentc {args.baseline_agentc} is not an executable", file=sys.stderr)
        return 2
    if not os.access(args.python, os.X_OK):
        print(f"error: {args.python} not found (a python with torch, transformers and gguf: --python)", file=sys.stderr)
        return 2
    threads = [int(t) for t in args.threads.split(",")]
    lengths = [int(t) for t in args.prompt_tokens.split(",")]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    started = time.time()
    load0 = os.getloadavg()
    rows, absent, results = [], [], {}
    here = os.path.abspath(__file__)
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            expr, path, is_gguf, llama_ok, what = SOURCES[name]
            if not os.path.exists(path):
                absent.append((name, "all", f"{os.path.relpath(path, ROOT)} not found (tools/setup.sh fetches the SmolLM2 GGUF)"))
                continue
            systems = {}
            # The agentc executables by system name: this agentc's, and the baseline's.
            builders = {"agentc": (args.agentc, name.replace("-", "_"))}
            if args.baseline_agentc:
                builders[f"agentc ({args.baseline_label})"] = (args.baseline_agentc, name.replace("-", "_") + "_baseline")
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(builders)) as pool:
                built = {s: pool.submit(agentc_build, a, expr.format(path=path), work, stem, args.new_tokens) for s, (a, stem) in builders.items()}
            exes = {}
            for s, future in built.items():
                exe, why = future.result()
                if exe:
                    systems[s] = None
                    exes[s] = exe
                else:
                    absent.append((name, s, why))
            torch = None
            if name.endswith(("-q4_1", "-q8_0", "-q4_0")):
                absent.append((name, "PyTorch", "transformers dequantises GGUF to f32: the smollm2-f32 row"))
            else:
                torch = Worker([args.python, here, "--torch-worker", path] + (["--gguf"] if is_gguf else []))
                systems["PyTorch eager"] = torch
            llama = None
            if llama_ok:
                if os.access(args.llama_python, os.X_OK):
                    try:
                        llama = Worker([args.llama_python, here, "--llama-worker", path])
                        systems[f"llama.cpp {llama.hello['llama_cpp']}"] = llama
                    except Exception as e:  # noqa: BLE001 (reported as a row)
                        absent.append((name, "llama.cpp", f"did not load: {e}"))
                else:
                    absent.append((name, "llama.cpp", f"{args.llama_python} not found"))
            else:
                absent.append((name, "llama.cpp", "no f32 GGUF / not a GGUF: llama.cpp rows are on the quantized sources"))
            # The prompts: exact token counts by the model's tokenizer (PyTorch's worker), or
            # by agentc's trace when no PyTorch runs for this source.
            helper = torch or Worker([args.python, here, "--torch-worker", path] + (["--gguf"] if is_gguf else []))
            config = helper.hello["config"]
            ctx = config["max_position_embeddings"]
            prompts = {}
            for n in lengths:
                if n + args.new_tokens > ctx:
                    absent.append((name, "all", f"{n} prompt tokens + {args.new_tokens} new exceed the context of {ctx}"))
                    continue
                prompts[n] = helper.ask({"op": "prompt", "tokens": n})
            if helper is not torch:
                helper.close()
            meas = {s: {n: [] for n in prompts} for s in systems}
            # Repetition 0 warms every side up (first calls, page faults) and is dropped.
            for rep in range(args.reps + 1):
                for n, p in prompts.items():
                    for t in threads:
                        for s, w in list(systems.items()):
                            try:
                                if s in exes:
                                    r = agentc_run(exes[s], p["text"], t, work)
                                elif s.startswith("llama.cpp"):
                                    r = w.ask({"threads": t, "ids": p["ids"], "new_tokens": args.new_tokens})
                                else:
                                    r = w.ask({"threads": t, "text": p["text"], "new_tokens": args.new_tokens})
                            except RuntimeError as e:
                                # A side that crashes (llama.cpp on a Q4_1 GGUF) is an absent row.
                                code = w.p.wait() if w else None
                                why = f"{e}" + (f" (exit status {code}{', a segmentation fault' if code == -11 else ''})" if w else "")
                                absent.append((name, s, f"crashed at {p['ids'].__len__()} prompt tokens, {t} threads: {why}"))
                                del systems[s]
                                meas.pop(s, None)
                                continue
                            r["threads"] = t
                            if rep > 0 and s in meas:
                                meas[s][n].append(r)
            for s in systems:
                for t in threads:
                    runs = {n: [r for r in meas[s][n] if r["threads"] == t] for n in prompts}
                    if s in exes:
                        rss = max(rss_of(exes[s], prompts[min(prompts)]["text"], t) for _ in range(1))
                    else:
                        rss = max(r["rss_mb"] for n in prompts for r in runs[n])
                    first = min(prompts)
                    med = lambda rs, k: statistics.median(r[k] for r in rs if r[k] is not None)  # noqa: E731
                    pre = {n: runs[n][0]["prompt_tokens"] / med(runs[n], "prefill_s") for n in prompts}
                    step = med(runs[first], "step_s")
                    bytes_per_token = weight_bytes(name, config, path)
                    row = {"source": name, "system": s, "threads": t, "prefill_tps": pre,
                           "prompt_tokens": {n: runs[n][0]["prompt_tokens"] for n in prompts},
                           "decode_tps": 1 / step, "ttft_ms": med(runs[first], "ttft_s") * 1e3, "rss_mb": rss,
                           "decode_share": (1 / step) / (BANDWIDTH.get(t, 31e9) / bytes_per_token),
                           "prefill_share": {n: prefill_flops(config, runs[n][0]["prompt_tokens"]) / (t * FLOPS_PER_THREAD) /
                                             med(runs[n], "prefill_s") for n in prompts},
                           "text": runs[first][0]["text"]}
                    rows.append(row)
            for w in (torch, llama):
                if w and w.p.poll() is None:
                    w.close()
            results[name] = config
    load1 = os.getloadavg()
    print_tables(rows, absent, lengths, args, commit, started, load0, load1)
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rows": rows, "absent": absent, "configs": results}, f, indent=1)
    return 0


def weight_bytes(name, config, path):
    """Weight bytes read per decoded token: f32 parameters, or the GGUF's size when quantized."""
    if name.endswith(("-q4_1", "-q8_0", "-q4_0")):
        return os.path.getsize(path)
    return config["parameters"] * 4


def print_tables(rows, absent, lengths, args, commit, started, load0, load1):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"commit {commit}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}; {os.cpu_count()} CPUs ({cpu}); "
          f"load average {load0[0]:.2f} at start, {load1[0]:.2f} at end; reps {args.reps}, median; "
          f"{args.new_tokens} new tokens, decode after the {min(lengths)}-token prompt\n")
    head = " | ".join(f"prefill tok/s @{n}" for n in lengths)
    print(f"| source | system | threads | {head} | decode tok/s | TTFT ms @{min(lengths)} | peak RSS MB | decode % of limit | prefill % of limit @{max(lengths)} |")
    print("|" + "---|" * (8 + len(lengths)))
    for r in rows:
        pre = " | ".join(f"{r['prefill_tps'][n]:.0f} ({r['prompt_tokens'][n]})" if n in r["prefill_tps"] else "absent" for n in lengths)
        big = max(r["prefill_share"]) if r["prefill_share"] else None
        print(f"| {r['source']} | {r['system']} | {r['threads']} | {pre} | {r['decode_tps']:.1f} | {r['ttft_ms']:.1f} | "
              f"{r['rss_mb']:.0f} | {r['decode_share']:.0%} | " + (f"{r['prefill_share'][big]:.1%} |" if big else "absent |"))
    print("\nRatios agentc / other, same source and threads (above 1: agentc is faster or smaller):\n")
    print(f"| source | vs | threads | {' | '.join(f'prefill @{n}' for n in lengths)} | decode | TTFT | RSS | same text |")
    print("|" + "---|" * (7 + len(lengths)))
    for a in rows:
        if a["system"] != "agentc":
            continue
        for o in rows:
            if o["system"] == "agentc" or o["threads"] != a["threads"]:
                continue
            if o["source"] != a["source"] and not (a["source"].startswith("smollm2-q") and o["source"] == "smollm2-f32" and o["system"] == "PyTorch eager"):
                continue
            pre = " | ".join(f"{a['prefill_tps'][n] / o['prefill_tps'][n]:.2f}x" if n in a["prefill_tps"] and n in o["prefill_tps"] else "-" for n in lengths)
            same = "yes" if a["text"] == o["text"] else "no"
            print(f"| {a['source']} | {o['system']} ({o['source']}) | {a['threads']} | {pre} | {a['decode_tps'] / o['decode_tps']:.2f}x | "
                  f"{o['ttft_ms'] / a['ttft_ms']:.2f}x | {o['rss_mb'] / a['rss_mb']:.2f}x | {same} |")
    if absent:
        print("\nAbsent:\n")
        for name, side, why in absent:
            print(f"- {name}, {side}: absent: {why}")
    for r in rows:
        if r["threads"] == 1:
            print(f"\ntext {r['source']} / {r['system']}: {r['text'][:100]!r}", end="")
    print()


if __name__ == "__main__":
    sys.exit(main())
