"""Connection records over a raw store: JSON under '<provider>:<connection>', expiry on read."""

from __future__ import annotations

import contextlib
import json
import time

from authsome.errors import (
    AuthsomeError,
    BadPassphrase,
    CorruptData,
    FilesystemError,
    NotLoggedIn,
    StoreUnavailable,
    UsageError,
)
from authsome.storage.index import Index, IndexDamaged
from authsome.storage.select import StoreChoice, make_key, split_key
from authsome.util.names import NAME_RE
from authsome.util.record import Record

CONNECTED, EXPIRES_SOON = "connected", "expires soon"
EXPIRED, NEEDS_LOGIN = "expired", "needs login"
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "client_secret",
    "registration_access_token",
)


def check_name(kind: str, value: str) -> str:
    if not NAME_RE.match(value or ""):
        from authsome.util.secretlike import looks_like_secret

        if looks_like_secret(value or ""):
            from authsome.providers.registry import secret_name_error

            raise secret_name_error(kind)
        raise UsageError(
            f"{kind} name {value!r} is not valid",
            "use lowercase letters, digits, '.', '_' or '-' (at most 64)",
        )
    return value


def effective_margin(expires_at: float, updated_at: float | None, margin: int) -> float:
    """The refresh margin, capped at half the token's lifetime.

    A provider whose tokens live less than the margin would otherwise be refreshed on every
    single call.
    """
    lifetime = expires_at - (updated_at or 0)
    return min(margin, lifetime / 2) if lifetime > 0 else margin


def display_ref(provider: str, connection: str) -> str:
    """'github' for the default connection, else 'github:work'."""
    return provider if connection == "default" else f"{provider}:{connection}"


def parse_ref(ref: str, connection: str | None = None) -> tuple[str, str]:
    """'github' or 'github:work' -> (provider, connection)."""
    provider, sep, conn = ref.partition(":")
    if sep and connection and connection != conn:
        raise UsageError(f"{ref!r} and --connection {connection!r} disagree", "give one of them")
    return check_name("provider", provider), check_name(
        "connection", conn or connection or "default"
    )


class Connection(Record):
    """One login: who, how, the secrets, and when they expire."""

    __slots__ = (
        "provider",
        "connection",
        "auth_type",
        "flow",
        "secrets",
        "expires_at",
        "scopes",
        "client_id",
        "status",
        "created_at",
        "updated_at",
        "token_origin",
    )
    _defaults = {
        "connection": "default",
        "auth_type": "api_key",
        "flow": None,
        "secrets": dict,
        "expires_at": None,
        "scopes": list,
        "client_id": None,
        "status": CONNECTED,
        "created_at": 0,
        "updated_at": 0,
        "token_origin": None,  # scheme://host[:port] of the token endpoint that issued the login
    }

    @property
    def key(self) -> str:
        return make_key(self.provider, self.connection)

    def state(self, now: float, margin: int) -> str:
        if self.status != CONNECTED:
            return NEEDS_LOGIN
        if self.expires_at is None:
            return CONNECTED
        if self.expires_at <= now:
            return EXPIRED if "refresh_token" not in self.secrets else EXPIRES_SOON
        if self.expires_at - now <= margin:
            return EXPIRES_SOON
        return CONNECTED

    def metadata(self, backend: str) -> dict:
        meta = self.to_dict()
        del meta["secrets"]
        meta["backend"] = backend
        meta["refreshable"] = "refresh_token" in self.secrets
        return meta

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, key: str, raw: str) -> Connection:
        try:
            data = json.loads(raw)
            conn = cls(**data)
            if not isinstance(conn.secrets, dict) or conn.key != key:
                raise TypeError
            return conn
        except (ValueError, TypeError, RecursionError):
            raise CorruptData(
                f"the stored record {key} is corrupt",
                f"remove it with: authsome logout {key.replace(':default', '')}",
            ) from None


