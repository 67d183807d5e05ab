#!/usr/bin/env python3
"""The part of the CMG double nginx cannot do by itself, behind nginx's TLS (proxy_pass): answers
with the CMG's own status texts (nginx always writes the standard reason phrase, but passes an
upstream's), a skewed Date header, a slow drip and a body cut in the middle. Plain HTTP on loopback.
Also holds a "black hole" port: a listening socket whose accept queue is full, so a connection
attempt gets no answer at all and times out, as behind a firewall that drops packets.

    cmg-backend.py PORT BLACKHOLE_PORT [HOSTILE_TLS_PORT TLS_RESET_PORT CERT KEY
                   [SILENT_PORT [MTLS_PORT CLIENT_TRUST CLIENT_CRLS]]]

Scenario by the management point id in the path (/CCM_Proxy_ServerAuth/<id>/...):
  1401  401 CMGService_Invalid_Token          1402  401 CMGConnector_Unauthorized
  1403  403 CMGConnector_Forbidden            1404  403 CMGConnector_Clientcertificaterequired
  1200  200, then the body one byte per second (slow drip)
  1300  200 with Content-Length 4096, 100 bytes, then the connection is closed (reset mid-body)
  1600  200 with a healthy MP list and a Date header 15 minutes behind
The hostile TLS port serves cmgdiag directly (no nginx in front), for what a proxy would not pass:
  1800  200 with a chunked body that never ends        1900  302 to itself (a redirect loop)
  2000  a 10 MB response header
  2100  no HTTP at all: a line of another protocol, then the connection is closed
  2200  the MP list for ?mplist; any other request: the connection closed without an answer
The TLS reset port reads the client's hello and resets the connection in the middle of the handshake.
The mutual-TLS port requires a client certificate issued by CLIENT_TRUST's CAs, checks it against
CLIENT_CRLS (a CA without a CRL there fails, as for a CMG that cannot fetch it) and, like a TLS
server that checks in the handshake, refuses with a TLS alert; a certificate it accepts gets the MP
list."""
import email.utils
import http.server
import re
import socket
import ssl
import struct
import sys
import threading
import time

MPLIST = (b'<MPList><MP Name="MP01.CORP.CONTOSO.COM" FQDN="mp01.corp.contoso.com" SiteCode="PS1">'
          b'<Version>9128</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/>'
          b'</Capabilities></MP></MPList>')
TEXTS = {"1401": (401, "CMGService_Invalid_Token"), "1402": (401, "CMGConnector_Unauthorized"),
         "1403": (403, "CMGConnector_Forbidden"), "1404": (403, "CMGConnector_Clientcertificaterequired")}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        m = re.match(r"^/CCM_Proxy_(?:ServerAuth|MutualAuth)/(\d+)/", self.path, re.I)
        sid = m.group(1) if m else ""
        if sid in TEXTS:
            code, text = TEXTS[sid]
            body = b"<html><body>%d %s</body></html>" % (code, text.encode())
            self.send_response(code, text)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif sid == "1200":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", "600")
            self.end_headers()
            for _ in range(600):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
        elif sid == "1300":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(MPLIST[:100])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif sid == "1800":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<MPList>" + b"x" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        elif sid == "1900":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif sid == "2000":
            self.send_response(200)
            self.send_header("X-Filler", "a" * (10 << 20))
            self.send_header("Content-Length", "0")
            try:
                self.end_headers()
            except OSError:
                return
        elif sid == "2100":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif sid == "2200" and self.path.lower().endswith("?mplist"):
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(MPLIST)))
            self.end_headers()
            self.wfile.write(MPLIST)
        elif sid == "2200":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif sid == "1600":
            self.send_response_only(200)
            self.send_header("Date", email.utils.formatdate(time.time() - 900, usegmt=True))
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(MPLIST)))
            self.end_headers()
            self.wfile.write(MPLIST)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


class MutualHandler(Handler):
    """Behind a verified client certificate: the MP list for the lab's MP id, 404 otherwise."""

    def do_GET(self):
        ok = re.match(r"^/CCM_Proxy_MutualAuth/72057594037927939/SMS_MP/\.sms_aut\?mplist", self.path, re.I)
        body = MPLIST if ok else b""
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port, hole = int(sys.argv[1]), int(sys.argv[2])
    bh = socket.socket()
    bh.bind(("127.0.0.1", hole))
    bh.listen(0)
    fill = []
    for _ in range(3):  # fill the accept queue: later SYNs are dropped
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", hole))
        except BlockingIOError:
            pass
        fill.append(c)
    if len(sys.argv) > 6:
        hostile, reset, cert, key = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", hostile), Handler)
        tls.daemon_threads = True
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        threading.Thread(target=tls_reset, args=(reset,), daemon=True).start()
    if len(sys.argv) > 7:
        threading.Thread(target=silent, args=(int(sys.argv[7]),), daemon=True).start()
    if len(sys.argv) > 10:
        mctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        mctx.load_cert_chain(cert, key)
        mctx.verify_mode = ssl.CERT_REQUIRED
        mctx.load_verify_locations(cafile=sys.argv[9])
        mctx.load_verify_locations(cafile=sys.argv[10])  # the CRLs
        mctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        mtls = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[8])), MutualHandler)
        mtls.daemon_threads = True
        mtls.socket = mctx.wrap_socket(mtls.socket, server_side=True)
        threading.Thread(target=mtls.serve_forever, daemon=True).start()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


def tls_reset(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(5)
            c.recv(4096)  # the ClientHello
            c.sendall(bytes([22, 3, 3, 0, 80, 2, 0, 0, 76, 3, 3]))  # the start of a ServerHello, then nothing
        except OSError:
            pass
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


def silent(port):
    """Accepts TCP and never says a word: the TLS handshake waits for a ServerHello that never comes."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # kept open, unread
        if len(held) > 64:
            held.pop(0).close()


if __name__ == "__main__":
    main()
