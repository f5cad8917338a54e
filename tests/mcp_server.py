"""An MCP server from the official SDK, Streamable HTTP (or the old HTTP+SSE transport) on
loopback, protected by bearer tokens that tests/oauth_server.py issued (its `access` set and
expiry): the bridge's independent peer."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventMessage, EventStore


class Verifier:
    def __init__(self, oauth):
        self.oauth, self.seen = oauth, []

    async def verify_token(self, token: str) -> AccessToken | None:
        st = self.oauth.state
        self.seen.append(token)
        if token not in st.access or st.expiry.get(token, time.time() + 1) <= time.time():
            return None
        # RFC 8707: the SDK refuses a token whose audience is not this server.
        return AccessToken(
            token=token, client_id="test-client", scopes=[], resource=st.audience.get(token)
        )


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


def _app(oauth, url: str, verifier, paced, transport: str, store):
    auth = AuthSettings(
        issuer_url=oauth.url,
        resource_server_url=url,
        required_scopes=[],
        validate_token_resource=True,
    )
    server = MCPServer("sdk-test", token_verifier=verifier, auth=auth)
    _tools(server, paced)
    if transport == "sse":
        return server.sse_app()
    return server.streamable_http_app(event_store=store, retry_interval=100 if store else None)


class MCPTestServer:
    def __init__(self, oauth, transport: str = "streamable", resumable: bool = False):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/{'sse' if transport == 'sse' else 'mcp'}"
        self.verifier = Verifier(oauth)
        self.requests: list[tuple[str, dict]] = []  # (method, headers) of every HTTP request
        self.paced = [threading.Event() for _ in range(10)]  # set by the client, step by step
        self.events = Events() if resumable else None
        app = _app(oauth, self.url, self.verifier, self.paced, transport, self.events)

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
