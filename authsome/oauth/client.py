"""Which OAuth client a login uses (given, from the environment, the provider's, or registered)
and the Connection its tokens become. Shared by every OAuth flow."""

from __future__ import annotations

from authsome.errors import ConfigError, UsageError
from authsome.oauth import DEVICE_CODE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def settle(ctx: Context, request):
    """`request` with its client ID, secret, scopes and redirect port decided."""
    provider = request.provider
    oauth, prefix = provider.oauth, provider.env_prefix
    # The MCP authorization spec's order: a client ID given (--client-id, $PREFIX_CLIENT_ID, the
    # provider file), then the user's Client ID Metadata Document where the server takes one,
    # then dynamic registration, in every flow.
    client_id = request.client_id or ctx.environ.get(f"{prefix}_CLIENT_ID") or oauth.client_id
    if not client_id and oauth.client_id_metadata_document_supported:
        client_id = ctx.client_metadata_url  # the user's, if set
    registration, port = None, request.port
    if oauth.registration_url and not client_id:
        from authsome.oauth import dcr

        device = request.flow == DEVICE_CODE
        registration = dcr.client(ctx, provider, request.hint, port, device=device)
        client_id = registration.client_id
        if registration.redirect_port is not None:
            port = registration.redirect_port  # the port its redirect URI was registered with
    if not client_id:
        raise ConfigError(
            f"{provider.display_name} needs an OAuth client_id",
            f"pass --client-id or set {prefix}_CLIENT_ID",
        )
    return request.replace(
        client_id=client_id,
        client_secret=_secret(ctx, request, registration),
        scopes=list(request.scopes) if request.scopes else list(oauth.scopes),
        port=port,
        registration=registration,
    )


def _secret(ctx: Context, request, registration) -> str | None:
    """The client secret: the registration's, $PREFIX_CLIENT_SECRET, or asked for if required."""
    provider = request.provider
    prefix = provider.env_prefix
    secret = (registration and registration.client_secret) or ctx.environ.get(
        f"{prefix}_CLIENT_SECRET"
    )
    if secret or not provider.oauth.client_secret_required or registration:
        return secret
    from authsome.oauth.apikey import ask_secret

    try:
        return ask_secret(
            ctx, provider, "client secret", None, request.hint, not request.open_browser
        )
    except UsageError:
        raise ConfigError(
            f"{provider.display_name} needs an OAuth client secret",
            f"set {prefix}_CLIENT_SECRET",
        ) from None


def connection(request, tokens):
    """The Connection to save for `tokens`, obtained with the settled `request`."""
    from authsome.oauth.tokens import origin
    from authsome.storage.connections import Connection

    found = dict(tokens.secrets())
    if request.registration is not None:
        found.update(request.registration.login_secrets())
    if request.client_secret:
        found["client_secret"] = request.client_secret
    conn = Connection(
        request.provider.name,
        request.connection,
        "oauth2",
        request.flow,
        found,
        tokens.expires_at,
        tokens.scopes,
        request.client_id,
    )
    oauth = request.provider.oauth
    conn.token_origin = origin(oauth.token_url)  # refresh goes back there only
    revocation = origin(oauth.revocation_url) if oauth.revocation_url else None
    if revocation not in (None, conn.token_origin):  # logout revokes there only
        conn.revocation_origin = revocation
    return conn
