"""The typed repository: connection records in the store, listed in the index, kept in step."""

from __future__ import annotations

import time

from authsome.errors import AuthsomeError, CorruptData, FilesystemError, NotLoggedIn, StoreConflict
from authsome.storage.base import make_key

# The record's names, re-exported: the modules that load and refresh logins import them here.
from authsome.storage.connection import (
    CONNECTED,
    EXPIRED,
    EXPIRES_SOON,
    NEEDS_LOGIN,
    SECRET_FIELDS,
    Connection,
    check_name,
    display_ref,
    effective_margin,
    parse_ref,
    state_of,
)
from authsome.storage.index import Index, IndexDamaged
from authsome.storage.recovery import Recovery, why

__all__ = [
    "CONNECTED",
    "EXPIRED",
    "EXPIRES_SOON",
    "NEEDS_LOGIN",
    "SECRET_FIELDS",
    "Connection",
    "Connections",
    "check_name",
    "display_ref",
    "effective_margin",
    "parse_ref",
    "state_of",
]


class Connections(Recovery):
    """The typed layer: save/load/delete/list connection records, store and index in step."""

    def __init__(
        self,
        choice,
        index: Index,
        clock=time.time,
        journal=None,
        warn=None,
        vault=None,
        answers=None,
    ):
        # `choice` is a StoreChoice, or a function that makes one on first use: reading the
        # index needs no store, and choosing one may probe the keychain.
        self._choice = choice
        # (stored record, kept answer) -> the refreshed record: a refresh's raw answer that the
        # journal holds is parsed by the OAuth layer (oauth/answer.py), which storage never imports.
        self.answers = answers
        self.index = index
        self.clock = clock
        self.journal = journal
        self.warn = warn or (lambda text: None)
        self._vault = vault  # makes the encrypted file store, whose names need no key to read
        self.unsaved: set[str] = set()  # keys whose newest record is only in the journal

    @property
    def choice(self):
        if callable(self._choice):
            self._choice = self._choice()
        return self._choice

    @property
    def store(self):
        return self.choice.store

    @property
    def vault(self):
        return self._vault() if self._vault is not None else None

    def save(self, conn: Connection) -> str:
        """Store `conn`; returns the sentence saying where it went."""
        now = int(self.clock())
        conn.created_at = conn.created_at or now
        conn.updated_at = now
        self._write(conn)
        return self.choice.where()

    def _write(self, conn: Connection) -> None:
        # The store first, the index second: a crash between them leaves a secret that the
        # index does not list yet (list and reconcile() add it back), never a listed login
        # whose secret is missing.
        self.store.set(conn.key, conn.to_json())
        self.unsaved.discard(conn.key)
        try:
            self.index.put(conn.key, conn.metadata(self.store.name))
        except (OSError, CorruptData) as e:
            # The secret is safe; only the listing lags, and reconcile() brings it back.
            self.warn(f"authsome: warning: the index was not updated ({why(e)}).")

    def commit(
        self,
        conn: Connection,
        base_refresh_token: str,
        budget: float = 5.0,
        kept: str | None = None,
    ) -> str | None:
        """Save a refreshed `conn` whose old refresh token is spent, retrying, else journal it."""
        # Retried for `budget` seconds; returns where it went when that was not the store.
        # `kept`: the journal entry that already holds the answer `conn` was made from.
        start, delay, error = time.monotonic(), 0.2, None
        while True:
            try:
                self._write(conn)
                if self.journal is not None:
                    self.journal.clear(conn.key)
                return None
            except (AuthsomeError, OSError) as e:
                error = e
            if isinstance(error, StoreConflict) and not self._worth_retrying(conn):
                break  # another machine rewrote the record since: retrying cannot win
            if time.monotonic() - start + delay > budget:
                break
            time.sleep(delay)
            delay = min(delay * 2, 2.0)  # a long budget (a held Vault lock) still tries often
        if self.journal is None:
            raise error
        if kept is not None:  # the raw answer is there already: no second write to a full disk
            self.unsaved.add(conn.key)
            note = self.journal.note(kept)
            return f"{kept} ({why(error)}{'; in ' + note if note else ''})"
        return self._keep_in_journal(conn, base_refresh_token, error)

    def _worth_retrying(self, conn: Connection) -> bool:
        """After a compare-and-set conflict: whether the record the store holds is ours (an
        earlier try that timed out landed after all), so that writing again will do."""
        try:
            # The read is also the version the next try compares against.
            stored = self.stored_refresh_token(conn.key)
        except (AuthsomeError, OSError):
            return True  # cannot tell yet
        return stored is not None and stored == conn.secrets.get("refresh_token")

    def stored_refresh_token(self, key: str) -> str | None:
        """The refresh token of the record the store holds for `key` now, journal aside; None
        when there is no record or it has none. Whoever spent a token asks whether it is still
        there: commit after a conflict, and the pending marker (storage/pending.py)."""
        raw = self.store.get(key)
        stored = None if raw is None else Connection.from_json(key, raw)
        return stored.secrets.get("refresh_token") if stored is not None else None

    def _keep_in_journal(self, conn: Connection, base: str, error: BaseException) -> str:
        try:
            path = self.journal.write(
                conn.key, base, conn.to_json(), conn.secrets.get("refresh_token")
            )
        except OSError as e:
            raise FilesystemError(
                f"the new tokens for {conn.key} could not be saved ({why(error)}) nor kept in"
                f" the journal ({why(e)})",
                "free disk space or fix the store, then run: authsome login"
                f" {conn.key.replace(':default', '')} --force",
            ) from None
        self.unsaved.add(conn.key)
        note = self.journal.note(path)
        return f"{path} ({why(error)}{'; in ' + note if note else ''})"

    def refresh_lock(self, provider: str, connection: str, settled=None):
        """A context manager around a refresh that other machines honour too, when the store is
        shared (the vault store); a no-op otherwise (storage/base.py, NoSharedLock). Its `held`
        is False when `settled()` ended the wait; `failure` is what a holder we waited for
        failed with, `fail(doc)` leaves ours, `save_budget()` is how long a save may retry;
        `spend(token)` marks it before a refresh token is sent, and `pending` is the marker of
        another machine that holds newer tokens (storage/pending.py)."""
        from authsome.storage.pending import PendingSave  # here: only a due refresh needs it

        # Every store is handed the marker; one that no other machine uses ignores it.
        key = make_key(provider, connection)
        return self.store.refresh_lock(key, settled, PendingSave(self, key))

    def find(self, provider: str, connection: str = "default") -> Connection | None:
        key = make_key(provider, connection)
        raw = self.store.get(key)
        conn = None if raw is None else Connection.from_json(key, raw)
        if self.journal is not None and self.journal.has(key):
            conn = self._recover(key, conn)
        return conn

    def _recover(self, key: str, stored: Connection | None) -> Connection | None:
        """Finish a save that the journal holds, if it still belongs on top of the store."""
        from authsome.storage.journal import fingerprint

        base = stored.secrets.get("refresh_token") if stored is not None else None
        newer = raw = None
        if stored is not None and base is not None:
            for entry in self.journal.entries(key):
                # One whose own token the store holds is done; one made on top of another
                # record does not open. At most one entry opens: no token is spent twice.
                if entry.get("own") != fingerprint(base):
                    raw = raw or self.journal.open(entry, base)
            newer = None if raw is None else self._kept(key, stored, raw)
        if newer is None:
            # Torn, logged out, done, made on another login (stale), or holding no token.
            self.journal.clear(key)
            return stored
        try:
            self._write(newer)
        except (AuthsomeError, OSError) as e:
            self.unsaved.add(key)
            self.warn(
                f"authsome: warning: the newest tokens for {key} are still only in the journal"
                f" ({why(e)})."
            )
            return newer
        self.journal.clear(key)
        return newer

    def _kept(self, key: str, stored: Connection, raw: str) -> Connection | None:
        """The record a journal entry holds, or makes from the raw answer of a refresh."""
        from authsome.util import jsonfast

        try:
            doc = jsonfast.loads(raw)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("answer"), dict):
            return self.answers(stored, doc["answer"]) if self.answers is not None else None
        return Connection.from_json(key, raw)

    def load(self, provider: str, connection: str = "default") -> Connection:
        conn = self.find(provider, connection)
        if conn is None:
            key = make_key(provider, connection)
            name = display_ref(provider, connection)
            entry = self.entry(provider, connection)
            elsewhere = (entry or {}).get("backend")
            if elsewhere and elsewhere != self.store.name:
                raise NotLoggedIn(
                    f"{name} is stored in the {elsewhere} store, but the {self.store.name}"
                    " store is in use",
                    f"set AUTHSOME_BACKEND={elsewhere}, or run: authsome login {name}",
                )
            if entry is not None:
                self._forget(key)  # a listing left by a crash: the store is the truth
            raise NotLoggedIn(f"not logged in to {name}", f"run: authsome login {name}")
        return conn

    def entry(self, provider: str, connection: str = "default") -> dict | None:
        """The index entry of a connection, or None (also when the index is damaged)."""
        try:
            return self.index.read().get(make_key(provider, connection))
        except IndexDamaged:
            return None

    def _forget(self, key: str) -> None:
        import contextlib  # here: `list` and `token` would pay 0.8 ms for this rare path

        with contextlib.suppress(OSError, CorruptData):
            self.index.remove(key)

    def delete(self, provider: str, connection: str = "default") -> bool:
        key = make_key(provider, connection)
        # The reverse of a save: the index entry is marked `removing` first, then the secret
        # goes, then the entry. Killed part-way, the login is never listed without its secret
        # (list skips marked entries), and reconcile() finishes the logout.
        self.index.mark_removing(key)
        found = self.store.delete(key)
        if self.journal is not None:
            self.journal.clear(key)
        self.index.remove(key)
        return found
