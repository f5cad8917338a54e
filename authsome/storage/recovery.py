"""The index as a listing of the store: compared on list, repaired after a crash."""

from __future__ import annotations

import os

from authsome.errors import AuthsomeError, BadPassphrase, StoreUnavailable
from authsome.storage.base import split_key
from authsome.storage.index import IndexDamaged

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable
    from typing import Any

    from authsome.storage.base import Store
    from authsome.storage.connection import Connection
    from authsome.storage.file.store import FileStore
    from authsome.storage.index import Index
    from authsome.storage.journal import Journal


class Recovery:
    """The repair half of Connections, which provides index, store, find, warn and vault."""

    if TYPE_CHECKING:  # as Connections provides them
        _choice: Any  # a StoreChoice, or a function that makes one
        index: Index
        journal: Journal
        warn: Callable[[str], None]

        @property
        def store(self) -> Store: ...
        @property
        def vault(self) -> FileStore | None: ...
        def find(self, provider: str, connection: str = "default") -> Connection | None: ...

    def list(self) -> list[dict]:
        """Index entries, sorted; healed from the store when it is damaged or has drifted."""
        # No store is chosen (so the keychain is not probed) unless the index is damaged or
        # disagrees with a store that lists its names cheaply: the vault, whose names are in
        # the clear. `authsome doctor --fix` reconciles the keychain.
        try:
            entries = self.index.live()
        except IndexDamaged:
            entries = self.rebuild()
        store = self._cheap_store(entries)
        if store is not None and self._differs(store, entries) and self._in_use(store):
            self._repair()
            entries = self.index.live()
        # By provider, then connection: sorting "peer2:x" and "peer:x" as strings puts peer2 first.
        return [entries[k] for k in sorted(entries, key=split_key)]

    def _cheap_store(self, entries: dict[str, dict]):
        """The store to compare with the index without choosing one, if any; else None."""
        if not callable(self._choice):  # already chosen: nothing to save
            return self.store if self.store.lists_cheaply else None
        vault = self.vault
        if vault is not None and (
            os.path.exists(vault.path)
            or any(e.get("backend") == vault.name for e in entries.values())
        ):
            return vault
        return None  # no vault: only the keychain could disagree, and listing it is not cheap

    def _differs(self, store, entries: dict[str, dict]) -> bool:
        try:
            names = set(self.login_keys(store))
        except (AuthsomeError, OSError):
            if self._in_use(store):
                raise
            return False  # a damaged vault that the keychain replaced is not list's concern
        return names != {k for k, e in entries.items() if e.get("backend") == store.name}

    def _in_use(self, store) -> bool:
        """Whether `store` is the store chosen here; only that one is repaired from."""
        try:
            return self.store is store
        except StoreUnavailable:
            return False

    def _repair(self) -> None:
        try:
            changes = self.reconcile()
            if changes:
                self.warn(
                    f"authsome: repaired the index from {self.store.describe()}:"
                    f" {'; '.join(changes)}."
                )
        except (StoreUnavailable, BadPassphrase) as e:
            self.warn(
                f"authsome: warning: the index and {self.store.describe()} disagree, and"
                f" {e.what}. Unlock it and run: authsome doctor --fix"
            )

    def login_keys(self, store=None) -> builtins.list[str]:
        """The store's keys of logins; not of what else it keeps (dcr's "NAME:@client")."""
        store = store if store is not None else self.store
        return [k for k in store.list() if not split_key(k)[1].startswith("@")]

    def drift(self) -> dict[str, builtins.list[str]]:
        """Logins the index misses and entries the store lacks; raises IndexDamaged."""
        names = set(self.login_keys())
        entries = self.index.read()
        mine = {k for k, e in entries.items() if e.get("backend") == self.store.name}
        return {"missing": sorted(names - mine), "stale": sorted(mine - names)}

    def finish_journal(self) -> None:
        """Finish every save that waits in the journal (loading a connection does it)."""
        for key in self.journal.waiting() if self.journal is not None else []:
            self.find(*split_key(key))

    def rebuild(self) -> dict[str, dict]:
        """Write the index anew from the store's records."""
        entries = {}
        for key in self.login_keys():
            provider, connection = split_key(key)
            conn = self.find(provider, connection)
            if conn is not None:
                entries[key] = _index_entry(conn, self.store.name)
        self.index.replace(entries)
        self.warn(f"authsome: rebuilt the index from {self.store.describe()}.")
        return entries

    def reconcile(self) -> builtins.list[str]:
        """Bring store and index into agreement after a crash; returns what changed."""
        names = set(self.login_keys())
        try:
            entries = self.index.read()
        except IndexDamaged:
            self.rebuild()
            return ["rebuilt the damaged index"]
        changes = []
        for key, entry in entries.items():
            if entry.get("backend", self.store.name) != self.store.name:
                continue
            if entry.get("removing"):
                if key in names:
                    self.store.delete(key)
                self.index.remove(key)
                changes.append(f"finished the logout of {key}")
            elif key not in names:
                self.index.remove(key)
                changes.append(f"removed {key} from the index: the store does not hold it")
        for key in sorted(names - set(entries)):
            conn = self.find(*split_key(key))
            if conn is not None:
                self.index.put(key, _index_entry(conn, self.store.name))
                changes.append(f"added {key} to the index from the store")
        return changes


def _index_entry(conn, backend: str) -> dict:
    from authsome.storage.index import entry_of

    return entry_of(conn.metadata(backend))


def why(e: BaseException) -> str:
    """The reason in an error, short enough for a warning line."""
    if isinstance(e, AuthsomeError):
        return e.what
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return type(e).__name__
