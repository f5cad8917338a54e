"""`authsome doctor` with the vault store, against a real OpenBao: the address, the mount and
prefix, the token's remaining TTL and policies, and whether authsome may read and write there."""

import json
import re

import pytest
from clitools import run

pytestmark = pytest.mark.real

READ_ONLY = """
path "secret/data/{prefix}/*" {{ capabilities = ["read"] }}
path "secret/metadata/{prefix}/*" {{ capabilities = ["read", "list"] }}
"""


def _doctor(environ):
    """(exit code, the report for people, the JSON report)."""
    text = run(["doctor"], environ)
    data = run(["doctor", "--json"], environ)
    assert text.returncode == data.returncode
    return text.returncode, text.stdout, json.loads(data.stdout)


def test_the_root_token(vault_env, bao_server, vault_prefix):
    code, text, report = _doctor(vault_env)
    assert code == 0, text
    shared = report["shared"]
    assert shared["address"] == bao_server.addr and shared["sealed"] is False
    assert (shared["mount"], shared["prefix"]) == ("secret", vault_prefix)
    assert shared["token_source"] == "VAULT_TOKEN"
    assert shared["token_ttl"] == 0 and shared["policies"] == ["root"]
    assert shared["can"] == {"read": True, "write": True, "list": True}
    assert f"server:    {bao_server.addr} (unsealed)" in text
    assert f"kv:        mount secret/, prefix {vault_prefix}/" in text
    assert "token:     from VAULT_TOKEN; never expires; policies: root" in text
    assert "access:    read yes, write yes, list yes" in text
    assert vault_env["VAULT_TOKEN"] not in text + json.dumps(report)


def test_a_team_token_with_a_ttl(vault_env, bao_server, vault_prefix):
    bao_server.put_policy(
        "team",
        READ_ONLY.format(prefix=vault_prefix).replace('"read"]', '"read", "create", "update"]'),
    )
    token = bao_server.make_token(["team"], ttl="2h")
    code, text, report = _doctor({**vault_env, "VAULT_TOKEN": token})
    assert code == 0, text
    assert report["shared"]["policies"] == ["default", "team"]
    assert 7100 < report["shared"]["token_ttl"] <= 7200
    # 2h 00m when doctor runs within the second the token was made
    assert re.search(r"; (1h 59m|2h 00m) left; policies: default, team", text), text
    assert token not in text + json.dumps(report)


def test_a_token_that_may_only_read_is_a_problem(vault_env, bao_server, vault_prefix):
    bao_server.put_policy("reader", READ_ONLY.format(prefix=vault_prefix))
    code, text, report = _doctor({**vault_env, "VAULT_TOKEN": bao_server.make_token(["reader"])})
    assert code == 11
    assert report["shared"]["can"] == {"read": True, "write": False, "list": True}
    assert "access:    read yes, write NO, list yes" in text
    assert (
        f"problem:   the Vault token may not write under secret/{vault_prefix}. Ask for a policy"
        " that grants it (README, Many machines)"
    ) in text


def test_a_sealed_server_is_a_problem(vault_env, bao_server):
    bao_server.seal()
    try:
        code, text, report = _doctor(vault_env)
    finally:
        bao_server.unseal()
    assert code == 11
    assert report["shared"]["sealed"] is True
    assert f"server:    {bao_server.addr} (sealed)" in text
    assert "is sealed. Ask its operator to unseal it" in report["shared"]["error"]
    assert "token:" not in text


def test_an_expired_token_is_a_problem(vault_env, bao_server):
    token = bao_server.make_token(["default"], ttl="1s")
    bao_server.wait_refused("GET", "auth/token/lookup-self", token=token)
    code, text, report = _doctor({**vault_env, "VAULT_TOKEN": token})
    assert code == 11
    assert "the Vault token from VAULT_TOKEN is invalid or has expired" in text


def test_an_unreachable_server_is_a_problem(vault_env):
    from baoserver import free_ports

    code, text, report = _doctor({**vault_env, "VAULT_ADDR": f"http://127.0.0.1:{free_ports(1)}"})
    assert code == 11
    assert "cannot reach the Vault server" in report["shared"]["error"]
