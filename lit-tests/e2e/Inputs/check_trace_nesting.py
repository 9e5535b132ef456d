#!/usr/bin/env python3
"""Checks that the slices of every track (pid, tid) of a Chrome/Perfetto trace nest: two
slices of one track are either disjoint or one contains the other, never a partial
overlap (Perfetto draws a track as a stack). Prints one line per track with its slice
count, or the first offending pair, and exits 1 on a partial overlap.

usage: check_trace_nesting.py TRACE.json
"""
import json
import sys

# Timestamps are microseconds as floats; allow for rounding of ts + dur.
EPS = 1e-3


def main():
    with open(sys.argv[1]) as f:
        events = json.load(f)["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e["name"] == "thread_name"}
    tracks = {}
    for e in events:
        if e.get("ph") == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append(e)
    bad = 0
    for key in sorted(tracks):
        slices = sorted(tracks[key], key=lambda e: (e["ts"], -e["dur"]))
        open_ends = []  # the ends of the enclosing slices, innermost last
        for e in slices:
            start, end = e["ts"], e["ts"] + e["dur"]
            while open_ends and open_ends[-1][0] <= start + EPS:
                open_ends.pop()
            if open_ends and end > open_ends[-1][0] + EPS:
                outer = open_ends[-1][1]
                print(f"track {names.get(key, key)!r}: {e['name']!r} [{start}, {end}] partially overlaps "
                      f"{outer['name']!r} [{outer['ts']}, {outer['ts'] + outer['dur']}]")
                bad += 1
            open_ends.append((end, e))
        print(f"track {names.get(key, key)!r}: {len(slices)} slices")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
