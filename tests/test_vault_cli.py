"""The vault store from the command line, against a real OpenBao: two machines (two HOMEs and
AUTHSOME_HOMEs) that share nothing but the server, and each way of finding the Vault token."""

import json
import re
from pathlib import Path

import pytest
from baoserver import free_ports, machine
from clitools import login_due, run

pytestmark = pytest.mark.real

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
VAULT_TOKEN_SHAPE = re.compile(rb"\bs\.[A-Za-z0-9]{24}\b")  # OpenBao's service tokens
ALL_OF_SECRET = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'


def _ok(args, env, **kw):
    out = run(args, env, **kw)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture
def second(env, tmp_path, bao_server, vault_prefix):
    """Another machine: its own HOME and AUTHSOME_HOME, the same server and prefix."""
    return machine(env, tmp_path / "second", bao_server, vault_prefix)


def test_a_login_on_one_machine_is_seen_by_another(vault_env, second):
    _ok(["login", "openai"], vault_env, input=KEY + "\n")
    assert _ok(["token", "openai"], second).stdout == KEY + "\n"
    listed = json.loads(_ok(["list", "--json"], second).stdout)
    assert [(c["provider"], c["connection"], c["store"]) for c in listed] == [
        ("openai", "default", "vault")
    ]
    assert f"export OPENAI_API_KEY='{KEY}'" in _ok(["env"], second).stdout
    assert f"export OPENAI_API_KEY='{KEY}'" in _ok(["env", "openai"], second).stdout

    _ok(["logout", "openai"], second)
    out = run(["token", "openai"], vault_env)
    assert out.returncode == 3 and "not logged in to openai" in out.stderr
    assert json.loads(_ok(["list", "--json"], vault_env).stdout) == []


def test_an_oauth_login_is_refreshed_from_another_machine(vault_env, second, testsrv):
    """The second machine refreshes the first one's login; the first then gets the new
    token, and no refresh token is ever sent twice."""
    _install_provider(second, testsrv)
    login_due(testsrv, vault_env)
    refreshed = _ok(["token", "testsrv"], second).stdout.strip()
    assert testsrv.state.count("/token", "refresh_token") == 1
    assert _ok(["token", "testsrv"], vault_env).stdout.strip() == refreshed
    assert refreshed in testsrv.state.access and not testsrv.state.revoked_families


def _install_provider(environ, server):
    folder = Path(environ["AUTHSOME_HOME"]) / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "testsrv.json").write_text(json.dumps(server.provider()))


def test_the_token_from_the_vault_token_file(vault_env, bao_server, isolated_home):
    """~/.vault-token, as `bao login` or `vault login` leaves it, when VAULT_TOKEN is unset."""
    token = bao_server.make_token(["root"])
    (isolated_home / ".vault-token").write_text(token + "\n")
    (isolated_home / ".vault-token").chmod(0o600)  # as bao login leaves it
    environ = {k: v for k, v in vault_env.items() if k != "VAULT_TOKEN"}
    _ok(["login", "openai"], environ, input=KEY + "\n")
    assert _ok(["token", "openai"], environ).stdout == KEY + "\n"
    _no_vault_token_in(isolated_home, token, but=isolated_home / ".vault-token")


def test_bao_addr_and_bao_token_work_as_well(vault_env, bao_server):
    environ = {k: v for k, v in vault_env.items() if not k.startswith("VAULT_")}
    environ.update(BAO_ADDR=bao_server.addr, BAO_TOKEN=bao_server.root_token)
    _ok(["login", "openai"], environ, input=KEY + "\n")
    assert _ok(["token", "openai"], vault_env).stdout == KEY + "\n"


@pytest.mark.parametrize("from_files", [False, True], ids=["env", "files"])
def test_approle_from_the_environment_or_files(vault_env, bao_server, isolated_home, from_files):
    bao_server.put_policy("all-of-secret", ALL_OF_SECRET)  # AppRole never hands out root
    role_id, secret_id = bao_server.make_approle("authsome-ci", ["all-of-secret"])
    environ = {k: v for k, v in vault_env.items() if k != "VAULT_TOKEN"}
    if from_files:
        secrets_dir = isolated_home.parent / "run-secrets"
        secrets_dir.mkdir()
        (secrets_dir / "role-id").write_text(role_id + "\n")
        (secrets_dir / "secret-id").write_text(secret_id + "\n")
        for name in ("role-id", "secret-id"):
            (secrets_dir / name).chmod(0o600)  # others' access is refused (test_vault_trust.py)
        environ["VAULT_ROLE_ID_FILE"] = str(secrets_dir / "role-id")
        environ["VAULT_SECRET_ID_FILE"] = str(secrets_dir / "secret-id")
    else:
        environ.update(VAULT_ROLE_ID=role_id, VAULT_SECRET_ID=secret_id)
    _ok(["login", "openai"], environ, input=KEY + "\n")
    assert _ok(["token", "openai"], environ).stdout == KEY + "\n"
    assert "openai" in _ok(["list"], environ).stdout
    _ok(["doctor"], environ)
    _no_vault_token_in(isolated_home, secret_id)


