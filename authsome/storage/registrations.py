"""Dynamically registered OAuth clients (RFC 7591), kept in the store beside the logins.

Each provider has at most two: one for PKCE (with its redirect port) and one for the device
grant, registered apart so that a server which refuses that grant still lets PKCE work. They
are stored as JSON under "NAME:@client" and "NAME:@device-client": a connection name never
starts with "@", so the connections repository skips them (Connections.login_keys).
"""

from __future__ import annotations

import json

from authsome.util.record import SECRET_FIELDS, Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT

REGISTRATION = "@client"
DEVICE_REGISTRATION = "@device-client"
SECRETS = ("client_secret", "registration_access_token")  # kept with each login that uses them


class Registration(Frozen):
    """One registered client: what the registration endpoint answered, and the port it is for."""

    __slots__ = (
        "client_id",
        "redirect_port",
        "client_secret",
        "registration_access_token",
        "registration_client_uri",
    )
    _defaults = {
        "redirect_port": None,
        "client_secret": None,
        "registration_access_token": None,
        "registration_client_uri": None,
    }
    _secret_fields = SECRET_FIELDS | set(SECRETS)

    if TYPE_CHECKING:
        client_id: str
        redirect_port: int | None = DEFAULT
        client_secret: str | None = DEFAULT
        registration_access_token: str | None = DEFAULT
        registration_client_uri: str | None = DEFAULT

    def to_json(self) -> str:
        """The stored form: the fields that are set, in this order."""
        return json.dumps({k: v for k, v in self.fields().items() if v is not None})

    @classmethod
    def from_json(cls, raw: str) -> Registration | None:
        """The record stored as `raw`; None when it is unreadable or has no client ID."""
        try:
            doc = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(doc, dict) or not doc.get("client_id"):
            return None
        return cls(**{k: doc[k] for k in cls.__slots__ if doc.get(k) is not None})

    def login_secrets(self) -> dict[str, str]:
        """The secrets a login made with this client keeps (for refresh and revocation)."""
        return {k: getattr(self, k) for k in SECRETS if getattr(self, k)}


class Registrations:
    """The registered clients in the chosen store; the store is opened on first use."""

    def __init__(self, store_choice):
        self.store_choice = store_choice

    @staticmethod
    def key(provider: str, device: bool = False) -> str:
        return f"{provider}:{DEVICE_REGISTRATION if device else REGISTRATION}"

    def get(self, provider: str, device: bool = False) -> Registration | None:
        """The stored client for `provider`, or None (also when the stored one is unreadable)."""
        raw = self.store_choice.store.get(self.key(provider, device))
        return Registration.from_json(raw) if raw else None

    def put(self, provider: str, registration: Registration, device: bool = False) -> None:
        self.store_choice.store.set(self.key(provider, device), registration.to_json())
