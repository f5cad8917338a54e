"""An HTTPS API on 127.0.0.1 with its own test CA, for `run --proxy`: it records each
Authorization header and serves an echo, an upload counter, server-sent events and a WebSocket
stand-in (101, then an echo of raw bytes)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from tlsservers import _TLSServer


class _ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"  # keep-alive and chunked answers, as real APIs
    # Head and body go out in two writes: with Nagle on, a kept-alive client's delayed ACK
    # holds the body back some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002
        return

    def do_GET(self):  # noqa: N802
        self.server.seen.append(self.headers.get("Authorization"))
        self.server.connections.add(self.client_address)
        if self.path == "/sse":
            return self._events()
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self._upgrade()
        self._json({"authorization": self.headers.get("Authorization"), "path": self.path})

    def do_POST(self):  # noqa: N802
        self.server.seen.append(self.headers.get("Authorization"))
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while size := int(self.rfile.readline().strip() or b"0", 16):
                total += len(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                got = len(self.rfile.read(min(left, 65536)))
                total, left = total + got, left - got
        self._json({"received": total})

    def _json(self, doc: dict):
        data = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, text: str):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _events(self):
        """Three events; the last only once the test says the first arrived (or 10 s passed)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk("data: one\n\n")
        self.server.first_arrived_in_time = self.server.release.wait(10)
        self._chunk("data: two\n\n")
        self.server.last_sent_at = time.monotonic()
        self._chunk("data: three\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _upgrade(self):
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.end_headers()
        self.wfile.flush()
        while data := self.connection.recv(4096):
            self.connection.sendall(data.upper())
        self.close_connection = True


# http.client, as a library would use it: CONNECT through $HTTPS_PROXY when that is set, then
# sequential GETs on the one kept-alive connection. Prints the seconds of the first request
# and of each later one, as JSON. Arguments: URL, number of later requests.
KEEP_ALIVE_CLIENT = """
import base64, http.client, json, os, ssl, sys, time, urllib.parse
url, n = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
proxy = os.environ.get("HTTPS_PROXY")
if proxy:
    p = urllib.parse.urlsplit(proxy)
    conn = http.client.HTTPSConnection(p.hostname, p.port, context=tls)
    auth = base64.b64encode(f"{p.username}:{p.password}".encode()).decode()
    conn.set_tunnel(url.hostname, url.port, headers={"Proxy-Authorization": "Basic " + auth})
else:
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=tls)
times, start = [], time.perf_counter()
for _ in range(n + 1):
    conn.request("GET", "/v1/echo?q=1")
    body = conn.getresponse().read()
    now = time.perf_counter()
    times.append(now - start)
    start = now
assert json.loads(body)["path"] == "/v1/echo?q=1", body
print(json.dumps({"first": times[0], "each": times[1:]}))
"""


class ApiServer(_TLSServer):
    """`seen`: the Authorization header of every request (None when it had none)."""

    def __init__(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.connections: set = set()
        self.release = threading.Event()
        self.first_arrived_in_time = None
        self.last_sent_at = None
        super().__init__(_ApiHandler, folder, accept=lambda _t: True)
