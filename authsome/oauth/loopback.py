"""One local HTTP server on 127.0.0.1 that waits for a single answer: PKCE's redirect and the
browser bridge's form both run on it.

Each connection is handled in its own thread, so an idle one (a browser's preconnect, or a
deliberate stall) cannot hold up the answer that matters. Nothing is ever logged: requests
carry authorization codes and secrets.

Its URLs sit in a browser's argv, which every local user can read, so on Linux a connection
from another uid, or from one whose owner cannot be found, is closed unread
(authsome.util.peeruid).
"""

from __future__ import annotations

import contextlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


class Outcome:
    """The one answer a login waits for; handlers run in threads, and the first to finish wins."""

    def __init__(self):
        self.value = None
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.page_served = False  # the login's one-use page (serve_page)
        self.page_reused = False

    def serve_page(self) -> bool:
        """True the first time the login's one-use page is asked for. A second request ends
        the login (fail closed: someone else holds the link), as any request after the end."""
        with self.lock:
            if self.done.is_set():
                return False
            if self.page_served:
                self.page_reused = True
                self.done.set()
                return False
            self.page_served = True
            return True

    def finish(self, value) -> bool:
        """Record `value` unless the wait already ended; True when this call ended it."""
        with self.lock:
            if self.done.is_set():
                return False
            self.value = value
            self.done.set()
            return True


class Handler(BaseHTTPRequestHandler):
    """A request handler that never logs and answers with small HTML pages."""

    def log_message(self, format, *args):  # noqa: A002 - requests hold codes and secrets
        return

    def parse_request(self) -> bool:
        # A request, not a connection, is what the server waits to answer (Server.settle): a
        # browser's spare connection that never sends one must not hold the command up.
        parsed = super().parse_request()
        if parsed:
            self.server.answering(self.request)  # type: ignore[attr-defined]
        return parsed

    def send_html(self, status: int, page: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """Answer `page` with `status`, uncached, plus any `headers`."""
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    """A threading server on 127.0.0.1 (`port` 0: any free one) that prints no tracebacks."""

    daemon_threads = True

    def __init__(self, handler: type[Handler], port: int = 0):
        super().__init__((HOST, port), handler)
        self.outcome = Outcome()
        self._answering: set = set()  # the connections whose request is being answered
        self._answered = threading.Condition()

    def answering(self, request) -> None:
        with self._answered:
            self._answering.add(request)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)  # closes the connection
        finally:
            with self._answered:
                self._answering.discard(request)
                self._answered.notify_all()

    def settle(self, seconds: float) -> None:
        """Wait up to `seconds` for the answers being written: the request that ended the
        login (its result page, or the 410 of a link used twice) still gets its whole page."""
        with self._answered:
            self._answered.wait_for(lambda: not self._answering, timeout=seconds)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    def verify_request(self, request, client_address) -> bool:
        """Only the user running authsome may talk to the server (where the OS can tell)."""
        from authsome.util import peeruid

        try:
            uid = peeruid.peer_uid(request.getsockname(), request.getpeername())
        except OSError:
            return False
        return uid == peeruid.UNKNOWN_PLATFORM or uid == os.getuid()

    def handle_error(self, request, client_address) -> None:
        # A broken or timed-out connection must not print a traceback into the terminal.
        return


@contextlib.contextmanager
def serving(server: Server):
    """Serve in a background thread for the duration of the block, then close the port."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    ended = False
    try:
        yield server
        ended = server.outcome.done.is_set()
    finally:
        server.shutdown()
        try:
            if ended:  # not after Ctrl-C or a timeout: nothing is owed then
                server.settle(2.0)  # bounded: a client that stalls cannot hold the command up
        finally:
            server.server_close()


def wait(done: threading.Event, clock, seconds: float) -> bool:
    """Whether `done` was set within `seconds` of `clock`."""
    # Short steps, so that Ctrl-C is handled promptly.
    end = clock() + seconds
    while clock() < end:
        if done.wait(0.2):
            return True
    return done.is_set()
