"""The listing kept in Vault, so that list, env and Tab agree on every machine.

One KV v2 document, `<prefix>/.index`, in the same format as index.json, changed by
read-modify-write with compare-and-set: two machines logging in at once both land. Each read
also rewrites a local copy, which Tab uses while it is younger than CACHE_SECONDS, so the names
Tab offers can be that old. Past that Tab asks Vault, and if Vault does not answer within
TAB_SECONDS it offers the older copy rather than keep the user waiting.
"""

from __future__ import annotations

import json
import os
import random
import time

from authsome.errors import StoreConflict
from authsome.storage.index import INDEX_VERSION, Index, parse

INDEX_PATH = ".index"
CACHE_SECONDS = 60
TAB_SECONDS = 1.0
CAS_ATTEMPTS = 8


class VaultIndex(Index):
    """The index in Vault; `path` is the local copy that Tab reads."""

    def __init__(self, client, path, lock_path):
        super().__init__(path, lock_path)
        self.client = client

    def read(self) -> dict[str, dict]:
        return self._fetch()[0]

    def cached(self) -> dict[str, dict]:
        """The live entries for Tab: the local copy while it is fresh, else Vault's, else the
        stale copy when Vault does not answer within TAB_SECONDS."""
        from authsome.errors import AuthsomeError
        from authsome.util.deadline import DeadlineExceeded, within

        try:
            fresh = time.time() - os.stat(self.path).st_mtime < CACHE_SECONDS
        except OSError:
            fresh = False
        if not fresh:
            try:
                return within(self.live, TAB_SECONDS, "authsome-tab")
            except (AuthsomeError, DeadlineExceeded):
                pass  # Tab never waits long nor shows an error: offer what was known
        return {k: e for k, e in Index.read(self).items() if not e.get("removing")}

    def _fetch(self) -> tuple[dict[str, dict], int]:
        data, version = self.client.read(INDEX_PATH)
        if not data:
            return {}, version
        where = f"{self.client.settings.mount}/{self.client.settings.prefix}/{INDEX_PATH}"
        entries = parse(where, json.dumps(data).encode())
        self._keep_copy(entries)
        return entries, version

    def _update(self, change, rebuild: bool = False) -> None:
        from authsome.storage.index import IndexDamaged

        for attempt in range(CAS_ATTEMPTS):
            try:
                entries, version = self._fetch()
            except IndexDamaged:
                if not rebuild:
                    raise
                entries, version = {}, self.client.read(INDEX_PATH)[1]
            change(entries)
            doc = {"version": INDEX_VERSION, "connections": entries}
            try:
                self.client.write(INDEX_PATH, doc, cas=version)
            except StoreConflict:
                # Another machine changed the listing since we read it: read it again. The
                # random pause keeps a crowd of writers from colliding in lockstep.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            self._keep_copy(entries)
            return
        raise StoreConflict(
            f"the listing in {self.client.where} kept changing while authsome updated it",
            "run the command again",
        )

    def _keep_copy(self, entries: dict[str, dict]) -> None:
        """Rewrite the local copy for Tab; a copy that cannot be written is only slower Tab."""
        import contextlib

        from authsome.util import fsutil

        doc = {"version": INDEX_VERSION, "connections": entries}
        with contextlib.suppress(OSError):
            fsutil.ensure_private_dir(os.path.dirname(os.fspath(self.path)))
            fsutil.atomic_write(self.path, json.dumps(doc, sort_keys=True).encode())
