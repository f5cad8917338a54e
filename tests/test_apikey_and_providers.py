"""API-key login (pipe, env, masked prompt) and provider definitions (bundled, overrides)."""

import json
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, run
from ptyrun import PtyProcess

from authsome.errors import ConfigError
from authsome.providers import envnames
from authsome.providers.registry import Registry, deep_merge
from authsome.providers.schema import parse_provider

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"


def test_api_key_from_a_pipe(file_env):
    out = run(["login", "openai"], file_env, input=KEY + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and KEY not in out.stderr
    assert "Stored in the encrypted file" in out.stderr and "(AUTHSOME_BACKEND=file)" in out.stderr
    assert run(["token", "openai"], file_env).stdout == KEY + "\n"


def test_api_key_imported_from_the_provider_env_var(file_env):
    out = run(["login", "openai"], {**file_env, "OPENAI_API_KEY": KEY}, input="")
    assert out.returncode == 0, out.stderr
    assert "Imported OpenAI API key from $OPENAI_API_KEY." in out.stderr
    assert run(["token", "openai"], file_env).stdout.strip() == KEY


def test_api_key_masked_prompt_on_a_real_terminal(file_env):
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], file_env)
    proc.expect(b"OpenAI API key: ")
    proc.send(KEY.encode() + b"\n")
    assert proc.wait(60) == 0
    assert KEY.encode() not in proc.screen  # nothing typed was echoed
    assert b"Successfully logged in to openai (default)." in proc.screen
    assert run(["token", "openai"], file_env).stdout.strip() == KEY


def test_key_pattern_is_checked_and_nothing_is_stored(file_env):
    out = run(["login", "openai"], file_env, input="not-a-key\n")
    assert out.returncode == 2
    assert "does not look like an API key for OpenAI" in out.stderr
    assert "not-a-key" not in out.stderr
    assert json.loads(run(["list", "--json"], file_env).stdout) == []


def test_a_bad_key_at_a_terminal_is_asked_again_before_the_vault_is_made(env, authsome_home):
    """First login, no keychain: a mistyped key is asked again, and only a good key leads to
    the new vault's passphrase."""
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], env)
    proc.expect(b"OpenAI API key: ")
    proc.send(b"not-a-key\n")
    proc.expect(b"Try again (2 left).")
    assert not (authsome_home / "vault").exists()
    # The second prompt, not the first one still on the screen: getpass flushes what is typed
    # before it shows its prompt.
    proc.screen = proc.screen.replace(b"OpenAI API key: ", b"", 1)
    proc.expect(b"OpenAI API key: ")
    proc.send(KEY.encode() + b"\n")
    proc.expect(b"Choose a passphrase for it.")
    proc.expect(b"New passphrase for")
    proc.send(b"pty-passphrase\n")
    proc.expect(b"Repeat the passphrase: ")
    proc.send(b"pty-passphrase\n")
    assert proc.wait(60) == 0
    assert b"not-a-key" not in proc.screen and KEY.encode() not in proc.screen
    e = {**env, "AUTHSOME_PASSPHRASE": "pty-passphrase"}
    assert run(["token", "openai"], e).stdout.strip() == KEY


def test_three_bad_keys_at_a_terminal_end_the_login_with_nothing_created(env, authsome_home):
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], env)
    for _ in range(3):
        proc.expect(b"OpenAI API key: ")
        proc.screen = proc.screen.replace(b"OpenAI API key: ", b"", 1)
        proc.send(b"not-a-key\n")
    assert proc.wait(60) == 2
    assert b"does not look like an API key for OpenAI" in proc.screen
    assert b"passphrase" not in proc.screen.lower()
    assert not (authsome_home / "vault").exists()


@pytest.mark.parametrize("url", ["https:///token", "https://:443/token", "https://u@?x"])
def test_a_url_without_a_host_is_a_config_error(file_env, authsome_home, url):
    """Found by mypy: the rule let any https:// URL through, and one without a host reached
    http.client as host None (the MCP bridge's pool): a crash, not the file's error."""
    folder = authsome_home / "providers"
    folder.mkdir(parents=True)
    oauth = {"authorization_url": "https://x/auth", "token_url": url}
    doc = {"name": "nohost", "auth_type": "oauth2", "flow": "pkce", "oauth": oauth}
    (folder / "nohost.json").write_text(json.dumps(doc))
    out = run(["inspect", "nohost"], file_env)
    assert out.returncode == 9, out
    assert "'oauth.token_url'" in out.stderr and "https://" in out.stderr


