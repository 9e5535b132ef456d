#!/usr/bin/env python3
"""Sends each named signal to a run of an executable while its tool runs, and reports what
is left: the exit status, whether the tool's process group is gone, whether the trace was
written.

    signal_run.py DIR SIGNAL... -- APP ARGS...

For each SIGNAL: runs APP in DIR (its own session, stdout discarded) and waits (at
most 20 s) for DIR/started, where the tool writes its process id and that of a background
child in its group; sends SIGNAL to APP alone; waits (at most 30 s) for it to exit; then
waits (at most 10 s) for both tool processes to be gone (a zombie counts as gone). Prints
`SIGNAL: exit N, tool group killed|ALIVE, trace written|MISSING; LAST STDERR LINE` (N
negative: killed by signal -N) and removes what the run left (trace.json, started).
"""
import json
import os
import signal
import subprocess
import sys
import time


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


folder = sys.argv[1]
dash = sys.argv.index("--")
names, command = sys.argv[2:dash], sys.argv[dash + 1:]
marker = os.path.join(folder, "started")
trace = os.path.join(folder, "trace.json")
for name in names:
    app = subprocess.Popen(command, cwd=folder, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not os.path.exists(marker) or len(open(marker).read().split()) < 2:
        if time.monotonic() > deadline or app.poll() is not None:
            app.kill()
            sys.exit(f"signal_run.py: the tool never started ({name})")
        time.sleep(0.05)
    pids = [int(p) for p in open(marker).read().split()]
    app.send_signal(getattr(signal, name))
    try:
        _, err = app.communicate(timeout=30)
        status = app.returncode
    except subprocess.TimeoutExpired:
        app.kill()
        err = app.communicate()[1]
        status = "none (it did not end)"
    last = (err.strip().splitlines() or [""])[-1]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    group = "ALIVE" if any(alive(p) for p in pids) else "killed"
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        with open(trace) as f:
            json.load(f)
        written = "written"
        os.remove(trace)
    except (OSError, ValueError):
        written = "MISSING"
    os.remove(marker)
    print(f"{name}: exit {status}, tool group {group}, trace {written}; {last}", flush=True)
