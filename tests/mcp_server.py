"""An MCP server from the official SDK, Streamable HTTP (or the old HTTP+SSE transport) on
loopback, protected by bearer tokens: the bridge's independent peer. Its tokens are those
tests/oauth_server.py issued (its `access` set and expiry), or with `Introspector` those
node-oidc-provider issued, which it introspects there (RFC 7662) as resource servers do with
opaque tokens."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventMessage, EventStore


class Verifier:
    def __init__(self, oauth, required_scopes=()):
        self.oauth, self.seen = oauth, []

    async def verify_token(self, token: str) -> AccessToken | None:
        st = self.oauth.state
        self.seen.append(token)
        if token not in st.access or st.expiry.get(token, time.time() + 1) <= time.time():
            return None
        # RFC 8707: the SDK refuses a token whose audience is not this server.
        scopes = st.granted.get(token, "").split()
        return AccessToken(
            token=token, client_id="test-client", scopes=scopes, resource=st.audience.get(token)
        )


INTROSPECTION_CLIENT = ("mcp-server", "mcp-server-introspection-secret")  # tests/oidc/server.js


class Introspector:
    """Asks node-oidc-provider about each token, as resource servers do with opaque ones;
    `answers` holds every answer it got. With `cache`, an active answer is kept until the
    token's expiry (for the benchmarks' per-call figures: a revoked token would pass)."""

    def __init__(self, issuer: str, cache: bool = False):
        self.issuer, self.answers, self.seen = issuer, [], []
        self.known: dict[str, dict] | None = {} if cache else None
        self.client: httpx.AsyncClient | None = None  # made in the server's loop, kept alive

    async def verify_token(self, token: str) -> AccessToken | None:
        self.seen.append(token)
        found = self.known.get(token) if self.known is not None else None
        if found is None or found["exp"] <= time.time():
            found = await self._introspect(token)
        if not found.get("active"):
            return None
        if self.known is not None:
            self.known[token] = found
        return AccessToken(
            token=token,
            client_id=found["client_id"],
            scopes=found.get("scope", "").split(),
            expires_at=found.get("exp"),
            resource=found.get("aud"),
        )

    async def _introspect(self, token: str) -> dict:
        self.client = self.client or httpx.AsyncClient(timeout=30)
        answer = await self.client.post(
            f"{self.issuer}/token/introspection",
            data={"token": token, "token_type_hint": "access_token"},
            auth=INTROSPECTION_CLIENT,
        )
        self.answers.append(answer.json())
        return self.answers[-1]


def loopback() -> tuple[socket.socket, str]:
    """A bound loopback socket and the URL the server will have on it (known before it runs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"


class Events(EventStore):
    """Every event kept, so that a stream that dropped can be replayed (resumability)."""

    def __init__(self):
        self.kept: list[tuple[str, str, object]] = []  # (stream, event id, message or None)

    async def store_event(self, stream_id, message):
        self.kept.append((stream_id, f"ev-{len(self.kept) + 1}", message))
        return self.kept[-1][1]

    async def replay_events_after(self, last_event_id, send_callback):
        ids = [event for _, event, _ in self.kept]
        if last_event_id not in ids:
            return None
        at = ids.index(last_event_id)
        stream = self.kept[at][0]
        for stream_id, event, message in self.kept[at + 1 :]:
            if stream_id == stream and message is not None:
                await send_callback(EventMessage(message, event))
        return stream


def _tools(server, paced: list[threading.Event]):
    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def count(steps: int, ctx: Context) -> str:
        """Count, reporting progress at each step."""
        for i in range(steps):
            await ctx.report_progress(i + 1, steps)
            await asyncio.sleep(0.3)
        return f"counted {steps}"

    @server.tool()
    async def paced_count(steps: int, ctx: Context) -> str:
        """Report progress, then wait until the client has it before the next one."""
        heard = 0
        for i in range(steps):
            await ctx.report_progress(i + 1, steps)
            heard += await asyncio.to_thread(paced[i].wait, 20)
        return f"{heard} of {steps} heard before the next was sent"

    @server.tool()
    async def hiccup(ctx: Context) -> str:
        """Drop this call's SSE stream half way (the server's polling), then answer."""
        await ctx.report_progress(1, 2)
        await ctx.close_sse_stream()
        await asyncio.sleep(0.3)
        await ctx.report_progress(2, 2)
        return "after the hiccup"

    @server.tool()
    async def announce(ctx: Context) -> str:
        """A notification of the server's own, on the GET stream."""
        await ctx.session.send_tool_list_changed()
        return "announced"


def _app(issuer: str, url: str, verifier, paced, transport: str, store, required_scopes=()):
    auth = AuthSettings(
        issuer_url=issuer,
        resource_server_url=url,
        required_scopes=list(required_scopes),  # else a 403 with insufficient_scope
        validate_token_resource=True,
    )
    server = MCPServer("sdk-test", token_verifier=verifier, auth=auth)
    _tools(server, paced)
    if transport == "sse":
        return server.sse_app()
    return server.streamable_http_app(event_store=store, retry_interval=100 if store else None)


class MCPTestServer:
    """Over tests/oauth_server.py's tokens (`oauth`), or over `verifier`'s, issued by `issuer`;
    on `bound` (loopback()) when its URL had to be known before."""

    def __init__(
        self,
        oauth=None,
        issuer=None,
        verifier=None,
        bound=None,
        required_scopes=(),
        transport: str = "streamable",
        resumable: bool = False,
    ):
        sock, url = bound or loopback()
        self.url = url.rsplit("/", 1)[0] + "/sse" if transport == "sse" else url
        self.verifier = verifier or Verifier(oauth)
        self.requests: list[tuple[str, dict]] = []  # (method, headers) of every HTTP request
        self.paced = [threading.Event() for _ in range(10)]  # set by the client, step by step
        self.events = Events() if resumable else None
        app = _app(
            issuer or oauth.url,
            self.url,
            self.verifier,
            self.paced,
            transport,
            self.events,
            required_scopes,
        )

        async def recorded(scope, receive, send):
            if scope["type"] == "http":
                headers = {k.decode(): v.decode() for k, v in scope["headers"]}
                headers[":path"] = scope["path"]
                self.requests.append((scope["method"], headers))
            await app(scope, receive, send)

        config = uvicorn.Config(recorded, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([sock],), daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=5)


async def add_through(env, target: str, a: int = 1, b: int = 2) -> str:
    """The SDK's stdio client through `authsome mcp TARGET`: the `add` tool's answer, or the
    JSON-RPC error's message when `initialize` is refused."""
    from clitools import AUTHSOME_BIN
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.shared.exceptions import MCPError

    params = StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", target], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        try:
            await asyncio.wait_for(session.initialize(), 30)
        except MCPError as e:
            return e.error.message
        return (await session.call_tool("add", {"a": a, "b": b})).content[0].text


class SeparateServer:
    """The introspecting server in a process of its own, on `bound`: for the benchmarks, so
    that the clients they time never wait on its GIL. Its requests are not recorded here."""

    def __init__(self, issuer: str, bound, scopes=(), cache: bool = False):
        import subprocess
        import sys

        sock, self.url = bound
        argv = [sys.executable, __file__, issuer, str(sock.fileno()), ",".join(scopes)]
        self.proc = subprocess.Popen(
            [*argv, *(["--cache"] if cache else [])],
            pass_fds=[sock.fileno()],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        sock.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    import logging
    import sys

    logging.disable(logging.INFO)  # the SDK's line per request

    issuer, fd, scopes = sys.argv[1:4]
    bound = socket.socket(fileno=int(fd))
    url = f"http://127.0.0.1:{bound.getsockname()[1]}/mcp"
    verifier = Introspector(issuer, cache="--cache" in sys.argv)
    server = MCPTestServer(
        issuer=issuer, verifier=verifier, bound=(bound, url), required_scopes=scopes.split(",")
    )
    print("ready", flush=True)
    server.thread.join()
