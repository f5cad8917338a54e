"""What a login asks of a flow: one frozen record, the same for every flow."""

from __future__ import annotations

from authsome.util.record import SECRET_FIELDS, Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from dataclasses import KW_ONLY

    from authsome.providers.model import Provider
    from authsome.storage.registrations import Registration
    from authsome.util.record import DEFAULT


class LoginRequest(Frozen):
    """A login's provider, connection and choices (--client-id, --scopes, --port, --no-browser)."""

    # OAuth flows settle the client fields (oauth/client.py) before they use them.

    __slots__ = (
        "provider",
        "connection",
        "hint",  # the ref to show in messages and fixes: 'github' or 'github:work'
        "flow",
        "client_id",
        "client_secret",
        "scopes",
        "port",
        "open_browser",
        "registration",  # the dynamically registered client in use (storage/registrations.py)
    )
    _defaults = {
        "connection": "default",
        "client_id": None,
        "client_secret": None,
        "scopes": None,
        "port": None,
        "open_browser": True,
        "registration": None,
    }
    _secret_fields = SECRET_FIELDS | {"client_secret"}

    if TYPE_CHECKING:
        provider: Provider
        connection: str = DEFAULT
        _: KW_ONLY  # at run time the rest may be positional too, but every caller names them
        hint: str
        flow: str
        client_id: str | None = DEFAULT
        client_secret: str | None = DEFAULT
        scopes: tuple[str, ...] | None = DEFAULT
        port: int | None = DEFAULT
        open_browser: bool = DEFAULT
        registration: Registration | None = DEFAULT
