#!/usr/bin/env python3
"""`--replicas auto` against `--replicas fleet` per rate (docs/simulation.md, "A fleet for a
rate"): one simulation each of lit-tests/simulate/replicas.agent (Llama-3-70B, SLA 20 s,
300 s of Poisson arrivals, seed 0) on TARGET, printing the markdown table of the docs.

    cargo build -p agentc
    python3 tools/fleet_experiment.py h100+a100 2,4,8,12,16,24 --objective cost
    python3 tools/fleet_experiment.py h100+a100 2,8,16
    python3 tools/fleet_experiment.py examples/targets/h100-prompt+a100-token.toml 8,24 --objective cost

Python's standard library only; every command it runs is printed to stderr.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTC = os.path.join(ROOT, "target", "debug", "agentc")
PROGRAM = os.path.join(ROOT, "lit-tests", "simulate", "replicas.agent")


def run(target, mode, rate, extra):
    cmd = [AGENTC, "simulate", PROGRAM, "--target", target, "--sla", "20s", "--rate", rate,
           "--duration", "300s", "--replicas", mode, "--json"] + extra
    print(" ".join(cmd), file=sys.stderr)
    report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    parts = []
    for pool in report["replicas"]["pools"]:
        serves = pool["serves"][0].split(" of ")[0] if len(pool["serves"]) == 1 else "both"
        parts.append(f"{serves}: " + ", ".join(pool["units"]))
    gap = report.get("fleet", {}).get("gap")
    return (report["fleet_usd_per_hour"], " + ".join(parts), report["latency"]["p99"],
            report["sla"]["attainment"], report["usd_per_million_tokens"], gap)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    target, rates, extra = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
    print("| rate/s | replicas | fleet $/h | units | p99 e2e | SLA att. | $/1M tokens | gap |")
    print("|---|---|---|---|---|---|---|---|")
    for rate in rates:
        for mode in ["auto", "fleet"]:
            usd, units, p99, attainment, per_million, gap = run(target, mode, rate, extra)
            gap_text = "" if gap is None else f"{gap:.4f}"
            print(f"| {rate} | {mode} | ${usd:.2f} | {units} | {p99:.2f} s | {attainment:.4f} | ${per_million:.2f} | {gap_text} |")


if __name__ == "__main__":
    main()
