"""The recipes of docs/many-machines.md, run against a real OpenBao: the policy per team
prefix (enough for every command, nothing of another team's), and the CI recipe with AppRole,
run with the `bao` CLI exactly as the page writes it."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from baoserver import machine
from clitools import login_due, run

pytestmark = pytest.mark.real

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"

# docs/many-machines.md, "A policy per team": keep the two copies the same.
TEAM_POLICY = """\
# authsome for team-a: its connections, their listing (.index) and refresh locks (.locks/)
path "secret/data/authsome/team-a/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/authsome/team-a/*" {
  capabilities = ["read", "list", "delete"]
}
# What the default policy grants, for tokens made without it: doctor's TTL and access checks
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "sys/capabilities-self" {
  capabilities = ["update"]
}
"""

# docs/many-machines.md, "CI with AppRole": the job's set-up step.
CI_SETUP = """umask 077 && mkdir -p ~/.authsome && echo '{"backend": "vault", "vault": {"prefix": \
"authsome/team-a"}}' > ~/.authsome/config.json"""


def _ok(args, env, **kw):
    out = run(args, env, **kw)
    assert out.returncode == 0, out.stderr
    return out


def _team(bao_server, team: str) -> None:
    bao_server.put_policy(f"authsome-{team}", TEAM_POLICY.replace("team-a", team))


@pytest.fixture
def teams(vault_prefix) -> tuple[str, str]:
    """Two team names of this test's own (the server is shared by the module's tests)."""
    return f"a-{vault_prefix}", f"b-{vault_prefix}"


@pytest.fixture
def team_a(env, isolated_home, bao_server, testsrv, teams):
    """This machine, with a token that carries only team a's policy (not even 'default')."""
    for team in teams:
        _team(bao_server, team)
    token = bao_server.make_token([f"authsome-{teams[0]}"], no_default_policy=True)
    assert bao_server.lookup(token)["policies"] == [f"authsome-{teams[0]}"]
    return machine(env, isolated_home, bao_server, f"authsome/{teams[0]}", token=token)


def test_the_team_policy_is_enough_for_every_command(team_a, testsrv):
    _ok(["login", "openai"], team_a, input=KEY + "\n")
    login_due(testsrv, team_a)
    refreshed = _ok(["token", "testsrv"], team_a).stdout.strip()  # a refresh, through Vault
    assert testsrv.state.count("/token", "refresh_token") == 1
    assert refreshed in testsrv.state.access
    assert _ok(["token", "openai"], team_a).stdout == KEY + "\n"
    listed = {c["provider"] for c in json.loads(_ok(["list", "--json"], team_a).stdout)}
    assert listed == {"openai", "testsrv"}
    assert "OPENAI_API_KEY" in _ok(["env"], team_a).stdout
    _ok(["doctor", "--fix"], team_a)
    report = json.loads(_ok(["doctor", "--json"], team_a).stdout)
    assert report["shared"]["can"] == {"read": True, "write": True, "list": True}
    _ok(["logout", "openai"], team_a)
    _ok(["logout", "testsrv"], team_a)


def test_the_team_policy_keeps_out_of_another_teams_prefix(
    team_a, teams, bao_server, env, tmp_path
):
    team_b = machine(env, tmp_path / "b", bao_server, f"authsome/{teams[1]}")  # root: set-up
    _ok(["login", "openai"], team_b, input=KEY + "\n")
    token = team_a["VAULT_TOKEN"]
    intruder = machine(env, tmp_path / "intruder", bao_server, f"authsome/{teams[1]}", token)
    for args in (["token", "openai"], ["list"], ["env"], ["logout", "openai"]):
        out = run(args, intruder)
        assert out.returncode == 13, (args, out.stderr)
        assert "denied permission" in out.stderr and out.stderr.count("\n") == 1
    assert _ok(["token", "openai"], team_b).stdout == KEY + "\n"


