"""Authorization code with PKCE (RFC 7636) and a loopback redirect (RFC 8252)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from authsome.errors import AuthFailed
from authsome.flows.tokens import (
    OAuthError,
    TokenSet,
    basic_auth,
    client_auth,
    parse_token_response,
    resource_param,
)

TIMEOUT_SECONDS = 300
DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>authsome</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
)


def make_verifier() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        ok = "code" in params and "error" not in params
        title = "Logged in" if ok else "Login failed"
        text = (
            "authsome has your authorization. You can close this tab."
            if ok
            else "authsome did not get an authorization. You can close this tab."
        )
        body = DONE_PAGE.format(title=title, text=text).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.server.result = params  # type: ignore[attr-defined]
        self.server.done.set()  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - never log the code to stderr
        return


def run(
    provider, client_id, client_secret, scopes, login_hint, io, port=None, open_browser=True
) -> TokenSet:
    oauth = provider.oauth
    server = HTTPServer(("127.0.0.1", port or oauth.redirect_port or 0), _Callback)
    server.result = None
    server.done = threading.Event()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = make_verifier()
    state = secrets.token_urlsafe(32)
    query = {
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **({"client_id": client_id} if client_id else {}),
        **({"scope": oauth.scope_separator.join(scopes)} if scopes else {}),
        **resource_param(oauth),
        **dict(oauth.authorization_params),
    }
    sep = "&" if "?" in oauth.authorization_url else "?"
    url = f"{oauth.authorization_url}{sep}{urlencode(query)}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        io.say(f"Open this URL in a browser to log in to {provider.display_name}:\n\n  {url}\n")
        if open_browser and io.open_browser(url):
            io.say("Opened your browser. Waiting for the redirect (Ctrl-C to cancel)...")
        else:
            io.say("Waiting for the redirect (Ctrl-C to cancel)...")
        if not _wait(server.done, io):
            raise AuthFailed(
                f"no answer from {provider.display_name} within {TIMEOUT_SECONDS // 60} minutes",
                f"run: authsome login {login_hint} again",
            )
    finally:
        server.shutdown()
        server.server_close()
    params = server.result or {}
    if params.get("state") != state:
        raise AuthFailed(
            "the redirect's state does not match this login (possible CSRF)",
            f"run: authsome login {login_hint} again",
        )
    if "error" in params:
        err = OAuthError(params["error"], params.get("error_description"))
        raise AuthFailed(
            f"{provider.display_name} refused the authorization ({err.text()})",
            f"run: authsome login {login_hint} again",
        )
    if oauth.issuer and "iss" in params and params["iss"].rstrip("/") != oauth.issuer.rstrip("/"):
        raise AuthFailed(
            f"the redirect came from issuer {params['iss']!r}, not {oauth.issuer!r}",
            "check the provider definition; do not reuse this login",
        )
    data = {
        "grant_type": "authorization_code",
        "code": params.get("code", ""),
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        **client_auth(client_id, client_secret, oauth.client_auth),
        **resource_param(oauth),
    }
    status, body = io.http.post_form(
        oauth.token_url, data, auth=basic_auth(client_id, client_secret, oauth.client_auth)
    )
    try:
        return parse_token_response(status, body, io.clock(), scopes)
    except OAuthError as e:
        raise AuthFailed(
            f"{provider.display_name} refused the authorization code ({e.text()})",
            f"run: authsome login {login_hint} again",
        ) from None


def _wait(done: threading.Event, io) -> bool:
    # Wait in short steps so that Ctrl-C is handled promptly.
    end = io.clock() + TIMEOUT_SECONDS
    while io.clock() < end:
        if done.wait(0.2):
            return True
    return done.is_set()
