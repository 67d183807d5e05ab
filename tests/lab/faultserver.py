#!/usr/bin/env python3
"""A fault-injecting HTTP collector for what no real server does on demand: answers from a script,
one action per request, then 201 for everything. Plain HTTP on loopback (the outputs accept http
only for loopback). Every request is recorded as one JSON line (method, path, headers, body as hex,
time, client port: the same port on two requests means one reused connection).

    faultserver.py PORT LOGFILE ACTION[,ACTION...]

Actions: 201 | 503 | 429 | 500 | 400 | 403 ...   status only
         503+ra=2                                 with "Retry-After: 2"
         429+date=2                               with Retry-After as an HTTP-date 2 s ahead
         slow=N                                   headers, then one body byte per second for N s
         hang                                     read the request, never answer
         reset                                    read the request, close the socket without answering
         big=N                                    200 with an N-byte body
         esc                                      403 whose reason phrase and x-ms-error-code carry
                                                  terminal escape sequences (ESC [2J, OSC title)
         loop                                     200, a List Blobs page of one blob whose NextMarker is
                                                  always the same (a container that never ends)"""
import email.utils
import http.server
import json
import socket
import struct
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _record(self, body):
        with self.server.lock:
            with open(self.server.logfile, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                    "body": body.hex(), "t": time.time(),
                                    "peer_port": self.client_address[1]}) + "\n")
            action = self.server.actions.pop(0) if self.server.actions else "201"
        return action

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        action = self._record(body)
        if action == "hang":
            time.sleep(3600)
            return
        if action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if action.startswith("slow="):
            secs = int(action[5:])
            self.send_response(200)
            self.send_header("Content-Length", str(secs + 1))
            self.end_headers()
            for _ in range(secs):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(1)
            return
        if action.startswith("big="):
            size = int(action[4:])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            while size > 0:
                self.wfile.write(chunk[:size])
                size -= 65536
            return
        if action == "loop":
            page = (b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs><Blob><Name>'
                    b'2026/12/07/PC1/x.json.gz</Name></Blob></Blobs><NextMarker>again</NextMarker>'
                    b'</EnumerationResults>')
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if action == "esc":
            evil = "Denied\x1b[2J\x1b]0;pwned\x07\x9b31m"
            self.send_response(403, evil)
            self.send_header("x-ms-error-code", evil)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, _, extra = action.partition("+")
        self.send_response(int(status))
        if extra.startswith("ra="):
            self.send_header("Retry-After", extra[3:])
        elif extra.startswith("date="):
            self.send_header("Retry-After", email.utils.formatdate(time.time() + int(extra[5:]), usegmt=True))
        msg = b"fault server\n"
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    do_PUT = do_POST = do_GET = _handle


def main():
    port, logfile, script = int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.logfile, srv.lock = logfile, threading.Lock()
    srv.actions = [a for a in script.split(",") if a]
    srv.serve_forever()


if __name__ == "__main__":
    main()
