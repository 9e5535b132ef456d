#!/usr/bin/env python3
"""Interrupts `agentc run` while the program's tool runs, and prints agentc's exit status.

    interrupt.py group|agentc[:SIGNAL] DIR -- AGENTC ARGS...

Starts the command in DIR in a new process group and waits (at most 60 s, the build
included) for DIR/started, which the tool writes. `group` sends SIGINT to the whole group,
as a terminal's Ctrl-C does; `agentc` sends SIGTERM (or SIGNAL, e.g. `agentc:SIGHUP`) to
agentc alone. Prints `exit: N` (negative: killed by signal -N).
"""
import os
import signal
import subprocess
import sys
import time

how, _, name = sys.argv[1].partition(":")
folder = sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
marker = os.path.join(folder, "started")
run = subprocess.Popen(command, cwd=folder, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 60
while not os.path.exists(marker) or not open(marker).read().strip():
    if time.monotonic() > deadline or run.poll() is not None:
        os.killpg(run.pid, signal.SIGKILL)
        sys.exit("interrupt.py: the tool never started")
    time.sleep(0.05)
if how == "group":
    os.killpg(run.pid, signal.SIGINT)
else:
    run.send_signal(getattr(signal, name or "SIGTERM"))
try:
    status = run.wait(timeout=30)
except subprocess.TimeoutExpired:
    os.killpg(run.pid, signal.SIGKILL)
    sys.exit("interrupt.py: the run did not end")
os.remove(marker)
print(f"exit: {status}")
