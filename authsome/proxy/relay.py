"""HTTP/1.1 between the child and one upstream, with h11 on both sides.

Bodies move as h11 hands them over, so a chunked answer (server-sent events) reaches the child
chunk by chunk and an upload streams; both connections are kept alive between requests; a 101
answer turns the pair into a byte splice (WebSocket).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl

import h11

from authsome.errors import AuthsomeError, NetworkError
from authsome.proxy import headers

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

BUFSIZE = 65536
CLOSE = [("Connection", "close")]
DRAIN_WAIT = 2  # seconds


def next_event(conn: h11.Connection, sock):
    """The next event on `sock`, reading as h11 needs; a dead socket reads as closed."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        try:
            data = sock.recv(BUFSIZE)
        except OSError:
            data = b""
        conn.receive_data(data)


def send(conn: h11.Connection, sock, event) -> None:
    data = conn.send(event)
    if data:
        sock.sendall(data)


def answer(conn: h11.Connection, sock, status: int, text: str, headers=()) -> None:
    """A short plain-text answer from the proxy itself."""
    body = (text.rstrip("\n") + "\n").encode()
    head = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    with contextlib.suppress(OSError, h11.LocalProtocolError):
        send(conn, sock, h11.Response(status_code=status, headers=[*head, *headers]))
        send(conn, sock, h11.Data(data=body))
        send(conn, sock, h11.EndOfMessage())


def _shut(sock) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _pump(src, dst) -> bool:
    """Move what `src` has to `dst`; False at its end."""
    while True:
        src.setblocking(False)
        try:
            data = src.recv(BUFSIZE)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        except OSError:
            data = b""
        finally:
            src.setblocking(True)
        if not data:
            return False
        dst.sendall(data)
        if not (isinstance(src, ssl.SSLSocket) and src.pending()):
            return True


def splice(a, b) -> None:
    """Copy bytes both ways until both sides have finished."""
    other = {a: b, b: a}
    with selectors.DefaultSelector() as sel:
        for sock in other:
            sel.register(sock, selectors.EVENT_READ)
        live = 2
        while live:
            for key, _ in sel.select():
                try:
                    alive = _pump(key.fileobj, other[key.fileobj])
                except OSError:
                    return
                if not alive:
                    sel.unregister(key.fileobj)
                    _shut(other[key.fileobj])
                    live -= 1


def _readable(sock) -> bool:
    """True when an idle upstream has something to say: it closed, so it cannot be reused."""
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        return bool(sel.select(0))


def _as_http11(response: h11.Response, close: bool) -> h11.Response:
    """The upstream's answer as h11 will send it on: HTTP/1.1 (an HTTP/1.0 server's too)."""
    headers = list(response.headers)
    if close:
        headers = [(k, v) for k, v in headers if k != b"connection"] + [(b"connection", b"close")]
    return h11.Response(status_code=response.status_code, headers=headers, reason=response.reason)


def _seen(method: bytes, target: bytes, authority: tuple[str, int]) -> dict[str, str]:
    """What the audit log keeps of a request: method, the host:port the tunnel opened (not
    what the child wrote) and path, never the query."""
    host, port = authority
    path = target.split(b"?", 1)[0].split(b"#", 1)[0]
    return {
        "method": method.decode("ascii", "replace"),
        "host": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "path": path.decode("ascii", "replace"),
    }


def _drain(conn: h11.Connection, sock, most: int = 1 << 20) -> None:
    """Read what is left of a refused request's body (up to `most` bytes, waiting at most
    DRAIN_WAIT for each read), so that closing the socket does not reset the connection
    under the answer before the child has read it."""
    with contextlib.suppress(OSError, h11.ProtocolError):
        sock.settimeout(DRAIN_WAIT)
        while most > 0:
            event = next_event(conn, sock)
            if not isinstance(event, h11.Data):
                return
            most -= len(event.data)


