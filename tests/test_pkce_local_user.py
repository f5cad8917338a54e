"""PKCE's loopback listener against another local user (issue #24): the installed CLI, the local
OAuth server, a real second uid, and a browser command that records its argv."""

import json
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from clitools import AUTHSOME_BIN, wait_for
from otherpython import other_users_python
from realparts import as_other_user

# The other user: one GET of the URL it was given; the status, or how the connection failed.
OTHER_USER = r"""
import http.client, json, sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
try:
    conn.request("GET", url.path + ("?" + url.query if url.query else ""))
    print(json.dumps(conn.getresponse().status))
except OSError as e:
    print(json.dumps(type(e).__name__))
"""


def _get_as_other_user(url: str):
    python = other_users_python()
    out = subprocess.run(
        [*as_other_user([python, "-I", "-c", OTHER_USER]), url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _start(env, *flags):
    """`authsome login testsrv --flow pkce`; the process and the URL it printed on stderr."""
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "login", "testsrv", "--flow", "pkce", *flags],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in proc.stderr:
        if "/authorize?" in line:
            return proc, line.strip()
    raise AssertionError("no authorization URL printed")


def test_another_local_user_who_knows_the_state_cannot_deliver_a_code(testsrv, file_env):
    proc, url = _start(file_env, "--no-browser")
    # What another user does with the URL it read from the browser's argv: it logs in with its
    # own account, and the provider sends that account's code to this login's redirect URI.
    forged = httpx.get(url).headers["location"]
    forged_code = parse_qs(urlsplit(forged).query)["code"][0]
    answer = _get_as_other_user(forged)
    assert not isinstance(answer, int), f"another uid's callback was answered {answer}"
    assert proc.poll() is None  # still waiting for the person's own redirect
    redirect = httpx.get(url).headers["location"]
    assert "You can close this tab" in httpx.get(redirect).text
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Successfully logged in to testsrv (default)." in err
    assert forged_code in testsrv.state.codes  # the other user's code was never exchanged


@pytest.fixture
def browser_env(file_env, tmp_path):
    """A display, and a browser command that records its argv and does nothing else."""
    argv_file = tmp_path / "argv"
    opener = tmp_path / "browser"
    opener.write_text(
        f'#!/bin/sh\nprintf \'%s\\n\' "$0" "$@" > {argv_file}.part && mv {argv_file}.part'
        f" {argv_file}\n"
    )
    opener.chmod(0o755)
    return {**file_env, "DISPLAY": ":99", "BROWSER": f"{opener} %s"}, argv_file


def _opened(argv_file: Path) -> list[str]:
    wait_for(argv_file.exists)
    return argv_file.read_text().splitlines()


def test_the_browser_argv_holds_neither_state_nor_challenge(testsrv, browser_env):
    env, argv_file = browser_env
    proc, url = _start(env)
    query = parse_qs(urlsplit(url).query)
    argv = _opened(argv_file)
    text = "\n".join(argv)
    for secret in (query["state"][0], query["code_challenge"][0], "state=", "code_challenge"):
        assert secret not in text, f"{secret!r} is in the browser's argv: {argv}"
    start = argv[-1]
    assert start.startswith("http://127.0.0.1:")
    # Another user who reads that argv is closed unread, and does not use up the one-use URL.
    assert not isinstance(_get_as_other_user(start), int)
    # The person's browser: the start URL redirects to the provider, which redirects back.
    page = httpx.get(start, follow_redirects=True)
    assert "You can close this tab" in page.text
    assert [str(r.url).split("?")[0] for r in page.history] == [start, f"{testsrv.url}/authorize"]
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Successfully logged in to testsrv (default)." in err


def test_a_second_use_of_the_start_url_ends_the_login(testsrv, browser_env):
    env, argv_file = browser_env
    proc, _ = _start(env)
    start = _opened(argv_file)[-1]
    first = httpx.get(start)
    assert first.status_code == 302 and first.headers["location"].startswith(testsrv.url)
    # Someone else may hold the state now: the login stops rather than wait for a code.
    assert httpx.get(start).status_code == 410
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 7, err
    assert "the one-time login link was opened twice" in err
