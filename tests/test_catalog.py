"""What `providers`, `inspect` and `list` show: they agree with each other and read well."""

import json

from clitools import run


def _api_key_provider(name: str) -> dict:
    return {
        "name": name,
        "auth_type": "api_key",
        "flow": "api_key",
        "api_key": {"env_var": f"{name.upper()}_KEY"},
        "export": {"env": {"api_key": f"{name.upper()}_KEY"}},
    }


def test_list_sorts_by_provider_then_connection(file_env, install_provider):
    install_provider(_api_key_provider("peer"))
    install_provider(_api_key_provider("peer2"))
    for ref in ("peer2", "peer:work", "peer", "peer2:a"):
        out = run(["login", ref], file_env, input="some-key-value\n")
        assert out.returncode == 0, out.stderr
    rows = json.loads(run(["list", "--json"], file_env).stdout)
    assert [(r["provider"], r["connection"]) for r in rows] == [
        ("peer", "default"),
        ("peer", "work"),
        ("peer2", "a"),
        ("peer2", "default"),
    ]
    table = run(["list"], file_env).stdout.splitlines()[1:]
    assert [line.split()[:2] for line in table] == [
        ["peer", "default"],
        ["peer", "work"],
        ["peer2", "a"],
        ["peer2", "default"],
    ]
