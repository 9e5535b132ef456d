#!/usr/bin/env python3
"""Kills a running executable with SIGKILL while a tool it called is running, then lists
the files left in its working folder: a killed run must leave no partial output.

    kill_run.py DIR -- APP ARGS...

Runs APP in DIR; waits (at most 20 s) for DIR/started (the tool writes it, with its own
process id), kills APP, kills the tool's process (whose process group is its own), and
prints the sorted names of the files in DIR, one per line, then `exit: SIGNAL`.
"""
import os
import signal
import subprocess
import sys
import time

folder = sys.argv[1]
command = sys.argv[sys.argv.index("--") + 1:]
app = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
marker = os.path.join(folder, "started")
deadline = time.monotonic() + 20
while not os.path.exists(marker) or not open(marker).read().strip():
    if time.monotonic() > deadline or app.poll() is not None:
        sys.exit("kill_run.py: the tool never started")
    time.sleep(0.05)
app.kill()
status = app.wait()
try:
    os.kill(int(open(marker).read().split()[0]), signal.SIGKILL)
except (OSError, ValueError):
    pass
os.remove(marker)
for name in sorted(os.listdir(folder)):
    print(name)
print(f"exit: {-status}")
