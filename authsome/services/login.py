"""The login and logout services: pick a flow, run it, store the result, say where."""

from __future__ import annotations

from urllib.parse import urlsplit

from authsome.errors import AlreadyLoggedIn, ConfigError, NetworkError, NotLoggedIn, UsageError
from authsome.oauth import FLOWS
from authsome.oauth.request import LoginRequest
from authsome.oauth.tokens import OAuthError, client_credentials, origin
from authsome.services.audit import record
from authsome.storage.connections import CONNECTED, Connection, display_ref, parse_ref
from authsome.util.termtext import printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def login(
    ctx: Context,
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
    """Log in to `ref` with its provider's flow (or `flow`), store the result, say where."""
    provider_name, conn_name = parse_ref(ref, connection)
    provider = ctx.provider(provider_name)
    hint = display_ref(provider_name, conn_name)
    flow = flow or _default_flow(ctx, provider, hint, open_browser)
    _check_may_log_in(ctx, provider, provider_name, conn_name, flow, force)
    request = LoginRequest(
        provider=provider,
        connection=conn_name,
        hint=hint,
        flow=flow,
        client_id=client_id,
        scopes=tuple(scopes) if scopes else None,
        port=port,
        open_browser=open_browser,
    )
    chosen = FLOWS[flow]
    # Unlocked or created before or after the flow, as the flow needs (see oauth.Flow).
    if chosen.store_first:
        ctx.store_choice.store.prepare()
    conn = chosen.obtain(ctx, request)
    if not chosen.store_first:
        ctx.store_choice.store.prepare()
    ctx.io.say(ctx.connections.save(conn))
    record(ctx, "login", provider_name, conn_name, flow=flow)
    ctx.io.say(f"Successfully logged in to {provider_name} ({conn_name}).")
    return conn


def _default_flow(ctx: Context, provider, hint: str, open_browser: bool) -> str:
    """The provider's flow; but with no display here, PKCE's loopback URL is one that no
    laptop's browser can reach (over SSH, in a container): the device flow, if there is one.
    --no-browser says the user will open the URL themselves: PKCE it stays."""
    from authsome.oauth import DCR_PKCE, DEVICE_CODE, PKCE
    from authsome.ui.browser import display_available

    flow = provider.flow
    if flow not in (PKCE, DCR_PKCE) or not open_browser or display_available(ctx.environ):
        return flow
    if DEVICE_CODE in provider.flows():
        ctx.io.say(
            "authsome: no display here, so this login uses the device code flow: any device"
            f" with a browser will do. For a browser on this machine: authsome login {hint}"
            f" --flow {flow}"
        )
        return DEVICE_CODE
    ctx.io.say(
        "authsome: no display here: open the URL below in a browser on this machine, or on"
        " your laptop after forwarding its port (ssh -L PORT:127.0.0.1:PORT, with --port PORT)"
    )
    return flow


def _check_may_log_in(ctx: Context, provider, provider_name, conn_name, flow, force) -> None:
    """Raise unless `provider` has `flow` and the connection is free (or --force)."""
    entry = ctx.connections.entry(provider_name, conn_name)
    connected = entry and entry.get("status", CONNECTED) == CONNECTED and not force
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
            f"run: authsome logout {display_ref(provider_name, conn_name)}, or log in again"
            " with --force",
        )


def logout(ctx: Context, ref: str, connection=None) -> bool:
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
    record(ctx, "logout", provider_name, conn_name)
    ctx.io.say(f"Logged out of {provider_name} ({conn_name}). {outcome}")
    return True


def _revoke_one(ctx: Context, url: str, host: str | None, form: dict, auth) -> str | None:
    """Post one revocation; why it failed, or None."""
    try:
        status, body = ctx.http.post_form(url, form, auth=auth)
    except NetworkError as e:
        return e.what
    if status < 400:
        return None
    err = OAuthError(
        printable(str(body.get("error") or f"HTTP {status}")),
        printable(body.get("error_description") or "") or None,
    )
    return f"{host} answered HTTP {status}, {err.text()}"


def _moved(conn, url: str) -> str | None:
    """Why the tokens may not go to `url`, or None: they go back only to the origin the login
    recorded, as refresh does, so an override file written since cannot collect them."""
    # Kept only when it differs from the token endpoint's (oauth.client.connection).
    expected = conn.revocation_origin or conn.token_origin
    if expected is None:
        return "this login does not record where its tokens came from"
    if origin(url) != expected:
        return f"the revocation endpoint moved since login (from {expected} to {origin(url)})"
    return None


def _revoke(ctx: Context, provider, conn) -> str:
    """Revoke at the server (RFC 7009); the sentence that says what happened there."""
    # The refresh token first: revoking it revokes the whole family, access tokens included.
    url = provider.oauth.revocation_url
    if not url:
        return (
            f"Not revoked at the server: {provider.display_name} has no revocation endpoint;"
            " removed locally."
        )
    moved = _moved(conn, url)
    if moved:
        return f"Not revoked at the server: {moved}; removed locally."
    host = urlsplit(url).hostname
    secret = conn.secrets.get("client_secret")
    form, auth = client_credentials(conn.client_id, secret, provider.oauth.client_auth)
    revoked, failed = [], []
    for hint in ("refresh_token", "access_token"):
        token = conn.secrets.get(hint)
        if not token:
            continue
        what = hint.replace("_", " ")
        form_for = {"token": token, "token_type_hint": hint, **form}
        problem = _revoke_one(ctx, url, host, form_for, auth)
        if problem:
            failed.append((what, problem))
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