@pytest.mark.parametrize("source", ["pipe", "variable"])
def test_a_bad_key_from_a_pipe_or_variable_fails_at_once_and_creates_nothing(
    env, authsome_home, source
):
    e = {**env, "AUTHSOME_BACKEND": "file"}  # no AUTHSOME_PASSPHRASE: it must not be needed
    if source == "variable":
        e["OPENAI_API_KEY"] = "not-a-key"
    out = run(["login", "openai"], e, input="not-a-key\n" if source == "pipe" else "")
    assert out.returncode == 2, out.stderr
    assert "does not look like an API key for OpenAI" in out.stderr
    assert ("$OPENAI_API_KEY" in out.stderr) == (source == "variable")
    assert "not-a-key" not in out.stderr
    assert not (authsome_home / "vault").exists()


def test_api_key_is_never_an_argument(file_env):
    out = run(["login", "openai", KEY], file_env)
    assert out.returncode == 2
    assert KEY not in out.stderr  # a key typed as an argument is not echoed back either


def test_api_key_in_the_keychain(env, secret_service):
    e = {**env, **secret_service.env()}
    out = run(["login", "anthropic"], e, input="sk-ant-api03-AbCdEfGhIjKlMnOpQrSt\n")
    assert out.returncode == 0, out.stderr
    assert "Stored in the Secret Service keychain" in out.stderr
    assert run(["token", "anthropic"], e).stdout.strip() == "sk-ant-api03-AbCdEfGhIjKlMnOpQrSt"
    assert run(["logout", "anthropic"], e).returncode == 0


def test_every_bundled_provider_parses():
    registry = Registry(ROOT / "providers", ROOT / "nowhere")
    providers = registry.all()
    for path in sorted((ROOT / "providers").glob("*.json")):
        # The registry trusts bundled files' key_pattern (env would pay for re): check it here,
        # as a user's file is checked.
        parse_provider(json.loads(path.read_text()), str(path), path.stem, bundled=False)
    assert len(providers) >= 25
    names = {p.name for p in providers}
    for required in (
        "github",
        "gitlab",
        "google",
        "microsoft",
        "slack",
        "linear",
        "notion",
        "atlassian",
        "discord",
        "postiz",
        "openai",
        "anthropic",
        "mistral",
        "groq",
        "huggingface",
        "stripe",
        "sendgrid",
        "resend",
        "postmark",
    ):
        assert required in names
    github = registry.get("github")
    assert github.flow == "device_code" and github.oauth.client_id
    assert registry.get("postiz").flow == "device_code"
    for p in providers:
        assert p.export_env, p.name  # every provider says what `env` exports


def test_partial_override_is_deep_merged(file_env, authsome_home):
    (authsome_home / "providers").mkdir(parents=True)
    (authsome_home / "providers" / "gitlab.json").write_text(
        '{"flow": "device_code", "oauth": {"scopes": ["read_api"]}}'
    )
    data = json.loads(run(["inspect", "gitlab", "--json"], file_env).stdout)
    assert data["flow"] == "device_code"
    assert data["oauth"]["scopes"] == ["read_api"]
    assert data["oauth"]["token_url"] == "https://gitlab.com/oauth/token"  # kept from bundled
    assert len(data["sources"]) == 2


