"""Login flows end to end from the installed CLI against the local OAuth server."""

import json
import re
import socket
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest
from clitools import AUTHSOME_BIN, default_sigint, run
from conftest import TEST_PASSPHRASE
from ptyrun import PtyProcess

from authsome.errors import AuthFailed
from authsome.factory import Context
from authsome.oauth import DEVICE_GRANT, device
from authsome.oauth.request import LoginRequest


@pytest.fixture(params=["file", "keychain"])
def store_env(request, env):
    """The environment for each store: the encrypted file, or the real Secret Service."""
    if request.param == "file":
        yield {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
        return
    service = request.getfixturevalue("secret_service")
    yield_env = {**env, **service.env(), "AUTHSOME_BACKEND": "keychain"}
    yield yield_env
    ctx = Context(yield_env)
    for key in ctx.store_choice.store.list():
        ctx.store_choice.store.delete(key)


def test_device_code_login_end_to_end(testsrv, store_env):
    testsrv.state.approve_after_polls = 1  # the person approves after the first poll
    out = run(["login", "testsrv"], store_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert f"Visit {testsrv.url}/device on any device with a browser\n" in out.stderr
    assert "and enter the user code: " in out.stderr
    assert "\n\nWaiting for authorization...\n" in out.stderr
    assert out.stderr.rstrip().endswith("Successfully logged in to testsrv (default).")
    token = run(["token", "testsrv"], store_env)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip() in testsrv.state.access
    assert testsrv.state.count("/token", DEVICE_GRANT) == 2  # one pending, one approved


def test_device_code_message_is_flushed_when_piped(testsrv, file_env):
    testsrv.state.approve_after_polls = None  # nobody approves
    proc = subprocess.Popen(  # noqa: S602 - the pipe is the point of the test
        f"{AUTHSOME_BIN} login testsrv 2>&1 | cat",
        shell=True,
        env=file_env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 - it is sent SIGINT
    )
    start = time.monotonic()
    assert proc.stdout.readline().startswith("Visit ")
    assert time.monotonic() - start < 10
    import os
    import signal

    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(10)


class FakeTime:
    """A clock and sleep for the flow; the server is real, only waiting is skipped."""

    def __init__(self):
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _ctx(env, fake):
    return Context(env, clock=fake.clock, sleep=fake.sleep)


def _request(ctx, flow="device_code", scopes=()):
    """What `authsome login testsrv` asks of a flow, its client already settled."""
    provider = ctx.registry.get("testsrv")
    return LoginRequest(
        provider=provider, hint="testsrv", flow=flow, client_id="test-client", scopes=list(scopes)
    )


def test_slow_down_adds_five_seconds(testsrv, file_env):
    testsrv.state.interval = 1
    testsrv.state.slow_down_polls = 2
    testsrv.state.approve_after_polls = 3  # slow_down, slow_down, pending, approved
    fake = FakeTime()
    ctx = _ctx(file_env, fake)
    polls = []
    original = ctx.http.post_form

    def spy(url, data, **kw):
        if data.get("grant_type") == DEVICE_GRANT:
            polls.append(fake.now)
        return original(url, data, **kw)

    ctx.http.post_form = spy
    tokens = device.run(ctx, _request(ctx, scopes=["read"]))
    assert tokens.access_token in testsrv.state.access
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert polls[0] == 1_001.0  # the server's interval of 1 s
    assert gaps == [6.0, 11.0, 11.0]  # +5 after each slow_down, kept afterwards


def test_interval_defaults_to_five_seconds(testsrv, file_env, monkeypatch):
    testsrv.state.approve_after_polls = 1
    fake = FakeTime()
    ctx = _ctx(file_env, fake)
    original = ctx.http.post_form

    def no_interval(url, data, **kw):
        status, body = original(url, data, **kw)
        body.pop("interval", None)
        return status, body

    ctx.http.post_form = no_interval
    start = fake.now
    device.run(ctx, _request(ctx))
    assert fake.now - start == 10.0  # two polls, five seconds apart


@pytest.mark.parametrize(
    "given, waited",
    [
        *[(0.5, 0.5), ("2", 2.0), (1e-9, 0.1)],  # as given, never under a tenth of a second
        *[(0, 5.0), (-1, 5.0), ("nan", 5.0), ("inf", 5.0), (10**400, 5.0), (True, 5.0)],
    ],
)
def test_a_positive_interval_is_kept_as_the_server_gave_it(testsrv, file_env, given, waited):
    """A fractional interval was read as 0, and so as the default 5 s: ten times slower."""
    testsrv.state.interval = given
    fake = FakeTime()
    ctx = _ctx(file_env, fake)
    start = fake.now
    device.run(ctx, _request(ctx))
    assert fake.now - start == pytest.approx(waited)  # approved at the first poll


def test_expiry_stops_with_a_clear_error(testsrv, file_env):
    testsrv.state.approve_after_polls = None
    testsrv.state.device_expires_in = 4
    fake = FakeTime()
    ctx = _ctx(file_env, fake)
    with pytest.raises(AuthFailed, match="expired before it was approved") as info:
        device.run(ctx, _request(ctx))
    assert "run: authsome login testsrv" in str(info.value).lower()
    assert fake.now - 1_000.0 <= 4.0


def test_expired_token_from_server(testsrv, file_env):
    testsrv.state.approve_after_polls = None
    testsrv.state.device_expires_in = 1
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 7
    assert "expired before it was approved" in out.stderr


@pytest.mark.parametrize("github_style", [False, True])
def test_denial(testsrv, file_env, github_style):
    testsrv.state.deny = True
    testsrv.state.github_style = github_style
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 7
    # The server's own words, and a way out that can work (not only "log in again").
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "authsome: Test Server refused the authorization"
            " (access_denied: The user denied the request). Run authsome login testsrv"
            " --flow device_code and approve the request; if you did approve it,"
        )
    )
    assert "--scopes" in out.stderr
    assert run(["list", "--json"], file_env).stdout.strip() == "[]"


