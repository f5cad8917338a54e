"""What `authsome doctor` says about the vault store: where, which token, what it may do."""

from __future__ import annotations

from authsome.errors import AuthsomeError
from authsome.storage.vault.config import cleartext_host, cleartext_warning

# What authsome does under the prefix, and the capabilities each needs.
NEEDED = {"read": ("read",), "write": ("create", "update"), "list": ("list",)}


def status(store) -> dict:
    client = store.client
    s = client.settings
    info: dict = {
        "address": s.addr,
        "mount": s.mount,
        "prefix": s.prefix,
        "namespace": s.namespace,
        "token_source": s.credential.source if s.credential else None,
    }
    host = cleartext_host(s.addr)
    if host:
        info["cleartext"] = cleartext_warning(s.addr, host)
    try:
        info["sealed"] = client.sealed()
        token = client.lookup_self()
        info["token_ttl"] = token.get("ttl")  # seconds; 0 for a token that never expires
        info["policies"] = sorted(token.get("policies") or [])
        client.check_kv2()
        info["can"] = _capabilities(client)
    except AuthsomeError as e:
        info["error"] = str(e)
    return info


def _capabilities(client) -> dict[str, bool]:
    """Whether the token may read, write and list under the prefix (no write is made)."""
    s = client.settings
    data = f"{s.mount}/data/{s.prefix}/authsome-doctor/probe"
    meta = f"{s.mount}/metadata/{s.prefix}/"
    _, body = client._call("POST", "sys/capabilities-self", {"paths": [data, meta]})
    caps = {path: set(body.get(path) or ()) for path in (data, meta)}
    result = {}
    for what, needed in NEEDED.items():
        have = caps[meta] if what == "list" else caps[data]
        result[what] = "root" in have or all(c in have for c in needed)
    return result
