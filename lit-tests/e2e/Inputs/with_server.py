#!/usr/bin/env python3
"""Runs a command while examples/tools/serve.py serves 127.0.0.1:PORT (the e2e tests' only
network: a local server the test starts and stops).

    with_server.py PORT -- COMMAND ARGS...

Waits until the port accepts connections (at most 10 s), runs COMMAND with this process's
stdin/stdout/stderr and working directory, stops the server, exits with COMMAND's status.
"""
import os
import socket
import subprocess
import sys
import time

port = int(sys.argv[1])
command = sys.argv[sys.argv.index("--") + 1:]
serve = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "tools", "serve.py")
server = subprocess.Popen([sys.executable, serve, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"with_server.py: the server did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
    sys.exit(subprocess.call(command))
finally:
    server.kill()
    server.wait()
