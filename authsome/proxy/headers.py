"""What of the child's request may go upstream: pure functions over h11's lower-cased headers.

A request the upstream could frame or route otherwise than the proxy did is refused, for a
smuggled request would ride on the next one's credential and skip the audit log: both
Content-Length and Transfer-Encoding (RFC 9112 6.3), more than one Host, or a Host or
absolute-form authority that is not the CONNECT target. Hop-by-hop headers (RFC 9110 7.6.1)
are the child's business with the proxy and stop here; the placeholder becomes the credential.
"""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import urlsplit

from authsome.proxy.router import split_host

HOP = (b"connection", b"keep-alive", b"te", b"trailer")
# Named in Connection, these would still be needed to frame or route the request: kept.
FRAMING = (b"host", b"content-length", b"transfer-encoding", b"upgrade")
DEFAULT_PORTS = {"https": 443, "http": 80}


def refusal(request, authority: tuple[str, int] | None) -> tuple[int, str] | None:
    """(status, why) when `request` must not go upstream; `authority`: the CONNECT target."""
    names = [k for k, _ in request.headers]
    if b"content-length" in names and b"transfer-encoding" in names:
        return 400, "a request with both Content-Length and Transfer-Encoding"
    hosts = [v for k, v in request.headers if k == b"host"]
    if len(hosts) > 1:
        return 400, "a request with more than one Host header"
    if authority is None:
        return None
    wanted = f"{authority[0]}:{authority[1]}"
    target = request.target.decode("ascii", "replace")
    if not target.startswith("/") and target != "*":
        url = urlsplit(target)
        if _authority(url.netloc, DEFAULT_PORTS.get(url.scheme.lower())) != authority:
            return 421, f"a request for {url.netloc or target} on a tunnel to {wanted}"
    host = hosts[0].decode("ascii", "replace") if hosts else None
    if host is not None and _authority(host, 443) != authority:
        return 421, f"a request for host {host} on a tunnel to {wanted}"
    return None


def _authority(text: str, default: int | None) -> tuple[str, int] | None:
    """('api.x.com', 443) from 'API.x.com' or 'api.x.com:443'; None when it is not one."""
    try:
        host, port = split_host(text)
    except ValueError:
        return None
    host, port = host.rstrip("."), port or default
    return (host, port) if host and port else None


def origin_form(target: bytes) -> bytes:
    """'https://api.x.com/v1?q' -> '/v1?q': the upstream sees the form a client sends it."""
    if target.startswith(b"/") or target == b"*":
        return target
    url = urlsplit(target.decode("ascii", "replace"))
    return ((url.path or "/") + (f"?{url.query}" if url.query else "")).encode("ascii")


def end_to_end(headers) -> list:
    """`headers` without the hop-by-hop ones: HOP, Proxy-*, and those Connection names; an
    upgrade (WebSocket) keeps its Upgrade header and says `Connection: upgrade` again."""
    named = {
        token.strip().lower()
        for key, value in headers
        if key == b"connection"
        for token in value.split(b",")
    }
    out = [
        (k, v)
        for k, v in headers
        if k not in HOP and not k.startswith(b"proxy-") and (k in FRAMING or k not in named)
    ]
    if b"upgrade" in named and any(k == b"upgrade" for k, _ in out):
        out.append((b"connection", b"upgrade"))
    return out


def _swap(value: bytes, placeholder: str, full: str, raw: str) -> bytes | None:
    """`value` with the placeholder put right; None when it carries no placeholder."""
    text = value.decode("latin-1")
    if text == placeholder:
        return full.encode("latin-1")
    if placeholder in text:
        return text.replace(placeholder, raw).encode("latin-1")
    scheme, _, blob = text.partition(" ")
    if scheme.lower() == "basic" and blob:
        with contextlib.suppress(ValueError):
            decoded = base64.b64decode(blob, validate=True).decode("utf-8")
            if placeholder in decoded:
                swapped = decoded.replace(placeholder, raw).encode()
                return b"Basic " + base64.b64encode(swapped)
    return None


def with_credential(headers, placeholder: str, credential) -> list:
    """`headers` for upstream: end to end only, the placeholder replaced by the credential,
    which is added when the request has no header of its name."""
    name, full, raw = credential
    wanted = {name.lower().encode(), b"authorization"}
    out, present = [], False
    for key, value in end_to_end(headers):
        if key in wanted:
            present = present or key == name.lower().encode()
            value = _swap(value, placeholder, full, raw) or value
        out.append((key, value))
    if not present:
        out.append((name.encode(), full.encode("latin-1")))
    return out
