"""Authorization code with PKCE (RFC 7636) and a loopback redirect (RFC 8252).

The loopback server answers a callback without this login's `state` with 400 and keeps
waiting: any local process or web page can send one, and it must not end the login. Each
connection has a socket timeout, so an idle one cannot hold up the real redirect. On Linux a
connection from another uid is closed unread (loopback.Server): otherwise a local user who
learnt the state could deliver a code for its own account first.

The browser is opened on a one-use loopback URL that redirects to the authorization URL, so
neither the state nor the challenge is in the browser's argv, which every local user can read.
A second request for that URL ends the login: someone else may hold the state.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from authsome.errors import AuthFailed, UsageError
from authsome.oauth import client, loopback
from authsome.oauth.tokens import (
    OAuthError,
    TokenSet,
    client_credentials,
    parse_token_response,
    refused,
    resource_param,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

TIMEOUT_SECONDS = 300
CONNECTION_TIMEOUT = 10  # seconds a connection may sit idle before it is dropped
DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>authsome</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
)


def obtain(ctx: Context, request):
    """The pkce and dcr_pkce flows: settle the client, log in in the browser, keep the tokens."""
    _check_s256(request.provider)
    request = client.settle(ctx, request)
    return client.connection(request, run(ctx, request))


def _check_s256(provider) -> None:
    """An MCP server's authorization server must list S256 in its metadata, or the MCP
    authorization spec (2025-11-25) forbids the login: it may not do PKCE at all."""
    methods = provider.oauth.code_challenge_methods
    if provider.oauth.resource and methods is not None and "S256" not in methods:
        raise AuthFailed(
            f"the authorization server of {provider.display_name} does not list S256 in its"
            " code_challenge_methods_supported",
            "authsome will not log in there without PKCE; ask the server's operator to fix it",
        )


def make_verifier() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class _Callback(loopback.Handler):
    timeout = CONNECTION_TIMEOUT  # the socket timeout of each connection
    server: _Server

    def do_GET(self):  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        if parts.path == self.server.start_path:
            return self._start()
        if parts.path != "/callback":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not hmac.compare_digest(params.get("state", "").encode(), self.server.state.encode()):
            # Not this login's redirect (a forgery, or a stale tab): refuse it, keep waiting.
            self._page(400, "Not this login", "This page does not belong to the login.")
            return
        first = self.server.outcome.finish(params)
        ok = first and "code" in params and "error" not in params
        self._page(
            200,
            "Logged in" if ok else "Login failed",
            "authsome has your authorization. You can close this tab."
            if ok
            else "authsome did not get an authorization. You can close this tab.",
        )

    def _start(self) -> None:
        url = self.server.take_start()
        if url is None:
            self._page(410, "Link used", "This login link was used already. Nothing was stored.")
            return
        self.send_response(302)
        self.send_header("Location", url)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()

    def _page(self, status: int, title: str, text: str) -> None:
        self.send_html(status, DONE_PAGE.format(title=title, text=text))


class _Server(loopback.Server):
    def __init__(self, port: int, state: str):
        super().__init__(_Callback, port)
        self.state = state
        self.start_path = f"/start/{secrets.token_urlsafe(32)}"
        self.authorization_url = ""

    @property
    def start_url(self) -> str:
        return f"http://{self.authority}{self.start_path}"

    def take_start(self) -> str | None:
        """The authorization URL the first time; after that the login is over (fail closed)."""
        return self.authorization_url if self.outcome.serve_page() else None


def _listen(port: int, state: str) -> _Server:
    try:
        return _Server(port, state)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        raise UsageError(
            f"port {port} on 127.0.0.1 is in use, so the login cannot receive its redirect",
            "stop what is using it, or pass another with --port (if the provider allows)",
        ) from None


def run(ctx: Context, request) -> TokenSet:
    """Send the person to the authorization URL, take the redirect, exchange its code."""
    provider = request.provider
    state = secrets.token_urlsafe(32)
    server = _listen(request.port or provider.oauth.redirect_port or 0, state)
    redirect_uri = f"http://{server.authority}/callback"
    verifier, challenge = make_verifier()
    url = _authorization_url(request, redirect_uri, state, challenge)
    server.authorization_url = url
    with loopback.serving(server):
        # The terminal shows the URL itself (only this user reads it); the browser's argv,
        # which anyone can read, gets the one-use start URL.
        ctx.io.say(f"Open this URL in a browser to log in to {provider.display_name}:\n\n  {url}\n")
        if request.open_browser and ctx.io.open_browser(server.start_url):
            ctx.io.say("Opened your browser. Waiting for the redirect (Ctrl-C to cancel)...")
        else:
            ctx.io.say("Waiting for the redirect (Ctrl-C to cancel)...")
        if not loopback.wait(server.outcome.done, ctx.clock, TIMEOUT_SECONDS):
            raise AuthFailed(
                f"no answer from {provider.display_name} within {TIMEOUT_SECONDS // 60} minutes",
                f"run: authsome login {request.hint} again",
            )
    if server.outcome.page_reused:
        raise AuthFailed(
            "the one-time login link was opened twice (a reload, or someone else);"
            " nothing was stored",
            f"run: authsome login {request.hint} again",
        )
    params = server.outcome.value or {}
    _check_redirect(request, params)
    return _exchange(ctx, request, params.get("code", ""), redirect_uri, verifier)


def _authorization_url(request, redirect_uri: str, state: str, challenge: str) -> str:
    oauth = request.provider.oauth
    query = {
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **({"client_id": request.client_id} if request.client_id else {}),
        **({"scope": oauth.scope_separator.join(request.scopes)} if request.scopes else {}),
        **resource_param(oauth),
        **dict(oauth.authorization_params),
    }
    sep = "&" if "?" in oauth.authorization_url else "?"
    return f"{oauth.authorization_url}{sep}{urlencode(query)}"


def _check_redirect(request, params: dict) -> None:
    """Raise unless the redirect carries a code from the expected issuer (RFC 9207)."""
    provider = request.provider
    oauth = provider.oauth
    if "error" in params:
        err = OAuthError(params["error"], params.get("error_description"))
        raise refused(provider, err, "the authorization", request.hint)
    if oauth.iss_parameter_supported and "iss" not in params:
        raise AuthFailed(
            f"the redirect has no issuer (iss), which {provider.display_name}'s metadata"
            " promises (RFC 9207)",
            "check the provider definition; do not reuse this login",
        )
    if oauth.issuer and "iss" in params and params["iss"].rstrip("/") != oauth.issuer.rstrip("/"):
        raise AuthFailed(
            f"the redirect came from issuer {params['iss']!r}, not {oauth.issuer!r}",
            "check the provider definition; do not reuse this login",
        )


def _exchange(ctx: Context, request, code: str, redirect_uri: str, verifier: str) -> TokenSet:
    oauth = request.provider.oauth
    form, auth = client_credentials(request.client_id, request.client_secret, oauth.client_auth)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        **form,
        **resource_param(oauth),
    }
    status, body = ctx.http.post_form(oauth.token_url, data, auth=auth)
    try:
        return parse_token_response(status, body, ctx.clock(), request.scopes)
    except OAuthError as e:
        raise refused(request.provider, e, "the authorization code", request.hint) from None
