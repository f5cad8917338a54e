"""Dynamic client registration and issuer metadata discovery, against the local server."""

import json
import subprocess

import httpx
import pytest
from clitools import AUTHSOME_BIN, age, run

from authsome.errors import AuthFailed, ConfigError
from authsome.factory import Context
from authsome.oauth import discovery


@pytest.fixture
def dyn(oauth_server, install_provider):
    """A provider that says nothing but its issuer."""
    install_provider(
        {
            "name": "dyn",
            "auth_type": "oauth2",
            "flow": "dcr_pkce",
            "oauth": {"issuer": oauth_server.url},
            "export": {"env": {"access_token": "DYN_TOKEN"}},
        }
    )
    return oauth_server


def _login_pkce(server, env, *args):
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "login", "dyn", "--no-browser", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    before = []
    for line in proc.stderr:
        before.append(line)
        if line.strip().startswith(f"{server.url}/authorize?"):
            url = line.strip()
            break
    answer = httpx.get(url)
    assert answer.status_code == 302, answer.text
    httpx.get(answer.headers["location"])
    _, err = proc.communicate(timeout=30)
    return proc.returncode, "".join(before) + err, url


def test_dcr_pkce_end_to_end_with_only_an_issuer(dyn, file_env):
    code, err, url = _login_pkce(dyn, file_env)
    assert code == 0, err
    assert "Registered authsome as a client of dyn" in err
    [client] = dyn.state.registrations
    assert f"client_id={client['client_id']}" in url
    token = run(["token", "dyn"], file_env).stdout.strip()
    assert token in dyn.state.access
    # A later login reuses the registration (and its registered redirect port).
    code, err, _ = _login_pkce(dyn, file_env, "--force")
    assert code == 0, err
    assert len(dyn.state.registrations) == 1
    assert "Registered authsome" not in err


def test_registered_client_is_stored_encrypted_with_the_connection(dyn, file_env, authsome_home):
    assert _login_pkce(dyn, file_env)[0] == 0
    [client] = dyn.state.registrations
    ctx = Context(file_env)
    conn = ctx.connections.load("dyn")
    assert conn.client_id == client["client_id"]
    assert conn.secrets["registration_access_token"] == client["registration_access_token"]
    for path in authsome_home.rglob("*"):
        if path.is_file():
            assert client["registration_access_token"].encode() not in path.read_bytes()


def test_the_stored_registration_is_not_a_login(dyn, file_env):
    """The registration shares the store with logins, but list, doctor and env ignore it."""
    assert _login_pkce(dyn, file_env)[0] == 0
    out = run(["list", "--json"], file_env)
    assert out.returncode == 0, out.stderr
    assert [(r["provider"], r["connection"]) for r in json.loads(out.stdout)] == [
        ("dyn", "default")
    ]
    assert out.stderr == ""
    doctor = run(["doctor", "--json"], file_env)
    assert "@client" not in doctor.stdout, doctor.stdout


def test_refresh_uses_the_discovered_token_endpoint(dyn, file_env):
    assert _login_pkce(dyn, file_env)[0] == 0
    age(file_env, "dyn")  # due for refresh
    out = run(["token", "dyn"], file_env)
    assert out.returncode == 0, out.stderr
    assert dyn.state.count("/token", "refresh_token") == 1


def test_registration_error_shows_the_server_text(dyn, file_env):
    dyn.state.registration_error = "redirect URIs must use https"
    proc = run(["login", "dyn", "--no-browser"], file_env)
    assert proc.returncode == 7
    assert "redirect URIs must use https" in proc.stderr
    assert "refused to register authsome" in proc.stderr


def test_issuer_must_match_the_metadata(dyn, file_env):
    dyn.state.metadata_issuer = "https://evil.example"
    out = run(["inspect", "dyn", "--refresh"], file_env)
    assert out.returncode == 7
    assert "is for issuer 'https://evil.example'" in out.stderr


def test_openid_configuration_is_the_fallback(oauth_server, file_env):
    oauth_server.state.metadata_paths = {"/.well-known/openid-configuration"}
    ctx = Context(file_env)
    assert discovery.fetch(ctx.http, oauth_server.url)["token_endpoint"].endswith("/token")
    oauth_server.state.metadata_paths = set()
    with pytest.raises(ConfigError, match="no authorization server metadata"):
        discovery.fetch(ctx.http, oauth_server.url)


@pytest.mark.slow
def test_metadata_is_cached_and_refreshable(dyn, file_env):
    def fetches():
        return sum(1 for p, _ in dyn.state.requests if p.startswith("/.well-known/"))

    data = json.loads(run(["inspect", "dyn", "--json"], file_env).stdout)
    assert data["oauth"]["registration_url"] == f"{dyn.url}/register"
    assert data["oauth"]["supports_device_code"] is True
    assert "dcr_pkce" in json.loads(run(["inspect", "dyn", "--json"], file_env).stdout)["flow"]
    assert fetches() == 1
    run(["inspect", "dyn", "--refresh"], file_env)
    assert fetches() == 2


