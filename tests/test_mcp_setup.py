"""A provider for any MCP server from its URL: `authsome register --resource URL`, and
`authsome mcp URL` on first use, against the official SDK's server, whose RFC 9728 metadata
names the test OAuth server; then `authsome login NAME` with no other flags."""

import asyncio
import json

import pytest
from clitools import AUTHSOME_BIN, run

from authsome.services.mcpsetup import derived_name

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp_server import MCPTestServer, add_through  # noqa: E402


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://mcp.linear.app/mcp", "linear-mcp"),
        ("https://mcp.example.co.uk/v1/mcp", "example-mcp"),
        ("https://example.com/mcp", "example-mcp"),
        ("https://api.corp.internal:8443/mcp", "corp-mcp"),
        ("http://127.0.0.1:8123/mcp", "mcp-127-0-0-1-8123"),
        ("http://localhost/mcp", "mcp-localhost"),
        ("https://9lives.io/mcp", "mcp-9lives-mcp"),
    ],
)
def test_a_name_from_the_host(url, name):
    assert derived_name(url) == name


@pytest.fixture
def mcp_server(oauth_server):
    server = MCPTestServer(oauth_server)
    yield server
    server.stop()


def test_register_resource_then_login_with_no_flags(mcp_server, oauth_server, file_env):
    out = run(["register", "--resource", mcp_server.url, "--name", "sdk"], file_env)
    assert out.returncode == 0, out.stderr
    assert "authsome login sdk" in out.stderr
    shown = json.loads(run(["inspect", "sdk", "--json"], file_env).stdout)
    assert shown["oauth"]["resource"] == mcp_server.url
    assert shown["oauth"]["token_url"] == f"{oauth_server.url}/token"  # from the AS's metadata
    assert shown["flow"] == "dcr_pkce"
    out = run(["login", "sdk"], file_env)  # no display: the device flow, a client registered
    assert out.returncode == 0, out.stderr
    assert "device code flow" in out.stderr
    assert asyncio.run(add_through(file_env, "sdk", 20, 22)) == "42"
    token = run(["token", "sdk"], file_env).stdout.strip()
    assert oauth_server.state.audience[token] == mcp_server.url


def test_mcp_url_makes_the_provider_on_first_use(mcp_server, oauth_server, file_env):
    name = derived_name(mcp_server.url)

    async def first(env):
        params = StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", mcp_server.url], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            with pytest.raises(Exception, match=f"run: authsome login {name} --flow device_code"):
                await asyncio.wait_for(session.initialize(), 30)

    asyncio.run(first(file_env))
    assert run(["inspect", name], file_env).returncode == 0
    out = run(["login", name, "--flow", "device_code"], file_env)
    assert out.returncode == 0, out.stderr
    assert (
        asyncio.run(add_through(file_env, mcp_server.url, 20, 22)) == "42"
    )  # the same provider, found
    assert run(["providers", "--json"], file_env).stdout.count(name) == 1


def test_mcp_url_of_a_bundled_server_uses_the_bundled_provider(file_env):
    from authsome.factory import Context
    from authsome.services.mcpsetup import bridged

    assert bridged(Context(file_env), "https://mcp.linear.app/mcp") == "linear-mcp"


def test_register_resource_refuses_plain_http_off_loopback(file_env):
    out = run(["register", "--resource", "http://mcp.example.com/mcp"], file_env)
    assert out.returncode == 2 and "https" in out.stderr
