"""Against a standard OpenID Connect server (node-oidc-provider): `register --issuer`, then
`login` in the device and PKCE flows with no client ID and no scopes given, then refresh with
rotation, and logout with revocation."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from clitools import AUTHSOME_BIN, age, run
from oidc_server import Lines, Person

from authsome.factory import Context

pytestmark = pytest.mark.slow


def _register(server, env, name="peer"):
    out = run(["register", "--issuer", server.issuer, "--name", name], env)
    assert out.returncode == 0, out.stderr


def _device_login(server, env, person=None, *args):
    """`authsome login peer --flow device_code`, with a person entering the code it shows."""
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "login", "peer", "--flow", "device_code", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = Lines(proc.stderr)
    try:
        uri = err.wait_for(r"^Visit (\S+) on any device").group(1)
        code = err.wait_for(r"enter the user code: (\S+)").group(1)
        page = (person or Person(server.issuer)).enter_code(uri, code)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err.rest(), page


def _stored(env, name="peer"):
    return Context(env).connections.load(name)


def test_register_then_device_login_needs_no_client_id_and_no_scopes(oidc_server, file_env):
    _register(oidc_server, file_env)
    code, err, page = _device_login(oidc_server, file_env)
    assert code == 0, err
    assert "Sign-in Success" in page.text
    assert "Registered authsome as a client of peer" in err
    assert "Successfully logged in to peer (default)." in err
    conn = _stored(file_env)
    # openid and offline_access were offered, asked for and granted: a refresh token came.
    assert set(conn.scopes) == {"openid", "offline_access"}
    assert conn.secrets.get("refresh_token")
    # The client was registered for the device grant, public (no secret).
    answer = httpx.get(
        f"{oidc_server.issuer}/reg/{conn.client_id}",
        headers={"Authorization": f"Bearer {conn.secrets['registration_access_token']}"},
    )
    client = answer.json()
    assert "urn:ietf:params:oauth:grant-type:device_code" in client["grant_types"]
    assert client["token_endpoint_auth_method"] == "none"
    # The token works at the server's userinfo endpoint.
    token = run(["token", "peer"], file_env).stdout.strip()
    me = httpx.get(f"{oidc_server.issuer}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["sub"] == "alice"


def _browser(tmp_path: Path, issuer: str, approve: bool = True) -> tuple[str, Path]:
    """A $BROWSER command: a person who follows the URL through the server's pages."""
    log = tmp_path / "browser.log"
    script = tmp_path / "browser.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from oidc_server import Person\n"
        f"person = Person({issuer!r}, approve={approve!r})\n"
        "answer = person.authorize(sys.argv[1])\n"
        f"open({str(log)!r}, 'w').write(str(answer.status_code) + ' ' + answer.text)\n"
    )
    return f"{sys.executable} {script} %s", log


def _pkce_env(env, tmp_path, issuer, approve=True):
    command, log = _browser(tmp_path, issuer, approve)
    # A display, as on a desktop: authsome opens $BROWSER there.
    return {**env, "DISPLAY": ":99", "BROWSER": command}, log


def test_register_then_pkce_login_needs_no_client_id_and_no_scopes(oidc_server, file_env, tmp_path):
    _register(oidc_server, file_env)
    env, log = _pkce_env(file_env, tmp_path, oidc_server.issuer)
    out = run(["login", "peer"], env)
    assert out.returncode == 0, out.stderr
    assert "Opened your browser" in out.stderr
    assert "Logged in" in log.read_text()
    conn = _stored(file_env)
    assert set(conn.scopes) == {"openid", "offline_access"}
    assert conn.secrets.get("refresh_token") and conn.secrets.get("id_token")


def test_refresh_rotates_and_the_server_detects_reuse(make_oidc_server, file_env):
    server = make_oidc_server()
    _register(server, file_env)
    assert _device_login(server, file_env)[0] == 0
    first = _stored(file_env)
    age(file_env, "peer")  # due for refresh
    out = run(["token", "peer"], file_env)
    assert out.returncode == 0, out.stderr
    second = _stored(file_env)
    assert out.stdout.strip() == second.secrets["access_token"] != first.secrets["access_token"]
    assert second.secrets["refresh_token"] != first.secrets["refresh_token"]  # rotated
    # Someone replays the spent refresh token: the server refuses it and ends the whole grant,
    # so authsome's next refresh is refused too, with the server's words and a fix that works.
    replay = httpx.post(
        f"{server.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.secrets["refresh_token"],
            "client_id": first.client_id,
        },
    )
    assert replay.json()["error"] == "invalid_grant"
    age(file_env, "peer")
    out = run(["token", "peer"], file_env)
    assert out.returncode == 7, out.stderr
    assert "invalid_grant: grant request is invalid" in out.stderr
    assert "authsome login peer --force" in out.stderr


def test_a_denied_device_login_shows_the_servers_words(oidc_server, file_env):
    _register(oidc_server, file_env)
    code, err, _ = _device_login(oidc_server, file_env, Person(oidc_server.issuer, approve=False))
    assert code == 7, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("authsome: peer refused the authorization (access_denied: ")
    assert "approve" in line  # the way out: approve it next time


def test_a_denied_pkce_login_says_what_can_be_done(oidc_server, file_env, tmp_path):
    _register(oidc_server, file_env)
    env, _ = _pkce_env(file_env, tmp_path, oidc_server.issuer, approve=False)
    out = run(["login", "peer"], env)
    assert out.returncode == 7, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("authsome: peer refused the authorization (access_denied: ")
    assert "End-User aborted interaction" in line
    assert "approve the request" in line and "--scopes" in line  # not just "log in again"


def test_logout_revokes_at_the_server_and_says_so(oidc_server, file_env):
    _register(oidc_server, file_env)
    assert _device_login(oidc_server, file_env)[0] == 0
    token = run(["token", "peer"], file_env).stdout.strip()
    out = run(["logout", "peer"], file_env)
    assert out.returncode == 0, out.stderr
    assert "Logged out of peer (default). Revoked at the server and removed locally." in (
        out.stderr
    )
    me = httpx.get(f"{oidc_server.issuer}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
