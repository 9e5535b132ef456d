#!/usr/bin/env python3
"""Local HTTP service for the examples' http tools. Listens on 127.0.0.1 only.

    python3 tools/serve.py [PORT]        (default 8080; Ctrl-C stops it)

GET  /weather?city=NAME  -> a fixed forecast for NAME (deterministic from the name)
GET  /lookup?term=WORD   -> a one-line definition from a small glossary
GET  /page?u=URL         -> a stub page body for URL (research.agent's fetch tool)
POST /notes              -> stores the request body in memory; replies "noted N"
Anything else is a 404. No outbound network access.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GLOSSARY = {
    "prefill": "processing the whole prompt in one pass; compute-bound",
    "decode": "generating one token per step; memory-bandwidth-bound",
    "embedding": "a fixed-size vector that represents a text",
    "mlir": "a compiler infrastructure with extensible dialects",
    "agent": "a program that combines model calls and tool calls toward a goal",
}
SKIES = ["sunny", "cloudy", "rainy", "windy", "foggy"]
NOTES = []


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/weather" and "city" in query:
            city = query["city"].strip()
            seed = sum(city.lower().encode("utf-8"))
            self.reply(200, f"{SKIES[seed % len(SKIES)]}, {10 + seed % 20} C")
        elif url.path == "/lookup" and "term" in query:
            term = query["term"].strip().lower()
            self.reply(200, GLOSSARY.get(term, f"no entry for {term}"))
        elif url.path == "/page" and "u" in query:
            self.reply(200, f"Stub page for {query['u']}: nothing to see offline.")
        else:
            self.reply(404, "not found")

    def do_POST(self):
        if urlparse(self.path).path != "/notes":
            self.reply(404, "not found")
            return
        length = int(self.headers.get("Content-Length", "0"))
        NOTES.append(self.rfile.read(length).decode("utf-8", "replace"))
        self.reply(200, f"noted {len(NOTES)}")

    def log_message(self, fmt, *args):
        sys.stderr.write("serve.py: " + (fmt % args) + "\n")


def main(argv):
    port = int(argv[0]) if argv else 8080
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"serve.py: listening on http://127.0.0.1:{port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
