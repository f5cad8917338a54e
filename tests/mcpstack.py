"""An MCP server as MCP servers run, and MCP clients reaching it through a bridge.

The server is the official SDK's (Streamable HTTP) behind node-oidc-provider with RFC 8707
resource indicators: opaque access tokens whose audience is the server's URL, which it
introspects; short lifetimes; rotating refresh tokens whose reuse revokes the login. Its clients
are the SDK's stdio client, through `authsome mcp NAME` or through mcp-remote (npm, installed
in tests/mcpremote/ by `npm ci`). Used by tests/test_mcp_storms.py and benchmarks/mcp.py.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import httpx
from clitools import AUTHSOME_BIN
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp_server import (
    INTROSPECTION_CLIENT,
    Introspector,
    MCPTestServer,
    SeparateServer,
    loopback,
)
from oidc_server import Lines, Person

NAME = "mcpsrv"
MCP_REMOTE = Path(__file__).parent / "mcpremote" / "node_modules" / ".bin" / "mcp-remote"


def mcp_remote_missing() -> str | None:
    """Why mcp-remote cannot run here; None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not MCP_REMOTE.exists():
        return f"mcp-remote is not installed: run `npm ci` in {MCP_REMOTE.parents[2]}"
    return None


class Stack:
    """node-oidc-provider (from `start_oidc`, given the resource) and the SDK server it guards."""

    def __init__(self, start_oidc, access_token_ttl: int, separate: bool = False):
        """`separate`: the MCP server in a process of its own, caching introspection answers
        (for the benchmarks' timings; nothing it saw is then known here)."""
        bound = loopback()
        self.url = bound[1]
        self.oidc = start_oidc(access_token_ttl=access_token_ttl, mcp_resource=self.url)
        self.issuer = self.oidc.issuer
        if separate:
            self.mcp = SeparateServer(self.issuer, bound, ["mcp"], cache=True)
            return
        self.introspector = Introspector(self.issuer)
        self.mcp = MCPTestServer(
            issuer=self.issuer, verifier=self.introspector, bound=bound, required_scopes=["mcp"]
        )

    def stop(self) -> None:
        self.mcp.stop()
        self.oidc.stop()

    def provider(self) -> dict:
        issuer = self.issuer
        oauth = {
            "authorization_url": f"{issuer}/auth",
            "token_url": f"{issuer}/token",
            "device_authorization_url": f"{issuer}/device/auth",
            "supports_device_code": True,
            "client_id": "authsome",  # tests/oidc/server.js's public client
            "scopes": ["mcp"],
            "resource": self.url,
        }
        return {
            "name": NAME,
            "display_name": "MCP test server",
            "auth_type": "oauth2",
            "flow": "device_code",
            "oauth": oauth,
            "export": {"env": {"access_token": "MCPSRV_TOKEN"}},
        }

    def install(self, env: dict) -> None:
        """The provider file in `env`'s AUTHSOME_HOME."""
        folder = Path(env["AUTHSOME_HOME"]) / "providers"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{NAME}.json").write_text(json.dumps(self.provider()))

    def introspect(self, token: str) -> dict:
        """What the authorization server says of `token` (an access or a refresh token)."""
        answer = httpx.post(
            f"{self.issuer}/token/introspection",
            data={"token": token},
            auth=INTROSPECTION_CLIENT,
            timeout=30,
        )
        return answer.json()

    def lost(self, refresh_token: str | None) -> bool:
        """Whether a login whose stored refresh token is `refresh_token` is lost: none left
        (mcp-remote deletes its token file when a refresh is refused), or not active."""
        return refresh_token is None or not self.introspect(refresh_token)["active"]

    def audiences(self) -> set:
        """The audience of every token the MCP server was shown (None: it was not active)."""
        return {a.get("aud") if a.get("active") else None for a in self.introspector.answers}


def device_login(argv: list[str], env: dict, issuer: str, code_in_uri: bool = False) -> str:
    """Run `argv` (a device login), play the person who enters its code; its stderr."""
    proc = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = Lines(proc.stderr)
    try:
        if code_in_uri:  # mcp-remote shows verification_uri_complete alone
            uri = err.wait_for(r"(http\S+/device\?user_code=(\S+))")
            Person(issuer).enter_code(uri.group(1), uri.group(2))
        else:
            uri = err.wait_for(r"Visit (\S+) on any device").group(1)
            code = err.wait_for(r"enter the user code: (\S+)").group(1)
            Person(issuer).enter_code(uri, code)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rest = err.rest(timeout=5)
    assert proc.returncode == 0, rest
    return rest


def authsome_login(stack: Stack, env: dict) -> None:
    device_login([AUTHSOME_BIN, "login", NAME, "--flow", "device_code"], env, stack.issuer)


def mcp_remote_env(env: dict, config: Path) -> dict:
    """mcp-remote's environment: its token files under `config`, no browser to open."""
    return {**env, "MCP_REMOTE_CONFIG_DIR": str(config), "BROWSER": "false"}


def mcp_remote_login(stack: Stack, env: dict) -> None:
    """mcp-remote's own login (its DCR, its device flow), stored in its config folder."""
    client = MCP_REMOTE.parent / "mcp-remote-client"
    device_login([str(client), stack.url, "--device-code"], env, stack.issuer, code_in_uri=True)


def mcp_remote_client(env: dict) -> str:
    """The client ID mcp-remote registered for itself."""
    (path,) = Path(env["MCP_REMOTE_CONFIG_DIR"]).glob("mcp-remote-v*/*_client_info.json")
    return json.loads(path.read_text())["client_id"]


def mcp_remote_tokens(env: dict) -> tuple[Path, dict]:
    """mcp-remote's token file for the one server it knows, and what it holds."""
    (path,) = Path(env["MCP_REMOTE_CONFIG_DIR"]).glob("mcp-remote-v*/*_tokens.json")
    return path, json.loads(path.read_text())


def mcp_remote_refresh_token(env: dict) -> str | None:
    """The refresh token mcp-remote keeps, or None once it deleted its token file."""
    found = list(Path(env["MCP_REMOTE_CONFIG_DIR"]).glob("mcp-remote-v*/*_tokens.json"))
    return json.loads(found[0].read_text()).get("refresh_token") if found else None


def through_authsome(env: dict) -> StdioServerParameters:
    return StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", NAME], env=env)


def through_mcp_remote(env: dict, url: str) -> StdioServerParameters:
    return StdioServerParameters(command=str(MCP_REMOTE), args=[url], env=env)


async def session(params: StdioServerParameters, steps, errlog=None):
    """`steps(session)` in one MCP session over `params`' stdio."""
    import sys

    async with (
        stdio_client(params, errlog=errlog or sys.stderr) as (read, write),
        ClientSession(read, write) as client,
    ):
        return await steps(client)


async def add_once(client) -> str:
    await client.initialize()
    return (await client.call_tool("add", {"a": 2, "b": 3})).content[0].text


async def _outcome(params, timeout: float, errlog) -> str:
    try:
        return await asyncio.wait_for(session(params, add_once, errlog), timeout)
    except Exception as e:  # noqa: BLE001 - a failed call is a figure of the storm
        return f"failed: {type(e).__name__}: {e}"


def storm(params: list[StdioServerParameters], timeout: float = 60, errlog=None) -> list[str]:
    """Start every session at once; each initializes and calls `add`: its answer, or why not."""

    async def together():
        return await asyncio.gather(*(_outcome(p, timeout, errlog) for p in params))

    return asyncio.run(together())