class Relay:
    """Requests from `client` (h11 server side) forwarded to upstreams `opener()` makes.

    `target`: the intercepted provider whose credential goes on each request (None: none);
    it hears how each signed request ended, once, and of each request `rules` denied.
    `authority`: the (host, port) the CONNECT named, which each request must name too.
    `single`: one exchange, then close (plain http forwarding, where hosts may change).
    """

    def __init__(self, client, opener, target=None, single=False, authority=None, rules=None):
        self.client, self.conn = client, h11.Connection(h11.SERVER)
        self.opener, self.target, self.single = opener, target, single
        self.authority, self.rules = authority, rules  # rules: proxy/rules.py's, or None
        # The upstream socket and its h11 side: None between connections, and used only once
        # _upstream() opened them, which the checker cannot follow (hence Any)
        self.up: Any = None
        self.upconn: Any = None
        self.signed = None  # the signed request on its way, until its answer (or failure)

    def serve(self, first=None) -> None:
        try:
            while self._one(first):
                first = None
                if self.single or self.conn.states != {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}:
                    return
                self.conn.start_next_cycle()
                if self.upconn.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}:
                    self.upconn.start_next_cycle()
                else:
                    self._drop_upstream()
        finally:
            self._report(failed="the connection closed before the server answered")
            self._drop_upstream()

    def _report(self, status: int | None = None, failed=None) -> None:
        """Tell the target how its signed request ended: `failed` is why it never got an
        answer (an AuthsomeError when the child got 502 for it)."""
        if self.signed is not None:
            seen, self.signed = self.signed, None
            self.target.done(seen, status=status, failed=failed)

    def _drop_upstream(self) -> None:
        if self.up is not None:
            with contextlib.suppress(OSError):
                self.up.close()
        self.up = self.upconn = None

    def _upstream(self):
        if self.up is not None and _readable(self.up):
            self._drop_upstream()
        if self.up is None:
            self.up, self.upconn = self.opener(), h11.Connection(h11.CLIENT)
        return self.up

    def _outgoing(self, request) -> h11.Request:
        """The request as it goes upstream; a signed one is remembered for the audit log."""
        kept = [(k, v) for k, v in request.headers if k != b"expect"]
        target = headers.origin_form(request.target)
        if self.target is None:
            kept = headers.end_to_end(kept)
        else:
            credential = self.target.header()
            kept = headers.with_credential(kept, self.target.placeholder, credential)
            self.signed = _seen(request.method, target, self.authority)
        return h11.Request(method=request.method, target=target, headers=kept)

    def _one(self, request) -> bool:
        """Forward one request and its answer; False when the connection is over."""
        try:
            request = request or next_event(self.conn, self.client)
        except h11.RemoteProtocolError as e:  # two Hosts, a bad length: said, then closed
            answer(self.conn, self.client, e.error_status_hint, f"authsome proxy: {e}", CLOSE)
            return False
        if not isinstance(request, h11.Request):
            return False
        refused = headers.refusal(request, self.authority)
        if refused is not None:
            answer(self.conn, self.client, refused[0], f"authsome proxy: refused {refused[1]}",
                   CLOSE)  # fmt: skip
            return False
        if self._denied(request):
            return False
        try:
            out = self._outgoing(request)
            up = self._upstream()
        except (AuthsomeError, OSError) as e:
            self._report(failed=e)
            answer(self.conn, self.client, 502, f"authsome proxy: {e}", CLOSE)
            return False
        if any(k == b"expect" for k, _ in request.headers):
            send(self.conn, self.client, h11.InformationalResponse(status_code=100, headers=[]))
        send(self.upconn, up, out)
        if not self._body(self.conn, self.client, self.upconn, up):
            return False
        return self._response()

    def _denied(self, request) -> bool:
        """Answer 403, the credential unread and nothing sent on, when no rule allows
        `request`; False when rules allow it or none are in force."""
        if self.rules is None or self.target is None:
            return False
        target = headers.origin_form(request.target)
        why = self.rules.denial(request.method, target, self.authority, request.headers)
        if why is None:
            return False
        seen = _seen(request.method, target, self.authority)
        self.target.denied(seen, why)
        line = f"authsome proxy: denied {seen['method']} {seen['host']}{seen['path']}: {why}"
        answer(self.conn, self.client, 403, line, CLOSE)
        _drain(self.conn, self.client)
        return True

    def _body(self, conn, src, upconn, dst) -> bool:
        """Stream a message body from `src` to `dst`; False if `src` went away first."""
        while True:
            event = next_event(conn, src)
            if isinstance(event, h11.Data):
                send(upconn, dst, event)
            elif isinstance(event, h11.EndOfMessage):
                send(upconn, dst, event)
                return True
            else:
                return False

    def _response(self) -> bool:
        while True:
            event = next_event(self.upconn, self.up)
            if isinstance(event, h11.InformationalResponse):
                send(self.conn, self.client, event)
                if event.status_code == 101:
                    self._report(status=101)
                    self._switch()
                    return False
                continue
            if not isinstance(event, h11.Response):
                closed = NetworkError("the server closed the connection before answering")
                self._report(failed=closed)
                answer(self.conn, self.client, 502, f"authsome proxy: {closed}")
                return False
            self._report(status=event.status_code)
            event = _as_http11(event, close=self.single)
            send(self.conn, self.client, event)
            return self._body(self.upconn, self.up, self.conn, self.client)

    def _switch(self) -> None:
        """After a 101: what each side sent past the HTTP exchange, then raw bytes both ways."""
        pending_up, _ = self.conn.trailing_data
        pending_down, _ = self.upconn.trailing_data
        if pending_up:
            self.up.sendall(pending_up)
        if pending_down:
            self.client.sendall(pending_down)
        splice(self.client, self.up)
