"""Which intercepted provider, if any, owns a host, and what the child holds instead.

The choice itself is providers/routing.py's `route`, the same rule everywhere; this module
adapts it to the proxy (any port for the plain-http refusal, IP literals, placeholders).
"""

from __future__ import annotations

import ipaddress

from authsome.providers.hosts import DEFAULT_PORT, normal_host, rank, split
from authsome.providers.model import credential_header
from authsome.providers.routing import Ambiguous, route

__all__ = ["Ambiguous", "claims_host", "credential_header", "hosts_of", "placeholder", "route"]


def hosts_of(provider) -> tuple[str, ...]:
    """The API hosts where `provider`'s credential is sent."""
    return tuple(provider.hosts)


def split_host(pattern: str) -> tuple[str, int | None]:
    """'api.x.com:8443' -> ('api.x.com', 8443); '[::1]:8443' -> ('::1', 8443); no port: None."""
    pattern = pattern.strip().lower()
    if pattern.startswith("["):
        host, _, rest = pattern[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if pattern.count(":") == 1:
        host, _, port = pattern.partition(":")
        return host, int(port)
    return pattern, None


def claims_host(host: str, candidates) -> bool:
    """Whether any candidate names `host` on any port (plain http:// to it is refused)."""
    host = normal_host(host).strip("[]")
    return any(
        rank(pattern, host, split(pattern)[1] or DEFAULT_PORT) is not None
        for _, hosts in candidates
        for pattern in hosts
    )


def placeholder(provider_name: str) -> str:
    """What the child holds instead of each credential variable."""
    return f"authsome-placeholder-{provider_name}"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
