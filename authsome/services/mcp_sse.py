"""The HTTP+SSE transport of MCP 2024-11-05, for servers that still use it: a GET opens the
event stream, whose first event (`endpoint`) names where to POST; every answer comes back on
that stream. It cannot be resumed: when the stream ends, so does the session.
"""

from __future__ import annotations

import contextlib
import threading
import time
from urllib.parse import urljoin, urlsplit

from authsome.util.httplines import describe
from authsome.util.sse import MAX_EVENT, Events, TooLarge

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

SSE = "text/event-stream"
_PORTS = {"http": 80, "https": 443}


def same_origin(a: str, b: str) -> bool:
    """Whether URLs `a` and `b` share scheme, host and port: a token goes nowhere else."""
    pa, pb = urlsplit(a), urlsplit(b)
    port = lambda p: p.port or _PORTS.get(p.scheme)  # noqa: E731
    return (pa.scheme, pa.hostname, port(pa)) == (pb.scheme, pb.hostname, port(pb))


class Legacy:
    """One session over HTTP+SSE: the stream, its endpoint, the requests not yet answered."""

    def __init__(self, bridge):
        self.b = bridge
        self.endpoint: str | None = None  # a path on the server's own origin
        self.pending: dict = {}  # request id -> the request, until its answer comes
        self.lock = threading.Lock()
        self.gone: str | None = None  # why the stream ended: every request is answered so
        self.quiet_until = 0.0
        self.until = float("inf")  # the endpoint event must come by then
        # The event stream once open (util/httplines.py's answer); None before
        self.stream: Any = None

    def connect(self, message: dict) -> None:
        """GET the stream and read its endpoint event, within the HTTP deadline."""
        b = self.b
        answer = b.exchange("GET", None, Accept=SSE)
        kind = answer.headers.get("content-type", "")
        if answer.status_code != 200 or not kind.startswith(SSE):
            answer.close()
            if answer.status_code == 401:
                return b.fail(message, f"{b.name} refused its token. {b.login_fix()}")
            return b.fail(message, f"{b.url} takes neither Streamable HTTP nor HTTP+SSE")
        self.stream, self.until = answer, time.monotonic() + b.deadline
        events = iter(Events(self.watched(answer.iter_lines(b.deadline))))
        try:
            first = next(events, None)
        except TooLarge:
            first = None
        except Exception as e:  # noqa: BLE001 - dropped, or no endpoint in time
            answer.close()
            return b.fail(message, f"the MCP server {b.url} failed: {describe(e)}")
        named = first is not None and first["event"] == "endpoint"
        url = urljoin(b.url, first["data"].strip()) if first is not None and named else ""
        if not url:
            answer.close()
            return b.fail(message, f"{b.url} opened an event stream without an endpoint event")
        if not same_origin(url, b.url):
            answer.close()
            return b.fail(message, f"{b.url} named an endpoint elsewhere; no token goes there")
        parts = urlsplit(url)
        self.endpoint = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.until = float("inf")
        answer.quiet(b.quiet)  # from now on, the silence a long-lived stream may keep
        threading.Thread(target=self.read, args=(events,), daemon=True, name="mcp-sse").start()

    def watched(self, lines):
        """`lines`; pending requests answered with an error when no message came for long."""
        for line in lines:
            if time.monotonic() > self.until:
                raise TimeoutError
            if self.pending and time.monotonic() > self.quiet_until:
                self.fail_pending("sent no answer for a long while (AUTHSOME_HTTP_TIMEOUT)")
            yield line

    def read(self, events) -> None:
        """Relay the stream's messages until it ends; then answer what is still pending."""
        why = "ended its event stream (HTTP+SSE cannot resume); restart the MCP client"
        try:
            for event in events:
                if event["event"] != "message":
                    continue
                got = self.b.answer(event["data"])
                self.quiet_until = time.monotonic() + self.b.quiet
                if isinstance(got, dict) and "method" not in got:
                    with self.lock:
                        self.pending.pop(_key(got.get("id")), None)
        except TooLarge:
            why = f"sent a message over {MAX_EVENT >> 20} MiB; restart the MCP client"
        except Exception as e:  # noqa: BLE001 - dropped: the session is over
            why = f"{describe(e)}; restart the MCP client"
        finally:
            self.stream.close()
        self.gone = f"{self.b.url}: {why}"
        self.fail_pending(why)

    def fail_pending(self, why: str) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
        for message in pending.values():
            self.b.fail(message, f"{self.b.url}: {why}")

    def send(self, line: str, message: dict) -> None:
        if self.gone:
            return self.b.fail(message, self.gone)
        key = _key(message.get("id")) if "method" in message and "id" in message else None
        if key is not None:
            with self.lock:
                if not self.pending:
                    self.quiet_until = time.monotonic() + self.b.quiet
                self.pending[key] = message
        answer = self.b.exchange("POST", line.encode(), target=self.endpoint)
        with contextlib.suppress(Exception):  # the body does not matter, the status does
            answer.read()  # "Accepted": read, so that the connection is kept
        answer.close()
        if answer.status_code >= 300:
            with self.lock:
                self.pending.pop(key, None)
            b = self.b
            if answer.status_code == 401:
                return b.fail(message, f"{b.name} refused its token. {b.login_fix()}")
            if answer.status_code == 403:
                from authsome.services.mcpscope import insufficient_scope

                if text := insufficient_scope(b, answer):
                    return b.fail(message, text)
            b.fail(message, f"{b.url} answered HTTP {answer.status_code}")

    def close(self) -> None:
        """Leaving: the stream cut (this transport has no DELETE)."""
        if self.stream is not None:
            self.gone = "leaving"
            self.stream.abort()


def _key(request_id) -> str:
    """A request ID as a key: 1 and "1" are different requests."""
    return f"{type(request_id).__name__}:{request_id}"
