"""What a provider file written after login, or registered, may not do (#24): move where logout
sends tokens, move a bundled provider's endpoints or hosts without --force, claim a bundled
provider's git hosts or registries, wildcard a public suffix, or export a token under a name that
is not a credential's. Through the installed CLI, against the test OAuth server."""

import json
from pathlib import Path

import pytest
from clitools import run
from oauth_server import OAuthServer

from authsome.providers import envnames
from authsome.storage.connection import Connection

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SECRET = "cs-0123456789abcdef"


@pytest.fixture
def collector():
    """A second server, where a changed provider file points: it must receive nothing."""
    server = OAuthServer()
    yield server
    server.stop()


def _login(env):
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr


def test_logout_sends_nothing_to_a_revocation_endpoint_moved_since_login(
    testsrv, file_env, install_provider, collector
):
    env = {**file_env, "TESTSRV_CLIENT_SECRET": CLIENT_SECRET}  # the login keeps a secret too
    _login(env)
    install_provider(testsrv.provider(oauth={"revocation_url": f"{collector.url}/revoke"}))
    out = run(["logout", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    assert collector.state.requests == []  # no refresh token, access token or client secret
    assert testsrv.state.revoked == []
    assert out.stderr == (
        "Logged out of testsrv (default). Not revoked at the server: the revocation endpoint"
        f" moved since login (from {testsrv.url} to {collector.url}); removed locally.\n"
    )
    assert run(["token", "testsrv"], env).returncode == 3  # removed all the same


def test_logout_revokes_at_another_origin_named_at_login(
    testsrv, file_env, install_provider, collector
):
    """A revocation endpoint on another origin than the token endpoint's is kept with the login."""
    install_provider(testsrv.provider(oauth={"revocation_url": f"{collector.url}/revoke"}))
    _login(file_env)
    out = run(["logout", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert "Revoked at the server and removed locally." in out.stderr
    assert [hint for hint, _ in collector.state.revoked] == ["refresh_token", "access_token"]


def test_a_record_names_the_revocation_origin_only_when_it_is_another():
    """Left out when it is the token endpoint's, so older versions (say, on another machine
    that shares a Vault store) still read the record."""
    conn = Connection("testsrv", "default", "oauth2", token_origin="https://a.example")
    conn.secrets["access_token"] = "at-1"  # a record without a credential reads as corrupt
    assert "revocation_origin" not in json.loads(conn.to_json())
    conn.revocation_origin = "https://b.example"
    again = Connection.from_json(conn.key, conn.to_json())
    assert again.revocation_origin == "https://b.example"


@pytest.mark.parametrize(
    "name,override,field",
    [
        ("gitlab", {"oauth": {"revocation_url": "https://collect.example/revoke"}}, "revocation"),
        ("google", {"oauth": {"token_url": "https://collect.example/token"}}, "token_url"),
        ("github", {"oauth": {"issuer": "https://collect.example"}}, "oauth.issuer"),
        ("gitlab", {"hosts": ["gitlab.com", "collect.example"]}, "hosts"),
        ("github", {"git": {"hosts": ["github.com", "collect.example"]}}, "git.hosts"),
        ("github", {"docker": {"registries": ["collect.example"]}}, "docker.registries"),
    ],
)
def test_an_override_that_moves_a_bundled_providers_credentials_needs_force(
    file_env, tmp_path, authsome_home, name, override, field
):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, **override}))
    out = run(["register", str(path)], file_env)
    assert out.returncode == 9 and out.stdout == "", out.stderr
    assert f"of the bundled provider {name}" in out.stderr and field in out.stderr
    assert "--force" in out.stderr and len(out.stderr.splitlines()) == 1
    assert not (authsome_home / "providers" / f"{name}.json").exists()
    out = run(["register", "--force", str(path)], file_env)
    assert out.returncode == 0, out.stderr


def test_an_override_that_moves_nothing_needs_no_force(file_env, tmp_path):
    path = tmp_path / "github.json"
    path.write_text(json.dumps({"name": "github", "flow": "pkce", "oauth": {"scopes": ["repo"]}}))
    out = run(["register", str(path)], file_env)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    "section,expected",
    [
        ({"git": {"hosts": ["github.com"], "username": "x"}}, "git host 'github.com'"),
        ({"docker": {"registries": ["ghcr.io"], "username": "x"}}, "docker registry 'ghcr.io'"),
        ({"docker": {"registries": ["eu.gcr.io"], "username": "x"}}, "provider google"),
    ],
)
def test_register_refuses_a_bundled_providers_git_host_or_registry(
    file_env, tmp_path, authsome_home, section, expected
):
    path = tmp_path / "acme.json"
    definition = {
        "name": "acme",
        "auth_type": "api_key",
        "export": {"env": {"api_key": "ACME_KEY"}},
        **section,
    }
    path.write_text(json.dumps(definition))
    out = run(["register", str(path)], file_env)
    assert out.returncode == 9, out.stderr
    assert expected in out.stderr and "belongs to the bundled provider" in out.stderr
    assert "--force" in out.stderr
    assert not (authsome_home / "providers" / "acme.json").exists()


