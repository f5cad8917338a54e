"""`authsome setup-shell` in a home made from Debian's skeleton files, with authsome installed
in ~/.local/bin as the README's recipe does: login bash, zsh and fish on real terminals (tmux)
run its lines without "command not found", though ~/.local/bin is not on PATH yet (bash:
~/.profile sources ~/.bashrc before adding it) or never (zsh, fish)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, run
from conftest import TEST_PASSPHRASE
from realparts import require
from tmuxrun import Tmux, readme_shell_lines

OPENAI_KEY = "sk-0123456789abcdefghijklmn"
PROBE = "command -v authsome >/dev/null || echo NOT-ON-PATH-YET"
SAY = 'echo "H=hooked O=${OPENAI_API_KEY:+set}"'
HOOKED = {
    "bash": f"[[ $PROMPT_COMMAND == *_authsome_hook* ]] && {SAY}",
    "zsh": f"(( ${{precmd_functions[(I)_authsome_hook]}} )) && {SAY}",
    # The quotes keep the typed line from holding the mark it waits for ("H=hooked O=set").
    "fish": "functions -q __authsome_hook; and set -q OPENAI_API_KEY; and echo H=hook'ed' O=set",
}
STARTUP_FILE = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/config.fish"}


@pytest.fixture
def skeleton_home(env, isolated_home, tmp_path):
    """HOME from /etc/skel, authsome linked into ~/.local/bin, openai logged in and the vault
    unlocked for the login; PATH as a login starts it, without ~/.local/bin."""
    for name in (".profile", ".bashrc"):
        shutil.copy(require_skel(name), isolated_home / name)
    (isolated_home / ".local" / "bin").mkdir(parents=True)
    (isolated_home / ".local" / "bin" / "authsome").symlink_to(AUTHSOME_BIN)
    e = {k: v for k, v in env.items() if k != "AUTHSOME_KEYRING"}
    e.update(
        AUTHSOME_BACKEND="file",
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PATH="/usr/bin:/bin",
        TERM="xterm",
    )
    (tmp_path / "run").mkdir(mode=0o700)
    login = {**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], login).returncode == 0
    unlocked = subprocess.run(
        [require("bash"), "-c", f'eval "$({AUTHSOME_BIN} unlock)"'],
        env=login,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert unlocked.returncode == 0, unlocked.stderr
    yield e
    run(["lock"], e)


def require_skel(name: str) -> Path:
    path = Path("/etc/skel") / name
    if not path.is_file():
        pytest.skip(f"no {path}: not a Debian-like system")
    return path


def setup_shell(home: Path, e: dict, *args: str) -> subprocess.CompletedProcess:
    """`authsome setup-shell ARGS` as the user types it, found on PATH in ~/.local/bin."""
    return subprocess.run(
        [str(home / ".local" / "bin" / "authsome"), "setup-shell", *args],
        env={**e, "PATH": f"{home}/.local/bin:{e['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_login_shells_run_the_lines_setup_shell_writes(skeleton_home, isolated_home, tmp_path):
    home, e = isolated_home, skeleton_home
    with open(home / ".bashrc", "a") as f:  # the skeleton's file, then a probe and a prompt
        f.write(f"{PROBE}\nPS1='READY> '\n")
    (home / ".zshrc").write_text(f"{PROBE}\nPS1='READY> '\n")
    (home / ".config" / "fish").mkdir(parents=True)
    (home / ".config/fish/config.fish").write_text(
        f"{PROBE.replace('||', '; or')}\nfunction fish_prompt; echo -n 'READY> '; end\n"
    )
    binary = f"'{home}/.local/bin/authsome'"
    for shell in ("bash", "zsh", "fish"):
        out = setup_shell(home, e, "--shell", shell, "github", "openai")
        assert out.returncode == 0 and out.stdout == "", out.stderr
        # The README's lines, word for word, with authsome's absolute path.
        text = (home / STARTUP_FILE[shell]).read_text()
        block = text.split("# >>> authsome setup-shell >>>\n")[1].split("# <<<")[0]
        expected = [
            re.sub(r"\bauthsome\b", binary, x, count=1) for x in readme_shell_lines()[shell]
        ]
        assert block.splitlines() == expected
    tmux = Tmux(tmp_path, e)
    tmux.start(
        {
            "bash": f"{require('bash')} -l",
            "zsh": f"{require('zsh')} -l",
            "fish": f"{require('fish')} -l",
        }
    )
    try:
        for shell in ("bash", "zsh", "fish"):
            w = f"t:{shell}"
            screen = tmux.wait_for(w, "READY> ")
            assert "NOT-ON-PATH-YET" in screen, screen  # the case the absolute path is for
            assert "not found" not in screen and "Unknown command" not in screen, screen
            assert screen.count("authsome: skipped github: not logged in to github") == 1, screen
            # The mark is the output alone: the typed line would match "H=hooked" at once.
            screen = tmux.run(w, HOOKED[shell], "H=hooked O=set")
            assert "H=hooked O=set" in screen, screen
        # At bash's prompt ~/.profile has put ~/.local/bin on PATH: Tab completes.
        tmux.type("t:bash", "authsome token op", "Tab")
        tmux.wait_for("t:bash", "authsome token openai")
    finally:
        tmux.kill()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_setup_shell_replaces_its_lines_and_unset_restores_the_file(
    shell, skeleton_home, isolated_home
):
    home, e = isolated_home, skeleton_home
    path = home / STARTUP_FILE[shell]
    path.parent.mkdir(parents=True, exist_ok=True)
    own = 'eval "$(authsome env github)"\n' if shell != "fish" else "authsome env github | source\n"
    original = f"# mine\n{own}"
    path.write_text(original)
    first = setup_shell(home, e, "--shell", shell, "openai")
    assert first.returncode == 0, first.stderr
    assert f"authsome: added start-up lines to {path}" in first.stderr
    # The user's own line is named, so it does not run twice.
    assert f"{path} also runs authsome itself" in first.stderr
    again = setup_shell(home, e, "--shell", shell, "github", "openai")
    assert "replaced authsome's start-up lines" in again.stderr
    text = path.read_text()
    assert text.count("# >>> authsome setup-shell >>>") == 1
    assert re.search(r" env (--shell fish )?github openai", text), text
    printed = setup_shell(home, e, "--shell", shell, "--print", "github", "openai")
    assert printed.stdout.splitlines() == text.split(">>>\n")[1].split("\n# <<<")[0].splitlines()
    gone = setup_shell(home, e, "--shell", shell, "--unset")
    assert gone.returncode == 0 and path.read_text() == original