def test_malformed_provider_file_names_file_and_field(file_env, authsome_home):
    folder = authsome_home / "providers"
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text(
        json.dumps(
            {
                "name": "broken",
                "auth_type": "oauth2",
                "flow": "pkce",
                "oauth": {"authorization_url": "http://example.com/auth", "token_url": "https://x"},
            }
        )
    )
    out = run(["inspect", "broken"], file_env)
    assert out.returncode == 9
    assert str(folder / "broken.json") in out.stderr
    assert "'oauth.authorization_url'" in out.stderr and "https://" in out.stderr
    (folder / "broken.json").write_text("{ not json")
    out = run(["inspect", "broken"], file_env)
    assert out.returncode == 9 and "not valid JSON" in out.stderr


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda d: d.update(auth_type="saml"), "'auth_type'"),
        (lambda d: d.update(flow="magic"), "'flow'"),
        (lambda d: d.update(colour="blue"), "'colour'"),
        (lambda d: d["oauth"].update(scopes="repo"), "'oauth.scopes'"),
        (lambda d: d["oauth"].update(supports_device_code="yes"), "'oauth.supports_device_code'"),
        (lambda d: d["oauth"].pop("token_url"), "'oauth.token_url'"),
        (lambda d: d["oauth"].update(token_url="https://x/\x1b[2J"), "'oauth.token_url'"),
        (lambda d: d["oauth"].update(token_url="http://127.0.0.2/t"), "'oauth.token_url'"),
        (lambda d: d["export"]["env"].update(refresh_token="LEAK"), "'export.env.refresh_token'"),
    ],
)
def test_schema_errors(mutate, field):
    data = json.loads((ROOT / "providers" / "github.json").read_text())
    mutate(data)
    with pytest.raises(ConfigError, match=field):
        parse_provider(data, "github.json", "github")


def test_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]}) == {
        "a": {"b": 1, "c": 3},
        "d": [2],
    }


def test_register_validates_and_installs(file_env, tmp_path, authsome_home):
    good = tmp_path / "acme.json"
    good.write_text(
        json.dumps(
            {
                "name": "acme",
                "auth_type": "api_key",
                "api_key": {"env_var": "ACME_KEY"},
                "export": {"env": {"api_key": "ACME_KEY"}},
            }
        )
    )
    out = run(["register", str(good)], file_env)
    assert out.returncode == 0, out.stderr
    assert (authsome_home / "providers" / "acme.json").exists()
    listed = json.loads(run(["providers", "--json"], file_env).stdout)
    acme = next(p for p in listed if p["name"] == "acme")
    assert acme["source"] == "custom" and acme["state"] == "not connected"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "auth_type": "api_key", "flow": "pkce"}))
    out = run(["register", str(bad)], file_env)
    assert out.returncode == 9 and "'flow'" in out.stderr
    assert not (authsome_home / "providers" / "bad.json").exists()


def test_providers_lists_connection_state(file_env):
    run(["login", "openai"], file_env, input=KEY + "\n")
    listed = {p["name"]: p for p in json.loads(run(["providers", "--json"], file_env).stdout)}
    assert listed["openai"]["state"] == "connected"
    assert listed["github"]["supports_device_code"] is True
    human = run(["providers"], file_env).stdout
    assert human.splitlines()[0].split() == ["NAME", "TYPE", "FLOW", "DEVICE", "SOURCE", "STATE"]


def test_unknown_provider(file_env):
    out = run(["login", "nosuchthing"], file_env)
    assert out.returncode == 2 and "unknown provider 'nosuchthing'" in out.stderr


@pytest.mark.parametrize("command", [["token"], ["env"], ["logout"], ["login"], ["inspect"]])
def test_a_misspelt_provider_is_named_with_its_nearest_match(file_env, command):
    out = run([*command, "githib"], file_env)
    assert out.returncode == 2 and out.stdout == ""
    skipped = "skipped githib: " if command == ["env"] else ""  # env exports what it can
    assert out.stderr == (
        f"authsome: {skipped}unknown provider 'githib'. Did you mean 'github'? See: authsome"
        " providers, or add one with: authsome register FILE\n"
    )


def test_a_known_provider_without_a_login_is_not_logged_in(file_env):
    run(["login", "openai"], file_env, input=KEY + "\n")
    out = run(["token", "openai:work"], file_env)
    assert out.returncode == 3
    assert out.stderr == "authsome: not logged in to openai:work. Run: authsome login openai:work\n"


