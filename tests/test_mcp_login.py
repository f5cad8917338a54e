"""`authsome mcp` with no login yet: on a desktop it runs the browser login (PKCE) itself, said
on stderr, and answers once it is done; without a display the client gets the one-line fix.
Never a prompt on stdio. The person at the browser is real headless Chromium."""

import asyncio
import threading
import time

import pytest
from clitools import AUTHSOME_BIN, run
from test_bridge import _wait_for_text, chromium  # noqa: F401 - the session's Chromium

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_server import MCPTestServer  # noqa: E402


def _server(oauth_server, install_provider, **over):
    server = MCPTestServer(oauth_server)
    oauth = {"resource": server.url, **over.pop("oauth", {})}
    install_provider(oauth_server.provider(oauth=oauth, **over))
    return server


async def _add(env, errlog):
    """The tool's answer, or the JSON-RPC error's message."""
    params = StdioServerParameters(command=AUTHSOME_BIN, args=["mcp", "testsrv"], env=env)
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        try:
            await asyncio.wait_for(session.initialize(), 120)
        except MCPError as e:
            return e.error.message
        return (await session.call_tool("add", {"a": 1, "b": 2})).content[0].text


def test_on_a_desktop_the_bridge_logs_in_in_the_browser(
    oauth_server,
    install_provider,
    file_env,
    tmp_path,
    chromium,  # noqa: F811
):
    server = _server(oauth_server, install_provider, flow="pkce")
    url_file, opener = tmp_path / "url", tmp_path / "open-browser"
    opener.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > {url_file}\n")
    opener.chmod(0o755)
    env = {**file_env, "DISPLAY": ":99", "BROWSER": f"{opener} %s"}
    shown = []

    def person():  # opens what authsome asked the browser to open, as a desktop would
        deadline = time.monotonic() + 60
        while not (url_file.exists() and url_file.read_text()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        chromium.get(url_file.read_text())
        shown.append(_wait_for_text(chromium, "Logged in"))

    at_browser = threading.Thread(target=person, daemon=True)
    at_browser.start()
    try:
        with (tmp_path / "stderr").open("w+") as errlog:
            assert asyncio.run(_add(env, errlog)) == "3"
            errlog.seek(0)
            said = errlog.read()
    finally:
        server.stop()
    at_browser.join(timeout=30)
    assert shown, "the browser never showed the login's end"
    assert "opening the browser to log in (pkce)" in said
    token = run(["token", "testsrv"], file_env).stdout.strip()
    assert oauth_server.state.audience[token] == server.url  # resource on the authorization
    starts = [q for p, q in oauth_server.state.requests if p == "/authorize"]
    assert starts[-1]["code_challenge_method"] == "S256" and starts[-1]["resource"] == server.url


def test_without_a_display_the_fix_is_the_providers_flow(
    oauth_server, install_provider, file_env, tmp_path
):
    # No device flow here: the fix is the plain login, which needs a browser somewhere.
    server = _server(
        oauth_server,
        install_provider,
        flow="pkce",
        oauth={"supports_device_code": False, "device_authorization_url": None},
    )
    try:
        with (tmp_path / "stderr").open("w+") as errlog:
            message = asyncio.run(_add(file_env, errlog))
            errlog.seek(0)
            said = errlog.read()
    finally:
        server.stop()
    assert message == "not logged in to testsrv. run: authsome login testsrv"
    assert "authsome: not logged in to testsrv. run: authsome login testsrv\n" in said
    assert "browser" not in said


class _Offline:
    """A stand-in context whose provider cannot be resolved now (offline), and no login."""

    class connections:  # noqa: N801 - a stand-in for ctx.connections
        @staticmethod
        def find(provider, connection):
            return None

    def provider(self, name):
        from authsome.errors import NetworkError

        raise NetworkError("id.example.com could not be reached")


def test_offline_the_fix_is_the_device_flow_mcp_servers_mostly_offer():
    from authsome.services.mcplogin import login_fix

    assert login_fix(_Offline(), "srv:work") == "run: authsome login srv:work --flow device_code"


class _Forgetful(set):
    def add(self, item):
        pass


def test_a_refused_login_gets_the_fix_that_replaces_it(
    oauth_server, install_provider, file_env, tmp_path
):
    server = _server(oauth_server, install_provider)
    try:
        assert run(["login", "testsrv"], file_env).returncode == 0
        oauth_server.state.access = _Forgetful()  # every token is refused, new ones too
        with (tmp_path / "stderr").open("w+") as errlog:
            message = asyncio.run(_add(file_env, errlog))
            fix = "run: authsome login testsrv --force --flow device_code"
            assert message.endswith(fix), message
            oauth_server.state.access = set()
            assert run(fix.split()[2:], file_env).returncode == 0  # the command, word for word
            assert asyncio.run(_add(file_env, errlog)) == "3"
    finally:
        server.stop()
