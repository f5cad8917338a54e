"""OAuth 2.0 Device Authorization Grant (RFC 8628): show a code, poll until approved."""

from __future__ import annotations

from authsome.errors import AuthFailed, NetworkError
from authsome.oauth.tokens import (
    OAuthError,
    TokenSet,
    basic_auth,
    client_auth,
    parse_token_response,
    refused,
)
from authsome.util.termtext import printable

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
MAX_BACKOFF = 60
TRANSIENT = ("invalid_response", "server_error", "temporarily_unavailable")


def run(provider, client_id, client_secret, scopes, login_hint, io) -> TokenSet:
    """Run the flow; `io` gives http, say, status (a live line), sleep and clock."""
    oauth = provider.oauth
    data = {**client_auth(client_id, client_secret, oauth.client_auth)}
    basic = basic_auth(client_id, client_secret, oauth.client_auth)
    if scopes:
        data["scope"] = oauth.scope_separator.join(scopes)
    status, body = io.http.post_form(oauth.device_authorization_url, data, auth=basic)
    if "error" in body or status >= 400 or "device_code" not in body:
        err = OAuthError(str(body.get("error", f"HTTP {status}")), body.get("error_description"))
        raise refused(provider, err, "to start a device login", login_hint, " --flow device_code")
    uri = printable(body.get("verification_uri") or body.get("verification_url"))  # Google: _url
    user_code = printable(body.get("user_code", ""))
    interval = _positive_int(body.get("interval"), DEFAULT_INTERVAL)
    expires_in = _positive_int(body.get("expires_in"), 900)
    deadline = io.clock() + expires_in

    io.say(f"Visit {uri} on any device with a browser\nand enter the user code: {user_code}\n")
    if not io.status("Waiting for authorization..."):  # on a terminal: the countdown line
        io.say("Waiting for authorization...")
    poll = {
        "grant_type": GRANT_TYPE,
        "device_code": body["device_code"],
        **client_auth(client_id, client_secret, oauth.client_auth),
    }
    backoff = 0  # extra seconds after transient failures; the code stays valid meanwhile
    while True:
        _wait(io, interval + backoff, deadline)
        if io.clock() >= deadline:
            break
        try:
            status, answer = io.http.post_form(oauth.token_url, poll, auth=basic)
        except NetworkError as e:
            backoff = _back_off(io, backoff, e.what)
            continue
        try:
            return parse_token_response(status, answer, io.clock(), scopes)
        except OAuthError as e:
            if status >= 500 or status == 429 or e.code in TRANSIENT:
                backoff = _back_off(io, backoff, f"HTTP {status}" if status >= 400 else e.code)
                continue
            backoff = 0
            if e.code == "authorization_pending":
                continue
            if e.code == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if e.code == "expired_token":
                break
            raise refused(
                provider, e, "the authorization", login_hint, " --flow device_code"
            ) from None
    raise AuthFailed(
        f"the device code for {provider.display_name} expired before it was approved",
        f"run: authsome login {login_hint} --flow device_code again",
    )


def _back_off(io, backoff: int, why: str) -> int:
    """The next extra wait after a transient failure: doubling, at most a minute."""
    io.status(None)
    io.say(f"authsome: the token server did not answer properly ({why}); trying again.")
    return min(max(2 * backoff, DEFAULT_INTERVAL), MAX_BACKOFF)


def _wait(io, interval: int, deadline: float) -> None:
    """Sleep `interval` seconds in one-second steps, showing the time left on a terminal."""
    end = min(io.clock() + interval, deadline)
    while True:
        left = end - io.clock()
        if left <= 0:
            break
        io.status(f"Waiting for authorization... {_mmss(deadline - io.clock())} left")
        io.sleep(min(1.0, left))
    io.status(None)


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _positive_int(value, default: int) -> int:
    try:
        number = int(value)
        return number if number > 0 else default
    except (TypeError, ValueError):
        return default
