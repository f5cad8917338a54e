"""Tab completion through click's protocol, in real bash, fish and zsh, and its speed guard."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, run
from conftest import TEST_PASSPHRASE
from ptyrun import PtyProcess
from realparts import require

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(AUTHSOME_BIN).parent)


@pytest.fixture
def shell_env(env, authsome_home):
    folder = authsome_home / "providers"
    folder.mkdir(parents=True)
    (folder / "gizmo.json").write_text(
        '{"name": "gizmo", "auth_type": "api_key", "api_key": {"env_var": "GIZMO_KEY"},'
        ' "export": {"env": {"api_key": "GIZMO_KEY"}}}'
    )
    return {
        **env,
        "PATH": f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        "AUTHSOME_BACKEND": "file",
        "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE,
    }


def test_checked_in_scripts_match_the_generator():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-completions"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


def test_completion_command_prints_the_checked_in_scripts(shell_env):
    for shell, name in (("bash", "authsome.bash"), ("zsh", "_authsome"), ("fish", "authsome.fish")):
        out = run(["completion", shell], shell_env)
        assert out.stdout == (ROOT / "completions" / name).read_text()


def _bash_complete(words: str, env) -> list[str]:
    script = (
        f"source {ROOT / 'completions' / 'authsome.bash'}\n"
        f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
        '[[ "' + words + '" == *" " ]] && COMP_WORDS+=("") && COMP_CWORD=${#COMP_WORDS[@]}-1\n'
        "_authsome_completion authsome\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    out = subprocess.run(
        [require("bash"), "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completes_provider_names(shell_env):
    assert _bash_complete("authsome login gi", shell_env) == ["github", "gitlab", "gizmo"]


def test_bash_completes_commands_flows_and_shells(shell_env):
    assert "login" in _bash_complete("authsome lo", shell_env)
    assert _bash_complete("authsome login github --flow de", shell_env) == ["device_code"]
    assert _bash_complete("authsome login github --flow d", shell_env) == [
        "device_code",
        "dcr_pkce",
    ]
    assert _bash_complete("authsome env --shell f", shell_env) == ["fish"]


def test_bash_completes_connected_names(shell_env):
    assert run(["login", "gizmo"], {**shell_env, "GIZMO_KEY": "k1"}, input="").returncode == 0
    assert run(["login", "gizmo:work"], {**shell_env, "GIZMO_KEY": "k2"}).returncode == 0
    assert _bash_complete("authsome token gi", shell_env) == ["gizmo", "gizmo:work"]
    assert _bash_complete("authsome env giz", shell_env) == ["gizmo", "gizmo:work"]


def test_fish_completes_provider_names(shell_env):
    script = f"source {ROOT / 'completions' / 'authsome.fish'}\ncomplete -C 'authsome login gi'\n"
    out = subprocess.run(
        [require("fish"), "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=60,
    )
    assert [line.split("\t")[0] for line in out.stdout.splitlines()] == [
        "github",
        "gitlab",
        "gizmo",
    ], out.stderr


def test_zsh_completes_provider_names_on_a_terminal(shell_env, tmp_path):
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text(
        f"fpath=({ROOT / 'completions'} $fpath)\n"
        "autoload -Uz compinit && compinit -u -d $ZDOTDIR/.zcompdump\n"
        "PS1='READY> '\n"
    )
    env = {**shell_env, "ZDOTDIR": str(zdot), "TERM": "dumb"}
    proc = PtyProcess([require("zsh"), "-i"], env)
    proc.expect(b"READY> ")
    proc.send(b"authsome login gi\t")
    proc.expect(b"gizmo", timeout=30)
    proc.close()
    assert b"github" in proc.screen and b"gitlab" in proc.screen


HEAVY = ("httpx", "keyring", "secretstorage", "jeepney", "cryptography")


@pytest.mark.parametrize("words", ["authsome login gi", "authsome token ", "authsome env "])
def test_completion_path_imports_nothing_heavy(shell_env, words):
    assert run(["login", "gizmo"], {**shell_env, "GIZMO_KEY": "k1"}).returncode == 0
    code = (
        "import sys, os\nfrom authsome.cli import cli\n"
        "try:\n    cli(prog_name='authsome')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        **shell_env,
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == []
    assert "plain," in out.stdout
