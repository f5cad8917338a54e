"""Which connection's credential goes to a host: a pure function over the providers' `hosts`.

The proxy asks it for every CONNECT; a None answer means the host is tunnelled untouched.
"""

from __future__ import annotations

from authsome.errors import UsageError
from authsome.providers.hosts import normal_host, rank


class Ambiguous(UsageError):
    """More than one connection asked for would get the credential for the same host."""


def _closest(patterns, host: str, port: int):
    """The closest match of any of `patterns` to host:port, or None."""
    return max((r for r in (rank(p, host, port) for p in patterns) if r is not None), default=None)


def route(host: str, port: int, candidates: list[tuple[object, tuple[str, ...]]]):
    """The ref among `candidates` (ref, host patterns) whose patterns match `host`:`port` most
    closely, or None when none does.

    An exact name beats a wildcard, and a longer wildcard a shorter one; a pattern without a
    port matches 443 only. Two refs that match equally closely raise Ambiguous, naming both:
    the caller asked for both, and only the user can say which one the host should get."""
    host = normal_host(host)
    best, chosen = None, []
    for ref, patterns in candidates:
        closest = _closest(patterns, host, port)
        if closest is None:
            continue
        if best is None or closest > best:
            best, chosen = closest, [ref]
        elif closest == best and ref not in chosen:
            chosen.append(ref)
    if len(chosen) > 1:
        names = ", ".join(str(ref) for ref in chosen)
        raise Ambiguous(
            f"{host}:{port} would get the credential of more than one connection ({names})",
            "name only one of them for this run, or narrow a provider's hosts in an override",
        )
    return chosen[0] if chosen else None
