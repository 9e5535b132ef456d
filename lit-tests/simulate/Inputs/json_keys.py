"""Prints the keys of an `agentc simulate --json` report (sorted, per object) and checks
that the numbers agree with each other: requests = sum over paths, Little's law within
5 %, $/1M tokens = fleet $/h / tokens per hour, the attainment a count of requests, each
pool's replica count the number of its units."""
import json
import sys

r = json.load(sys.stdin)
print(" ".join(sorted(r)))
print("latency: " + " ".join(sorted(r["latency"])))
print("sla: " + " ".join(sorted(r["sla"])))
print("paths[0]: " + " ".join(sorted(r["paths"][0])))
print("devices[0]: " + " ".join(sorted(r["devices"][0])))
print("units[0]: " + " ".join(sorted(r["units"][0])))
print("replicas: " + " ".join(sorted(r["replicas"])))
print("replicas.pools[0]: " + " ".join(sorted(r["replicas"]["pools"][0])))
n = r["requests"]
paths = sum(round(p["observed_fraction"] * n) for p in r["paths"])
little = r["requests_per_second"] * r["latency"]["mean"]
cost = r["fleet_usd_per_hour"] / (r["tokens_per_second"] * 3600) * 1e6
ok = (
    paths == n
    and abs(r["mean_in_system"] - little) <= 0.05 * little
    and abs(r["usd_per_million_tokens"] - cost) <= 1e-9 * cost
    and abs(r["sla"]["attainment"] * n - round(r["sla"]["attainment"] * n)) < 1e-6
    and all(p["replicas"] == len(p["units"]) for p in r["replicas"]["pools"])
)
print("consistent:", ok)
