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
        assert {"add", "count"} <= {t.name for t in (await client.list_tools()).tools}
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


STORM = 8


def _authsome_storm(stack, envs: list[dict]) -> list[str]:
    """A due login, then STORM clients through `authsome mcp` at once, spread over `envs`."""
    # A 2 s margin, not half the 20 s life: the new token must not fall due again while a
    # loaded machine is still starting the bridges (that second grant would be right).
    envs = [{**e, "AUTHSOME_REFRESH_MARGIN": "2"} for e in envs]
    age(envs[0], NAME, left=1)  # due (within the margin), still good
    before = stack.oidc.grants("refresh_token", "authsome")
    outcomes = mcpstack.storm([through_authsome(envs[i % len(envs)]) for i in range(STORM)])
    assert outcomes == ["5"] * STORM, outcomes
    assert stack.oidc.grants("refresh_token", "authsome") - before == 1
    assert not stack.oidc.revoked()
    assert stack.introspect(_stored(envs[-1])["refresh_token"])["active"]  # the login lives
    assert stack.audiences() == {stack.url}
    return outcomes


def _mcp_remote_storm(stack, env: dict, tmp_path) -> str:
    """The same storm through mcp-remote, with its own login: its figures, as a line."""
    why = mcpstack.mcp_remote_missing()
    if why:
        from realparts import IN_CI

        if IN_CI:
            pytest.fail(f"CI=true and mcp-remote cannot run: {why}")
        return f"mcp-remote: not run ({why})"
    env = mcpstack.mcp_remote_env(env, tmp_path / "mcp-auth")
    # Due at once: mcp-remote counts a token as expired 60 s early, and these live 20 s.
    mcpstack.mcp_remote_login(stack, env)
    client = mcpstack.mcp_remote_client(env)
    before, revoked = stack.oidc.grants("refresh_token", client), stack.oidc.revoked()
    with open(tmp_path / "mcp-remote.log", "w") as log:
        params = [mcpstack.through_mcp_remote(env, stack.url)] * STORM
        outcomes = mcpstack.storm(params, timeout=20, errlog=log)
    grants = stack.oidc.grants("refresh_token", client) - before
    lost = stack.lost(mcpstack.mcp_remote_refresh_token(env))
    failed = sum(o != "5" for o in outcomes)
    return (
        f"mcp-remote: {grants} refresh grants, {failed} of {STORM} calls failed, "
        f"login {'lost' if lost else 'kept'} ({stack.oidc.revoked() - revoked} grants revoked)"
    )


def test_eight_clients_with_a_due_token_make_one_refresh_grant_beside_mcp_remote(
    stack, file_env, tmp_path, record_property
):
    stack.install(file_env)
    authsome_login(stack, file_env)
    _authsome_storm(stack, [file_env])
    ours = f"authsome mcp: 1 refresh grant, 0 of {STORM} calls failed, login kept"
    theirs = _mcp_remote_storm(stack, file_env, tmp_path)
    for line in (ours, theirs):
        record_property("storm figures", f"{STORM} MCP clients, 20 s tokens, one machine: {line}")


def test_eight_clients_on_two_machines_sharing_the_vault_store_make_one_grant(
    stack, env, tmp_path, bao_server, vault_prefix
):
    from baoserver import machine

    envs = [machine(env, tmp_path / f"m{i}", bao_server, vault_prefix) for i in range(2)]
    for e in envs:
        stack.install(e)
    authsome_login(stack, envs[0])
    _authsome_storm(stack, envs)