def _bao_ok(bao_server, *args, **kw) -> str:
    out = bao_server.bao(*args, **kw)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_ci_recipe_with_approle(bao_server, env, tmp_path):
    """The CI recipe of docs/many-machines.md, step by step: the operator's, then the job's."""
    # Once, by an operator (docs/many-machines.md, "CI with AppRole").
    (tmp_path / "team-a.hcl").write_text(TEAM_POLICY)
    _bao_ok(bao_server, "auth", "enable", "approle")
    _bao_ok(bao_server, "policy", "write", "authsome-team-a", str(tmp_path / "team-a.hcl"))
    _bao_ok(
        bao_server,
        "write",
        "auth/approle/role/ci-team-a",
        "token_policies=authsome-team-a",
        "token_ttl=20m",
        "token_max_ttl=1h",
        "secret_id_ttl=24h",
    )
    role_id = _bao_ok(bao_server, "read", "-field=role_id", "auth/approle/role/ci-team-a/role-id")
    secret_id = _bao_ok(
        bao_server, "write", "-f", "-field=secret_id", "auth/approle/role/ci-team-a/secret-id"
    )
    # A developer logs in once, with their own token.
    dev = machine(env, tmp_path / "dev", bao_server, "authsome/team-a")
    _ok(["login", "openai"], dev, input=KEY + "\n")
    # The CI job: a fresh machine, the role_id and secret_id from the CI's secret variables.
    ci_home = tmp_path / "ci"
    ci_home.mkdir()
    ci = {k: v for k, v in env.items() if k not in ("AUTHSOME_HOME", "AUTHSOME_BACKEND")}
    ci.update(
        HOME=str(ci_home),
        VAULT_ADDR=bao_server.addr,
        VAULT_ROLE_ID=role_id.strip(),
        VAULT_SECRET_ID=secret_id.strip(),
        GITHUB_ENV=str(tmp_path / "github-env"),
    )
    subprocess.run(["sh", "-c", CI_SETUP], env=ci, check=True)
    out = _ok(["env", "--format", "github-actions", "openai"], ci)
    assert f"::add-mask::{KEY}" in out.stdout
    assert KEY in (tmp_path / "github-env").read_text()
    assert _ok(["token", "openai"], ci).stdout == KEY + "\n"
    _ok(["doctor"], ci)
    # `authsome run`, the key compared by its digest (a secret is never put in argv).
    out = _ok(["run", "--", "sh", "-c", 'printf %s "$OPENAI_API_KEY" | sha256sum'], ci)
    assert out.stdout.split()[0] == hashlib.sha256(KEY.encode()).hexdigest()


READ_ONLY = """
path "secret/data/{prefix}/*" {{ capabilities = ["read"] }}
path "secret/metadata/{prefix}/*" {{ capabilities = ["read", "list"] }}
"""


def _reader(bao_server, prefix: str) -> str:
    """A token that may read and list under `prefix`, and write nothing."""
    bao_server.put_policy(f"read-{prefix}", READ_ONLY.format(prefix=prefix))
    return bao_server.make_token([f"read-{prefix}"])


def test_a_read_only_token_serves_api_keys(env, isolated_home, bao_server, tmp_path, vault_prefix):
    writer = machine(env, tmp_path / "writer", bao_server, vault_prefix)
    _ok(["login", "openai"], writer, input=KEY + "\n")
    token = _reader(bao_server, vault_prefix)
    reader = machine(env, isolated_home, bao_server, vault_prefix, token=token)
    assert _ok(["token", "openai"], reader).stdout == KEY + "\n"
    assert "openai" in _ok(["list"], reader).stdout
    out = run(["login", "anthropic"], reader, input="sk-ant-" + "a" * 40 + "\n")
    assert out.returncode == 13 and "denied permission to write" in out.stderr


def test_a_read_only_token_never_spends_a_refresh_token(
    env, tmp_path, bao_server, testsrv, vault_prefix
):
    token = _reader(bao_server, vault_prefix)
    writer = machine(env, tmp_path / "writer", bao_server, vault_prefix)
    reader = machine(env, tmp_path / "reader", bao_server, vault_prefix, token=token)
    for environ in (writer, reader):
        folder = Path(environ["AUTHSOME_HOME"]) / "providers"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "testsrv.json").write_text(json.dumps(testsrv.provider()))
    login_due(testsrv, writer)
    # Due: the refresh lock in Vault is a write, refused before any refresh token is spent.
    out = run(["token", "testsrv"], reader)
    assert out.returncode == 13 and "denied permission to write" in out.stderr, out.stderr
    assert testsrv.state.count("/token", "refresh_token") == 0
    _ok(["token", "testsrv"], writer)
    assert not testsrv.state.revoked_families


def test_the_readme_shows_the_policy_and_the_ci_line_that_these_tests_run():
    """docs/many-machines.md's policy and CI set-up line are the ones tested here, not a
    drifted copy."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "many-machines.md").read_text()
    assert TEAM_POLICY in page
    assert CI_SETUP in page
