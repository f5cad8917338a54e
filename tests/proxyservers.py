"""HTTPS servers on 127.0.0.1 with their own test CA, for `run --proxy`.

- ApiServer records each Authorization header and serves an echo, an upload counter,
  server-sent events and a WebSocket stand-in (101, then an echo of raw bytes).
- RawServer keeps the exact bytes it received, for what the proxy lets through.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler

from tlsservers import _TLSServer, make_ca


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


class RawServer:
    """An HTTPS upstream that frames requests by Content-Length alone, as a server that knows
    no Transfer-Encoding does, and keeps exactly the bytes it received.

    `received`: every byte read, in order; `requests`: (head, body) of each request it framed,
    each answered 200 with a short JSON body."""

    def __init__(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = make_ca(folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        self.host, self.url = f"127.0.0.1:{port}", f"https://127.0.0.1:{port}"
        self.received = bytearray()
        self.requests: list[tuple[bytes, bytes]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def heads(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """(request line, {lower-cased name: value}) of each request, as it arrived."""
        found = []
        for head, _ in self.requests:
            line, *fields = head.split(b"\r\n")
            pairs = (f.split(b":", 1) for f in fields)
            found.append((line, {k.strip().lower(): v.strip() for k, v in pairs}))
        return found

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        with contextlib.suppress(OSError), self.tls.wrap_socket(sock, server_side=True) as tls:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    pending += self._read(tls)
                head, _, pending = pending.partition(b"\r\n\r\n")
                match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                length = int(match.group(1)) if match else 0
                while len(pending) < length:
                    pending += self._read(tls)
                self.requests.append((head, pending[:length]))
                pending = pending[length:]
                body = json.dumps({"request": len(self.requests)}).encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip

    def _read(self, tls) -> bytes:
        data = tls.recv(65536)
        if not data:
            raise OSError("closed")
        self.received += data
        return data

    def stop(self):
        self.listener.close()


# A child of `run --proxy` that speaks raw bytes: for each file named in argv, one CONNECT to
# argv[1] through $HTTPS_PROXY, TLS with the run's CA, the file's bytes, then everything the
# proxy sends back until it closes (or 5 s pass). Prints the answers as one JSON list.
RAW_CLIENT = """
import base64, json, os, socket, ssl, sys, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
auth = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
answers = []
for path in sys.argv[2:]:
    sock = socket.create_connection((proxy.hostname, proxy.port), timeout=5)
    sock.sendall(f"CONNECT {sys.argv[1]} HTTP/1.1\\r\\nHost: {sys.argv[1]}\\r\\n"
                 f"Proxy-Authorization: Basic {auth}\\r\\n\\r\\n".encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 200"), "CONNECT"
    conn = tls.wrap_socket(sock, server_hostname=sys.argv[1].rsplit(":", 1)[0])
    conn.sendall(open(path, "rb").read())
    got = b""
    try:
        while data := conn.recv(65536):
            got += data
    except (TimeoutError, OSError):
        got += b"<no close>"
    answers.append(got.decode("latin-1"))
print(json.dumps(answers))
"""
