"""Which intercepted provider, if any, owns a host: pure functions over the named providers.

SEAM (issue #15): `hosts_of`, `route` and `credential_header` stand in for the provider
`hosts` field, the router and the header function another change brings; the merge replaces
the three bodies and keeps their names.
"""

from __future__ import annotations

import ipaddress

HTTPS_PORT = 443


class Ambiguous(ValueError):
    """Two providers claim the same host equally specifically."""


def hosts_of(provider) -> tuple[str, ...]:
    """The API hosts where `provider`'s credential is sent (SEAM: the `hosts` field)."""
    hosts = tuple(getattr(provider, "hosts", None) or ())
    if not hosts and getattr(provider, "git", None) is not None:
        hosts = tuple(provider.git.hosts)  # until `hosts` lands, the git helper's hosts
    return hosts


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


def _specificity(pattern: str, host: str, port: int) -> int:
    """0: no match; higher is more specific (exact host beats wildcard, a port beats none)."""
    name, want = split_host(pattern)
    if (want or HTTPS_PORT) != port:
        return 0
    if name.startswith("*."):
        matched = host.endswith(name[1:]) and len(host) > len(name) - 1
        return 1 if matched else 0
    if name != host:
        return 0
    return 3 if want is not None else 2


def route(host: str, port: int, candidates) -> str | None:
    """The name of the candidate whose hosts match host:port best; None when none does.

    `candidates` is (name, hosts) pairs. A tie between two names raises Ambiguous: sending
    either credential would be a guess.
    """
    host = host.lower().rstrip(".").strip("[]")
    best, score = None, 0
    for name, hosts in candidates:
        here = max((_specificity(p, host, port) for p in hosts), default=0)
        if here > score:
            best, score = name, here
        elif here and here == score and name != best:
            raise Ambiguous(f"{best} and {name} both claim {host}:{port}")
    return best


def claims_host(host: str, candidates) -> bool:
    """Whether any candidate names `host` on any port (plain http:// to it is refused)."""
    host = host.lower().rstrip(".").strip("[]")
    for _, hosts in candidates:
        for pattern in hosts:
            name, _ = split_host(pattern)
            if name == host or (name.startswith("*.") and host.endswith(name[1:])):
                return True
    return False


def credential_header(provider, secrets: dict) -> tuple[str, str]:
    """The header that carries the credential (SEAM: the schema's header function)."""
    spec = getattr(provider, "api_key", None)
    if spec is not None and "api_key" in secrets:
        return spec.header_name, f"{spec.header_prefix or ''}{secrets['api_key']}"
    return "Authorization", f"Bearer {secrets['access_token']}"


def placeholder(provider_name: str) -> str:
    """What the child holds instead of each credential variable."""
    return f"authsome-placeholder-{provider_name}"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
