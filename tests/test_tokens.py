"""The token lifecycle: refresh before expiry, single flight across processes, logout."""

import json
import subprocess
import time

import pytest
from clitools import AUTHSOME_BIN, login_due, run, wait_for


def _login(env, name="testsrv"):
    out = run(["login", name], env)
    assert out.returncode == 0, out.stderr


def _wait_until_due(env, ref="testsrv"):
    """On the real clock, until `list` calls the login due: a 2-second token within a second."""
    from authsome.factory import Context
    from authsome.storage.connections import EXPIRES_SOON, state_of

    def due():
        ctx = Context(env)
        return state_of(ctx.connections.entry(ref), time.time(), ctx.refresh_margin)

    wait_for(lambda: due() == EXPIRES_SOON, timeout=10)


def test_token_refreshes_within_the_margin_and_keeps_the_rotated_refresh_token(testsrv, file_env):
    testsrv.state.access_expires_in = 2  # time passes for real here: due within a second
    _login(file_env)
    _wait_until_due(file_env)
    first = run(["token", "testsrv"], file_env).stdout.strip()
    assert testsrv.state.count("/token", "refresh_token") == 1
    _wait_until_due(file_env)
    second = run(["token", "testsrv"], file_env).stdout.strip()
    # Each call refreshed with the newest refresh token; reuse would have been refused.
    assert testsrv.state.count("/token", "refresh_token") == 2
    assert first != second and second in testsrv.state.access
    assert not testsrv.state.revoked_families


def test_no_refresh_outside_the_margin(testsrv, file_env):
    testsrv.state.access_expires_in = 1000
    _login(file_env)
    assert run(["token", "testsrv"], file_env).returncode == 0
    assert testsrv.state.count("/token", "refresh_token") == 0
    # 1000 s left is outside a 400 s margin.
    out = run(["token", "testsrv"], {**file_env, "AUTHSOME_REFRESH_MARGIN": "400"})
    assert out.returncode == 0, out.stderr
    assert testsrv.state.count("/token", "refresh_token") == 0


def test_short_lived_tokens_are_not_refreshed_on_every_call(testsrv, file_env):
    testsrv.state.access_expires_in = 120  # shorter than the 300 s default margin
    _login(file_env)
    for _ in range(3):
        assert run(["token", "testsrv"], file_env).returncode == 0
    assert testsrv.state.count("/token", "refresh_token") == 0


def test_missing_expires_in_does_not_loop(testsrv, file_env):
    testsrv.state.refresh_expires_in_omitted = True
    login_due(testsrv, file_env, refreshed=None)
    for _ in range(3):
        assert run(["token", "testsrv"], file_env).returncode == 0
    assert testsrv.state.count("/token", "refresh_token") == 1


def test_parallel_token_calls_cause_exactly_one_refresh(testsrv, unlocked_env):
    testsrv.state.refresh_delay = 0.3  # widen the race window
    login_due(testsrv, unlocked_env)
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [AUTHSOME_BIN, "token", "testsrv"],
            env=unlocked_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - start
    assert [p.returncode for p in procs] == [0] * 20, [e for _, e in results]
    tokens = {out.strip() for out, _ in results}
    assert testsrv.state.count("/token", "refresh_token") == 1
    # One refresh happened, so every process holds the one new, valid token.
    assert len(tokens) == 1 and tokens <= testsrv.state.access
    print(
        f"20 parallel token calls: {elapsed:.2f} s, "
        f"{testsrv.state.count('/token', 'refresh_token')} refresh request(s)"
    )


def test_invalid_grant_marks_the_connection_and_says_login(testsrv, file_env):
    login_due(testsrv, file_env)
    testsrv.state.revoked_families.update(i["family"] for i in testsrv.state.refresh.values())
    out = run(["token", "testsrv"], file_env)
    assert out.returncode == 7
    assert "Refresh token revoked" in out.stderr  # the provider's own words
    assert "run: authsome login testsrv" in out.stderr.lower()
    rows = json.loads(run(["list", "--json"], file_env).stdout)
    assert rows[0]["state"] == "needs login"
    assert run(["token", "testsrv"], file_env).returncode == 7
    assert testsrv.state.count("/token", "refresh_token") == 1


def test_list_shows_state_expiry_and_store(testsrv, file_env):
    _login(file_env)
    out = run(["list"], file_env)
    header, row = out.stdout.splitlines()
    assert header.split() == ["PROVIDER", "CONNECTION", "TYPE", "EXPIRES", "STORE", "STATE"]
    assert row.split()[:6] == ["testsrv", "default", "oauth2", "in", "59m", "file"]
    assert row.rstrip().endswith("connected")
    data = json.loads(run(["list", "--json"], file_env).stdout)[0]
    assert data["store"] == "file" and data["state"] == "connected"


