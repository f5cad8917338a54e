"""What `providers`, `inspect` and `list` show: they agree with each other and read well."""

import json

import pytest
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


def test_inspect_leaves_out_a_missing_docs_url(file_env, install_provider):
    install_provider(_api_key_provider("peer"))
    shown = run(["inspect", "peer"], file_env)
    assert shown.returncode == 0, shown.stderr
    assert "None" not in shown.stdout and "docs_url" not in shown.stdout
    assert "docs_url: https://" in run(["inspect", "openai"], file_env).stdout


def _device_column(file_env, name):
    rows = json.loads(run(["providers", "--json"], file_env).stdout)
    [row] = [r for r in rows if r["name"] == name]
    table = run(["providers"], file_env).stdout.splitlines()
    [line] = [line for line in table if line.split()[0] == name]
    return row["supports_device_code"], line.split()[3]


@pytest.mark.slow
def test_providers_and_inspect_agree_on_the_device_flow(oauth_server, file_env, install_provider):
    out = run(["register", "--issuer", oauth_server.url, "--name", "peer"], file_env)
    assert out.returncode == 0, out.stderr
    shown = json.loads(run(["inspect", "peer", "--json"], file_env).stdout)
    assert shown["oauth"]["supports_device_code"] is True
    assert _device_column(file_env, "peer") == (True, "yes")
    # An issuer never asked yet: providers does not go to the network to find out.
    install_provider(
        {
            "name": "later",
            "auth_type": "oauth2",
            "flow": "pkce",
            "oauth": {"issuer": oauth_server.url},
            "export": {"env": {"access_token": "LATER_TOKEN"}},
        }
    )
    fetched = len(oauth_server.state.requests)
    assert _device_column(file_env, "later") == (None, "?")
    assert len(oauth_server.state.requests) == fetched
    run(["inspect", "later"], file_env)
    assert _device_column(file_env, "later") == (True, "yes")