def test_device_code_through_discovery(dyn, file_env):
    out = run(["login", "dyn", "--flow", "device_code", "--client-id", "test-client"], file_env)
    assert out.returncode == 0, out.stderr
    assert "Successfully logged in to dyn (default)." in out.stderr


def test_device_code_registers_a_client_for_the_device_grant(dyn, file_env):
    """No client ID anywhere: the device flow registers a public client with its grant."""
    out = run(["login", "dyn", "--flow", "device_code"], file_env)
    assert out.returncode == 0, out.stderr
    [client] = dyn.state.registrations
    assert client["grant_types"] == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
    ]
    [poll] = [f for p, f in dyn.state.requests if p == "/device/code"]
    assert poll["client_id"] == client["client_id"]
    # The PKCE flow gets a client of its own (with its redirect URI); each is reused after.
    assert _login_pkce(dyn, file_env, "--force")[0] == 0
    assert run(["login", "dyn", "--flow", "device_code", "--force"], file_env).returncode == 0
    assert [c["grant_types"][0] for c in dyn.state.registrations] == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "authorization_code",
    ]


@pytest.mark.parametrize(
    ("offered", "asked", "prompt"),
    [
        (["openid", "offline_access", "email"], "openid offline_access", "consent"),
        (["openid", "email"], "openid", None),
        (["read", "write"], None, None),  # not OpenID Connect: nothing to choose from
    ],
)
def test_scopes_come_from_the_metadata_when_the_provider_names_none(
    dyn, file_env, offered, asked, prompt
):
    dyn.state.scopes_supported = offered
    code, err, _ = _login_pkce(dyn, file_env)
    assert code == 0, err
    [authorize] = [q for p, q in dyn.state.requests if p == "/authorize"]
    assert authorize.get("scope") == asked
    # OpenID Connect Core 11: offline_access counts only with prompt=consent.
    assert authorize.get("prompt") == prompt
    [registration] = [json.loads(f["_json"]) for p, f in dyn.state.requests if p == "/register"]
    assert registration.get("scope") == asked
    shown = json.loads(run(["inspect", "dyn", "--json"], file_env).stdout)
    assert shown["oauth"]["scopes"] == (asked.split() if asked else [])


def test_register_from_an_issuer(oauth_server, file_env, authsome_home):
    out = run(["register", "--issuer", oauth_server.url, "--name", "found"], file_env)
    assert out.returncode == 0, out.stderr
    data = json.loads((authsome_home / "providers" / "found.json").read_text())
    assert data["oauth"] == {"issuer": oauth_server.url} and data["flow"] == "dcr_pkce"
    shown = json.loads(run(["inspect", "found", "--json"], file_env).stdout)
    assert shown["oauth"]["token_url"] == f"{oauth_server.url}/token"


def test_issuer_mismatch_is_an_auth_error_in_process(oauth_server, file_env):
    oauth_server.state.metadata_issuer = oauth_server.url + "/other"
    with pytest.raises(AuthFailed):
        discovery.fetch(Context(file_env).http, oauth_server.url)


def test_root_metadata_may_describe_the_origin(oauth_server, file_env):
    oauth_server.state.root_resource_metadata = True
    http = Context(file_env).http
    assert discovery.issuer_for(http, f"{oauth_server.url}/elsewhere") == oauth_server.url


def test_a_resource_may_name_its_metadata_in_its_challenge(oauth_server, file_env):
    http = Context(file_env).http
    assert discovery.issuer_for(http, f"{oauth_server.url}/mcp-hinted") == oauth_server.url
    paths = [p for p, _ in oauth_server.state.requests]
    # The MCP authorization spec: the challenge's metadata first, the well-known URLs only
    # when it names none.
    assert paths == ["/mcp-hinted", "/meta/prm-hinted"]


def test_challenge_metadata_about_another_resource_is_refused(oauth_server, file_env):
    oauth_server.state.hinted_resource = "https://evil.example/mcp"
    with pytest.raises(AuthFailed, match="describes 'https://evil.example/mcp'"):
        discovery.issuer_for(Context(file_env).http, f"{oauth_server.url}/mcp-hinted")


def test_no_resource_metadata_anywhere_names_every_place_tried(oauth_server, file_env):
    with pytest.raises(ConfigError) as e:
        discovery.issuer_for(Context(file_env).http, f"{oauth_server.url}/nothing")
    assert "/.well-known/oauth-protected-resource/nothing (HTTP 404)" in str(e.value)
    assert "/.well-known/oauth-protected-resource (HTTP 404)" in str(e.value)


class ChallengeOnly:
    """A fake Http (unit test): no well-known metadata; a 401 naming plain-http metadata."""

    def __init__(self):
        self.fetched = []

    def get_json(self, url):
        self.fetched.append(url)
        return 404, {}

    def challenge(self, url):
        return 'Bearer error="invalid_token", resource_metadata="http://mcp.example/prm"'


