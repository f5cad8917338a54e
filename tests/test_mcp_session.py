"""What `authsome mcp` tells and records about a session, against the official SDK's server:
a 403 for want of a scope names the scope and the login that adds it; the audit log has the
session and each token handed out, and never a token."""

import asyncio
import json

import pytest
from clitools import run

from authsome.oauth.challenge import bearer_params
from authsome.services.mcpscope import insufficient

pytest.importorskip("mcp")
from mcp_server import MCPTestServer, add_through  # noqa: E402


@pytest.mark.parametrize(
    ("header", "params"),
    [
        (
            'Bearer error="insufficient_scope", scope="files:read files:write"',
            {"error": "insufficient_scope", "scope": "files:read files:write"},
        ),
        ('Basic realm="x", Bearer error=invalid_token', {"error": "invalid_token"}),
        ('Bearer realm="a\\"b", error="x", Basic realm="y"', {"realm": 'a"b', "error": "x"}),
        (
            'Bearer resource_metadata="https://r/.well-known/x"',
            {"resource_metadata": "https://r/.well-known/x"},
        ),
        ("Basic realm=x", {}),
        (None, {}),
    ],
)
def test_bearer_challenges_are_read_into_their_parameters(header, params):
    assert bearer_params(header) == params


class _NoLogin:
    class connections:  # noqa: N801 - a stand-in for ctx.connections
        @staticmethod
        def find(provider, connection):
            return None


def test_the_missing_scope_comes_from_scope_or_from_the_sdks_words():
    spec = insufficient(_NoLogin, "srv", 'Bearer error="insufficient_scope", scope="a b"')
    assert "needs the scope a b" in spec and "--scopes a,b" in spec
    sdk = 'Bearer error="insufficient_scope", error_description="Required scope: admin"'
    assert "--scopes admin" in insufficient(_NoLogin, "srv", sdk)
    assert insufficient(_NoLogin, "srv", 'Bearer error="invalid_token"') is None


@pytest.fixture
def scoped_server(oauth_server, install_provider):
    server = MCPTestServer(oauth_server, required_scopes=["admin"])
    install_provider(oauth_server.provider(oauth={"resource": server.url}))
    yield server
    server.stop()


def test_a_403_for_a_scope_names_it_and_the_login_that_adds_it(scoped_server, file_env):
    assert run(["login", "testsrv"], file_env).returncode == 0  # granted: read write
    fix = "authsome login testsrv --force --scopes read,write,admin"
    message = asyncio.run(add_through(file_env, "testsrv"))
    assert "testsrv needs the scope admin" in message and message.endswith(fix)
    out = run(fix.split()[1:], file_env)  # the command, word for word
    assert out.returncode == 0, out.stderr
    assert asyncio.run(add_through(file_env, "testsrv")) == "3"


def test_the_audit_log_has_the_session_and_each_token_and_no_token(
    oauth_server, install_provider, file_env, authsome_home
):
    server = MCPTestServer(oauth_server)
    try:
        install_provider(oauth_server.provider(oauth={"resource": server.url}))
        assert run(["login", "testsrv"], file_env).returncode == 0
        assert asyncio.run(add_through(file_env, "testsrv")) == "3"
    finally:
        server.stop()
    raw = (authsome_home / "audit.log").read_text()
    lines = [json.loads(line) for line in raw.splitlines()]
    bridge = [d for d in lines if d["event"] == "mcp"]
    start = [d for d in bridge if d.get("session") == "start"]
    assert len(start) == 1 and start[0]["server"] == server.url
    assert start[0]["client"].startswith("mcp")  # the SDK client's clientInfo
    assert start[0]["parent"]  # the process that started the bridge: the MCP client
    assert (start[0]["provider"], start[0]["connection"]) == ("testsrv", "default")
    handed = [d for d in bridge if "session" not in d]
    # One line for each request that carried a token: POSTs, the GET stream, the DELETE.
    sent = [h for _, h in server.requests if "authorization" in h]
    assert len(handed) == len(sent) and all(d["server"] == server.url for d in handed)
    assert [d.get("session") for d in bridge][-1] == "end"
    for token in oauth_server.state.access:
        assert token not in raw
