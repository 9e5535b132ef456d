#!/usr/bin/env python3
"""Runs a command while an HTTPS server answers on 127.0.0.1:PORT with a certificate made
for this run (a test-only CA, made with `openssl` in a fresh temporary folder and deleted
after), with SSL_CERT_FILE naming that CA so the command trusts it (and nothing else).

    https_server.py PORT -- COMMAND ARGS...

Paths: GET /hello (200, `hello over tls`); GET /auth (200 `welcome` when the request has
`Authorization: Bearer s3cret-token`, else 401 with a body that echoes the header it got);
POST /echo (200, `TYPE BODY`: the request's Content-Type and body); anything else is a 404
with the body `no such page: PATH`. Waits until the port accepts connections (at most
10 s), runs COMMAND, stops the server, exits with COMMAND's status.
"""
import http.server
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "s3cret-token"


def make_certificates(folder):
    """A CA and a leaf certificate for IP 127.0.0.1 signed by it; returns (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (os.path.join(folder, n) for n in ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(folder, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
                    "-days", "2", "-subj", "/CN=agentc test-only CA"], check=True, **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=127.0.0.1"], check=True, **quiet)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext], check=True, **quiet)
    return ca, cert, key


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?")[0] == "/hello":
            self.reply(200, "hello over tls")
        elif self.path == "/auth":
            got = self.headers.get("Authorization", "")
            if got == "Bearer " + TOKEN:
                self.reply(200, f"welcome ({self.headers.get('X-Client', '')})")
            else:
                self.reply(401, f"unauthorized: got '{got}'")
        else:
            self.reply(404, f"no such page: {self.path}")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        if self.path == "/echo":
            self.reply(200, f"{self.headers.get('Content-Type', '')} {body}")
        else:
            self.reply(404, f"no such page: {self.path}")

    def log_message(self, fmt, *args):
        pass


def main():
    port = int(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1:]
    with tempfile.TemporaryDirectory() as folder:
        ca, cert, key = make_certificates(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"https_server.py: the server did not start on 127.0.0.1:{port}")
                time.sleep(0.05)
        env = dict(os.environ, SSL_CERT_FILE=ca)
        env.pop("SSL_CERT_DIR", None)
        status = subprocess.call(command, env=env)
        server.shutdown()
    sys.exit(status)


main()
