"""One HTTP exchange with the Vault server: the standard library's http.client, or httpx when
a proxy variable applies to the server's address.

Why http.client first: every `authsome token` on the vault store makes one or two calls, and
importing httpx and building its client (which loads certifi's CA bundle) costs about 0.25 s of
CPU, against 0.06 s for http.client with the system's CAs. With 32 agents on 2 cores, that was
the difference between a p50 of 14 s and 3 s for one shared refresh (benchmarks/vault.py).
http.client knows nothing of HTTPS_PROXY and NO_PROXY, so when one of those applies to the
server, httpx (which honours them) makes the call instead.

Each exchange also returns the answer's X-Vault-Index, if any (client.py says why).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import http.client

CONNECT_TIMEOUT = 5.0
MAX_BODY = 1 << 20  # no Vault answer authsome asks for comes near this
INDEX = "X-Vault-Index"
MAX_INDEX = 4096  # OpenBao's is ~90 characters: a longer one is not echoed back
# Base64 (OpenBao 2.7, Vault) or "<cluster>:<index>" (older OpenBao); two joined headers are not
INDEX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:._-")


class WireError(Exception):
    """The server could not be reached or stopped answering; the text says why, no secret."""


def open_wire(addr: str, ssl_context, namespace: str | None, timeout: float):
    """The transport for `addr`: httpx through a proxy when one applies, else http.client."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    if _proxied(addr):
        return HttpxWire(addr, ssl_context, headers, timeout)
    return StdlibWire(addr, ssl_context, headers, timeout)


def _proxied(addr: str) -> bool:
    if not any(k.lower().endswith("_proxy") for k in os.environ):
        return False  # the common case costs no urllib.request import
    # proxy_bypass_environment is undocumented, so not in the stubs
    from urllib.request import (  # type: ignore[attr-defined]
        getproxies_environment,
        proxy_bypass_environment,
    )

    parts = urlsplit(addr)
    return parts.scheme in getproxies_environment() and not proxy_bypass_environment(
        parts.hostname or ""
    )


def _decode(raw: bytes) -> dict:
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _index(value) -> str | None:
    """The answer's index, if it can be sent back as a header as it is."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_INDEX:
        return None
    return value if INDEX_CHARS.issuperset(value) else None


class StdlibWire:
    """One kept-alive http.client connection to the server, opened on first use."""

    def __init__(self, addr: str, ssl_context, headers: dict, timeout: float):
        parts = urlsplit(addr)
        self.https = parts.scheme == "https"
        # never empty: config.py checked that the address has a host
        self.host, self.port = parts.hostname or "", parts.port
        self.base = parts.path.rstrip("/")
        self.ssl_context, self.headers, self.timeout = ssl_context, headers, timeout
        self._conn: http.client.HTTPConnection | None = None
        self._sock = None  # the connection's socket, kept to cut it from another thread

    def _connection(self):
        import http.client

        if self._conn is None:
            if self.https:
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self.ssl_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(self, method: str, path: str, body, headers: dict) -> tuple[int, dict, str | None]:
        import http.client
        import ssl

        payload = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, self.base + path, payload, {**self.headers, **headers})
                self._sock = conn.sock
                response = conn.getresponse()
                raw = response.read(MAX_BODY + 1)
                if len(raw) > MAX_BODY:
                    self.close()  # the rest is still on the wire: this connection is spent
                    raw = b""
                return response.status, _decode(raw), _index(response.getheader(INDEX))
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()  # a kept-alive connection the server closed: once more, anew
                if attempt == 2:
                    raise WireError(
                        f"{type(e).__name__}: the server closed the connection"
                    ) from None
            except (OSError, http.client.HTTPException, ssl.SSLError) as e:
                self.close()
                raise WireError(_reason(e)) from None
            except ValueError:
                # http.client refuses a header with a line break, quoting the value: never
                # pass that on, it is the token.
                self.close()
                raise WireError("a header could not be sent") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def abandon(self) -> None:
        """Cut the connection under a call that another thread is stuck in."""
        import contextlib
        import socket

        sock, self._sock, self._conn = self._sock, None, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the stuck read; no lock needed


class HttpxWire:
    """The same exchange through httpx, which honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY."""

    def __init__(self, addr: str, ssl_context, headers: dict, timeout: float):
        from authsome.util.http import new_client

        self._client = new_client(
            timeout,
            CONNECT_TIMEOUT,
            base_url=addr,
            headers=headers,
            verify=ssl_context() if addr.startswith("https:") else True,
            follow_redirects=False,
        )

    def request(self, method: str, path: str, body, headers: dict) -> tuple[int, dict, str | None]:
        from authsome.util.http import httpx_module

        httpx = httpx_module()
        payload = None if body is None else json.dumps(body).encode()
        try:
            response = self._client.request(method, path, content=payload, headers=headers)
        except httpx.HTTPError as e:
            raise WireError(_reason(e)) from None
        content, index = response.content[:MAX_BODY], _index(response.headers.get(INDEX))
        return response.status_code, _decode(content), index

    def close(self) -> None:
        self._client.close()

    def abandon(self) -> None:
        pass  # httpx's own timeouts bound each read; the next call opens a new connection


def _reason(e: BaseException) -> str:
    from authsome.util.http import _reason as reason

    return reason(e)
