"""Hostile or broken MCP servers on loopback (stdlib http.server), and a bridge driven line by
line: what `authsome mcp` does when the peer misbehaves."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from clitools import AUTHSOME_BIN


class Peer(ThreadingHTTPServer):
    """A server whose answer to each method is a function of the handler; records requests."""

    daemon_threads = True

    def __init__(self, **answers):
        self.answers = answers  # "POST" -> fn(handler), "GET" -> ...
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers)
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/mcp"
        self.origin = self.url.rsplit("/", 1)[0]

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.requests if m == method)

    def stop(self):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _any(self):
        length = int(self.headers.get("content-length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        answer = self.server.answers.get(self.command)
        if answer is None:
            return self.reply(405, "text/plain", b"")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            answer(self)  # until the bridge hangs up, for a hostile stream

    do_GET = do_POST = do_DELETE = _any

    def reply(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self) -> None:
        """An SSE answer with no length: its end is the connection's."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.close_connection = True

    def write(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()


class Bridge:
    """`authsome mcp testsrv` with its stdin, stdout and stderr in the test's hands."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            [AUTHSOME_BIN, "mcp", "testsrv"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def ask(self, method: str, id_=1, timeout: float = 60) -> dict:
        """Send a request; its answer (the next line on stdout, which must be JSON)."""
        request = {"jsonrpc": "2.0", "id": id_, "method": method, "params": _PARAMS}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.lines.get(timeout=timeout))

    def finish(self, timeout: float = 60) -> tuple[int, list[str], list[str]]:
        """Close stdin: (exit code, what else came on stdout, stderr's lines)."""
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        err = self.proc.stderr.read()
        self.reader.join(timeout)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, rest, err.splitlines()


_PARAMS = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "test", "version": "0"},
}
