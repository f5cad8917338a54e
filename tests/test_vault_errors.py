"""Each way the vault store fails, against a real OpenBao: a documented exit code, one line that
says what happened and how to fix it, and nothing changed, here or in Vault."""

import hashlib
import time
from pathlib import Path

import pytest
from baoserver import free_ports
from clitools import run

pytestmark = pytest.mark.real

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
COMMANDS = (
    (["token", "openai"], None),
    (["list"], None),
    (["env"], None),
    (["login", "openai", "--force"], KEY[:-1] + "9\n"),
    (["logout", "openai"], None),
)


def _tree(home: Path) -> dict[str, str]:
    """Every file and folder under `home`, with a digest of each file's bytes."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "/"
        for p in sorted(home.rglob("*"))
    }


@pytest.fixture
def logged_in(vault_env, isolated_home):
    """openai logged in through Vault; the HOME as it was then."""
    out = run(["login", "openai"], vault_env, input=KEY + "\n")
    assert out.returncode == 0, out.stderr
    assert run(["list"], vault_env).returncode == 0  # the local copy of the listing is made
    return _tree(isolated_home)


def _each_command_fails(environ, home, before, code, *phrases):
    for args, stdin in COMMANDS:
        out = run(args, environ, input=stdin)
        assert out.returncode == code, (args, out.stderr)
        assert out.stdout == ""
        line = out.stderr
        assert line.startswith("authsome: ") and line.count("\n") == 1, (args, line)
        for phrase in phrases:
            assert phrase in line, (args, line)
        for secret in ("VAULT_TOKEN", "VAULT_SECRET_ID"):
            assert environ.get(secret, "unset") not in line
    assert _tree(home) == before, "a failed command changed the local state"


def _still_logged_in(vault_env):
    out = run(["token", "openai"], vault_env)
    assert (out.returncode, out.stdout) == (0, KEY + "\n"), out.stderr


def test_sealed(vault_env, bao_server, isolated_home, logged_in):
    bao_server.seal()
    try:
        _each_command_fails(vault_env, isolated_home, logged_in, 4, "is sealed", "unseal")
    finally:
        bao_server.unseal()
    _still_logged_in(vault_env)


def test_unreachable(vault_env, isolated_home, logged_in):
    closed = {**vault_env, "VAULT_ADDR": f"http://127.0.0.1:{free_ports(1)}"}
    _each_command_fails(closed, isolated_home, logged_in, 4, "cannot reach", "VAULT_ADDR")
    _still_logged_in(vault_env)


def test_a_server_that_does_not_answer_is_given_up_at_the_deadline(
    vault_env, bao_server, isolated_home, logged_in
):
    import signal

    bao_server.proc.send_signal(signal.SIGSTOP)  # it accepts connections, and says nothing
    try:
        start = time.monotonic()
        out = run(["token", "openai"], {**vault_env, "AUTHSOME_HTTP_TIMEOUT": "2"})
        took = time.monotonic() - start
    finally:
        bao_server.proc.send_signal(signal.SIGCONT)
    assert out.returncode == 4, out.stderr
    assert "did not answer within 2 s" in out.stderr and out.stderr.count("\n") == 1
    assert took < 15
    assert _tree(isolated_home) == logged_in
    _still_logged_in(vault_env)


def test_a_policy_that_denies_the_prefix(vault_env, bao_server, isolated_home, logged_in):
    bao_server.put_policy(
        "elsewhere", 'path "secret/data/elsewhere/*" { capabilities = ["read", "update"] }'
    )
    token = bao_server.make_token(["elsewhere"])
    denied = {**vault_env, "VAULT_TOKEN": token}
    _each_command_fails(denied, isolated_home, logged_in, 13, "denied permission", "policy")
    _still_logged_in(vault_env)


def test_an_expired_token(vault_env, bao_server, isolated_home, logged_in):
    token = bao_server.make_token(["root"], ttl="1s")
    bao_server.wait_refused("GET", "auth/token/lookup-self", token=token)
    expired = {**vault_env, "VAULT_TOKEN": token}
    _each_command_fails(expired, isolated_home, logged_in, 13, "invalid or has expired")
    _still_logged_in(vault_env)


def test_a_revoked_token(vault_env, bao_server, isolated_home, logged_in):
    token = bao_server.make_token(["root"])
    bao_server.revoke(token)
    revoked = {**vault_env, "VAULT_TOKEN": token}
    _each_command_fails(revoked, isolated_home, logged_in, 13, "invalid or has expired")


def test_a_kv_version_1_mount(vault_env, bao_server, isolated_home, logged_in, vault_prefix):
    mount = f"kv1-{vault_prefix}"
    bao_server.mount_kv(mount, version=1)
    on_v1 = {**vault_env}
    config = Path(vault_env["AUTHSOME_HOME"]) / "config.json"
    saved = config.read_text()
    config.write_text(saved.replace('{"prefix"', f'{{"mount": "{mount}", "prefix"'))
    try:
        before = _tree(isolated_home)
        _each_command_fails(on_v1, isolated_home, before, 9, "KV version 1", "kv-v2")
    finally:
        config.write_text(saved)
    assert (
        bao_server.http.request(  # nothing was written to the v1 mount either
            "LIST", f"/v1/{mount}/", headers={"X-Vault-Token": bao_server.root_token}
        ).status_code
        == 404
    )
    _still_logged_in(vault_env)


def test_no_vault_token_at_all(vault_env, isolated_home, logged_in):
    assert not (isolated_home / ".vault-token").exists()
    none = {k: v for k, v in vault_env.items() if k != "VAULT_TOKEN"}
    _each_command_fails(none, isolated_home, logged_in, 9, "no Vault token", "VAULT_TOKEN")


def test_no_vault_address_at_all(vault_env, isolated_home, logged_in):
    none = {k: v for k, v in vault_env.items() if k != "VAULT_ADDR"}
    _each_command_fails(none, isolated_home, logged_in, 9, "VAULT_ADDR")


@pytest.mark.parametrize("fault", ["wrong", "expired"])
def test_a_bad_secret_id(vault_env, bao_server, isolated_home, logged_in, fault):
    role_id, secret_id = bao_server.make_approle(
        f"authsome-{fault}", ["default"], secret_id_ttl="1s"
    )
    if fault == "wrong":
        secret_id = "not-the-secret-id"
    else:
        login = {"role_id": role_id, "secret_id": secret_id}
        bao_server.wait_refused("POST", "auth/approle/login", login)
    bad = {k: v for k, v in vault_env.items() if k != "VAULT_TOKEN"}
    bad.update(VAULT_ROLE_ID=role_id, VAULT_SECRET_ID=secret_id)
    _each_command_fails(bad, isolated_home, logged_in, 13, "AppRole login", "VAULT_SECRET_ID")
