"""The audit lines of `authsome mcp` (event "mcp"): one when a client starts a session (the
client, its parent process, the server, the connection), one for each token handed out, and
one when the session ends. Never a token: the lines say which login, not what it holds."""

from __future__ import annotations

from authsome.services.audit import record


def _ref(name: str) -> tuple[str, str]:
    from authsome.storage.connections import parse_ref

    return parse_ref(name)


def opened(bridge, message: dict) -> None:
    """A line for an `initialize`: the session starts (pid and parent are the audit's own)."""
    if message.get("method") != "initialize":
        return
    params = message.get("params")
    info = params.get("clientInfo") if isinstance(params, dict) else None
    client = None
    if isinstance(info, dict):
        client = " ".join(str(info.get(k)) for k in ("name", "version") if info.get(k))
    record(bridge.ctx, "mcp", *_ref(bridge.name), session="start", server=bridge.url, client=client)


def handed(bridge, conn, refreshed: bool) -> None:
    """A line for a token put on a request."""
    extra = {"refreshed": True} if refreshed else {}
    record(bridge.ctx, "mcp", conn.provider, conn.connection, server=bridge.url, **extra)


def closed(bridge) -> None:
    record(bridge.ctx, "mcp", *_ref(bridge.name), session="end", server=bridge.url)
