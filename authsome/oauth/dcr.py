"""Dynamic client registration (RFC 7591): a public native client, registered once and reused."""

from __future__ import annotations

import socket

from authsome.errors import AuthFailed, NetworkError
from authsome.oauth import DEVICE_GRANT
from authsome.oauth.tokens import OAuthError
from authsome.storage.registrations import Registration
from authsome.util.termtext import printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

KEPT = ("client_secret", "registration_access_token", "registration_client_uri")  # of the answer


def _kept(value) -> bool:
    # Checked as token answers are: a stored record with anything else would not read back.
    return isinstance(value, str) and value.isprintable() and bool(value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(ctx: Context, provider, login_hint: str, port: int | None = None, device: bool = False):
    """The Registration to log in with: the stored one if it fits, else a new one, stored."""
    # `device`: a client for the device grant (RFC 8628), which needs no redirect URI; a PKCE
    # client is reused only for the port its redirect URI names.
    found = ctx.registrations.get(provider.name, device)
    if found is not None and (device or port is None or found.redirect_port == port):
        return found
    if not device:
        port = port or provider.oauth.redirect_port or _free_port()
    body = _register(ctx, provider, login_hint, _metadata(provider, None if device else port))
    registered = Registration(
        client_id=body["client_id"],
        redirect_port=None if device else port,
        **{k: body[k] for k in KEPT if _kept(body.get(k))},
    )
    ctx.registrations.put(provider.name, registered, device)
    ctx.io.say(
        f"Registered authsome as a client of {provider.display_name} "
        f"(client_id {printable(registered.client_id)})."
    )
    return registered


def _metadata(provider, port: int | None) -> dict:
    """The client metadata to register: a redirect URI on `port`, or the device grant (None)."""
    payload: dict[str, object] = {
        "client_name": "authsome",
        "application_type": "native",
        "token_endpoint_auth_method": "none",
    }
    if port is None:
        payload.update(grant_types=[DEVICE_GRANT, "refresh_token"], response_types=[])
    else:
        payload.update(
            redirect_uris=[f"http://127.0.0.1:{port}/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        )
    if provider.oauth.scopes:
        payload["scope"] = " ".join(provider.oauth.scopes)
    return payload


def _register(ctx: Context, provider, login_hint: str, payload: dict) -> dict:
    """The registration endpoint's answer, or the error that says why there is none."""
    status, body = ctx.http.post_json(provider.oauth.registration_url, payload)
    if status >= 500 or status == 429:
        raise NetworkError(
            f"{provider.display_name} could not register authsome as a client (HTTP {status})",
            f"try again in a moment: authsome login {login_hint}",
        )
    if status >= 400 or "error" in body or not body.get("client_id"):
        err = OAuthError(str(body.get("error", f"HTTP {status}")), body.get("error_description"))
        raise AuthFailed(
            f"{provider.display_name} refused to register authsome as a client ({err.text()})",
            f"register an app with {provider.display_name} yourself and log in with"
            f" --client-id ID (or set {provider.env_prefix}_CLIENT_ID)",
        )
    return body
