"""The names offered at Tab: provider names, and the connections logged in.

Completion never shows an error: anything that fails offers nothing.
"""

from __future__ import annotations


def provider_names(ctx, incomplete: str) -> list[str]:
    try:
        names = ctx.registry.names()
    except Exception:  # noqa: BLE001 - completion never shows an error
        return []
    return [n for n in names if n.startswith(incomplete)]


def connected_refs(ctx, incomplete: str) -> list[str]:
    """'github', 'github:work', ... from the metadata index: no secret store is opened."""
    try:
        from authsome.util.names import display_ref

        # The vault store's index is in Vault: Tab takes a recent local copy (vault/index.py).
        index = ctx.index
        entries = index.cached() if hasattr(index, "cached") else index.live()
    except Exception:  # noqa: BLE001
        return []
    refs = {display_ref(e.get("provider"), e.get("connection")) for e in entries.values()}
    return [r for r in sorted(refs) if r.startswith(incomplete)]
