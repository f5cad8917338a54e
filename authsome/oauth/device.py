"""OAuth 2.0 Device Authorization Grant (RFC 8628): show a code, poll until approved."""

from __future__ import annotations

from authsome.errors import AuthFailed, NetworkError
from authsome.oauth import DEVICE_GRANT, client
from authsome.oauth.tokens import (
    OAuthError,
    TokenSet,
    client_credentials,
    parse_token_response,
    refused,
    resource_param,
)
from authsome.util.termtext import printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

DEFAULT_INTERVAL = 5
# The shortest pause between polls whatever the server says: one that asks for less (or for
# none) must not turn the wait into a busy loop against its token endpoint, or another's.
MIN_INTERVAL = 0.1
SLOW_DOWN_STEP = 5
MAX_BACKOFF = 60
TRANSIENT = ("invalid_response", "server_error", "temporarily_unavailable")
AGAIN = " --flow device_code"  # the fix names the flow: it may not be the provider's default


def obtain(ctx: Context, request):
    """The device_code flow: settle the client, show a code, poll, keep the tokens."""
    request = client.settle(ctx, request)
    return client.connection(request, run(ctx, request))


def run(ctx: Context, request) -> TokenSet:
    """Start the grant, show its code, poll until approved; `ctx` gives http, say, status, sleep."""
    provider, oauth = request.provider, request.provider.oauth
    form, auth = client_credentials(request.client_id, request.client_secret, oauth.client_auth)
    started = _start(ctx, request, form, auth)
    uri = printable(started.get("verification_uri") or started.get("verification_url"))  # Google
    user_code = printable(started.get("user_code", ""))
    ctx.io.say(f"Visit {uri} on any device with a browser\nand enter the user code: {user_code}\n")
    complete = started.get("verification_uri_complete")
    if isinstance(complete, str) and complete.startswith("https://"):
        # RFC 8628 3.3.1: the code is in the URL, so nothing needs typing (a QR code's job).
        ctx.io.say(f"or open, with the code already in it:\n\n  {printable(complete)}\n")
    if not ctx.io.status("Waiting for authorization..."):  # on a terminal: the countdown line
        ctx.io.say("Waiting for authorization...")
    poll = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], **form}
    poll.update(resource_param(oauth))
    tokens = _poll(ctx, request, poll, auth, started)
    if tokens is None:
        raise AuthFailed(
            f"the device code for {provider.display_name} expired before it was approved",
            f"run: authsome login {request.hint}{AGAIN} again",
        )
    return tokens


def _start(ctx: Context, request, form: dict, auth) -> dict:
    """The device authorization answer (RFC 8628 section 3.2), or the refusal as AuthFailed."""
    oauth = request.provider.oauth
    data = {**form, **resource_param(oauth)}  # RFC 8707: as refresh sends it, or refresh fails
    if request.scopes:
        data["scope"] = oauth.scope_separator.join(request.scopes)
    status, body = ctx.http.post_form(oauth.device_authorization_url, data, auth=auth)
    if "error" in body or status >= 400 or "device_code" not in body:
        err = OAuthError(str(body.get("error", f"HTTP {status}")), body.get("error_description"))
        raise refused(request.provider, err, "to start a device login", request.hint, AGAIN)
    return body


def _poll(ctx: Context, request, poll: dict, auth, started: dict) -> TokenSet | None:
    """Poll the token endpoint at the server's pace; None when the code expires first."""
    interval = max(_seconds(started.get("interval"), DEFAULT_INTERVAL), MIN_INTERVAL)
    deadline = ctx.clock() + _seconds(started.get("expires_in"), 900)
    backoff = 0  # extra seconds after transient failures; the code stays valid meanwhile
    while True:
        _wait(ctx, interval + backoff, deadline)
        if ctx.clock() >= deadline:
            return None
        try:
            status, answer = ctx.http.post_form(request.provider.oauth.token_url, poll, auth=auth)
        except NetworkError as e:
            backoff = _back_off(ctx, backoff, e.what)
            continue
        try:
            return parse_token_response(status, answer, ctx.clock(), request.scopes)
        except OAuthError as e:
            if status >= 500 or status == 429 or e.code in TRANSIENT:
                backoff = _back_off(ctx, backoff, f"HTTP {status}" if status >= 400 else e.code)
                continue
            backoff = 0
            if e.code == "authorization_pending":
                continue
            if e.code == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if e.code == "expired_token":
                return None
            raise refused(request.provider, e, "the authorization", request.hint, AGAIN) from None


def _back_off(ctx: Context, backoff: int, why: str) -> int:
    """The next extra wait after a transient failure: doubling, at most a minute."""
    ctx.io.status(None)
    ctx.io.say(f"authsome: the token server did not answer properly ({why}); trying again.")
    return min(max(2 * backoff, DEFAULT_INTERVAL), MAX_BACKOFF)


def _wait(ctx: Context, interval: float, deadline: float) -> None:
    """Sleep `interval` seconds in one-second steps, showing the time left on a terminal."""
    end = min(ctx.clock() + interval, deadline)
    while True:
        left = end - ctx.clock()
        if left <= 0:
            break
        ctx.io.status(f"Waiting for authorization... {_mmss(deadline - ctx.clock())} left")
        ctx.sleep(min(1.0, left))
    ctx.io.status(None)


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _seconds(value, default: float) -> float:
    """A time the server gave, in seconds: a positive finite JSON number (or its text).

    Not only whole ones: a server that asks for polls half a second apart gets them."""
    if isinstance(value, bool):  # JSON true is no number of seconds
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past float's range
        return default
    return number if 0 < number < float("inf") else default  # NaN fails both comparisons