class Connections:
    """The typed layer: save/load/delete/list connection records, store and index in step."""

    def __init__(self, choice: StoreChoice, index: Index, clock=time.time, journal=None, warn=None):
        self.choice = choice
        self.index = index
        self.clock = clock
        self.journal = journal
        self.warn = warn or (lambda text: None)
        self.unsaved: set[str] = set()  # keys whose newest record is only in the journal

    @property
    def store(self):
        return self.choice.store

    def save(self, conn: Connection) -> str:
        """Store `conn`; returns the sentence saying where it went."""
        now = int(self.clock())
        conn.created_at = conn.created_at or now
        conn.updated_at = now
        self._write(conn)
        return self.choice.where()

    def _write(self, conn: Connection) -> None:
        # The store first: the index must never list a login that the store lacks.
        self.store.set(conn.key, conn.to_json())
        self.unsaved.discard(conn.key)
        try:
            self.index.put(conn.key, conn.metadata(self.store.name))
        except (OSError, CorruptData) as e:
            # The secret is safe; only the listing lags, and reconcile() brings it back.
            self.warn(f"authsome: warning: the index was not updated ({_why(e)}).")

    def commit(self, conn: Connection, base_refresh_token: str, budget: float = 5.0) -> str | None:
        """Save a refreshed `conn` whose old refresh token is spent: retried for `budget`
        seconds, then kept in the journal. Returns where it went when that was not the store.
        """
        conn.updated_at = int(self.clock())
        start, delay, error = time.monotonic(), 0.2, None
        while True:
            try:
                self._write(conn)
                if self.journal is not None:
                    self.journal.clear(conn.key)
                return None
            except (AuthsomeError, OSError) as e:
                error = e
            if time.monotonic() - start + delay > budget:
                break
            time.sleep(delay)
            delay *= 2
        if self.journal is None:
            raise error
        try:
            path = self.journal.write(
                conn.key, base_refresh_token, conn.to_json(), conn.secrets.get("refresh_token")
            )
        except OSError as e:
            raise FilesystemError(
                f"the new tokens for {conn.key} could not be saved ({_why(error)}) nor kept in"
                f" the journal ({_why(e)})",
                "free disk space or fix the store, then run: authsome login"
                f" {conn.key.replace(':default', '')} --force",
            ) from None
        self.unsaved.add(conn.key)
        return f"{path} ({_why(error)})"

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

        entry = self.journal.read(key)
        base = stored.secrets.get("refresh_token") if stored is not None else None
        if entry is None or base is None or entry.get("own") == fingerprint(base):
            self.journal.clear(key)  # torn, logged out, or the store already has it
            return stored
        raw = self.journal.open(entry, base)
        if raw is None:
            self.journal.clear(key)  # made on top of another login: stale
            return stored
        newer = Connection.from_json(key, raw)
        try:
            self._write(newer)
        except (AuthsomeError, OSError) as e:
            self.unsaved.add(key)
            self.warn(
                f"authsome: warning: the newest tokens for {key} are still only in the journal"
                f" ({_why(e)})."
            )
            return newer
        self.journal.clear(key)
        return newer

    def load(self, provider: str, connection: str = "default") -> Connection:
        conn = self.find(provider, connection)
        if conn is None:
            key = make_key(provider, connection)
            name = provider if connection == "default" else f"{provider}:{connection}"
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
        with contextlib.suppress(OSError, CorruptData):
            self.index.remove(key)

    def delete(self, provider: str, connection: str = "default") -> bool:
        key = make_key(provider, connection)
        # Marked first, so that a crash part-way never leaves a login listed but not stored.
        self.index.mark_removing(key)
        found = self.store.delete(key)
        if self.journal is not None:
            self.journal.clear(key)
        self.index.remove(key)
        return found

    def list(self) -> list[dict]:
        """Index entries, sorted; healed from the store when it is damaged or has drifted.

        Only a store that lists its keys cheaply (the vault file: names are in the clear) is
        compared on every call; `authsome doctor --fix` reconciles the keychain.
        """
        try:
            entries = self.index.live()
        except IndexDamaged:
            entries = self.rebuild()
        if getattr(self.store, "lists_cheaply", False):
            mine = {k for k, e in entries.items() if e.get("backend") == self.store.name}
            if set(self.login_keys()) != mine:
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
                entries = self.index.live()
        # By provider, then connection: sorting "peer2:x" and "peer:x" as strings puts peer2 first.
        return [entries[k] for k in sorted(entries, key=split_key)]

    def login_keys(self) -> list[str]:
        """The store's keys of logins; not of what else it keeps (dcr's "NAME:@client")."""
        return [k for k in self.store.list() if not split_key(k)[1].startswith("@")]

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

    def reconcile(self) -> list[str]:
        """Bring store and index into agreement after a crash; returns what changed."""
        changes = []
        names = set(self.login_keys())
        try:
            entries = self.index.read()
        except IndexDamaged:
            self.rebuild()
            return ["rebuilt the damaged index"]
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


def _index_entry(conn: Connection, backend: str) -> dict:
    from authsome.storage.index import entry_of

    return entry_of(conn.metadata(backend))


def _why(e: BaseException) -> str:
    if isinstance(e, AuthsomeError):
        return e.what
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return type(e).__name__
