"""HTTP exchanges whose answers are read line by line (an SSE stream), over the standard
library's http.client: importing httpx and building its client costs about 0.25 s of CPU per
process (README, "Why not hvac, and why not httpx either"), and an MCP client starts one
bridge per server per session. Kept-alive connections are pooled: one per concurrent call.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from authsome.util.sse import TooLarge

MAX_LINE = 1 << 22  # one SSE line or JSON answer; a longer one is a hostile or broken peer


class Answer:
    """One answer: status, headers (lower-case names), lines or the whole body."""

    def __init__(self, pool, conn, response):
        self.pool, self.conn, self.response = pool, conn, response
        self.status_code = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.closed = False

    def quiet(self, seconds: float) -> None:
        """The longest silence (s) between two reads from now on."""
        if self.conn.sock is not None:
            self.conn.sock.settimeout(seconds)

    def iter_lines(self, quiet: float | None = None):
        """The body's lines; `quiet`: the longest silence (s) between two."""
        if quiet is not None:
            self.quiet(quiet)
        while True:
            line = self.response.readline(MAX_LINE + 1)
            if not line:
                return
            if len(line) > MAX_LINE:
                raise TooLarge("an answer line over the size cap")
            yield line.decode("utf-8", "replace").rstrip("\r\n")

    def read(self) -> bytes:
        """The whole body, within the pool's deadline however slowly it drips."""
        deadline, body = time.monotonic() + self.pool.timeout, bytearray()
        while chunk := self.response.read1(1 << 16):
            body += chunk
            if len(body) > MAX_LINE:
                raise TooLarge("an answer over the size cap")
            if time.monotonic() > deadline:
                raise TimeoutError("an answer slower than the HTTP deadline")
        self.response.read()  # at the end: marks the answer read, so the connection is kept
        return bytes(body)

    def abort(self) -> None:
        """End a read blocked in another thread (a stream nobody needs any more)."""
        import contextlib
        import socket

        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Give the connection back when the answer was read to its end, else drop it; once:
        a connection given back twice would be two threads' at once."""
        if self.closed:
            return
        self.closed = True
        if self.response.isclosed() and not self.response.will_close:
            self.pool.give_back(self.conn)
        else:
            self.conn.close()


class Pool:
    """Kept-alive connections to one origin, taken one per exchange."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.https, self.port = parts.scheme == "https", parts.port
        self.host = parts.hostname or ""  # never empty: url_allowed checked the URL has a host
        self.target = parts.path or "/"
        if parts.query:
            self.target += "?" + parts.query
        self.timeout = timeout
        self.idle: list = []
        self.lock = threading.Lock()

    def _new(self):
        import http.client

        if self.https:
            import ssl

            context = ssl.create_default_context()
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def give_back(self, conn) -> None:
        with self.lock:
            self.idle.append(conn)

    def exchange(
        self, method: str, headers: dict, body: bytes | None = None, target: str | None = None
    ) -> Answer:
        """Send one request (to `target`, a path on this origin, or the pool's URL); a
        kept-alive connection the server closed is retried anew once."""
        import http.client

        with self.lock:
            conn = self.idle.pop() if self.idle else None
        for fresh in (conn is None, True):
            conn = self._new() if fresh or conn is None else conn
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)  # a stream before may have set a longer one
            try:
                conn.request(method, target or self.target, body, headers)
                return Answer(self, conn, conn.getresponse())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                if fresh:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


def describe(e: BaseException) -> str:
    """What went wrong with the server, in words: never the exception's text, which may
    quote what the server sent."""
    if isinstance(e, TimeoutError):
        return "no answer within the HTTP deadline (AUTHSOME_HTTP_TIMEOUT)"
    if isinstance(e, ConnectionRefusedError):
        return "could not connect (refused)"
    if isinstance(e, ConnectionError | EOFError) or type(e).__name__ == "IncompleteRead":
        return "the connection dropped"
    if isinstance(e, OSError):
        return f"could not connect ({type(e).__name__})"
    return type(e).__name__