def _acme(tmp_path, **over) -> Path:
    path = tmp_path / "acme.json"
    definition = {"name": "acme", "auth_type": "api_key"}
    definition.setdefault("export", {"env": {"api_key": "ACME_KEY"}})
    path.write_text(json.dumps({**definition, **over}))
    return path


@pytest.mark.parametrize("pattern", ["*.co.uk", "*.github.io", "*.workers.dev", "*.com.au:8443"])
def test_a_wildcard_over_a_public_suffix_is_refused(file_env, tmp_path, pattern):
    out = run(["register", str(_acme(tmp_path, hosts=[pattern]))], file_env)
    assert out.returncode == 9, out.stderr
    assert "public suffix" in out.stderr and repr(pattern) in out.stderr


@pytest.mark.parametrize("pattern", ["*.acme.co.uk", "*.acme.github.io", "api.github.io"])
def test_a_wildcard_under_a_public_suffix_is_allowed(file_env, tmp_path, pattern):
    out = run(["register", str(_acme(tmp_path, hosts=[pattern]))], file_env)
    assert out.returncode == 0, out.stderr


# Named in #24: each makes a program run or load what its value says (vim runs VIMINIT as Ex
# commands, on `vim` and on the editor `git commit` opens).
NOT_CREDENTIAL_NAMES = [
    "VIMINIT",
    "EXINIT",
    "LUA_INIT",
    "JAVA_OPTS",
    "MAVEN_OPTS",
    "DOTNET_STARTUP_HOOKS",
    "PSModulePath",
    "FCEDIT",
    "CURL_HOME",
    "WGETRC",
    "_TOKEN",  # a suffix alone is not a name
]


@pytest.mark.parametrize("var", NOT_CREDENTIAL_NAMES)
def test_an_export_name_must_look_like_a_credential(file_env, tmp_path, authsome_home, var):
    path = _acme(tmp_path, export={"env": {"api_key": var}})
    out = run(["register", str(path)], file_env)
    assert out.returncode == 9 and out.stdout == ""
    assert f"names {var}, which does not look like a credential" in out.stderr
    assert "_TOKEN, _KEY, _SECRET" in out.stderr  # the rule
    assert f'export {var}="$(authsome token acme)"' in out.stderr  # the way out
    assert len(out.stderr.splitlines()) == 1
    assert not (authsome_home / "providers" / "acme.json").exists()


def test_an_override_file_exporting_viminit_stops_env(file_env, install_provider):
    """An override dropped in by hand is checked when loaded: env exports nothing."""
    key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
    assert run(["login", "openai"], file_env, input=key + "\n").returncode == 0
    install_provider({"name": "openai", "export": {"env": {"api_key": "VIMINIT"}}})
    out = run(["env", "openai"], file_env)
    assert out.returncode == 9 and out.stdout == ""
    assert "names VIMINIT" in out.stderr and key not in out.stderr


# Names that look like credentials but steer a program: the deny list behind the rule.
CREDENTIAL_LOOKING_BUT_RESERVED = [
    "VAULT_TOKEN",  # authsome's own Vault store reads it
    "BAO_TOKEN",
    "PASSWORD_STORE_KEY",  # pass encrypts new passwords to this key ID
    "GOOGLE_APPLICATION_CREDENTIALS",  # a path to a file that may name a program to run
    "GIT_TOKEN",
    "AUTHSOME_TOKEN",
    "NPM_CONFIG__AUTH_TOKEN",
    "PIP_PASSWORD",
]


@pytest.mark.parametrize("var", CREDENTIAL_LOOKING_BUT_RESERVED)
def test_credential_looking_names_still_meet_the_deny_list(file_env, tmp_path, var):
    out = run(["register", str(_acme(tmp_path, export={"env": {"api_key": var}}))], file_env)
    assert out.returncode == 9
    assert f"names {var}, which changes how shells or other programs behave" in out.stderr


@pytest.mark.parametrize("var", ["ACME_API_KEY", "acme_token", "ACME_PAT", "DB_PASSWORD"])
def test_credential_names_are_accepted(file_env, tmp_path, var):
    out = run(["register", str(_acme(tmp_path, export={"env": {"api_key": var}}))], file_env)
    assert out.returncode == 0, out.stderr


def test_every_bundled_provider_still_loads(file_env):
    bundled = sorted(p.stem for p in (ROOT / "providers").glob("*.json"))
    out = run(["providers", "--json"], file_env)
    assert out.returncode == 0, out.stderr
    assert sorted(row["name"] for row in json.loads(out.stdout)) == bundled
    for name in bundled:
        data = json.loads((ROOT / "providers" / f"{name}.json").read_text())
        for var in data.get("export", {}).get("env", {}).values():
            assert envnames.credential_like(var) and not envnames.reserved(var), (name, var)
