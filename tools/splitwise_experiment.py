#!/usr/bin/env python3
"""The Splitwise-shaped experiment of docs/simulation.md: Llama-3-70B on three fleets with
replicas chosen per rate (`agentc simulate --replicas auto`), compared at equal SLA
attainment, and the split's advantage as the A100's price moves by -25..+25 %.

Each fleet is sized per rate: replicas chosen at the highest utilisation target of
0.8, 0.7, ..., 0.2 whose simulation meets the SLA on the worst path's p99 (so every
fleet compared meets it: equal SLA attainment, at least 0.99). Fleets: the split (examples/targets/h100-prompt+a100-token.toml: prefill on H100 pairs,
decode on A100 pairs), H100-only (the h100x8 preset) and A100-only
(examples/targets/a100x8.toml), all with `--objective cost`. For a price variant the
A100 lines `price_per_hour = 1.79` of the two TOML files are rewritten into a temporary
copy; nothing else changes. Prints markdown tables; every figure is read from the JSON
`agentc simulate --json` prints.

Usage: python3 tools/splitwise_experiment.py [AGENTC]  (default target/debug/agentc)
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "agentc")
A100_PRICE = 1.79
FACTORS = [0.75, 0.9, 1.0, 1.1, 1.25]
WORKLOADS = [
    # (program, SLA at p99, rates)
    ("lit-tests/simulate/disaggregated.agent", "20s", [2, 4, 8, 12]),
    ("lit-tests/simulate/long-prompt.agent", "10s", [1, 2, 4]),
]
FLEETS = [
    ("split", "examples/targets/h100-prompt+a100-token.toml"),
    ("H100-only", "h100x8"),
    ("A100-only", "examples/targets/a100x8.toml"),
]


def target_at(target, factor, tmp):
    """`target` with the A100's price times `factor` (a preset or an unpriced file as is)."""
    if factor == 1.0 or not target.endswith(".toml"):
        return target
    text = open(os.path.join(ROOT, target)).read()
    line = f"price_per_hour = {A100_PRICE}\n"
    if line not in text:
        return target
    path = os.path.join(tmp, f"{factor}-{os.path.basename(target)}")
    with open(path, "w") as f:
        f.write(text.replace(line, f"price_per_hour = {A100_PRICE * factor:.6g}\n"))
    return path


TARGETS = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]


def simulate(program, target, sla, rate, utilisation):
    """The report of one run, or None when the fleet cannot carry the rate (exit 1)."""
    cmd = [AGENTC, "simulate", program, "--target", target, "--objective", "cost", "--sla", sla,
           "--rate", str(rate), "--duration", "300s", "--replicas", "auto",
           "--max-utilisation", str(utilisation), "--json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode == 1 and "cannot carry" in out.stderr:
        return None
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr}")
    return json.loads(out.stdout)


def sized(program, target, sla, rate):
    """The highest utilisation target (of TARGETS) whose replicas meet the SLA at the
    rate (the worst path's p99 within it), and its report; (None, None) if none does."""
    for utilisation in TARGETS:
        r = simulate(program, target, sla, rate, utilisation)
        if r is None:
            return None, None
        if r["sla"]["met"]:
            return utilisation, r
    return None, None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for program, sla, rates in WORKLOADS:
            chosen = {}
            for rate in rates:
                for name, target in FLEETS:
                    chosen[(name, rate)] = sized(program, target, sla, rate)
            print(f"\n### {os.path.basename(program)}, SLA {sla} (p99), A100 at ${A100_PRICE}/h\n")
            print("| rate/s | fleet | util. target | replicas (pools) | fleet $/h | tokens/s | p99 e2e | SLA att. | $/1M tokens | tokens/s per $/h |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for rate in rates:
                for name, _ in FLEETS:
                    utilisation, r = chosen[(name, rate)]
                    if r is None:
                        print(f"| {rate} | {name} | - | cannot meet the SLA at this rate | | | | | | |")
                        continue
                    pools = " + ".join(f"{p['replicas']}x {p['unit']} ({', '.join(p['serves'])})" for p in r["replicas"]["pools"])
                    print(f"| {rate} | {name} | {utilisation} | {pools} | ${r['fleet_usd_per_hour']:.2f} | {r['tokens_per_second']:.1f} | "
                          f"{r['latency']['p99']:.2f} s | {r['sla']['attainment']:.4f} | ${r['usd_per_million_tokens']:.2f} | "
                          f"{r['tokens_per_second'] / r['fleet_usd_per_hour']:.1f} |")
            print("\nThe split's $/1M tokens over each fleet's, both sized to meet the SLA (< 1: the split is cheaper), as the A100's price moves:\n")
            print("| rate/s | vs | " + " | ".join(f"A100 ${A100_PRICE * f:.4g}/h ({(f - 1) * 100:+.0f} %)" for f in FACTORS) + " |")
            print("|---|---|" + "---|" * len(FACTORS))
            for rate in rates:
                for other in ("H100-only", "A100-only"):
                    cells = []
                    for f in FACTORS:
                        cost = {}
                        for name in ("split", other):
                            utilisation, r = chosen[(name, rate)]
                            if r is not None and f != 1.0:
                                target = target_at(dict(FLEETS)[name], f, tmp)
                                r = simulate(program, target, sla, rate, utilisation)
                            cost[name] = None if r is None else r["usd_per_million_tokens"]
                        cells.append("-" if None in cost.values() else f"{cost['split'] / cost[other]:.3f}")
                    print(f"| {rate} | {other} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
