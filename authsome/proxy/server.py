"""The listening side: who may connect, and what each CONNECT or plain request becomes.

A connection must come from this uid (Linux) and carry the per-run secret; a CONNECT to a
named provider's host is decrypted with a leaf from the run's CA and relayed with the
credential; any other CONNECT is a blind tunnel; plain http:// to a provider host is refused.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import os
import secrets
import socket
import ssl
import threading
from urllib.parse import urlsplit

import h11

from authsome.errors import NetworkError
from authsome.proxy.authority import ALPN
from authsome.proxy.relay import Relay, answer, next_event, send, splice
from authsome.proxy.router import Ambiguous, claims_host, route, split_host
from authsome.util import peeruid

USER = "authsome"
CONNECT_TIMEOUT = 30
MAX_TRIES = 3  # requests answered 407 on one connection before it is closed


def upstream_context(ca_files=()) -> ssl.SSLContext:
    """Verifies servers against the system's trusted CAs plus `ca_files` (the user's own)."""
    context = ssl.create_default_context()
    paths = ssl.get_default_verify_paths()
    # The defaults loaded paths.cafile already (SSL_CERT_FILE, else the system's): parsing a
    # bundle again costs ~35 ms of every run's start-up.
    loaded = {os.path.realpath(paths.cafile)} if paths.cafile else set()
    for cafile in (paths.openssl_cafile, *ca_files):
        if cafile and os.path.isfile(cafile) and os.path.realpath(cafile) not in loaded:
            loaded.add(os.path.realpath(cafile))
            context.load_verify_locations(cafile=cafile)
    context.set_alpn_protocols(ALPN)
    return context


class Proxy:
    """`targets`: provider name -> object with .hosts, .placeholder, .header() and .done()."""

    def __init__(self, targets: dict, authority, tls: ssl.SSLContext, rules=None):
        self.targets, self.authority, self.tls = targets, authority, tls
        self.rules = rules  # proxy/rules.py's Rules for every intercepted request, or None
        self.candidates = [(name, t.hosts) for name, t in targets.items()]
        self.secret = secrets.token_urlsafe(24)
        token = base64.b64encode(f"{USER}:{self.secret}".encode())
        self._expected = b"basic " + token
        self._listener = socket.create_server(("127.0.0.1", 0))
        # How tunnels and plain http reach a host; the sandbox's keeps them off this machine.
        self.dial = socket.create_connection
        self.port = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{USER}:{self.secret}@127.0.0.1:{self.port}"

    def start(self) -> None:
        threading.Thread(target=self._accept, name="authsome-proxy", daemon=True).start()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def take(self, sock) -> None:
        """Serve a connection the sandbox's forwarder handed over: its peer is inside the
        sandbox, whose forwarder alone holds the other end of the pair it came through."""
        self._handle(sock, trusted=True)

    def _handle(self, sock, trusted=False) -> None:
        try:
            _no_delay(sock)
            if trusted or self._same_user(sock):
                self._serve(sock)
        except (OSError, h11.ProtocolError):
            pass  # the child went away, or spoke nonsense: nothing to tell it
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    @staticmethod
    def _same_user(sock) -> bool:
        uid = peeruid.peer_uid(sock.getsockname(), sock.getpeername())
        return uid == peeruid.UNKNOWN_PLATFORM or uid == os.getuid()

    def _authorized(self, request) -> bool:
        for key, value in request.headers:
            if key == b"proxy-authorization":
                scheme, _, token = value.partition(b" ")
                return hmac.compare_digest(scheme.lower() + b" " + token.strip(), self._expected)
        return False

    def _serve(self, sock) -> None:
        conn = h11.Connection(h11.SERVER)
        for _ in range(MAX_TRIES):
            request = next_event(conn, sock)
            if not isinstance(request, h11.Request):
                return
            if self._authorized(request):
                break
            answer(
                conn,
                sock,
                407,
                "authsome proxy: this proxy is for authsome run's child only",
                [("Proxy-Authenticate", f'Basic realm="{USER}"')],
            )
            if not _drain(conn, sock):
                return
        else:
            return
        if request.method == b"CONNECT":
            self._connect(sock, conn, request)
        else:
            self._plain(sock, conn, request)

    def _connect(self, sock, conn, request) -> None:
        host, port = split_host(request.target.decode("ascii", "replace"))
        try:
            name = route(host, port or 443, self.candidates)
        except Ambiguous as e:
            return answer(conn, sock, 502, f"authsome proxy: {e}")
        if name is None:
            return self._tunnel(sock, conn, host, port or 443)
        send(conn, sock, h11.Response(status_code=200, headers=[]))
        try:
            tls = self.authority.context_for(host).wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the child did not trust the leaf, or left
        authority = (host.rstrip("."), port or 443)
        opener = lambda: self._open(host, port or 443, True)  # noqa: E731
        with tls:  # `sock`, closed by the caller, no longer holds the connection
            Relay(tls, opener, self.targets[name], authority=authority, rules=self.rules).serve()

    def _tunnel(self, sock, conn, host: str, port: int) -> None:
        try:
            up = _no_delay(self.dial((host, port), timeout=CONNECT_TIMEOUT))
        except OSError as e:
            return answer(conn, sock, 502, f"authsome proxy: cannot reach {host}:{port}: {e}")
        with up:
            up.settimeout(None)
            send(conn, sock, h11.Response(status_code=200, headers=[]))
            pending, _ = conn.trailing_data
            if pending:
                up.sendall(pending)
            splice(sock, up)

    def _plain(self, sock, conn, request) -> None:
        url = urlsplit(request.target.decode("ascii", "replace"))
        if url.scheme != "http" or not url.hostname:
            return answer(conn, sock, 400, "authsome proxy: expected an http:// URL")
        if claims_host(url.hostname, self.candidates):
            return answer(
                conn,
                sock,
                403,
                f"authsome proxy: refused plain http:// to {url.hostname}, where credentials go;"
                " use https://",
            )
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        first = h11.Request(method=request.method, target=target, headers=request.headers)
        opener = lambda: self._open(url.hostname, url.port or 80, False, self.dial)  # noqa: E731
        relay = Relay(sock, opener, single=True)
        relay.conn = conn
        relay.serve(first)

    def _open(self, host: str, port: int, tls: bool, dial=socket.create_connection):
        """A connection to the upstream; NetworkError, saying why, when there is none."""
        try:
            raw = _no_delay(dial((host, port), timeout=CONNECT_TIMEOUT))
        except OSError as e:
            raise NetworkError(
                f"cannot reach {host}:{port} ({e.strerror or e})", "check the address and network"
            ) from None
        try:
            sock = self.tls.wrap_socket(raw, server_hostname=host) if tls else raw
        except (ssl.SSLError, OSError) as e:
            raw.close()
            raise _tls_failed(f"{host}:{port}", e) from None
        sock.settimeout(None)
        return sock


def _tls_failed(where: str, e: OSError) -> NetworkError:
    if isinstance(e, ssl.SSLCertVerificationError):
        return NetworkError(
            f"{where} failed TLS verification ({e.verify_message or e.reason})",
            "if it uses a private CA, add that CA to SSL_CERT_FILE before authsome run",
        )
    why = getattr(e, "reason", None) or e.strerror or e
    return NetworkError(f"the TLS handshake with {where} failed ({why})", "check it serves HTTPS")


def _no_delay(sock):
    """`sock` with Nagle off: a message goes out in several writes (h11 hands over head, body
    and end apart), and a kept-alive peer's delayed ACK would hold each later one ~40 ms."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _drain(conn, sock) -> bool:
    """Read the rest of a refused request; True when the connection can take another."""
    while True:
        event = next_event(conn, sock)
        if isinstance(event, h11.EndOfMessage):
            break
        if not isinstance(event, h11.Data):
            return False
    if conn.states != {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}:
        return False
    conn.start_next_cycle()
    return True