def test_github_style_200_errors_are_read(testsrv, file_env):
    testsrv.state.github_style = True
    testsrv.state.slow_down_polls = 0
    testsrv.state.approve_after_polls = 1
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert "Successfully logged in" in out.stderr


def test_ctrl_c_while_polling_exits_130_and_stores_nothing(testsrv, file_env, authsome_home):
    testsrv.state.approve_after_polls = None
    proc = PtyProcess([AUTHSOME_BIN, "login", "testsrv"], file_env)
    proc.expect(b"Waiting for authorization...")
    proc.expect(b"left")  # the countdown shows on a terminal
    # ... and is the only "Waiting" there: no plain line above it saying the same.
    assert b"Waiting for authorization...\r\n" not in proc.screen
    assert b"Waiting for authorization...\n" not in proc.screen
    proc.interrupt()
    assert proc.wait(20) == 130
    assert b"authsome: cancelled." in proc.screen and b"Traceback" not in proc.screen
    index = authsome_home / "index.json"
    assert not index.exists() or json.loads(index.read_text())["connections"] == {}


def start_pkce(server, env):
    """Start `authsome login --flow pkce --no-browser`; return it and the URL it printed."""
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "login", "testsrv", "--flow", "pkce", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in proc.stderr:
        if line.strip().startswith(f"{server.url}/authorize?"):
            return proc, line.strip()
    raise AssertionError("no authorization URL printed")


def test_pkce_login_end_to_end(testsrv, store_env):
    proc, url = start_pkce(testsrv, store_env)
    assert (
        url and "code_challenge_method=S256" in url and "redirect_uri=http%3A%2F%2F127.0.0.1" in url
    )
    # The "browser": the server approves at once and redirects to the loopback listener.
    redirect = httpx.get(url).headers["location"]
    assert redirect.startswith("http://127.0.0.1:")
    page = httpx.get(redirect)
    assert "You can close this tab" in page.text
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == ""
    assert "Successfully logged in to testsrv (default)." in err
    assert run(["token", "testsrv"], store_env).stdout.strip() in testsrv.state.access


def test_pkce_answers_a_foreign_state_with_400_and_keeps_waiting(testsrv, file_env):
    proc, url = start_pkce(testsrv, file_env)
    redirect = httpx.get(url).headers["location"]
    # Anyone can send the loopback listener a request: a wrong or missing state is refused,
    # and does not end the login.
    assert httpx.get(redirect.replace("state=", "state=forged")).status_code == 400
    assert httpx.get(re.sub(r"state=[^&]*&?", "", redirect)).status_code == 400
    time.sleep(0.3)
    assert proc.poll() is None
    assert "You can close this tab" in httpx.get(redirect).text
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Successfully logged in to testsrv (default)." in err


