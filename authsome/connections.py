"""Connection records over a raw store: JSON under '<provider>:<connection>', expiry on read."""

from __future__ import annotations

import json
import re
import time

from authsome.errors import CorruptData, NotLoggedIn, UsageError
from authsome.index import Index
from authsome.record import Record
from authsome.store import StoreChoice, make_key

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
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
        from authsome.secretlike import looks_like_secret

        if looks_like_secret(value or ""):
            from authsome.providers import secret_name_error

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
        except (ValueError, TypeError):
            raise CorruptData(
                f"the stored record {key} is corrupt",
                f"remove it with: authsome logout {key.replace(':default', '')}",
            ) from None


class Connections:
    """The typed layer: save/load/delete/list connection records."""

    def __init__(self, choice: StoreChoice, index: Index, clock=time.time):
        self.choice = choice
        self.index = index
        self.clock = clock

    @property
    def store(self):
        return self.choice.store

    def save(self, conn: Connection) -> str:
        """Store `conn`; returns the sentence saying where it went."""
        now = int(self.clock())
        conn.created_at = conn.created_at or now
        conn.updated_at = now
        self.store.set(conn.key, conn.to_json())
        self.index.put(conn.key, conn.metadata(self.store.name))
        return self.choice.where()

    def find(self, provider: str, connection: str = "default") -> Connection | None:
        key = make_key(provider, connection)
        raw = self.store.get(key)
        return None if raw is None else Connection.from_json(key, raw)

    def load(self, provider: str, connection: str = "default") -> Connection:
        conn = self.find(provider, connection)
        if conn is None:
            name = provider if connection == "default" else f"{provider}:{connection}"
            elsewhere = self.index.read().get(make_key(provider, connection), {}).get("backend")
            if elsewhere and elsewhere != self.store.name:
                raise NotLoggedIn(
                    f"{name} is stored in the {elsewhere} store, but the {self.store.name}"
                    " store is in use",
                    f"set AUTHSOME_BACKEND={elsewhere}, or run: authsome login {name}",
                )
            raise NotLoggedIn(f"not logged in to {name}", f"run: authsome login {name}")
        return conn

    def delete(self, provider: str, connection: str = "default") -> bool:
        key = make_key(provider, connection)
        found = self.store.delete(key)
        self.index.remove(key)
        return found

    def list(self) -> list[dict]:
        """Index entries, sorted; touches no secret store."""
        entries = self.index.read()
        return [entries[k] for k in sorted(entries)]
