"""node-oidc-provider, a standard OpenID Connect server, run from tests/oidc/ for the tests.

`OIDCServer` starts `node server.js` on 127.0.0.1 at a free port. `Person` plays the user at a
browser: it follows redirects and fills in the server's own login, consent and device-code
pages with httpx, as someone clicking through them would.
"""

from __future__ import annotations

import html
import json
import os
import queue
import re
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

HERE = Path(__file__).parent / "oidc"


def missing() -> str | None:
    """Why the server cannot run here (no node, or `npm ci` not run); None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return f"oidc-provider is not installed: run `npm ci` in {HERE}"
    return None


class OIDCServer:
    """`mcp_resource`: the authorization server of that MCP server (server.js says how)."""

    def __init__(self, access_token_ttl: int = 3600, mcp_resource: str | None = None):
        env = {**os.environ, "OIDC_ACCESS_TOKEN_TTL": str(access_token_ttl)}
        if mcp_resource:
            env["OIDC_MCP_RESOURCE"] = mcp_resource
        self.proc = subprocess.Popen(
            ["node", "server.js"],
            cwd=HERE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"node server.js did not start: {self.proc.stderr.read()}")
        self.issuer = json.loads(line)["issuer"]
        self.events: list[dict] = []  # what the server printed since: grants, refusals
        threading.Thread(target=self._read_events, daemon=True).start()

    def _read_events(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def grants(self, grant_type: str = "refresh_token", client: str | None = None) -> int:
        """How many `grant_type` grants the server has made (to `client`, or any)."""
        return sum(
            e["event"] == "grant"
            and e["grant_type"] == grant_type
            and client in (None, e.get("client"))
            for e in self.events
        )

    def revoked(self) -> int:
        """How many grants the server has revoked (a spent refresh token came back)."""
        return sum(e["event"] == "grant.revoked" for e in self.events)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ATTR = re.compile(r'([\w.-]+)\s*=\s*"([^"]*)"')
_INPUT = re.compile(r"<input\b([^>]*)>", re.S | re.I)


class Person:
    """Someone at a browser who signs in as `login` and approves what is asked."""

    def __init__(self, issuer: str, login: str = "alice", approve: bool = True):
        self.issuer = issuer
        self.login = login
        self.approve = approve
        self.client = httpx.Client(follow_redirects=False, timeout=15)
        self.pages: list[str] = []  # the URLs visited, in order

    def authorize(self, url: str) -> httpx.Response:
        """Open an authorization URL and go through to the redirect back to the app."""
        return self._browse("GET", url)

    def enter_code(self, verification_uri: str, user_code: str) -> httpx.Response:
        """Open the device page, type the user code, sign in, approve."""
        self._user_code = user_code
        return self._browse("GET", verification_uri)

    def _browse(self, method: str, url: str, data=None) -> httpx.Response:
        for _ in range(20):
            self.pages.append(url)
            answer = self.client.request(method, url, data=data)
            if answer.is_redirect:
                method, data = "GET", None
                url = urljoin(url, answer.headers["location"])
                if not url.startswith(self.issuer):
                    # Back to the app (the loopback redirect): the browser's last stop.
                    self.pages.append(url)
                    return httpx.get(url, timeout=15)
                continue
            form = self._form(answer.text)
            if answer.status_code != 200 or form is None or data and "abort" in data:
                return answer
            method, action, data = form
            url = urljoin(url, action)
        raise AssertionError(f"too many pages: {self.pages}")

    def _form(self, page: str):
        """The form a person would submit on `page`, filled in; None on a page without one."""
        for attrs, body in _FORM.findall(page):
            form = dict(_ATTR.findall(attrs))
            fields = {}
            for field in _INPUT.findall(body):
                a = dict(_ATTR.findall(field))
                if "name" in a:
                    fields[a["name"]] = html.unescape(a.get("value", ""))
            if fields.get("prompt") == "login":
                fields.update(login=self.login, password="any")
            elif "user_code" in fields and form.get("id") == "op.deviceInputForm":
                fields["user_code"] = self._user_code
            elif form.get("id") == "op.deviceConfirmForm" and not self.approve:
                fields["abort"] = "yes"
            elif fields.get("prompt") == "consent" and not self.approve:
                return "GET", _abort_url(page), None  # the page's [ Cancel ] link
            elif not fields:
                continue
            return "POST", html.unescape(form.get("action", "")), fields
        return None


def _abort_url(page: str) -> str:
    found = re.search(r'href="([^"]*/abort)"', page)
    assert found, "no abort link on the consent page"
    return html.unescape(found.group(1))


class Lines:
    """The lines of a child's stream, read by a thread, so that tests can wait for one."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        """The match of the first line (from here on) that matches `pattern`."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line matching {pattern!r} in {self.text()!r}")
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def rest(self, timeout: float = 60) -> str:
        """Everything, once the stream has ended."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self._queue.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return self.text()

    def text(self) -> str:
        return "".join(self.lines)


def host_of(url: str) -> str:
    return urlsplit(url).netloc