def test_pkce_an_idle_connection_does_not_hold_up_the_redirect(testsrv, file_env):
    proc, url = start_pkce(testsrv, file_env)
    redirect = httpx.get(url).headers["location"]
    # A connection that never sends a request (a browser's preconnect, or a local process
    # stalling the login on purpose) is open while the real redirect arrives.
    with socket.create_connection(("127.0.0.1", urlsplit(redirect).port)):
        assert "You can close this tab" in httpx.get(redirect, timeout=5).text
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_pkce_requires_iss_when_the_metadata_promises_it(testsrv, file_env, install_provider):
    # Endpoints from the issuer's metadata, which says every redirect carries `iss` (RFC 9207).
    provider = testsrv.provider(flow="pkce")
    provider["oauth"] = {"issuer": testsrv.url, "client_id": "test-client"}
    install_provider(provider)
    testsrv.state.iss_supported = True
    proc, url = start_pkce(testsrv, file_env)
    httpx.get(httpx.get(url).headers["location"])  # a redirect without iss
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 7, err
    assert "the redirect has no issuer (iss)" in err
    testsrv.state.issuer = testsrv.url
    proc, url = start_pkce(testsrv, file_env)
    httpx.get(httpx.get(url).headers["location"])
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_pkce_checks_the_issuer(testsrv, file_env, authsome_home):
    (authsome_home / "providers" / "testsrv.json").write_text(
        json.dumps(testsrv.provider(oauth={"issuer": "https://issuer.example"}))
    )
    testsrv.state.issuer = "https://evil.example"
    proc, url = start_pkce(testsrv, file_env)
    httpx.get(httpx.get(url).headers["location"])
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 7 and "issuer" in err


def test_already_logged_in_is_refused_then_force_works(testsrv, file_env):
    assert run(["login", "testsrv"], file_env).returncode == 0
    again = run(["login", "testsrv"], file_env)
    assert again.returncode == 10
    assert "authsome logout testsrv" in again.stderr and "--force" in again.stderr
    assert run(["login", "testsrv", "--force"], file_env).returncode == 0


def test_connections_and_shorthand(testsrv, file_env):
    assert run(["login", "testsrv:work"], file_env).returncode == 0
    assert run(["login", "testsrv", "--connection", "home"], file_env).returncode == 0
    rows = json.loads(run(["list", "--json"], file_env).stdout)
    assert sorted(r["connection"] for r in rows) == ["home", "work"]
    assert run(["token", "testsrv"], file_env).returncode == 3
    assert run(["token", "testsrv:work"], file_env).returncode == 0


def test_pkce_times_out_after_five_minutes(testsrv, file_env):
    from authsome.oauth import pkce

    ticks = iter([0.0, 0.0, 1.0, 299.0, 301.0, 302.0])
    opened = []
    ctx = Context(file_env, clock=lambda: next(ticks, 400.0), browser=opened.append)
    with pytest.raises(AuthFailed, match="no answer from Test Server within 5 minutes"):
        pkce.run(ctx, _request(ctx, "pkce"))
    # The browser gets the one-use loopback URL that redirects to the authorization URL.
    assert len(opened) == 1 and opened[0].startswith("http://127.0.0.1:")
    assert "/start/" in opened[0] and "state=" not in opened[0]


def test_scope_separator_is_used(testsrv, file_env, authsome_home):
    (authsome_home / "providers" / "testsrv.json").write_text(
        json.dumps(testsrv.provider(oauth={"scope_separator": ","}))
    )
    out = run(["login", "testsrv", "--scopes", "read,write,admin"], file_env)
    assert out.returncode == 0, out.stderr
    sent = [form for path, form in testsrv.state.requests if path == "/device/code"]
    assert sent[0]["scope"] == "read,write,admin"


def test_client_secret_basic(oauth_server, install_provider, file_env):
    """A provider that wants client_secret_basic (as Zoom does) gets the secret in the header."""
    install_provider(
        oauth_server.provider(oauth={"client_auth": "basic", "client_secret_required": True})
    )
    env = {**file_env, "TESTSRV_CLIENT_SECRET": "s3cret-client"}
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    sent = [
        form for path, form in oauth_server.state.requests if path in ("/token", "/device/code")
    ]
    assert sent and all(f.get("_basic") == "test-client:s3cret-client" for f in sent)
    assert not any("client_secret" in f for f in sent)
    assert "s3cret-client" not in out.stderr


