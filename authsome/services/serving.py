"""Which connection answers a tool for a host: the router git's and docker's helpers share.

`choose` is the pure part, tested by a table; `serving` feeds it the connected logins.
"""

from __future__ import annotations

from authsome.errors import NotLoggedIn, UsageError
from authsome.storage.connections import CONNECTED, display_ref, parse_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

# tool -> the provider field that lists its hosts
HOSTS_FIELD = {"git": "hosts", "docker": "registries"}


def hosts_of(provider, tool: str) -> tuple[str, ...]:
    """The hosts `provider` serves for `tool` (git or docker); () when it serves none."""
    spec = getattr(provider, tool)
    return getattr(spec, HOSTS_FIELD[tool]) if spec is not None else ()


def choose(host: str, candidates: list[tuple[str, str]], setup: str) -> tuple[str, str] | None:
    """The (provider, connection) among connected `candidates` that serve `host`.

    None when there are none; the `default` connection when there are several, else an error
    whose fix is `setup` with the connection to pin."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    defaults = [c for c in candidates if c[1] == "default"]
    if len(defaults) == 1:
        return defaults[0]
    refs = ", ".join(display_ref(*c) for c in candidates)
    raise UsageError(
        f"{len(candidates)} connections serve {host} ({refs})",
        f"pick one: authsome {setup} {display_ref(*candidates[0])}",
    )


def serving(ctx: Context, tool: str, host: str, ref: str | None = None, setup: str = ""):
    """(provider, connection) that answers `tool` for `host`, or None when none serves it.

    `ref` (NAME[:C]) pins the connection, as `setup-git NAME:C` writes it. A host that only
    providers without a connected login serve is NotLoggedIn, which says which to log in to."""
    host = host.lower()
    if ref is not None:
        name, conn = parse_ref(ref)
        provider = ctx.registry.get(name)
        return (provider, conn) if host in hosts_of(provider, tool) else None
    found, providers = [], {}
    for entry in ctx.connections.list():
        name = entry.get("provider") or ""
        if entry.get("status", CONNECTED) != CONNECTED or not name:
            continue
        if name not in providers:
            providers[name] = ctx.registry.get(name)
        if host in hosts_of(providers[name], tool):
            found.append((name, entry.get("connection", "default")))
    chosen = choose(host, found, setup)
    if chosen is not None:
        return providers[chosen[0]], chosen[1]
    listing = [p.name for p in ctx.registry.all() if host in hosts_of(p, tool)]
    if listing:
        raise NotLoggedIn(
            f"no connected login serves {host} for {tool}", f"run: authsome login {listing[0]}"
        )
    return None
