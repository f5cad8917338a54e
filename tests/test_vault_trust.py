"""What the vault store trusts (#24): files that hold a Vault credential must be private, as
the passphrase file must; plain http to another machine is said aloud; and names and values
that a hostile writer put in Vault never reach the terminal. Against a real OpenBao."""

import json
import os
from pathlib import Path

import pytest
from clitools import run

pytestmark = pytest.mark.real
KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
ALL_OF_SECRET = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
ESC = "\x1b"
TITLE = "\x1b]0;owned\x07"  # retitles the terminal window
CLEAR = "\x1b[2J\x1b[H"  # clears the screen


def _credential_files(which, vault_env, bao_server, isolated_home) -> tuple[dict, Path]:
    """The environment that reads the Vault credential from a file, and the file that `which`
    names (written 0644, as a careless `echo > file` under umask 022 leaves it)."""
    environ = {k: v for k, v in vault_env.items() if k != "VAULT_TOKEN"}
    if which == "~/.vault-token":
        path = isolated_home / ".vault-token"
        path.write_text(bao_server.make_token(["root"]) + "\n")
        path.chmod(0o644)
        return environ, path
    bao_server.put_policy("all-of-secret", ALL_OF_SECRET)
    role_id, secret_id = bao_server.make_approle("trust", ["all-of-secret"])
    ids = {"role": role_id, "secret": secret_id}
    folder = isolated_home.parent / "run-secrets"
    folder.mkdir()
    for kind in ("role", "secret"):
        path = folder / f"{kind}-id"
        path.write_text(ids[kind] + "\n")
        path.chmod(0o600)
        environ[f"VAULT_{kind.upper()}_ID_FILE"] = str(path)
    path = Path(environ[which])
    path.chmod(0o644)
    return environ, path


@pytest.mark.parametrize("which", ["~/.vault-token", "VAULT_ROLE_ID_FILE", "VAULT_SECRET_ID_FILE"])
def test_a_credential_file_others_may_read_is_refused(vault_env, bao_server, isolated_home, which):
    """Before: read and used without a word, while an open passphrase file was refused."""
    environ, path = _credential_files(which, vault_env, bao_server, isolated_home)
    out = run(["login", "openai"], environ, input=KEY + "\n")
    assert out.returncode == 9, out.stderr
    [line] = out.stderr.splitlines()
    assert f"{path} is open to other users (mode 0644)" in line
    assert line.endswith(f"Run: chmod 600 {path}")
    doctor = run(["doctor"], environ)
    assert doctor.returncode == 11 and f"problem:   {line[len('authsome: ') :]}" in doctor.stdout
    path.chmod(0o600)
    assert run(["login", "openai"], environ, input=KEY + "\n").returncode == 0


def test_plain_http_to_another_machine_is_a_warning_and_a_doctor_problem(vault_env):
    """Before: the Vault token went over plain http to any host without a word."""
    far = {**vault_env, "VAULT_ADDR": "http://vault.invalid:8200", "AUTHSOME_HTTP_TIMEOUT": "2"}
    warning = (
        "authsome: warning: the Vault address http://vault.invalid:8200 is plain http to"
        " vault.invalid: the Vault token and every secret cross the network unencrypted."
        " Use an https:// address."
    )
    out = run(["token", "openai"], far)
    assert out.returncode == 4 and out.stderr.splitlines()[0] == warning, out.stderr
    doctor = run(["doctor"], far)
    assert doctor.returncode == 11
    assert "problem:   the Vault address http://vault.invalid:8200 is plain http" in doctor.stdout
    # Loopback (this test server) is not another machine: no warning.
    near = run(["login", "openai"], vault_env, input=KEY + "\n")
    assert near.returncode == 0 and "warning" not in near.stderr, near.stderr


def _write(bao_server, vault_env, path: str, data: dict) -> None:
    """Write `data` at `path` under the test's prefix, as a hostile machine could."""
    from urllib.parse import quote

    prefix = json.loads((Path(vault_env["AUTHSOME_HOME"]) / "config.json").read_text())
    where = quote(f"{prefix['vault']['prefix']}/{path}")
    bao_server.api("POST", f"secret/data/{where}", {"data": data})


def _tab(vault_env, line: str):
    words = line.split()
    protocol = {
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - (0 if line.endswith(" ") else 1)),
    }
    return run([], {**vault_env, **protocol})


def test_hostile_names_in_the_shared_listing_never_reach_the_terminal(vault_env, bao_server):
    """Before: `list` printed a name with an escape sequence from Vault's index as it was, and
    Tab offered it."""
    assert run(["login", "openai"], vault_env, input=KEY + "\n").returncode == 0
    entry = {"auth_type": "api_key", "backend": "vault", "status": "connected", "created_at": 1}
    hostile = {
        f"{TITLE}x:default": {**entry, "provider": f"{TITLE}x", "connection": "default"},
        "openai:default": {
            **entry,
            "provider": "openai",
            "connection": "default",
            "auth_type": CLEAR,
        },
    }
    _write(bao_server, vault_env, ".index", {"version": 1, "connections": hostile})
    # OpenBao refuses control characters in a path, but not a name that breaks the name rule.
    record = {"provider": "-rf", "connection": "default", "secrets": {"api_key": KEY}}
    _write(bao_server, vault_env, "-rf/default", {"record": json.dumps(record)})
    os.unlink(Path(vault_env["AUTHSOME_HOME"]) / "vault-index.json")  # Tab asks Vault itself
    tab = _tab(vault_env, "authsome token ")
    assert tab.returncode == 0 and ESC not in tab.stdout + tab.stderr
    listed = run(["list"], vault_env)
    assert ESC not in listed.stdout + listed.stderr
    # The damaged listing is rebuilt from the records, of which only openai is authsome's.
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["PROVIDER", "openai"]
    assert "openai" in _tab(vault_env, "authsome token ").stdout


@pytest.mark.parametrize("args", [["token", "openai"], ["env", "openai"]])
def test_a_hostile_secret_in_a_record_is_a_one_line_error(vault_env, bao_server, args):
    """Before: `token` printed a key with an escape sequence that another machine wrote."""
    assert run(["login", "openai"], vault_env, input=KEY + "\n").returncode == 0
    prefix = json.loads((Path(vault_env["AUTHSOME_HOME"]) / "config.json").read_text())
    stored = bao_server.kv_read(f"{prefix['vault']['prefix']}/openai/default")
    record = json.loads(stored["record"])
    record["secrets"]["api_key"] = KEY + CLEAR
    _write(bao_server, vault_env, "openai/default", {"record": json.dumps(record)})
    out = run(args, vault_env)
    assert ESC not in out.stdout + out.stderr
    assert out.returncode == 6 and out.stdout == "", out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith("authsome: ") and line.endswith(
        "the stored record openai:default is corrupt. Remove it with: authsome logout openai"
    )
