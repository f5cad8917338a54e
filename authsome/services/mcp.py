"""`authsome mcp NAME`: a stdio MCP server that relays to a remote one over Streamable HTTP.

The bridge passes JSON-RPC through and knows only the transport (MCP 2025-11-25, "Streamable
HTTP"): each line the client writes is POSTed to the server; the answer, JSON or an SSE stream,
goes back to stdout message by message. Every request carries a fresh token from the same
refresh path as `authsome token`, so all bridges, shells and agents share one refresh. stdout
is the client's JSON-RPC channel: every other word goes to stderr, and nothing ever prompts.
"""

from __future__ import annotations

import json
import threading

from authsome.errors import AuthsomeError, ConfigError, NotLoggedIn, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from authsome.factory import Context

ACCEPT = "application/json, text/event-stream"
# JSON-RPC error codes of the bridge's own answers (the implementation-defined range).
NO_LOGIN = -32001
UPSTREAM = -32002
QUIET_DEADLINES = 10  # HTTP deadlines an answer stream may go without a message


def server_url(ctx: Context, name: str) -> str:
    """The MCP server of provider `name`: its RFC 8707 resource, https or loopback http."""
    from authsome.providers.urls import url_allowed

    provider = ctx.registry.get(name)
    url = provider.oauth.resource if provider.oauth is not None else None
    if not url:
        raise ConfigError(
            f"{name} names no MCP server (oauth.resource)",
            f"register a provider with oauth.resource set; see: authsome inspect {name}",
        )
    if not url_allowed(url):
        raise UsageError(f"the MCP server of {name} is not https", "fix its oauth.resource")
    return url


class Bridge:
    """One client's session: its stdout, the server's session id and protocol version."""

    def __init__(self, ctx: Context, name: str, url: str, out, err, client):
        self.ctx, self.name, self.url = ctx, name, url
        self.out, self.err, self.http = out, err, client
        self.session: str | None = None
        self.version: str | None = None
        self.write_lock = threading.Lock()
        self.token_lock = threading.Lock()  # one refresh at a time in this process too
        self.told: set[str] = set()  # the stderr lines already said, said once
        self.deadline = client.timeout  # the HTTP deadline: connect, headers, a JSON answer
        # An answer stream may bring no message for this long: a slow tool call can be silent
        # for minutes, while a broken or hostile stream (keep-alives only) never ends.
        self.quiet = QUIET_DEADLINES * self.deadline
        # services/mcp_http.py's Streamable, or mcp_sse.py's Legacy once it falls back; set
        # by serve() before the first message, which the checker cannot follow (hence Any)
        self.transport: Any = None

    def emit(self, message) -> None:
        """One JSON-RPC message on stdout, whole, as one line."""
        line = message if isinstance(message, str) else json.dumps(message)
        with self.write_lock:
            self.out.write(line.replace("\n", " ") + "\n")
            self.out.flush()

    def say(self, line: str) -> None:
        if line not in self.told:
            self.told.add(line)
            self.err.write(line + "\n")
            self.err.flush()

    def fail(self, message: dict, text: str) -> None:
        """Answer a request with a JSON-RPC error (a notification gets none) and say why."""
        self.say(f"authsome: {text}")
        if "id" in message and "method" in message:
            code = NO_LOGIN if text.endswith(self.login_fix()) else UPSTREAM
            error = {"code": code, "message": text}
            self.emit({"jsonrpc": "2.0", "id": message["id"], "error": error})

    def token(self, rejected: str | None = None) -> str:
        """A fresh token; with `rejected` (refused by the server), a refreshed one."""
        from authsome.services import mcpaudit
        from authsome.services.refresh import credential, fresh, refreshed

        with self.token_lock:
            conn = fresh(self.ctx, self.name)
            if rejected is not None and credential(conn) == rejected:
                if "refresh_token" not in conn.secrets:
                    raise NotLoggedIn(f"{self.name} refused its token", self.login_fix())
                conn = refreshed(self.ctx, conn, self.name, rejected)
            mcpaudit.handed(self, conn, rejected is not None)
            return credential(conn)

    def login_fix(self) -> str:
        from authsome.services.mcplogin import login_fix

        return login_fix(self.ctx, self.name)

    def headers(self, token: str, extra: dict) -> dict:
        from authsome.util.http import USER_AGENT

        headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
        headers["Content-Type"] = "application/json"
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        if self.version:
            headers["MCP-Protocol-Version"] = self.version
        headers.update(extra)
        return headers

    def exchange(self, method: str, body: bytes | None = None, target=None, **extra):
        """One request with a fresh token; on a 401 with invalid_token, refreshed and sent once
        more. Only ever to the server's own origin: the pool holds no other."""
        token = self.token()
        for attempt in (1, 2):
            answer = self.http.exchange(method, self.headers(token, extra), body, target)
            if answer.status_code == 401 and attempt == 1 and _invalid_token(answer):
                answer.close()
                token = self.token(rejected=token)
                continue
            if answer.headers.get("mcp-session-id") and self.session is None:
                self.session = answer.headers["mcp-session-id"]
            return answer
        raise AssertionError("unreachable")

    def handle(self, line: str) -> None:
        """Relay one client message; every failure is an answer, never an exception."""
        try:
            message = json.loads(line)
        except ValueError:
            return self.say("authsome: the MCP client wrote a line that is not JSON; skipped")
        if not isinstance(message, dict):
            message = {}  # a batch (2025-03-26 only): relayed, answered as a whole
        from authsome.services.mcpaudit import opened

        opened(self, message)
        try:
            try:
                self.transport.send(line, message)
            except NotLoggedIn:
                from authsome.services.mcplogin import browser_login

                if not browser_login(self):  # on a desktop, the browser login
                    raise
                self.transport.send(line, message)
        except NotLoggedIn as e:
            self.fail(message, f"not logged in to {self.name}. {self.login_fix()}")
            del e
        except AuthsomeError as e:
            self.fail(message, str(e))
        except Exception as e:  # noqa: BLE001 - the network, a bad peer: the client hears why
            from authsome.util.httplines import describe

            self.fail(message, f"the MCP server {self.url} failed: {describe(e)}")

    def answer(self, text: str, skipped: bool = True):
        """Relay one message from the server, and return it parsed (None if it is not JSON,
        said `skipped` on stderr); an initialize result sets the protocol version."""
        try:
            message = json.loads(text)
        except ValueError:
            if skipped:
                self.say(f"authsome: {self.url} sent a message that is not JSON; skipped")
            return None
        result = message.get("result") if isinstance(message, dict) else None
        if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
            self.version = result["protocolVersion"]
        self.emit(text)
        return message


