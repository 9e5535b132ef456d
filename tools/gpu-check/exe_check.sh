#!/usr/bin/env bash
# The one-shot GPU check of executables (README.md beside this file): agentc-built programs
# whose fragments are placed on a GPU run their embedded PTX through the CUDA driver, and
# give what the CPU gives.
#
#   tools/gpu-check/exe_check.sh prepare [DIR]   here (no GPU needed): builds DIR/*.app
#   tools/gpu-check/exe_check.sh run [DIR]       on the GPU machine, from the repository root
#
# DIR defaults to .gpu-check/exe (ignored by git: carry it to the GPU machine).
#
# The programs, both built with --target h100 (PTX for sm_80, JIT-compiled by the driver):
#   llama.app   lit-tests/e2e/gpu-fallback.agent: the tiny Llama's generate pinned @device(gpu)
#   tensor.app  tools/gpu-check/gpu-tensor.agent: the tiny BERT's encoder, tensor fns and
#               a matmul over 4 workgroups, all @device(gpu)
# `run` checks that each GPU run says it runs on a CUDA device; that the Llama generates the
# reference tokens of examples/models/tiny-llama/reference.json for every prompt (as
# transformers did, greedy, 8 tokens); that the same executables on the CPU
# (CUDA_VISIBLE_DEVICES= and --fallback cpu) give the same tokens; and that the tensor
# program's numbers on the GPU match the CPU's (|gpu - cpu| <= 1e-5 + 1e-3 |cpu|). A failed
# GPU run is rerun once under compute-sanitizer when it is there. The output ends with
# `all ok` or the number of failed checks (exit status 1).
set -u
mode=${1:-}
dir=${2:-.gpu-check/exe}
root=$(cd "$(dirname "$0")/../.." && pwd)

case "$mode" in
prepare)
    agentc=${AGENTC:-$root/target/debug/agentc}
    if [ ! -x "$agentc" ]; then
        echo "error: $agentc not found: cargo build -p agentc -p agentc-runtime (or set AGENTC)" >&2
        exit 1
    fi
    mkdir -p "$dir" || exit 1
    build() {
        "$agentc" build "$1" --target h100 -o "$dir/$2" || exit 1
        if ! grep -q -a '\.visible \.entry' "$dir/$2"; then
            echo "error: $dir/$2 embeds no PTX" >&2
            exit 1
        fi
        # Debug information is not needed there: a smaller file to carry.
        if command -v strip > /dev/null; then strip "$dir/$2"; fi
    }
    build "$root/lit-tests/e2e/gpu-fallback.agent" llama.app
    build "$root/tools/gpu-check/gpu-tensor.agent" tensor.app
    ls -l "$dir"
    echo "prepared: carry $dir to the GPU machine and run: tools/gpu-check/exe_check.sh run $dir"
    ;;
run)
    for app in llama.app tensor.app; do
        if [ ! -x "$dir/$app" ]; then
            echo "error: $dir/$app not found: run \`$0 prepare $dir\` first, and carry $dir" >&2
            exit 1
        fi
    done
    command -v nvidia-smi > /dev/null && nvidia-smi -L
    ldd "$dir/llama.app"
    PYTHONUNBUFFERED=1 exec python3 - "$dir" "$root" << 'EOF'
import json, os, re, shutil, subprocess, sys, time

folder, root = sys.argv[1], sys.argv[2]
models = os.path.join(root, "examples", "models")
failures = 0
sanitized = False
gpu_hung = False


def run(app, args, cpu=False, timeout=120):
    """Runs an executable; returns (exit status, stdout bytes, stderr text, seconds). After a
    GPU run timed out, later GPU runs are skipped (the call has a time limit)."""
    global gpu_hung
    if gpu_hung and not cpu:
        return None, b"", "skipped: an earlier GPU run timed out", 0.0
    env = dict(os.environ)
    options = ["--models", models]
    if cpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
        options += ["--fallback", "cpu"]
    command = [os.path.join(folder, app)] + options + ["--"] + args
    start = time.time()
    try:
        p = subprocess.run(command, capture_output=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        gpu_hung = gpu_hung or not cpu
        return None, b"", f"timed out after {timeout} s", time.time() - start
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), time.time() - start


