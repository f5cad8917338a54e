"""`authsome mcp NAME` between the official MCP SDK's stdio client and its Streamable HTTP
server, with tokens from the test OAuth server: the whole session, refreshes, no login."""

import asyncio
import time

import pytest
from clitools import AUTHSOME_BIN, run

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp_server import MCPTestServer  # noqa: E402


@pytest.fixture
def mcp_server(oauth_server, install_provider):
    server = MCPTestServer(oauth_server)
    install_provider(oauth_server.provider(oauth={"resource": server.url}))
    yield server
    server.stop()


async def _session(env, steps):
    params = StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", "testsrv"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        return await steps(session)


class Forgetful(set):
    def add(self, item):
        pass


def _login(env):
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr


def test_a_whole_session_through_the_bridge(mcp_server, oauth_server, file_env):
    oauth_server.state.access_expires_in = 2
    _login(file_env)
    arrived = []

    async def steps(session):
        await session.initialize()
        tools = await session.list_tools()
        assert {"add", "count"} <= {t.name for t in tools.tools}
        assert (await session.call_tool("add", {"a": 2, "b": 3})).content[0].text == "5"

        async def progress(done, total, message):
            arrived.append(time.monotonic())

        result = await session.call_tool("count", {"steps": 3}, progress_callback=progress)
        assert result.content[0].text == "counted 3"
        await asyncio.sleep(1.2)  # half the token's 2-second life: due
        return (await session.call_tool("add", {"a": 1, "b": 1})).content[0].text

    assert asyncio.run(_session(file_env, steps)) == "2"
    assert len(arrived) == 3 and arrived[-1] - arrived[0] > 0.4  # spread in time, not at the end
    assert oauth_server.state.count("/token", "refresh_token") >= 1  # due, refreshed, same session
    posts = [h for m, h in mcp_server.requests if m == "POST"]
    assert "mcp-session-id" not in posts[0] and all("mcp-session-id" in h for h in posts[1:])
    assert all("mcp-protocol-version" in h for h in posts[1:])
    assert all(h["accept"] == "application/json, text/event-stream" for h in posts)
    deadline = time.monotonic() + 10
    while "DELETE" not in [m for m, _ in mcp_server.requests] and time.monotonic() < deadline:
        time.sleep(0.05)  # the bridge ends the session once its stdin closes
    assert [m for m, _ in mcp_server.requests][-1] == "DELETE"


def test_a_refused_token_is_refreshed_once_and_the_request_sent_once_more(
    mcp_server, oauth_server, file_env
):
    _login(file_env)
    oauth_server.state.access.clear()  # the server no longer knows the stored token

    async def steps(session):
        await session.initialize()
        return (await session.call_tool("add", {"a": 2, "b": 2})).content[0].text

    assert asyncio.run(_session(file_env, steps)) == "4"
    assert oauth_server.state.count("/token", "refresh_token") == 1


def test_a_token_refused_after_refresh_is_an_error_not_a_loop(mcp_server, oauth_server, file_env):
    _login(file_env)
    oauth_server.state.access = Forgetful()  # every token, new ones too, is refused

    async def steps(session):
        with pytest.raises(Exception, match="refused its token"):
            await session.initialize()

    asyncio.run(_session(file_env, steps))
    assert oauth_server.state.count("/token", "refresh_token") == 1


def test_a_refused_token_without_expiry_whose_refresh_fails_is_an_error_not_a_crash(
    mcp_server, oauth_server, file_env
):
    """Found by mypy: a login whose token has no expiry, refused by the server, and a token
    endpoint that fails for a passing reason. The fall-back (services/refreshfail.py) did
    arithmetic on the missing expiry: an internal error instead of the endpoint's failure."""
    oauth_server.state.access_expires_in = None  # no expires_in: the login never expires
    _login(file_env)
    oauth_server.state.access.clear()  # the server no longer knows the stored token
    oauth_server.state.refresh_failure = (503, "text/html", "<html>down</html>")

    async def steps(session):
        with pytest.raises(Exception, match="could not refresh the token for testsrv right now"):
            await asyncio.wait_for(session.initialize(), 20)

    asyncio.run(_session(file_env, steps))
    assert oauth_server.state.count("/token", "refresh_token") == 1


def test_no_login_answers_with_the_fix_and_never_prompts(mcp_server, file_env):
    async def steps(session):
        with pytest.raises(Exception, match="run: authsome login testsrv --flow device_code"):
            await asyncio.wait_for(session.initialize(), 20)

    asyncio.run(_session(file_env, steps))


def test_a_locked_store_answers_with_how_to_unlock_and_never_prompts(mcp_server, file_env):
    _login(file_env)
    locked = {k: v for k, v in file_env.items() if k != "AUTHSOME_SESSION"}  # no passphrase

    async def steps(session):
        with pytest.raises(Exception, match="locked"):
            await asyncio.wait_for(session.initialize(), 20)

    asyncio.run(_session(locked, steps))


def test_the_bridge_starts_without_click_or_httpx(mcp_server, file_env):
    """An MCP client starts a bridge per server per session and waits on its `initialize`:
    `authsome mcp NAME` takes the click-free path and http.client, not httpx."""
    import ast
    import json
    import subprocess
    import sys

    _login(file_env)
    ask = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    }
    initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ask})
    code = (
        "import sys\nfrom authsome.main import main\n"
        "sys.argv = ['authsome', 'mcp', 'testsrv']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('click', 'httpx') if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=file_env,
        input=initialize + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(out.stdout.splitlines()[0])["result"]["protocolVersion"]  # answered
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == []
