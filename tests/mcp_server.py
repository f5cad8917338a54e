"""An MCP server from the official SDK, Streamable HTTP on loopback, protected by bearer tokens
that tests/oauth_server.py issued (its `access` set and expiry): the bridge's independent peer."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer


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


def _app(oauth, url: str, verifier, required_scopes=()):
    auth = AuthSettings(
        issuer_url=oauth.url,
        resource_server_url=url,
        required_scopes=list(required_scopes),  # else a 403 with insufficient_scope
        validate_token_resource=True,
    )
    server = MCPServer("sdk-test", token_verifier=verifier, auth=auth)

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

    return server.streamable_http_app()


class MCPTestServer:
    def __init__(self, oauth, required_scopes=()):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.verifier = Verifier(oauth)
        self.requests: list[tuple[str, dict]] = []  # (method, headers) of every HTTP request
        app = _app(oauth, self.url, self.verifier, required_scopes)

        async def recorded(scope, receive, send):
            if scope["type"] == "http":
                headers = {k.decode(): v.decode() for k, v in scope["headers"]}
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