REFUSED_NAMES = [
    "PROMPT_COMMAND",
    "PATH",
    "path",  # zsh ties it to PATH
    "LD_PRELOAD",
    "DYLD_INSERT_LIBRARIES",
    "BASH_ENV",
    "ENV",
    "PS1",
    "IFS",
    "HOME",
    "PYTHONSTARTUP",
    "NODE_OPTIONS",
    "PERL5OPT",
    "RUBYOPT",
    "GIT_SSH_COMMAND",
    "GIT_CONFIG_GLOBAL",
    "AUTHSOME_REFRESH_AT",
    "ZDOTDIR",
    "fish_user_paths",
    "XDG_RUNTIME_DIR",
    "LESSOPEN",
    "JAVA_TOOL_OPTIONS",
    "HTTPS_PROXY",
]


@pytest.mark.parametrize("var", REFUSED_NAMES)
def test_export_env_refuses_names_that_change_how_programs_behave(var):
    data = json.loads((ROOT / "providers" / "github.json").read_text())
    data["export"]["env"]["access_token"] = var
    # Refused by the credential-name rule or by the deny list behind it (test_provider_trust.py)
    with pytest.raises(ConfigError, match=f"names {var}, which "):
        parse_provider(data, "github.json", "github")


@pytest.mark.parametrize("var", ["GH_TOKEN\n", "GH TOKEN", "GH-TOKEN", "1GH", "GHÉ", ""])
def test_export_env_refuses_what_is_not_a_variable_name(var):
    """A final newline too: `export GH_TOKEN\n='...'` would run the token as a command."""
    for section, field in (("export", "env"), ("api_key", None)):
        data = json.loads((ROOT / "providers" / "openai.json").read_text())
        if field:
            data[section][field]["api_key"] = var
        else:
            data[section]["env_var"] = var
        with pytest.raises(ConfigError, match="must be an environment variable name"):
            parse_provider(data, "openai.json", "openai")


@pytest.mark.parametrize("var", ["GITHUB_TOKEN", "NODE_AUTH_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"])
def test_export_env_keeps_ordinary_token_names(var):
    data = json.loads((ROOT / "providers" / "github.json").read_text())
    data["export"]["env"]["access_token"] = var
    assert parse_provider(data, "github.json", "github").export_env["access_token"] == var


def test_a_provider_exporting_prompt_command_is_refused(testsrv, file_env, authsome_home):
    """The review's demonstration: a token mapped to PROMPT_COMMAND ran at the next prompt."""
    path = authsome_home / "providers" / "testsrv.json"
    hostile = json.dumps(testsrv.provider(export={"env": {"access_token": "PROMPT_COMMAND"}}))
    refused = f"authsome: {path}: field 'export.env.access_token' names PROMPT_COMMAND"
    path.write_text(hostile)
    for args in (["login", "testsrv"], ["inspect", "testsrv"]):
        out = run(args, file_env)
        assert out.returncode == 9 and out.stderr.startswith(refused), (args, out.stderr)
    assert testsrv.state.requests == []
    # Logged in under a sound definition that is then replaced: env exports nothing.
    path.write_text(json.dumps(testsrv.provider()))
    assert run(["login", "testsrv"], file_env).returncode == 0
    path.write_text(hostile)
    skipped = refused.replace("authsome: ", "authsome: skipped testsrv: ")  # env: the others go
    for args in (["env", "testsrv"], ["env", "--shell", "bash"], ["run", "testsrv", "--", "true"]):
        out = run(args, file_env)
        line = skipped if args[0] == "env" else refused
        assert out.returncode == 9 and out.stderr.startswith(line), (args, out.stderr)
        assert out.stdout == ""


def test_overrides_and_registered_files_are_checked_alike(file_env, authsome_home, tmp_path):
    override = authsome_home / "providers" / "github.json"
    override.parent.mkdir(parents=True)
    override.write_text('{"export": {"env": {"access_token": "BASH_ENV"}}}')
    out = run(["inspect", "github"], file_env)
    assert out.returncode == 9 and f"{override} (over " in out.stderr
    assert "names BASH_ENV" in out.stderr
    new = tmp_path / "acme.json"
    new.write_text(
        json.dumps(
            {"name": "acme", "auth_type": "api_key", "export": {"env": {"api_key": "GIT_ASKPASS"}}}
        )
    )
    out = run(["register", str(new)], file_env)
    assert out.returncode == 9 and "names GIT_ASKPASS" in out.stderr
    assert not (authsome_home / "providers" / "acme.json").exists()