def test_an_https_resource_does_not_follow_its_challenge_to_plain_http():
    http = ChallengeOnly()
    with pytest.raises(ConfigError, match="not https, not used"):
        discovery.issuer_for(http, "https://mcp.example/mcp")
    assert "http://mcp.example/prm" not in http.fetched


def test_a_protected_resource_leads_to_its_issuer(oauth_server, install_provider, file_env):
    """As for an MCP server: only the resource URL is known (RFC 9728, then RFC 8414)."""
    install_provider(
        {
            "name": "dyn",
            "auth_type": "oauth2",
            "flow": "dcr_pkce",
            "oauth": {"resource": f"{oauth_server.url}/mcp"},
            "export": {"env": {"access_token": "DYN_TOKEN"}},
        }
    )
    code, err, url = _login_pkce(oauth_server, file_env)
    assert code == 0, err
    resource = f"{oauth_server.url}/mcp"
    authorize = [q for p, q in oauth_server.state.requests if p == "/authorize"]
    token = [
        f
        for p, f in oauth_server.state.requests
        if p == "/token" and f.get("grant_type") == "authorization_code"
    ]
    assert authorize[0]["resource"] == resource and token[0]["resource"] == resource  # RFC 8707
    shown = json.loads(run(["inspect", "dyn", "--json"], file_env).stdout)
    assert shown["oauth"]["issuer"] == oauth_server.url


class Listener:
    """A TCP port on 127.0.0.2 that records whoever connects (and what they send first)."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.2", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import contextlib

        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                conn.settimeout(2)
                with conn, contextlib.suppress(OSError):
                    self.received.append(conn.recv(65536))

    def close(self):
        self.sock.close()


@pytest.fixture
def elsewhere():
    listener = Listener()
    yield listener
    listener.close()


@pytest.mark.slow
@pytest.mark.parametrize("field", list(discovery.ENDPOINTS))
def test_discovered_endpoints_must_be_https(dyn, file_env, field):
    bad = f"http://127.0.0.2:{dyn.server_address[1]}/x"
    dyn.state.metadata_override = {field: bad}
    out = run(["inspect", "dyn", "--refresh"], file_env)
    assert out.returncode == 9, out.stderr
    assert f"{field} '{bad}'" in out.stderr and "is not an https:// URL" in out.stderr


def test_plain_http_token_endpoint_gets_no_secret(dyn, file_env, elsewhere):
    """The review's demonstration: metadata moved the token endpoint to plain http elsewhere."""
    dyn.state.metadata_override = {"token_endpoint": f"http://127.0.0.2:{elsewhere.port}/token"}
    env = {**file_env, "DYN_CLIENT_SECRET": "client-secret-xyz"}
    out = run(["login", "dyn", "--flow", "device_code", "--client-id", "test-client"], env)
    assert out.returncode == 9, out.stderr
    assert "token_endpoint" in out.stderr and f"127.0.0.2:{elsewhere.port}" in out.stderr
    assert elsewhere.received == []
    assert dyn.state.count("/device/code") == 0  # refused before anything was sent


def test_an_issuer_on_plain_http_elsewhere_is_refused(oauth_server, file_env, elsewhere):
    issuer = f"http://127.0.0.2:{elsewhere.port}"
    out = run(["register", "--issuer", issuer, "--name", "found"], file_env)
    assert out.returncode == 9, out.stderr
    assert f"issuer '{issuer}'" in out.stderr
    assert elsewhere.received == []


def test_protected_resource_must_name_an_https_authorization_server(
    oauth_server, install_provider, file_env, elsewhere
):
    install_provider(
        {
            "name": "dyn",
            "auth_type": "oauth2",
            "flow": "dcr_pkce",
            "oauth": {"resource": f"{oauth_server.url}/mcp"},
        }
    )
    bad = f"http://127.0.0.2:{elsewhere.port}"
    oauth_server.state.authorization_servers = [bad]
    out = run(["inspect", "dyn", "--refresh"], file_env)
    assert out.returncode == 9, out.stderr
    assert f"authorization_servers '{bad}'" in out.stderr
    assert elsewhere.received == []


def test_a_cached_plain_http_endpoint_is_refused(dyn, file_env, authsome_home):
    assert run(["inspect", "dyn"], file_env).returncode == 0
    cache = authsome_home / "cache" / "discovery" / "dyn.json"
    doc = json.loads(cache.read_text())
    doc["metadata"]["token_endpoint"] = "http://127.0.0.2:1/token"
    cache.write_text(json.dumps(doc))
    out = run(["login", "dyn", "--flow", "device_code", "--client-id", "test-client"], file_env)
    assert out.returncode == 9 and "the cached metadata in" in out.stderr, out.stderr


def test_registration_error_text_is_printed_without_control_characters(dyn, file_env):
    dyn.state.registration_error = "\x1b[2J\x1b]8;;https://evil.example/\x07use https\x9b31m"
    out = run(["login", "dyn", "--no-browser"], file_env)
    assert out.returncode == 7
    assert "(invalid_client_metadata: [2J]8;;https://evil.example/use https31m)" in out.stderr
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in out.stderr)
