"""Fresh tokens: refresh before expiry, once across all processes, keeping rotated tokens."""

from __future__ import annotations

from authsome.connections import (
    CONNECTED,
    Connection,
    display_ref,
    effective_margin,
    parse_ref,
)
from authsome.errors import AuthFailed, NotLoggedIn
from authsome.flows.tokens import (
    OAuthError,
    basic_auth,
    client_auth,
    parse_token_response,
    resource_param,
)
from authsome.locking import file_lock


def needs_refresh(conn: Connection, now: float, margin: int) -> bool:
    if conn.expires_at is None:
        return False
    return conn.expires_at - now <= effective_margin(conn.expires_at, conn.updated_at, margin)


def fresh(ctx, ref: str, connection=None) -> Connection:
    """The connection with a usable credential, refreshed first when it is close to expiry."""
    provider_name, conn_name = parse_ref(ref, connection)
    hint = display_ref(provider_name, conn_name)
    try:
        conn = ctx.connections.load(provider_name, conn_name)
    except NotLoggedIn:
        ctx.registry.check_known(provider_name)  # a typo says so, rather than "log in"
        raise
    _check_usable(conn, hint)
    if not needs_refresh(conn, ctx.clock(), ctx.refresh_margin):
        return conn
    if "refresh_token" not in conn.secrets:
        if conn.expires_at <= ctx.clock():
            raise AuthFailed(
                f"the token for {hint} has expired and cannot be refreshed",
                f"run: authsome login {hint} --force",
            )
        return conn
    # Single flight: one process refreshes; the others wait here, then see the new token.
    with file_lock(ctx.home.lock_path(f"refresh.{provider_name}.{conn_name}")):
        conn = ctx.connections.load(provider_name, conn_name)
        _check_usable(conn, hint)
        if not needs_refresh(conn, ctx.clock(), ctx.refresh_margin):
            return conn
        return _refresh(ctx, conn, hint)


def _check_usable(conn: Connection, hint: str) -> None:
    if conn.status != CONNECTED:
        raise AuthFailed(
            f"the login for {hint} was revoked or expired", f"run: authsome login {hint} --force"
        )


def _refresh(ctx, conn: Connection, hint: str) -> Connection:
    provider = ctx.provider(conn.provider)
    oauth, secret = provider.oauth, conn.secrets.get("client_secret")
    data = {
        "grant_type": "refresh_token",
        "refresh_token": conn.secrets["refresh_token"],
        **client_auth(conn.client_id, secret, oauth.client_auth),
        **resource_param(oauth),
    }
    status, body = ctx.http.post_form(
        oauth.token_url, data, auth=basic_auth(conn.client_id, secret, oauth.client_auth)
    )
    try:
        tokens = parse_token_response(status, body, ctx.clock(), conn.scopes)
    except OAuthError as e:
        if e.code == "invalid_grant":
            conn.status = "expired"
            ctx.connections.save(conn)
        raise AuthFailed(
            f"{provider.display_name} refused to refresh the token for {hint} ({e.text()})",
            f"run: authsome login {hint} --force",
        ) from None
    conn.secrets["access_token"] = tokens.access_token
    if tokens.refresh_token:  # rotation: the old one is now spent
        conn.secrets["refresh_token"] = tokens.refresh_token
    if tokens.id_token:
        conn.secrets["id_token"] = tokens.id_token
    conn.expires_at = tokens.expires_at
    conn.scopes = tokens.scopes or conn.scopes
    ctx.connections.save(conn)
    return conn


def credential(conn: Connection) -> str:
    """The value `authsome token` prints: the API key or the access token."""
    return conn.secrets.get("api_key") or conn.secrets["access_token"]
