"""What the processes authsome starts inherit: `run`'s command and the browser."""

import time

import pytest
from clitools import AUTHSOME_BIN, run
from conftest import TEST_PASSPHRASE
from ptyrun import PtyProcess
from realparts import require

OPENAI_KEY = "sk-child-env-0123456789abcdefghij"
# Variables that unlock authsome's store or hold credentials, as a user's shell may have them.
SECRETS = {
    "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE,
    "ANTHROPIC_API_KEY": "sk-ant-inherited-0123456789",  # a provider's api_key.env_var
    "GITHUB_TOKEN": "gho_inherited0123456789",  # a provider's export.env variable
    "TESTSRV_CLIENT_SECRET": "client-secret-inherited",
    "SOMEAPP_CLIENT_SECRET": "another-client-secret",
    # What `eval "$(authsome env)"` left in the shell: a variable no provider file names.
    "AUTHSOME_EXPORTED": "ZED_TOKEN",
    "ZED_TOKEN": "zed-exported-earlier",
    # What unlocks the vault store, though this one is not in use: dropped all the same.
    "VAULT_TOKEN": "s.inherited0123456789",
    "BAO_TOKEN": "s.bao-inherited0123456789",
    "VAULT_ROLE_ID": "role-inherited",
    "VAULT_SECRET_ID": "sid-inherited",
    "VAULT_ROLE_ID_FILE": "/nonexistent/role-id",
    "VAULT_SECRET_ID_FILE": "/nonexistent/secret-id",
}
UNRELATED = {"MY_SETTING": "kept", "EDITOR": "vi"}


def _environ(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.split("\0") if "=" in line)


def _assert_scrubbed(child: dict[str, str]) -> None:
    for name in ("AUTHSOME_SESSION", "AUTHSOME_PASSPHRASE_FILE", *SECRETS):
        assert name not in child, f"{name} was passed on"
    for name, value in UNRELATED.items():
        assert child.get(name) == value
    assert child.get("PATH")


def test_run_gives_the_command_only_the_credentials_it_names(testsrv, unlocked_env, tmp_path):
    assert run(["login", "testsrv"], unlocked_env).returncode == 0
    assert run(["login", "openai"], unlocked_env, input=OPENAI_KEY + "\n").returncode == 0
    passfile = tmp_path / "passphrase"
    passfile.write_text(TEST_PASSPHRASE)
    passfile.chmod(0o600)
    e = {
        **unlocked_env,
        **SECRETS,
        **UNRELATED,
        "AUTHSOME_PASSPHRASE_FILE": str(passfile),
        "OPENAI_API_KEY": "sk-set-by-the-user-0123456789",
    }
    out = run(["run", "--no-masking", "testsrv", "--", "env", "-0"], e)
    assert out.returncode == 0, out.stderr
    child = _environ(out.stdout)
    _assert_scrubbed(child)
    assert child["TESTSRV_TOKEN"] in testsrv.state.access
    assert "OPENAI_API_KEY" not in child  # connected, but not named
    both = _environ(run(["run", "--no-masking", "testsrv", "openai", "--", "env", "-0"], e).stdout)
    assert both["OPENAI_API_KEY"] == OPENAI_KEY and "TESTSRV_TOKEN" in both
    _assert_scrubbed(both)


@pytest.fixture(params=["browser-command", "webbrowser-class"])
def recording_browser(request, tmp_path):
    """$BROWSER: a command line with %s (authsome starts it), or a program webbrowser knows
    by its name (webbrowser starts it, with the process's own environment)."""
    record = tmp_path / "browser-env"
    script = f"#!/bin/sh\nenv -0 > {record}.part && mv {record}.part {record}\n"
    if request.param == "browser-command":
        opener = tmp_path / "open-browser"
        value = f"{opener} %s"
    else:
        require("chromium")  # webbrowser takes a program named chromium for its Chrome class
        (tmp_path / "bin").mkdir()
        opener = tmp_path / "bin" / "chromium"
        value = str(opener)
    opener.write_text(script)
    opener.chmod(0o755)
    return value, record


def test_the_browser_gets_no_secrets(env, tmp_path, recording_browser):
    browser, record = recording_browser
    e = {
        **env,
        **SECRETS,
        **UNRELATED,
        "AUTHSOME_BACKEND": "file",
        "AUTHSOME_SESSION": "0" * 32 + "." + "A" * 43,
        "AUTHSOME_PASSPHRASE_FILE": str(tmp_path / "no-such-file"),
        "DISPLAY": ":99",
        "BROWSER": browser,
    }
    proc = PtyProcess([AUTHSOME_BIN, "login", "openai"], e)
    try:
        proc.expect(b"to enter your OpenAI API key")
        deadline = time.monotonic() + 20
        while not record.exists():
            assert time.monotonic() < deadline, "the browser never started"
            time.sleep(0.05)
        _assert_scrubbed(_environ(record.read_text()))
    finally:
        proc.interrupt()
        proc.wait(30)


VAULT_KEYS = {
    "BAO_TOKEN": "s.bao-0123456789",
    "VAULT_ROLE_ID": "role-xyz",
    "VAULT_SECRET_ID": "sid-xyz",
    "VAULT_SECRET_ID_FILE": "/nonexistent/secret-id",
    "VAULT_ROLE_ID_FILE": "/nonexistent/role-id",
}


@pytest.mark.parametrize("how", [[], ["--proxy"]], ids=["run", "run-proxy"])
def test_run_does_not_hand_the_vault_credentials_to_the_child(vault_env, oauth_server, how):
    """Review r5: the vault store's token or AppRole secret opens every connection under its
    prefix, as the passphrase opens the file store."""
    import json
    from pathlib import Path

    folder = Path(vault_env["AUTHSOME_HOME"]) / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    provider = oauth_server.provider(hosts=["api.example.test"])
    (folder / "testsrv.json").write_text(json.dumps(provider))
    assert run(["login", "testsrv"], vault_env).returncode == 0
    out = run(["run", *how, "testsrv", "--", "env", "-0"], {**vault_env, **VAULT_KEYS})
    assert out.returncode == 0, out.stderr
    child = _environ(out.stdout)
    assert not {"VAULT_TOKEN", *VAULT_KEYS} & set(child), sorted(child)
    assert child.get("VAULT_ADDR") == vault_env["VAULT_ADDR"]  # where, not the key: kept
