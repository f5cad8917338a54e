"""`authsome mcp config NAME --client C [--write]`: the entry that starts `authsome mcp NAME`
in each MCP client's config file, printed or added to the file with its other entries kept.
YAML is read back by Ruby's Psych (a real YAML parser; authsome has none)."""

import json
import subprocess
import tomllib

import pytest
from clitools import AUTHSOME_BIN, run
from realparts import require

from authsome.services import mcpclients

GOOSE_BEFORE = """\
# goose's own settings, with a comment that must survive
GOOSE_PROVIDER: anthropic
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
GOOSE_MODE: smart_approve
"""

CODEX_BEFORE = """\
model = "o4-mini"  # a comment that must survive

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]
"""


def _yaml(path) -> dict:
    ruby = require("ruby")
    script = (
        "require 'yaml'; require 'json'; print JSON.generate(YAML.safe_load(File.read(ARGV[0])))"
    )
    out = subprocess.run([ruby, "-e", script, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_each_client_gets_its_own_shape():
    argv = ["/usr/bin/authsome", "mcp", "linear-mcp"]
    assert mcpclients.entry("cursor", "linear", argv) == {
        "command": "/usr/bin/authsome",
        "args": ["mcp", "linear-mcp"],
    }
    assert mcpclients.entry("vscode", "linear", argv)["type"] == "stdio"
    assert mcpclients.entry("claude", "linear", argv)["type"] == "stdio"
    goose = mcpclients.entry("goose", "linear", argv)
    assert goose["cmd"] == "/usr/bin/authsome" and goose["type"] == "stdio" and goose["enabled"]
    value = mcpclients.entry("codex", "linear", argv)
    text = mcpclients.snippet("codex", "linear", value)
    assert tomllib.loads(text) == {"mcp_servers": {"linear": value}}
    assert json.loads(mcpclients.snippet("vscode", "linear", value)) == {
        "servers": {"linear": value}
    }
    assert mcpclients.server_key("linear-mcp") == "linear"
    assert mcpclients.server_key("mycorp") == "mycorp"


def test_config_files_follow_the_clients_own_variables(tmp_path):
    environ = {"HOME": "/h", "CODEX_HOME": "/c", "XDG_CONFIG_HOME": "/x"}
    assert str(mcpclients.config_path("codex", environ)) == "/c/config.toml"
    assert str(mcpclients.config_path("goose", environ)) == "/x/goose/config.yaml"
    assert str(mcpclients.config_path("cursor", environ)) == "/h/.cursor/mcp.json"
    assert str(mcpclients.config_path("claude", environ)) == ".mcp.json"
    assert str(mcpclients.config_path("codex", {"HOME": "/h"})) == "/h/.codex/config.toml"


def test_a_yaml_edit_keeps_every_byte_that_was_there(tmp_path):
    value = mcpclients.entry("goose", "linear", ["authsome", "mcp", "linear-mcp"])
    path = tmp_path / "config.yaml"
    path.write_text(GOOSE_BEFORE)
    assert mcpclients.add(path, "goose", "linear", value, False)
    after = path.read_text()
    assert after.replace(mcpclients._yaml_block("linear", value, "  "), "") == GOOSE_BEFORE
    assert not mcpclients.add(path, "goose", "linear", value, False)  # already there: untouched
    other = {**value, "cmd": "elsewhere"}
    with pytest.raises(Exception, match="already has a server named linear"):
        mcpclients.add(path, "goose", "linear", other, False)
    with pytest.raises(Exception, match="already has a server named developer"):
        mcpclients.add(path, "goose", "developer", value, False)


def test_the_snippet_is_printed_on_stdout_and_the_file_named_on_stderr(env):
    out = run(["mcp", "config", "linear-mcp", "--client", "claude"], env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc == {
        "mcpServers": {
            "linear": {"type": "stdio", "command": AUTHSOME_BIN, "args": ["mcp", "linear-mcp"]}
        }
    }
    assert ".mcp.json" in out.stderr and "claude mcp add-json linear" in out.stderr


@pytest.mark.parametrize("client", ["claude", "cursor", "vscode"])
def test_write_adds_to_a_json_file_and_keeps_its_entries(env, tmp_path, isolated_home, client):
    key = mcpclients.CLIENTS[client][2]
    (tmp_path / "proj").mkdir()
    path = tmp_path / "proj" / mcpclients.CLIENTS[client][0]
    if client == "cursor":
        path = isolated_home / ".cursor" / "mcp.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = {"command": "npx", "args": ["-y", "other-mcp"]}
    path.write_text(json.dumps({"theme": "dark", key: {"other": mine}}))
    path.chmod(0o640)
    out = run(
        ["mcp", "config", "sentry-mcp", "--client", client, "--write"], env, cwd=tmp_path / "proj"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(path.read_text())
    assert doc["theme"] == "dark" and doc[key]["other"] == mine
    assert doc[key]["sentry"]["args"] == ["mcp", "sentry-mcp"]
    assert doc[key]["sentry"]["command"] == AUTHSOME_BIN
    assert path.stat().st_mode & 0o777 == 0o640
    again = run(
        ["mcp", "config", "sentry-mcp", "--client", client, "--write"], env, cwd=tmp_path / "proj"
    )
    assert again.returncode == 0 and "already has" in again.stderr
    assert json.loads(path.read_text()) == doc


def test_write_refuses_a_json_file_with_comments_and_leaves_it(env, tmp_path):
    path = tmp_path / ".vscode" / "mcp.json"
    path.parent.mkdir()
    path.write_text('{\n  // mine\n  "servers": {}\n}\n')
    out = run(["mcp", "config", "linear-mcp", "--client", "vscode", "--write"], env, cwd=tmp_path)
    assert out.returncode == 9 and "not plain JSON" in out.stderr
    assert path.read_text() == '{\n  // mine\n  "servers": {}\n}\n'


def test_write_appends_a_codex_table_and_keeps_every_byte(env, isolated_home):
    path = isolated_home / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text(CODEX_BEFORE)
    out = run(["mcp", "config", "linear-mcp", "--client", "codex", "--write"], env)
    assert out.returncode == 0, out.stderr
    text = path.read_text()
    assert text.startswith(CODEX_BEFORE)
    doc = tomllib.loads(text)
    assert doc["model"] == "o4-mini" and doc["mcp_servers"]["docs"]["command"] == "npx"
    assert doc["mcp_servers"]["linear"] == {"command": AUTHSOME_BIN, "args": ["mcp", "linear-mcp"]}
    other = run(
        ["mcp", "config", "notion-mcp", "--as", "linear", "--client", "codex", "--write"], env
    )
    assert other.returncode == 9 and "already has a server named linear" in other.stderr
    assert path.read_text() == text


def test_write_adds_a_goose_extension_that_yaml_reads(env, isolated_home):
    path = isolated_home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOSE_BEFORE)
    out = run(["mcp", "config", "linear-mcp", "--client", "goose", "--write"], env)
    assert out.returncode == 0, out.stderr
    doc = _yaml(path)
    assert doc["GOOSE_PROVIDER"] == "anthropic" and doc["GOOSE_MODE"] == "smart_approve"
    assert doc["extensions"]["developer"]["type"] == "builtin"
    linear = doc["extensions"]["linear"]
    assert linear["cmd"] == AUTHSOME_BIN and linear["args"] == ["mcp", "linear-mcp"]
    assert linear["type"] == "stdio" and linear["enabled"] is True
    fresh = isolated_home / "new.yaml"
    out = run(
        ["mcp", "config", "notion-mcp", "--client", "goose", "--write", "--file", str(fresh)], env
    )
    assert out.returncode == 0, out.stderr
    assert _yaml(fresh)["extensions"]["notion"]["args"] == ["mcp", "notion-mcp"]
    assert fresh.stat().st_mode & 0o777 == 0o600


def test_a_provider_may_not_be_named_config(env, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"name": "config", "auth_type": "api_key", "api_key": {"env_var": "C_API_KEY"}})
    )
    out = run(["register", str(path)], env)
    assert out.returncode == 9 and "may not be 'config'" in out.stderr


BUNDLED_MCP = ("linear-mcp", "notion-mcp", "sentry-mcp", "atlassian-mcp", "supabase-mcp")


@pytest.mark.parametrize("name", BUNDLED_MCP)
def test_the_bundled_mcp_providers_work_by_name_and_by_url(env, name):
    from urllib.parse import urlsplit

    from authsome.factory import Context
    from authsome.services.mcpsetup import bridged

    ctx = Context(env)
    provider = ctx.registry.get(name)
    url = provider.oauth.resource
    assert url.startswith("https://") and provider.flow == "dcr_pkce"
    assert list(provider.hosts) == [urlsplit(url).hostname]
    assert bridged(ctx, url) == name  # `authsome mcp URL` finds the bundled provider
    out = run(["mcp", "config", name, "--client", "vscode"], env)
    assert out.returncode == 0, out.stderr
    key = name.removesuffix("-mcp")
    assert json.loads(out.stdout)["servers"][key]["args"] == ["mcp", name]


def test_a_server_by_its_url_is_configured_as_is(env):
    url = "https://mcp.example.com/mcp"
    out = run(["mcp", "config", url, "--client", "cursor"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["mcpServers"]["example"]["args"] == ["mcp", url]
    out = run(["mcp", "config", "http://mcp.example.com/mcp", "--client", "cursor"], env)
    assert out.returncode == 2 and "https" in out.stderr


def test_tab_after_mcp_config_is_no_error(env):
    protocol = {
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": "authsome mcp config ",
        "COMP_CWORD": "3",
    }
    out = subprocess.run([AUTHSOME_BIN], env={**env, **protocol}, capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""