# ESC sequences that clear the screen and hide a link (OSC 8), BEL, 8-bit CSI, a bidi override.
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;https://evil.example/\x07"
END_LINK = "\x1b]8;;\x1b\\"
HOSTILE_TEXT = f"{CLEAR}{LINK}visible{END_LINK}\x9b31m\u202e\x07"


def _terminal_safe(text: str) -> bool:
    """No C0 control but newline and tab, no DEL, no C1, no bidi override."""
    return not any(
        (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text
    )


def test_device_code_and_uri_are_printed_without_control_characters(testsrv, file_env):
    testsrv.state.device_override = {
        "user_code": f"{CLEAR}WDJB-MJHT{LINK}",
        "verification_uri": f"{LINK}{testsrv.url}/device{END_LINK}\u202e\x9b2J",
    }
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert _terminal_safe(out.stderr), repr(out.stderr)
    assert "enter the user code: [2J[HWDJB-MJHT]8;;https://evil.example/\n" in out.stderr
    assert f"]8;;https://evil.example/{testsrv.url}/device]8;;\\2J on any" in out.stderr


def test_server_error_text_is_printed_without_control_characters(testsrv, file_env):
    testsrv.state.token_error = ("odd_error" + CLEAR, "no\nway " + HOSTILE_TEXT)
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 7
    assert _terminal_safe(out.stderr), repr(out.stderr)
    assert "refused the authorization (odd_error[2J[H: no way [2J[H]8;;" in out.stderr
    assert out.stderr.splitlines()[-1].startswith("authsome: Test Server refused")  # one line


def test_device_start_error_is_printed_safely(testsrv, file_env):
    testsrv.state.device_override = {"error": "bad" + HOSTILE_TEXT, "device_code": None}
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 7 and "refused to start a device login (bad" in out.stderr
    assert _terminal_safe(out.stderr), repr(out.stderr)


def test_revocation_error_is_printed_safely(testsrv, file_env):
    assert run(["login", "testsrv"], file_env).returncode == 0
    testsrv.state.revoke_status = 400
    testsrv.state.revoke_error = "nope" + HOSTILE_TEXT + "\nauthsome: forged line"
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0 and "Not revoked at the server (127.0.0.1 answered" in out.stderr
    assert _terminal_safe(out.stderr), repr(out.stderr)
    assert not any(line.startswith("authsome: forged") for line in out.stderr.splitlines())


@pytest.mark.parametrize(
    "text,one_line,multiline",
    [
        ("plain ünï 🔑 text", "plain ünï 🔑 text", "plain ünï 🔑 text"),
        ("a\nb\tc\rd", "a b c d", "a\nb\tc d"),
        (HOSTILE_TEXT, "[2J[H]8;;https://evil.example/visible]8;;\\31m", None),
        ("\x00\x7f\x85\x9f\u200b\u2066x", "x", "x"),
    ],
)
def test_printable(text, one_line, multiline):
    from authsome.util.termtext import printable

    assert printable(text) == one_line
    assert printable(text, multiline=True) == (multiline or one_line)


def test_with_no_display_a_pkce_provider_logs_in_with_the_device_flow(
    testsrv, file_env, install_provider
):
    install_provider(testsrv.provider(flow="pkce"))
    url = "https://verify.example/device?user_code=1234-5678"
    testsrv.state.device_override = {"verification_uri_complete": url}
    out = run(["login", "testsrv"], file_env)  # no DISPLAY: this is SSH, or a container
    assert out.returncode == 0, out.stderr
    assert "no display here, so this login uses the device code flow" in out.stderr
    assert "authsome login testsrv --flow pkce" in out.stderr
    assert f"with the code already in it:\n\n  {url}\n" in out.stderr
    assert testsrv.state.count("/device/code") == 1


def test_with_a_display_a_pkce_provider_keeps_its_flow(testsrv, file_env, install_provider):
    install_provider(testsrv.provider(flow="pkce"))
    env = {**file_env, "DISPLAY": ":0", "BROWSER": "true"}  # a browser that opens nothing
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "login", "testsrv"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in proc.stderr:
        if line.strip().startswith(f"{testsrv.url}/authorize?"):
            httpx.get(httpx.get(line.strip()).headers["location"])
            break
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert testsrv.state.count("/device/code") == 0
