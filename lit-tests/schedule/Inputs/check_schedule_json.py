"""Reads `agentc schedule --json` on stdin and checks that its numbers agree with each
other: makespan = the last finish, total_cost = the sum of the placements' costs, every
placement's finish >= start >= 0, the critical path is a chain of placements ending at
the makespan, and transfers join placed fragments."""
import json
import math
import sys

s = json.load(sys.stdin)
placements = {p["index"]: p for p in s["placements"]}
assert placements, "no placements"
for p in placements.values():
    assert 0 <= p["start"] <= p["finish"], p
last = max(p["finish"] for p in placements.values())
assert math.isclose(s["makespan"], last, rel_tol=1e-9), (s["makespan"], last)
total = sum(p["cost"] for p in placements.values())
assert math.isclose(s["total_cost"], total, rel_tol=1e-9), (s["total_cost"], total)
path = s["critical_path"]
assert path and all(i in placements for i in path), path
assert math.isclose(placements[path[-1]]["finish"], s["makespan"], rel_tol=1e-9)
for a, b in zip(path, path[1:]):
    assert placements[a]["finish"] <= placements[b]["start"] + 1e-12, (a, b)
for t in s["transfers"]:
    assert t["from_device"] == placements[t["from_fragment"]]["device"], t
    assert t["to_device"] == placements[t["to_fragment"]]["device"], t
    assert placements[t["from_fragment"]]["finish"] <= t["start"] + 1e-12 <= t["finish"] + 1e-12, t
    assert t["finish"] <= placements[t["to_fragment"]]["start"] + 1e-12, t
print("ok")
