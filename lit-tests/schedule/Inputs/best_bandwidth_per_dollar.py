"""Reads a target TOML on stdin; prints the GPU/accelerator entry name with the most
memory bandwidth per dollar-hour (where decode, which is bandwidth-bound, is cheapest)."""
import sys
import tomllib

target = tomllib.loads(sys.stdin.read())
devices = [d for d in target["device"] if d["kind"] != "cpu"]
best = max(devices, key=lambda d: d["mem_bandwidth"] / d["price_per_hour"])
print(best["name"])