def test_the_vault_token_is_never_written_anywhere(vault_env, isolated_home, testsrv):
    token = vault_env["VAULT_TOKEN"]
    _ok(["doctor", "--fix"], vault_env)  # the provider file that testsrv installed: 0600
    _ok(["login", "openai"], vault_env, input=KEY + "\n")
    _ok(["login", "testsrv"], vault_env)
    for args in (["token", "openai"], ["env"], ["list"], ["doctor"], ["logout", "openai"]):
        out = _ok(args, vault_env)
        assert token not in out.stdout + out.stderr
    _no_vault_token_in(isolated_home, token)


def _no_vault_token_in(home: Path, secret: str, but: Path | None = None) -> None:
    """No file under `home` (the HOME, with AUTHSOME_HOME inside) holds `secret` or any
    OpenBao token."""
    files = [p for p in home.rglob("*") if p.is_file() and p != but]
    assert files, "nothing was written: the check would prove nothing"
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data, path
        assert not VAULT_TOKEN_SHAPE.search(data), path


def test_https_with_the_servers_own_ca_in_vault_cacert(env, isolated_home, tmp_path):
    from baoserver import BaoServer

    server = BaoServer(tmp_path / "bao-tls", tls=True)
    try:
        environ = machine(env, isolated_home, server, "authsome")
        assert environ["VAULT_ADDR"].startswith("https://") and "VAULT_CACERT" in environ
        _ok(["login", "openai"], environ, input=KEY + "\n")
        assert _ok(["token", "openai"], environ).stdout == KEY + "\n"
        untrusted = {k: v for k, v in environ.items() if k != "VAULT_CACERT"}
        out = run(["token", "openai"], untrusted)
        assert out.returncode == 4 and out.stderr.count("\n") == 1, out.stderr
        assert "cannot reach the Vault server" in out.stderr
    finally:
        server.close()


def test_a_namespace_from_vault_namespace(vault_env, bao_server, vault_prefix, second):
    """OpenBao's namespaces: the same mount and prefix in another namespace is another store."""
    namespace = f"ns-{vault_prefix}"
    bao_server.api("POST", f"sys/namespaces/{namespace}")
    bao_server.api(
        "POST", f"{namespace}/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}
    )
    in_namespace = {**vault_env, "VAULT_NAMESPACE": namespace}
    _ok(["login", "openai"], in_namespace, input=KEY + "\n")
    assert _ok(["token", "openai"], {**second, "VAULT_NAMESPACE": namespace}).stdout == KEY + "\n"
    assert run(["token", "openai"], second).returncode == 3  # the root namespace has none
    stored = bao_server.api("GET", f"{namespace}/secret/data/{vault_prefix}/openai/default")
    assert "record" in stored["data"]["data"]


def test_a_vault_cacert_that_cannot_be_read(vault_env):
    out = run(["token", "openai"], {**vault_env, "VAULT_CACERT": "/nonexistent/ca.pem"})
    assert out.returncode == 9, out.stderr
    assert out.stderr.count("\n") == 1 and "/nonexistent/ca.pem" in out.stderr


def test_a_proxy_variable_that_applies_to_the_server_is_honoured(vault_env):
    """http.client knows no proxies: when HTTP_PROXY applies to the server, httpx (which
    honours it) makes the calls. A proxy that is not there proves which way they went."""
    _ok(["login", "openai"], vault_env, input=KEY + "\n")
    proxy = f"http://127.0.0.1:{free_ports(1)}"
    through = run(["token", "openai"], {**vault_env, "HTTP_PROXY": proxy, "NO_PROXY": ""})
    assert through.returncode == 4 and "cannot reach" in through.stderr, through.stderr
    around = {**vault_env, "HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost"}
    assert _ok(["token", "openai"], around).stdout == KEY + "\n"


@pytest.mark.parametrize("chosen_by", ["env", "config"])
def test_tab_offers_the_connections_that_another_machine_logged_in(vault_env, second, chosen_by):
    """Tab reads the listing kept in Vault (through its local copy), not this home's
    index.json, whether AUTHSOME_BACKEND or config.json chose the vault store."""
    _ok(["login", "openai"], vault_env, input=KEY + "\n")
    env = {
        **second,
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": "authsome token ",
        "COMP_CWORD": "2",
    }
    if chosen_by == "config":
        del env["AUTHSOME_BACKEND"]  # machine() wrote backend=vault into config.json
    assert _ok([], env).stdout.split() == ["plain,openai"]
    copy = Path(second["AUTHSOME_HOME"]) / "vault-index.json"
    assert copy.exists() and KEY not in copy.read_text()
