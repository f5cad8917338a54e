"""Dynamic client registration (RFC 7591): a public native client, registered once and reused."""

from __future__ import annotations

import json
import socket

from authsome.errors import AuthFailed
from authsome.flows.tokens import OAuthError
from authsome.termtext import printable

REGISTRATION = "@client"  # the store key's second part: not a valid connection name


def _key(provider_name: str) -> str:
    return f"{provider_name}:{REGISTRATION}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(ctx, provider, login_hint: str, port: int | None = None) -> dict:
    """The registered client ({client_id, client_secret?, registration_access_token?,
    redirect_port}): the stored one, or a new registration."""
    store = ctx.store_choice.store
    raw = store.get(_key(provider.name))
    if raw:
        try:
            found = json.loads(raw)
            if found.get("client_id") and (port is None or found.get("redirect_port") == port):
                return found
        except ValueError:
            pass
    port = port or provider.oauth.redirect_port or _free_port()
    payload = {
        "client_name": "authsome",
        "application_type": "native",
        "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    if provider.oauth.scopes:
        payload["scope"] = " ".join(provider.oauth.scopes)
    status, body = ctx.http.post_json(provider.oauth.registration_url, payload)
    if status >= 400 or "error" in body or not body.get("client_id"):
        err = OAuthError(str(body.get("error", f"HTTP {status}")), body.get("error_description"))
        raise AuthFailed(
            f"{provider.display_name} refused to register authsome as a client ({err.text()})",
            f"check oauth.registration_url, then run: authsome login {login_hint} again",
        )
    registered = {"client_id": body["client_id"], "redirect_port": port}
    for field in ("client_secret", "registration_access_token", "registration_client_uri"):
        if body.get(field):
            registered[field] = body[field]
    store.set(_key(provider.name), json.dumps(registered))
    ctx.say(
        f"Registered authsome as a client of {provider.display_name} "
        f"(client_id {printable(registered['client_id'])})."
    )
    return registered
