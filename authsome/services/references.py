"""`authsome://PROVIDER[:CONNECTION]/FIELD`: a reference to one credential of a stored login.

FIELD is a credential the provider exports (fields_of): `api_key` for an API-key provider,
`access_token` and `id_token` for OAuth, never a refresh token or client secret. No CONNECTION
means the default one. A reference is resolved on `authsome token`'s path (refresh.fresh:
refreshed when due, once across processes), so an OAuth token it gives is fresh. PROVIDER is a
name looked up in the registry, never a host: resolving one reaches nothing but that provider's
own token endpoint, and only to refresh (where refresh.py holds the token to its login's origin).
"""

from __future__ import annotations

from authsome.errors import AuthsomeError, InputError
from authsome.services.childenv import REFERENCE
from authsome.util.names import display_ref, is_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.storage.connection import Connection

PREFIX = REFERENCE
FIELDS = ("access_token", "id_token", "api_key")  # providers/schema.py CREDENTIAL_FIELDS
SYNTAX = "authsome://PROVIDER[:CONNECTION]/FIELD"


class Reference:
    """A parsed reference: provider and connection names ("default" when none was given)."""

    __slots__ = ("provider", "connection", "field")

    def __init__(self, provider: str, connection: str, field: str):
        self.provider, self.connection, self.field = provider, connection, field

    @property
    def ref(self) -> str:
        """'github' or 'github:work', as other commands name the connection."""
        return display_ref(self.provider, self.connection)

    def __str__(self) -> str:
        return f"{PREFIX}{self.ref}/{self.field}"

    def __eq__(self, other) -> bool:
        return isinstance(other, Reference) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def is_reference(value: str) -> bool:
    """Whether `value` is meant as a reference (it may still be malformed)."""
    return value.startswith(PREFIX)


def format_ref(provider: str, connection: str | None, field: str) -> str:
    """The reference text for a connection's field: authsome://openai/api_key."""
    return str(Reference(provider, connection or "default", field))


def parse(text: str) -> Reference:
    """The reference in `text`, which starts with authsome://; InputError if malformed.

    The message never repeats `text`: a key pasted in the wrong place would be shown."""
    ref, slash, field = text.removeprefix(PREFIX).partition("/")
    provider, colon, connection = ref.partition(":")
    if (
        not text.startswith(PREFIX)
        or not slash
        or not is_name(provider)
        or (colon and not is_name(connection))
    ):
        raise InputError(f"malformed reference: it must read {SYNTAX}", _syntax_fix())
    if field not in FIELDS:
        raise InputError(
            f"malformed reference: its FIELD must be one of {', '.join(FIELDS)}", _syntax_fix()
        )
    return Reference(provider, connection or "default", field)


def _syntax_fix() -> str:
    return "write it as authsome://openai/api_key or authsome://github:work/access_token"


def fields_of(provider) -> tuple[str, ...]:
    """The fields a reference may name for `provider`: its credential and what it exports."""
    found = ["api_key"] if provider.auth_type == "api_key" else ["access_token", "id_token"]
    found += [f for f in provider.export_env if f in FIELDS]
    return tuple(dict.fromkeys(found))


class Resolver:
    """Resolves references, fetching each connection once; `served`: provider -> (the
    connection run --proxy serves, its placeholder), given in place of that provider's values."""

    def __init__(self, ctx, served: dict[str, tuple[str, str]] | None = None):
        self.ctx, self.served = ctx, served or {}
        self.used: list[tuple[str, str]] = []  # (provider, connection) read, for the audit
        self.secrets: list[str] = []  # the values handed out (not placeholders), for masking
        self._conns: dict[tuple[str, str], Connection] = {}

    def value(self, ref: Reference) -> str:
        """The current value of `ref`: its connection refreshed first when due."""
        provider = self.ctx.registry.get(ref.provider)  # an unknown name says so, with a guess
        if ref.field not in fields_of(provider):
            raise InputError(
                f"{ref.provider} has no {ref.field}",
                f"reference one of: {', '.join(fields_of(provider))}",
            )
        if ref.provider in self.served:
            return self._placeholder(ref)
        key = (ref.provider, ref.connection)
        conn = self._conns.get(key)
        if conn is None:
            from authsome.services.refresh import fresh

            conn = self._conns[key] = fresh(self.ctx, ref.provider, ref.connection)
            self.used.append(key)
        value = conn.secrets.get(ref.field)
        if not value:
            raise InputError(
                f"{ref.ref} holds no {ref.field}: its provider did not issue one",
                "reference another field, or log in again with scopes that issue it",
            )
        self.secrets.append(value)
        return value

    def _placeholder(self, ref: Reference) -> str:
        connection, placeholder = self.served[ref.provider]
        if connection != ref.connection:
            served = display_ref(ref.provider, connection)
            raise InputError(
                f"the proxy serves {served}, but the reference names {ref.ref}",
                f"name that connection to the proxy: authsome run --proxy {ref.ref}",
            )
        return placeholder


def located(error: AuthsomeError, where: str) -> AuthsomeError:
    """`error` with `where` (FILE:LINE: KEY, or the variable) before its message."""
    error.what = f"{where}: {error.what}"
    fix = error.fix
    error.args = (f"{error.what}. {fix[0].upper()}{fix[1:]}" if fix else error.what,)
    return error


def resolve(resolver: Resolver, items) -> dict[str, str]:
    """KEY -> value for (where, KEY, value) items, each reference resolved; the first error
    says where it came from."""
    out = {}
    for where, key, value in items:
        if not is_reference(value):
            out[key] = value
            continue
        try:
            out[key] = resolver.value(parse(value))
        except AuthsomeError as e:
            raise located(e, where) from None
    return out