def test_no_bundled_provider_exports_a_reserved_name():
    for path in sorted((ROOT / "providers").glob("*.json")):
        for var in json.loads(path.read_text()).get("export", {}).get("env", {}).values():
            assert not envnames.reserved(var), (path.name, var)


PASTED = [
    KEY,  # OpenAI's key pattern, with upper case: not even a valid name
    "sk-proj-abcdefgh1234567890abcd",  # the same pattern, all lower case: a valid name
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # a known prefix
    "k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8",  # no known shape, but random-looking
    "9f86d081884c7d659a2feaa0c55ad015",  # hex
]


@pytest.mark.parametrize("secret", PASTED)
@pytest.mark.parametrize(
    "args",
    [["login", "{}"], ["token", "{}"], ["env", "{}"], ["inspect", "{}"], ["logout", "{}"]]
    + [["login", "openai:{}"], ["login", "openai", "--connection", "{}"], ["{}"]]
    + [["login", "--flow", "{}", "openai"]],
)
def test_a_pasted_secret_is_never_echoed(file_env, secret, args):
    out = run([a.format(secret) for a in args], file_env, input="")
    assert out.returncode == 2, out.stderr
    assert secret not in out.stderr and out.stdout == ""


def test_the_unknown_provider_error_says_why_the_name_is_not_shown(file_env):
    out = run(["login", "sk-proj-abcdefgh1234567890abcd"], file_env)
    assert out.stderr == (
        "authsome: unknown provider (the name looks like a secret, so it is not shown). "
        "A key is never an argument: run authsome login NAME and paste it when asked\n"
    )


@pytest.mark.parametrize(
    "name", ["office365enterprise", "my-company-internal-provider", "aws-us-east-1-prod"]
)
def test_long_ordinary_names_are_still_echoed(file_env, name):
    out = run(["login", name], file_env)
    assert out.returncode == 2 and f"unknown provider {name!r}" in out.stderr


def test_no_bundled_provider_name_looks_like_a_secret():
    from authsome.util.secretlike import looks_like_secret

    assert not [p.stem for p in (ROOT / "providers").glob("*.json") if looks_like_secret(p.stem)]


def test_the_docs_list_every_bundled_provider(env):
    """docs/providers.md and the README name as many providers as `authsome providers` has."""
    import re

    rows = json.loads(run(["providers", "--json"], env).stdout)
    bundled = sorted(r["name"] for r in rows if r["source"] == "bundled")
    section = (ROOT / "docs" / "providers.md").read_text().split("## Bundled providers", 1)[1]
    section = section.split("\n## ", 1)[0]
    named = set(re.findall(r"(?<![\w/.`-])([a-z][a-z0-9]*(?:-mcp)?)(?=\s\(|,|\.\s|\.$)", section))
    missing = [name for name in bundled if name not in named]
    assert missing == [], f"docs/providers.md leaves out {missing}"
    assert f"There are {len(bundled)}." in section
    assert f"lists the {len(bundled)} bundled providers" in (ROOT / "README.md").read_text()


def test_a_users_key_pattern_must_be_a_regular_expression(tmp_path):
    """Only bundled patterns are trusted uncompiled (the test above compiles them); a user's
    file, alone or over a bundled one, is checked when it is loaded."""
    user = tmp_path / "providers"
    user.mkdir()
    (user / "openai.json").write_text(json.dumps({"api_key": {"key_pattern": "sk-(["}}))
    (user / "mine.json").write_text(
        json.dumps({"name": "mine", "auth_type": "api_key", "api_key": {"key_pattern": "(["}})
    )
    registry = Registry(ROOT / "providers", user)
    for name in ("openai", "mine"):
        with pytest.raises(ConfigError, match="key_pattern.*not a valid regular expression"):
            registry.get(name)