def test_logout_revokes_refresh_then_access_and_removes(testsrv, file_env):
    _login(file_env)
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert [hint for hint, _ in testsrv.state.revoked] == ["refresh_token", "access_token"]
    assert out.stderr == (
        "Logged out of testsrv (default). Revoked at the server and removed locally.\n"
    )
    assert run(["token", "testsrv"], file_env).returncode == 3
    assert json.loads(run(["list", "--json"], file_env).stdout) == []


def test_revocation_failure_is_reported_and_local_removal_happens(testsrv, file_env):
    testsrv.state.revoke_status = 503
    _login(file_env)
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0
    host = testsrv.url.split("//")[1].split(":")[0]
    assert out.stderr == (
        "Logged out of testsrv (default). Not revoked at the server"
        f" ({host} answered HTTP 503, temporarily_unavailable); removed locally.\n"
    )
    assert run(["token", "testsrv"], file_env).returncode == 3


def test_logout_says_why_nothing_was_revoked(testsrv, file_env, install_provider):
    _login(file_env)
    install_provider(testsrv.provider(oauth={"revocation_url": None}))
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert out.stderr == (
        "Logged out of testsrv (default). Not revoked at the server: Test Server has no"
        " revocation endpoint; removed locally.\n"
    )
    assert testsrv.state.revoked == []


def test_logout_when_the_server_cannot_be_reached(testsrv, file_env):
    _login(file_env)
    testsrv.stop()
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    line = out.stderr.strip()
    assert line.startswith("Logged out of testsrv (default). Not revoked at the server (")
    assert line.endswith("); removed locally.") and "\n" not in line
    assert run(["token", "testsrv"], file_env).returncode == 3


def test_logout_of_an_api_key_says_it_was_only_removed_here(file_env):
    assert run(["login", "openai"], file_env, input="sk-" + "a" * 40 + "\n").returncode == 0
    out = run(["logout", "openai"], file_env)
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("Logged out of openai (default). Removed locally")


def test_network_failure_names_the_host(testsrv, file_env, authsome_home):
    login_due(testsrv, file_env, expired=True)  # no current token to fall back on
    testsrv.stop()
    out = run(["token", "testsrv"], file_env)
    assert out.returncode == 8
    assert out.stderr.startswith("authsome: cannot reach 127.0.0.1")
    assert out.stderr.count("\n") == 1


def test_logout_of_nothing_is_not_logged_in(file_env):
    assert run(["logout", "openai"], file_env).returncode == 3


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("access_denied", "approve the request"),
        ("invalid_scope", "--scopes LIST"),
        ("invalid_client", "--client-id"),
        ("unauthorized_client", "--client-id"),
        ("temporarily_unavailable", "try again in a moment"),
        ("something_else", "authsome inspect testsrv"),
    ],
)
def test_a_refusal_keeps_the_servers_words_and_a_fix_that_can_work(code, fix):
    from authsome.oauth.tokens import OAuthError, refused
    from authsome.providers.schema import parse_provider

    data = {
        "name": "testsrv",
        "display_name": "Test Server",
        "auth_type": "oauth2",
        "flow": "pkce",
        "oauth": {"authorization_url": "https://a.example/a", "token_url": "https://a.example/t"},
        "export": {"env": {"access_token": "TESTSRV_TOKEN"}},
    }
    provider = parse_provider(data, "test", "testsrv")
    error = refused(provider, OAuthError(code, "the server's own words"), "the login", "testsrv")
    assert str(error).startswith(f"Test Server refused the login ({code}: the server's own words)")
    assert fix in error.fix


@pytest.mark.parametrize(
    ("client_id", "secret", "method", "form", "auth"),
    [
        ("id", "sec", "post", {"client_id": "id", "client_secret": "sec"}, None),
        ("id", None, "post", {"client_id": "id"}, None),
        (None, None, "post", {}, None),
        ("id", "sec", "basic", {}, ("id", "sec")),  # client_secret_basic: only the header
        ("id", None, "basic", {"client_id": "id"}, None),  # a public client names itself
        (None, "sec", "basic", {}, None),
    ],
)
def test_client_credentials(client_id, secret, method, form, auth):
    from authsome.oauth.tokens import client_credentials

    assert client_credentials(client_id, secret, method) == (form, auth)
