"""`authsome mcp` against an MCP server as MCP servers run (tests/mcpstack.py): the SDK server
behind node-oidc-provider with resource indicators, opaque tokens it introspects, short lives
and rotating refresh tokens whose reuse revokes the login. The whole session, then storms of
clients with a due token: through authsome (one refresh grant for all, on one machine or two
sharing the vault store) and, side by side, through mcp-remote (its figures are reported in the
run's summary, not asserted)."""

import asyncio
import time

import pytest
from clitools import age, wait_for

pytest.importorskip("mcp")
import mcpstack  # noqa: E402
from mcpstack import NAME, Stack, authsome_login, session, through_authsome  # noqa: E402

from authsome.factory import Context  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(request, make_oidc_server):
    ttl = getattr(request, "param", 20)
    made = Stack(make_oidc_server, ttl)
    yield made
    made.stop()


def _stored(env) -> dict:
    return Context(env).connections.load(NAME).secrets


@pytest.mark.parametrize("stack", [4], indirect=True)
def test_a_whole_session_outlives_its_token_with_the_server_as_every_tokens_audience(
    stack, file_env
):
    stack.install(file_env)
    authsome_login(stack, file_env)
    first = _stored(file_env)["access_token"]
    arrived = []

    async def steps(client):
        await client.initialize()
        assert {t.name for t in (await client.list_tools()).tools} == {"add", "count"}
        assert (await client.call_tool("add", {"a": 2, "b": 3})).content[0].text == "5"

        async def progress(done, total, message):
            arrived.append(time.monotonic())

        counted = await client.call_tool("count", {"steps": 3}, progress_callback=progress)
        assert counted.content[0].text == "counted 3"
        # Past the first token's life, as the authorization server sees it.
        await asyncio.to_thread(wait_for, lambda: not stack.introspect(first)["active"], 30)
        return (await client.call_tool("add", {"a": 1, "b": 1})).content[0].text

    assert asyncio.run(session(through_authsome(file_env), steps)) == "2"
    assert len(arrived) == 3 and arrived[-1] - arrived[0] > 0.4  # spread in time, not at the end
    assert stack.oidc.grants("refresh_token") >= 1  # refreshed within the session
    assert not stack.oidc.revoked()
    # Every token the MCP server was shown was active and bound to it, refreshed ones too.
    assert len(set(stack.introspector.seen)) >= 2
    assert stack.audiences() == {stack.url}
