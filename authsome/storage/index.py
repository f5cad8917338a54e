"""The plain metadata index: what is stored where, without any secret.

The secret store is the truth and the index a listing of it that never touches the store. The
repository writes the store first and the index second, and marks an entry `removing` before
a logout deletes the secret; so after any crash the index never shows a login that the store
lacks, and `Connections.reconcile` can bring back what the store holds but the index missed.
"""

from __future__ import annotations

import os

from authsome.errors import CorruptData
from authsome.util.names import is_name

INDEX_VERSION = 1
# Only these fields may be written to the index; secrets never are.
INDEX_FIELDS = (
    "provider",
    "connection",
    "auth_type",
    "flow",
    "backend",
    "expires_at",
    "scopes",
    "status",
    "created_at",
    "updated_at",
    "refreshable",
    "removing",
)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "connection": str,
    "auth_type": str,
    "flow": (str, type(None)),
    "backend": str,
    "expires_at": (int, float, type(None)),
    "scopes": list,
    "status": str,
    "created_at": (int, float),
    "updated_at": (int, float),
    "refreshable": bool,
    "removing": bool,
}


def entry_of(meta: dict) -> dict:
    """The fields of `meta` that may go into the index."""
    return {k: meta[k] for k in INDEX_FIELDS if k in meta}


class IndexDamaged(CorruptData):
    """index.json is not what authsome writes; it can be rebuilt from the store."""


class Index:
    """index.json: key -> metadata, rewritten atomically under a lock.

    Reading imports neither pathlib nor json's encoder nor the lock: Tab reads the index with
    a str path and no lock (services/complete.py)."""

    def __init__(self, path, lock_path=None):
        self.path = path
        self.lock_path = lock_path

    def read(self) -> dict[str, dict]:
        """Every entry, those being removed included; {} when there is no index."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return {}
        return parse(self.path, raw)

    def live(self) -> dict[str, dict]:
        """The entries of connections that exist (not half-way through a logout)."""
        return {k: e for k, e in self.read().items() if not e.get("removing")}

    def cached(self) -> dict[str, dict]:
        """The live entries for Tab, which must not wait: here, the file itself."""
        return self.live()

    def put(self, key: str, meta: dict) -> None:
        clean = entry_of(meta)
        self._update(lambda entries: entries.__setitem__(key, clean))

    def mark_removing(self, key: str) -> None:
        def mark(entries):
            if key in entries:
                entries[key] = {**entries[key], "removing": True}

        self._update(mark)

    def remove(self, key: str) -> None:
        self._update(lambda entries: entries.pop(key, None))

    def replace(self, entries: dict[str, dict]) -> None:
        """Write `entries` as the whole index (a rebuild)."""
        self._update(lambda current: (current.clear(), current.update(entries)), rebuild=True)

    def _update(self, change, rebuild: bool = False) -> None:
        import json

        from authsome.util import fsutil
        from authsome.util.locking import file_lock

        fsutil.ensure_private_dir(os.path.dirname(os.fspath(self.path)))
        with file_lock(self.lock_path):
            fsutil.remove_stale_temps(self.path)
            try:
                entries = self.read()
            except IndexDamaged:
                if not rebuild:
                    raise
                entries = {}
            change(entries)
            doc = {"version": INDEX_VERSION, "connections": entries}
            body = json.dumps(doc, indent=1, sort_keys=True)
            fsutil.atomic_write(self.path, (body + "\n").encode())


def parse(path, raw: bytes) -> dict[str, dict]:
    """The entries of an index file, checked field by field."""
    from authsome.util import jsonfast  # here: Tab on a provider name never reads the index

    try:
        data = jsonfast.loads(raw)
        version = data["version"]
    except (ValueError, RecursionError, KeyError, TypeError):
        raise _damaged(path) from None
    if isinstance(version, int) and version > INDEX_VERSION:
        # Written by a newer authsome: neither read nor rewrite it.
        raise CorruptData(
            f"the index {path} has format version {version}, which this authsome does not know",
            "upgrade authsome",
        )
    entries = data.get("connections")
    if version != INDEX_VERSION or not isinstance(entries, dict):
        raise _damaged(path)
    for key, entry in entries.items():
        if not _valid(key, entry):
            raise _damaged(path)
    return entries


def _valid(key, entry) -> bool:
    # What list and Tab print comes from here, and a shared index (the vault store's) is
    # written by other machines: names follow the name rule, and no text holds an escape.
    if not isinstance(entry, dict):
        return False
    for name, value in entry.items():
        kind = _TYPES.get(name)
        if kind is not None and not isinstance(value, kind):
            return False
        if isinstance(value, str) and not value.isprintable():
            return False
        if isinstance(value, int | float) and not -1e15 < value < 1e15:  # NaN, inf, 2**70
            return False
    provider, connection = entry.get("provider"), entry.get("connection")
    return is_name(provider) and is_name(connection) and f"{provider}:{connection}" == key


def _damaged(path) -> IndexDamaged:
    return IndexDamaged(
        f"the index {path} is damaged",
        "run: authsome doctor --fix (it rebuilds the index from the store)",
    )
