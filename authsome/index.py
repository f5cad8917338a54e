"""The plain metadata index: what is stored where, without any secret."""

from __future__ import annotations

import json
from pathlib import Path

from authsome import fsutil
from authsome.errors import CorruptData
from authsome.locking import file_lock

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
)


class Index:
    """index.json: key -> metadata, rewritten atomically under a lock."""

    def __init__(self, path: Path, lock_path: Path):
        self.path = path
        self.lock_path = lock_path

    def read(self) -> dict[str, dict]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(raw)
            entries = data["connections"]
            if not isinstance(entries, dict):
                raise TypeError
            return entries
        except (ValueError, KeyError, TypeError):
            raise CorruptData(
                f"the index {self.path} is corrupt",
                "move it aside; authsome rebuilds entries at the next login",
            ) from None

    def put(self, key: str, meta: dict) -> None:
        clean = {k: meta[k] for k in INDEX_FIELDS if k in meta}
        self._update(lambda entries: entries.__setitem__(key, clean))

    def remove(self, key: str) -> None:
        self._update(lambda entries: entries.pop(key, None))

    def _update(self, change) -> None:
        fsutil.ensure_private_dir(self.path.parent)
        with file_lock(self.lock_path):
            entries = self.read()
            change(entries)
            body = json.dumps({"version": 1, "connections": entries}, indent=1, sort_keys=True)
            fsutil.atomic_write(self.path, (body + "\n").encode())
