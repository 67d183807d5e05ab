#!/usr/bin/env python3
"""A real RFC 3161 Time-Stamp Authority for the signing test: `openssl ts -reply` behind a plain
HTTP POST (application/timestamp-query in, application/timestamp-reply out), as osslsigncode's -ts
talks to a public TSA.

    tsa.py PORT DIR        (DIR holds tsa.cnf, tsa.key and tsa.pem; prints "ready" when listening)"""
import http.server
import os
import subprocess
import sys
import tempfile

DIR = None


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(min(n, 65536))
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, "q.tsq"), os.path.join(t, "r.tsr")
            with open(q, "wb") as f:
                f.write(query)
            p = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(DIR, "tsa.cnf"), "-queryfile", q,
                                "-inkey", os.path.join(DIR, "tsa.key"), "-signer", os.path.join(DIR, "tsa.pem"),
                                "-out", r], cwd=DIR, capture_output=True)
            body = open(r, "rb").read() if p.returncode == 0 and os.path.exists(r) else b""
        self.send_response(200 if body else 500)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    DIR = os.path.abspath(sys.argv[2])
    srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    srv.serve_forever()
