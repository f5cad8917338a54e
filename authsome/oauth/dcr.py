"""Dynamic client registration (RFC 7591): a public native client, registered once and reused."""

from __future__ import annotations

import json
import socket

from authsome.errors import AuthFailed, NetworkError
from authsome.oauth.tokens import OAuthError
from authsome.util.termtext import printable

# The store keys' second parts: not valid connection names. A client for the device grant is
# registered apart, so that a server which refuses that grant still lets PKCE work.
REGISTRATION = "@client"
DEVICE_REGISTRATION = "@device-client"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _key(provider_name: str, device: bool = False) -> str:
    return f"{provider_name}:{DEVICE_REGISTRATION if device else REGISTRATION}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(ctx, provider, login_hint: str, port: int | None = None, device: bool = False) -> dict:
    """The registered client ({client_id, client_secret?, registration_access_token?,
    redirect_port?}): the stored one, or a new registration. `device`: a client for the device
    grant (RFC 8628), which needs no redirect URI."""
    store = ctx.store_choice.store
    raw = store.get(_key(provider.name, device))
    if raw:
        try:
            found = json.loads(raw)
            if found.get("client_id") and (
                device or port is None or found.get("redirect_port") == port
            ):
                return found
        except ValueError:
            pass
    payload = {
        "client_name": "authsome",
        "application_type": "native",
        "token_endpoint_auth_method": "none",
    }
    if device:
        payload.update(grant_types=[DEVICE_GRANT, "refresh_token"], response_types=[])
    else:
        port = port or provider.oauth.redirect_port or _free_port()
        payload.update(
            redirect_uris=[f"http://127.0.0.1:{port}/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        )
    if provider.oauth.scopes:
        payload["scope"] = " ".join(provider.oauth.scopes)
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
    registered = {"client_id": body["client_id"]}
    if not device:
        registered["redirect_port"] = port
    for field in ("client_secret", "registration_access_token", "registration_client_uri"):
        if body.get(field):
            registered[field] = body[field]
    store.set(_key(provider.name, device), json.dumps(registered))
    ctx.say(
        f"Registered authsome as a client of {provider.display_name} "
        f"(client_id {printable(registered['client_id'])})."
    )
    return registered
