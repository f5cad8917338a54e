"""Authorization code with PKCE (RFC 7636) and a loopback redirect (RFC 8252).

The loopback server answers a callback without this login's `state` with 400 and keeps
waiting: any local process or web page can send one, and it must not end the login. Each
connection is handled in its own thread with a socket timeout, so an idle one (a browser's
preconnect, or a deliberate stall) cannot hold up the real redirect.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from authsome.errors import AuthFailed, UsageError
from authsome.oauth.tokens import (
    OAuthError,
    TokenSet,
    basic_auth,
    client_auth,
    parse_token_response,
    refused,
    resource_param,
)

TIMEOUT_SECONDS = 300
CONNECTION_TIMEOUT = 10  # seconds a connection may sit idle before it is dropped
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
    timeout = CONNECTION_TIMEOUT  # the socket timeout of each connection
    server: _Server

    def do_GET(self):  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not hmac.compare_digest(params.get("state", "").encode(), self.server.state.encode()):
            # Not this login's redirect (a forgery, or a stale tab): refuse it, keep waiting.
            self._page(400, "Not this login", "This page does not belong to the login.")
            return
        with self.server.lock:
            first = not self.server.done.is_set()
            if first:
                self.server.result = params
                self.server.done.set()
        ok = first and "code" in params and "error" not in params
        self._page(
            200,
            "Logged in" if ok else "Login failed",
            "authsome has your authorization. You can close this tab."
            if ok
            else "authsome did not get an authorization. You can close this tab.",
        )

    def _page(self, status: int, title: str, text: str) -> None:
        body = DONE_PAGE.format(title=title, text=text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - never log the code to stderr
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state: str):
        super().__init__(address, _Callback)
        self.state = state
        self.result: dict | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request, client_address) -> None:
        # A broken or timed-out connection must not print a traceback into the terminal.
        return


def _listen(port: int, state: str):
    try:
        return _Server(("127.0.0.1", port), state)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        raise UsageError(
            f"port {port} on 127.0.0.1 is in use, so the login cannot receive its redirect",
            "stop what is using it, or pass another with --port (if the provider allows)",
        ) from None


def run(
    provider, client_id, client_secret, scopes, login_hint, io, port=None, open_browser=True
) -> TokenSet:
    oauth = provider.oauth
    state = secrets.token_urlsafe(32)
    server = _listen(port or oauth.redirect_port or 0, state)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = make_verifier()
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
    if "error" in params:
        err = OAuthError(params["error"], params.get("error_description"))
        raise refused(provider, err, "the authorization", login_hint)
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
        raise refused(provider, e, "the authorization code", login_hint) from None


def _wait(done: threading.Event, io) -> bool:
    # Wait in short steps so that Ctrl-C is handled promptly.
    end = io.clock() + TIMEOUT_SECONDS
    while io.clock() < end:
        if done.wait(0.2):
            return True
    return done.is_set()
