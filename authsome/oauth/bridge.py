"""The browser bridge: a secret typed into a one-time local web page, not the terminal.

Served on 127.0.0.1 at an ephemeral port under a random one-time path. Requests whose Host is
not that address (DNS rebinding) are refused, and so are POSTs without the page's CSRF token
or from a foreign Origin. The page validates the key pattern, and the server checks it again.

The URL is in the browser's argv, which every local user can read, so on Linux connections from
another uid are closed unread (loopback.Server), and a second GET of the page ends the login:
someone else may have the form.
"""

from __future__ import annotations

import hmac
import html
import re
import secrets
from urllib.parse import parse_qs

from authsome.errors import AuthFailed, Cancelled
from authsome.oauth import loopback

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

ENV_BRIDGE = "AUTHSOME_BRIDGE"
ENV_TIMEOUT = "AUTHSOME_BRIDGE_TIMEOUT"
TIMEOUT_SECONDS = 300
MAX_BODY = 64 * 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authsome: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}}
h1{{font-size:1.3em}} input[type=password]{{width:100%;padding:.5em;font-size:1em}}
.error{{color:#b00020}} button{{padding:.5em 1.2em;margin:1em .5em 0 0;font-size:1em}}
</style></head><body>
<h1>{title}</h1>
{body}
</body></html>"""

FORM = """<p>Enter your {label} for authsome. It goes straight to authsome on this computer and is
stored encrypted; it never passes through your terminal or shell history.</p>
{docs}
<p id="error" class="error" role="alert">{error}</p>
<form method="post" action="/{token}/submit" id="form" data-pattern="{pattern}"
 data-problem="That does not look like a valid {label}.">
<input type="hidden" name="csrf" value="{csrf}">
<label for="secret">{label}</label>
<input type="password" id="secret" name="secret" autocomplete="off" autofocus required>
<button type="submit" id="submit">Submit</button>
<button type="submit" id="cancel" formaction="/{token}/cancel" formnovalidate>Cancel</button>
</form>
<script nonce="{nonce}">
// The key pattern, checked here before anything is sent (and again by authsome). Not the HTML
// pattern attribute: browsers compile that with the v flag, which rejects common patterns.
document.getElementById("form").addEventListener("submit", function (event) {{
  if (event.submitter && event.submitter.id === "cancel") return;
  var pattern = this.dataset.pattern;
  var value = document.getElementById("secret").value.trim();
  if (pattern && !new RegExp(pattern).test(value)) {{
    event.preventDefault();
    document.getElementById("error").textContent = this.dataset.problem;
  }}
}});
</script>"""


def enabled(environ: dict[str, str], no_browser: bool) -> bool:
    """Use the bridge: a display and a graphical browser, and not turned off."""
    from authsome.ui.browser import display_available, graphical_browser

    if no_browser or environ.get(ENV_BRIDGE, "1") == "0":
        return False
    return display_available(environ) and graphical_browser(environ)


class _State(loopback.Outcome):
    """The one-time page's tokens and how the login ended (the secret, or cancelled)."""

    def __init__(self, token: str, csrf: str, pattern: str | None):
        super().__init__()
        self.token = token
        self.csrf = csrf
        self.pattern = pattern
        self.cancelled = False

    def cancel(self) -> bool:
        """End the login as cancelled unless it already ended; True when this call ended it."""
        with self.lock:
            if self.done.is_set():
                return False
            self.cancelled = True
            self.done.set()
            return True


class _Handler(loopback.Handler):
    server: _Server

    def _send(self, status: int, title: str, body: str, nonce: str = "none") -> None:
        csp = (
            f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
            "form-action 'self'"
        )
        headers = (
            # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on POST.
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", csp),
        )
        self.send_html(status, PAGE.format(title=html.escape(title), body=body), headers)

    def _host_ok(self) -> bool:
        # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
        return self.headers.get("Host") == self.server.authority

    def _refuse(self, status: int = 403) -> None:
        self._send(status, "Refused", "<p>This request is not allowed.</p>")

    def do_GET(self):  # noqa: N802
        st = self.server.state
        if not self._host_ok():
            return self._refuse()
        if self.path != f"/{st.token}" or st.done.is_set():
            return self._refuse(404)
        if not st.serve_page():  # the one-time URL was used already: the login is over
            return self._refuse(410)
        nonce = secrets.token_urlsafe(16)
        self._send(200, self.server.title, self.server.form(nonce=nonce), nonce)

    def do_POST(self):  # noqa: N802
        st = self.server.state
        origin = self.headers.get("Origin")
        if not self._host_ok() or (
            origin is not None and origin != f"http://{self.server.authority}"
        ):
            return self._refuse()
        action = {f"/{st.token}/submit": "submit", f"/{st.token}/cancel": "cancel"}.get(self.path)
        length = _content_length(self.headers.get("Content-Length"))
        if length is None:
            return self._refuse(400)
        if action is None or st.done.is_set() or length > MAX_BODY:
            return self._refuse(404)
        body = self.rfile.read(length).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if not hmac.compare_digest(form.get("csrf", ""), st.csrf):
            return self._refuse()
        if action == "cancel":
            return self._cancel()
        return self._submit(form.get("secret", "").strip())

    def _cancel(self) -> None:
        if not self.server.state.cancel():
            return self._refuse(404)
        self._send(200, "Cancelled", "<p>Nothing was stored. You can close this tab.</p>")

    def _submit(self, secret: str) -> None:
        st = self.server.state
        problem = None
        if not secret:
            problem = "The key is empty."
        elif st.pattern and not re.search(st.pattern, secret):
            problem = f"That does not look like a valid {html.escape(self.server.label)}."
        if problem:
            nonce = secrets.token_urlsafe(16)
            return self._send(400, self.server.title, self.server.form(problem, nonce), nonce)
        if not st.finish(secret):
            return self._refuse(404)
        self._send(200, "Done", "<p>authsome has your key. You can close this tab.</p>")


class _Server(loopback.Server):
    def __init__(self, state: _State, title: str, label: str, docs_url: str | None):
        super().__init__(_Handler)
        self.outcome = self.state = state
        self.title = title
        self.label = label
        self.docs_url = docs_url

    def form(self, error: str = "", nonce: str = "none") -> str:
        st = self.state
        docs = (
            f'<p>Get one at <a href="{html.escape(self.docs_url)}" target="_blank" '
            f'rel="noopener noreferrer">{html.escape(self.docs_url)}</a>.</p>'
            if self.docs_url
            else ""
        )
        return FORM.format(
            label=html.escape(self.label),
            docs=docs,
            error=error,
            token=st.token,
            csrf=st.csrf,
            pattern=html.escape(st.pattern or ""),
            nonce=nonce,
        )


def collect(
    ctx: Context,
    display_name: str,
    what: str,
    docs_url: str | None,
    pattern: str | None,
    login_hint: str,
) -> str:
    """Open the page, wait for the secret (or Cancel, Ctrl-C, the timeout), return it."""
    state = _State(secrets.token_urlsafe(32), secrets.token_urlsafe(32), pattern)
    label = f"{display_name} {what}"
    server = _Server(state, f"{label} for authsome", label, docs_url)
    url = f"http://{server.authority}/{state.token}"
    timeout = _timeout(ctx.environ)
    with loopback.serving(server):
        opened = ctx.io.open_browser(url)
        verb = "Opened a browser" if opened else "Open this page in your browser"
        ctx.io.say(f"{verb} to enter your {label} (waiting; Ctrl-C to cancel)…\n  {url}")
        if not loopback.wait(state.done, ctx.clock, timeout):
            raise AuthFailed(
                f"no {label} was entered within {_duration(timeout)}",
                f"run: authsome login {login_hint} again, or use --no-browser",
            )
    if state.page_reused:
        raise AuthFailed(
            f"the one-time page for the {label} was opened twice (a reload, or someone else);"
            " nothing was stored",
            f"run: authsome login {login_hint} again",
        )
    if state.cancelled:
        raise Cancelled(f"entering the {label} was cancelled in the browser", "nothing was stored")
    secret = state.value or ""
    if len(secret) >= 12:  # enough for the person to recognise their key, and no more
        ctx.io.say(f"Received a key ending in …{secret[-4:]}.")
    return secret


def _content_length(value: str | None) -> int | None:
    """The body length, 0 when absent; None when it is not a plain non-negative number."""
    if value is None or value == "":
        return 0
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        return f"{seconds // 60} minute" + ("s" if seconds != 60 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


def _timeout(environ: dict[str, str]) -> int:
    try:
        return max(1, int(environ.get(ENV_TIMEOUT, TIMEOUT_SECONDS)))
    except ValueError:
        return TIMEOUT_SECONDS
