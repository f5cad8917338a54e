"""Token endpoint responses: success, OAuth errors (even with HTTP 200), and refresh."""

from __future__ import annotations

from urllib.parse import urlsplit

from authsome.errors import AuthFailed
from authsome.util.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT


class TokenSet(Record):
    __slots__ = (
        "access_token",
        "refresh_token",
        "id_token",
        "token_type",
        "expires_at",
        "scopes",
        "dropped",
    )
    _defaults = {
        "refresh_token": None,
        "id_token": None,
        "token_type": "bearer",
        "expires_at": None,
        "scopes": list,
        "dropped": list,
    }

    if TYPE_CHECKING:
        access_token: str
        refresh_token: str | None = DEFAULT
        id_token: str | None = DEFAULT
        token_type: str = DEFAULT
        expires_at: int | None = DEFAULT
        scopes: list[str] = DEFAULT
        dropped: list[str] = DEFAULT

    def secrets(self) -> dict[str, str]:
        out = {"access_token": self.access_token}
        if self.refresh_token:
            out["refresh_token"] = self.refresh_token
        if self.id_token:
            out["id_token"] = self.id_token
        return out


class OAuthError(Exception):
    """The server answered with an OAuth error code (RFC 6749 §5.2)."""

    refresh_token = None  # a rotated refresh token that came with an otherwise unusable answer

    def __init__(self, code: str, description: str | None):
        self.code = code
        self.description = description
        super().__init__(code)

    def text(self) -> str:
        return f"{self.code}: {self.description}" if self.description else self.code


MAX_LIFETIME = 10 * 365 * 86400  # an expires_in beyond ten years is not a real lifetime


def parse_token_response(status: int, body: dict, now: float, asked_scopes=()) -> TokenSet:
    """A TokenSet from a token endpoint's answer, or OAuthError."""
    # The body decides, not the status: GitHub reports errors with HTTP 200. Fields of the
    # wrong type are dropped and named in `TokenSet.dropped`, so that a caller can still keep a
    # valid (possibly rotated) refresh token from an answer that is partly wrong.
    if "error" in body:
        raise OAuthError(_text(body["error"]) or "error", _clean(body.get("error_description")))
    dropped = []

    def string(name):
        value = body.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, str) and value.isprintable():
            return value
        dropped.append(name)
        return None

    token, refresh = string("access_token"), string("refresh_token")
    if status >= 400 or not token:
        error = OAuthError("invalid_response", f"HTTP {status} without a valid access_token")
        error.refresh_token = refresh if status < 400 else None
        raise error
    scope = body.get("scope")
    scopes = scope.replace(",", " ").split() if isinstance(scope, str) else list(asked_scopes)
    return TokenSet(
        access_token=token,
        refresh_token=refresh,
        id_token=string("id_token"),
        token_type=string("token_type") or "bearer",
        expires_at=_expires_at(body.get("expires_in"), now, dropped),
        scopes=scopes,
        dropped=dropped,
    )


def _expires_at(value, now: float, dropped: list) -> int | None:
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        seconds = -1.0
    if not 0 <= seconds <= MAX_LIFETIME:  # also false for NaN and for 1e400 (inf)
        dropped.append("expires_in")
        return None
    return int(now + seconds)


def _text(value) -> str | None:
    return _clean(value if isinstance(value, str) else str(value)[:100])


def _clean(text) -> str | None:
    # Error text from a server is shown to the user: keep it to one short, printable line.
    if not isinstance(text, str):
        return None
    from authsome.util.termtext import printable

    return " ".join(printable(text).split())[:300] or None


def client_credentials(client_id: str | None, secret: str | None, method: str = "post"):
    """(form fields, httpx auth) that authenticate the client to a token-type endpoint."""
    # "post" (client_secret_post) is what most providers accept. "basic" (client_secret_basic,
    # as Zoom wants) moves a secret into the Authorization header, and then the form carries
    # no client field at all; a client without a secret still names itself in the form.
    if method == "basic" and secret:
        return {}, ((client_id, secret) if client_id else None)
    form = {}
    if client_id:
        form["client_id"] = client_id
    if secret:
        form["client_secret"] = secret
    return form, None


def resource_param(oauth) -> dict:
    """RFC 8707: name the protected resource the token is for, when the provider has one."""
    return {"resource": oauth.resource} if oauth.resource else {}


def origin(url: str) -> str:
    """scheme://host[:port] of `url`: where a login's refresh token may be sent."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def refused(provider, error: OAuthError, what: str, login_hint: str, again: str = ""):
    """The AuthFailed for a refusal: the server's own words and a fix that can work."""
    # Logging in again the same way never helps when the server refuses the request itself.
    name = provider.display_name
    retry = f"authsome login {login_hint}{again}"
    if error.code == "access_denied":
        fix = (
            f"run {retry} and approve the request; if you did approve it, {name} refused the"
            f" scopes asked for: choose others with --scopes (see: authsome inspect"
            f" {provider.name})"
        )
    elif error.code == "invalid_scope":
        fix = (
            f"ask for scopes {name} offers with {retry} --scopes LIST"
            f" (see: authsome inspect {provider.name} --refresh)"
        )
    elif error.code in ("invalid_client", "unauthorized_client", "unsupported_grant_type"):
        fix = (
            f"{name} does not accept this client for this flow: pass another with"
            f" --client-id, or use another --flow"
        )
    elif error.code in ("server_error", "temporarily_unavailable", "slow_down"):
        fix = f"try again in a moment: {retry}"
    else:
        fix = f"check the provider definition (authsome inspect {provider.name}), then run {retry}"
    return AuthFailed(f"{name} refused {what} ({error.text()})", fix)
