"""The login and logout services: pick a flow, run it, store the result, say where."""

from __future__ import annotations

from urllib.parse import urlsplit

from authsome import oauth as flows
from authsome.errors import AlreadyLoggedIn, ConfigError, NetworkError, NotLoggedIn, UsageError
from authsome.oauth.tokens import OAuthError, basic_auth, client_auth
from authsome.storage.connections import CONNECTED, Connection, display_ref, parse_ref
from authsome.util.termtext import printable


def login(
    ctx,
    ref: str,
    *,
    flow=None,
    connection=None,
    scopes=None,
    force=False,
    client_id=None,
    port=None,
    open_browser=True,
) -> Connection:
    provider_name, conn_name = parse_ref(ref, connection)
    provider = ctx.provider(provider_name)
    hint = display_ref(provider_name, conn_name)
    entry = ctx.connections.entry(provider_name, conn_name)
    connected = entry and entry.get("status", CONNECTED) == CONNECTED and not force
    flow = flow or provider.flow
    if flow not in provider.flows():
        raise UsageError(
            f"{provider.display_name} does not support the {flow} flow",
            f"use one of: {', '.join(provider.flows()) or 'none'}",
        )
    # The index may be the leftover of a crash; only a login the store holds blocks this one.
    # (A connected entry means the store exists already: opening it creates nothing.)
    if connected and ctx.connections.find(provider_name, conn_name) is not None:
        raise AlreadyLoggedIn(
            f"already logged in to {provider_name} ({conn_name})",
            f"run: authsome logout {hint}, or log in again with --force",
        )

    if flow == flows.API_KEY:
        from authsome.oauth import apikey

        # The key is checked first: a bad one must not leave a new vault and passphrase behind.
        key = apikey.obtain(ctx, provider, hint, not open_browser)
        ctx.store_choice.store.prepare()
        conn = Connection(provider_name, conn_name, "api_key", flow, {"api_key": key})
    else:
        # Unlock or create the store before the browser or device step: nobody is asked for a
        # passphrase halfway through a login.
        ctx.store_choice.store.prepare()
        conn = _oauth_login(
            ctx, provider, conn_name, flow, scopes, client_id, port, open_browser, hint
        )
    ctx.say(ctx.connections.save(conn))
    ctx.say(f"Successfully logged in to {provider_name} ({conn_name}).")
    return conn


def _oauth_login(ctx, provider, conn_name, flow, scopes, client_id, port, open_browser, hint):
    oauth = provider.oauth
    prefix = provider.env_prefix
    extra, registered = {}, None
    given = client_id or ctx.environ.get(f"{prefix}_CLIENT_ID") or oauth.client_id
    # Dynamic registration stands in for a client ID in every flow: always for dcr_pkce (unless
    # --client-id), and for pkce and device_code when no client ID is known.
    if oauth.registration_url and not client_id and (flow == flows.DCR_PKCE or not given):
        from authsome.oauth import dcr

        registered = dcr.client(ctx, provider, hint, port, device=flow == flows.DEVICE_CODE)
        client_id, port = registered["client_id"], registered.get("redirect_port", port)
        extra = {
            k: registered[k]
            for k in ("client_secret", "registration_access_token")
            if k in registered
        }
    client_id = client_id or given
    if not client_id:
        raise ConfigError(
            f"{provider.display_name} needs an OAuth client_id",
            f"pass --client-id or set {prefix}_CLIENT_ID",
        )
    secret = extra.get("client_secret") or ctx.environ.get(f"{prefix}_CLIENT_SECRET")
    if not secret and oauth.client_secret_required and not registered:
        from authsome.oauth.apikey import ask_secret

        try:
            secret = ask_secret(ctx, provider, "client secret", None, hint, not open_browser)
        except UsageError:
            raise ConfigError(
                f"{provider.display_name} needs an OAuth client secret",
                f"set {prefix}_CLIENT_SECRET",
            ) from None
    scopes = list(scopes) if scopes else list(oauth.scopes)
    if flow == flows.DEVICE_CODE:
        from authsome.oauth import device

        tokens = device.run(provider, client_id, secret, scopes, hint, ctx)
    else:
        from authsome.oauth import pkce

        tokens = pkce.run(
            provider, client_id, secret, scopes, hint, ctx, port=port, open_browser=open_browser
        )
    found = {**tokens.secrets(), **extra}
    if secret:
        found["client_secret"] = secret
    from authsome.services.refresh import origin

    conn = Connection(
        provider.name, conn_name, "oauth2", flow, found, tokens.expires_at, tokens.scopes, client_id
    )
    conn.token_origin = origin(oauth.token_url)  # refresh tokens go back to this origin only
    return conn


def logout(ctx, ref: str, connection=None) -> bool:
    """Revoke remotely where possible, then remove locally, and say which of the two happened."""
    provider_name, conn_name = parse_ref(ref, connection)
    conn = ctx.connections.find(provider_name, conn_name)
    indexed = ctx.connections.entry(provider_name, conn_name) is not None
    if conn is None and not indexed:
        ctx.registry.check_known(provider_name)
        hint = display_ref(provider_name, conn_name)
        raise NotLoggedIn(f"not logged in to {hint}", "see: authsome list")
    outcome = "Removed locally."
    if conn is not None and conn.auth_type == "oauth2":
        try:
            provider = ctx.provider(provider_name)
        except (UsageError, ConfigError, NetworkError) as e:
            provider = None
            outcome = f"Not revoked at the server ({e.what}); removed locally."
        if provider is not None:
            outcome = _revoke(ctx, provider, conn)
    elif conn is not None:
        outcome = "Removed locally (revoke an API key on the provider's site, if it should die)."
    ctx.connections.delete(provider_name, conn_name)
    ctx.say(f"Logged out of {provider_name} ({conn_name}). {outcome}")
    return True


def _revoke(ctx, provider, conn) -> str:
    """RFC 7009: the refresh token first (it revokes the family), then the access token.

    Returns the sentence that says what happened at the server."""
    url = provider.oauth.revocation_url
    if not url:
        return (
            f"Not revoked at the server: {provider.display_name} has no revocation endpoint;"
            " removed locally."
        )
    host = urlsplit(url).hostname
    method, secret = provider.oauth.client_auth, conn.secrets.get("client_secret")
    auth = client_auth(conn.client_id, secret, method)
    basic = basic_auth(conn.client_id, secret, method)
    revoked, failed = [], []
    for hint in ("refresh_token", "access_token"):
        token = conn.secrets.get(hint)
        if not token:
            continue
        what = hint.replace("_", " ")
        try:
            status, body = ctx.http.post_form(
                url, {"token": token, "token_type_hint": hint, **auth}, auth=basic
            )
        except NetworkError as e:
            failed.append((what, e.what))
            continue
        if status >= 400:
            err = OAuthError(
                printable(str(body.get("error") or f"HTTP {status}")),
                printable(body.get("error_description") or "") or None,
            )
            failed.append((what, f"{host} answered HTTP {status}, {err.text()}"))
        else:
            revoked.append(what)
    if not failed:
        return "Revoked at the server and removed locally."
    reasons = {reason for _, reason in failed}
    why = reasons.pop() if len(reasons) == 1 else "; ".join(f"the {w}: {r}" for w, r in failed)
    if revoked:
        return (
            f"Revoked the {revoked[0]} at the server, but not the {failed[0][0]}"
            f" ({failed[0][1]}); removed locally."
        )
    return f"Not revoked at the server ({why}); removed locally."
