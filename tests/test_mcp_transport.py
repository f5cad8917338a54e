"""`authsome mcp NAME`'s transport against the official MCP SDK's servers: progress as it is
sent, the GET stream, a dropped answer stream resumed with Last-Event-ID, DELETE on leaving,
and the old HTTP+SSE transport (2024-11-05) found the way the spec's backwards compatibility
section says."""

import asyncio
import time

import pytest
from clitools import AUTHSOME_BIN, run

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp_server import MCPTestServer  # noqa: E402


@pytest.fixture
def start_mcp(oauth_server, install_provider, file_env):
    """An SDK server as the provider testsrv's resource, logged in to."""
    servers = []

    def start(**kw) -> MCPTestServer:
        server = MCPTestServer(oauth_server, **kw)
        servers.append(server)
        install_provider(oauth_server.provider(oauth={"resource": server.url}))
        out = run(["login", "testsrv"], file_env)
        assert out.returncode == 0, out.stderr
        return server

    yield start
    for server in servers:
        server.stop()


async def _session(env, steps, **kw):
    params = StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", "testsrv"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write, **kw) as session:
        await asyncio.wait_for(session.initialize(), 60)
        return await asyncio.wait_for(steps(session), 60)  # a bridge that drops an answer fails


def _methods(server, method=None):
    return [(m, h) for m, h in server.requests if method in (None, m)]


async def _until(condition, seconds=20):
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_progress_reaches_the_client_before_the_server_sends_the_next(start_mcp, file_env):
    """Each progress notification is relayed as it comes, not with the answer at the end: the
    tool sends the next one only once the client has the last (or after 20 s, counted)."""
    server = start_mcp()

    async def progress(done, total, message):
        server.paced[int(done) - 1].set()

    async def steps(session):
        result = await session.call_tool("paced_count", {"steps": 3}, progress_callback=progress)
        return result.content[0].text

    assert asyncio.run(_session(file_env, steps)) == "3 of 3 heard before the next was sent"


def test_a_dropped_answer_stream_is_resumed_from_its_last_event(start_mcp, file_env):
    """The SDK server closes the call's SSE stream half way (its polling, SEP-1699); the
    bridge waits the `retry:` it was given and GETs the rest with Last-Event-ID."""
    server = start_mcp(resumable=True)
    progress = []

    async def steps(session):
        async def heard(done, total, message):
            progress.append(done)

        result = await session.call_tool("hiccup", {}, progress_callback=heard)
        return result.content[0].text

    assert asyncio.run(_session(file_env, steps)) == "after the hiccup"
    assert progress == [1, 2]
    resumed = [h for _, h in _methods(server, "GET") if "last-event-id" in h]
    assert resumed and resumed[0]["last-event-id"].startswith("ev-")
    assert all(h["accept"] == "text/event-stream" for h in resumed)


def test_the_servers_own_messages_come_on_the_get_stream(start_mcp, file_env):
    server = start_mcp()
    notices = []

    async def handler(message):
        notices.append(type(message).__name__)

    async def steps(session):
        assert await _until(lambda: _methods(server, "GET"))  # opened after initialized
        assert (await session.call_tool("announce", {})).content[0].text == "announced"
        await _until(lambda: "ToolListChangedNotification" in notices)

    asyncio.run(_session(file_env, steps, message_handler=handler))
    assert "ToolListChangedNotification" in notices
    gets = _methods(server, "GET")
    assert gets[0][1]["accept"] == "text/event-stream" and "mcp-session-id" in gets[0][1]


def test_leaving_ends_the_session_with_delete(start_mcp, file_env):
    server = start_mcp()

    async def steps(session):
        return (await session.call_tool("add", {"a": 1, "b": 2})).content[0].text

    assert asyncio.run(_session(file_env, steps)) == "3"
    assert _wait_for(lambda: _methods(server, "DELETE"))
    session_id = _methods(server, "POST")[-1][1]["mcp-session-id"]
    deleted = _methods(server, "DELETE")[0][1]
    assert deleted["mcp-session-id"] == session_id
    assert deleted["authorization"].startswith("Bearer ")


def test_the_old_http_sse_transport_after_a_405_to_initialize(start_mcp, file_env):
    """A server of 2024-11-05 refuses the POST of initialize (405), so the bridge GETs the URL,
    reads its `endpoint` event and POSTs there; the answers come on the event stream."""
    server = start_mcp(transport="sse")
    arrived = []

    async def steps(session):
        tools = await session.list_tools()
        assert {"add", "count"} <= {t.name for t in tools.tools}

        async def progress(done, total, message):
            arrived.append(done)

        result = await session.call_tool("count", {"steps": 2}, progress_callback=progress)
        assert result.content[0].text == "counted 2"
        return (await session.call_tool("add", {"a": 2, "b": 5})).content[0].text

    assert asyncio.run(_session(file_env, steps)) == "7"
    assert arrived == [1, 2]
    seen = [(m, h[":path"]) for m, h in server.requests]
    assert seen[:2] == [("POST", "/sse"), ("GET", "/sse")]
    assert all(m == "POST" and p == "/messages/" for m, p in seen[2:])
    assert all(h["authorization"].startswith("Bearer ") for _, h in server.requests)
