"""One connection's record, its reference ('github:work'), and the rule for its state."""

from __future__ import annotations

from authsome.errors import CorruptData, UsageError
from authsome.storage.base import make_key
from authsome.util import jsonfast
from authsome.util.names import display_ref as display_ref  # re-exported for the record's users
from authsome.util.names import is_name
from authsome.util.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT

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
    if not is_name(value):
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
    """The refresh margin, capped at half the token's lifetime."""
    # A provider whose tokens live less than the margin would otherwise refresh on every call.
    lifetime = expires_at - (updated_at or 0)
    return min(margin, lifetime / 2) if lifetime > 0 else margin


def state_of(entry: dict, now: float, margin: int) -> str:
    """A connection's state from its index entry: the one rule that list and providers use."""
    if entry.get("status", CONNECTED) != CONNECTED:
        return NEEDS_LOGIN
    expires_at = entry.get("expires_at")
    if expires_at is None:
        return CONNECTED
    if expires_at <= now:
        # Past expiry but refreshable: the next `token` refreshes it, so it is not dead yet.
        return EXPIRES_SOON if entry.get("refreshable") else EXPIRED
    soon = expires_at - now <= effective_margin(expires_at, entry.get("updated_at"), margin)
    return EXPIRES_SOON if soon else CONNECTED


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
        "revocation_origin",
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
        # ... and of the revocation endpoint, kept only when it is another origin (see to_dict)
        "revocation_origin": None,
    }

    if TYPE_CHECKING:
        provider: str
        connection: str = DEFAULT
        auth_type: str = DEFAULT
        flow: str | None = DEFAULT
        secrets: dict[str, str] = DEFAULT
        expires_at: float | None = DEFAULT
        scopes: list[str] = DEFAULT
        client_id: str | None = DEFAULT
        status: str = DEFAULT
        created_at: float = DEFAULT
        updated_at: float = DEFAULT
        token_origin: str | None = DEFAULT
        revocation_origin: str | None = DEFAULT

    def to_dict(self) -> dict:
        out = self.fields()
        if out["revocation_origin"] is None:
            # Left out when empty, so a record stays readable by versions that lack the field
            # (a shared Vault store may be read by older ones).
            del out["revocation_origin"]
        return out

    @property
    def key(self) -> str:
        return make_key(self.provider, self.connection)

    def metadata(self, backend: str) -> dict:
        meta = self.to_dict()
        del meta["secrets"]
        meta["backend"] = backend
        meta["refreshable"] = "refresh_token" in self.secrets
        return meta

    def to_json(self) -> str:
        import json  # here: writes only

        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, key: str, raw: str) -> Connection:
        try:
            data = jsonfast.loads(raw)
            conn = cls(**data)
            if not _well_typed(conn) or conn.key != key:
                raise TypeError
            # `token` and `env` print the secrets: from a store that others write (the vault
            # store), an escape sequence would reach the terminal as it is. Checked as token
            # answers are (oauth/tokens.py), and so is the record's other text.
            if not all(isinstance(v, str) and v.isprintable() for v in conn.secrets.values()):
                raise ValueError
            if not all(v.isprintable() for v in data.values() if isinstance(v, str)):
                raise ValueError
            return conn
        except (ValueError, TypeError, RecursionError):
            raise CorruptData(
                f"the stored record {key} is corrupt",
                f"remove it with: authsome logout {key.replace(':default', '')}",
            ) from None


_NUMBER = (int, float)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "connection": str,
    "auth_type": str,
    "flow": (str, type(None)),
    "secrets": dict,
    "expires_at": (*_NUMBER, type(None)),
    "scopes": list,
    "client_id": (str, type(None)),
    "status": str,
    "created_at": _NUMBER,
    "updated_at": _NUMBER,
    "token_origin": (str, type(None)),
    "revocation_origin": (str, type(None)),
}


def _well_typed(conn: Connection) -> bool:
    """Whether every field has the type authsome writes: a record that was damaged or
    tampered with is corrupt, not a crash later on."""
    for name, kind in _TYPES.items():
        value = getattr(conn, name)
        if not isinstance(value, kind):
            return False
        if isinstance(value, _NUMBER) and not -1e15 < value < 1e15:  # NaN, inf, 2**70
            return False
    # The secret that is handed out: every login saves one.
    return (
        ("api_key" in conn.secrets or "access_token" in conn.secrets)
        and all(isinstance(v, str) for v in conn.secrets.values())
        and all(isinstance(s, str) for s in conn.scopes)
    )
