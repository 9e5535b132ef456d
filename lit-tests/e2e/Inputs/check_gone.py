#!/usr/bin/env python3
"""Reads process ids (one per line) from FILE and prints, for each, `gone` or `ALIVE`
(a zombie counts as gone), waiting up to 10 s for them to go; kills what is left.

    check_gone.py FILE
"""
import os
import signal
import sys
import time


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


pids = [int(line) for line in open(sys.argv[1]).read().split()]
deadline = time.monotonic() + 10
while any(alive(p) for p in pids) and time.monotonic() < deadline:
    time.sleep(0.05)
for pid in pids:
    state = "ALIVE" if alive(pid) else "gone"
    if state == "ALIVE":
        os.kill(pid, signal.SIGKILL)
    print(f"background process: {state}")
