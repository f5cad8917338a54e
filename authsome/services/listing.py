"""`authsome list`: every connection with its state, from the index alone."""

from __future__ import annotations

from authsome.storage.connection import state_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence

    from authsome.factory import Context


def relative(expires_at, now: float) -> str:
    if expires_at is None:
        return "never"
    delta = int(expires_at - now)
    span = abs(delta)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if span >= size:
            text = f"{span // size}{unit}"
            break
    else:
        text = f"{span}s"
    return f"in {text}" if delta >= 0 else f"{text} ago"


def rows(ctx: Context) -> list[dict]:
    """One row per connection, from the index (no store is chosen, no keychain is probed)."""
    now, margin = ctx.clock(), ctx.refresh_margin
    out = []
    for e in ctx.connections.list():
        out.append(
            {
                "provider": e.get("provider"),
                "connection": e.get("connection"),
                "type": e.get("auth_type"),
                "flow": e.get("flow"),
                "expires_at": e.get("expires_at"),
                "expires": relative(e.get("expires_at"), now),
                "store": e.get("backend"),
                "state": state_of(e, now, margin),
                "scopes": e.get("scopes", []),
            }
        )
    return out


def columns(headers: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> str:
    """Left-aligned columns, two spaces apart, for people reading a terminal."""
    lines = [headers, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def render(table: list[dict]) -> str:
    keys = ("provider", "connection", "type", "expires", "store", "state")
    headers = ("PROVIDER", "CONNECTION", "TYPE", "EXPIRES", "STORE", "STATE")
    return columns(headers, [tuple(str(r[k]) for k in keys) for r in table])


__all__ = ["columns", "relative", "render", "rows"]