def _invalid_token(response) -> bool:
    """A 401 whose challenge says the token itself is bad (RFC 6750), or gives no reason."""
    challenge = response.headers.get("www-authenticate", "")
    return "invalid_token" in challenge or "error=" not in challenge


def serve(ctx: Context, name: str, stdin, stdout, stderr) -> None:
    """Relay `stdin`'s JSON-RPC lines to the MCP server of `name` until `stdin` ends."""
    from authsome.services.mcp_http import Streamable
    from authsome.settings import resolve_http_deadline
    from authsome.util.httplines import Pool

    # stdin is the client's channel, and a passphrase prompt on the terminal the client runs
    # in would take the person's keystrokes: a locked store answers with how to unlock it.
    ctx.io.asks = False
    from authsome.services.mcpsetup import bridged

    name = bridged(ctx, name)  # a URL: its provider, made on first use
    url = server_url(ctx, name)
    pool = Pool(url, timeout=float(resolve_http_deadline(ctx.environ).value))
    try:
        bridge = Bridge(ctx, name, url, stdout, stderr, pool)
        bridge.transport = Streamable(bridge)
        running: list[threading.Thread] = []
        for line in stdin:
            if not line.strip():
                continue
            # A thread per message: a long streamed call must not hold up a cancellation.
            worker = threading.Thread(target=bridge.handle, args=(line.strip(),), daemon=True)
            worker.start()
            running = [t for t in running if t.is_alive()] + [worker]
        for worker in running:
            worker.join(timeout=30)
        bridge.transport.close()
        from authsome.services.mcpaudit import closed

        closed(bridge)
    finally:
        pool.close()