def check(name, ok, detail):
    global failures
    failures += not ok
    print(f"{name}: {'ok' if ok else 'FAIL'}: {detail}")
    return ok


def sanitize(app, args):
    """Reruns a failing GPU run once under compute-sanitizer (memcheck), for the cause."""
    global sanitized
    tool = shutil.which("compute-sanitizer")
    if sanitized or gpu_hung or not tool:
        return
    sanitized = True
    print(f"--- compute-sanitizer {app} (rerun of the first failure) ---")
    command = [tool, "--show-backtrace", "no", os.path.join(folder, app), "--models", models, "--"] + args
    try:
        p = subprocess.run(command, capture_output=True, timeout=120)
        print(p.stdout.decode("utf-8", "replace")[-4000:] + p.stderr.decode("utf-8", "replace")[-4000:])
    except subprocess.TimeoutExpired:
        print("compute-sanitizer timed out after 120 s")
    print("--- end of compute-sanitizer ---")


def on_gpu(name, stderr):
    """The run's note naming the CUDA device (the runtime prints it when it opened one)."""
    m = re.search(r"run on (CUDA device .*)", stderr)
    return check(f"{name} ran on the GPU", m is not None, m.group(1) if m else f"no CUDA device note; stderr: {stderr.strip()[-2000:]!r}")


# What a run with the GPU hidden says (else the "CPU" run was not one).
ON_CPU = "run on the CPU (--fallback cpu)"

# The tiny Llama pinned to the GPU, against transformers' greedy tokens.
cases = json.load(open(os.path.join(models, "tiny-llama", "reference.json"), encoding="utf-8"))["cases"]
for n, case in enumerate(cases):
    want = (case["generate"]["new_text"] + "\n").encode()
    status, out, err, seconds = run("llama.app", [case["prompt"]])
    if n == 0:
        on_gpu("llama", err)
    ok = check(f"llama case {n} on the GPU ({seconds:.2f} s)", status == 0 and out == want,
               f"got {out!r}, want {want!r}" + ("" if status == 0 else f", exit {status}, stderr {err.strip()[-2000:]!r}"))
    if not ok:
        sanitize("llama.app", [case["prompt"]])
    status, cpu_out, err, seconds = run("llama.app", [case["prompt"]], cpu=True)
    check(f"llama case {n} on the CPU ({seconds:.2f} s)", status == 0 and cpu_out == want and ON_CPU in err,
          f"got {cpu_out!r}" + ("" if status == 0 and ON_CPU in err else f", exit {status}, stderr {err.strip()[-2000:]!r}"))

# Tensor fragments on the GPU, against the same executable on the CPU.
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"
for args in (["the cat sat on the mat", "stock prices fell sharply"], ["Once upon a time", "Once upon a time"]):
    status, out, err, seconds = run("tensor.app", args)
    if args[0] == "the cat sat on the mat":
        on_gpu("tensor", err)
    cpu_status, cpu_out, cpu_err, cpu_seconds = run("tensor.app", args, cpu=True)
    got, want = out.decode("utf-8", "replace").strip(), cpu_out.decode("utf-8", "replace").strip()
    g, w = re.findall(NUMBER, got), re.findall(NUMBER, want)
    close = status == 0 and cpu_status == 0 and ON_CPU in cpu_err and len(g) == len(w) == 2 and all(
        abs(float(a) - float(b)) <= 1e-5 + 1e-3 * abs(float(b)) for a, b in zip(g, w))
    detail = f"gpu {got!r} ({seconds:.2f} s), cpu {want!r} ({cpu_seconds:.2f} s)"
    if status != 0:
        detail += f", gpu exit {status}, stderr {err.strip()[-2000:]!r}"
    if cpu_status != 0 or ON_CPU not in cpu_err:
        detail += f", cpu exit {cpu_status}, stderr {cpu_err.strip()[-2000:]!r}"
    if not check(f"tensor {args!r}", close, detail):
        sanitize("tensor.app", args)

print("all ok" if not failures else f"{failures} checks failed")
sys.exit(1 if failures else 0)
EOF
    ;;
*)
    echo "usage: $0 prepare|run [DIR]   (see the top of this file)" >&2
    exit 2
    ;;
esac
