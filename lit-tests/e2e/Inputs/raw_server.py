#!/usr/bin/env python3
"""Runs a command while a raw HTTP/1.1 server answers on 127.0.0.1:PORT with fixed bytes,
chosen by the request path, so tests can send responses no well-behaved server would.

    raw_server.py PORT -- COMMAND ARGS...

Paths: /ok (200, `fine`), /big (200, a 2000-byte body with its Content-Length),
/big-chunked (200, chunked, 2000 bytes), /dup (two Content-Length headers, 3 and 5),
/same (two Content-Length headers, both 3), /files/.../raw (200, `dots`); anything else is a 404. Each connection gets
one response, then is closed. Waits until the port accepts connections (at most 10 s),
runs COMMAND, stops the server, exits with COMMAND's status.
"""
import socket
import subprocess
import sys
import threading
import time

RESPONSES = {
    "/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine",
    "/big": b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"b" * 2000,
    "/big-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"64\r\n" + b"c" * 100 + b"\r\n" for _ in range(20)) + b"0\r\n\r\n",
    "/dup": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
    "/same": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    "/files/.../raw": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndots",
}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def answer(conn):
    with conn:
        conn.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(4096)
            if not data:
                return
            head += data
        path = head.split(b" ")[1].decode("latin-1")
        try:
            conn.sendall(RESPONSES.get(path, NOT_FOUND))
        except OSError:
            pass  # the client may close early (a body over its limit)


def serve(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=answer, args=(conn,), daemon=True).start()


port = int(sys.argv[1])
command = sys.argv[sys.argv.index("--") + 1:]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
deadline = time.monotonic() + 10
while True:
    try:
        listener.bind(("127.0.0.1", port))
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"raw_server.py: cannot listen on 127.0.0.1:{port}")
        time.sleep(0.1)
listener.listen(16)
threading.Thread(target=serve, args=(listener,), daemon=True).start()
try:
    sys.exit(subprocess.call(command))
finally:
    listener.close()
